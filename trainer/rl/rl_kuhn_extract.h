// rl_kuhn_extract.h: the model's Kuhn policy at the 12 information states, teacher forced
// (the policy of answering at once) or sampled (the policy a thinking model plays).
#ifndef VKT_RL_KUHN_EXTRACT_H
#define VKT_RL_KUHN_EXTRACT_H

#include "generate.h"
#include "kuhn_policy.h"
#include "rl_fmt.h"

// The model's Kuhn policy: at each of the 12 information states (compact prompt of the
// acting seat, rl_prompt.h), P(action) = exp(sum of the logprobs of its answer tokens),
// normalised over the two legal actions. One batched vkt_gen_score call (24 sequences).
// Format f (rl_fmt.h; NULL: the byte format, "[Text]" then <|endoftext|>; with think > 0,
// prompts with the suffix and answers "\boxed{Text}" + the answer's end): the policy of
// answering at once. raw_mass (may be NULL) gets, per state, the unnormalised total
// probability of the two legal answers (1 - the invalid mass). Not the played policy when
// the model thinks first.
vkt_status vkt_rl_kuhn_policy(vkt_gen *gen, const vkt_rl_fmt *f, vkt_kuhn_policy *pi,
                              double *raw_mass);
// The model's Kuhn policy by sampling: at each information state `samples` responses at
// temperature 1 to the prompt in format f (up to max_new_tokens tokens; sample k of
// state i on stream i * samples + k under `seed`, all in one vkt_generate call), parsed
// by the protocol; P(aggressive) = aggressive answers / valid answers (0.5 at a state
// with none). invalid (may be NULL) gets per state the fraction of responses that named
// no legal move.
vkt_status vkt_rl_kuhn_policy_sampled(vkt_gen *gen, const vkt_rl_fmt *f, int max_new_tokens,
                                      int samples, uint64_t seed, vkt_kuhn_policy *pi,
                                      double *invalid);

#endif
