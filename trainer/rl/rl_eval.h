// rl_eval.h: measuring a self-play policy: its invalid-move rate in self-play, and its record
// against an opponent agent.
#ifndef VKT_RL_EVAL_H
#define VKT_RL_EVAL_H

#include <stdint.h>

#include "generate.h"
#include "model.h"
#include "rl_fmt.h"

// Invalid-move rate of self-play sampling: `games` games (ids from game_base; a mix
// splits them evenly) at temperature 1 in format f (rl_fmt.h; NULL: the byte format),
// invalid moves / decisions. max_new_tokens: the whole response's budget.
vkt_status vkt_rl_invalid_rate(vkt_model *m, vkt_gen *gen, const char *game, const vkt_rl_fmt *f,
                               int games, int64_t game_base, uint64_t seed, int max_new_tokens,
                               double *rate);

// Evaluation against an opponent agent in a two-player game: `games` games, the model
// in seat g % 2 of game g, evaluation rewards (an invalid move loses: -1 / +1);
// temperature 1. Rates over all games, and per seat over that seat's games.
typedef struct vkt_rl_eval {
    int games;
    double win, draw, loss, invalid; // rates over games (invalid: the model forfeited)
    double mean_return;              // the model's mean return
    int decisions;                   // the model's moves (invalid / decisions: per-move rate)
    int seat_games[2];
    double seat_win[2], seat_draw[2], seat_loss[2], seat_invalid[2];
} vkt_rl_eval;
// In format f (NULL: the byte format; max_new_tokens: the whole response's budget).
vkt_status vkt_rl_eval_vs(vkt_model *m, vkt_gen *gen, const char *game, const vkt_rl_fmt *f,
                          const char *opponent, int games, uint64_t seed, int max_new_tokens,
                          vkt_rl_eval *out);

#endif
