// reference.h: plain, obviously-correct C for every op of the fp32 kernel library.
// These functions are the documentation of what each op computes: the GPU shaders are
// tested against them, and the C reference model is built from them.
//
// Conventions, for every function here:
// - All arrays are row-major; shapes are given in the comments, e.g. `in (N, C)`.
// - Every function validates its input first (shared rules in shape_check.h: sizes > 0,
//   no NULL pointers, flags and indices in range) and on error returns a vkt_status, fills
//   err (may be NULL) and writes NOTHING.
// - Backward functions ACCUMULATE (+=) into their gradient outputs, like llm.c, so callers
//   zero gradients first. Exceptions are named: vkt_ref_rope_bwd(_freq) (rotate in place) and
//   vkt_ref_cross_entropy (writes dlogits).
// - Each op comes in float (what GPU tests compare against) and double (suffix _f64, used
//   for finite-difference checks), compiled from one source (reference_impl.h). The float
//   versions accumulate sums (over K, C, L, V, T) in double, so they are trustworthy.
// - Sizes are `int` for shapes and `size_t` for flat element counts; strides are counted
//   in elements, never bytes.
// - Unless a comment says "may alias", inputs and outputs must not overlap.
#ifndef VKT_REFERENCE_H
#define VKT_REFERENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "half.h"
#include "status.h"

// ---------------------------------------------------------------------------------
// matmul: C (M, N) = alpha * op(A) * op(B) + beta * C + bias (broadcast over rows).
//   op(A) is (M, K): A is stored (M, K) if !transA, else (K, M).
//   op(B) is (K, N): B is stored (K, N) if !transB, else (N, K).
//   bias (N) or NULL; added as-is after the alpha product (not scaled by alpha).
//   beta == 0: C is write-only (its old contents, NaN included, are never read).
// A linear layer y = x W^T + b with W stored (OUT, IN) as in torch.nn.Linear is
//   matmul(false, true, M, OUT, IN, 1, x, W, 0, y, b); its backward is
//   dx += dy W   : matmul(false, false, M, IN, OUT, 1, dy, W, 1, dx, NULL)
//   dW += dy^T x : matmul(true, false, OUT, IN, M, 1, dy, x, 1, dW, NULL)
//   db += colsum : bias_grad(M, OUT, dy, db)
// It is a plain triple loop, far slower than the kernels: for a product of
// several thousand per side, compare a slice of rows (with !transA: the first rows of A
// and C, a smaller M).
vkt_status vkt_ref_matmul(bool transA, bool transB, int M, int N, int K, float alpha,
                          const float *A, const float *B, float beta, float *C, const float *bias,
                          vkt_error *err);
// The same with B holding 16-bit values (dt: VKT_BF16 or VKT_F16, one uint16_t per
// element, same layout as B above), each widened exactly to fp32; A, C, bias and the
// sums are as in vkt_ref_matmul. The device kernel is vkt_matmul_w16 (op_matmul.h).
vkt_status vkt_ref_matmul_w16(vkt_dtype16 dt, bool transA, bool transB, int M, int N, int K,
                              float alpha, const float *A, const uint16_t *B, float beta, float *C,
                              const float *bias, vkt_error *err);
// The same with either operand or both in 16 bits (a16, b16: which ones hold dt values,
// one uint16_t per element, same layouts as above; the others are float): A is a
// `const uint16_t *` when a16, else a `const float *`, and B likewise. Mixed-precision
// training's three products of a linear layer, x16 (M, IN) and W16 (OUT, IN) in 16 bits:
//   y = x16 W16^T  : matmul16(dt, 1, 1, false, true, M, OUT, IN, 1, x16, W16, 0, y, b)
//   dx = dy W16    : matmul16(dt, 0, 1, false, false, M, IN, OUT, 1, dy, W16, 1, dx, NULL)
//   dW += dy^T x16 : matmul16(dt, 0, 1, true, false, OUT, IN, M, 1, dy, x16, 1, dW, NULL)
// The device kernel is vkt_matmul16 (op_matmul.h), which accepts fewer combinations.
vkt_status vkt_ref_matmul16(vkt_dtype16 dt, bool a16, bool b16, bool transA, bool transB, int M,
                            int N, int K, float alpha, const void *A, const void *B, float beta,
                            float *C, const float *bias, vkt_error *err);
