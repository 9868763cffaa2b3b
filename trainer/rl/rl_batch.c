// rl_batch.c: rollout turns -> (tokens, targets, weights) rows (see rl_batch.h).
#include <stdbool.h>

#include "rl_batch.h"
#include "tokenizer.h"

vkt_status vkt_rl_pack(const vkt_rl_seq *seqs, int n, const double *w, const int *wstart, int B,
                       int T, int32_t *tokens, int32_t *targets, float *weights, vkt_error *err) {
    if (n < 0 || n > B || T < 1)
        return vkt_fail(err, VKT_ERR_ARG, "rl_pack: %d sequences into %d rows of %d", n, B, T);
    for (int b = 0; b < n; b++) {
        const vkt_rl_seq *s = &seqs[b];
        if (s->n_prompt < 1 || s->n_resp < 0 || s->n_prompt + s->n_resp - 1 > T)
            return vkt_fail(err, VKT_ERR_ARG,
                            "rl_pack: row %d has %d prompt + %d response tokens (need >= 1 prompt, "
                            "<= %d inputs)",
                            b, s->n_prompt, s->n_resp, T);
    }
    for (int b = 0; b < B; b++) {
        int32_t *tok = tokens + (size_t)b * T, *tgt = targets + (size_t)b * T;
        float *wt = weights + (size_t)b * T;
        const vkt_rl_seq *s = b < n ? &seqs[b] : NULL;
        int P = s ? s->n_prompt : 0, L = s ? s->n_prompt + s->n_resp : 0;
        for (int t = 0; t < T; t++) {
            int32_t cur = t < P ? s->prompt[t] : t < L ? s->resp[t - P] : VKT_TOK_PAD;
            bool has = t + 1 < L;
            tok[t] = cur;
            tgt[t] = has ? (t + 1 < P ? s->prompt[t + 1] : s->resp[t + 1 - P]) : VKT_TOK_PAD;
            wt[t] = has && t + 1 >= P ? (float)w[wstart[b] + (t + 1 - P)] : 0.0f;
        }
    }
    return VKT_OK;
}
