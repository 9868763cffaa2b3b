// rl_prompt.h: role-conditioned prompts for self-play and the imitation warm-up data.
//
// A prompt names the game and the seat ("which game, which player": SPIRAL's role
// conditioning), then the observation. The protocol's observation (games/protocol.h) is
// ~600 bytes for Kuhn, long for a byte-level tiny model, so one-hand Kuhn has a compact
// rendering (plain ASCII, one line, no special tokens, so the same text works in
// `vkt train --format jsonl`, whose loader does not parse special tokens):
//
//   "Kuhn P<seat> card <J|Q|K> hist <h> moves [A] [B]\n"
//
// h = the hand's history in OpenSpiel's letters (p = check/fold, b = bet/call), "-"
// before any action; the moves are the legal actions' texts in brackets in id order
// ([Check] [Bet], or [Fold] [Call] facing a bet). Example: "Kuhn P1 card Q hist b moves
// [Fold] [Call]\n" (42 bytes = 42 tokens; 43-44 in the other states). Other games (and
// Kuhn matches of several hands) use "<Game> P<seat>\n" + the protocol observation + "\n".
//
// The answer is the move in brackets, e.g. "[Call]", then <|endoftext|>; the protocol
// parses it (any bracket text that is not a legal move is an invalid move).
#ifndef VKT_RL_PROMPT_H
#define VKT_RL_PROMPT_H

#include <stdint.h>
#include <stdio.h>

#include "game.h"
#include "status.h"

// The prompt for `player` (who is to move) in g; snprintf semantics.
size_t vkt_rl_prompt(const vkt_game *g, int player, char *buf, size_t cap);
// The answer text for a legal action: "[" + action text + "]"; snprintf semantics.
vkt_status vkt_rl_answer(const vkt_game *g, int action, char *buf, size_t cap, vkt_error *err);

// Imitation warm-up data: plays `games` games of `spec` (e.g. "kuhn") with uniformly
// random legal moves for every seat, game k dealt from vkt_rng_derive(seed, k) and moves
// drawn from one RNG seeded by seed, and writes one JSON line per decision,
// {"prompt": vkt_rl_prompt(...), "completion": vkt_rl_answer(...)}, to f.
// *lines (may be NULL) gets the number of lines written.
vkt_status vkt_rl_warmup_write(FILE *f, const char *spec, int64_t games, uint64_t seed, int64_t *lines,
                               vkt_error *err);

#endif
