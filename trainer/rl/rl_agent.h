// rl_agent.h: a model over a generation plan as a game agent (agent.h), for evaluation and
// `vkt arena`.
#ifndef VKT_RL_AGENT_H
#define VKT_RL_AGENT_H

#include "agent.h"
#include "generate.h"
#include "rl_fmt.h"

// Prompts of rl_prompt.h in format f (rl_fmt.h, copied; the text it points to must outlive
// the agent; NULL: the byte format, direct answers): act samples one answer at temperature 1
// (seeded from rng) and plays it through the protocol (VKT_ACTION_INVALID when it is not a
// legal move); probs scores each legal action's answer teacher forced (rl_kuhn_extract.h).
// With think > 0 no probs: its policy is sampled.
vkt_status vkt_rl_model_agent(vkt_gen *gen, const vkt_rl_fmt *f, vkt_agent *out);

#endif
