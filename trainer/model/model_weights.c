// model_weights.c: where a model's parameters live on the device and how products with
// them run. fp32 (trainable): one parameter buffer and one gradient buffer in the table's
// layout. 16-bit (frozen pretrained weights): every matrix stays bf16/fp16 in wbuf at twice
// its table offset in bytes, read by the 16-bit matmul and embedding kernels, while norm
// gains and biases stay fp32 in a small params buffer (vec_off); no gradients.
#include <stdlib.h>
#include <string.h>

#include "half.h"
#include "model_internal.h"
#include "op_elementwise.h"
#include "op_matmul.h"

static vkt_view none(void) { return (vkt_view){0}; }

static vkt_dtype16 dtype_of(const vkt_model *m) {
    return m->opts.w16 == VKT_W16_F16 ? VKT_F16 : VKT_BF16;
}

vkt_view vkt_model_pview(vkt_model *m, vkt_buffer *b, vkt_param_kind k, int layer) {
    const vkt_param *p = vkt_params_find(&m->ps, k, layer);
    if (!p || !b) return none();
    if (b == m->params && m->opts.w16) {
        if (p->ndim == 2) return (vkt_view){m->wbuf, p->offset * 2, p->count * 2};
        return vkt_view_f32(vkt_view_all(m->params), m->vec_off[p - m->ps.p], p->count);
    }
    return vkt_view_f32(vkt_view_all(b), p->offset, p->count);
}

vkt_param_kind vkt_model_bias_of(vkt_param_kind k) {
    switch (k) {
    case VKT_P_QKV_W: return VKT_P_QKV_B;
    case VKT_P_Q_W: return VKT_P_Q_B;
    case VKT_P_K_W: return VKT_P_K_B;
    case VKT_P_V_W: return VKT_P_V_B;
    case VKT_P_ATTN_OUT_W: return VKT_P_ATTN_OUT_B;
    case VKT_P_FC_W: return VKT_P_FC_B;
    case VKT_P_UP_W: return VKT_P_UP_B;
    case VKT_P_PROJ_W: return VKT_P_PROJ_B;
    default: return VKT_P_KINDS;
    }
}

vkt_status vkt_model_wmm(vkt_model *m, bool transW, int M, int N, int K, vkt_view A, vkt_view W,
                         float beta, vkt_view C, vkt_view bias) {
    if (m->opts.w16 && W.buf == m->wbuf)
        return vkt_matmul_w16(m->ctx, dtype_of(m), false, transW, M, N, K, 1.0f, A, W, beta, C,
                              bias);
    return vkt_matmul(m->ctx, false, transW, M, N, K, 1.0f, A, W, beta, C, bias);
}

uint64_t vkt_model_weight_bytes(const vkt_params *ps, const vkt_model_opts *o) {
    if (o && o->w16) {
        uint64_t vec = 0;
        for (int i = 0; i < ps->n; i++)
            if (ps->p[i].ndim == 1) vec += (ps->p[i].count + 63) / 64 * 64;
        return ps->total * 2 + vec * 4;
    }
    // params + grads, and AdamW's two moments once training steps; mixed precision: their
    // 16-bit copy
    bool mixed = o && !o->frozen && o->precision != VKT_PREC_FP32;
    return ps->total * 4 * (o && o->frozen ? 1 : 4) + (mixed ? ps->total * 2 : 0);
}

vkt_status vkt_model_alloc_weights(vkt_model *m) {
    vkt_ctx *ctx = m->ctx;
    if (m->opts.w16) {
        m->vec_off = calloc((size_t)m->ps.n, sizeof *m->vec_off);
        if (!m->vec_off) return vkt_fail(m->err, VKT_ERR_NOMEM, "model: tensor offsets");
        uint64_t vec = 0;
        for (int i = 0; i < m->ps.n; i++)
            if (m->ps.p[i].ndim == 1) m->vec_off[i] = vec, vec += (m->ps.p[i].count + 63) / 64 * 64;
        VKT_TRY(vkt_buffer_create(ctx, m->ps.total * 2, &m->wbuf));
        VKT_TRY(vkt_buffer_create(ctx, (vec ? vec : 64) * 4, &m->params));
        // Zero words are +0 in both 16-bit formats.
        VKT_TRY(vkt_fill(ctx, vkt_view_all(m->wbuf), m->ps.total / 2, 0.0f));
        return vkt_fill(ctx, vkt_view_all(m->params), vec ? vec : 64, 0.0f);
    }
    VKT_TRY(vkt_buffer_create(ctx, m->ps.total * 4, &m->params));
    VKT_TRY(vkt_fill(ctx, vkt_view_all(m->params), m->ps.total, 0.0f));
    if (m->opts.frozen) return VKT_OK;
    if (m->mixed) VKT_TRY(vkt_buffer_create(ctx, m->ps.total * 2, &m->wbuf));
    m->w16_stale = true;
    VKT_TRY(vkt_buffer_create(ctx, m->ps.total * 4, &m->grads));
    return vkt_fill(ctx, vkt_view_all(m->grads), m->ps.total, 0.0f);
}

