// gen_internal.h: the state of a generation plan (generate.h), shared by the files that
// implement it: gen_forward.c (plan, KV-cached forward, scoring) and gen_sample.c (sampling
// and the generation loop). Not part of the public API.
#ifndef VKT_GEN_INTERNAL_H
#define VKT_GEN_INTERNAL_H

#include "generate.h"
#include "model_internal.h"

struct vkt_gen {
    vkt_model *m;
    vkt_ctx *ctx;
    vkt_error *err;
    int S, Lmax, R;        // slots, positions per slot, rows per forward
    vkt_buffer **kc, **vc; // per layer: gpt2 kc (S, Lmax, 3C); llama kc, vc (S, Lmax, KV)
    vkt_buffer *acts, *inputs, *editbuf;
    // activations, rows R unless said
    vkt_view res, ln, mean, rstd, qkv, q, k, v, att, lse, fc, up, act, last, logits, loss, qk_rstd;
    vkt_view ids_view, tw;
    vkt_embedding_ids ids;
    bool *edit_on; // (layers) a nonzero edit row
    bool has_edit;
    int *len; // (S) cached positions per slot
    vkt_gen_hook hook;
    void *hook_user;
};

// n new tokens of the sequence in `slot`, at positions len[slot] ...
typedef struct {
    int slot, n;
    const int32_t *tok;
    int seq; // the caller's sequence index (for the hook)
} feed;

// One forward over the feeds (slots distinct, in increasing order for batching).
// all = false: logits (nf, V) of the last row of each feed in g->logits.
// all = true: logits (N, V) of every row; with targets, g->loss (N) = w (lse - logit[target]).
vkt_status vkt_gen_forward(vkt_gen *g, int nf, const feed *f, bool all, const int32_t *targets,
                           const float *weights);

#endif
