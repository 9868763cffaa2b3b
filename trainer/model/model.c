// model.c: GPT-2 and Llama forward and backward on the device, one op per step in the
// order of the reference model (trainer/model/model_ref.c), which the tests compare against.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "model_internal.h"
#include "op_activation.h"
#include "op_attention.h"
#include "op_cast.h"
#include "op_elementwise.h"
#include "op_embedding.h"
#include "op_loss.h"
#include "op_matmul.h"
#include "op_norm.h"
#include "op_optim.h"
#include "op_reduce.h"
#include "op_rope.h"
#include "rng.h"
#include "lora.h"
#include "rope_freq.h"

static vkt_view none(void) { return (vkt_view){0}; }

#define P(k, l) vkt_model_pview(m, m->params, k, l)
#define G(k, l) vkt_model_pview(m, m->grads, k, l)

vkt_status vkt_model_rope_table(vkt_ctx *ctx, const vkt_model_config *c, vkt_buffer **buf,
                                vkt_view *view) {
    vkt_error *err = vkt_ctx_err(ctx);
    const int D = vkt_head_dim(c), half = D / 2;
    const vkt_rope_scaling *r = &c->rope_scaling;
    vkt_rope_freq_spec spec = {(int)r->type, r->factor, r->low_freq_factor, r->high_freq_factor,
                               r->original_context};
    double *inv = malloc((size_t)half * sizeof *inv);
    float *hilo = malloc((size_t)half * 2 * sizeof *hilo);
    vkt_status s = inv && hilo ? VKT_OK : vkt_fail(err, VKT_ERR_NOMEM, "RoPE table");
    if (s == VKT_OK) s = vkt_rope_inv_freq(c->rope_theta, &spec, D, inv, err);
    if (s == VKT_OK) {
        vkt_rope_freq_pack(inv, half, hilo);
        s = vkt_buffer_create(ctx, (uint64_t)half * 8, buf);
    }
    if (s == VKT_OK) s = vkt_upload(ctx, vkt_view_all(*buf), hilo, (uint64_t)half * 8);
    if (s == VKT_OK) *view = vkt_view_all(*buf);
    free(inv), free(hilo);
    return s;
}

vkt_status vkt_model_create(vkt_ctx *ctx, const vkt_model_config *cfg, vkt_model **out) {
    return vkt_model_create_opts(ctx, cfg, NULL, out);
}

vkt_status vkt_model_create_opts(vkt_ctx *ctx, const vkt_model_config *cfg,
                                 const vkt_model_opts *opts, vkt_model **out) {
    vkt_error *err = vkt_ctx_err(ctx);
    *out = NULL;
    if (opts && opts->w16 && (opts->w16 != VKT_W16_BF16 && opts->w16 != VKT_W16_F16))
        return vkt_fail(err, VKT_ERR_ARG, "model: weight type %d (bf16 %d, fp16 %d)", opts->w16,
                        VKT_W16_BF16, VKT_W16_F16);
    if (opts && (opts->precision < VKT_PREC_FP32 || opts->precision > VKT_PREC_FP16))
        return vkt_fail(err, VKT_ERR_ARG, "model: precision %d (fp32 %d, bf16 %d, fp16 %d)",
                        opts->precision, VKT_PREC_FP32, VKT_PREC_BF16, VKT_PREC_FP16);
    if (opts && opts->w16 && cfg->family != VKT_FAMILY_LLAMA)
        return vkt_fail(err, VKT_ERR_UNSUPPORTED,
                        "model: 16-bit weights are for the llama family (not gpt2)");
    vkt_model *m = calloc(1, sizeof *m);
    if (!m) return vkt_fail(err, VKT_ERR_NOMEM, "model");
    m->ctx = ctx;
    m->err = err;
    m->cfg = *cfg;
    if (opts) m->opts = *opts;
    if (m->opts.w16) m->opts.frozen = true; // 16-bit weights are never updated in place
    // Mixed precision is a way of training: a frozen model computes in its own storage type.
    if (m->opts.frozen) m->opts.precision = VKT_PREC_FP32;
    m->mixed = m->opts.precision != VKT_PREC_FP32;
    m->dt16 = m->opts.precision == VKT_PREC_FP16 ? VKT_F16 : VKT_BF16;
    vkt_status s = vkt_params_build(cfg, &m->ps, err);
    if (s == VKT_OK) s = vkt_model_alloc_weights(m);
    if (s == VKT_OK && cfg->pos == VKT_POS_ROPE)
        s = vkt_model_rope_table(ctx, cfg, &m->rope_buf, &m->rope_freq);
    if (s != VKT_OK) {
        vkt_model_destroy(m);
        return s;
    }
    *out = m;
    return VKT_OK;
}

