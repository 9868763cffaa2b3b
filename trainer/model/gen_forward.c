// gen_forward.c: the KV-cached forward behind generation (sampling: gen_sample.c), scoring and
// evaluation (generate.h), in the op order of vkt_model_forward (model.c) and the reference model.
//
// One forward takes "feeds": (slot, n new tokens) for any set of sequences. Their rows are
// stacked, (N, C) with N = sum n, and every row-wise op (norms, linear layers, MLP,
// residual adds, the steering edit) runs once over all of them. Keys and values of the new
// rows are copied into the slot's cache rows [len, len + n); attention then runs per run of
// consecutive slots that share (len, n) (the usual case while decoding: one dispatch for
// the whole batch) with vkt_attention_fwd_cached, queries at positions len.. over the
// cached keys 0..len+n-1.
//
// Cache rows: GPT-2 keeps the fused qkv row (3C floats, q included) so one copy per
// sequence stores k and v; Llama keeps separate K and V caches of KV = kv_heads * head_dim
// floats a row (RoPE already applied to k).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gen_internal.h"
#include "lora.h"
#include "model_internal.h"
#include "op_activation.h"
#include "op_attention.h"
#include "op_elementwise.h"
#include "op_embedding.h"
#include "op_loss.h"
#include "op_matmul.h"
#include "op_norm.h"
#include "op_rope.h"

static vkt_view none(void) { return (vkt_view){0}; }
#define P(k, l) vkt_model_pview(g->m, g->m->params, k, l)

// Floats [first, end of buffer) of b: ops check the extent they need themselves.
static vkt_view from(vkt_buffer *b, uint64_t first) {
    return vkt_view_f32(vkt_view_all(b), first, vkt_buffer_bytes(b) / 4 - first);
}
static vkt_view rows(vkt_view v, uint64_t first_row, uint64_t n, uint64_t width) {
    return vkt_view_f32(v, first_row * width, n * width);
}

static void layout(vkt_gen *g, vkt_arena *a) {
    const vkt_model_config *c = vkt_model_cfg(g->m);
    const uint64_t R = (uint64_t)g->R, C = c->width, F = c->ffn, V = c->vocab, QW = vkt_q_width(c);
    const uint64_t KV = (uint64_t)c->kv_heads * vkt_head_dim(c);
    const bool gpt2 = c->family == VKT_FAMILY_GPT2;
    g->res = vkt_arena_take(a, R * C), g->ln = vkt_arena_take(a, R * C),
    g->mean = vkt_arena_take(a, R), g->rstd = vkt_arena_take(a, R);
    if (gpt2) {
        g->qkv = vkt_arena_take(a, R * 3 * C);
    } else {
        g->q = vkt_arena_take(a, R * QW), g->k = vkt_arena_take(a, R * KV),
        g->v = vkt_arena_take(a, R * KV);
        // qk_norm rstd: one per head row (normalized in place)
        if (c->qk_norm) g->qk_rstd = vkt_arena_take(a, R * (uint64_t)c->heads);
    }
    g->att = vkt_arena_take(a, R * QW), g->lse = vkt_arena_take(a, R * (uint64_t)c->heads);
    g->fc = vkt_arena_take(a, R * F), g->act = vkt_arena_take(a, R * F);
    if (!gpt2) g->up = vkt_arena_take(a, R * F);
    g->last = vkt_arena_take(a, (uint64_t)g->S * C);
    g->logits = vkt_arena_take(a, R * V), g->loss = vkt_arena_take(a, R);
}

uint64_t vkt_gen_bytes(vkt_model *m, int max_seqs, int max_len, int max_rows) {
    const vkt_model_config *c = vkt_model_cfg(m);
    vkt_gen g = {.m = m, .S = max_seqs, .Lmax = max_len ? max_len : c->context, .R = max_rows};
    if (g.R == 0) {
        long long r = (long long)g.S * g.Lmax;
        g.R = (int)(r > 1024 ? 1024 : r > g.S ? r : g.S);
    }
    vkt_arena count = {NULL, 0};
    layout(&g, &count);
    const uint64_t row = c->family == VKT_FAMILY_GPT2 ? 3 * (uint64_t)c->width
                                                      : 2 * (uint64_t)c->kv_heads * vkt_head_dim(c);
    return (uint64_t)c->layers * g.S * g.Lmax * row * 4 + count.used * 4 +
           vkt_embedding_ids_bytes(g.R, true) + (uint64_t)g.R * 8 + 1024 +
           (uint64_t)c->layers * c->width * 4;
}

