// cli_model_agent.h: `ckpt:DIR` players for vkt arena and vkt play: a checkpoint (from
// vkt selfplay or vkt train) as a game agent, answering the compact role prompts of
// trainer/rl/rl_prompt.h by sampling at temperature 1, in the thinking format of
// DIR/run_options.json's think_tokens when a `vkt selfplay --think-tokens N` run wrote it.
#ifndef VKT_CLI_MODEL_AGENT_H
#define VKT_CLI_MODEL_AGENT_H

#include "agent.h"

// Opens the default (or VKT_DEVICE) device, loads DIR and makes *out; the agent owns
// them and frees them in vkt_agent_destroy. Returns a CLI exit code (prints errors).
int cli_model_agent(const char *cmd, const char *dir, vkt_agent *out);

#endif
