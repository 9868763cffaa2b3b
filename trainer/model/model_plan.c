// model_plan.c: a model's activations for a planned batch (B, T): one buffer laid out by
// layout() (counted first, then placed), the inputs buffer, and the batch's upload.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lora.h"
#include "model_internal.h"
#include "op_embedding.h"
#include "op_loss.h"
#include "op_matmul.h"
#include "op_norm.h"
#include "op_reduce.h"

void vkt_model_free_plan(vkt_model *m) {
    if (m->acts) vkt_buffer_destroy(m->ctx, m->acts);
    if (m->inputs) vkt_buffer_destroy(m->ctx, m->inputs);
    m->acts = m->inputs = NULL;
    free(m->lv);
    m->lv = NULL;
    m->B = m->T = 0;
}

// n 16-bit values, two a float slot.
static vkt_view take16(vkt_arena *a, uint64_t n) {
    vkt_view v = vkt_arena_take(a, (n + 1) / 2);
    v.bytes = (n + 1) / 2 * 4;
    return v;
}

// An activation only matmuls read: 16-bit under mixed precision.
static vkt_view act_take(const vkt_model *m, vkt_arena *a, uint64_t n) {
    return m->mixed ? take16(a, n) : vkt_arena_take(a, n);
}

// Lays out every activation; with a->buf == NULL it only counts.
static void layout(vkt_model *m, vkt_arena *a) {
    const vkt_model_config *c = &m->cfg;
    const uint64_t N = (uint64_t)m->B * m->T, C = c->width, F = c->ffn, V = c->vocab,
                   QW = vkt_q_width(c);
    const uint64_t KV = (uint64_t)c->kv_heads * vkt_head_dim(c),
                   BHT = (uint64_t)m->B * c->heads * m->T;
    const bool gpt2 = c->family == VKT_FAMILY_GPT2;
    m->splitk = m->stage = m->dy_h = (vkt_view){0};
    for (int l = 0; l <= c->layers; l++) {
        layer_views *x = &m->lv[l];
        x->res = vkt_arena_take(a, N * C);
        if (l == c->layers) break;
        x->ln1 = act_take(m, a, N * C), x->ln1_mean = vkt_arena_take(a, N),
        x->ln1_rstd = vkt_arena_take(a, N);
        if (gpt2) {
            x->qkv = vkt_arena_take(a, N * 3 * C);
            x->q = vkt_view_f32(x->qkv, 0, N * 3 * C);
            x->k = vkt_view_f32(x->qkv, C, N * 3 * C - C);
            x->v = vkt_view_f32(x->qkv, 2 * C, N * 3 * C - 2 * C);
        } else {
            x->q = vkt_arena_take(a, N * QW), x->k = vkt_arena_take(a, N * KV),
            x->v = vkt_arena_take(a, N * KV);
            if (c->qk_norm) {
                x->q_pre = vkt_arena_take(a, N * QW), x->k_pre = vkt_arena_take(a, N * KV);
                x->q_rstd = vkt_arena_take(a, N * c->heads),
                x->k_rstd = vkt_arena_take(a, N * c->kv_heads);
            }
        }
        if (m->mixed) x->att_h = take16(a, N * QW);
        x->att = vkt_arena_take(a, N * QW), x->lse = vkt_arena_take(a, BHT),
        x->mid = vkt_arena_take(a, N * C);
        x->ln2 = act_take(m, a, N * C), x->ln2_mean = vkt_arena_take(a, N),
        x->ln2_rstd = vkt_arena_take(a, N);
        x->fc = vkt_arena_take(a, N * F), x->act = act_take(m, a, N * F);
        if (!gpt2) x->up = vkt_arena_take(a, N * F);
    }
    m->lnf = act_take(m, a, N * C), m->lnf_mean = vkt_arena_take(a, N),
    m->lnf_rstd = vkt_arena_take(a, N);
    m->logits = vkt_arena_take(a, N * V), m->loss = vkt_arena_take(a, N),
    m->ent = vkt_arena_take(a, N);
    m->d_res = vkt_arena_take(a, N * C), m->d_ln = vkt_arena_take(a, N * C),
    m->d_att = vkt_arena_take(a, N * QW);
    m->d_q = vkt_arena_take(a, N * (gpt2 ? 3 * C : QW));
    if (!gpt2)
        m->d_k = vkt_arena_take(a, N * KV), m->d_v = vkt_arena_take(a, N * KV),
        m->d_up = vkt_arena_take(a, N * F);
    if (c->qk_norm) m->d_qp = vkt_arena_take(a, N * QW), m->d_kp = vkt_arena_take(a, N * KV);
    m->d_f = vkt_arena_take(a, N * F), m->d_f2 = vkt_arena_take(a, N * F);
    if (!m->opts.frozen) {
        // split-k scratch for the largest weight gradient that splits (none on CPU devices);
        // mixed precision's 16-bit products use the same fp32 layers
        uint64_t in_out[][2] = {{C, gpt2 ? 3 * C : QW}, {QW, C}, {C, F}, {F, C}, {C, KV}, {V, C}},
                 sk = 0;
        for (int i = 0; i < 6; i++) {
            uint64_t f = vkt_matmul_splitk_scratch_floats(m->ctx, (int)in_out[i][0],
                                                          (int)in_out[i][1], (int)N, 0);
            uint64_t g = vkt_matmul_splitk_scratch_floats(m->ctx, (int)in_out[i][1],
                                                          (int)in_out[i][0], (int)N, 0);
            sk = f > sk ? f : sk, sk = g > sk ? g : sk;
        }
        if (sk) m->splitk = vkt_arena_take(a, sk);
    }
    if (m->mixed) {
        uint64_t widest = V > F ? V : F;
        widest = widest > 3 * C ? widest : 3 * C;
        m->stage = vkt_arena_take(a, N * (C > F ? C : F));
        m->dy_h = take16(a, N * (widest > QW ? widest : QW));
    }
    uint64_t sc = vkt_layernorm_bwd_scratch_bytes((int)N, (int)C);
    uint64_t cand[] = {
        vkt_rmsnorm_bwd_scratch_bytes((int)N, (int)C),
        vkt_reduce_scratch_bytes(m->ctx, m->ps.total), vkt_reduce_scratch_bytes(m->ctx, N),
        c->qk_norm ? vkt_rmsnorm_bwd_scratch_bytes((int)N * c->heads, vkt_head_dim(c)) : 0};
    for (int i = 0; i < 4; i++)
        if (cand[i] > sc) sc = cand[i];
    m->scratch = vkt_arena_take(a, sc / 4 + 64);
    if (m->opts.frozen)
        m->dummy = vkt_arena_take(a, C > (uint64_t)vkt_head_dim(c) ? C : (uint64_t)vkt_head_dim(c));
    m->red = vkt_arena_take(a, 12);
}

