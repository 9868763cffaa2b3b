// op_offswitch_mc.c: wrapper for shaders/offswitch_mc.comp.
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "op_offswitch_mc.h"

#define WG 256u
#define CFG_FLOATS (16 + 3 * VKT_OSMC_MAXP)
#define MAX_BLOCKS 65535u
#define MAX_CONFIGS_PER_DISPATCH 65535u

typedef struct {
    uint32_t n_configs, samples_lo, samples_hi, seed_lo, seed_hi, per_thread, cfg_off, data_off,
        out_off, c0;
    uint32_t b0, nblocks;
} push_osmc;

static void merge(vkt_osmc_moments *a, double n, double mx, double qx, double my, double qy) {
    if (n == 0) return;
    double t = a->n + n, dx = mx - a->mean_x, dy = my - a->mean_y;
    a->mean_x += dx * (n / t);
    a->m2_x += qx + dx * dx * (a->n * n / t);
    a->mean_y += dy * (n / t);
    a->m2_y += qy + dy * dy * (a->n * n / t);
    a->n = t;
}

vkt_status vkt_offswitch_mc_device(vkt_ctx *ctx, const vkt_osmc_config *cfgs, uint32_t n,
                                   uint64_t samples, uint64_t seed, vkt_osmc_moments *out) {
    return vkt_offswitch_mc_device_ex(ctx, cfgs, n, samples, seed, NULL, NULL, out);
}

// The arguments and every configuration checked; the threads' share of samples, the blocks a
// configuration, and the samples-file values in all.
static vkt_status check_args(vkt_error *err, const vkt_osmc_config *cfgs, uint32_t n,
                             uint64_t samples, uint64_t *per_thread, uint64_t *blocks,
                             uint64_t *ndata) {
    if (n == 0 || samples < 2)
        return vkt_fail(err, VKT_ERR_ARG,
                        "offswitch_mc: %u configurations and %llu samples (need >= 1 and >= 2)", n,
                        (unsigned long long)samples);
    uint64_t pt = (samples + (uint64_t)WG * MAX_BLOCKS - 1) / ((uint64_t)WG * MAX_BLOCKS);
    if (pt < 16) pt = 16;
    if (pt > 65536)
        return vkt_fail(err, VKT_ERR_ARG,
                        "offswitch_mc: %llu samples per configuration is too many (max %llu)",
                        (unsigned long long)samples, (unsigned long long)WG * MAX_BLOCKS * 65536);
    *per_thread = pt;
    *blocks = (samples + WG * pt - 1) / (WG * pt);
    *ndata = 0;
    for (uint32_t c = 0; c < n; c++) {
        if (cfgs[c].family > 4 || cfgs[c].human > 2)
            return vkt_fail(err, VKT_ERR_ARG,
                            "offswitch_mc: configuration %u has family %u, human %u", c,
                            cfgs[c].family, cfgs[c].human);
        if ((cfgs[c].family == 2 || cfgs[c].family == 3) &&
            (cfgs[c].n < 1 || cfgs[c].n > VKT_OSMC_MAXP))
            return vkt_fail(err, VKT_ERR_ARG, "offswitch_mc: configuration %u has %u parts (1..%d)",
                            c, cfgs[c].n, VKT_OSMC_MAXP);
        if (cfgs[c].family == 4) {
            if (cfgs[c].n < 1 || !cfgs[c].samples)
                return vkt_fail(err, VKT_ERR_ARG,
                                "offswitch_mc: configuration %u has no prior samples", c);
            *ndata += cfgs[c].n;
        }
    }
    return VKT_OK;
}

