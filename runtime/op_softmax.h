// op_softmax.h: row softmax with an optional causal mask, forward and backward, on the
// GPU (shaders/softmax.comp). Same contracts as vkt_ref_softmax_fwd/bwd (reference.h):
// in, out (R, L) row-major; causal: rows in blocks of L queries over L keys (R % L == 0),
// row r sees columns j <= r % L and masked outputs are written 0. Rows of any length
// (a 50257-token vocabulary) work; tensors larger than one binding are processed a
// range of rows at a time (one row must fit a binding).
#ifndef VKT_OP_SOFTMAX_H
#define VKT_OP_SOFTMAX_H

#include <stdbool.h>

#include "buffer.h"

// out = softmax(in) per row. out may be the same view as in.
vkt_status vkt_softmax_fwd(vkt_ctx *ctx, int R, int L, bool causal, vkt_view in, vkt_view out);
// din += out * (dout - sum_j dout[j] out[j]) per row (masked entries have out == 0).
vkt_status vkt_softmax_bwd(vkt_ctx *ctx, int R, int L, vkt_view dout, vkt_view out, vkt_view din);

#endif