vkt_status vkt_gen_create(vkt_model *m, int max_seqs, int max_len, int max_rows, vkt_gen **out) {
    *out = NULL;
    vkt_ctx *ctx = vkt_model_ctx(m);
    vkt_error *err = vkt_ctx_err(ctx);
    const vkt_model_config *c = vkt_model_cfg(m);
    if (max_len == 0) max_len = c->context;
    if (max_seqs < 1 || max_len < 1 || max_len > c->context || max_rows < 0)
        return vkt_fail(err, VKT_ERR_ARG,
                        "generate: plan of %d sequences x %d positions (need >= 1, <= context %d)",
                        max_seqs, max_len, c->context);
    if (c->sliding_window > 0 && max_len > c->sliding_window)
        return vkt_fail(err, VKT_ERR_UNSUPPORTED,
                        "generate: %d positions a sequence is past the model's sliding_window %d "
                        "(vkt attends to "
                        "the whole sequence: sequences up to the window only)",
                        max_len, c->sliding_window);
    if (max_rows == 0) {
        long long r = (long long)max_seqs * max_len;
        if (r > 1024) r = 1024;
        max_rows = (int)(r > max_seqs ? r : max_seqs);
    }
    if (max_rows < max_seqs)
        return vkt_fail(err, VKT_ERR_ARG,
                        "generate: max_rows %d < max_seqs %d (decoding feeds one row per sequence)",
                        max_rows, max_seqs);
    vkt_gen *g = calloc(1, sizeof *g);
    if (!g) return vkt_fail(err, VKT_ERR_NOMEM, "generate plan");
    g->m = m, g->ctx = ctx, g->err = err;
    g->S = max_seqs, g->Lmax = max_len, g->R = max_rows;
    g->kc = calloc((size_t)c->layers, sizeof *g->kc);
    g->vc = calloc((size_t)c->layers, sizeof *g->vc);
    g->edit_on = calloc((size_t)c->layers, sizeof *g->edit_on);
    g->len = calloc((size_t)g->S, sizeof *g->len);
    vkt_status s = VKT_OK;
    if (!g->kc || !g->vc || !g->edit_on || !g->len)
        s = vkt_fail(err, VKT_ERR_NOMEM, "generate plan");
    const bool gpt2 = c->family == VKT_FAMILY_GPT2;
    const uint64_t KV = (uint64_t)c->kv_heads * vkt_head_dim(c);
    const uint64_t slot_rows = (uint64_t)g->S * g->Lmax;
    for (int l = 0; s == VKT_OK && l < c->layers; l++) {
        s = vkt_buffer_create(ctx, slot_rows * (gpt2 ? 3 * (uint64_t)c->width : KV) * 4, &g->kc[l]);
        if (s == VKT_OK && !gpt2) s = vkt_buffer_create(ctx, slot_rows * KV * 4, &g->vc[l]);
    }
    if (s == VKT_OK) {
        vkt_arena count = {NULL, 0};
        layout(g, &count);
        s = vkt_buffer_create(ctx, count.used * 4, &g->acts);
        vkt_arena a = {g->acts, 0};
        if (s == VKT_OK) layout(g, &a);
    }
    if (s == VKT_OK) {
        uint64_t idb = vkt_embedding_ids_bytes(g->R, true);
        s = vkt_buffer_create(ctx, idb + (uint64_t)g->R * 8 + 1024, &g->inputs);
        vkt_arena in = {g->inputs, 0};
        if (s == VKT_OK)
            g->ids_view = vkt_arena_take(&in, (idb + 3) / 4),
            g->tw = vkt_arena_take(&in, 2 * (uint64_t)g->R);
    }
    if (s == VKT_OK) s = vkt_buffer_create(ctx, (uint64_t)c->layers * c->width * 4, &g->editbuf);
    if (s == VKT_OK && m->lora) s = vkt_lora_plan(m->lora, g->R); // grows only
    if (s != VKT_OK) {
        vkt_gen_destroy(g);
        return s;
    }
    *out = g;
    return VKT_OK;
}