// Host copies: the configuration table, the concatenated samples-file data, and room for a
// chunk's per-block results. Nothing is left allocated on failure.
static vkt_status plan_tables(vkt_error *err, const vkt_osmc_config *cfgs, uint32_t n,
                              uint64_t ndata, uint64_t blocks, float **cfg_out, float **data_out,
                              float **res_out) {
    float *cfg = calloc((size_t)n * CFG_FLOATS, sizeof *cfg),
          *data = calloc(ndata ? ndata : 1, sizeof *data);
    float *res = malloc((size_t)blocks * 6 * sizeof(float) *
                        (n < MAX_CONFIGS_PER_DISPATCH ? n : MAX_CONFIGS_PER_DISPATCH));
    if (!cfg || !data || !res) {
        free(cfg), free(data), free(res);
        return vkt_fail(err, VKT_ERR_NOMEM, "offswitch_mc: host tables for %u configurations", n);
    }
    uint64_t doff = 0;
    for (uint32_t c = 0; c < n; c++) {
        const vkt_osmc_config *k = &cfgs[c];
        float *h = cfg + (size_t)c * CFG_FLOATS;
        h[0] = (float)k->family, h[1] = (float)k->human, h[2] = (float)k->n, h[3] = (float)doff;
        h[4] = (float)k->mu, h[5] = (float)k->sigma, h[6] = (float)k->lo, h[7] = (float)k->hi;
        h[8] = (float)k->beta, h[9] = (float)k->eps;
        for (int i = 0; i < VKT_OSMC_MAXP; i++) {
            h[16 + i] = (float)k->cum_weight[i];
            h[16 + VKT_OSMC_MAXP + i] = (float)k->value[i];
            h[16 + 2 * VKT_OSMC_MAXP + i] = (float)k->spread[i];
        }
        if (k->family == 4) {
            if (doff > (1u << 24))
                return free(cfg), free(data), free(res),
                       vkt_fail(err, VKT_ERR_ARG,
                                "offswitch_mc: more than 2^24 prior samples in all");
            for (uint32_t i = 0; i < k->n; i++) data[doff + i] = (float)k->samples[i];
            doff += k->n;
        }
    }
    *cfg_out = cfg, *data_out = data, *res_out = res;
    return VKT_OK;
}

// The dispatches, a chunk of configurations at a time (block ranges with progress), each
// chunk's per-block moments merged into out.
static vkt_status dispatch_loop(vkt_ctx *ctx, vkt_buffer *bc, vkt_buffer *bd, vkt_buffer *bo,
                                uint32_t n, uint32_t chunk, uint64_t samples, uint64_t seed,
                                uint64_t per_thread, uint64_t blocks, vkt_osmc_progress_fn fn,
                                void *user, float *res, vkt_osmc_moments *out) {
    vkt_status s = VKT_OK;
    for (uint32_t c0 = 0; c0 < n && s == VKT_OK; c0 += chunk) {
        uint32_t m = n - c0 < chunk ? n - c0 : chunk;
        vkt_view vc =
            vkt_view_f32(vkt_view_all(bc), (uint64_t)c0 * CFG_FLOATS, (uint64_t)m * CFG_FLOATS);
        vkt_view vd = vkt_view_all(bd),
                 vo = vkt_view_f32(vkt_view_all(bo), 0, (uint64_t)m * blocks * 6);
        // With progress on a long run: block ranges, each waited for (a one-float read).
        // Ranges of at least 16 blocks, at most 1024 of them (1e12 samples: ~1e9 a range).
        const uint64_t ranges = blocks / 16 > 1024 ? 1024 : blocks / 16;
        const bool split = fn && ranges >= 2;
        const uint64_t step = split ? (blocks + ranges - 1) / ranges : blocks;
        for (uint64_t b0 = 0; b0 < blocks && s == VKT_OK; b0 += step) {
            uint64_t nb = blocks - b0 < step ? blocks - b0 : step;
            vkt_dispatch d = {.shader = "offswitch_mc",
                              .op = "offswitch_mc",
                              .spec = {WG, 1, 1},
                              .nspec = 3,
                              .nbind = 3};
            d.bind[0] = (vkt_binding){vc, VKT_BIND_READ};
            d.bind[1] = (vkt_binding){vd, VKT_BIND_READ};
            d.bind[2] = (vkt_binding){vo, VKT_BIND_WRITE};
            push_osmc pc = {m,
                            (uint32_t)samples,
                            (uint32_t)(samples >> 32),
                            (uint32_t)seed,
                            (uint32_t)(seed >> 32),
                            (uint32_t)per_thread,
                            vkt_bind_shift(ctx, vc, VKT_BIND_READ),
                            vkt_bind_shift(ctx, vd, VKT_BIND_READ),
                            vkt_bind_shift(ctx, vo, VKT_BIND_WRITE),
                            c0,
                            (uint32_t)b0,
                            (uint32_t)blocks};
            // Tables are indexed from the chunk's start; Philox counters use the global c0 + c.
            memcpy(d.push, &pc, sizeof pc);
            d.push_bytes = sizeof pc;
            d.groups[0] = (uint32_t)nb, d.groups[1] = m, d.groups[2] = 1;
            s = vkt_record(ctx, &d);
            if (s == VKT_OK && split && b0 + nb < blocks) {
                float one;
                s = vkt_download(ctx, vkt_view_f32(vo, 0, 1), &one, 4);
                uint64_t per_block = (uint64_t)WG * per_thread, done = (b0 + nb) * per_block;
                if (s == VKT_OK)
                    fn(user,
                       (uint64_t)c0 * samples + (uint64_t)m * (done < samples ? done : samples),
                       (uint64_t)n * samples);
            }
        }
        if (s == VKT_OK) s = vkt_download(ctx, vo, res, (uint64_t)m * blocks * 6 * 4);
        for (uint32_t c = 0; c < m && s == VKT_OK; c++) {
            vkt_osmc_moments *o = &out[c0 + c];
            memset(o, 0, sizeof *o);
            for (uint64_t b = 0; b < blocks; b++) {
                const float *r = res + ((uint64_t)c * blocks + b) * 6;
                merge(o, r[0], r[1], r[2], r[3], r[4]);
            }
        }
        if (s == VKT_OK && fn) fn(user, (uint64_t)(c0 + m) * samples, (uint64_t)n * samples);
    }
    return s;
}

