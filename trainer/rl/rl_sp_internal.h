// rl_sp_internal.h: what the self-play files (rl_selfplay.c and the rl_sp_*, rl_eval,
// rl_warmup, rl_agent, rl_kuhn_extract files) share; not for callers.
#ifndef VKT_RL_SP_INTERNAL_H
#define VKT_RL_SP_INTERNAL_H

#include "rl_rollout.h"
#include "rl_selfplay.h"

enum { VKT_RL_ANSWER_MAX = 256 }; // an answer's tokens at most (rl_prompt.h)

// Sampling at temperature 1 with a budget of max_new_tokens.
void vkt_rl_sp_gen_opts(vkt_gen_opts *g, int max_new_tokens);
// The rollout's blocks for G games of a mix (replays: per game, NULL for none).
void vkt_rl_sp_mix_blocks(const vkt_rl_mix *mx, int G, const int *replays, vkt_rl_rollout_opts *ro);
// Whether an advantage mode compares the replays of a deal (group, group-mean).
bool vkt_rl_sp_group_mode(vkt_rl_adv_mode m);
// Everything of vkt_rl_sp_init that allocates nothing on the device (s zeroed first): the
// options checked and resolved, the format, the mix, and the plans' shapes (s->planned_T,
// s->gen_len, s->o.micro_rows; *seqs in flight).
vkt_status vkt_rl_sp_plan(vkt_rl_sp *s, vkt_model *m, const vkt_rl_sp_opts *o, int *seqs);

#endif
