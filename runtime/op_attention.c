// op_attention.c: wrappers for shaders/attention_fwd.comp (FlashAttention-2 forward) and
// attention_bwd_dq.comp + attention_bwd_dkv.comp (its deterministic two-pass backward),
// the row family, and their GPU family attention_*_gpu.comp (head rows split across
// lanes), picked by the profile's attention_path.
// Validation is vkt_check_attention (shape_check.h), shared with the C reference.
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "op_attention.h"
#include "op_split.h"
#include "shape_check.h"

#define MAX_DV 64u // D <= 256: q, out (and k, v, dk, dv) rows live in registers

// The geometry of one call (sizes in elements).
typedef struct {
    const char *op;
    int B, Tq, q0, Tk, kv_rows, H, KVH, D;
    float scale;
    int qs, ks, vs;
} geom;

typedef struct {
    uint32_t Tq, Tk, q0, H, KVH, D;
    uint32_t q_stride, k_stride, v_stride;
    uint32_t q_bstride, k_bstride, v_bstride;
    uint32_t q_off, k_off, v_off, o_off, lse_off;
    float scale;
} push_fwd;

typedef struct {
    uint32_t Tq, Tk, q0, H, KVH, D;
    uint32_t q_stride, k_stride, v_stride;
    uint32_t q_bstride, k_bstride, v_bstride;
    uint32_t q_off, k_off, v_off, do_off, o_off, lse_off, g0_off, g1_off;
    float scale;
} push_bwd;

// One tensor of the call: its view and how it is laid out per batch.
typedef struct {
    const char *name;
    vkt_view view;
    uint64_t bstride; // elements between batches
    uint64_t extent1; // elements one batch spans
} tensor;

static uint64_t extent(const tensor *t, uint64_t nb) { return (nb - 1) * t->bstride + t->extent1; }

static tensor tq(const geom *g, const char *name, vkt_view v) {
    return (tensor){name, v, (uint64_t)g->Tq * g->qs,
                    (uint64_t)(g->Tq - 1) * g->qs + (uint64_t)g->H * g->D};
}
static tensor tkv(const geom *g, const char *name, vkt_view v, int stride) {
    return (tensor){name, v, (uint64_t)g->kv_rows * stride,
                    (uint64_t)(g->Tk - 1) * stride + (uint64_t)g->KVH * g->D};
}
static tensor tout(const geom *g, const char *name, vkt_view v) {
    uint64_t n = (uint64_t)g->Tq * g->H * g->D;
    return (tensor){name, v, n, n};
}
static tensor tlse(const geom *g, vkt_view v) {
    uint64_t n = (uint64_t)g->H * g->Tq;
    return (tensor){"lse", v, n, n};
}

static vkt_status check_geom(vkt_ctx *ctx, const geom *g) {
    vkt_error *err = vkt_ctx_err(ctx);
    // The shared rules (sizes, KVH | H, strides, scale) with T = the key length.
    VKT_TRY(
        vkt_check_attention(g->B, g->Tk, g->H, g->KVH, g->D, g->scale, g->qs, g->ks, g->vs, err));
    if (g->Tq <= 0 || g->q0 < 0 || (long long)g->q0 + g->Tq > g->Tk || g->kv_rows < g->Tk)
        return vkt_fail(err, VKT_ERR_ARG,
                        "%s: need Tq=%d > 0, q0=%d >= 0, q0 + Tq <= Tk=%d <= kv_rows=%d", g->op,
                        g->Tq, g->q0, g->Tk, g->kv_rows);
    if ((uint32_t)(g->D + 3) / 4 > MAX_DV)
        return vkt_fail(err, VKT_ERR_UNSUPPORTED,
                        "%s: D=%d > %u is not supported (head rows live in registers)", g->op, g->D,
                        4 * MAX_DV);
    return VKT_OK;
}

