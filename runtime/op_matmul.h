// op_matmul.h: matrix products on the device, and the bias gradient. What they compute
// is vkt_ref_matmul / vkt_ref_bias_grad in reference.h (same shapes, same conventions,
// same validation through shape_check.h). Views may sit at any float offset and may be
// larger than one binding: the op splits them into ranges itself.
#ifndef VKT_OP_MATMUL_H
#define VKT_OP_MATMUL_H

#include <stdbool.h>

#include "buffer.h"
#include "half.h"
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

// The same product with B holding 16-bit values (dt: VKT_BF16 or VKT_F16), widened to fp32
// in the kernel; A, C, bias and the accumulation stay fp32. What it computes is
// vkt_ref_matmul_w16. B's view counts bytes as every view does; its elements are packed
// two to a 32-bit word (element e is the low half of word e/2 when e is even, as in a
// safetensors file), so B's offset must be a multiple of 4 bytes (VKT_ERR_ARG otherwise).
// transA must be false (VKT_ERR_UNSUPPORTED). The model's two uses, W (OUT, IN) 16-bit:
//   y = x W^T + b : vkt_matmul_w16(ctx, dt, false, true, M, OUT, IN, 1, x, W, 0, y, b)
//   dx += dy W    : vkt_matmul_w16(ctx, dt, false, false, M, IN, OUT, 1, dy, W, 1, dx, none)
vkt_status vkt_matmul_w16(vkt_ctx *ctx, vkt_dtype16 dt, bool transA, bool transB, int M, int N, int K,
                          float alpha, vkt_view A, vkt_view B, float beta, vkt_view C, vkt_view bias);
vkt_status vkt_matmul_w16_on_path(vkt_ctx *ctx, vkt_matmul_path path, vkt_dtype16 dt, bool transA,
                                  bool transB, int M, int N, int K, float alpha, vkt_view A, vkt_view B,
                                  float beta, vkt_view C, vkt_view bias);

// dbias (N) += sum over m of dC (M, N). Deterministic: the same bits on every run.
vkt_status vkt_bias_grad(vkt_ctx *ctx, int M, int N, vkt_view dC, vkt_view dbias);

#endif
