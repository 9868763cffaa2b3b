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
// The kernel family follows the device profile (p->matmul_path: texel on CPU devices,
// gpu-tiled on GPUs; VKT_MATMUL=texel|tiled|gpu|splitk forces one, see profile.c).
vkt_status vkt_matmul(vkt_ctx *ctx, bool transA, bool transB, int M, int N, int K, float alpha,
                      vkt_view A, vkt_view B, float beta, vkt_view C, vkt_view bias);

// The same on a chosen kernel family, whatever the device: for tests and benchmarks
// (both paths run, more or less fast, on every device).
vkt_status vkt_matmul_on_path(vkt_ctx *ctx, vkt_matmul_path path, bool transA, bool transB, int M,
                              int N, int K, float alpha, vkt_view A, vkt_view B, float beta,
                              vkt_view C, vkt_view bias);

// Deterministic split-k on the GPU path, for products whose K is large and whose M x N
// gives too few workgroups (weight gradients: K is the token count). The k-range is cut into
// S layers whose raw sums go to `scratch` (S*M*N floats, a caller-owned buffer: the op
// allocates nothing), then a second dispatch adds the layers in a fixed order and applies
// alpha, beta and bias: the same bits on every run. Same contract as vkt_matmul.
//   splits 0: the profile's choice; on a device whose path is not VKT_MATMUL_GPU_TILED, or
//     where the shape fills the device, or the scratch is too small, this is plain vkt_matmul
//     (fewer layers where the scratch holds fewer). VKT_MATMUL=splitk splits whenever K allows.
//   splits n >= 1: the GPU kernel with n layers (fewer when K has fewer k-slices) on any
//     device, for tests and benchmarks; VKT_ERR_ARG when the scratch is too small.
// Products too large for one binding are split into chunks without split-k.
vkt_status vkt_matmul_splitk(vkt_ctx *ctx, int splits, bool transA, bool transB, int M, int N,
                             int K, float alpha, vkt_view A, vkt_view B, float beta, vkt_view C,
                             vkt_view bias, vkt_view scratch);
// Floats of scratch vkt_matmul_splitk(ctx, splits, ...) uses at this shape (0: it will not split).
uint64_t vkt_matmul_splitk_scratch_floats(const vkt_ctx *ctx, int M, int N, int K, int splits);

// The same product with 16-bit operands (mixed precision): a16 / b16 say which of A and B
// hold values of type dt (VKT_BF16 or VKT_F16), widened exactly to fp32 in the kernel; C,
// bias and the accumulation stay fp32. What it computes is vkt_ref_matmul16. Accepted on
// every path (texel, tiled, gpu), any transA / transB:
//   b16 alone;  a16 and b16;  neither: plain vkt_matmul.
//   a16 without b16: VKT_ERR_UNSUPPORTED.
// A 16-bit operand's view counts bytes as every view does; its elements are packed two to a
// 32-bit word over the whole tensor (element e of the row-major matrix is the low half of
// word e/2 when e is even, as in a safetensors file and as vkt_cast16 writes them), so a row
// of odd length is allowed and the next row starts mid-word. The view's offset must be a
// multiple of 4 bytes (VKT_ERR_ARG otherwise). Same contract as vkt_matmul otherwise (views
// split across bindings, beta == 0 write-only). The linear layer's products in mixed
// precision, x16 (M, IN) and W16 (OUT, IN) 16-bit, dy (M, OUT) and dW fp32:
//   y   = x16 W16^T + b : vkt_matmul16(ctx, dt, 1, 1, false, true, M, OUT, IN, 1, x16, W16, 0,
//                                      y, b)
//   dx  = dy W16        : vkt_matmul16(ctx, dt, 0, 1, false, false, M, IN, OUT, 1, dy, W16, 0,
//                                      dx, none)
//   dW += dy^T x16      : vkt_matmul16(ctx, dt, 0, 1, true, false, OUT, IN, M, 1, dy, x16, 1,
//                                      dW, none)
// and with the output gradient in 16 bits too, dy16 (M, OUT), the weight gradients of a
// Linear (W (OUT, IN)) and of a Conv1D (W (IN, OUT)):
//   dW += dy16^T x16    : vkt_matmul16(ctx, dt, 1, 1, true, false, OUT, IN, M, 1, dy16, x16, 1,
//                                      dW, none)
//   dW += x16^T dy16    : vkt_matmul16(ctx, dt, 1, 1, true, false, IN, OUT, M, 1, x16, dy16, 1,
//                                      dW, none)
vkt_status vkt_matmul16(vkt_ctx *ctx, vkt_dtype16 dt, bool a16, bool b16, bool transA, bool transB,
                        int M, int N, int K, float alpha, vkt_view A, vkt_view B, float beta,
                        vkt_view C, vkt_view bias);
vkt_status vkt_matmul16_on_path(vkt_ctx *ctx, vkt_matmul_path path, vkt_dtype16 dt, bool a16,
                                bool b16, bool transA, bool transB, int M, int N, int K,
                                float alpha, vkt_view A, vkt_view B, float beta, vkt_view C,
                                vkt_view bias);

// Split-k for 16-bit operands: vkt_matmul_splitk's contract (splits 0 or n, scratch of fp32
// layers, fixed reduction order, plain vkt_matmul16 where splits 0 does not split, as on a CPU
// device's texel path), operands and messages as vkt_matmul16 (neither operand 16-bit:
// vkt_matmul_splitk). The scratch size is vkt_matmul_splitk_scratch_floats at
// the same M, N, K and splits: the layers hold fp32 sums whatever the operands. For the weight
// gradients of mixed precision, e.g. a Linear's dW += dy16^T x16:
//   vkt_matmul16_splitk(ctx, 0, dt, 1, 1, true, false, OUT, IN, M, 1, dy16, x16, 1, dW, none,
//                       scratch)
vkt_status vkt_matmul16_splitk(vkt_ctx *ctx, int splits, vkt_dtype16 dt, bool a16, bool b16,
                               bool transA, bool transB, int M, int N, int K, float alpha,
                               vkt_view A, vkt_view B, float beta, vkt_view C, vkt_view bias,
                               vkt_view scratch);

// B alone in 16 bits, transA false (VKT_ERR_UNSUPPORTED otherwise): vkt_matmul16 with
// a16 0, b16 1, its messages naming matmul_w16. What it computes is vkt_ref_matmul_w16.
// The model's two uses, W (OUT, IN) 16-bit:
//   y = x W^T + b : vkt_matmul_w16(ctx, dt, false, true, M, OUT, IN, 1, x, W, 0, y, b)
//   dx += dy W    : vkt_matmul_w16(ctx, dt, false, false, M, IN, OUT, 1, dy, W, 1, dx, none)
vkt_status vkt_matmul_w16(vkt_ctx *ctx, vkt_dtype16 dt, bool transA, bool transB, int M, int N,
                          int K, float alpha, vkt_view A, vkt_view B, float beta, vkt_view C,
                          vkt_view bias);
vkt_status vkt_matmul_w16_on_path(vkt_ctx *ctx, vkt_matmul_path path, vkt_dtype16 dt, bool transA,
                                  bool transB, int M, int N, int K, float alpha, vkt_view A,
                                  vkt_view B, float beta, vkt_view C, vkt_view bias);

// dbias (N) += sum over m of dC (M, N). Deterministic: the same bits on every run.
vkt_status vkt_bias_grad(vkt_ctx *ctx, int M, int N, vkt_view dC, vkt_view dbias);

#endif