void vkt_gen_destroy(vkt_gen *g) {
    if (!g) return;
    const vkt_model_config *c = vkt_model_cfg(g->m);
    for (int l = 0; l < c->layers; l++) {
        if (g->kc && g->kc[l]) vkt_buffer_destroy(g->ctx, g->kc[l]);
        if (g->vc && g->vc[l]) vkt_buffer_destroy(g->ctx, g->vc[l]);
    }
    vkt_buffer *b[] = {g->acts, g->inputs, g->editbuf};
    for (int i = 0; i < 3; i++)
        if (b[i]) vkt_buffer_destroy(g->ctx, b[i]);
    free(g->kc), free(g->vc), free(g->edit_on), free(g->len);
    free(g);
}

int vkt_gen_max_seqs(const vkt_gen *g) { return g->S; }
int vkt_gen_max_len(const vkt_gen *g) { return g->Lmax; }
vkt_ctx *vkt_gen_ctx(vkt_gen *g) { return g->ctx; }

vkt_status vkt_gen_set_edit(vkt_gen *g, const float *dirs) {
    const vkt_model_config *c = vkt_model_cfg(g->m);
    g->has_edit = false;
    memset(g->edit_on, 0, (size_t)c->layers * sizeof *g->edit_on);
    if (!dirs) return VKT_OK;
    for (int l = 0; l < c->layers; l++)
        for (int j = 0; j < c->width; j++)
            if (dirs[(size_t)l * c->width + j] != 0.0f) g->edit_on[l] = g->has_edit = true;
    if (!g->has_edit) return VKT_OK;
    return vkt_upload(g->ctx, vkt_view_all(g->editbuf), dirs, (uint64_t)c->layers * c->width * 4);
}

void vkt_gen_set_hook(vkt_gen *g, vkt_gen_hook hook, void *user) {
    g->hook = hook;
    g->hook_user = user;
}

// y (M, OUT) = x W + b (+ y when beta = 1): Conv1D W (IN, OUT) for GPT-2, Linear (OUT, IN) for
// Llama. Weight kind k of layer l (fp32 or 16-bit), its bias, and the layer's LoRA adapter.
static vkt_status linear(vkt_gen *g, int M, int IN, int OUT, vkt_view x, vkt_param_kind k, int l,
                         float beta, vkt_view y) {
    vkt_model *m = g->m;
    bool conv = m->cfg.family == VKT_FAMILY_GPT2;
    VKT_TRY(vkt_model_wmm(m, !conv, M, OUT, IN, x, P(k, l), beta, y, P(vkt_model_bias_of(k), l)));
    return m->lora ? vkt_lora_fwd(m->lora, k, l, M, x, y) : VKT_OK;
}

static vkt_status norm(vkt_gen *g, int N, vkt_view x, vkt_view w, vkt_view b, vkt_view y) {
    const vkt_model_config *c = vkt_model_cfg(g->m);
    if (c->norm == VKT_NORM_LAYERNORM)
        return vkt_layernorm_fwd(g->ctx, N, c->width, c->eps, x, w, b, y, g->mean, g->rstd);
    return vkt_rmsnorm_fwd(g->ctx, N, c->width, c->eps, x, w, y, g->rstd);
}

static vkt_status copy(vkt_gen *g, vkt_view src, vkt_view dst, uint64_t n) {
    return vkt_axpby(g->ctx, 1.0f, src, 0.0f, dst, n);
}

static vkt_status layers(vkt_gen *g, int nf, const feed *f, int N, const int32_t *pos,
                         const int32_t *seq);
static vkt_status head(vkt_gen *g, int nf, const feed *f, int N, bool all, const int32_t *targets);