// Every view present and large enough; then how many batches one dispatch may bind.
static vkt_status check_views(vkt_ctx *ctx, const geom *g, const tensor *t, int n,
                              uint32_t *nb_out) {
    vkt_error *err = vkt_ctx_err(ctx);
    uint64_t nb = (uint64_t)g->B;
    for (int i = 0; i < n; i++) {
        uint64_t need = extent(&t[i], (uint64_t)g->B);
        if (!t[i].view.buf)
            return vkt_fail(err, VKT_ERR_ARG, "%s: %s view has no buffer", g->op, t[i].name);
        if (t[i].view.bytes < need * 4)
            return vkt_fail(err, VKT_ERR_ARG,
                            "%s: %s view holds %llu bytes, needs %llu (B=%d Tq=%d Tk=%d H=%d "
                            "KVH=%d D=%d strides q=%d k=%d v=%d)",
                            g->op, t[i].name, (unsigned long long)t[i].view.bytes,
                            (unsigned long long)need * 4, g->B, g->Tq, g->Tk, g->H, g->KVH, g->D,
                            g->qs, g->ks, g->vs);
        uint64_t fit = vkt_rows_per_binding(ctx, t[i].bstride * 4);
        if (fit == 0 && vkt_rows_per_binding(ctx, t[i].extent1 * 4) >= 1) fit = 1;
        if (fit == 0)
            return vkt_fail(
                err, VKT_ERR_UNSUPPORTED,
                "%s: one batch of %s spans %llu bytes, over the device's binding limit of %llu",
                g->op, t[i].name, (unsigned long long)t[i].extent1 * 4,
                (unsigned long long)vkt_ctx_profile(ctx)->max_binding_bytes);
        if (fit < nb) nb = fit;
    }
    uint32_t zmax = vkt_ctx_profile(ctx)->max_workgroup_count[2];
    *nb_out = (uint32_t)(nb < zmax ? nb : zmax);
    return VKT_OK;
}

// Batches [b0, b0 + nb) of a tensor, and the shift of its binding.
static vkt_binding chunk(const tensor *t, uint32_t b0, uint32_t nb, vkt_bind_kind kind) {
    return (vkt_binding){vkt_view_f32(t->view, (uint64_t)b0 * t->bstride, extent(t, nb)), kind};
}

// Workgroup size (rows per block) and the block of the other side staged in shared
// memory: the largest power of two <= cap whose tiles (two (blk, DV) vec4 arrays plus
// `extra` bytes per row) fit the device's shared memory.
static vkt_status tiles(vkt_ctx *ctx, const geom *g, uint32_t dv, uint32_t extra, uint32_t cap,
                        uint32_t *wg, uint32_t *blk) {
    const vkt_profile *p = vkt_ctx_profile(ctx);
    uint32_t w = 64;
    while (w > p->max_workgroup_invocations || w > p->max_workgroup_size[0]) w /= 2;
    uint32_t b = cap;
    while (b >= 1 && 2u * b * dv * 16 + b * extra > p->shared_memory_bytes) b /= 2;
    if (w == 0 || b == 0)
        return vkt_fail(vkt_ctx_err(ctx), VKT_ERR_UNSUPPORTED,
                        "%s: D=%d does not fit %u bytes of shared memory", g->op, g->D,
                        p->shared_memory_bytes);
    *wg = w;
    *blk = b;

    return VKT_OK;
}

// The GPU family's shape (shaders/common/attention_gpu.glsl): WG invocations, G lanes a
// row (NR = WG / G rows a workgroup, a multiple of 4), DL elements a lane, and BC keys a
// staged block (forward, dq); shader names with _sg when lanes reduce by subgroup shuffles.
typedef struct {
    uint32_t wg, lanes, dl, blk;
    bool sg;
} gpu_shape;

