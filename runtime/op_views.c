// op_views.c: see op_views.h.
#include "op_views.h"

#include "context.h"

vkt_status vkt_view_need(vkt_ctx *ctx, const char *op, const char *name, vkt_view v,
                         uint64_t bytes) {
    vkt_error *err = vkt_ctx_err(ctx);
    if (!v.buf) return vkt_fail(err, VKT_ERR_ARG, "%s: %s view has no buffer", op, name);
    if (v.bytes < bytes)
        return vkt_fail(err, VKT_ERR_ARG,
                        "%s: %s view of %llu bytes is smaller than the %llu bytes it needs", op,
                        name, (unsigned long long)v.bytes, (unsigned long long)bytes);
    if (v.offset + v.bytes > vkt_buffer_bytes(v.buf))
        return vkt_fail(err, VKT_ERR_ARG,
                        "%s: %s view [%llu, +%llu) runs past its %llu-byte buffer", op, name,
                        (unsigned long long)v.offset, (unsigned long long)v.bytes,
                        (unsigned long long)vkt_buffer_bytes(v.buf));
    return VKT_OK;
}

vkt_view vkt_view_rows(vkt_view v, uint64_t first, uint64_t n, uint64_t stride, uint64_t width) {
    return vkt_view_f32(v, first * stride, n ? (n - 1) * stride + width : 0);
}

uint32_t vkt_pow2_floor(uint32_t x) {
    uint32_t p = 1;
    while (p <= x / 2) p *= 2;
    return p;
}
