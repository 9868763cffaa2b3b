// op_matmul.h: matrix products on the device, and the bias gradient. What they compute
// is vkt_ref_matmul / vkt_ref_bias_grad in reference.h (same shapes, same conventions,
// same validation through shape_check.h). Views may sit at any float offset and may be
// larger than one binding: the op splits them into ranges itself.
#ifndef VKT_OP_MATMUL_H
#define VKT_OP_MATMUL_H

#include <stdbool.h>

#include "buffer.h"
#include "profile.h"

// C (M, N) = alpha * op(A) * op(B) + beta * C + bias.
//   A: (M, K) floats if !transA, else (K, M).  B: (K, N) if !transB, else (N, K).
//   C: (M, N). bias: (N) floats, or a view with buf == NULL for none; added as-is,
//   after alpha. beta == 0: C is write-only (its old contents are never read).
//   The linear layer y = x W^T + b, W (OUT, IN): vkt_matmul(ctx, false, true, M, OUT, IN,
//   1, x, W, 0, y, b); its backward products are listed beside vkt_ref_matmul.
// The kernel family follows the device profile (p->matmul_path).
vkt_status vkt_matmul(vkt_ctx *ctx, bool transA, bool transB, int M, int N, int K, float alpha,
                      vkt_view A, vkt_view B, float beta, vkt_view C, vkt_view bias);

// The same on a chosen kernel family, whatever the device: for tests and benchmarks
// (both paths run, more or less fast, on every device).
vkt_status vkt_matmul_on_path(vkt_ctx *ctx, vkt_matmul_path path, bool transA, bool transB, int M,
                              int N, int K, float alpha, vkt_view A, vkt_view B, float beta,
                              vkt_view C, vkt_view bias);

// dbias (N) += sum over m of dC (M, N). Deterministic: the same bits on every run.
vkt_status vkt_bias_grad(vkt_ctx *ctx, int M, int N, vkt_view dC, vkt_view dbias);

#endif
