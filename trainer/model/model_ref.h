// model_ref.h: the whole transformer in plain double-precision C, built from the
// reference ops. It is the yardstick for the GPU model (same parameters, same tokens:
// same loss, logits and gradients) and is checked itself against finite differences.
// Slow and simple on purpose: tiny configs only.
#ifndef VKT_MODEL_REF_H
#define VKT_MODEL_REF_H

#include "model_config.h"

// Loss = loss_scale * sum_i weights[i] * CE(logits_i, targets[i]) over the B*T tokens.
// tokens, targets (B*T) int32; weights (B*T) (NULL: all 1); positions are t within each
// row. params: ps->total doubles laid out by vkt_params_build. logits (B*T, V) and
// grads (ps->total, overwritten) are optional outputs. resid_edit, when not NULL, holds
// per layer l either NULL or a (C) vector added to the residual stream at the output of
// block l (the steering edit, applied at every position).
vkt_status vkt_model_ref_forward_backward(const vkt_model_config *cfg, const vkt_params *ps,
                                          const double *params, int B, int T, const int32_t *tokens,
                                          const int32_t *targets, const double *weights,
                                          double loss_scale, const double *const *resid_edit,
                                          double *loss, double *logits, double *grads,
                                          vkt_error *err);

#endif
