// op_loss.c: wrappers for shaders/cross_entropy.comp.
#include <math.h>
#include <string.h>

#include "dispatch.h"
#include "op_loss.h"
#include "op_split.h"
#include "shape_check.h"

typedef struct {
    uint32_t rows, V, x_off, t_off, w_off, loss_off, lse_off, flags;
    float grad_scale;
    uint32_t c_off, ent_off; // entropy variant only
} push_ce;

enum { FLAG_BACKWARD = 1, FLAG_LSE = 2, FLAG_ENT = 4 };

// The rule of vkt_ref_cross_entropy: a row with weight != 0 needs a target in [0, V).
static vkt_status check_weighted_targets(vkt_ctx *ctx, int N, int V, const int32_t *targets,
                                         const float *weights) {
    for (int i = 0; i < N; i++)
        if (weights[i] != 0 && (targets[i] < 0 || targets[i] >= V))
            return vkt_fail(
                vkt_ctx_err(ctx), VKT_ERR_ARG,
                "cross_entropy: targets[%d]=%d is outside [0, %d) and its weight is %g (not 0)", i,
                (int)targets[i], V, (double)weights[i]);
    return VKT_OK;
}

vkt_status vkt_cross_entropy_stage(vkt_ctx *ctx, int N, int V, const int32_t *targets,
                                   const float *weights, vkt_view tw) {
    vkt_error *err = vkt_ctx_err(ctx);
    VKT_TRY(vkt_check_cross_entropy(N, V, 1.0, err));
    if (!targets || !weights)
        return vkt_fail(err, VKT_ERR_ARG, "cross_entropy: targets or weights is NULL");
    if (!tw.buf || tw.bytes < 8ull * (uint64_t)N)
        return vkt_fail(err, VKT_ERR_ARG,
                        "cross_entropy: tw view of %llu bytes must hold 8N = %llu bytes (N=%d)",
                        (unsigned long long)tw.bytes, 8ull * (uint64_t)N, N);
    VKT_TRY(check_weighted_targets(ctx, N, V, targets, weights));
    VKT_TRY(vkt_upload(ctx, vkt_view_f32(tw, 0, (uint64_t)N), targets, 4ull * (uint64_t)N));
    return vkt_upload(ctx, vkt_view_f32(tw, (uint64_t)N, (uint64_t)N), weights, 4ull * (uint64_t)N);
}

vkt_status vkt_cross_entropy_stage_ent(vkt_ctx *ctx, int N, const float *coef, vkt_view dst) {
    vkt_error *err = vkt_ctx_err(ctx);
    if (N < 1) return vkt_fail(err, VKT_ERR_ARG, "cross_entropy: N=%d must be >= 1", N);
    if (!coef) return vkt_fail(err, VKT_ERR_ARG, "cross_entropy: coef is NULL");
    if (!dst.buf || dst.bytes < 4ull * (uint64_t)N)
        return vkt_fail(err, VKT_ERR_ARG,
                        "cross_entropy: coef view of %llu bytes must hold N=%d floats",
                        (unsigned long long)dst.bytes, N);
    for (int i = 0; i < N; i++)
        if (!isfinite(coef[i]))
            return vkt_fail(err, VKT_ERR_ARG, "cross_entropy: coef[%d]=%g must be finite", i,
                            (double)coef[i]);
    return vkt_upload(ctx, dst, coef, 4ull * (uint64_t)N);
}

// Workgroup size: a power of two near V/16 (each thread takes >= 16 elements per pass:
// on lavapipe small rows cost per workgroup, not per element; 4096x512 ran ~2-4x faster
// with 32 threads than 128), between 32 and 256, within the device's limits.
static uint32_t ce_wg(const vkt_ctx *ctx, int V, uint32_t shared_arrays) {
    const vkt_profile *p = vkt_ctx_profile(ctx);
    uint32_t wg = 32;
    while (wg < 256 && wg * 16u < (uint32_t)V) wg *= 2;
    while (wg > 1 && (wg > p->max_workgroup_invocations || wg > p->max_workgroup_size[0] ||
                      shared_arrays * 4u * wg + 4u > p->shared_memory_bytes))
        wg /= 2;
    return wg;
}

vkt_status vkt_cross_entropy(vkt_ctx *ctx, int N, int V, vkt_view logits, vkt_view tw,
                             float grad_scale, bool backward, vkt_view loss, vkt_view lse) {
    vkt_view none = {0};
    return vkt_cross_entropy_ent(ctx, N, V, logits, tw, none, grad_scale, backward, loss, lse,
                                 none);
}

