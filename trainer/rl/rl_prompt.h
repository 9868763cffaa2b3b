// rl_prompt.h: role-conditioned prompts for self-play and the imitation warm-up data.
//
// A prompt names the game and the seat ("which game, which player": SPIRAL's role
// conditioning), then the observation. The protocol's observations (games/protocol.h)
// are 600-1200 bytes, long for a byte-level tiny model with a 128-token context, so
// each game has a compact rendering: plain ASCII, one line, no special tokens (the same
// text works in `vkt train --format jsonl`, whose loader does not parse special tokens);
// exact strings in docs/selfplay.md:
//
//   Kuhn (one hand)  "Kuhn P<s> hist <h> moves [A] [B] card <J|Q|K>\n"                  42-44 bytes
//                    h = the hand's history in OpenSpiel's letters (p check/fold,
//                    b bet/call), "-" before any action; the moves in id order; the
//                    card last, right before the answer (docs/experiments/selfplay.md: why).
//   TicTacToe        "TicTacToe P<s> <X|O> board <abc|def|ghi>\n"                       33 bytes
//                    the board row by row, '|' between rows, X / O, an empty cell as its
//                    number (the legal answers are the digits shown: "[4]").
//   Negotiation      "Negotiation P<s> turn <t>/<T> values W<v> G<v> you W<n> G<n>
//                     opp W<n> G<n> offer <+x Res -y Res | none>\n"   (one line)       <= 89 bytes
//                    own values; both inventories; the offer pending for the mover as
//                    the change it makes to the mover's inventory ("+3 Wood -2 Gold":
//                    [Accept] gets 3 Wood for 2 Gold). No moves list (400 offers).
//   Offswitch        "Offswitch P0 mean <mu> spread <sigma> <noise|error> <x> moves [act] [off]
//   [wait]\n"
//                    the episode's prior N(mu, sigma^2) and human, as the game's text
//                    states them (%.2f; "noise 0.00" for a rational human, "error e"
//                    for a noisy one).
//
// Other games (and Kuhn matches of several hands) use "<Game> P<seat>\n" + the protocol
// observation + "\n".
//
// The answer is the move in brackets, e.g. "[Call]", then <|endoftext|>; the protocol
// parses it (any bracket text that is not a legal move is an invalid move).
//
// Thinking (`vkt selfplay --think-tokens N`, SPIRAL's format): with think = N > 0 the
// prompt's final newline is preceded by " think<=N then \boxed{move}" and the answer is
// "\boxed{Text}" then <|endoftext|> (the warm-up teaches it with no thinking in between);
// the model may write up to N tokens before it, and the protocol takes the last complete
// \boxed{} (or else the last [...]). think = 0 is the format above, unchanged.
#ifndef VKT_RL_PROMPT_H
#define VKT_RL_PROMPT_H

#include <stdint.h>
#include <stdio.h>

#include "game.h"
#include "rl_fmt.h"
#include "rng.h"
#include "status.h"

// The prompt for `player` (who is to move) in g; snprintf semantics.
size_t vkt_rl_prompt(const vkt_game *g, int player, char *buf, size_t cap);
// The same in the thinking format (think > 0: the suffix before the final newline; 0:
// vkt_rl_prompt).
size_t vkt_rl_prompt_think(const vkt_game *g, int player, int think, char *buf, size_t cap);
// " think<=N then \boxed{move}" for think = N > 0, "" for 0; snprintf semantics. Its length
// is what thinking adds to vkt_rl_prompt_max.
size_t vkt_rl_think_suffix(int think, char *buf, size_t cap);
// What the boxed answer adds to a game's answer budget: "\boxed{" + "}" replace "[" + "]",
// 6 more bytes, rounded up to 8 as the budgets are (rl_mix.h).
#define VKT_RL_BOXED_EXTRA 8
// An upper bound on vkt_rl_prompt's length over every state of g's game with g's
// options (g created, dealt or not); 0 when the game has no compact form (the bound
// then depends on the protocol text).
size_t vkt_rl_prompt_max(const vkt_game *g);
// The answer text for a legal action: "[" + action text + "]"; snprintf semantics.
vkt_status vkt_rl_answer(const vkt_game *g, int action, char *buf, size_t cap, vkt_error *err);
// The same in the thinking format: think > 0 gives "\boxed{Text}", 0 "[Text]".
vkt_status vkt_rl_answer_think(const vkt_game *g, int action, int think, char *buf, size_t cap,
                               vkt_error *err);

// The prompt in format f (rl_fmt.h; NULL: byte-level, no thinking) as token ids: *ids is
// malloc'd (*n ids).
vkt_status vkt_rl_prompt_tokens(const vkt_game *g, int player, const vkt_rl_fmt *f, int32_t **ids,
                                int *n, vkt_error *err);
// The answer of a legal action in format f as ids, "[Text]" (think > 0: "\boxed{Text}") then
// the answer's end (<|endoftext|> for bytes), into ids[cap].
vkt_status vkt_rl_answer_tokens(const vkt_game *g, int action, const vkt_rl_fmt *f, int32_t *ids,
                                int cap, int *n, vkt_error *err);

// A move of random legal play, as the warm-up imitates: uniform over the legal actions
// (one vkt_rng_below draw), except in negotiation, where the kind of move is uniform
// first (Accept when legal, Deny, an offer) and then the offer: uniform over the ~400
// legal offers would almost never show [Accept] or [Deny].
int vkt_rl_random_action(const vkt_game *g, vkt_rng *rng);

// Imitation warm-up data: plays `games` games of `spec` (e.g. "kuhn") with random legal
// moves (vkt_rl_random_action) for every seat, game k dealt from vkt_rng_derive(seed, k)
// and moves drawn from one RNG seeded by seed, and writes one JSON line per decision,
// {"prompt": vkt_rl_prompt(...), "completion": vkt_rl_answer(...)}, to f.
// *lines (may be NULL) gets the number of lines written.
vkt_status vkt_rl_warmup_write(FILE *f, const char *spec, int64_t games, uint64_t seed,
                               int64_t *lines, vkt_error *err);
// The same in the thinking format `think` (prompts with the suffix, "\boxed{Text}" completions).
vkt_status vkt_rl_warmup_write_think(FILE *f, const char *spec, int think, int64_t games,
                                     uint64_t seed, int64_t *lines, vkt_error *err);

#endif
