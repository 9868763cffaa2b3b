// model.h: the transformer on a Vulkan device. All parameters live in one buffer (and
// their gradients and AdamW moments in three more of the same layout), all activations
// for a planned (B, T) in one buffer; nothing is allocated inside a step.
//
// A training step:
//   vkt_model_set_batch(m, tokens, targets, weights)   uploads inputs (recorded: no wait)
//   vkt_model_set_entropy(m, coef)                      optional: per-position entropy bonus
//   vkt_model_forward(m, hook, user)                    records the forward pass
//   vkt_model_backward(m, loss_scale)                   loss, dlogits, backward (grads +=)
//   vkt_model_adamw(m, &opt, step)                      clip, AdamW, zero grads
//   vkt_model_read_loss(m, &sum, &weight)               the batch's weighted loss
// The hook runs after every block with the residual stream (N, C): steering captures or
// edits it there (block l's output is layer l + 1 in llama.cpp's numbering).
#ifndef VKT_MODEL_H
#define VKT_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "buffer.h"
#include "model_config.h"

typedef struct vkt_model vkt_model;

// Called after block `layer` (0-based) with resid = the block's output (N = B*T rows).
typedef vkt_status (*vkt_block_hook)(void *user, vkt_model *m, int layer, vkt_view resid, int N);

typedef struct vkt_optim {
    float lr; // this step's learning rate (the caller applies the schedule)
    float beta1, beta2, eps;
    float weight_decay;  // applied to matrices and embeddings, not to biases or norm gains
    float max_grad_norm; // global-norm clipping; <= 0 for none
    float loss_scale;    // the factor the gradients carry (fp16 loss scaling), divided out by
                         // AdamW; 0 or 1: none. Clip with vkt_model_grad_norm(max * loss_scale).
} vkt_optim;

vkt_status vkt_model_create(vkt_ctx *ctx, const vkt_model_config *cfg, vkt_model **out);

// How a model holds its weights. Defaults (all zero): fp32, trainable.
enum { VKT_W32 = 0, VKT_W16_BF16 = 1, VKT_W16_F16 = 2 };
typedef struct vkt_model_opts {
    int w16;       // VKT_W16_BF16 / VKT_W16_F16: matrices stay 16-bit on the device (llama family;
                   // implies frozen); norms and biases stay fp32
    bool frozen;   // no parameter gradients or optimizer state: inference, or the base under LoRA
    int precision; // VKT_PREC_*: the arithmetic of training (mixed precision, below)
} vkt_model_opts;
// Training precision. FP32: everything in fp32. BF16 / FP16: matmul operands (the weights' 16-bit
// copy, refreshed after every optimizer step, and the activations each matmul reads) in 16 bits,
// fp32 accumulation, fp32 master weights, gradients and AdamW moments. FP16 needs loss scaling
// (train.h): its range is narrow.
enum { VKT_PREC_FP32 = 0, VKT_PREC_BF16 = 1, VKT_PREC_FP16 = 2 };
const char *vkt_precision_name(int precision);
// Switches a trainable model's precision (before its next plan; drops the current one).
// VKT_ERR_UNSUPPORTED for a frozen model or one with LoRA adapters unless fp32.
vkt_status vkt_model_set_precision(vkt_model *m, int precision);
// "fp32" | "bf16" | "fp16" -> VKT_PREC_*; VKT_ERR_ARG naming the text otherwise.
vkt_status vkt_precision_parse(const char *s, int *out, vkt_error *err);
vkt_status vkt_model_create_opts(vkt_ctx *ctx, const vkt_model_config *cfg,
                                 const vkt_model_opts *opts, vkt_model **out);
const vkt_model_opts *vkt_model_get_opts(const vkt_model *m);
// Device bytes of the weights (and, unless frozen, gradients and AdamW moments) under opts.
uint64_t vkt_model_weight_bytes(const vkt_params *ps, const vkt_model_opts *opts);
// Device bytes of the activations vkt_model_plan(B, T) allocates.
uint64_t vkt_model_plan_bytes(const vkt_model *m, int B, int T);
// Adapters every targeted linear layer applies in forward and backward (lora.h); NULL for none.
// The model does not own them; they are planned for the model's rows (lora.h).
struct vkt_lora;
vkt_status vkt_model_set_lora(vkt_model *m, struct vkt_lora *lora);
struct vkt_lora *vkt_model_lora(const vkt_model *m);
// Uploads one tensor (index i of the parameter table) from raw 16-bit values of the model's
// 16-bit type (a bf16 checkpoint into a bf16 model: no conversion, no fp32 host copy).
vkt_status vkt_model_set_tensor16(vkt_model *m, int i, const uint16_t *raw);
// Uploads one tensor from floats (converted to the model's storage).
vkt_status vkt_model_set_tensor(vkt_model *m, int i, const float *src);
void vkt_model_destroy(vkt_model *m);
const vkt_model_config *vkt_model_cfg(const vkt_model *m);
const vkt_params *vkt_model_params(const vkt_model *m);
vkt_ctx *vkt_model_ctx(vkt_model *m);