const vkt_model_opts *vkt_model_get_opts(const vkt_model *m) { return &m->opts; }
struct vkt_lora *vkt_model_lora(const vkt_model *m) {
    return m->lora;
}
vkt_status vkt_model_set_lora(vkt_model *m, struct vkt_lora *lora) {
    if (lora && m->mixed)
        return vkt_fail(m->err, VKT_ERR_UNSUPPORTED,
                        "model: LoRA adapters train in fp32 (precision %s asked for)",
                        vkt_precision_name(m->opts.precision));
    m->lora = lora;
    return lora && m->B ? vkt_lora_plan(lora, m->B * m->T) : VKT_OK;
}

vkt_status vkt_model_set_precision(vkt_model *m, int precision) {
    if (precision == m->opts.precision) return VKT_OK;
    if (precision < VKT_PREC_FP32 || precision > VKT_PREC_FP16)
        return vkt_fail(m->err, VKT_ERR_ARG, "model: precision %d", precision);
    if (m->opts.frozen || m->lora)
        return vkt_fail(m->err, VKT_ERR_UNSUPPORTED, "model: precision %s for %s (fp32 only)",
                        vkt_precision_name(precision),
                        m->lora ? "LoRA adapters" : "frozen weights");
    vkt_model_free_plan(m);
    if (m->wbuf) vkt_buffer_destroy(m->ctx, m->wbuf);
    m->wbuf = NULL;
    m->opts.precision = precision;
    m->mixed = precision != VKT_PREC_FP32;
    m->dt16 = precision == VKT_PREC_FP16 ? VKT_F16 : VKT_BF16;
    m->w16_stale = true;
    return m->mixed ? vkt_buffer_create(m->ctx, m->ps.total * 2, &m->wbuf) : VKT_OK;
}

void vkt_model_destroy(vkt_model *m) {
    if (!m) return;
    vkt_model_free_plan(m);
    vkt_model_free_weights(m);
    if (m->rope_buf) vkt_buffer_destroy(m->ctx, m->rope_buf);
    vkt_params_free(&m->ps);
    free(m);
}

const vkt_model_config *vkt_model_cfg(const vkt_model *m) { return &m->cfg; }
const vkt_params *vkt_model_params(const vkt_model *m) { return &m->ps; }
vkt_ctx *vkt_model_ctx(vkt_model *m) { return m->ctx; }

static double normal(vkt_rng *r) {
    double u = vkt_rng_uniform(r), v = vkt_rng_uniform(r);
    return sqrt(-2.0 * log(1.0 - u)) * cos(6.283185307179586 * v);
}

vkt_status vkt_model_init(vkt_model *m, uint64_t seed) {
    float *h = calloc(m->ps.total, sizeof *h);
    if (!h)
        return vkt_fail(m->err, VKT_ERR_NOMEM, "model init: %llu floats",
                        (unsigned long long)m->ps.total);
    const double std = 0.02, resid_std = 0.02 / sqrt(2.0 * m->cfg.layers);
    for (int i = 0; i < m->ps.n; i++) {
        const vkt_param *p = &m->ps.p[i];
        // Each tensor draws from its own stream: adding a tensor never changes the others.
        vkt_rng r;
        vkt_rng_seed(&r, vkt_rng_derive(seed, (uint64_t)i));
        bool gain = p->kind == VKT_P_LN1_W || p->kind == VKT_P_LN2_W || p->kind == VKT_P_LNF_W ||
                    p->kind == VKT_P_Q_NORM || p->kind == VKT_P_K_NORM;
        bool resid = p->kind == VKT_P_ATTN_OUT_W || p->kind == VKT_P_PROJ_W;
        for (uint64_t j = 0; j < p->count; j++)
            h[p->offset + j] = gain           ? 1.0f
                               : p->ndim == 1 ? 0.0f
                                              : (float)((resid ? resid_std : std) * normal(&r));
    }
    vkt_status s = vkt_model_set_params(m, h);
    free(h);
    return s;
}

