// rl_advantage.h: advantages for self-play policy gradients (docs/selfplay.md).
//
// Three estimators, chosen by vkt_rl_adv_mode:
//
//   rae    role-conditioned advantage estimation (SPIRAL, arXiv 2506.24119): one EMA
//          baseline per (game, role), b <- alpha*b + (1 - alpha)*R with alpha = 0.95,
//          initialised 0. The baseline is READ BEFORE the update: A = R - b_old. Every
//          turn of that role in that episode gets the same A (gamma = 1). Episodes are
//          folded in the order the caller passes them.
//   none   A = R (SPIRAL's "without RAE" ablation; plain REINFORCE returns).
//   group  per-state group advantage (GRPO-style): samples that share an observation
//          (a group key, e.g. a hash of the prompt tokens or a Kuhn information state)
//          form a group of n samples with returns R_1..R_n. For sample i
//              A_i = (R_i - mean_{j != i} R_j) / (sd + eps)
//          where mean_{j != i} is the leave-one-out mean of the OTHER samples and sd is
//          the POPULATION standard deviation (divide by n, not n - 1) of all n returns
//          of the group, eps = VKT_RL_GROUP_EPS. A singleton group (n = 1) has no other
//          sample, so its A is 0 (and it is dropped); a group whose returns are all equal
//          has A = 0 for every sample (numerator 0).
//   group-mean  the same groups, A_i = R_i - mean_{j != i} R_j without the division by sd
//          (Dr. GRPO's form): the advantage keeps the stakes of the decision, for games
//          whose returns differ in scale from state to state (off-switch payoffs).
//   auto   not an estimator: each game of a self-play run takes its own default
//          (rl_mix.h: kuhn group, tictactoe and negotiation rae, offswitch group-mean).
//
// Samples whose advantage is exactly 0 carry no gradient and are dropped from the batch
// (SPIRAL's filter): vkt_rl_adv_keep says which remain; normalisers count only those.
#ifndef VKT_RL_ADVANTAGE_H
#define VKT_RL_ADVANTAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "status.h"

#define VKT_RL_MAX_GAMES 8    // games in one multi-game run (baselines per game)
#define VKT_RL_MAX_ROLES 2    // roles (seats) per game
#define VKT_RL_RAE_ALPHA 0.95 // SPIRAL's EMA decay
#define VKT_RL_GROUP_EPS 1e-6 // added to the group's population sd

typedef enum {
    VKT_RL_ADV_RAE = 0,
    VKT_RL_ADV_NONE,
    VKT_RL_ADV_GROUP,
    VKT_RL_ADV_GROUP_MEAN,
    VKT_RL_ADV_AUTO
} vkt_rl_adv_mode;

// "rae", "none", "group", "group-mean", "auto".
vkt_status vkt_rl_adv_mode_parse(const char *s, vkt_rl_adv_mode *out, vkt_error *err);
const char *vkt_rl_adv_mode_name(vkt_rl_adv_mode m);

// The RAE baselines: plain data, saved and restored with a run.
typedef struct vkt_rae {
    double alpha;
    double b[VKT_RL_MAX_GAMES][VKT_RL_MAX_ROLES];
    int64_t updates[VKT_RL_MAX_GAMES][VKT_RL_MAX_ROLES]; // episodes folded in so far
} vkt_rae;

void vkt_rae_init(vkt_rae *r, double alpha); // every baseline 0
// One finished episode's return R for (game, role): returns A = R - b (b read before
// the update), then folds R into b. Fails (VKT_ERR_ARG) for game/role out of range.
vkt_status vkt_rae_advantage(vkt_rae *r, int game, int role, double R, double *A, vkt_error *err);

// Group advantages of n samples: group[i] is sample i's observation key, R[i] its
// return; writes A[0..n) as defined above. Order of the samples does not matter.
vkt_status vkt_rl_group_advantages(int n, const uint64_t *group, const double *R, double *A,
                                   vkt_error *err);
// The same without the division by the group's sd (group-mean).
vkt_status vkt_rl_group_mean_advantages(int n, const uint64_t *group, const double *R, double *A,
                                        vkt_error *err);

// keep[i] = (A[i] != 0); returns how many are kept.
int vkt_rl_adv_keep(int n, const double *A, bool *keep);

#endif