// G: the power of two >= 4 that leaves each lane <= 8 elements (up to the profile's
// attention_lanes); blocks: the largest power of two <= 64 whose two staged (blk, G DL + 1)
// arrays and the reduction scratch (2 vec4 an invocation without shuffles) fit.
static vkt_status gpu_pick(vkt_ctx *ctx, const geom *g, gpu_shape *o) {
    const vkt_profile *p = vkt_ctx_profile(ctx);
    uint32_t G = 4, D = (uint32_t)g->D, wg = 128;
    while (G * 8 < D && G < p->attention_lanes) G *= 2;
    while (wg > p->max_workgroup_invocations || wg > p->max_workgroup_size[0]) wg /= 2;
    while (G > 1 && wg / G < 4) G /= 2;
    uint32_t dl = (D + G - 1) / G, dp = G * dl + 1, sg = p->attention_subgroup ? 0 : 1;
    // dkv stages a query block of wg / G rows (two arrays) plus lse and delta: fewer rows
    // a workgroup for wide heads (whole subgroups when lanes shuffle).
    while (wg / G > 4 && (sg || wg / 2 >= p->subgroup_max) &&
           2 * (wg / G) * (dp + 1) * 4 + sg * 32 * wg > p->shared_memory_bytes)
        wg /= 2;
    uint32_t red = sg * 32 * wg, nr = wg / G, blk = 64;
    while (blk >= 4 && 2 * blk * dp * 4 + red > p->shared_memory_bytes) blk /= 2;
    if (wg < 4 * G || blk < 4 || 2 * nr * (dp + 1) * 4 + red > p->shared_memory_bytes)
        return vkt_fail(vkt_ctx_err(ctx), VKT_ERR_UNSUPPORTED,
                        "%s: D=%d does not fit %u bytes of shared memory", g->op, g->D,
                        p->shared_memory_bytes);
    *o = (gpu_shape){wg, G, dl, blk, p->attention_subgroup};
    return VKT_OK;
}

// Specialization constants and the row grid of a GPU-family dispatch over `rows` rows.
static void gpu_spec(const gpu_shape *s, vkt_dispatch *d, uint32_t rows) {
    uint32_t spec[6] = {s->wg, 1, 1, s->blk, s->lanes, s->dl}, nr = s->wg / s->lanes;
    memcpy(d->spec, spec, sizeof spec);
    d->nspec = 6;
    d->groups[0] = (rows + nr - 1) / nr;
}

// CPU devices read the rows every invocation shares from texel buffers (vectorised
// gathers on lavapipe) instead of staging them in shared memory (see
// shaders/common/attention_common.glsl). VKT_ATTENTION_SHARED=1 forces the shared-memory
// path (tests run both on one device). Texel bindings must fit maxTexelBufferElements.
static bool use_texel(vkt_ctx *ctx, const tensor *t, int n, uint32_t nb) {
    const vkt_profile *p = vkt_ctx_profile(ctx);
    if (!p->texel_gathers) return false;
    for (int i = 0; i < n; i++)
        if (extent(&t[i], nb) + 64 > p->max_texel_elements) return false;
    return true;
}

// With texels, RGBA32F (one fetch per vec4) when D, the row strides of the texel-read
// tensors and their bindings' starts are all multiples of 4 floats; else R32F.
static bool use_vec4(vkt_ctx *ctx, const geom *g, const tensor *t, int n) {
    if (g->D % 4 || g->qs % 4 || g->ks % 4 || g->vs % 4) return false;
    for (int i = 0; i < n; i++)
        if (t[i].bstride % 4 || vkt_bind_shift(ctx, t[i].view, VKT_BIND_TEXEL) % 4) return false;
    return true;
}

static void fill_common(const geom *g, uint32_t *u) {
    u[0] = (uint32_t)g->Tq, u[1] = (uint32_t)g->Tk, u[2] = (uint32_t)g->q0;
    u[3] = (uint32_t)g->H, u[4] = (uint32_t)g->KVH, u[5] = (uint32_t)g->D;
    u[6] = (uint32_t)g->qs, u[7] = (uint32_t)g->ks, u[8] = (uint32_t)g->vs;
    u[9] = (uint32_t)g->Tq * (uint32_t)g->qs;
    u[10] = (uint32_t)g->kv_rows * (uint32_t)g->ks;
    u[11] = (uint32_t)g->kv_rows * (uint32_t)g->vs;
}

