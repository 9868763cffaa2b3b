// op_dropout.c: wrapper for shaders/dropout.comp, split into binding-sized ranges.
#include <string.h>

#include "dispatch.h"
#include "op_dropout.h"
#include "op_split.h"

typedef struct {
    uint32_t n, x_off, y_off, mode, base, key_lo, key_hi, threshold;
    float scale;
} push_dropout;

#define WG 256u
#define MAX_GROUPS 1024u

vkt_status vkt_dropout(vkt_ctx *ctx, vkt_view x, vkt_view y, uint64_t n, float p, uint64_t key,
                       bool accumulate) {
    vkt_error *err = vkt_ctx_err(ctx);
    if (!x.buf || !y.buf) return vkt_fail(err, VKT_ERR_ARG, "dropout: NULL view");
    if (!(p >= 0.0f && p < 1.0f))
        return vkt_fail(err, VKT_ERR_ARG, "dropout: p=%g must be in [0, 1)", p);
    if (n >= 0xffffffffull)
        return vkt_fail(err, VKT_ERR_ARG, "dropout: n=%llu must be < 2^32", (unsigned long long)n);
    if (n * 4 > x.bytes || n * 4 > y.bytes)
        return vkt_fail(err, VKT_ERR_ARG, "dropout: n=%llu floats exceed a view",
                        (unsigned long long)n);
    uint64_t chunk = vkt_rows_per_binding(ctx, 16) * 4;
    if (chunk > 0xFFFFFFFCu) chunk = 0xFFFFFFFCu;
    for (uint64_t first = 0; first < n; first += chunk) {
        uint64_t len = n - first < chunk ? n - first : chunk;
        vkt_view xs = vkt_view_f32(x, first, len), ys = vkt_view_f32(y, first, len);
        vkt_dispatch d = {
            .shader = "dropout", .op = "dropout", .spec = {WG, 1, 1}, .nspec = 3, .nbind = 2};
        d.bind[0] = (vkt_binding){xs, VKT_BIND_READ};
        d.bind[1] = (vkt_binding){ys, VKT_BIND_WRITE};
        push_dropout pc = {(uint32_t)len,
                           vkt_bind_shift(ctx, xs, VKT_BIND_READ),
                           vkt_bind_shift(ctx, ys, VKT_BIND_WRITE),
                           accumulate ? 1u : 0u,
                           (uint32_t)first,
                           (uint32_t)key,
                           (uint32_t)(key >> 32),
                           vkt_dropout_threshold(p),
                           1.0f / (1.0f - p)};
        memcpy(d.push, &pc, sizeof pc);
        d.push_bytes = sizeof pc;
        uint64_t groups = (len + WG - 1) / WG;
        d.groups[0] = (uint32_t)(groups < MAX_GROUPS ? groups : MAX_GROUPS);
        d.groups[1] = d.groups[2] = 1;
        VKT_TRY(vkt_record(ctx, &d));
    }
    return VKT_OK;
}
