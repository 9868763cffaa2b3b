// op_rope.c: wrappers for shaders/rope.comp. Validation is vkt_check_rope
// (shape_check.h), shared with the C reference.
#include <math.h>
#include <string.h>

#include "dispatch.h"
#include "op_rope.h"
#include "op_split.h"
#include "shape_check.h"

typedef struct {
    uint32_t N, H, D, row_stride;
    uint32_t x_off, pos_off;
    float sign, r_hi, r_lo;
    uint32_t f_off;
} push_rope;

#define WG 64u
#define MAX_GROUPS 1024u

// freq NULL: inv_freq[i] = theta^(-2i/D) built in the shader; else the (D/2, 2) (hi, lo)
// table it points to (theta is then unused).
static vkt_status run(vkt_ctx *ctx, const char *op, float sign, int B, int T, int H, int D,
                      int row_stride, vkt_view pos, float theta, const vkt_view *freq, vkt_view x) {
    vkt_error *err = vkt_ctx_err(ctx);
    VKT_TRY(vkt_check_rope(B, T, H, D, row_stride, freq ? 1.0 : theta, err));
    if ((long long)B * T * H * (D / 2) > 0xFFFFFFFFll)
        return vkt_fail(err, VKT_ERR_UNSUPPORTED, "%s: B*T*H*D/2 = %lld pairs exceed 2^32", op,
                        (long long)B * T * H * (D / 2));
    uint64_t rows = (uint64_t)B * (uint64_t)T;
    uint64_t need = (rows - 1) * (uint64_t)row_stride + (uint64_t)H * D;
    if (!x.buf || !pos.buf)
        return vkt_fail(err, VKT_ERR_ARG, "%s: %s view has no buffer", op, x.buf ? "pos" : "x");
    if (x.bytes < need * 4)
        return vkt_fail(
            err, VKT_ERR_ARG,
            "%s: x view holds %llu bytes, needs %llu (B=%d T=%d H=%d D=%d row_stride=%d)", op,
            (unsigned long long)x.bytes, (unsigned long long)need * 4, B, T, H, D, row_stride);
    if (pos.bytes < rows * 4)
        return vkt_fail(
            err, VKT_ERR_ARG, "%s: pos view holds %llu bytes, needs %llu (B*T=%llu int32)", op,
            (unsigned long long)pos.bytes, (unsigned long long)rows * 4, (unsigned long long)rows);
    uint64_t chunk = vkt_rows_per_binding(ctx, (uint64_t)row_stride * 4);
    if (chunk == 0 && vkt_rows_per_binding(ctx, (uint64_t)H * D * 4) >= 1) chunk = 1;
    if (chunk == 0)
        return vkt_fail(err, VKT_ERR_UNSUPPORTED,
                        "%s: one row of H*D=%d floats exceeds the binding limit", op, H * D);
    if (D > 256)
        return vkt_fail(err, VKT_ERR_UNSUPPORTED, "%s: D=%d > 256 is not supported", op, D);
    if (freq && !freq->buf) return vkt_fail(err, VKT_ERR_ARG, "%s: freq view has no buffer", op);
    if (freq && freq->bytes < (uint64_t)D * 4)
        return vkt_fail(err, VKT_ERR_ARG,
                        "%s: freq view holds %llu bytes, needs %llu (D/2=%d (hi, lo) float pairs)",
                        op, (unsigned long long)freq->bytes, (unsigned long long)D * 4, D / 2);
    // inv_freq[i] = r^i, r = theta^(-2/D): r as a two-float sum for the shader.
    double r = freq ? 1.0 : pow((double)theta, -2.0 / D);
    float r_hi = (float)r, r_lo = (float)(r - (double)r_hi);
    for (uint64_t r0 = 0; r0 < rows; r0 += chunk) {
        uint64_t n = rows - r0 < chunk ? rows - r0 : chunk;
        vkt_dispatch d = {.shader = freq ? "rope_freq" : "rope",
                          .op = op,
                          .spec = {WG, 1, 1},
                          .nspec = 3,
                          .nbind = freq ? 3 : 2};
        d.bind[0] =
            (vkt_binding){vkt_view_f32(x, r0 * row_stride, (n - 1) * row_stride + (uint64_t)H * D),
                          VKT_BIND_WRITE};
        d.bind[1] = (vkt_binding){vkt_view_f32(pos, r0, n), VKT_BIND_READ};
        push_rope pc = {(uint32_t)n,
                        (uint32_t)H,
                        (uint32_t)D,
                        (uint32_t)row_stride,
                        vkt_bind_shift(ctx, d.bind[0].view, VKT_BIND_WRITE),
                        vkt_bind_shift(ctx, d.bind[1].view, VKT_BIND_READ),
                        sign,
                        r_hi,
                        r_lo,
                        0};
        if (freq) {
            d.bind[2] = (vkt_binding){vkt_view_f32(*freq, 0, (uint64_t)D), VKT_BIND_READ};
            pc.f_off = vkt_bind_shift(ctx, d.bind[2].view, VKT_BIND_READ);
        }
        memcpy(d.push, &pc, sizeof pc);
        d.push_bytes = sizeof pc;
        uint64_t groups = (n * (uint64_t)H * (uint64_t)(D / 2) + WG - 1) / WG;
        d.groups[0] = (uint32_t)(groups < MAX_GROUPS ? groups : MAX_GROUPS);
        d.groups[1] = d.groups[2] = 1;
        VKT_TRY(vkt_record(ctx, &d));
    }
    return VKT_OK;
}

vkt_status vkt_rope_fwd(vkt_ctx *ctx, int B, int T, int H, int D, int row_stride, vkt_view pos,
                        float theta, vkt_view x) {
    return run(ctx, "rope_fwd", 1.0f, B, T, H, D, row_stride, pos, theta, NULL, x);
}

vkt_status vkt_rope_bwd(vkt_ctx *ctx, int B, int T, int H, int D, int row_stride, vkt_view pos,
                        float theta, vkt_view dx) {
    return run(ctx, "rope_bwd", -1.0f, B, T, H, D, row_stride, pos, theta, NULL, dx);
}

vkt_status vkt_rope_fwd_freq(vkt_ctx *ctx, int B, int T, int H, int D, int row_stride, vkt_view pos,
                             vkt_view freq, vkt_view x) {
    return run(ctx, "rope_fwd", 1.0f, B, T, H, D, row_stride, pos, 0.0f, &freq, x);
}

vkt_status vkt_rope_bwd_freq(vkt_ctx *ctx, int B, int T, int H, int D, int row_stride, vkt_view pos,
                             vkt_view freq, vkt_view dx) {
    return run(ctx, "rope_bwd", -1.0f, B, T, H, D, row_stride, pos, 0.0f, &freq, dx);
}