// The decode path (shaders/attention_decode.comp): one workgroup per query row with the
// keys split across its invocations, for the cached forward with Tq <= DECODE_MAX_TQ
// (generation); the row-per-invocation kernel leaves all but Tq lanes idle there.
// VKT_ATTN_DECODE=0 forces the old kernel, =1 the decode path for any Tq (read per
// call: tests and the bench compare both on one input).
#define DECODE_MAX_TQ 4

static bool use_decode(const geom *g) {
    const char *e = getenv("VKT_ATTN_DECODE");
    if (e && e[0] == '0') return false;
    if (e && e[0] == '1') return true;
    return g->Tq <= DECODE_MAX_TQ;
}

// Workgroup size: one subgroup on CPU devices (each extra subgroup is serial work and
// barriers are switches; lavapipe: 8 lanes), 64 elsewhere; shared memory 64 + 2 floats each.
static uint32_t decode_wg(vkt_ctx *ctx) {
    const vkt_profile *p = vkt_ctx_profile(ctx);
    uint32_t w = 64;
    if (p->small_workgroups && p->subgroup_size >= 1)
        while (w > p->subgroup_size) w /= 2;
    while (w > 1 && (w > p->max_workgroup_invocations || w > p->max_workgroup_size[0] ||
                     w * 66u * 4u > p->shared_memory_bytes))
        w /= 2;
    return w;
}

static vkt_status fwd(vkt_ctx *ctx, const geom *g, vkt_attention_path path, vkt_view q, vkt_view k,
                      vkt_view v, vkt_view out, vkt_view lse) {
    VKT_TRY(check_geom(ctx, g));
    bool decode = !strcmp(g->op, "attention_fwd_cached") && use_decode(g) &&
                  (uint32_t)g->Tq <= vkt_ctx_profile(ctx)->max_workgroup_count[0];
    bool gpu = !decode && path == VKT_ATTENTION_GPU;
    tensor t[5] = {tq(g, "q", q), tkv(g, "k", k, g->ks), tkv(g, "v", v, g->vs), tout(g, "out", out),
                   tlse(g, lse)};
    uint32_t nb, wg = 1, bc = 0, dv = (uint32_t)(g->D + 3) / 4;
    gpu_shape gs = {0};
    VKT_TRY(check_views(ctx, g, t, 5, &nb));
    if (gpu)
        VKT_TRY(gpu_pick(ctx, g, &gs));
    else
        VKT_TRY(tiles(ctx, g, dv, 0, 32, &wg, &bc));
    bool texel = !gpu && use_texel(ctx, &t[1], 2, nb);
    bool v4 = texel && use_vec4(ctx, g, &t[1], 2);
    vkt_bind_kind tk = v4 ? VKT_BIND_TEXEL : VKT_BIND_TEXEL_R32;
    if (texel) bc = 16; // keys per unrolled step; nothing is staged
    for (uint32_t b0 = 0; b0 < (uint32_t)g->B; b0 += nb) {
        uint32_t n = (uint32_t)g->B - b0 < nb ? (uint32_t)g->B - b0 : nb;
        vkt_dispatch d = {.shader = !texel ? "attention_fwd"
                                    : v4   ? "attention_fwd_texel4"
                                           : "attention_fwd_texel",
                          .op = "attention_fwd",
                          .spec = {wg, 1, 1, bc, dv},
                          .nspec = 5,
                          .nbind = 5};
        if (decode) {
            d.shader = !texel ? "attention_decode"
                       : v4   ? "attention_decode_texel4"
                              : "attention_decode_texel";
            d.op = "attention_decode";
            d.spec[0] = decode_wg(ctx);
        }
        for (int i = 0; i < 5; i++) {
            vkt_bind_kind kind = i == 0  ? VKT_BIND_READ
                                 : i < 3 ? (texel ? tk : VKT_BIND_READ)
                                         : VKT_BIND_WRITE;
            d.bind[i] = chunk(&t[i], b0, n, kind);
        }
        push_fwd pc;
        fill_common(g, &pc.Tq);
        uint32_t *offs = &pc.q_off;
        for (int i = 0; i < 5; i++) offs[i] = vkt_bind_shift(ctx, d.bind[i].view, d.bind[i].kind);
        pc.scale = g->scale;
        memcpy(d.push, &pc, sizeof pc);
        d.push_bytes = sizeof pc;
        d.groups[0] = decode ? (uint32_t)g->Tq : ((uint32_t)g->Tq + wg - 1) / wg;
        if (gpu) {
            d.shader = gs.sg ? "attention_fwd_gpu_sg" : "attention_fwd_gpu";
            gpu_spec(&gs, &d, (uint32_t)g->Tq);
        }
        d.groups[1] = (uint32_t)g->H;
        d.groups[2] = n;
        VKT_TRY(vkt_record(ctx, &d));
    }
    return VKT_OK;
}