// GPT-2 style initialisation from a seed: weights N(0, 0.02), residual projections
// N(0, 0.02 / sqrt(2 L)), biases 0, norm gains 1. Deterministic for a seed.
vkt_status vkt_model_init(vkt_model *m, uint64_t seed);
// All parameters as floats in the table's layout (ps->total floats).
vkt_status vkt_model_get_params(vkt_model *m, float *host);
vkt_status vkt_model_set_params(vkt_model *m, const float *host);
vkt_status vkt_model_get_grads(vkt_model *m, float *host);
// AdamW moments (for checkpoints), each ps->total floats; t is the steps taken so far.
vkt_status vkt_model_get_optim(vkt_model *m, float *mom1, float *mom2);
vkt_status vkt_model_set_optim(vkt_model *m, const float *mom1, const float *mom2);

// Plans activations for B rows of T tokens (T <= context); re-planning reallocates.
vkt_status vkt_model_plan(vkt_model *m, int B, int T);
// Inputs of the planned batch: tokens (B*T); targets and weights (B*T) may be NULL for
// a forward without loss. Validates ids (a token or target outside the vocabulary is an
// error naming its position).
vkt_status vkt_model_set_batch(vkt_model *m, const int32_t *tokens, const int32_t *targets,
                               const float *weights);
// An entropy bonus for the batch just set (set_batch clears it): coef (B*T) per position,
// finite, or NULL for none. The loss becomes sum_i (w_i CE_i - c_i H_i), H_i the entropy of
// the model's temperature-1 distribution at position i, and backward adds its exact
// gradient (the cross_entropy_ent kernel; positions with c_i == 0 cost nothing extra). A
// position with w_i == 0 and c_i != 0 needs no valid target. Waits for the device.
vkt_status vkt_model_set_entropy(vkt_model *m, const float *coef);
vkt_status vkt_model_forward(vkt_model *m, vkt_block_hook hook, void *user);
// The logits (B*T, V) of the last forward (valid until vkt_model_backward overwrites them).
vkt_view vkt_model_logits(vkt_model *m);
// Records the loss of the last forward: sum_i (w_i CE_i - c_i H_i) (c = 0 without
// vkt_model_set_entropy), read with vkt_model_read_loss.
vkt_status vkt_model_loss(vkt_model *m);
// Records the loss, dlogits of loss_scale * that loss, and the backward pass (gradients +=).
// The logits are overwritten by their gradient.
vkt_status vkt_model_backward(vkt_model *m, float loss_scale);
// Sum of w_i CE_i - c_i H_i over the batch (not scaled), and sum of |w_i|. Waits for the device.
vkt_status vkt_model_read_loss(vkt_model *m, double *loss_sum, double *weight_sum);
// Sum of H_i over the positions with c_i != 0 in the last vkt_model_loss or vkt_model_backward, and
// how many there were (0 and 0 without an entropy term). Waits for the device.
vkt_status vkt_model_read_entropy(vkt_model *m, double *ent_sum, int *positions);
// With a LoRA adapter attached (vkt_model_set_lora), these three act on the adapter's
// parameters: they are what trains. reset_optim zeroes the AdamW moments.
vkt_status vkt_model_reset_optim(vkt_model *m);
vkt_status vkt_model_zero_grads(vkt_model *m);
// Clips (global norm), steps AdamW (t = 1-based step count), zeroes the gradients.
// *grad_norm (may be NULL) receives the norm before clipping (reading it waits).
vkt_status vkt_model_adamw(vkt_model *m, const vkt_optim *o, int t, float *grad_norm);
// The same step split so that the host waits once (not with a LoRA adapter): record the
// norm and clip factor, read the loss of the last vkt_model_loss and that norm in one
// download, then (if the step is kept) AdamW with the recorded clip factor.
vkt_status vkt_model_grad_norm(vkt_model *m, float max_grad_norm);
vkt_status vkt_model_read_step(vkt_model *m, double *loss_sum, double *weight_sum,
                               float *grad_norm);
vkt_status vkt_model_adamw_apply(vkt_model *m, const vkt_optim *o, int t);

#endif