// dst (n) = src (n floats) rounded to dt by vkt_f32_to_half (half.h): nearest even, NaN
// kept (quiet), overflow to infinity. The device op is vkt_cast16 (op_cast.h).
vkt_status vkt_ref_cast16(vkt_dtype16 dt, size_t n, const float *src, uint16_t *dst,
                          vkt_error *err);
// dst (n floats) = src (n dt values) widened exactly (vkt_widen16 on the device).
vkt_status vkt_ref_widen16(vkt_dtype16 dt, size_t n, const uint16_t *src, float *dst,
                           vkt_error *err);
// dbias (N) += sum over m of dC (M, N).
vkt_status vkt_ref_bias_grad(int M, int N, const float *dC, float *dbias, vkt_error *err);
// The linear layer above as two calls: in (M, IN), W (OUT, IN), bias (OUT) or NULL,
// out (M, OUT). Backward: din (M, IN) +=, dW (OUT, IN) +=, dbias (OUT) += (NULL when the
// layer has no bias).
vkt_status vkt_ref_linear_fwd(int M, int IN, int OUT, const float *in, const float *W,
                              const float *bias, float *out, vkt_error *err);
vkt_status vkt_ref_linear_bwd(int M, int IN, int OUT, const float *dout, const float *in,
                              const float *W, float *din, float *dW, float *dbias, vkt_error *err);

// ---------------------------------------------------------------------------------
// embedding: out[i] (C) = wte[tok[i]] + (wpe ? wpe[pos[i]] : 0), i < N.
//   tok (N) int32 in [0, V); wte (V, C); out (N, C).
//   wpe (Tmax, C) or NULL (RoPE models); pos (N) int32 in [0, Tmax), ignored (may be NULL)
//   when wpe is NULL. Positions are an explicit array, so offsets (KV-cache generation)
//   and padding work; for plain training pos[i] = i % T.
vkt_status vkt_ref_embedding_fwd(int N, int C, int V, int Tmax, const int32_t *tok,
                                 const int32_t *pos, const float *wte, const float *wpe, float *out,
                                 vkt_error *err);
// dwte[tok[i]] += dout[i]; dwpe[pos[i]] += dout[i] (when dwpe != NULL); dout (N, C).
// Deterministic: rows are added in increasing i, one after the other.
vkt_status vkt_ref_embedding_bwd(int N, int C, int V, int Tmax, const int32_t *tok,
                                 const int32_t *pos, const float *dout, float *dwte, float *dwpe,
                                 vkt_error *err);

// ---------------------------------------------------------------------------------
// layernorm over the last axis (torch.nn.LayerNorm: biased variance, eps inside sqrt):
//   in (N, C), w (C), b (C) -> out (N, C); saves mean (N) and rstd (N) = 1/sqrt(var + eps).
//   out may alias in.
vkt_status vkt_ref_layernorm_fwd(int N, int C, float eps, const float *in, const float *w,
                                 const float *b, float *out, float *mean, float *rstd,
                                 vkt_error *err);
// din (N, C) +=, dw (C) +=, db (C) +=, from dout (N, C) and what the forward saved.
vkt_status vkt_ref_layernorm_bwd(int N, int C, const float *dout, const float *in, const float *w,
                                 const float *mean, const float *rstd, float *din, float *dw,
                                 float *db, vkt_error *err);

// rmsnorm (Hugging Face LlamaRMSNorm): out = in * rstd * w, rstd = 1/sqrt(mean(in^2) + eps).
//   in (N, C), w (C) -> out (N, C), rstd (N). out may alias in.
vkt_status vkt_ref_rmsnorm_fwd(int N, int C, float eps, const float *in, const float *w, float *out,
                               float *rstd, vkt_error *err);
