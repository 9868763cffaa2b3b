// rl_selfplay.h: self-play RL with a transformer policy (`vkt selfplay`, SPIRAL arXiv
// 2506.24119). docs/selfplay.md describes the loop, its formulas and its defaults.
//
// A run is vkt_rl_sp_init (plans; with kl_coef, a frozen copy of the initial policy as the
// KL reference) then vkt_rl_sp_update calls. One update: Kuhn's 12-state policy enters the
// games-weighted average (teacher forced; sampled when the model thinks); games_per_update
// games play batched (rl_rollout.h; replays, or every answer explored for the off-switch
// game); advantages per game of the mix (rl_advantage.h), per token with format credit
// (A on the choosing tokens of a legal answer, |A| on its format; an invalid answer's
// A > 0 set to 0); A == 0 turns dropped unless a regulariser is on; ppo_epochs clipped
// Adam steps on the weighted CE of the kept turns (rl_loss.h, rl_batch.h), beside the
// optional entropy bonus, k3 KL to the reference, and KL to uniform over the legal
// answers (rl_uniform.h; kl_anneal decays it over the run's last fraction of
// games_target). Game ids continue from the games played, so a run is a function of its
// seed and a resumed run (the state file) continues bit for bit.
//
// The pieces, one file each: the options (rl_sp_opts.h), Kuhn's policy extraction
// (rl_kuhn_extract.h), the model as an agent (rl_agent.h), evaluation (rl_eval.h), the
// format warm-up (rl_warmup.h), the state and reference files (rl_sp_state.c); this file's
// rl_selfplay.c holds init, free and the update. With think_tokens N > 0 (rl_prompt.h) a
// response may be N + the answer budget tokens, all of them trained.
#ifndef VKT_RL_SELFPLAY_H
#define VKT_RL_SELFPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "generate.h"
#include "kuhn_policy.h"
#include "model.h"
#include "rl_advantage.h"
#include "rl_agent.h"
#include "rl_eval.h"
#include "rl_fmt.h"
#include "rl_kuhn_extract.h"
#include "rl_loss.h"
#include "rl_mix.h"
#include "rl_sp_opts.h"
#include "rl_warmup.h"

typedef struct vkt_rl_sp_game_stats {
    int games, decisions, kept, invalid;
    double mean_return_p0; // player 0's mean return (the offswitch robot's payoff)
} vkt_rl_sp_game_stats;

typedef struct vkt_rl_sp_stats {
    int games, decisions, kept, invalid, gen_tokens;
    double mean_return_p0;
    vkt_rl_sp_game_stats per_game[VKT_RL_MAX_GAMES]; // by the mix's order
    double loss;            // objective of the last epoch (reference formula on its logprobs)
    vkt_pg_stats pg;        // of the last epoch
    double grad_norm;       // of the last epoch, before clipping
    double sample_entropy;  // mean sampling entropy of every generated token (nats)
    double entropy;         // mean H over the trained tokens in epoch 0 (entropy_coef > 0; else 0)
    double kl_uniform;      // kl_uniform > 0, at epoch 0 (the policy that played), means over the
    double legal_mass;      // decisions: KL(U || pi over the legal answers), the legal mass
    int uniform_rows;       // rows of the term (one per state and legal answer)
    double kl_uniform_coef; // the term's coefficient in this update (the anneal's value)
    int format_turns;       // format_credit: sampled turns whose format was credited apart
    int invalid_clamped;    // ... and invalid turns whose A > 0 was set to 0 (never reinforced)
    double rollout_s, score_s, train_s; // wall time of the phases
} vkt_rl_sp_stats;