uint64_t vkt_model_plan_bytes(const vkt_model *m, int B, int T) {
    vkt_model t = *m;
    t.B = B, t.T = T;
    t.lv = calloc((size_t)m->cfg.layers + 1, sizeof *t.lv);
    if (!t.lv) return UINT64_MAX;
    vkt_arena count = {NULL, 0};
    layout(&t, &count);
    free(t.lv);
    const uint64_t N = (uint64_t)B * T;
    return count.used * 4 + vkt_embedding_ids_bytes((int)N, true) + N * 12 + 2048;
}

vkt_status vkt_model_plan(vkt_model *m, int B, int T) {
    if (B < 1 || T < 1 || T > m->cfg.context)
        return vkt_fail(m->err, VKT_ERR_ARG,
                        "model plan: batch %d x %d tokens (need B >= 1, 1 <= T <= context %d)", B,
                        T, m->cfg.context);
    if (m->cfg.sliding_window > 0 && T > m->cfg.sliding_window)
        return vkt_fail(
            m->err, VKT_ERR_UNSUPPORTED,
            "model plan: %d tokens a row is past the model's sliding_window %d (vkt attends to the "
            "whole row: rows up to the window only)",
            T, m->cfg.sliding_window);
    if (m->B == B && m->T == T) return m->lora ? vkt_lora_plan(m->lora, B * T) : VKT_OK;
    vkt_model_free_plan(m);
    m->lv = calloc((size_t)m->cfg.layers + 1, sizeof *m->lv);
    if (!m->lv) return vkt_fail(m->err, VKT_ERR_NOMEM, "model plan");
    m->B = B, m->T = T;
    vkt_arena count = {NULL, 0};
    layout(m, &count);
    const uint64_t N = (uint64_t)B * T;
    VKT_TRY(vkt_buffer_create(m->ctx, count.used * 4, &m->acts));
    uint64_t idb = vkt_embedding_ids_bytes((int)N, true);
    VKT_TRY(vkt_buffer_create(m->ctx, idb + N * 12 + 2048, &m->inputs));
    vkt_arena a = {m->acts, 0};
    layout(m, &a);
    vkt_arena in = {m->inputs, 0};
    m->ids_view = vkt_arena_take(&in, (idb + 3) / 4), m->tw = vkt_arena_take(&in, 2 * N);
    m->ec = vkt_arena_take(&in, N);
    return m->lora ? vkt_lora_plan(m->lora, (int)N) : VKT_OK;
}

