// model_ref.c: GPT-2 and Llama forward and backward in double, one reference op per
// step, in the order the GPU model runs them (llm.c's train_gpt2.c is the model).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model_ref.h"
#include "reference.h"
#include "rope_freq.h"

typedef struct {
    double *x_in, *ln1, *ln1_mean, *ln1_rstd, *q, *k, *v, *att, *lse, *x_mid, *ln2, *ln2_mean,
        *ln2_rstd, *fc, *up, *act;
    double *q_pre, *k_pre, *q_rstd, *k_rstd; // qk_norm
} layer_acts;

// RoPE (rotate_half) with the model's frequencies inv (D/2), by +a (sign 1) or -a (-1), in place.
static void rope(int N, int T, int H, int D, int stride, const double *inv, double sign,
                 double *x) {
    for (int n = 0; n < N; n++)
        for (int h = 0; h < H; h++)
            for (int i = 0; i < D / 2; i++) {
                double a = sign * (double)(n % T) * inv[i], cs = cos(a), sn = sin(a);
                double *r = x + (size_t)n * stride + (size_t)h * D, x1 = r[i], x2 = r[i + D / 2];
                r[i] = x1 * cs - x2 * sn;
                r[i + D / 2] = x2 * cs + x1 * sn;
            }
}

static const double *P(const vkt_params *ps, const double *params, vkt_param_kind k, int l) {
    const vkt_param *p = vkt_params_find(ps, k, l);
    return p ? params + p->offset : NULL;
}
static double *G(const vkt_params *ps, double *grads, vkt_param_kind k, int l) {
    const vkt_param *p = vkt_params_find(ps, k, l);
    return p && grads ? grads + p->offset : NULL;
}

// y (M, OUT) = x (M, IN) W + b: GPT-2 Conv1D stores W as (IN, OUT), Llama Linear as (OUT, IN).
static vkt_status linear(bool conv1d, int M, int IN, int OUT, const double *x, const double *W,
                         const double *b, double *y, vkt_error *err) {
    return vkt_ref_matmul_f64(false, !conv1d, M, OUT, IN, 1.0, x, W, 0.0, y, b, err);
}

// dx += dy W^T-ish, dW += x^T dy-ish, db += colsum(dy); any of dx, dW, db may be NULL.
static vkt_status linear_bwd(bool conv1d, int M, int IN, int OUT, const double *dy, const double *x,
                             const double *W, double *dx, double *dW, double *db, vkt_error *err) {
    if (dx) VKT_TRY(vkt_ref_matmul_f64(false, conv1d, M, IN, OUT, 1.0, dy, W, 1.0, dx, NULL, err));
    if (dW) {
        if (conv1d)
            VKT_TRY(vkt_ref_matmul_f64(true, false, IN, OUT, M, 1.0, x, dy, 1.0, dW, NULL, err));
        else
            VKT_TRY(vkt_ref_matmul_f64(true, false, OUT, IN, M, 1.0, dy, x, 1.0, dW, NULL, err));
    }
    if (db) VKT_TRY(vkt_ref_bias_grad_f64(M, OUT, dy, db, err));
    return VKT_OK;
}

static vkt_status norm_fwd(const vkt_model_config *c, int N, const double *x, const double *w,
                           const double *b, double *y, double *mean, double *rstd, vkt_error *err) {
    if (c->norm == VKT_NORM_LAYERNORM)
        return vkt_ref_layernorm_fwd_f64(N, c->width, c->eps, x, w, b, y, mean, rstd, err);
    return vkt_ref_rmsnorm_fwd_f64(N, c->width, c->eps, x, w, y, rstd, err);
}

static vkt_status norm_bwd(const vkt_model_config *c, int N, const double *dy, const double *x,
                           const double *w, const double *mean, const double *rstd, double *dx,
                           double *dw, double *db, vkt_error *err) {
    int C = c->width;
    // The reference needs somewhere to put dw/db even when the caller wants none.
    double *tw = dw ? NULL : calloc((size_t)C, sizeof *tw),
           *tb = db ? NULL : calloc((size_t)C, sizeof *tb);
    vkt_status s;
    if (c->norm == VKT_NORM_LAYERNORM)
        s = vkt_ref_layernorm_bwd_f64(N, C, dy, x, w, mean, rstd, dx, dw ? dw : tw, db ? db : tb,
                                      err);
    else
        s = vkt_ref_rmsnorm_bwd_f64(N, C, dy, x, w, rstd, dx, dw ? dw : tw, err);
    free(tw);
    free(tb);
    return s;
}