void vkt_model_free_weights(vkt_model *m) {
    vkt_buffer *b[] = {m->params, m->grads, m->mom1, m->mom2, m->wbuf};
    for (int i = 0; i < 5; i++)
        if (b[i]) vkt_buffer_destroy(m->ctx, b[i]);
    m->params = m->grads = m->mom1 = m->mom2 = m->wbuf = NULL;
    free(m->vec_off);
    m->vec_off = NULL;
}

// Where tensor i lives on the device (its storage type's view).
static vkt_view tensor_view(vkt_model *m, int i) {
    const vkt_param *p = &m->ps.p[i];
    return vkt_model_pview(m, m->params, p->kind, p->layer);
}

vkt_status vkt_model_set_tensor16(vkt_model *m, int i, const uint16_t *raw) {
    if (i < 0 || i >= m->ps.n) return vkt_fail(m->err, VKT_ERR_ARG, "model: tensor index %d", i);
    const vkt_param *p = &m->ps.p[i];
    if (!m->opts.w16 || p->ndim != 2) {
        float *f = malloc(p->count * sizeof *f);
        if (!f) return vkt_fail(m->err, VKT_ERR_NOMEM, "model: %s", p->name);
        vkt_dtype16 dt = m->opts.w16 ? dtype_of(m) : VKT_BF16;
        for (uint64_t j = 0; j < p->count; j++) f[j] = vkt_half_to_f32(dt, raw[j]);
        vkt_status s = vkt_model_set_tensor(m, i, f);
        free(f);
        return s;
    }
    // An odd count still uploads whole words: the slot is padded to 64 values.
    return vkt_upload(m->ctx, tensor_view(m, i), raw, (p->count + 1) / 2 * 4);
}

vkt_status vkt_model_set_tensor(vkt_model *m, int i, const float *src) {
    if (i < 0 || i >= m->ps.n) return vkt_fail(m->err, VKT_ERR_ARG, "model: tensor index %d", i);
    m->w16_stale = true;
    const vkt_param *p = &m->ps.p[i];
    if (!m->opts.w16 || p->ndim != 2)
        return vkt_upload(m->ctx, tensor_view(m, i), src, p->count * 4);
    uint16_t *h = malloc((p->count + 1) / 2 * 4);
    if (!h) return vkt_fail(m->err, VKT_ERR_NOMEM, "model: %s", p->name);
    vkt_dtype16 dt = dtype_of(m);
    for (uint64_t j = 0; j < p->count; j++) h[j] = vkt_f32_to_half(dt, src[j]);
    if (p->count % 2) h[p->count] = 0;
    vkt_status s = vkt_upload(m->ctx, tensor_view(m, i), h, (p->count + 1) / 2 * 4);
    free(h);
    return s;
}

vkt_status vkt_model_set_params(vkt_model *m, const float *host) {
    m->w16_stale = true;
    if (!m->opts.w16) return vkt_upload(m->ctx, vkt_view_all(m->params), host, m->ps.total * 4);
    for (int i = 0; i < m->ps.n; i++) VKT_TRY(vkt_model_set_tensor(m, i, host + m->ps.p[i].offset));
    return VKT_OK;
}

vkt_status vkt_model_get_params(vkt_model *m, float *host) {
    if (!m->opts.w16) return vkt_download(m->ctx, vkt_view_all(m->params), host, m->ps.total * 4);
    memset(host, 0, m->ps.total * 4);
    for (int i = 0; i < m->ps.n; i++) {
        const vkt_param *p = &m->ps.p[i];
        float *dst = host + p->offset;
        if (p->ndim != 2) {
            VKT_TRY(vkt_download(m->ctx, tensor_view(m, i), dst, p->count * 4));
            continue;
        }
        uint16_t *h = malloc((p->count + 1) / 2 * 4);
        if (!h) return vkt_fail(m->err, VKT_ERR_NOMEM, "model: %s", p->name);
        vkt_status s = vkt_download(m->ctx, tensor_view(m, i), h, (p->count + 1) / 2 * 4);
        for (uint64_t j = 0; s == VKT_OK && j < p->count; j++)
            dst[j] = vkt_half_to_f32(dtype_of(m), h[j]);
        free(h);
        VKT_TRY(s);
    }
    return VKT_OK;
}

vkt_status vkt_model_get_grads(vkt_model *m, float *host) {
    if (!m->grads)
        return vkt_fail(m->err, VKT_ERR_ARG, "model: its weights are frozen (no gradients)");
    return vkt_download(m->ctx, vkt_view_all(m->grads), host, m->ps.total * 4);
}