vkt_status vkt_model_set_batch(vkt_model *m, const int32_t *tokens, const int32_t *targets,
                               const float *weights) {
    if (!m->acts) return vkt_fail(m->err, VKT_ERR_ARG, "model: set_batch before plan");
    const int N = m->B * m->T, V = m->cfg.vocab;
    for (int i = 0; i < N; i++)
        if (tokens[i] < 0 || tokens[i] >= V)
            return vkt_fail(
                m->err, VKT_ERR_ARG,
                "model input: token %d at position %d is outside the vocabulary [0, %d)", tokens[i],
                i, V);
    int32_t *pos = malloc((size_t)N * sizeof *pos);
    if (!pos) return vkt_fail(m->err, VKT_ERR_NOMEM, "positions");
    for (int i = 0; i < N; i++) pos[i] = i % m->T;
    vkt_status s =
        vkt_embedding_ids_upload(m->ctx, N, V, m->cfg.context, tokens, pos, m->ids_view, &m->ids);
    free(pos);
    // RoPE reads the positions the embedding upload put on the device.
    if (s == VKT_OK) m->pos = vkt_view_f32(m->ids.view, m->ids.pos, (uint64_t)N);
    m->has_targets = targets != NULL;
    m->weight_sum = 0;
    m->entropy_rows = 0;
    if (s == VKT_OK && targets) {
        float *w = NULL;
        if (!weights) {
            w = malloc((size_t)N * sizeof *w);
            if (!w) return vkt_fail(m->err, VKT_ERR_NOMEM, "weights");
            for (int i = 0; i < N; i++) w[i] = 1.0f;
        }
        const float *ww = weights ? weights : w;
        for (int i = 0; i < N; i++) m->weight_sum += fabs((double)ww[i]);
        s = vkt_cross_entropy_stage(m->ctx, N, V, targets, ww, m->tw);
        free(w);
    }
    return s;
}

vkt_status vkt_model_set_entropy(vkt_model *m, const float *coef) {
    if (!m->acts) return vkt_fail(m->err, VKT_ERR_ARG, "model: set_entropy before plan");
    if (!m->has_targets)
        return vkt_fail(m->err, VKT_ERR_ARG, "model: set_entropy on a batch without targets");
    m->entropy_rows = 0;
    if (!coef) return VKT_OK;
    const int N = m->B * m->T;
    int rows = 0;
    for (int i = 0; i < N; i++) rows += coef[i] != 0;
    VKT_TRY(vkt_cross_entropy_stage_ent(m->ctx, N, coef, m->ec));
    m->entropy_rows = rows;
    return VKT_OK;
}