// Llama family: q, k, v projections (with biases), Qwen3's per-head q/k RMSNorm, RoPE by the
// model's frequencies inv (D/2).
static vkt_status qkv_fwd(const vkt_model_config *c, const vkt_params *ps, const double *params,
                          int l, int B, int T, const double *inv, layer_acts *A, vkt_error *err) {
    const int N = B * T, C = c->width, H = c->heads, KVH = c->kv_heads, D = vkt_head_dim(c),
              KV = KVH * D;
    const int QW = vkt_q_width(c);
    const bool qkn = c->qk_norm;
    double *q = qkn ? A->q_pre : A->q, *k = qkn ? A->k_pre : A->k;
    VKT_TRY(linear(false, N, C, QW, A->ln1, P(ps, params, VKT_P_Q_W, l),
                   P(ps, params, VKT_P_Q_B, l), q, err));
    VKT_TRY(linear(false, N, C, KV, A->ln1, P(ps, params, VKT_P_K_W, l),
                   P(ps, params, VKT_P_K_B, l), k, err));
    VKT_TRY(linear(false, N, C, KV, A->ln1, P(ps, params, VKT_P_V_W, l),
                   P(ps, params, VKT_P_V_B, l), A->v, err));
    if (qkn) {
        VKT_TRY(vkt_ref_rmsnorm_fwd_f64(N * H, D, c->eps, q, P(ps, params, VKT_P_Q_NORM, l), A->q,
                                        A->q_rstd, err));
        VKT_TRY(vkt_ref_rmsnorm_fwd_f64(N * KVH, D, c->eps, k, P(ps, params, VKT_P_K_NORM, l), A->k,
                                        A->k_rstd, err));
    }
    rope(N, T, H, D, QW, inv, 1.0, A->q);
    rope(N, T, KVH, D, KV, inv, 1.0, A->k);
    return VKT_OK;
}

// Gradients of the roped q and k and of v (rotated back and normed back in place), the
// q/k pre-norm scratch, and dln (+=) for the layer's normalized input.
typedef struct {
    double *dq, *dk, *dv, *dqp, *dkp, *dln;
} qkv_grads;

static vkt_status qkv_bwd(const vkt_model_config *c, const vkt_params *ps, const double *params,
                          double *grads, int l, int B, int T, const double *inv,
                          const layer_acts *A, qkv_grads *g, vkt_error *err) {
    const int N = B * T, C = c->width, H = c->heads, KVH = c->kv_heads, D = vkt_head_dim(c),
              KV = KVH * D;
    const int QW = vkt_q_width(c);
    rope(N, T, H, D, QW, inv, -1.0, g->dq);
    rope(N, T, KVH, D, KV, inv, -1.0, g->dk);
    double *gq = g->dq, *gk = g->dk;
    if (c->qk_norm) {
        memset(g->dqp, 0, (size_t)N * QW * sizeof *g->dqp);
        memset(g->dkp, 0, (size_t)N * KV * sizeof *g->dkp);
        VKT_TRY(vkt_ref_rmsnorm_bwd_f64(N * H, D, g->dq, A->q_pre, P(ps, params, VKT_P_Q_NORM, l),
                                        A->q_rstd, g->dqp, G(ps, grads, VKT_P_Q_NORM, l), err));
        VKT_TRY(vkt_ref_rmsnorm_bwd_f64(N * KVH, D, g->dk, A->k_pre, P(ps, params, VKT_P_K_NORM, l),
                                        A->k_rstd, g->dkp, G(ps, grads, VKT_P_K_NORM, l), err));
        gq = g->dqp, gk = g->dkp;
    }
    VKT_TRY(linear_bwd(false, N, C, QW, gq, A->ln1, P(ps, params, VKT_P_Q_W, l), g->dln,
                       G(ps, grads, VKT_P_Q_W, l), G(ps, grads, VKT_P_Q_B, l), err));
    VKT_TRY(linear_bwd(false, N, C, KV, gk, A->ln1, P(ps, params, VKT_P_K_W, l), g->dln,
                       G(ps, grads, VKT_P_K_W, l), G(ps, grads, VKT_P_K_B, l), err));
    return linear_bwd(false, N, C, KV, g->dv, A->ln1, P(ps, params, VKT_P_V_W, l), g->dln,
                      G(ps, grads, VKT_P_V_W, l), G(ps, grads, VKT_P_V_B, l), err);
}