vkt_status vkt_cross_entropy_ent(vkt_ctx *ctx, int N, int V, vkt_view logits, vkt_view tw,
                                 vkt_view coef, float grad_scale, bool backward, vkt_view loss,
                                 vkt_view lse, vkt_view ent) {
    vkt_error *err = vkt_ctx_err(ctx);
    VKT_TRY(vkt_check_cross_entropy(N, V, grad_scale, err));
    uint64_t nv = (uint64_t)N * (uint64_t)V;
    if (!logits.buf || logits.bytes < 4 * nv)
        return vkt_fail(err, VKT_ERR_ARG,
                        "cross_entropy: logits view of %llu bytes must hold (N=%d, V=%d) floats",
                        (unsigned long long)logits.bytes, N, V);
    if (!tw.buf || tw.bytes < 8ull * (uint64_t)N)
        return vkt_fail(err, VKT_ERR_ARG,
                        "cross_entropy: tw view of %llu bytes must hold 8N = %llu bytes (N=%d)",
                        (unsigned long long)tw.bytes, 8ull * (uint64_t)N, N);
    if (!loss.buf || loss.bytes < 4ull * (uint64_t)N)
        return vkt_fail(err, VKT_ERR_ARG,
                        "cross_entropy: loss view of %llu bytes must hold N=%d floats",
                        (unsigned long long)loss.bytes, N);
    bool has_lse = lse.buf != NULL;
    if (has_lse && lse.bytes < 4ull * (uint64_t)N)
        return vkt_fail(err, VKT_ERR_ARG,
                        "cross_entropy: lse view of %llu bytes must hold N=%d floats",
                        (unsigned long long)lse.bytes, N);
    bool has_coef = coef.buf != NULL, has_ent = ent.buf != NULL;
    if (has_ent && !has_coef)
        return vkt_fail(err, VKT_ERR_ARG, "cross_entropy: ent needs a coef view");
    if (has_coef && coef.bytes < 4ull * (uint64_t)N)
        return vkt_fail(err, VKT_ERR_ARG,
                        "cross_entropy: coef view of %llu bytes must hold N=%d floats",
                        (unsigned long long)coef.bytes, N);
    if (has_ent && ent.bytes < 4ull * (uint64_t)N)
        return vkt_fail(err, VKT_ERR_ARG,
                        "cross_entropy: ent view of %llu bytes must hold N=%d floats",
                        (unsigned long long)ent.bytes, N);
    const vkt_profile *prof = vkt_ctx_profile(ctx);
    uint64_t chunk = vkt_rows_per_binding(ctx, 4ull * (uint64_t)V);
    if (chunk == 0)
        return vkt_fail(
            err, VKT_ERR_UNSUPPORTED,
            "cross_entropy: one row of V=%d floats exceeds the device's %llu-byte binding limit", V,
            (unsigned long long)prof->max_binding_bytes);
    if (chunk > prof->max_workgroup_count[0])
        chunk = prof->max_workgroup_count[0]; // one workgroup per row
    uint32_t wg = ce_wg(ctx, V, has_coef ? 3u : 2u);
    const char *shader = has_coef
                             ? (prof->use_subgroup ? "cross_entropy_ent_sg" : "cross_entropy_ent")
                             : (prof->use_subgroup ? "cross_entropy_sg" : "cross_entropy");
    const char *op = has_coef ? (backward ? "cross_entropy_ent" : "cross_entropy_ent_fwd")
                              : (backward ? "cross_entropy" : "cross_entropy_fwd");

    for (uint64_t r0 = 0; r0 < (uint64_t)N; r0 += chunk) {
        uint64_t rows = (uint64_t)N - r0 < chunk ? (uint64_t)N - r0 : chunk;
        vkt_view xs = vkt_view_f32(logits, r0 * (uint64_t)V, rows * (uint64_t)V);
        vkt_view ts = vkt_view_f32(tw, r0, rows);
        vkt_view ws = vkt_view_f32(tw, (uint64_t)N + r0, rows);
        vkt_view ls = vkt_view_f32(loss, r0, rows);
        vkt_view ss =
            has_lse ? vkt_view_f32(lse, r0, rows) : ls; // bound, never written without FLAG_LSE
        vkt_dispatch d = {
            .shader = shader, .op = op, .spec = {wg, 1, 1}, .nspec = 3, .nbind = has_coef ? 7 : 5};
        d.bind[0] = (vkt_binding){xs, backward ? VKT_BIND_WRITE : VKT_BIND_READ};
        d.bind[1] = (vkt_binding){ts, VKT_BIND_READ};
        d.bind[2] = (vkt_binding){ws, VKT_BIND_READ};
        d.bind[3] = (vkt_binding){ls, VKT_BIND_WRITE};
        d.bind[4] = (vkt_binding){ss, VKT_BIND_WRITE};
        vkt_view cs = {0}, es = {0};
        if (has_coef) {
            cs = vkt_view_f32(coef, r0, rows);
            es =
                has_ent ? vkt_view_f32(ent, r0, rows) : ls; // bound, never written without FLAG_ENT
            d.bind[5] = (vkt_binding){cs, VKT_BIND_READ};
            d.bind[6] = (vkt_binding){es, VKT_BIND_WRITE};
        }
        push_ce pc = {(uint32_t)rows,
                      (uint32_t)V,
                      vkt_bind_shift(ctx, xs, d.bind[0].kind),
                      vkt_bind_shift(ctx, ts, VKT_BIND_READ),
                      vkt_bind_shift(ctx, ws, VKT_BIND_READ),
                      vkt_bind_shift(ctx, ls, VKT_BIND_WRITE),
                      vkt_bind_shift(ctx, ss, VKT_BIND_WRITE),
                      (backward ? FLAG_BACKWARD : 0u) | (has_lse ? FLAG_LSE : 0u) |
                          (has_ent ? FLAG_ENT : 0u),
                      grad_scale,
                      has_coef ? vkt_bind_shift(ctx, cs, VKT_BIND_READ) : 0u,
                      has_coef ? vkt_bind_shift(ctx, es, VKT_BIND_WRITE) : 0u};
        memcpy(d.push, &pc, sizeof pc);
        d.push_bytes = sizeof pc;
        d.groups[0] = (uint32_t)rows;
        d.groups[1] = d.groups[2] = 1;
        VKT_TRY(vkt_record(ctx, &d));
    }
    return VKT_OK;
}