// din (N, C) +=, dw (C) +=.
vkt_status vkt_ref_rmsnorm_bwd(int N, int C, const float *dout, const float *in, const float *w,
                               const float *rstd, float *din, float *dw, vkt_error *err);

// ---------------------------------------------------------------------------------
// GELU, tanh approximation (GPT-2, torch approximate="tanh"), elementwise over n:
//   out = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). out may alias in.
vkt_status vkt_ref_gelu_fwd(size_t n, const float *in, float *out, vkt_error *err);
// din += dout * gelu'(in).
vkt_status vkt_ref_gelu_bwd(size_t n, const float *in, const float *dout, float *din,
                            vkt_error *err);

// SwiGLU (Llama MLP): out (N, F) = silu(gate) * up, silu(x) = x * sigmoid(x).
//   Each matrix has its own row stride (elements between rows, >= F), so gate and up may
//   be the two halves of one (N, 2F) buffer: gate = buf, up = buf + F, strides 2F.
//   Element (n, f) of gate is gate[n * gate_stride + f]; likewise up and out.
vkt_status vkt_ref_swiglu_fwd(int N, int F, const float *gate, int gate_stride, const float *up,
                              int up_stride, float *out, int out_stride, vkt_error *err);
// dgate +=, dup += (with the strides of gate and up, so a fused (N, 2F) gradient buffer
// works), from dout (stride out_stride).
vkt_status vkt_ref_swiglu_bwd(int N, int F, const float *dout, int out_stride, const float *gate,
                              int gate_stride, const float *up, int up_stride, float *dgate,
                              float *dup, vkt_error *err);

// ---------------------------------------------------------------------------------
// RoPE, Hugging Face convention (rotate_half, NOT interleaved), IN PLACE:
//   x (B, T, H, D): element (b, t, h, d) is x[(b*T + t) * row_stride + h*D + d];
//   row_stride >= H*D lets it act on q or k inside a fused qkv buffer. D must be even.
//   pos (B*T) int32 >= 0: position of row (b, t). inv_freq[i] = theta^(-2i/D), i < D/2.
//   For each pair (x1, x2) = (x[i], x[i + D/2]) with angle a = pos * inv_freq[i]:
//   x1' = x1 cos a - x2 sin a,  x2' = x2 cos a + x1 sin a.
//   (The float version computes angles, cos and sin in double; an fp32 kernel's angle
//   error grows with pos, so GPU tests need a tolerance that allows for it.)
vkt_status vkt_ref_rope_fwd(int B, int T, int H, int D, int row_stride, const int32_t *pos,
                            float theta, float *x, vkt_error *err);
// Backward, also IN PLACE on dx (same layout): rotation by -a, the transpose of the
// forward. It does not accumulate: it maps the gradient w.r.t. the output to the
// gradient w.r.t. the input.
vkt_status vkt_ref_rope_bwd(int B, int T, int H, int D, int row_stride, const int32_t *pos,
                            float theta, float *dx, vkt_error *err);
// The same with the frequencies given: inv_freq (D/2) doubles, finite (plain, linear or
// llama3 scaled: vkt_rope_inv_freq in rope_freq.h). Angles pos * inv_freq[i] in double.
vkt_status vkt_ref_rope_fwd_freq(int B, int T, int H, int D, int row_stride, const int32_t *pos,
                                 const double *inv_freq, float *x, vkt_error *err);
vkt_status vkt_ref_rope_bwd_freq(int B, int T, int H, int D, int row_stride, const int32_t *pos,
                                 const double *inv_freq, float *dx, vkt_error *err);