vkt_status vkt_model_ref_forward_backward(const vkt_model_config *c, const vkt_params *ps,
                                          const double *params, int B, int T, const int32_t *tokens,
                                          const int32_t *targets, const double *weights,
                                          double loss_scale, const double *const *resid_edit,
                                          double *loss_out, double *logits_out, double *grads,
                                          vkt_error *err) {
    VKT_TRY(vkt_model_config_check(c, err));
    if (B < 1 || T < 1 || T > c->context)
        return vkt_fail(err, VKT_ERR_ARG, "reference model: B=%d, T=%d (context %d)", B, T,
                        c->context);
    const int N = B * T, C = c->width, F = c->ffn, V = c->vocab, H = c->heads, KVH = c->kv_heads,
              D = vkt_head_dim(c), L = c->layers, KV = KVH * D, QW = vkt_q_width(c);
    const bool gpt2 = c->family == VKT_FAMILY_GPT2, conv = gpt2, qkn = c->qk_norm;
    const double scale = 1.0 / sqrt((double)D);
    const int qs = gpt2 ? 3 * C : QW, ks = gpt2 ? 3 * C : KV; // row strides of q and k/v
    double inv[512];
    if (!gpt2) {
        if (D / 2 > 512)
            return vkt_fail(err, VKT_ERR_ARG, "reference model: head_dim %d > 1024", D);
        const vkt_rope_scaling *r = &c->rope_scaling;
        vkt_rope_freq_spec spec = {(int)r->type, r->factor, r->low_freq_factor, r->high_freq_factor,
                                   r->original_context};
        VKT_TRY(vkt_rope_inv_freq(c->rope_theta, &spec, D, inv, err));
    }

    int32_t *pos = malloc((size_t)N * sizeof *pos);
    double *w1 = malloc((size_t)N * sizeof *w1);
    layer_acts *a = calloc((size_t)L, sizeof *a);
    double *x = calloc((size_t)N * C, sizeof *x), *lnf = calloc((size_t)N * C, sizeof *lnf),
           *lnf_mean = calloc((size_t)N, sizeof(double)),
           *lnf_rstd = calloc((size_t)N, sizeof(double)),
           *logits = calloc((size_t)N * V, sizeof(double)),
           *dlogits = calloc((size_t)N * V, sizeof(double)),
           *rowloss = calloc((size_t)N, sizeof(double)),
           *tmp = calloc((size_t)N * (F > 3 * C ? F : 3 * C), sizeof(double));
    vkt_status s =
        (pos && w1 && a && x && lnf && lnf_mean && lnf_rstd && logits && dlogits && rowloss && tmp)
            ? VKT_OK
            : vkt_fail(err, VKT_ERR_NOMEM, "reference model activations");
    for (int l = 0; l < L && s == VKT_OK; l++) {
        layer_acts *A = &a[l];
        double **all[] = {&A->x_in, &A->ln1, &A->x_mid, &A->ln2};
        for (int i = 0; i < 4; i++) *all[i] = calloc((size_t)N * C, sizeof(double));
        A->att = calloc((size_t)N * QW, sizeof(double));
        if (qkn) {
            A->q_pre = calloc((size_t)N * QW, sizeof(double)),
            A->k_pre = calloc((size_t)N * KV, sizeof(double));
            A->q_rstd = calloc((size_t)N * H, sizeof(double)),
            A->k_rstd = calloc((size_t)N * KVH, sizeof(double));
            if (!A->q_pre || !A->k_pre || !A->q_rstd || !A->k_rstd)
                s = vkt_fail(err, VKT_ERR_NOMEM, "reference model activations");
        }
        A->ln1_mean = calloc((size_t)N, sizeof(double));
        A->ln1_rstd = calloc((size_t)N, sizeof(double));
        A->ln2_mean = calloc((size_t)N, sizeof(double));
        A->ln2_rstd = calloc((size_t)N, sizeof(double));
        A->lse = calloc((size_t)B * H * T, sizeof(double));
        A->q = calloc((size_t)N * (gpt2 ? 3 * C : QW), sizeof(double));
        A->k = gpt2 ? A->q + C : calloc((size_t)N * KV, sizeof(double));
        A->v = gpt2 ? A->q + 2 * C : calloc((size_t)N * KV, sizeof(double));
        A->fc = calloc((size_t)N * F, sizeof(double));
        A->up = gpt2 ? NULL : calloc((size_t)N * F, sizeof(double));
        A->act = calloc((size_t)N * F, sizeof(double));
        if (!A->x_in || !A->ln1 || !A->att || !A->x_mid || !A->ln2 || !A->ln1_mean ||
            !A->ln1_rstd || !A->ln2_mean || !A->ln2_rstd || !A->lse || !A->q || !A->k || !A->v ||
            !A->fc || (!gpt2 && !A->up) || !A->act)
            s = vkt_fail(err, VKT_ERR_NOMEM, "reference model activations");
    }
    if (s != VKT_OK) goto done;
    for (int i = 0; i < N; i++) {
        pos[i] = i % T;
        w1[i] = weights ? weights[i] : 1.0;
    }

    // ---- forward ----
    s = vkt_ref_embedding_fwd_f64(N, C, V, c->context, tokens, pos, P(ps, params, VKT_P_WTE, -1),
                                  gpt2 ? P(ps, params, VKT_P_WPE, -1) : NULL, x, err);
    for (int l = 0; l < L && s == VKT_OK; l++) {
        layer_acts *A = &a[l];
        memcpy(A->x_in, x, (size_t)N * C * sizeof *x);
        s = norm_fwd(c, N, x, P(ps, params, VKT_P_LN1_W, l), P(ps, params, VKT_P_LN1_B, l), A->ln1,
                     A->ln1_mean, A->ln1_rstd, err);
        if (s != VKT_OK) break;
        if (gpt2) {
            s = linear(conv, N, C, 3 * C, A->ln1, P(ps, params, VKT_P_QKV_W, l),
                       P(ps, params, VKT_P_QKV_B, l), A->q, err);
        } else {
            s = qkv_fwd(c, ps, params, l, B, T, inv, A, err);
        }
        if (s == VKT_OK)
            s = vkt_ref_attention_fwd_f64(B, T, H, KVH, D, scale, A->q, qs, A->k, ks, A->v, ks,
                                          A->att, A->lse, err);
        // x_mid = x + att W_o (+ b)
        if (s == VKT_OK)
            s = linear(conv, N, QW, C, A->att, P(ps, params, VKT_P_ATTN_OUT_W, l),
                       P(ps, params, VKT_P_ATTN_OUT_B, l), tmp, err);
        if (s != VKT_OK) break;
        for (size_t i = 0; i < (size_t)N * C; i++) A->x_mid[i] = x[i] + tmp[i];
        s = norm_fwd(c, N, A->x_mid, P(ps, params, VKT_P_LN2_W, l), P(ps, params, VKT_P_LN2_B, l),
                     A->ln2, A->ln2_mean, A->ln2_rstd, err);
        if (s == VKT_OK)
            s = linear(conv, N, C, F, A->ln2, P(ps, params, VKT_P_FC_W, l),
                       P(ps, params, VKT_P_FC_B, l), A->fc, err);
        if (s == VKT_OK && gpt2) s = vkt_ref_gelu_fwd_f64((size_t)N * F, A->fc, A->act, err);
        if (s == VKT_OK && !gpt2) {
            s = linear(conv, N, C, F, A->ln2, P(ps, params, VKT_P_UP_W, l),
                       P(ps, params, VKT_P_UP_B, l), A->up, err);
            if (s == VKT_OK) s = vkt_ref_swiglu_fwd_f64(N, F, A->fc, F, A->up, F, A->act, F, err);
        }
        if (s == VKT_OK)
            s = linear(conv, N, F, C, A->act, P(ps, params, VKT_P_PROJ_W, l),
                       P(ps, params, VKT_P_PROJ_B, l), tmp, err);
        if (s != VKT_OK) break;
        for (size_t i = 0; i < (size_t)N * C; i++) x[i] = A->x_mid[i] + tmp[i];
        if (resid_edit && resid_edit[l])
            s = vkt_ref_add_row_vector_f64(N, C, 1.0, resid_edit[l], x, err);
    }
    if (s == VKT_OK)
        s = norm_fwd(c, N, x, P(ps, params, VKT_P_LNF_W, -1), P(ps, params, VKT_P_LNF_B, -1), lnf,
                     lnf_mean, lnf_rstd, err);
    const double *head = c->tied ? P(ps, params, VKT_P_WTE, -1) : P(ps, params, VKT_P_LM_HEAD, -1);
    if (s == VKT_OK)
        s = vkt_ref_matmul_f64(false, true, N, V, C, 1.0, lnf, head, 0.0, logits, NULL, err);
    if (s == VKT_OK && logits_out) memcpy(logits_out, logits, (size_t)N * V * sizeof *logits);
    if (s == VKT_OK)
        s = vkt_ref_cross_entropy_f64(N, V, logits, targets, w1, loss_scale, rowloss, dlogits, NULL,
                                      err);
    if (s != VKT_OK) goto done;
    double total = 0;
    for (int i = 0; i < N; i++) total += rowloss[i];
    if (loss_out) *loss_out = loss_scale * total;
    if (!grads) goto done;

    // ---- backward: gradients accumulate into zeroed grads ----
    memset(grads, 0, ps->total * sizeof *grads);
    double *dx = calloc((size_t)N * C, sizeof *dx), *dln = calloc((size_t)N * C, sizeof *dln),
           *dF = calloc((size_t)N * F, sizeof *dF), *dF2 = calloc((size_t)N * F, sizeof *dF2),
           *dq = calloc((size_t)N * (gpt2 ? 3 * C : QW), sizeof *dq),
           *dk = gpt2 ? NULL : calloc((size_t)N * KV, sizeof *dk),
           *dv = gpt2 ? NULL : calloc((size_t)N * KV, sizeof *dv),
           *datt = calloc((size_t)N * QW, sizeof *datt),
           *dqp = qkn ? calloc((size_t)N * QW, sizeof *dqp) : NULL,
           *dkp = qkn ? calloc((size_t)N * KV, sizeof *dkp) : NULL;
    if (!dx || !dln || !dF || !dF2 || !dq || (!gpt2 && (!dk || !dv)) || !datt ||
        (qkn && (!dqp || !dkp))) {
        s = vkt_fail(err, VKT_ERR_NOMEM, "reference model gradients");
        goto bwd_done;
    }
    double *dhead = c->tied ? G(ps, grads, VKT_P_WTE, -1) : G(ps, grads, VKT_P_LM_HEAD, -1);
    // logits = lnf head^T: dlnf = dlogits head; dhead += dlogits^T lnf
    s = vkt_ref_matmul_f64(false, false, N, C, V, 1.0, dlogits, head, 0.0, dln, NULL, err);
    if (s == VKT_OK)
        s = vkt_ref_matmul_f64(true, false, V, C, N, 1.0, dlogits, lnf, 1.0, dhead, NULL, err);
    if (s == VKT_OK)
        s = norm_bwd(c, N, dln, x, P(ps, params, VKT_P_LNF_W, -1), lnf_mean, lnf_rstd, dx,
                     G(ps, grads, VKT_P_LNF_W, -1), G(ps, grads, VKT_P_LNF_B, -1), err);
    for (int l = L - 1; l >= 0 && s == VKT_OK; l--) {
        layer_acts *A = &a[l];
        // x_out = x_mid + mlp(ln2(x_mid)): dx flows to x_mid directly and through the MLP.
        memset(dF, 0, (size_t)N * F * sizeof *dF);
        s = linear_bwd(conv, N, F, C, dx, A->act, P(ps, params, VKT_P_PROJ_W, l), dF,
                       G(ps, grads, VKT_P_PROJ_W, l), G(ps, grads, VKT_P_PROJ_B, l), err);
        if (s != VKT_OK) break;
        memset(dln, 0, (size_t)N * C * sizeof *dln);
        if (gpt2) {
            memset(dF2, 0, (size_t)N * F * sizeof *dF2);
            s = vkt_ref_gelu_bwd_f64((size_t)N * F, A->fc, dF, dF2, err);
            if (s == VKT_OK)
                s = linear_bwd(conv, N, C, F, dF2, A->ln2, P(ps, params, VKT_P_FC_W, l), dln,
                               G(ps, grads, VKT_P_FC_W, l), G(ps, grads, VKT_P_FC_B, l), err);
        } else {
            double *dgate = dF2, *dup = tmp;
            memset(dgate, 0, (size_t)N * F * sizeof *dgate);
            memset(dup, 0, (size_t)N * F * sizeof *dup);
            s = vkt_ref_swiglu_bwd_f64(N, F, dF, F, A->fc, F, A->up, F, dgate, dup, err);
            if (s == VKT_OK)
                s = linear_bwd(conv, N, C, F, dgate, A->ln2, P(ps, params, VKT_P_FC_W, l), dln,
                               G(ps, grads, VKT_P_FC_W, l), G(ps, grads, VKT_P_FC_B, l), err);
            if (s == VKT_OK)
                s = linear_bwd(conv, N, C, F, dup, A->ln2, P(ps, params, VKT_P_UP_W, l), dln,
                               G(ps, grads, VKT_P_UP_W, l), G(ps, grads, VKT_P_UP_B, l), err);
        }
        if (s == VKT_OK)
            s = norm_bwd(c, N, dln, A->x_mid, P(ps, params, VKT_P_LN2_W, l), A->ln2_mean,
                         A->ln2_rstd, dx, G(ps, grads, VKT_P_LN2_W, l),
                         G(ps, grads, VKT_P_LN2_B, l), err);
        // x_mid = x_in + attn(ln1(x_in))
        memset(datt, 0, (size_t)N * QW * sizeof *datt);
        if (s == VKT_OK)
            s = linear_bwd(conv, N, QW, C, dx, A->att, P(ps, params, VKT_P_ATTN_OUT_W, l), datt,
                           G(ps, grads, VKT_P_ATTN_OUT_W, l), G(ps, grads, VKT_P_ATTN_OUT_B, l),
                           err);
        if (s != VKT_OK) break;
        memset(dq, 0, (size_t)N * (gpt2 ? 3 * C : QW) * sizeof *dq);
        double *dkk = gpt2 ? dq + C : dk, *dvv = gpt2 ? dq + 2 * C : dv;
        if (!gpt2) {
            memset(dk, 0, (size_t)N * KV * sizeof *dk);
            memset(dv, 0, (size_t)N * KV * sizeof *dv);
        }
        s = vkt_ref_attention_bwd_f64(B, T, H, KVH, D, scale, datt, A->q, qs, A->k, ks, A->v, ks,
                                      A->att, A->lse, dq, dkk, dvv, err);
        memset(dln, 0, (size_t)N * C * sizeof *dln);
        if (s == VKT_OK && gpt2)
            s = linear_bwd(conv, N, C, 3 * C, dq, A->ln1, P(ps, params, VKT_P_QKV_W, l), dln,
                           G(ps, grads, VKT_P_QKV_W, l), G(ps, grads, VKT_P_QKV_B, l), err);
        if (s == VKT_OK && !gpt2) {
            qkv_grads g = {dq, dk, dv, dqp, dkp, dln};
            s = qkv_bwd(c, ps, params, grads, l, B, T, inv, A, &g, err);
        }
        if (s == VKT_OK)
            s = norm_bwd(c, N, dln, A->x_in, P(ps, params, VKT_P_LN1_W, l), A->ln1_mean,
                         A->ln1_rstd, dx, G(ps, grads, VKT_P_LN1_W, l),
                         G(ps, grads, VKT_P_LN1_B, l), err);
    }
    if (s == VKT_OK)
        s = vkt_ref_embedding_bwd_f64(N, C, V, c->context, tokens, pos, dx,
                                      G(ps, grads, VKT_P_WTE, -1),
                                      gpt2 ? G(ps, grads, VKT_P_WPE, -1) : NULL, err);
bwd_done:
    free(dx), free(dln), free(dF), free(dF2), free(dq), free(dk), free(dv), free(datt), free(dqp),
        free(dkp);
done:
    if (a)
        for (int l = 0; l < L; l++) {
            layer_acts *A = &a[l];
            free(A->x_in), free(A->ln1), free(A->att), free(A->x_mid), free(A->ln2),
                free(A->ln1_mean);
            free(A->ln1_rstd), free(A->ln2_mean), free(A->ln2_rstd), free(A->lse), free(A->q),
                free(A->fc);
            free(A->up), free(A->act), free(A->q_pre), free(A->k_pre), free(A->q_rstd),
                free(A->k_rstd);
            if (!gpt2) free(A->k), free(A->v);
        }
    free(a), free(pos), free(w1), free(x), free(lnf), free(lnf_mean), free(lnf_rstd), free(logits),
        free(dlogits);
    free(rowloss), free(tmp);
    return s;
}