vkt_status vkt_attention_fwd_on_path(vkt_ctx *ctx, vkt_attention_path path, int B, int T, int H,
                                     int KVH, int D, float scale, vkt_view q, int q_stride,
                                     vkt_view k, int k_stride, vkt_view v, int v_stride,
                                     vkt_view out, vkt_view lse) {
    geom g = {"attention_fwd", B, T, 0, T, T, H, KVH, D, scale, q_stride, k_stride, v_stride};
    return fwd(ctx, &g, path, q, k, v, out, lse);
}

vkt_status vkt_attention_fwd(vkt_ctx *ctx, int B, int T, int H, int KVH, int D, float scale,
                             vkt_view q, int q_stride, vkt_view k, int k_stride, vkt_view v,
                             int v_stride, vkt_view out, vkt_view lse) {
    return vkt_attention_fwd_on_path(ctx, vkt_ctx_profile(ctx)->attention_path, B, T, H, KVH, D,
                                     scale, q, q_stride, k, k_stride, v, v_stride, out, lse);
}

vkt_status vkt_attention_fwd_cached(vkt_ctx *ctx, int B, int Tq, int q0, int Tk, int kv_rows, int H,
                                    int KVH, int D, float scale, vkt_view q, int q_stride,
                                    vkt_view k, int k_stride, vkt_view v, int v_stride,
                                    vkt_view out, vkt_view lse) {
    geom g = {"attention_fwd_cached",
              B,
              Tq,
              q0,
              Tk,
              kv_rows,
              H,
              KVH,
              D,
              scale,
              q_stride,
              k_stride,
              v_stride};
    return fwd(ctx, &g, vkt_ctx_profile(ctx)->attention_path, q, k, v, out, lse);
}

vkt_status vkt_attention_bwd(vkt_ctx *ctx, int B, int T, int H, int KVH, int D, float scale,
                             vkt_view dout, vkt_view q, int q_stride, vkt_view k, int k_stride,
                             vkt_view v, int v_stride, vkt_view out, vkt_view lse, vkt_view dq,
                             vkt_view dk, vkt_view dv) {
    return vkt_attention_bwd_on_path(ctx, vkt_ctx_profile(ctx)->attention_path, B, T, H, KVH, D,
                                     scale, dout, q, q_stride, k, k_stride, v, v_stride, out, lse,
                                     dq, dk, dv);
}

