// rl_warmup.h: the format warm-up before self-play: the model imitates the answer format
// with supervised steps on (prompt, answer) pairs of uniformly random legal play, loss on
// the answer tokens.
#ifndef VKT_RL_WARMUP_H
#define VKT_RL_WARMUP_H

#include <stdint.h>

#include "model.h"
#include "rl_fmt.h"

// `steps` AdamW steps (lr, betas 0.9/0.95, clip 1; the lr ramps up linearly over the game's
// warmup_ramp steps, at most steps / 5, rl_mix.h) on batches of `rows` (prompt, answer)
// pairs drawn from random legal play (vkt_rl_random_action) of `game` (seeded by seed; a mix
// takes row r from its game r % n); the model's moments and step count start and end at
// zero. Format f (rl_fmt.h; NULL: the byte format): with think > 0 prompts with the suffix,
// targets "\boxed{Text}" + the answer's end (no thinking: the format, not a way of
// thinking, is imitated). *loss (may be NULL) gets the mean answer-token loss of the last
// step (nats).
vkt_status vkt_rl_warmup(vkt_model *m, const char *game, const vkt_rl_fmt *f, int steps, int rows,
                         double lr, uint64_t seed, double *loss);

#endif
