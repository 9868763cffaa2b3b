// rl_mix.h: the games one self-play run trains on, and what each game needs.
//
// `vkt selfplay --game kuhn,tictactoe,negotiation` trains one policy on a mix. The list
// is comma-separated game specs; a spec's own options continue it after its ':'
// ("negotiation:turns=12,random_values,kuhn" is negotiation with two options, then
// kuhn): a comma-separated item starts a new game exactly when its name (before ':')
// is a registered game. Each game appears once (baselines, shares and evaluations are
// keyed by the game's name).
//
// Per game (vkt_rl_game_info): its share of every update's games (split evenly: G / n,
// the first G % n games of the list one more), the strong opponent its evaluation plays
// (kuhn nash, tictactoe minimax, negotiation greedy; offswitch has none: it is scored
// against the oracle), the advantage it takes under --advantage auto and how many times
// each deal is replayed for group advantages (offswitch: 8 samples of every episode,
// compared on common random numbers; docs/selfplay.md), the answer budget
// (the longest legal answer + <|endoftext|>, rounded up to 8), the prompt bound
// (rl_prompt.h), and whether the format warm-up imitates the random policy's whole
// distribution at each state (every legal answer, weight 1/n: an exact expectation, for
// games with a handful of moves whose legality depends on the state) rather than one
// sampled move (Kuhn keeps its sampled warm-up; negotiation has ~400 offers), with its
// own default length and learning rate (chosen by measured warm-ups:
// docs/experiments/selfplay.md).
#ifndef VKT_RL_MIX_H
#define VKT_RL_MIX_H

#include <stdbool.h>

#include "rl_advantage.h"
#include "status.h"

#define VKT_RL_SPEC_MAX 128

typedef struct vkt_rl_game_info {
    char spec[VKT_RL_SPEC_MAX]; // "negotiation:turns=12"
    const char *name;           // the game's name ("negotiation"), static
    int players;
    const char *strong;  // strong opponent's agent spec, or NULL (offswitch)
    vkt_rl_adv_mode adv; // the default under --advantage auto
    int replays;         // deals replayed per group under the default (>= 1)
    int max_new_tokens;  // answer budget
    int prompt_max;      // vkt_rl_prompt_max (0: no compact prompt)
    bool kuhn_exact;     // one-hand Kuhn: exact extraction and exploitability
    bool offswitch;      // the off-switch game: oracle evaluation
    int max_legal;       // legal moves at any state when few (kuhn 2, tictactoe 9,
                         // offswitch 3); 0: many (negotiation, ~400 offers)
    bool warmup_expand;  // the warm-up trains every legal answer of a state at 1/n
                         // (few legal moves: tictactoe, offswitch), not one sample
    int warmup_steps;    // default warm-up length and learning rate (kuhn 150 at
    double warmup_lr;    // 1e-2, tictactoe 800, negotiation 400, offswitch 200 at 3e-3)
    int warmup_ramp;     // steps of a linear lr ramp at the warm-up's start (kuhn 30,
                         // else 0; a mix takes the largest, at most a fifth of the steps)
} vkt_rl_game_info;

typedef struct vkt_rl_mix {
    int n;
    vkt_rl_game_info g[VKT_RL_MAX_GAMES];
} vkt_rl_mix;

// Parses a list of game specs (each checked by vkt_game_create); names the item at fault.
vkt_status vkt_rl_mix_parse(const char *list, vkt_rl_mix *out, vkt_error *err);
// Games of game i among G games of one update.
int vkt_rl_mix_share(const vkt_rl_mix *m, int G, int i);
// The mix's warm-up defaults: the most steps and the lowest learning rate of its games.
void vkt_rl_mix_warmup_defaults(const vkt_rl_mix *m, int *steps, double *lr);
// Index of the game named `name` in the mix, or -1.
int vkt_rl_mix_find(const vkt_rl_mix *m, const char *name);

#endif