// One forward over the feeds (slots distinct, in increasing order for batching).
// all = false: logits (nf, V) of the last row of each feed in g->logits.
// all = true: logits (N, V) of every row; with targets, g->loss (N) = w (lse - logit[target]).
vkt_status vkt_gen_forward(vkt_gen *g, int nf, const feed *f, bool all, const int32_t *targets,
                           const float *weights) {
    const vkt_model_config *c = vkt_model_cfg(g->m);
    const int V = c->vocab;
    int N = 0;
    for (int i = 0; i < nf; i++) {
        if (f[i].slot < 0 || f[i].slot >= g->S || f[i].n < 1 ||
            g->len[f[i].slot] + f[i].n > g->Lmax || (i > 0 && f[i].slot <= f[i - 1].slot))
            return vkt_fail(g->err, VKT_ERR_ARG,
                            "generate: feed %d (slot %d, %d tokens at %d) does not fit the plan", i,
                            f[i].slot, f[i].n,
                            f[i].slot >= 0 && f[i].slot < g->S ? g->len[f[i].slot] : -1);
        N += f[i].n;
    }
    if (N < 1 || N > g->R || nf > g->S)
        return vkt_fail(g->err, VKT_ERR_ARG,
                        "generate: %d rows in %d sequences (plan: %d rows, %d sequences)", N, nf,
                        g->R, g->S);
    int32_t *tok = malloc((size_t)N * sizeof *tok), *pos = malloc((size_t)N * sizeof *pos);
    int32_t *seq = malloc((size_t)N * sizeof *seq);
    if (!tok || !pos || !seq) {
        free(tok), free(pos), free(seq);
        return vkt_fail(g->err, VKT_ERR_NOMEM, "generate: %d rows", N);
    }
    for (int i = 0, r = 0; i < nf; i++)
        for (int t = 0; t < f[i].n; t++, r++)
            tok[r] = f[i].tok[t], pos[r] = g->len[f[i].slot] + t, seq[r] = f[i].seq;
    vkt_status s = VKT_OK;
    // Uploads wait for the device: both before recording anything.
    if (all && targets) s = vkt_cross_entropy_stage(g->ctx, N, V, targets, weights, g->tw);
    if (s == VKT_OK)
        s = vkt_embedding_ids_upload(g->ctx, N, V, c->context, tok, pos, g->ids_view, &g->ids);
    free(tok);
    if (s != VKT_OK) {
        free(pos), free(seq);
        return s;
    }
    s = layers(g, nf, f, N, pos, seq);
    free(pos), free(seq);
    VKT_TRY(s);
    for (int i = 0; i < nf; i++) g->len[f[i].slot] += f[i].n;
    return head(g, nf, f, N, all, targets);
}

// Llama family: q, k, v (with biases), Qwen3's per-head q/k RMSNorm (in place), RoPE.
static vkt_status qkv(vkt_gen *g, int l, int N, vkt_view posv) {
    const vkt_model_config *c = vkt_model_cfg(g->m);
    const int C = c->width, H = c->heads, KVH = c->kv_heads, D = vkt_head_dim(c), KV = KVH * D,
              QW = vkt_q_width(c);
    VKT_TRY(linear(g, N, C, QW, g->ln, VKT_P_Q_W, l, 0.0f, g->q));
    VKT_TRY(linear(g, N, C, KV, g->ln, VKT_P_K_W, l, 0.0f, g->k));
    VKT_TRY(linear(g, N, C, KV, g->ln, VKT_P_V_W, l, 0.0f, g->v));
    if (c->qk_norm) {
        VKT_TRY(
            vkt_rmsnorm_fwd(g->ctx, N * H, D, c->eps, g->q, P(VKT_P_Q_NORM, l), g->q, g->qk_rstd));
        VKT_TRY(vkt_rmsnorm_fwd(g->ctx, N * KVH, D, c->eps, g->k, P(VKT_P_K_NORM, l), g->k,
                                g->qk_rstd));
    }
    VKT_TRY(vkt_rope_fwd_freq(g->ctx, 1, N, H, D, QW, posv, g->m->rope_freq, g->q));
    return vkt_rope_fwd_freq(g->ctx, 1, N, KVH, D, KV, posv, g->m->rope_freq, g->k);
}

