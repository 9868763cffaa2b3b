// rl_offswitch.h: the self-play model as the off-switch robot, on held-out episodes
// (games/offswitch_eval.h scores the rows; docs/selfplay.md).
//
// The model's choice probabilities are read by teacher forcing, as for Kuhn: at each
// episode's compact prompt (rl_prompt.h), P(a) = exp(sum of the logprobs of the answer
// tokens "[act]" / "[off]" / "[wait]" + <|endoftext|>), normalised over the three; the
// unnormalised total is the legal mass (1 - the probability of an invalid answer).
// One batched vkt_gen_score call of 3 n sequences.
#ifndef VKT_RL_OFFSWITCH_H
#define VKT_RL_OFFSWITCH_H

#include "generate.h"
#include "offswitch_eval.h"
#include "rl_fmt.h"

// p (n x 3) normalised rows; legal_mass (n, may be NULL); prompts and answers in format f
// (rl_fmt.h; NULL: byte-level).
vkt_status vkt_rl_offswitch_probs(vkt_gen *gen, const vkt_rl_fmt *f, const vkt_game *eps, int n,
                                  double *p, double *legal_mass);
// The deference bins as CSV (written to a temporary file, then renamed): one header line
// "delta_lo,delta_hi,episodes,mean_delta,theory_p_wait,model_p_wait,model_p_wait_se,model_p_act,model_p_off"
// and one row per bin.
vkt_status vkt_rl_offswitch_write_csv(const char *path, const vkt_offswitch_bin *bins, int n,
                                      vkt_error *err);

#endif
