// model_optim.c: a model's optimizer: gradients cleared and measured, AdamW over the parameter
// table (one call per run of tensors that share a weight-decay setting), its moments in and out
// for checkpoints. With a LoRA adapter attached these act on the adapter.
#include <stdlib.h>

#include "lora.h"
#include "model_internal.h"
#include "op_elementwise.h"
#include "op_optim.h"
#include "op_reduce.h"

static vkt_view none(void) { return (vkt_view){0}; }

static vkt_status ensure_optim(vkt_model *m) {
    if (m->mom1) return VKT_OK;
    if (m->opts.frozen)
        return vkt_fail(m->err, VKT_ERR_ARG, "model: its weights are frozen (no optimizer state)");
    VKT_TRY(vkt_buffer_create(m->ctx, m->ps.total * 4, &m->mom1));
    VKT_TRY(vkt_buffer_create(m->ctx, m->ps.total * 4, &m->mom2));
    VKT_TRY(vkt_fill(m->ctx, vkt_view_all(m->mom1), m->ps.total, 0.0f));
    return vkt_fill(m->ctx, vkt_view_all(m->mom2), m->ps.total, 0.0f);
}

vkt_status vkt_model_get_optim(vkt_model *m, float *mom1, float *mom2) {
    VKT_TRY(ensure_optim(m));
    VKT_TRY(vkt_download(m->ctx, vkt_view_all(m->mom1), mom1, m->ps.total * 4));
    return vkt_download(m->ctx, vkt_view_all(m->mom2), mom2, m->ps.total * 4);
}
vkt_status vkt_model_set_optim(vkt_model *m, const float *mom1, const float *mom2) {
    VKT_TRY(ensure_optim(m));
    VKT_TRY(vkt_upload(m->ctx, vkt_view_all(m->mom1), mom1, m->ps.total * 4));
    return vkt_upload(m->ctx, vkt_view_all(m->mom2), mom2, m->ps.total * 4);
}

vkt_status vkt_model_reset_optim(vkt_model *m) {
    const uint64_t n = m->lora ? vkt_lora_count(m->lora) : m->ps.total;
    float *z = calloc(n ? n : 1, sizeof *z);
    if (!z)
        return vkt_fail(m->err, VKT_ERR_NOMEM, "model: %llu zero moments", (unsigned long long)n);
    vkt_status s = m->lora ? vkt_lora_set_optim(m->lora, z, z) : vkt_model_set_optim(m, z, z);
    free(z);
    return s;
}

vkt_status vkt_model_zero_grads(vkt_model *m) {
    if (m->lora) return vkt_lora_zero_grads(m->lora); // the adapters are what trains
    if (!m->grads) return VKT_OK;
    return vkt_fill(m->ctx, vkt_view_all(m->grads), m->ps.total, 0.0f);
}

vkt_status vkt_model_grad_norm(vkt_model *m, float max_grad_norm) {
    if (m->lora)
        return vkt_fail(m->err, VKT_ERR_ARG,
                        "model: grad_norm with a LoRA adapter (use vkt_model_adamw)");
    if (!m->grads)
        return vkt_fail(m->err, VKT_ERR_ARG, "model: its weights are frozen (no gradients)");
    return vkt_grad_norm(m->ctx, vkt_view_all(m->grads), m->ps.total, max_grad_norm, m->scratch,
                         vkt_view_f32(m->red, 0, 4));
}

// The norm (floats 0-3 of red) and the loss (4-7) sit side by side: one download reads both.
vkt_status vkt_model_read_step(vkt_model *m, double *loss_sum, double *weight_sum,
                               float *grad_norm) {
    float r[8];
    VKT_TRY(vkt_download(m->ctx, vkt_view_f32(m->red, 0, 8), r, sizeof r));
    if (loss_sum) *loss_sum = (double)r[4 + VKT_REDUCE_HI] + (double)r[4 + VKT_REDUCE_LO];
    if (weight_sum) *weight_sum = m->weight_sum;
    if (grad_norm) *grad_norm = r[VKT_REDUCE_NORM];
    return VKT_OK;
}

vkt_status vkt_model_adamw_apply(vkt_model *m, const vkt_optim *o, int t) {
    if (m->lora)
        return vkt_fail(m->err, VKT_ERR_ARG,
                        "model: adamw_apply with a LoRA adapter (use vkt_model_adamw)");
    VKT_TRY(ensure_optim(m));
    vkt_view red = vkt_view_f32(m->red, 0, 4);
    vkt_view clip = o->max_grad_norm > 0 ? vkt_view_f32(red, VKT_REDUCE_CLIP, 1) : none();
    // One AdamW call per run of tensors that share a weight-decay setting.
    for (int i = 0; i < m->ps.n;) {
        int j = i;
        while (j + 1 < m->ps.n && m->ps.p[j + 1].decay == m->ps.p[i].decay) j++;
        m->w16_stale = true;
        uint64_t first = m->ps.p[i].offset, n = m->ps.p[j].offset + m->ps.p[j].count - first;
        // AdamW clears each gradient as it reads it: the next step starts from zero.
        vkt_adamw_params hp = {o->lr,
                               o->beta1,
                               o->beta2,
                               o->eps,
                               m->ps.p[i].decay ? o->weight_decay : 0.0f,
                               t,
                               o->loss_scale > 0 ? 1.0f / o->loss_scale : 1.0f,
                               true};
        VKT_TRY(vkt_adamw(m->ctx, vkt_view_f32(vkt_view_all(m->params), first, n),
                          vkt_view_f32(vkt_view_all(m->grads), first, n),
                          vkt_view_f32(vkt_view_all(m->mom1), first, n),
                          vkt_view_f32(vkt_view_all(m->mom2), first, n), n, &hp, clip));
        i = j + 1;
    }
    return VKT_OK;
}

vkt_status vkt_model_adamw(vkt_model *m, const vkt_optim *o, int t, float *grad_norm) {
    if (m->lora) return vkt_lora_adamw(m->lora, o, t, grad_norm);
    VKT_TRY(ensure_optim(m));
    VKT_TRY(vkt_model_grad_norm(m, o->max_grad_norm));
    VKT_TRY(vkt_model_adamw_apply(m, o, t));
    if (grad_norm)
        VKT_TRY(vkt_reduce_read(m->ctx, vkt_view_f32(m->red, 0, 4), NULL, grad_norm, NULL));
    return VKT_OK;
}