vkt_status vkt_attention_bwd_on_path(vkt_ctx *ctx, vkt_attention_path path, int B, int T, int H,
                                     int KVH, int D, float scale, vkt_view dout, vkt_view q,
                                     int q_stride, vkt_view k, int k_stride, vkt_view v,
                                     int v_stride, vkt_view out, vkt_view lse, vkt_view dq,
                                     vkt_view dk, vkt_view dv) {
    geom gg = {"attention_bwd", B, T, 0, T, T, H, KVH, D, scale, q_stride, k_stride, v_stride};
    const geom *g = &gg;
    VKT_TRY(check_geom(ctx, g));
    // Binding order of both passes: q k v dout out lse, then dq (dq pass) or dk dv.
    tensor t[9] = {tq(g, "q", q),         tkv(g, "k", k, g->ks),   tkv(g, "v", v, g->vs),
                   tout(g, "dout", dout), tout(g, "out", out),     tlse(g, lse),
                   tq(g, "dq", dq),       tkv(g, "dk", dk, g->ks), tkv(g, "dv", dv, g->vs)};
    uint32_t nb, dvn = (uint32_t)(g->D + 3) / 4, wq = 1, bc = 0, wk = 1, bq = 0;
    bool gpu = path == VKT_ATTENTION_GPU;
    gpu_shape gs = {0};
    VKT_TRY(check_views(ctx, g, t, 9, &nb));
    if (gpu) {
        VKT_TRY(gpu_pick(ctx, g, &gs));
    } else {
        VKT_TRY(tiles(ctx, g, dvn, 0, 32, &wq, &bc));
        VKT_TRY(tiles(ctx, g, dvn, 8, 32, &wk, &bq));
    }
    // Texel path: dq pass fetches k, v; dkv pass fetches q, dout.
    const tensor texel_reads[4] = {t[0], t[1], t[2], t[3]};
    bool texel = !gpu && use_texel(ctx, texel_reads, 4, nb);
    bool v4 = texel && use_vec4(ctx, g, texel_reads, 4);
    vkt_bind_kind tk = v4 ? VKT_BIND_TEXEL : VKT_BIND_TEXEL_R32;
    if (texel) bc = bq = 16;
    for (uint32_t b0 = 0; b0 < (uint32_t)g->B; b0 += nb) {
        uint32_t n = (uint32_t)g->B - b0 < nb ? (uint32_t)g->B - b0 : nb;
        for (int pass = 0; pass < 2; pass++) {
            vkt_dispatch d = {.nspec = 5, .nbind = pass == 0 ? 7 : 8};
            d.op = pass == 0 ? "attention_bwd_dq" : "attention_bwd_dkv";
            d.shader = pass == 0 ? (!texel ? "attention_bwd_dq"
                                    : v4   ? "attention_bwd_dq_texel4"
                                           : "attention_bwd_dq_texel")
                                 : (!texel ? "attention_bwd_dkv"
                                    : v4   ? "attention_bwd_dkv_texel4"
                                           : "attention_bwd_dkv_texel");
            uint32_t wg = pass == 0 ? wq : wk;
            uint32_t spec[5] = {wg, 1, 1, pass == 0 ? bc : bq, dvn};
            memcpy(d.spec, spec, sizeof spec);
            for (int i = 0; i < 6; i++) {
                bool tx = texel && (pass == 0 ? (i == 1 || i == 2) : (i == 0 || i == 3));
                d.bind[i] = chunk(&t[i], b0, n, tx ? tk : VKT_BIND_READ);
            }
            if (pass == 0) {
                d.bind[6] = chunk(&t[6], b0, n, VKT_BIND_WRITE);
            } else {
                d.bind[6] = chunk(&t[7], b0, n, VKT_BIND_WRITE);
                d.bind[7] = chunk(&t[8], b0, n, VKT_BIND_WRITE);
            }
            push_bwd pc = {0};
            fill_common(g, &pc.Tq);
            uint32_t *offs = &pc.q_off;
            for (int i = 0; i < d.nbind; i++)
                offs[i] = vkt_bind_shift(ctx, d.bind[i].view, d.bind[i].kind);
            pc.scale = g->scale;
            memcpy(d.push, &pc, sizeof pc);
            d.push_bytes = sizeof pc;
            d.groups[0] = ((uint32_t)(pass == 0 ? g->Tq : g->Tk) + wg - 1) / wg;
            if (gpu) {
                d.shader = pass == 0
                               ? (gs.sg ? "attention_bwd_dq_gpu_sg" : "attention_bwd_dq_gpu")
                               : (gs.sg ? "attention_bwd_dkv_gpu_sg" : "attention_bwd_dkv_gpu");
                gpu_spec(&gs, &d, (uint32_t)(pass == 0 ? g->Tq : g->Tk));
            }
            d.groups[1] = (uint32_t)(pass == 0 ? g->H : g->KVH);
            d.groups[2] = n;
            VKT_TRY(vkt_record(ctx, &d));
        }
    }
    return VKT_OK;
}