// The blocks over the N stacked rows (embedding included).
static vkt_status layers(vkt_gen *g, int nf, const feed *f, int N, const int32_t *pos,
                         const int32_t *seq) {
    const vkt_model_config *c = vkt_model_cfg(g->m);
    const int C = c->width, F = c->ffn, H = c->heads, KVH = c->kv_heads, D = vkt_head_dim(c);
    const int KV = KVH * D, QW = vkt_q_width(c);
    const bool gpt2 = c->family == VKT_FAMILY_GPT2;
    const float scale = 1.0f / sqrtf((float)D);
    vkt_view posv = vkt_view_f32(g->ids.view, g->ids.pos, (uint64_t)N);

    if (g->m->opts.w16)
        VKT_TRY(vkt_embedding_fwd16(g->ctx, &g->ids, C, g->m->opts.w16, P(VKT_P_WTE, -1), g->res));
    else
        VKT_TRY(vkt_embedding_fwd(g->ctx, &g->ids, C, P(VKT_P_WTE, -1),
                                  gpt2 ? P(VKT_P_WPE, -1) : none(), g->res));
    for (int l = 0; l < c->layers; l++) {
        VKT_TRY(norm(g, N, g->res, P(VKT_P_LN1_W, l), P(VKT_P_LN1_B, l), g->ln));
        // New keys and values into the cache, one copy per sequence (and per tensor).
        if (gpt2) {
            VKT_TRY(linear(g, N, C, 3 * C, g->ln, VKT_P_QKV_W, l, 0.0f, g->qkv));
            for (int i = 0, r = 0; i < nf; r += f[i].n, i++) {
                uint64_t row = (uint64_t)f[i].slot * g->Lmax + g->len[f[i].slot];
                VKT_TRY(copy(g, rows(g->qkv, r, f[i].n, 3 * C), from(g->kc[l], row * 3 * C),
                             (uint64_t)f[i].n * 3 * C));
            }
        } else {
            VKT_TRY(qkv(g, l, N, posv));
            for (int i = 0, r = 0; i < nf; r += f[i].n, i++) {
                uint64_t row = (uint64_t)f[i].slot * g->Lmax + g->len[f[i].slot];
                VKT_TRY(copy(g, rows(g->k, r, f[i].n, KV), from(g->kc[l], row * KV),
                             (uint64_t)f[i].n * KV));
                VKT_TRY(copy(g, rows(g->v, r, f[i].n, KV), from(g->vc[l], row * KV),
                             (uint64_t)f[i].n * KV));
            }
        }
        // Attention per run of consecutive slots with the same (len, n): one batched call.
        for (int i = 0, r = 0; i < nf;) {
            int j = i + 1;
            while (j < nf && f[j].slot == f[j - 1].slot + 1 && f[j].n == f[i].n &&
                   g->len[f[j].slot] == g->len[f[i].slot])
                j++;
            const int B = j - i, Tq = f[i].n, q0 = g->len[f[i].slot];
            const uint64_t slot0 = (uint64_t)f[i].slot * g->Lmax;
            vkt_view q, k, v;
            int qs, ks;
            if (gpt2) {
                q = from(g->qkv.buf, g->qkv.offset / 4 + (uint64_t)r * 3 * C), qs = ks = 3 * C;
                k = from(g->kc[l], slot0 * 3 * C + C), v = from(g->kc[l], slot0 * 3 * C + 2 * C);
            } else {
                q = from(g->q.buf, g->q.offset / 4 + (uint64_t)r * QW), qs = QW, ks = KV;
                k = from(g->kc[l], slot0 * KV), v = from(g->vc[l], slot0 * KV);
            }
            VKT_TRY(vkt_attention_fwd_cached(
                g->ctx, B, Tq, q0, q0 + Tq, g->Lmax, H, KVH, D, scale, q, qs, k, ks, v, ks,
                rows(g->att, r, (uint64_t)B * Tq, QW), rows(g->lse, r, (uint64_t)B * Tq, H)));
            r += B * Tq;
            i = j;
        }
        // res += att W_o (+ b); res += mlp(norm(res)): accumulated in place (no backward here).
        VKT_TRY(linear(g, N, QW, C, g->att, VKT_P_ATTN_OUT_W, l, 1.0f, g->res));
        VKT_TRY(norm(g, N, g->res, P(VKT_P_LN2_W, l), P(VKT_P_LN2_B, l), g->ln));
        VKT_TRY(linear(g, N, C, F, g->ln, VKT_P_FC_W, l, 0.0f, g->fc));
        if (gpt2) {
            VKT_TRY(vkt_gelu_fwd(g->ctx, (uint64_t)N * F, g->fc, g->act));
        } else {
            VKT_TRY(linear(g, N, C, F, g->ln, VKT_P_UP_W, l, 0.0f, g->up));
            VKT_TRY(vkt_swiglu_fwd(g->ctx, N, F, g->fc, F, g->up, F, g->act, F));
        }
        VKT_TRY(linear(g, N, F, C, g->act, VKT_P_PROJ_W, l, 1.0f, g->res));
        if (g->has_edit && g->edit_on[l])
            VKT_TRY(vkt_add_row_vector(g->ctx, N, C, 1.0f,
                                       rows(vkt_view_all(g->editbuf), (uint64_t)l, 1, C), g->res));
        if (g->hook) VKT_TRY(g->hook(g->hook_user, g, l, g->res, N, seq, pos));
    }
    return VKT_OK;
}

