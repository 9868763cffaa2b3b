// op_elementwise.c: wrappers for shaders/elementwise.comp.
#include <string.h>

#include "dispatch.h"
#include "op_elementwise.h"
#include "op_split.h"

typedef struct {
    uint32_t n, x_off, y_off, mode;
    float a, b;
} push_elementwise;

enum { MODE_FILL = 0, MODE_SCALE = 1, MODE_AXPBY = 2 };
#define WG 256u
#define MAX_GROUPS 1024u

// One dispatch over len elements of xs/ys (vec4s when vec4), which fit one binding.
static vkt_status dispatch(vkt_ctx *ctx, const char *op, int mode, float a, vkt_view xs, float b,
                           vkt_view ys, uint64_t len, bool vec4) {
    vkt_dispatch d = {.shader = vec4 ? "elementwise_vec4" : "elementwise",
                      .op = op,
                      .spec = {WG, 1, 1},
                      .nspec = 3,
                      .nbind = 2};
    d.bind[0] = (vkt_binding){xs, VKT_BIND_READ};
    d.bind[1] = (vkt_binding){ys, VKT_BIND_WRITE};
    uint32_t unit = vec4 ? 4 : 1;
    push_elementwise pc = {(uint32_t)len,
                           vkt_bind_shift(ctx, xs, VKT_BIND_READ) / unit,
                           vkt_bind_shift(ctx, ys, VKT_BIND_WRITE) / unit,
                           (uint32_t)mode,
                           a,
                           b};
    memcpy(d.push, &pc, sizeof pc);
    d.push_bytes = sizeof pc;
    uint64_t groups = (len + WG - 1) / WG;
    d.groups[0] = (uint32_t)(groups < MAX_GROUPS ? groups : MAX_GROUPS);
    d.groups[1] = d.groups[2] = 1;
    return vkt_record(ctx, &d);
}

static vkt_status run(vkt_ctx *ctx, const char *op, int mode, float a, vkt_view x, float b,
                      vkt_view y, uint64_t n) {
    vkt_error *err = vkt_ctx_err(ctx);
    if (!y.buf || (mode == MODE_AXPBY && !x.buf))
        return vkt_fail(err, VKT_ERR_ARG, "%s: NULL view", op);
    if (n * 4 > y.bytes || (mode == MODE_AXPBY && n * 4 > x.bytes))
        return vkt_fail(
            err, VKT_ERR_ARG, "%s: n=%llu floats exceed a view of %llu bytes", op,
            (unsigned long long)n,
            (unsigned long long)(mode == MODE_AXPBY && x.bytes < y.bytes ? x.bytes : y.bytes));
    uint64_t chunk = vkt_rows_per_binding(ctx, 16) * 4; // a multiple of 4 floats
    if (chunk > 0xFFFFFFFCu) chunk = 0xFFFFFFFCu;
    for (uint64_t first = 0; first < n; first += chunk) {
        uint64_t len = n - first < chunk ? n - first : chunk;
        vkt_view ys = vkt_view_f32(y, first, len);
        vkt_view xs = mode == MODE_AXPBY ? vkt_view_f32(x, first, len) : ys;
        // The vec4 body when both views start on a 16-byte boundary; floats for the tail.
        bool aligned = vkt_bind_shift(ctx, ys, VKT_BIND_WRITE) % 4 == 0 &&
                       vkt_bind_shift(ctx, xs, VKT_BIND_READ) % 4 == 0;
        uint64_t body = aligned ? len / 4 * 4 : 0;
        if (body)
            VKT_TRY(dispatch(ctx, op, mode, a, vkt_view_f32(xs, 0, body), b,
                             vkt_view_f32(ys, 0, body), body / 4, true));
        if (len > body)
            VKT_TRY(dispatch(ctx, op, mode, a, vkt_view_f32(xs, body, len - body), b,
                             vkt_view_f32(ys, body, len - body), len - body, false));
    }
    return VKT_OK;
}

vkt_status vkt_fill(vkt_ctx *ctx, vkt_view y, uint64_t n, float value) {
    return run(ctx, "fill", MODE_FILL, value, y, 0, y, n);
}
vkt_status vkt_scale(vkt_ctx *ctx, vkt_view y, uint64_t n, float a) {
    return run(ctx, "scale", MODE_SCALE, a, y, 0, y, n);
}
vkt_status vkt_axpby(vkt_ctx *ctx, float a, vkt_view x, float b, vkt_view y, uint64_t n) {
    return run(ctx, "axpby", MODE_AXPBY, a, x, b, y, n);
}
