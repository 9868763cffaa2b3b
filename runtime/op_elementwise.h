// op_elementwise.h: fill, scale and axpby over float views of any length (split into
// binding-sized ranges when a view exceeds the device's binding limit).
#ifndef VKT_OP_ELEMENTWISE_H
#define VKT_OP_ELEMENTWISE_H

#include "buffer.h"

// y[i] = value for i < n
vkt_status vkt_fill(vkt_ctx *ctx, vkt_view y, uint64_t n, float value);
// y[i] *= a
vkt_status vkt_scale(vkt_ctx *ctx, vkt_view y, uint64_t n, float a);
// y[i] = a*x[i] + b*y[i]  (x and y may be the same view; b == 0 never reads y)
vkt_status vkt_axpby(vkt_ctx *ctx, float a, vkt_view x, float b, vkt_view y, uint64_t n);

#endif