// Where the op producing such an activation writes: the activation itself, or the fp32 stage
// that pack() then stores in 16 bits.
static vkt_view staged(const vkt_model *m, vkt_view act) { return m->mixed ? m->stage : act; }
static vkt_status pack(vkt_model *m, vkt_view act, uint64_t n) {
    return m->mixed ? vkt_model_mx_pack(m, act, n) : VKT_OK;
}

// y (M, OUT) = x (M, IN) W + b (+ y with beta 1) for weight kind k of layer l, and the
// layer's LoRA adapter when it has one. GPT-2 Conv1D stores W as (IN, OUT), Llama Linear
// as (OUT, IN).
static vkt_status linear(vkt_model *m, int M, int IN, int OUT, vkt_view x, vkt_param_kind k, int l,
                         float beta, vkt_view y) {
    bool conv = m->cfg.family == VKT_FAMILY_GPT2;
    if (m->mixed)
        return vkt_model_mx_wmm(m, !conv, M, OUT, IN, x, vkt_model_mx_wview(m, k, l), beta, y,
                                P(vkt_model_bias_of(k), l));
    VKT_TRY(vkt_model_wmm(m, !conv, M, OUT, IN, x, P(k, l), beta, y, P(vkt_model_bias_of(k), l)));
    return m->lora ? vkt_lora_fwd(m->lora, k, l, M, x, y) : VKT_OK;
}

// dx = (or +=, beta 1) dy W^T-ish (+ the adapter's share); dW += x^T dy-ish; db +=
// colsum(dy). A frozen model has no dW or db.
static vkt_status linear_bwd(vkt_model *m, int M, int IN, int OUT, vkt_view dy, vkt_view x,
                             vkt_param_kind k, int l, float beta_dx, vkt_view dx) {
    bool conv = m->cfg.family == VKT_FAMILY_GPT2;
    vkt_view dW = G(k, l), db = G(vkt_model_bias_of(k), l);
    if (m->mixed) {
        VKT_TRY(vkt_model_mx_wmm_bwd(m, !conv, M, OUT, IN, dy, x, vkt_model_mx_wview(m, k, l),
                                     beta_dx, dx, dW));
        return db.buf ? vkt_bias_grad(m->ctx, M, OUT, dy, db) : VKT_OK;
    }
    VKT_TRY(vkt_model_wmm(m, conv, M, IN, OUT, dy, P(k, l), beta_dx, dx, none()));
    if (m->lora) VKT_TRY(vkt_lora_bwd(m->lora, k, l, M, x, dy, dx));
    if (dW.buf) {
        // K = M tokens is large and OUT x IN may give a GPU few workgroups: split-k where the
        // profile says so (a CPU device, or no scratch planned: plain vkt_matmul).
        if (conv)
            VKT_TRY(vkt_matmul_splitk(m->ctx, 0, true, false, IN, OUT, M, 1.0f, x, dy, 1.0f, dW,
                                      none(), m->splitk));
        else
            VKT_TRY(vkt_matmul_splitk(m->ctx, 0, true, false, OUT, IN, M, 1.0f, dy, x, 1.0f, dW,
                                      none(), m->splitk));
    }
    if (db.buf) VKT_TRY(vkt_bias_grad(m->ctx, M, OUT, dy, db));
    return VKT_OK;
}

static vkt_status norm_fwd(vkt_model *m, int N, vkt_view x, vkt_view w, vkt_view b, vkt_view y,
                           vkt_view mean, vkt_view rstd) {
    const vkt_model_config *c = &m->cfg;
    if (c->norm == VKT_NORM_LAYERNORM)
        return vkt_layernorm_fwd(m->ctx, N, c->width, c->eps, x, w, b, y, mean, rstd);
    return vkt_rmsnorm_fwd(m->ctx, N, c->width, c->eps, x, w, y, rstd);
}

static vkt_status norm_bwd(vkt_model *m, int N, vkt_view dy, vkt_view x, vkt_view w, vkt_view mean,
                           vkt_view rstd, vkt_view dx, vkt_view dw, vkt_view db) {
    const vkt_model_config *c = &m->cfg;
    if (!dw.buf) dw = m->dummy; // frozen: the kernels always write a weight gradient
    if (!db.buf && w.buf) db = m->dummy;
    if (c->norm == VKT_NORM_LAYERNORM)
        return vkt_layernorm_bwd(m->ctx, N, c->width, dy, x, w, mean, rstd, dx, dw, db, m->scratch);
    return vkt_rmsnorm_bwd(m->ctx, N, c->width, dy, x, w, rstd, dx, dw, m->scratch);
}

