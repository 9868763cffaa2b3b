// rl_batch.h: packing rollout turns into the model's training batch.
//
// Turn k (prompt p of P tokens, response r of R tokens) becomes one row of T positions:
// inputs (p, r) without its last token, next-token targets, and weight w_k[j] on the
// position whose target is response token j (position P - 1 + j); prompt positions and
// padding (VKT_TOK_PAD) get weight 0. With w from vkt_pg_weights, the model's
// `loss(backward)` then trains the policy-gradient loss exactly (rl_loss.h).
#ifndef VKT_RL_BATCH_H
#define VKT_RL_BATCH_H

#include <stdint.h>

#include "status.h"

typedef struct vkt_rl_seq {
    const int32_t *prompt;
    int n_prompt; // >= 1
    const int32_t *resp;
    int n_resp; // >= 0
} vkt_rl_seq;

// Rows b < n of tokens/targets/weights (B*T each, B >= n) from seqs[b] and its
// response-token weights w[wstart[b] .. wstart[b] + n_resp); rows n..B-1 are padding.
// Fails (naming the row) when P + R - 1 > T.
vkt_status vkt_rl_pack(const vkt_rl_seq *seqs, int n, const double *w, const int *wstart, int B,
                       int T, int32_t *tokens, int32_t *targets, float *weights, vkt_error *err);

#endif
