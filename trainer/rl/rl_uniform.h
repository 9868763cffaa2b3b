// rl_uniform.h: the action-level KL-to-uniform regulariser (`vkt selfplay --kl-uniform C`;
// docs/selfplay.md).
//
// Why: a token-level entropy bonus spreads mass over every byte, so at a collapsed
// state it buys invalid answers rather than the other legal move
// (docs/experiments/selfplay.md). This term acts on the legal answers only. Over the update's D
// decisions t (every turn of the rollout, each at its state s_t with n_t legal answers
// a, "[Bet]" + <|endoftext|>, teacher forced):
//
//   L_U = C * (1/D) sum_t (1/n_t) sum_a -log pi(a | s_t)
//       = C * mean_t [ KL(U_t || pi_t) - log n_t - log m_t ]
//
// with pi_t the model's distribution over the legal answers renormalised by their mass
// m_t = sum_a pi(a | s_t): the KL to the uniform policy over the legal moves, plus a term
// that keeps the mass on legal answers. d L_U / d logp(token) = -w with the same
// constant weight w = C / (D n_t) on every token of every legal answer: rows (prompt,
// answer a) for the model's weighted cross-entropy, with no ratio and no clip. Turns
// that share an observation (the prompt hash, as the group advantages) are merged: one
// row per (state, answer) with weight C c_s / (D n_s), c_s the state's visits, which
// is the same gradient for far fewer rows (Kuhn: 24 rows an update).
#ifndef VKT_RL_UNIFORM_H
#define VKT_RL_UNIFORM_H

#include "rl_rollout.h"
#include "status.h"

typedef struct vkt_rl_uniform_row {
    const int32_t *prompt; // the state's prompt (owned by the rollout)
    int n_prompt;
    const int32_t *answer; // one legal answer's tokens (owned by the rollout)
    int n_answer;
    int state; // index of its state in [0, n_states)
} vkt_rl_uniform_row;

typedef struct vkt_rl_uniform {
    int n_rows, n_states, decisions; // decisions = D
    vkt_rl_uniform_row *rows;        // by state, answers in the engine's action order
    double *weight;                  // (n_rows) the per-token weight C c_s / (D n_s)
    int *visits;                     // (n_states) c_s
    int *n_legal;                    // (n_states) n_s
} vkt_rl_uniform;

// Rows of the term over every turn of r (recorded with legal_answers). C > 0. Fails,
// naming the turn, when a turn has no legal answers recorded.
vkt_status vkt_rl_uniform_build(const vkt_rl_rollout *r, double C, vkt_rl_uniform *u,
                                vkt_error *err);
void vkt_rl_uniform_free(vkt_rl_uniform *u);

// From logp[i][j], the teacher-forced logprob of token j of row i's answer: the
// visit-weighted means over the D decisions of KL(U || pi renormalised over the legal
// answers) and of the legal mass m, and the term's value L_U (from the rows' weights, so
// with the C they were built with).
void vkt_rl_uniform_stats(const vkt_rl_uniform *u, const float *const *logp, double *kl,
                          double *mass, double *value);

#endif
