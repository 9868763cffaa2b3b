// protocol.h: the text protocol between a game and a language model.
//
// Observation (what the model reads): the game's describe() text (rules, what the
// player knows, history) followed by one line of legal moves,
// "Available Moves: [0], [4], [8]" (or the game's moves_hint()).
//
// Action (what the model writes): the last complete \boxed{...} (braces matched,
// \text{...} unwrapped, one pair of surrounding [ ] dropped), else the contents of the
// last [...] that has no bracket inside ("[a [b] c]" gives "b"). Whitespace runs collapse to one
// space and ends are trimmed; case is folded unless the game is case-sensitive. The move is
// accepted only if it then equals the (equally normalised) text of a legal action; anything else is
// an invalid move, which ends the game with the game's vkt_invalid_rule rewards.
#ifndef VKT_PROTOCOL_H
#define VKT_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>

#include "game.h"

#define VKT_MOVE_TEXT_MAX 256 // longest candidate move kept by extraction

// The observation for `player` (snprintf semantics: returns the length needed).
size_t vkt_protocol_observation(const vkt_game *g, int player, char *buf, size_t cap);

// The candidate move in a model's text (len bytes, need not be NUL-terminated; any
// bytes). Writes it (truncated to cap-1) to out and returns true; false if none.
bool vkt_protocol_extract(const char *text, size_t len, char *out, size_t cap);

// Collapses whitespace, trims, and folds ASCII case when fold is set.
void vkt_protocol_normalize(const char *in, bool fold, char *out, size_t cap);

// The legal action whose text equals `move` (already extracted, no brackets),
// normalised as above. VKT_ERR_FORMAT (message names the move) if none.
vkt_status vkt_protocol_match(const vkt_game *g, const char *move, int *action, vkt_error *err);

// Extract + match: the legal action a model's text names.
vkt_status vkt_protocol_parse(const vkt_game *g, const char *text, size_t len, int *action,
                              vkt_error *err);

// Plays a model's text for the player to move. A legal move is applied
// (*invalid = false); anything else ends the game as that player's invalid move
// (*invalid = true, *action = VKT_ACTION_INVALID, reason in err->msg when err is
// given, but VKT_OK is returned: the game went on correctly). Fails only when the
// game is already over.
vkt_status vkt_protocol_step(vkt_game *g, const char *text, size_t len, int *action, bool *invalid,
                             vkt_error *err);

// "[a], [b], ..." of the legal actions (snprintf semantics), for error messages.
size_t vkt_protocol_legal_list(const vkt_game *g, char *buf, size_t cap);

#endif