// Final norm and LM head: the last row of each feed (or every row with `all`), and the
// per-row loss when targets were staged.
static vkt_status head(vkt_gen *g, int nf, const feed *f, int N, bool all, const int32_t *targets) {
    const vkt_model_config *c = vkt_model_cfg(g->m);
    const int C = c->width, V = c->vocab;

    vkt_view lm = c->tied ? P(VKT_P_WTE, -1) : P(VKT_P_LM_HEAD, -1);
    vkt_view src = g->res;
    int M = N;
    if (!all && nf < N) {
        // Only the last row of each sequence is sampled: gather them (nf, C).
        for (int i = 0, r = 0; i < nf; i++) {
            r += f[i].n;
            VKT_TRY(copy(g, rows(g->res, r - 1, 1, C), rows(g->last, i, 1, C), C));
        }
        src = g->last, M = nf;
    }
    VKT_TRY(norm(g, M, src, P(VKT_P_LNF_W, -1), P(VKT_P_LNF_B, -1), g->ln));
    VKT_TRY(vkt_model_wmm(g->m, true, M, V, C, g->ln, lm, 0.0f, g->logits, none()));
    if (all && targets)
        VKT_TRY(vkt_cross_entropy(g->ctx, N, V, g->logits, g->tw, 1.0f, false, g->loss, none()));
    return VKT_OK;
}

// --- teacher-forced scoring and evaluation ----------------------------------------------

