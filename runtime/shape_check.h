// shape_check.h: the shape and argument rules of every kernel, written once.
// Both the C references (reference.c) and the GPU wrappers (runtime ops) call these, so
// an op accepts and rejects exactly the same shapes on every path. They check sizes,
// strides, flags and scalar ranges only; pointers and buffer sizes are the caller's
// (use vkt_strided_extent for the elements a strided operand spans).
// Each returns VKT_OK or VKT_ERR_ARG with a message "op: NAME=value must be ..." in err.
#ifndef VKT_SHAPE_CHECK_H
#define VKT_SHAPE_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

// Elements spanned by `rows` rows of `width` elements placed `stride` apart:
// (rows - 1) * stride + width; 0 when rows or width is <= 0.
size_t vkt_strided_extent(int rows, int stride, int width);

// One size: value > 0. name is what the message calls it ("M", "C", ...).
vkt_status vkt_check_positive(const char *op, const char *name, long long value, vkt_error *err);
// A flat element count n > 0 (fill, scale, axpby, gelu, adamw, norms).
vkt_status vkt_check_count(const char *op, size_t n, vkt_error *err);
// A (N, C) operand: N > 0, C > 0 (bias_grad, add_row_vector, rmsnorm, layernorm...).
vkt_status vkt_check_rows(const char *op, int N, int C, vkt_error *err);
// Every ids[i] (i < n) in [0, limit): tokens, positions, targets held on the host.
vkt_status vkt_check_ids(const char *op, const char *name, size_t n, const int32_t *ids, int limit,
                         vkt_error *err);

// matmul: M, N, K > 0 (transA, transB: any value).
vkt_status vkt_check_matmul(bool transA, bool transB, int M, int N, int K, vkt_error *err);
// embedding: N, C, V > 0; Tmax > 0 when a position table is used.
vkt_status vkt_check_embedding(int N, int C, int V, int Tmax, bool has_wpe, vkt_error *err);
// layernorm / rmsnorm (op names which): N, C > 0, eps >= 0 and finite.
vkt_status vkt_check_norm(const char *op, int N, int C, double eps, vkt_error *err);
// swiglu: N, F > 0, every row stride >= F.
vkt_status vkt_check_swiglu(int N, int F, int gate_stride, int up_stride, int out_stride,
                            vkt_error *err);
// rope: B, T, H, D > 0, D even, row_stride >= H*D, theta > 0 and finite.
vkt_status vkt_check_rope(int B, int T, int H, int D, int row_stride, double theta, vkt_error *err);
// attention: B, T, H, KVH, D > 0, KVH divides H, q_stride >= H*D,
// k_stride and v_stride >= KVH*D, scale finite.
vkt_status vkt_check_attention(int B, int T, int H, int KVH, int D, double scale, int q_stride,
                               int k_stride, int v_stride, vkt_error *err);
// softmax: R, L > 0; causal needs R % L == 0 (blocks of L queries over L keys).
vkt_status vkt_check_softmax(int R, int L, bool causal, vkt_error *err);
// cross-entropy: N, V > 0, grad_scale finite.
vkt_status vkt_check_cross_entropy(int N, int V, double grad_scale, vkt_error *err);
// adamw: n > 0, t >= 1, 0 <= beta1 < 1, 0 <= beta2 < 1, eps >= 0, lr and wd finite.
vkt_status vkt_check_adamw(size_t n, double lr, double beta1, double beta2, double eps,
                           double weight_decay, int t, vkt_error *err);

#endif