static vkt_status copy(vkt_model *m, vkt_view src, vkt_view dst, uint64_t n) {
    return vkt_axpby(m->ctx, 1.0f, src, 0.0f, dst, n);
}

// Llama family: q, k, v projections (with their biases), Qwen3's per-head q/k RMSNorm,
// then RoPE on q and k (rows of H*D and KV, in place).
static vkt_status qkv_fwd(vkt_model *m, layer_views *x, int l) {
    const vkt_model_config *c = &m->cfg;
    const int B = m->B, T = m->T, N = B * T, C = c->width, H = c->heads, KVH = c->kv_heads,
              D = vkt_head_dim(c);
    const int QW = vkt_q_width(c), KV = KVH * D;
    vkt_view q = c->qk_norm ? x->q_pre : x->q, k = c->qk_norm ? x->k_pre : x->k;
    VKT_TRY(linear(m, N, C, QW, x->ln1, VKT_P_Q_W, l, 0.0f, q));
    VKT_TRY(linear(m, N, C, KV, x->ln1, VKT_P_K_W, l, 0.0f, k));
    VKT_TRY(linear(m, N, C, KV, x->ln1, VKT_P_V_W, l, 0.0f, x->v));
    if (c->qk_norm) {
        VKT_TRY(vkt_rmsnorm_fwd(m->ctx, N * H, D, c->eps, q, P(VKT_P_Q_NORM, l), x->q, x->q_rstd));
        VKT_TRY(
            vkt_rmsnorm_fwd(m->ctx, N * KVH, D, c->eps, k, P(VKT_P_K_NORM, l), x->k, x->k_rstd));
    }
    VKT_TRY(vkt_rope_fwd_freq(m->ctx, B, T, H, D, QW, m->pos, m->rope_freq, x->q));
    return vkt_rope_fwd_freq(m->ctx, B, T, KVH, D, KV, m->pos, m->rope_freq, x->k);
}

// The backward of qkv_fwd: dq, dk, dv (gradients of the roped q, k and of v) into
// m->d_ln += and the parameter gradients. dq and dk are rotated back in place.
static vkt_status qkv_bwd(vkt_model *m, layer_views *x, int l, vkt_view dq, vkt_view dk,
                          vkt_view dv) {
    const vkt_model_config *c = &m->cfg;
    const int B = m->B, T = m->T, N = B * T, C = c->width, H = c->heads, KVH = c->kv_heads,
              D = vkt_head_dim(c);
    const int QW = vkt_q_width(c), KV = KVH * D;
    VKT_TRY(vkt_rope_bwd_freq(m->ctx, B, T, H, D, QW, m->pos, m->rope_freq, dq));
    VKT_TRY(vkt_rope_bwd_freq(m->ctx, B, T, KVH, D, KV, m->pos, m->rope_freq, dk));
    vkt_view qin = x->ln1;
    if (c->qk_norm) {
        VKT_TRY(vkt_fill(m->ctx, m->d_qp, (uint64_t)N * QW, 0.0f));
        VKT_TRY(vkt_fill(m->ctx, m->d_kp, (uint64_t)N * KV, 0.0f));
        VKT_TRY(vkt_rmsnorm_bwd(m->ctx, N * H, D, dq, x->q_pre, P(VKT_P_Q_NORM, l), x->q_rstd,
                                m->d_qp, m->grads ? G(VKT_P_Q_NORM, l) : m->dummy, m->scratch));
        VKT_TRY(vkt_rmsnorm_bwd(m->ctx, N * KVH, D, dk, x->k_pre, P(VKT_P_K_NORM, l), x->k_rstd,
                                m->d_kp, m->grads ? G(VKT_P_K_NORM, l) : m->dummy, m->scratch));
        dq = m->d_qp, dk = m->d_kp;
    }
    VKT_TRY(linear_bwd(m, N, C, QW, dq, qin, VKT_P_Q_W, l, 0.0f, m->d_ln));
    VKT_TRY(linear_bwd(m, N, C, KV, dk, qin, VKT_P_K_W, l, 1.0f, m->d_ln));
    return linear_bwd(m, N, C, KV, dv, qin, VKT_P_V_W, l, 1.0f, m->d_ln);
}