// ---------------------------------------------------------------------------------
// Causal multi-head attention with grouped-query heads.
//   q (B, T, H, D) with row stride q_stride (>= H*D); k, v (B, T, KVH, D) with row strides
//   k_stride, v_stride (>= KVH*D). Element (b, t, h, d) of q is
//   q[(b*T + t) * q_stride + h*D + d]. Fused GPT-2 qkv (B, T, 3C): q = qkv, k = qkv + C,
//   v = qkv + 2C, all strides 3C. KVH divides H; query head h reads kv head h / (H/KVH).
//   s[t][j] = scale * q[b,t,h] . k[b,j,h/(H/KVH)] for j <= t (causal), usually
//   scale = 1/sqrt(D); p = softmax_j(s); out[b,t,h] = sum_j p[t][j] v[b,j,kvh].
//   out (B, T, H, D), row stride H*D. lse (B, H, T) = log sum_j exp(s[t][j]), natural log.
vkt_status vkt_ref_attention_fwd(int B, int T, int H, int KVH, int D, float scale, const float *q,
                                 int q_stride, const float *k, int k_stride, const float *v,
                                 int v_stride, float *out, float *lse, vkt_error *err);
// dq +=, dk +=, dv += (each with the stride of its input, so a fused dqkv buffer works),
// from dout (B, T, H, D) and the forward's out and lse:
//   p = exp(s - lse), dv += p^T dout, dp = dout v^T, delta[t] = dout[t] . out[t],
//   ds = p * (dp - delta), dq += scale ds k, dk += scale ds^T q.
vkt_status vkt_ref_attention_bwd(int B, int T, int H, int KVH, int D, float scale,
                                 const float *dout, const float *q, int q_stride, const float *k,
                                 int k_stride, const float *v, int v_stride, const float *out,
                                 const float *lse, float *dq, float *dk, float *dv, vkt_error *err);

// ---------------------------------------------------------------------------------
// Row softmax: in (R, L) -> out (R, L), out[r] = softmax(in[r]).
//   causal: rows come in blocks of L queries over L keys (R % L == 0); row r sees columns
//   j <= r % L, and masked entries of out are written as 0. out may alias in.
vkt_status vkt_ref_softmax_fwd(int R, int L, bool causal, const float *in, float *out,
                               vkt_error *err);
// din (R, L) += out * (dout - sum_j dout[j] out[j]). Masked entries have out == 0, so
// the same formula serves the causal case.
vkt_status vkt_ref_softmax_bwd(int R, int L, const float *dout, const float *out, float *din,
                               vkt_error *err);

// ---------------------------------------------------------------------------------
// Fused classifier: softmax + weighted cross-entropy + its gradient, one pass per row.
//   logits (N, V), targets (N) int32, weights (N) -> loss (N):
//   loss[i] = weights[i] * (lse[i] - logits[i][targets[i]]), lse[i] = log sum_j exp(logits[i][j]).
//   dlogits (N, V) = grad_scale * weights[i] * (softmax(logits[i]) - onehot(targets[i])),
//   WRITTEN, not accumulated; it may alias logits (in place); NULL = forward only.
//   lse (N) or NULL (written for every row, masked ones too). weights[i] == 0 masks row i: loss 0,
//   dlogits row 0, target ignored (any value, e.g. -1 for padding). A signed weight is a
//   policy-gradient loss. A target outside [0, V) in a row with weight != 0 is an error
//   (VKT_ERR_ARG).
vkt_status vkt_ref_cross_entropy(int N, int V, const float *logits, const int32_t *targets,
                                 const float *weights, float grad_scale, float *loss,
                                 float *dlogits, float *lse, vkt_error *err);
// With an entropy bonus per row: coef (N) or NULL (all 0); H[i] = -sum_j p_j log p_j of
// softmax(logits[i]).
//   loss[i] = weights[i] (lse[i] - logits[i][targets[i]]) - coef[i] H[i]
//   dlogits[i][j] = grad_scale (weights[i] (p_j - onehot_j) + coef[i] p_j (log p_j + H[i]))
//   (dH/dz_j = -p_j (log p_j + H)). ent (N) or NULL: H[i] where coef[i] != 0, else 0 (the
//   kernel skips the entropy of those rows). A row is masked only when weight and coef are
//   both 0; a row of weight 0 and coef != 0 ignores its target. coef must be finite.
vkt_status vkt_ref_cross_entropy_ent(int N, int V, const float *logits, const int32_t *targets,
                                     const float *weights, const float *coef, float grad_scale,
                                     float *loss, float *dlogits, float *lse, float *ent,
                                     vkt_error *err);

