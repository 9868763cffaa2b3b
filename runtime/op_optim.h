// op_optim.h: the AdamW step over float views of any length (split into binding-sized
// ranges). Shader: shaders/adamw.comp; reference: vkt_ref_adamw. Global-norm clipping
// is vkt_grad_norm (op_reduce.h) feeding AdamW's device grad_scale.
#ifndef VKT_OP_OPTIM_H
#define VKT_OP_OPTIM_H

#include <stdbool.h>

#include "buffer.h"

typedef struct vkt_adamw_params {
    float lr;
    float beta1, beta2; // 0 <= beta < 1 (torch defaults 0.9, 0.999)
    float eps;          // torch default 1e-8
    float weight_decay; // decoupled: p *= 1 - lr * weight_decay (0: none)
    int t;              // 1-based step, for the bias corrections
    float grad_scale;   // host factor on the gradient (1: none; 1/accum steps, ...)
    bool zero_grad;     // clear the gradient after reading it (ready for the next step)
} vkt_adamw_params;

// One AdamW step, torch.optim.AdamW's order, over n floats of param, grad, m, v (each a
// view of >= n floats; none may overlap another):
//   g = grad * hp->grad_scale * (scale_dev.buf ? scale_dev[0] : 1)
//   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
//   p *= 1 - lr wd;  p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
// scale_dev: a device float (e.g. vkt_view_f32(norm_out, VKT_REDUCE_CLIP, 1) from
// vkt_grad_norm) or an empty view ({0}). Weight decay only on matrices: call once per
// tensor range with its own weight_decay (views into the one parameter buffer).
vkt_status vkt_adamw(vkt_ctx *ctx, vkt_view param, vkt_view grad, vkt_view m, vkt_view v,
                     uint64_t n, const vkt_adamw_params *hp, vkt_view scale_dev);

#endif
