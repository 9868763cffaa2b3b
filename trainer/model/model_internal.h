// model_internal.h: the layout of vkt_model, shared by the files of the model (model.c
// for training, gen_forward.c for KV-cached generation). Not part of the public API.
#ifndef VKT_MODEL_INTERNAL_H
#define VKT_MODEL_INTERNAL_H

#include "model.h"
#include "half.h"
#include "op_embedding.h"

// Activation views of one layer (rows N = B*T).
typedef struct layer_views {
    vkt_view res; // (N, C) block input
    vkt_view ln1, ln1_mean, ln1_rstd;
    vkt_view q, k, v;        // gpt2: views into one (N, 3C) qkv; llama: (N, HD), (N, KV), (N, KV)
    vkt_view q_pre, k_pre;   // qk_norm: q and k before their per-head RMSNorm
    vkt_view q_rstd, k_rstd; // qk_norm: (N*H), (N*KVH)
    vkt_view qkv;            // gpt2 only
    vkt_view att, lse;       // (N, HD), (B, H, T)
    vkt_view mid;            // (N, C) res + attention
    vkt_view ln2, ln2_mean, ln2_rstd;
    vkt_view fc, up, act; // (N, F) each; up only for llama
    vkt_view att_h;       // mixed precision: att in 16 bits, what the output projection reads
} layer_views;
// Mixed precision (m->mixed): ln1, ln2, act and lnf, which only matmuls read, are 16-bit views
// (N * width values, two a word); their producers write fp32 into m->stage, which is packed into
// them. att stays fp32 for the attention backward and gets a 16-bit twin att_h.

struct vkt_model {
    vkt_ctx *ctx;
    vkt_error *err;
    vkt_model_config cfg;
    vkt_params ps;
    vkt_buffer *params, *grads, *mom1, *mom2;
    vkt_model_opts opts;   // w16: matrices in 16 bits (wbuf); frozen: no grads (grads NULL)
    vkt_buffer *wbuf;      // w16: every tensor in 16 bits at 2 * offset bytes (matrices used);
                           // mixed: the 16-bit copy of params the matmuls read
    bool mixed;            // training in bf16/fp16 (opts.precision, trainable fp32 weights)
    bool w16_stale;        // mixed: params changed since wbuf was packed from them
    vkt_dtype16 dt16;      // mixed: the 16-bit type
    uint64_t *vec_off;     // w16: per tensor, its float offset in params (1-D tensors only)
    vkt_view dummy;        // frozen: where norm backward drops its weight gradient
    struct vkt_lora *lora; // adapters applied by every targeted linear layer (or NULL)
    vkt_buffer *rope_buf;  // RoPE frequencies, (D/2) (hi, lo) float pairs (rope_freq.h)
    vkt_view rope_freq;
    // planned batch
    int B, T;
    vkt_buffer *acts, *inputs;
    layer_views *lv; // layers + 1: lv[L].res is the final residual
    vkt_view lnf, lnf_mean, lnf_rstd, logits, loss;
    vkt_view ids_view, pos,
        tw;           // token/position ids and buckets; positions inside it; targets+weights
    vkt_view ec, ent; // (N) entropy coefficients (inputs), (N) entropies (acts)
    vkt_embedding_ids ids;
    vkt_view d_res, d_ln, d_att, d_q, d_k, d_v, d_f, d_f2, d_up; // backward scratch
    vkt_view d_qp, d_kp;  // qk_norm: gradients of q_pre, k_pre
    vkt_view stage, dy_h; // mixed: fp32 producer output before packing; a 16-bit gradient
    vkt_view splitk;      // split-k partial sums of weight gradients (GPU devices; else empty)
    vkt_view scratch;     // norm backward partials and reductions
    vkt_view red;         // reduction results (4 floats), loss sum (4), entropy sum (4)
    bool has_targets;
    int entropy_rows; // positions with a coefficient != 0 (0: no entropy term)
    double weight_sum;
};

// Carves consecutive float ranges out of one buffer, each 64-float aligned; with
// buf == NULL it only counts (plan once to size the buffer, then again to place views).
typedef struct vkt_arena {
    vkt_buffer *buf;
    uint64_t used; // floats
} vkt_arena;
static inline vkt_view vkt_arena_take(vkt_arena *a, uint64_t floats) {
    vkt_view v = {a->buf, a->used * 4, floats * 4};
    a->used += (floats + 63) / 64 * 64;
    return v;
}

// Uploads the model's RoPE frequencies (theta and rope_scaling, in double) as (hi, lo)
// float pairs for vkt_rope_fwd_freq.
vkt_status vkt_model_rope_table(vkt_ctx *ctx, const vkt_model_config *c, vkt_buffer **buf,
                                vkt_view *view);

// A view of parameter tensor `kind` (layer, or -1) in buffer b, or an empty view (no such
// tensor, or b NULL). With 16-bit weights, a matrix of m->params is its 16-bit view in wbuf.
vkt_view vkt_model_pview(vkt_model *m, vkt_buffer *b, vkt_param_kind kind, int layer);
// The bias kind that goes with a weight kind (VKT_P_KINDS for none).
vkt_param_kind vkt_model_bias_of(vkt_param_kind k);
// C (M, N) = A (M, K) op(W) + beta C + bias for a parameter W: fp32, or 16-bit when W is in wbuf.
vkt_status vkt_model_wmm(vkt_model *m, bool transW, int M, int N, int K, vkt_view A, vkt_view W,
                         float beta, vkt_view C, vkt_view bias);
// The parameter buffers of a new model (m->ps built, m->opts set): params (and grads).
vkt_status vkt_model_alloc_weights(vkt_model *m);
void vkt_model_free_weights(vkt_model *m);
// Frees the planned batch's buffers (model_plan.c); the next vkt_model_plan lays them out anew.
void vkt_model_free_plan(vkt_model *m);

// Mixed precision (model_mixed.c). The 16-bit copy of the weights, packed again if they changed.
vkt_status vkt_model_mx_refresh(vkt_model *m);
// A 16-bit view of parameter tensor `kind` in wbuf.
vkt_view vkt_model_mx_wview(vkt_model *m, vkt_param_kind kind, int layer);
// y (M, N) = x16 op(W16) + beta y + bias: both operands 16-bit, fp32 accumulation.
vkt_status vkt_model_mx_wmm(vkt_model *m, bool transW, int M, int N, int K, vkt_view x16,
                            vkt_view W16, float beta, vkt_view y, vkt_view bias);
// The backward of y = x16 op(W16) (transW as in the forward): dy (M, N) fp32 is packed into
// m->dy_h; dx (M, K) = (or +=, beta_dx 1) dy16 op(W16)^T; dW += the product of x16 and dy16 in
// the weight's layout (when dW.buf). Every operand 16-bit, every sum fp32.
vkt_status vkt_model_mx_wmm_bwd(vkt_model *m, bool transW, int M, int N, int K, vkt_view dy,
                                vkt_view x16, vkt_view W16, float beta_dx, vkt_view dx,
                                vkt_view dW);
// Packs n fp32 values of m->stage into the 16-bit activation view dst.
vkt_status vkt_model_mx_pack(vkt_model *m, vkt_view dst, uint64_t n);

#endif