vkt_status vkt_gen_score(vkt_gen *g, int n, const vkt_gen_prompt *prompts,
                         const int32_t *const *cont, const int *n_cont, float *const *logprob_out) {
    const int V = vkt_model_cfg(g->m)->vocab;
    if (n < 0 || (n > 0 && (!prompts || !cont || !n_cont || !logprob_out)))
        return vkt_fail(g->err, VKT_ERR_ARG, "score: bad arguments (n=%d)", n);
    for (int i = 0; i < n; i++) {
        if (prompts[i].n < 1 || n_cont[i] < 0 || (long long)prompts[i].n + n_cont[i] > g->Lmax)
            return vkt_fail(g->err, VKT_ERR_ARG,
                            "score: sequence %d has %d + %d tokens (need a prompt, at most %d)", i,
                            prompts[i].n, n_cont[i], g->Lmax);
        for (int t = 0; t < prompts[i].n + n_cont[i]; t++) {
            int32_t id = t < prompts[i].n ? prompts[i].ids[t] : cont[i][t - prompts[i].n];
            if (id < 0 || id >= V)
                return vkt_fail(g->err, VKT_ERR_ARG,
                                "score: sequence %d token %d is %d, outside [0, %d)", i, t, id, V);
        }
    }
    // Per sequence of a wave: the whole token list, and how much of it is fed.
    int32_t **full = calloc((size_t)g->S, sizeof *full);
    int *total = calloc((size_t)g->S, sizeof *total), *fed = calloc((size_t)g->S, sizeof *fed);
    feed *fd = calloc((size_t)g->S, sizeof *fd);
    int *who = calloc((size_t)g->S, sizeof *who);
    int32_t *tgt = malloc((size_t)g->R * sizeof *tgt);
    float *w = malloc((size_t)g->R * sizeof *w), *loss = malloc((size_t)g->R * sizeof *loss);
    vkt_status s = VKT_OK;
    if (!full || !total || !fed || !fd || !who || !tgt || !w || !loss)
        s = vkt_fail(g->err, VKT_ERR_NOMEM, "score");
    for (int w0 = 0; s == VKT_OK && w0 < n; w0 += g->S) {
        int nw = n - w0 < g->S ? n - w0 : g->S;
        for (int k = 0; k < nw; k++) {
            int i = w0 + k, P = prompts[i].n;
            total[k] = P + n_cont[i], fed[k] = 0, g->len[k] = 0;
            free(full[k]);
            full[k] = malloc((size_t)total[k] * sizeof **full);
            if (!full[k]) {
                s = vkt_fail(g->err, VKT_ERR_NOMEM, "score");
                break;
            }
            memcpy(full[k], prompts[i].ids, (size_t)P * sizeof **full);
            if (n_cont[i]) memcpy(full[k] + P, cont[i], (size_t)n_cont[i] * sizeof **full);
        }
        while (s == VKT_OK) {
            int nf = 0, N = 0;
            for (int k = 0; k < nw && N < g->R; k++) {
                int take = total[k] - fed[k];
                if (take > g->R - N) take = g->R - N;
                if (take <= 0) continue;
                // Row t of the sequence predicts token t+1; only continuation tokens count.
                int i = w0 + k, P = prompts[i].n;
                for (int t = fed[k]; t < fed[k] + take; t++, N++) {
                    bool scored = t >= P - 1 && t + 1 < total[k];
                    tgt[N] = t + 1 < total[k] ? full[k][t + 1] : 0;
                    w[N] = scored ? 1.0f : 0.0f;
                }
                fd[nf] = (feed){k, take, full[k] + fed[k], w0 + k};
                who[nf++] = k;
            }
            if (nf == 0) break;
            s = vkt_gen_forward(g, nf, fd, true, tgt, w);
            if (s == VKT_OK) s = vkt_download(g->ctx, g->loss, loss, (uint64_t)N * 4);
            for (int q = 0, r = 0; s == VKT_OK && q < nf; q++) {
                int k = who[q], i = w0 + k, P = prompts[i].n;
                for (int t = fed[k]; t < fed[k] + fd[q].n; t++, r++)
                    if (t >= P - 1 && t + 1 < total[k]) logprob_out[i][t + 1 - P] = -loss[r];
                fed[k] += fd[q].n;
            }
        }
    }
    for (int k = 0; full && k < g->S; k++) free(full[k]);
    free(full), free(total), free(fed), free(fd), free(who), free(tgt), free(w), free(loss);
    return s;
}

