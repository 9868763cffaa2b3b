// op_activation.h: the MLP activations and the steering edit, forward and backward.
// Shapes and conventions are those of vkt_ref_gelu_*, vkt_ref_swiglu_* and
// vkt_ref_add_row_vector in reference.h: row-major, backward ACCUMULATES (+=).
// Views larger than one binding are processed in ranges.
#ifndef VKT_OP_ACTIVATION_H
#define VKT_OP_ACTIVATION_H

#include "buffer.h"

// GELU, tanh approximation (GPT-2), over n floats: out = gelu(in). out may alias in.
vkt_status vkt_gelu_fwd(vkt_ctx *ctx, uint64_t n, vkt_view in, vkt_view out);
// din += dout * gelu'(in).
vkt_status vkt_gelu_bwd(vkt_ctx *ctx, uint64_t n, vkt_view in, vkt_view dout, vkt_view din);

// SwiGLU: out (N, F) = silu(gate) * up. Each operand has its own row stride (elements,
// >= F); a view starts at the operand's element (0, 0), so gate and up may be the two
// halves of one (N, 2F) buffer: gate = view at 0, up = view at F floats, strides 2F.
vkt_status vkt_swiglu_fwd(vkt_ctx *ctx, int N, int F, vkt_view gate, int gate_stride, vkt_view up,
                          int up_stride, vkt_view out, int out_stride);
// dgate +=, dup += (with the strides of gate and up: a fused (N, 2F) gradient works),
// from dout (stride out_stride).
vkt_status vkt_swiglu_bwd(vkt_ctx *ctx, int N, int F, vkt_view dout, int out_stride, vkt_view gate,
                          int gate_stride, vkt_view up, int up_stride, vkt_view dgate,
                          vkt_view dup);

// Steering edit: h (N, C) += s * v (C) on every row.
vkt_status vkt_add_row_vector(vkt_ctx *ctx, int N, int C, float s, vkt_view v, vkt_view h);

#endif
