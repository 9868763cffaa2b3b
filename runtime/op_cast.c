// op_cast.c: wrappers for shaders/cast16.comp: validation and the cut into chunks that
// fit one binding (and the grid); checked against vkt_ref_cast16 by tests/test_cast16.c.
#include <string.h>

#include "dispatch.h"
#include "op_cast.h"
#include "op_split.h"

typedef struct {
    uint32_t n, src_off, dst_off;
} push_cast;

#define WG 256u
#define MAX_GROUPS 4096u

// One dispatch over len values (even, or the tail) at element first of both operands.
static vkt_status dispatch(vkt_ctx *ctx, vkt_dtype16 dt, bool widen, vkt_view f32, vkt_view h16,
                           uint64_t first, uint64_t len) {
    uint64_t words = (len + 1) / 2;
    vkt_view fv = vkt_view_f32(f32, first, len);
    vkt_view hv = {h16.buf, h16.offset + first * 2, words * 4}; // first is even: whole words
    vkt_view src = widen ? hv : fv, dst = widen ? fv : hv;
    vkt_dispatch d = {
        .shader = "cast16", .op = widen ? "widen16" : "cast16", .nspec = 5, .nbind = 2};
    d.spec[0] = WG, d.spec[1] = d.spec[2] = 1, d.spec[3] = (uint32_t)dt, d.spec[4] = widen;
    d.bind[0] = (vkt_binding){src, VKT_BIND_READ};
    d.bind[1] = (vkt_binding){dst, VKT_BIND_WRITE};
    push_cast pc = {(uint32_t)len, vkt_bind_shift(ctx, src, VKT_BIND_READ),
                    vkt_bind_shift(ctx, dst, VKT_BIND_WRITE)};
    memcpy(d.push, &pc, sizeof pc);
    d.push_bytes = sizeof pc;
    uint64_t groups = (words + WG - 1) / WG;
    d.groups[0] = (uint32_t)(groups < MAX_GROUPS ? groups : MAX_GROUPS);
    d.groups[1] = d.groups[2] = 1;
    return vkt_record(ctx, &d);
}

static vkt_status run(vkt_ctx *ctx, const char *op, vkt_dtype16 dt, bool widen, vkt_view f32,
                      vkt_view h16, uint64_t n) {
    vkt_error *err = vkt_ctx_err(ctx);
    const char *fname = widen ? "dst" : "src", *hname = widen ? "src" : "dst";
    if (dt != VKT_BF16 && dt != VKT_F16)
        return vkt_fail(err, VKT_ERR_ARG, "%s: dtype %d is neither VKT_BF16 nor VKT_F16", op,
                        (int)dt);
    if (!f32.buf || !h16.buf)
        return vkt_fail(err, VKT_ERR_ARG, "%s: %s is a NULL view", op, f32.buf ? hname : fname);
    if (h16.offset % 4)
        return vkt_fail(err, VKT_ERR_ARG,
                        "%s: %s's offset of %llu bytes is not a multiple of 4 (16-bit values are "
                        "moved in pairs)",
                        op, hname, (unsigned long long)h16.offset);
    if (f32.bytes < n * 4)
        return vkt_fail(err, VKT_ERR_ARG, "%s: %s view of %llu bytes is too small for %llu floats",
                        op, fname, (unsigned long long)f32.bytes, (unsigned long long)n);
    if (h16.bytes < (n + 1) / 2 * 4)
        return vkt_fail(err, VKT_ERR_ARG,
                        "%s: %s view of %llu bytes is too small for %llu %s values (%llu words)",
                        op, hname, (unsigned long long)h16.bytes, (unsigned long long)n,
                        vkt_dtype16_name(dt), (unsigned long long)((n + 1) / 2));
    // Chunks of whole words whose floats fit one binding, and whose count fits the push constant.
    uint64_t chunk = vkt_rows_per_binding(ctx, 8) * 2;
    if (chunk > 0x7ffffffeu) chunk = 0x7ffffffeu;
    if (chunk == 0)
        return vkt_fail(err, VKT_ERR_UNSUPPORTED, "%s: the device's bindings are too small", op);
    for (uint64_t first = 0; first < n; first += chunk)
        VKT_TRY(dispatch(ctx, dt, widen, f32, h16, first, n - first < chunk ? n - first : chunk));
    return VKT_OK;
}

vkt_status vkt_cast16(vkt_ctx *ctx, vkt_dtype16 dt, vkt_view src, vkt_view dst, uint64_t n) {
    return run(ctx, "cast16", dt, false, src, dst, n);
}

vkt_status vkt_widen16(vkt_ctx *ctx, vkt_dtype16 dt, vkt_view src, vkt_view dst, uint64_t n) {
    return run(ctx, "widen16", dt, true, dst, src, n);
}