vkt_status vkt_model_forward(vkt_model *m, vkt_block_hook hook, void *user) {
    if (!m->acts) return vkt_fail(m->err, VKT_ERR_ARG, "model: forward before plan");
    const vkt_model_config *c = &m->cfg;
    const int B = m->B, T = m->T, N = B * T, C = c->width, F = c->ffn, H = c->heads,
              KVH = c->kv_heads;
    const int D = vkt_head_dim(c), KV = KVH * D, QW = vkt_q_width(c);
    const bool gpt2 = c->family == VKT_FAMILY_GPT2;
    const float scale = 1.0f / sqrtf((float)D);
    const int qs = gpt2 ? 3 * C : QW, ks = gpt2 ? 3 * C : KV;
    VKT_TRY(vkt_model_mx_refresh(m));
    if (m->opts.w16)
        VKT_TRY(
            vkt_embedding_fwd16(m->ctx, &m->ids, C, m->opts.w16, P(VKT_P_WTE, -1), m->lv[0].res));
    else
        VKT_TRY(vkt_embedding_fwd(m->ctx, &m->ids, C, P(VKT_P_WTE, -1),
                                  gpt2 ? P(VKT_P_WPE, -1) : none(), m->lv[0].res));
    for (int l = 0; l < c->layers; l++) {
        layer_views *x = &m->lv[l];
        VKT_TRY(norm_fwd(m, N, x->res, P(VKT_P_LN1_W, l), P(VKT_P_LN1_B, l), staged(m, x->ln1),
                         x->ln1_mean, x->ln1_rstd));
        VKT_TRY(pack(m, x->ln1, (uint64_t)N * C));
        if (gpt2)
            VKT_TRY(linear(m, N, C, 3 * C, x->ln1, VKT_P_QKV_W, l, 0.0f, x->qkv));
        else
            VKT_TRY(qkv_fwd(m, x, l));
        VKT_TRY(vkt_attention_fwd(m->ctx, B, T, H, KVH, D, scale, x->q, qs, x->k, ks, x->v, ks,
                                  x->att, x->lse));
        if (m->mixed) VKT_TRY(vkt_cast16(m->ctx, m->dt16, x->att, x->att_h, (uint64_t)N * QW));
        // mid = res + att W_o (+ b): copy, then accumulate with beta = 1.
        VKT_TRY(copy(m, x->res, x->mid, (uint64_t)N * C));
        VKT_TRY(
            linear(m, N, QW, C, m->mixed ? x->att_h : x->att, VKT_P_ATTN_OUT_W, l, 1.0f, x->mid));
        VKT_TRY(norm_fwd(m, N, x->mid, P(VKT_P_LN2_W, l), P(VKT_P_LN2_B, l), staged(m, x->ln2),
                         x->ln2_mean, x->ln2_rstd));
        VKT_TRY(pack(m, x->ln2, (uint64_t)N * C));
        VKT_TRY(linear(m, N, C, F, x->ln2, VKT_P_FC_W, l, 0.0f, x->fc));
        if (gpt2) {
            VKT_TRY(vkt_gelu_fwd(m->ctx, (uint64_t)N * F, x->fc, staged(m, x->act)));
        } else {
            VKT_TRY(linear(m, N, C, F, x->ln2, VKT_P_UP_W, l, 0.0f, x->up));
            VKT_TRY(vkt_swiglu_fwd(m->ctx, N, F, x->fc, F, x->up, F, staged(m, x->act), F));
        }
        VKT_TRY(pack(m, x->act, (uint64_t)N * F));
        layer_views *y = &m->lv[l + 1];
        VKT_TRY(copy(m, x->mid, y->res, (uint64_t)N * C));
        VKT_TRY(linear(m, N, F, C, x->act, VKT_P_PROJ_W, l, 1.0f, y->res));
        if (hook) VKT_TRY(hook(user, m, l, y->res, N));
    }
    vkt_view fin = m->lv[c->layers].res;
    VKT_TRY(norm_fwd(m, N, fin, P(VKT_P_LNF_W, -1), P(VKT_P_LNF_B, -1), staged(m, m->lnf),
                     m->lnf_mean, m->lnf_rstd));
    VKT_TRY(pack(m, m->lnf, (uint64_t)N * C));
    const vkt_param_kind hk = c->tied ? VKT_P_WTE : VKT_P_LM_HEAD;
    if (m->mixed)
        return vkt_model_mx_wmm(m, true, N, c->vocab, C, m->lnf, vkt_model_mx_wview(m, hk, -1),
                                0.0f, m->logits, none());
    vkt_view head = P(hk, -1);
    return vkt_model_wmm(m, true, N, c->vocab, C, m->lnf, head, 0.0f, m->logits, none());
}