// ---------------------------------------------------------------------------------
// AdamW, exactly torch.optim.AdamW's order (decoupled weight decay, bias correction):
//   g = grad * grad_scale; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
//   p = p * (1 - lr wd); p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps).
//   param, grad, m, v (n); t is the 1-based step (>= 1); 0 <= b1, b2 < 1.
vkt_status vkt_ref_adamw(size_t n, float *param, const float *grad, float *m, float *v, float lr,
                         float beta1, float beta2, float eps, float weight_decay, float grad_scale,
                         int t, vkt_error *err);

// Global gradient norm: *norm = sqrt(sum g^2), accumulated in double. For several
// tensors, add vkt_ref_sum_squares of each and take sqrt once.
vkt_status vkt_ref_sum_squares(size_t n, const float *g, double *sum, vkt_error *err);
vkt_status vkt_ref_grad_norm(size_t n, const float *g, double *norm, vkt_error *err);
// torch.nn.utils.clip_grad_norm_: factor = min(1, max_norm / (norm + 1e-6)); multiply the
// gradients (or AdamW's grad_scale) by it. norm >= 0, max_norm > 0.
vkt_status vkt_ref_clip_factor(double norm, double max_norm, double *factor, vkt_error *err);

// ---------------------------------------------------------------------------------
// Elementwise helpers over n elements.
vkt_status vkt_ref_fill(size_t n, float value, float *x, vkt_error *err); // x = value
vkt_status vkt_ref_scale(size_t n, float a, float *x, vkt_error *err);    // x *= a
// y = a x + b y ("add" is a = b = 1). b == 0: y is write-only. x may alias y.
vkt_status vkt_ref_axpby(size_t n, float a, const float *x, float b, float *y, vkt_error *err);
// Activation edit for steering: h (N, C) += s * v (C) on every row.
vkt_status vkt_ref_add_row_vector(int N, int C, float s, const float *v, float *h, vkt_error *err);

// ---------------------------------------------------------------------------------
// The same ops in double precision (same contracts; for finite-difference checks).
vkt_status vkt_ref_matmul_f64(bool transA, bool transB, int M, int N, int K, double alpha,
                              const double *A, const double *B, double beta, double *C,
                              const double *bias, vkt_error *err);
vkt_status vkt_ref_bias_grad_f64(int M, int N, const double *dC, double *dbias, vkt_error *err);
vkt_status vkt_ref_linear_fwd_f64(int M, int IN, int OUT, const double *in, const double *W,
                                  const double *bias, double *out, vkt_error *err);
vkt_status vkt_ref_linear_bwd_f64(int M, int IN, int OUT, const double *dout, const double *in,
                                  const double *W, double *din, double *dW, double *dbias,
                                  vkt_error *err);
vkt_status vkt_ref_embedding_fwd_f64(int N, int C, int V, int Tmax, const int32_t *tok,
                                     const int32_t *pos, const double *wte, const double *wpe,
                                     double *out, vkt_error *err);
vkt_status vkt_ref_embedding_bwd_f64(int N, int C, int V, int Tmax, const int32_t *tok,
                                     const int32_t *pos, const double *dout, double *dwte,
                                     double *dwpe, vkt_error *err);
vkt_status vkt_ref_layernorm_fwd_f64(int N, int C, double eps, const double *in, const double *w,
                                     const double *b, double *out, double *mean, double *rstd,
                                     vkt_error *err);
vkt_status vkt_ref_layernorm_bwd_f64(int N, int C, const double *dout, const double *in,
                                     const double *w, const double *mean, const double *rstd,
                                     double *din, double *dw, double *db, vkt_error *err);
vkt_status vkt_ref_rmsnorm_fwd_f64(int N, int C, double eps, const double *in, const double *w,
                                   double *out, double *rstd, vkt_error *err);
