// rl_loss.h: policy-gradient losses as per-token weights for the model's weighted
// cross-entropy (docs/selfplay.md).
//
// The model's loss kernel computes L = sum_i w_i * CE_i with CE_i = -log p(target_i), so
// dL/dlogp_i = -w_i. Any loss that depends on the sampled tokens only through their
// log-probabilities logp_i (with advantages, old and reference logprobs held constant)
// is therefore trained exactly by the weights w_i = -dLoss/dlogp_i, evaluated at the
// current logp_i: one forward to get logp_new, then the weighted CE backward.
//
// Per token i of sequence s (advantage A_s, or adv_tok[i] when given), with
// rho_i = exp(logp_new_i - logp_old_i):
//   reinforce  l_i = -A_s * logp_new_i                      w_i = A_s
//   ppo        l_i = max(-A_s rho_i, -A_s clip(rho_i, 1-e, 1+e))
//              dl/dlogp = -A_s rho_i when the unclipped term is the max (ties count
//              as unclipped), else 0        ->   w_i = A_s rho_i [unclipped active]
//   kl (optional, kl_coef > 0, towards a reference policy, e.g. the initial one):
//              the k3 estimator on the sampled token (GRPO, Schulman's "approximating
//              KL"), d_i = logp_ref_i - logp_new_i:
//              l_i += kl_coef * (exp(d_i) - d_i - 1)     w_i += -kl_coef * (1 - exp(d_i))
// Normalisation (the loss is sum_i n_i l_i):
//   seq-sum-maxlen  n_i = 1 / (B * max_len): each sequence's token sum divided by the
//                   maximum generation length, mean over the B sequences (SPIRAL, Dr. GRPO)
//   token-mean      n_i = 1 / N: mean over all N tokens of the batch (TRL's default)
// B and N count the sequences and tokens passed in: drop zero-advantage samples first.
//
// Entropy bonus (entropy_coef X > 0): the loss gets -X sum_i n_i H_i, H_i the entropy of
// the policy's whole distribution at token i's position. Its gradient is not one through
// logp_i (dH/dz_j = -p_j (log p_j + H) needs the whole row), so it is not in the weights:
// the model's classifier kernel takes a per-position coefficient c_i = X n_i
// (vkt_pg_entropy_coefs; vkt_model_set_entropy) and adds the exact term to dlogits.
#ifndef VKT_RL_LOSS_H
#define VKT_RL_LOSS_H

#include <stdbool.h>

#include "status.h"

typedef enum { VKT_PG_PPO = 0, VKT_PG_REINFORCE } vkt_pg_kind;
typedef enum { VKT_PG_NORM_SEQ_SUM_MAXLEN = 0, VKT_PG_NORM_TOKEN_MEAN } vkt_pg_norm;

typedef struct vkt_pg_opts {
    vkt_pg_kind kind;    // default ppo
    vkt_pg_norm norm;    // default seq-sum-maxlen
    double clip_eps;     // default 0.2
    int max_len;         // maximum generation length (tokens), for seq-sum-maxlen
    double kl_coef;      // default 0 (SPIRAL: no KL)
    double entropy_coef; // default 0
} vkt_pg_opts;

void vkt_pg_defaults(vkt_pg_opts *o);
vkt_status vkt_pg_kind_parse(const char *s, vkt_pg_kind *out, vkt_error *err); // "ppo", "reinforce"
vkt_status vkt_pg_norm_parse(const char *s, vkt_pg_norm *out,
                             vkt_error *err); // "seq-sum-maxlen", "token-mean"
const char *vkt_pg_kind_name(vkt_pg_kind k);
const char *vkt_pg_norm_name(vkt_pg_norm n);

// A batch of B sequences of generated tokens, flattened: sequence s owns tokens
// [start[s], start[s+1]). logp_old (ppo) and logp_ref (kl_coef > 0) are per token and
// may be NULL when not needed; so is entropy (H at each token's position, for the loss
// value and the stats when entropy_coef > 0; the weights never need it).
typedef struct vkt_pg_batch {
    int B;
    const int *start;       // (B + 1)
    const double *adv;      // (B)
    const double *adv_tok;  // (N) or NULL: token i's own advantage in place of its sequence's
                            // (explored answers: A on the choosing tokens, |A| on the format)
    const double *logp_old; // (N)
    const double *logp_ref; // (N)
    const double *entropy;  // (N)
} vkt_pg_batch;

typedef struct vkt_pg_stats {
    double loss;          // the objective's value (what vkt_pg_loss_ref returns)
    double clip_frac;     // fraction of tokens whose unclipped term is inactive (ppo)
    double mean_ratio;    // mean rho over tokens (ppo; 1 otherwise)
    double approx_kl_old; // mean k3(old || new) over tokens (ppo): how far the epoch moved
    double kl_ref;        // mean k3 estimate of KL(new || ref) (kl_coef > 0)
    double entropy;       // mean H over tokens (when the batch has entropy)
    int tokens;
} vkt_pg_stats;

// Checks the options and the batch layout (B >= 1, start ascending from 0, max_len >= the
// longest sequence for seq-sum-maxlen, arrays present when needed). Names the fault.
vkt_status vkt_pg_check(const vkt_pg_opts *o, const vkt_pg_batch *b, vkt_error *err);

// The weights w[0..N) for the model's weighted CE at the current logp_new; stats may be NULL.
vkt_status vkt_pg_weights(const vkt_pg_opts *o, const vkt_pg_batch *b, const double *logp_new,
                          double *w, vkt_pg_stats *stats, vkt_error *err);

// The entropy coefficients c[0..N) = entropy_coef * n_i of the batch's tokens (what the
// model's kernel takes per position, vkt_model_set_entropy).
vkt_status vkt_pg_entropy_coefs(const vkt_pg_opts *o, const vkt_pg_batch *b, double *c,
                                vkt_error *err);

// Plain reference: the loss value as written above (double), and when grad is not NULL
// its analytic gradient dLoss/dlogp_new[0..N). Tests check grad by finite differences
// and that w == -grad. With entropy_coef != 0 and b->entropy given, the value includes
// -entropy_coef sum_i n_i H_i (a function of the logits, so not in grad).
double vkt_pg_loss_ref(const vkt_pg_opts *o, const vkt_pg_batch *b, const double *logp_new,
                       double *grad);

#endif