vkt_status vkt_offswitch_mc_device_ex(vkt_ctx *ctx, const vkt_osmc_config *cfgs, uint32_t n,
                                      uint64_t samples, uint64_t seed, vkt_osmc_progress_fn fn,
                                      void *user, vkt_osmc_moments *out) {
    vkt_error *err = vkt_ctx_err(ctx);
    uint64_t per_thread = 0, blocks = 0, ndata = 0;
    vkt_status s = check_args(err, cfgs, n, samples, &per_thread, &blocks, &ndata);
    if (s != VKT_OK) return s;
    float *cfg = NULL, *data = NULL, *res = NULL;
    s = plan_tables(err, cfgs, n, ndata, blocks, &cfg, &data, &res);
    if (s != VKT_OK) return s;
    uint32_t chunk = n < MAX_CONFIGS_PER_DISPATCH ? n : MAX_CONFIGS_PER_DISPATCH;
    vkt_buffer *bc = NULL, *bd = NULL, *bo = NULL;
    s = vkt_buffer_create(ctx, (uint64_t)n * CFG_FLOATS * 4, &bc);
    if (s == VKT_OK) s = vkt_buffer_create(ctx, (ndata ? ndata : 1) * 4, &bd);
    if (s == VKT_OK) s = vkt_buffer_create(ctx, (uint64_t)chunk * blocks * 6 * 4, &bo);
    if (s == VKT_OK) s = vkt_upload(ctx, vkt_view_all(bc), cfg, (uint64_t)n * CFG_FLOATS * 4);
    if (s == VKT_OK) s = vkt_upload(ctx, vkt_view_all(bd), data, (ndata ? ndata : 1) * 4);
    if (s == VKT_OK)
        s = dispatch_loop(ctx, bc, bd, bo, n, chunk, samples, seed, per_thread, blocks, fn, user,
                          res, out);
    vkt_buffer_destroy(ctx, bc);
    vkt_buffer_destroy(ctx, bd);
    vkt_buffer_destroy(ctx, bo);
    free(cfg), free(data), free(res);
    return s;
}
