// op_views.h: helpers the op wrappers share for checking and slicing views (internal to
// runtime/ ops; callers never need them).
#ifndef VKT_OP_VIEWS_H
#define VKT_OP_VIEWS_H

#include <stdbool.h>
#include <stdint.h>

#include "buffer.h"

// VKT_OK when view has a buffer and holds at least `bytes` inside it; else VKT_ERR_ARG
// with "op: name view of B bytes is smaller than the X bytes it needs" (or "has no
// buffer") in the context's error.
vkt_status vkt_view_need(vkt_ctx *ctx, const char *op, const char *name, vkt_view v,
                         uint64_t bytes);
// Rows [first, first + n) of a row-major float matrix with `stride` floats between rows
// and rows `width` floats wide: the bytes they span ((n-1)*stride + width floats).
vkt_view vkt_view_rows(vkt_view v, uint64_t first, uint64_t n, uint64_t stride, uint64_t width);
// The largest power of two <= x (x >= 1).
uint32_t vkt_pow2_floor(uint32_t x);

#endif
