// cli_selfplay_eval.h: `vkt selfplay`'s evaluation of the policy, per game of the mix:
// two-player games against `random` and the game's strong opponent (nash, minimax,
// greedy; --eval-games each, seats alternating, evaluation rewards), offswitch on a fixed
// set of held-out episodes against the oracle (agreement, regret, the fixed choices'
// regrets) with the deference-by-Delta bins written as CSV and drawn by
// tools/offswitch_defer_plot.py. Also the JSON objects and text lines of the results.
#ifndef VKT_CLI_SELFPLAY_EVAL_H
#define VKT_CLI_SELFPLAY_EVAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "offswitch_eval.h"
#include "rl_selfplay.h"

typedef struct cli_sp_game_eval {
    vkt_rl_eval vs_random, vs_strong; // two-player games
    vkt_offswitch_eval os;            // offswitch
    double legal_mass;                // offswitch: mean probability of a legal answer
} cli_sp_game_eval;

typedef struct cli_sp_eval {
    int games;    // per opponent (two-player games), 0: none
    int episodes; // offswitch held-out episodes
    uint64_t seed;
    vkt_game *eps;    // the held-out episodes (one set for the whole run)
    double *p, *mass; // (episodes x 3), (episodes): the latest probabilities
    bool ran;
    cli_sp_game_eval g[VKT_RL_MAX_GAMES];
} cli_sp_eval;

// Draws the offswitch episodes (from seed) when the mix has the game.
vkt_status cli_sp_eval_init(cli_sp_eval *e, const vkt_rl_sp *s, int games, int episodes,
                            uint64_t seed, vkt_error *err);
void cli_sp_eval_free(cli_sp_eval *e);
// One evaluation of the current policy; round varies the two-player games' seeds. Reports
// into s's context.
vkt_status cli_sp_eval_run(cli_sp_eval *e, vkt_rl_sp *s, uint64_t round);
// {"vs_random": ..., "vs_<strong>": ...} or the offswitch metrics, for game i.
json_t *cli_sp_eval_game_json(const cli_sp_eval *e, const vkt_rl_sp *s, int i);
// Adds the results to obj: a single game's keys at the top level, a mix's under
// "per_game": {name: ...}.
void cli_sp_eval_add_json(const cli_sp_eval *e, const vkt_rl_sp *s, json_t *obj);
// One short line of the results ("tictactoe: random w.55 l.20 | minimax l.85 ...").
void cli_sp_eval_line(const cli_sp_eval *e, const vkt_rl_sp *s, char *buf, size_t cap);
// The final report, per game, to f.
void cli_sp_eval_report(const cli_sp_eval *e, const vkt_rl_sp *s, FILE *f);
// Offswitch: DIR/offswitch_deference.csv (bins of `width`) and, with plot, the figure
// DIR/offswitch_deference.png (a failed plot is a warning). Nothing for other mixes.
vkt_status cli_sp_eval_offswitch_files(const cli_sp_eval *e, const vkt_rl_sp *s, const char *dir,
                                       double width, bool plot, vkt_error *err);

#endif