vkt_status vkt_ref_rmsnorm_bwd_f64(int N, int C, const double *dout, const double *in,
                                   const double *w, const double *rstd, double *din, double *dw,
                                   vkt_error *err);
vkt_status vkt_ref_gelu_fwd_f64(size_t n, const double *in, double *out, vkt_error *err);
vkt_status vkt_ref_gelu_bwd_f64(size_t n, const double *in, const double *dout, double *din,
                                vkt_error *err);
vkt_status vkt_ref_swiglu_fwd_f64(int N, int F, const double *gate, int gate_stride,
                                  const double *up, int up_stride, double *out, int out_stride,
                                  vkt_error *err);
vkt_status vkt_ref_swiglu_bwd_f64(int N, int F, const double *dout, int out_stride,
                                  const double *gate, int gate_stride, const double *up,
                                  int up_stride, double *dgate, double *dup, vkt_error *err);
vkt_status vkt_ref_rope_fwd_f64(int B, int T, int H, int D, int row_stride, const int32_t *pos,
                                double theta, double *x, vkt_error *err);
vkt_status vkt_ref_rope_bwd_f64(int B, int T, int H, int D, int row_stride, const int32_t *pos,
                                double theta, double *dx, vkt_error *err);
vkt_status vkt_ref_rope_fwd_freq_f64(int B, int T, int H, int D, int row_stride, const int32_t *pos,
                                     const double *inv_freq, double *x, vkt_error *err);
vkt_status vkt_ref_rope_bwd_freq_f64(int B, int T, int H, int D, int row_stride, const int32_t *pos,
                                     const double *inv_freq, double *dx, vkt_error *err);
vkt_status vkt_ref_attention_fwd_f64(int B, int T, int H, int KVH, int D, double scale,
                                     const double *q, int q_stride, const double *k, int k_stride,
                                     const double *v, int v_stride, double *out, double *lse,
                                     vkt_error *err);
vkt_status vkt_ref_attention_bwd_f64(int B, int T, int H, int KVH, int D, double scale,
                                     const double *dout, const double *q, int q_stride,
                                     const double *k, int k_stride, const double *v, int v_stride,
                                     const double *out, const double *lse, double *dq, double *dk,
                                     double *dv, vkt_error *err);
vkt_status vkt_ref_softmax_fwd_f64(int R, int L, bool causal, const double *in, double *out,
                                   vkt_error *err);
vkt_status vkt_ref_softmax_bwd_f64(int R, int L, const double *dout, const double *out, double *din,
                                   vkt_error *err);
vkt_status vkt_ref_cross_entropy_f64(int N, int V, const double *logits, const int32_t *targets,
                                     const double *weights, double grad_scale, double *loss,
                                     double *dlogits, double *lse, vkt_error *err);
vkt_status vkt_ref_cross_entropy_ent_f64(int N, int V, const double *logits, const int32_t *targets,
                                         const double *weights, const double *coef,
                                         double grad_scale, double *loss, double *dlogits,
                                         double *lse, double *ent, vkt_error *err);
vkt_status vkt_ref_adamw_f64(size_t n, double *param, const double *grad, double *m, double *v,
                             double lr, double beta1, double beta2, double eps, double weight_decay,
                             double grad_scale, int t, vkt_error *err);
vkt_status vkt_ref_sum_squares_f64(size_t n, const double *g, double *sum, vkt_error *err);
vkt_status vkt_ref_grad_norm_f64(size_t n, const double *g, double *norm, vkt_error *err);
vkt_status vkt_ref_fill_f64(size_t n, double value, double *x, vkt_error *err);
vkt_status vkt_ref_scale_f64(size_t n, double a, double *x, vkt_error *err);
vkt_status vkt_ref_axpby_f64(size_t n, double a, const double *x, double b, double *y,
                             vkt_error *err);
vkt_status vkt_ref_add_row_vector_f64(int N, int C, double s, const double *v, double *h,
                                      vkt_error *err);

#endif