// The run's state: everything --resume needs besides the model's parameters and moments.
typedef struct vkt_rl_sp {
    vkt_rl_sp_opts o; // adv, replays and max_new_tokens as given (0 / auto kept;
                      // games_per_update resolved)
    vkt_rl_mix mix;   // the games; per game its share of an update, mode and replays:
    int share[VKT_RL_MAX_GAMES], replays[VKT_RL_MAX_GAMES];
    vkt_rl_adv_mode adv[VKT_RL_MAX_GAMES];
    int answer_tokens;  // resolved answer budget (boxed: + VKT_RL_BOXED_EXTRA)
    int max_new_tokens; // generation budget: think_tokens + answer_tokens (also the
                        // seq-sum-maxlen length)
    int kuhn;           // index of one-hand kuhn in the mix (exact analysis), or -1
    double kl_uniform;  // the KL-to-uniform coefficient at the start (auto resolved)
    double kl_anneal;   // its anneal fraction (auto resolved; 0 without games_target)
    bool explore;       // every answer explored (auto resolved)
    bool format_credit; // format credit on sampled answers (auto resolved)
    int lr_warmup;      // the lr ramp in use (auto resolved)
    vkt_rl_fmt fmt;     // how text meets the model (think_tokens, tok, chat; rl_fmt.h)
    vkt_model *m;       // not owned
    vkt_gen *gen;       // owned: rollouts, scoring, extraction
    vkt_model *ref;     // owned, kl_coef > 0: the frozen reference policy
    vkt_gen *ref_gen;   // owned: its scoring plan
    int planned_T;      // the model's training plan (micro_rows x planned_T)
    int gen_len;        // the generation plans' positions (0: the model's context)
    vkt_rae rae;
    int64_t games, decisions, invalid; // cumulative over the RL updates
    int updates, adam_step;
    double avg_num[VKT_KUHN_INFOSTATES], avg_den; // games-weighted average policy
    struct vkt_rl_sp_work *work; // owned: the update's host buffers, grown, kept between updates
} vkt_rl_sp;

// Validates o, creates the generation plan; counters start at 0. With kl_coef > 0 the
// model's parameters at this call become the reference (a resumed run then restores the
// original one with vkt_rl_sp_load_ref).
vkt_status vkt_rl_sp_init(vkt_rl_sp *s, vkt_model *m, const vkt_rl_sp_opts *o);
void vkt_rl_sp_free(vkt_rl_sp *s);
// Device bytes vkt_rl_sp_init(m, o) would allocate (generation plans, the training plan, a KL
// reference), checking o as it does: for reporting and refusing before allocating.
vkt_status vkt_rl_sp_plan_bytes(vkt_model *m, const vkt_rl_sp_opts *o, uint64_t *bytes);
vkt_status vkt_rl_sp_update(vkt_rl_sp *s, vkt_rl_sp_stats *st);
// The KL-to-uniform coefficient of an update that starts after `games` games: kl_uniform,
// then from games_target (1 - kl_anneal) a linear decay to kl_uniform_end at games_target.
double vkt_rl_sp_kl_uniform_at(const vkt_rl_sp *s, int64_t games);
// The averaged policy (the latest `latest` before any update).
void vkt_rl_sp_avg_policy(const vkt_rl_sp *s, const vkt_kuhn_policy *latest, vkt_kuhn_policy *avg);

// rl_sp_state.c: the state file (JSON, written atomically): counters, baselines, average,
// options.
vkt_status vkt_rl_sp_save_state(const vkt_rl_sp *s, const char *path);
// Restores counters, baselines and the average (options stay those of s).
vkt_status vkt_rl_sp_load_state(vkt_rl_sp *s, const char *path);
// The KL reference as a checkpoint directory (config.json + model.safetensors, each
// written to a temporary file and renamed): save writes it (nothing without kl_coef);
// load replaces the reference's parameters (an error without kl_coef, or when the
// directory holds another configuration).
vkt_status vkt_rl_sp_save_ref(const vkt_rl_sp *s, const char *dir);
vkt_status vkt_rl_sp_load_ref(vkt_rl_sp *s, const char *dir);

// rl_kuhn_extract.c: the run's extraction: teacher forced (vkt_rl_kuhn_policy; invalid =
// 1 - raw_mass) when think_tokens is 0, else sampled with policy_samples per state and the
// run's budget, seeded by the run's seed and s->updates (a resumed run draws the same samples).
vkt_status vkt_rl_sp_kuhn_policy(const vkt_rl_sp *s, vkt_kuhn_policy *pi, double *invalid);

#endif