vkt_status vkt_gen_eval_ids(vkt_gen *g, const int32_t *ids, size_t len, double *nll,
                            int64_t *tokens) {
    const int W = g->Lmax;
    *nll = 0, *tokens = 0;
    // Windows go through vkt_gen_score a plan's worth at a time (prompt = first token).
    const int per = g->S;
    size_t nwin = (len + (size_t)W - 1) / (size_t)W;
    vkt_gen_prompt *pr = calloc((size_t)per, sizeof *pr);
    const int32_t **cont = calloc((size_t)per, sizeof *cont);
    int *nc = calloc((size_t)per, sizeof *nc);
    float **out = calloc((size_t)per, sizeof *out);
    float *lp = malloc((size_t)per * W * sizeof *lp);
    vkt_status s = VKT_OK;
    if (!pr || !cont || !nc || !out || !lp) s = vkt_fail(g->err, VKT_ERR_NOMEM, "eval");
    double sum = 0;
    int64_t count = 0;
    for (size_t w0 = 0; s == VKT_OK && w0 < nwin; w0 += (size_t)per) {
        int nb = 0;
        for (size_t wi = w0; wi < nwin && nb < per; wi++) {
            size_t a = wi * (size_t)W, b = a + (size_t)W < len ? a + (size_t)W : len;
            if (b - a < 2) continue; // a one-token window scores nothing
            pr[nb] = (vkt_gen_prompt){ids + a, 1, 0};
            cont[nb] = ids + a + 1, nc[nb] = (int)(b - a - 1), out[nb] = lp + (size_t)nb * W;
            nb++;
        }
        if (nb == 0) continue;
        s = vkt_gen_score(g, nb, pr, cont, nc, out);
        for (int k = 0; s == VKT_OK && k < nb; k++)
            for (int t = 0; t < nc[k]; t++) {
                if (!isfinite(out[k][t])) {
                    // The window starts at token a; row t scores token a + 1 + t.
                    size_t at = (w0 + (size_t)k) * (size_t)W + 1 + (size_t)t;
                    s = vkt_fail(g->err, VKT_ERR_FORMAT,
                                 "eval: the log-likelihood of token %zu is %g, not finite "
                                 "(the model's logits are not finite)",
                                 at, (double)out[k][t]);
                    break;
                }
                sum -= out[k][t], count++;
            }
    }
    free(pr), free(cont), free(nc), free(out), free(lp);
    if (s == VKT_OK) *nll = count ? sum / (double)count : 0.0, *tokens = count;
    return s;
}

vkt_status vkt_gen_eval_text(vkt_gen *g, const unsigned char *text, size_t len, double *nll,
                             int64_t *tokens) {
    *nll = 0, *tokens = 0;
    if (vkt_model_cfg(g->m)->vocab < 256)
        return vkt_fail(g->err, VKT_ERR_ARG,
                        "eval: the model's vocabulary (%d) does not hold every byte",
                        vkt_model_cfg(g->m)->vocab);
    int32_t *ids = malloc((len ? len : 1) * sizeof *ids);
    if (!ids) return vkt_fail(g->err, VKT_ERR_NOMEM, "eval: %zu bytes", len);
    for (size_t t = 0; t < len; t++) ids[t] = text[t];
    vkt_status s = vkt_gen_eval_ids(g, ids, len, nll, tokens);
    free(ids);
    return s;
}

// --- control vectors --------------------------------------------------------------------

vkt_status vkt_gen_edit_from_control_vectors(const vkt_control_vector *cvs, const float *scales,
                                             int n, int layer_lo, int layer_hi, int layers, int C,
                                             float *dirs, vkt_error *err) {
    // Checked first: a refused call writes nothing.
    for (int i = 0; i < n; i++)
        if (cvs[i].max_layer > 0 && cvs[i].n_embd != C)
            return vkt_fail(err, VKT_ERR_ARG,
                            "control vector %d: directions of %d floats, the model's width is %d",
                            i, cvs[i].n_embd, C);
    memset(dirs, 0, (size_t)layers * C * sizeof *dirs);
    if (layer_lo <= 0) layer_lo = 1;
    if (layer_hi <= 0) layer_hi = layers - 1;
    for (int i = 0; i < n; i++) {
        const vkt_control_vector *cv = &cvs[i];
        for (int N = layer_lo; N <= layer_hi && N <= cv->max_layer; N++) {
            int b = vkt_gen_cv_block(N);
            if (b < 0 || b >= layers || !cv->present[N - 1]) continue;
            for (int j = 0; j < C; j++)
                dirs[(size_t)b * C + j] += scales[i] * cv->data[(size_t)(N - 1) * C + j];
        }
    }
    return VKT_OK;
}
