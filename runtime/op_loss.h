// op_loss.h: the fused classifier: softmax + weighted cross-entropy + dlogits in one
// kernel (shaders/cross_entropy.comp; reference: vkt_ref_cross_entropy).
//
// Targets and weights live on the host (the data loader or the RL rollout makes them),
// so the op takes them in two steps:
//   1. vkt_cross_entropy_stage() validates them on the host (a target outside [0, V) in
//      a row with weight != 0 is an error; nothing is uploaded then) and uploads them
//      into a device view `tw` of 8N bytes: N int32 targets, then N float weights.
//      Uploading waits for the device (vkt_upload syncs), so call it at the start of a
//      step, before recording the forward pass.
//   2. vkt_cross_entropy() records the kernel reading `tw`.
// Splitting the upload from the kernel keeps the step free of mid-step stalls, and the
// kernel never reads out of its row even if `tw` was written by something else (a bad
// target with weight != 0 gives a NaN loss, never an out-of-range access).
// The mean loss: vkt_sum() (op_reduce.h) over `loss`, divided by sum |weights| or the
// token count, whichever the caller's normalisation says.
#ifndef VKT_OP_LOSS_H
#define VKT_OP_LOSS_H

#include <stdbool.h>
#include <stdint.h>

#include "buffer.h"

// targets (N) int32, weights (N) float, host arrays -> tw (>= 8N bytes).
vkt_status vkt_cross_entropy_stage(vkt_ctx *ctx, int N, int V, const int32_t *targets,
                                   const float *weights, vkt_view tw);

// logits (N, V) -> loss (N) = w (lse - logits[target]); lse (N) when lse.buf != NULL;
// with backward, dlogits = grad_scale * w * (softmax - onehot) is WRITTEN over logits
// (in place). Rows of weight 0 get loss 0 and dlogits 0. Logits larger than one binding
// are processed in row ranges; a single row must fit one binding (V*4 bytes).
vkt_status vkt_cross_entropy(vkt_ctx *ctx, int N, int V, vkt_view logits, vkt_view tw,
                             float grad_scale, bool backward, vkt_view loss, vkt_view lse);

// The same with an entropy bonus per row (the cross_entropy_ent variant; reference:
// vkt_ref_cross_entropy_ent): coef (N) floats on the device, staged by
// vkt_cross_entropy_stage_ent (finite values; waits for the device like the stage above).
//   loss[i] = w_i (lse_i - x_i[t_i]) - c_i H_i,   H_i = -sum_j p_j log p_j
//   dlogits = grad_scale (w_i (p - onehot) + c_i p (log p + H_i)), in place
// A row is masked (zeros) only when w_i and c_i are both 0; a row with w_i == 0 and
// c_i != 0 ignores its target. Rows with c_i == 0 skip the entropy work. ent (N) or an
// empty view: H_i for rows with c_i != 0, 0 for the others. An empty coef is
// vkt_cross_entropy.
vkt_status vkt_cross_entropy_stage_ent(vkt_ctx *ctx, int N, const float *coef, vkt_view dst);
vkt_status vkt_cross_entropy_ent(vkt_ctx *ctx, int N, int V, vkt_view logits, vkt_view tw,
                                 vkt_view coef, float grad_scale, bool backward, vkt_view loss,
                                 vkt_view lse, vkt_view ent);

#endif