vkt_view vkt_model_logits(vkt_model *m) { return m->logits; }

static vkt_status loss_backward(vkt_model *m, float loss_scale, bool backward);

vkt_status vkt_model_loss(vkt_model *m) { return loss_backward(m, 1.0f, false); }
vkt_status vkt_model_backward(vkt_model *m, float loss_scale) {
    return loss_backward(m, loss_scale, true);
}

// The cross-entropy kernel writes the loss and, with backward, dlogits in one pass.
static vkt_status loss_backward(vkt_model *m, float loss_scale, bool backward) {
    if (!m->has_targets)
        return vkt_fail(m->err, VKT_ERR_ARG, "model loss: the batch has no targets");
    const vkt_model_config *c = &m->cfg;
    const int B = m->B, T = m->T, N = B * T, C = c->width, F = c->ffn, H = c->heads,
              KVH = c->kv_heads;
    const int D = vkt_head_dim(c), KV = KVH * D, V = c->vocab, QW = vkt_q_width(c);
    const bool gpt2 = c->family == VKT_FAMILY_GPT2;
    const float scale = 1.0f / sqrtf((float)D);
    const int qs = gpt2 ? 3 * C : QW, ks = gpt2 ? 3 * C : KV;
    if (m->entropy_rows > 0) {
        VKT_TRY(vkt_cross_entropy_ent(m->ctx, N, V, m->logits, m->tw, m->ec, loss_scale, backward,
                                      m->loss, none(), m->ent));
        VKT_TRY(vkt_sum(m->ctx, m->ent, (uint64_t)N, m->scratch, vkt_view_f32(m->red, 8, 4)));
    } else {
        VKT_TRY(vkt_cross_entropy(m->ctx, N, V, m->logits, m->tw, loss_scale, backward, m->loss,
                                  none()));
    }
    VKT_TRY(vkt_sum(m->ctx, m->loss, (uint64_t)N, m->scratch, vkt_view_f32(m->red, 4, 4)));
    if (!backward) return VKT_OK;

    // logits = lnf head^T: dlnf = dlogits head; dhead += dlogits^T lnf.
    vkt_view head = c->tied ? P(VKT_P_WTE, -1) : P(VKT_P_LM_HEAD, -1);
    vkt_view dhead = c->tied ? G(VKT_P_WTE, -1) : G(VKT_P_LM_HEAD, -1);
    if (m->mixed) {
        VKT_TRY(vkt_model_mx_wmm_bwd(m, true, N, V, C, m->logits, m->lnf,
                                     vkt_model_mx_wview(m, c->tied ? VKT_P_WTE : VKT_P_LM_HEAD, -1),
                                     0.0f, m->d_ln, dhead));
    } else {
        VKT_TRY(vkt_model_wmm(m, false, N, C, V, m->logits, head, 0.0f, m->d_ln, none()));
    }
    if (dhead.buf && !m->mixed)
        VKT_TRY(vkt_matmul_splitk(m->ctx, 0, true, false, V, C, N, 1.0f, m->logits, m->lnf, 1.0f,
                                  dhead, none(), m->splitk));
    VKT_TRY(vkt_fill(m->ctx, m->d_res, (uint64_t)N * C, 0.0f));
    VKT_TRY(norm_bwd(m, N, m->d_ln, m->lv[c->layers].res, P(VKT_P_LNF_W, -1), m->lnf_mean,
                     m->lnf_rstd, m->d_res, G(VKT_P_LNF_W, -1), G(VKT_P_LNF_B, -1)));
    for (int l = c->layers - 1; l >= 0; l--) {
        layer_views *x = &m->lv[l];
        // out = mid + proj(act(fc(ln2(mid)))): d_res flows to mid and through the MLP.
        VKT_TRY(linear_bwd(m, N, F, C, m->d_res, x->act, VKT_P_PROJ_W, l, 0.0f, m->d_f));
        VKT_TRY(vkt_fill(m->ctx, m->d_f2, (uint64_t)N * F, 0.0f));
        if (gpt2) {
            VKT_TRY(vkt_gelu_bwd(m->ctx, (uint64_t)N * F, x->fc, m->d_f, m->d_f2));
            VKT_TRY(linear_bwd(m, N, C, F, m->d_f2, x->ln2, VKT_P_FC_W, l, 0.0f, m->d_ln));
        } else {
            VKT_TRY(vkt_fill(m->ctx, m->d_up, (uint64_t)N * F, 0.0f));
            VKT_TRY(vkt_swiglu_bwd(m->ctx, N, F, m->d_f, F, x->fc, F, x->up, F, m->d_f2, m->d_up));
            VKT_TRY(linear_bwd(m, N, C, F, m->d_f2, x->ln2, VKT_P_FC_W, l, 0.0f, m->d_ln));
            VKT_TRY(linear_bwd(m, N, C, F, m->d_up, x->ln2, VKT_P_UP_W, l, 1.0f, m->d_ln));
        }
        VKT_TRY(norm_bwd(m, N, m->d_ln, x->mid, P(VKT_P_LN2_W, l), x->ln2_mean, x->ln2_rstd,
                         m->d_res, G(VKT_P_LN2_W, l), G(VKT_P_LN2_B, l)));
        // mid = res + o(att(ln1(res)))
        VKT_TRY(linear_bwd(m, N, QW, C, m->d_res, m->mixed ? x->att_h : x->att, VKT_P_ATTN_OUT_W, l,
                           0.0f, m->d_att));
        vkt_view dq = m->d_q, dk = m->d_k, dv = m->d_v;
        VKT_TRY(vkt_fill(m->ctx, m->d_q, (uint64_t)N * (gpt2 ? 3 * C : QW), 0.0f));
        if (gpt2) {
            dk = vkt_view_f32(m->d_q, C, (uint64_t)N * 3 * C - C);
            dv = vkt_view_f32(m->d_q, 2 * C, (uint64_t)N * 3 * C - 2 * C);
        } else {
            VKT_TRY(vkt_fill(m->ctx, m->d_k, (uint64_t)N * KV, 0.0f));
            VKT_TRY(vkt_fill(m->ctx, m->d_v, (uint64_t)N * KV, 0.0f));
        }
        VKT_TRY(vkt_attention_bwd(m->ctx, B, T, H, KVH, D, scale, m->d_att, x->q, qs, x->k, ks,
                                  x->v, ks, x->att, x->lse, dq, dk, dv));
        if (gpt2) {
            VKT_TRY(linear_bwd(m, N, C, 3 * C, m->d_q, x->ln1, VKT_P_QKV_W, l, 0.0f, m->d_ln));
        } else {
            VKT_TRY(qkv_bwd(m, x, l, dq, dk, dv));
        }
        VKT_TRY(norm_bwd(m, N, m->d_ln, x->res, P(VKT_P_LN1_W, l), x->ln1_mean, x->ln1_rstd,
                         m->d_res, G(VKT_P_LN1_W, l), G(VKT_P_LN1_B, l)));
    }
    if (!m->grads) return VKT_OK;
    return vkt_embedding_bwd(m->ctx, &m->ids, C, m->d_res, G(VKT_P_WTE, -1),
                             gpt2 ? G(VKT_P_WPE, -1) : none());
}

vkt_status vkt_model_read_loss(vkt_model *m, double *loss_sum, double *weight_sum) {
    if (weight_sum) *weight_sum = m->weight_sum;
    return vkt_reduce_read(m->ctx, vkt_view_f32(m->red, 4, 4), loss_sum, NULL, NULL);
}

vkt_status vkt_model_read_entropy(vkt_model *m, double *ent_sum, int *positions) {
    if (positions) *positions = m->entropy_rows;
    if (m->entropy_rows == 0) {
        if (ent_sum) *ent_sum = 0;
        return VKT_OK;
    }
    return vkt_reduce_read(m->ctx, vkt_view_f32(m->red, 8, 4), ent_sum, NULL, NULL);
}
