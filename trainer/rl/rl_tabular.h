// rl_tabular.h: the tabular-policy control of self-play RL on Kuhn Poker
// (`vkt selfplay --policy tabular`): the same machinery as the network (one policy in
// both seats, self-play rollouts on the games/ engine, RAE / none / group advantages,
// PPO-clip or REINFORCE weights from rl_loss.h, Adam), with a 12 x 2 table of logits
// instead of a transformer. Pure C on the CPU. It validates the RL loop apart from the
// network: if this does not approach equilibrium, the network will not either.
//
// One update:
//   1. play games_per_update one-hand games (chips reward, OpenSpiel's rules): at each
//      decision the acting seat's information state i picks action a ~ softmax(z[i]);
//      deal of game k comes from vkt_rng_derive(seed, k), actions from the run's RNG;
//   2. advantages per decision (rl_advantage.h): RAE folds the games in play order,
//      one baseline per seat; group uses the information state as the group key;
//   3. drop A == 0; ppo_epochs full-batch steps: logp_new = log softmax(z)[a], weights w
//      from vkt_pg_weights (each decision a 1-token sequence, max_len 1), gradient
//      dL/dz[i][j] = sum over decisions at i of w (p_j - [j == a]) (the CE gradient times
//      its weight), plus the exact entropy bonus -entropy_coef * n * H(pi(.|i)) per
//      decision (n the normaliser), global-norm clip, Adam (no weight decay).
//
// The averaged policy is the games-weighted average of the per-information-state
// probabilities of the policies that played: avg(i) = sum_u G_u pi_u(bet | i) / sum_u G_u,
// pi_u the policy used for update u's G_u games (recorded before the update). The
// reach-weighted average (the behaviour of "pick one of the past policies at random, in
// proportion to games, and play it for the whole hand", as in fictitious play / CFR's
// average strategy) weights pi_u(i) also by the acting player's own reach probability of
// i under pi_u; both are reported, the games-weighted one is the headline.
#ifndef VKT_RL_TABULAR_H
#define VKT_RL_TABULAR_H

#include <stdbool.h>
#include <stdint.h>

#include "kuhn_policy.h"
#include "rl_advantage.h"
#include "rl_loss.h"
#include "rng.h"

typedef struct vkt_rl_tabular_opts {
    vkt_rl_adv_mode adv;  // default rae (SPIRAL)
    double rae_alpha;     // 0.95
    vkt_pg_opts pg;       // ppo, clip 0.2, seq-sum-maxlen (max_len forced to 1)
    int ppo_epochs;       // 2 (reinforce: steps per update)
    int games_per_update; // 128
    double lr;            // 0.01
    double beta1, beta2;  // 0.9, 0.95 (SPIRAL)
    double adam_eps;      // 1e-8
    double max_grad_norm; // 1.0; <= 0 for none
    double entropy_coef;  // 0
    uint64_t seed;        // 1
} vkt_rl_tabular_opts;

typedef struct vkt_rl_tabular_stats {
    int decisions, kept;   // sampled decisions, those with A != 0
    double mean_return_p0; // over this update's games
    vkt_pg_stats pg;       // of the last epoch
    double grad_norm;      // of the last epoch, before clipping
} vkt_rl_tabular_stats;

typedef struct vkt_rl_tabular {
    vkt_rl_tabular_opts o;
    double z[VKT_KUHN_INFOSTATES][2]; // logits: [pass, bet]
    double m[VKT_KUHN_INFOSTATES][2], v[VKT_KUHN_INFOSTATES][2];
    int step; // Adam steps taken
    vkt_rae rae;
    vkt_rng rng;   // action sampling
    int64_t games; // games played
    int updates;
    double avg_num[VKT_KUHN_INFOSTATES], avg_den; // games-weighted average
    double reach_num[VKT_KUHN_INFOSTATES], reach_den[VKT_KUHN_INFOSTATES];
    // per-update buffers (3 decisions per game at most)
    int cap, *info, *act, *player, *game;
    double *ret, *adv, *logp_old, *logp_new, *w, *advk;
    int *startk;
} vkt_rl_tabular;

void vkt_rl_tabular_defaults(vkt_rl_tabular_opts *o);
// Validates the options; logits start at 0 (uniform policy).
vkt_status vkt_rl_tabular_init(vkt_rl_tabular *t, const vkt_rl_tabular_opts *o, vkt_error *err);
void vkt_rl_tabular_free(vkt_rl_tabular *t);
// One update (games, advantages, epochs). stats may be NULL.
vkt_status vkt_rl_tabular_update(vkt_rl_tabular *t, vkt_rl_tabular_stats *stats, vkt_error *err);
// The current policy, P(bet) = softmax(z[i])[1].
void vkt_rl_tabular_policy(const vkt_rl_tabular *t, vkt_kuhn_policy *pi);
// The averaged policy (games-weighted, or reach-weighted); the latest before any update.
void vkt_rl_tabular_avg_policy(const vkt_rl_tabular *t, bool reach_weighted, vkt_kuhn_policy *pi);

#endif
