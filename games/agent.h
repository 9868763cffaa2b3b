// agent.h: anything that picks moves: built-in opponents, a person at a terminal,
// and (later) a language model. An agent is a vtable over an opaque `self`.
//
//   act    picks an action for `player`, who is to move in g (not terminal). It may
//          set *action = VKT_ACTION_INVALID to say "my move was not a legal action"
//          (an LM whose text did not parse); the caller then forfeits the game for
//          that player (vkt_game_forfeit). Randomness comes only from `rng`.
//   probs  optional (NULL if the agent cannot say): the agent's probability of each
//          of the n legal actions acts[0..n), written to p[0..n), summing to 1. An LM
//          answers it by teacher forcing each action's text; exact analysis (Kuhn
//          exploitability) uses it instead of sampling when present.
//   destroy optional: frees self.
#ifndef VKT_AGENT_H
#define VKT_AGENT_H

#include <stdio.h>

#include "game.h"
#include "rng.h"
#include "status.h"

typedef struct vkt_agent {
    void *self;
    const char *name; // for reports: "random", "nash:0.1667", ...
    vkt_status (*act)(void *self, const vkt_game *g, int player, vkt_rng *rng, int *action,
                      vkt_error *err);
    vkt_status (*probs)(void *self, const vkt_game *g, int player, const int *acts, int n,
                        double *p, vkt_error *err);
    void (*destroy)(void *self);
} vkt_agent;

// Agent specs the library builds for a game (the CLI adds `human` and `ckpt:DIR`):
//   random                       every game: uniform over legal actions
//   minimax                      tictactoe: perfect play, ties broken uniformly at random
//   nash[:alpha]                 kuhn: OpenSpiel's equilibrium family, alpha in [0, 1/3], default
//   1/6 always-bet, always-pass      kuhn: the fixed tabular policies policy:FILE kuhn: a tabular
//   policy JSON (see kuhn_policy.h) greedy                       negotiation: accepts trades that
//   raise its own value,
//                                else offers one that does (uniformly among them)
// Fails with VKT_ERR_ARG naming the valid specs for that game.
vkt_status vkt_agent_create(const char *spec, const vkt_game_ops *game, vkt_agent *out,
                            vkt_error *err);
// One line listing the specs valid for `game` (for --help and errors).
const char *vkt_agent_specs(const vkt_game_ops *game);
void vkt_agent_destroy(vkt_agent *a);

// Asks agent a for player's move at g; checks the answer is legal (or VKT_ACTION_INVALID).
vkt_status vkt_agent_act(vkt_agent *a, const vkt_game *g, int player, vkt_rng *rng, int *action,
                         vkt_error *err);

// The uniform-random agent (no allocation).
vkt_agent vkt_agent_random(void);

// A person: prints the observation to `out`, reads a line from `in`, and asks again,
// listing the legal moves, until the line names one ("4", "[4]", "bet", ...). EOF on
// `in` fails with VKT_ERR_INTERRUPTED. Streams are the caller's (the CLI's terminal).
vkt_status vkt_agent_human_create(FILE *in, FILE *out, vkt_agent *a, vkt_error *err);

// The TicTacToe solver behind `minimax`, for tests: the value of the empty board for
// player 0 under perfect play (+1 win, 0 draw, -1 loss).
int vkt_tictactoe_solved_value(void);

#endif
