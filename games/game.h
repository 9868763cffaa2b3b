// game.h: the interface every game engine implements, and the value that holds a game.
//
// A game is a table of function pointers (vkt_game_ops) over a plain-data state that
// lives inline in vkt_game. The state holds its own parameters and its own chance RNG,
// so a game is deterministic for its seed, has no global state, and is cloned by
// copying the struct (vkt_game_clone): a clone replays the same chance outcomes.
//
// Players are 0..num_players-1. Chance (deals, value draws, a human's coin) is drawn
// inside apply()/reset() from the state's RNG, never exposed as a player, so a
// 1-player game with chance (off-switch: one robot decision, then chance) and
// multi-round games (Kuhn matches) look the same to callers:
//
//     vkt_game g;
//     vkt_game_create(&g, "kuhn:rounds=5", &err);   // name[:key=value,key=value]
//     vkt_game_reset(&g, seed, &err);
//     while (!vkt_game_is_terminal(&g)) {
//         int p = vkt_game_current_player(&g);
//         int acts[VKT_GAME_MAX_LEGAL], n = vkt_game_legal_actions(&g, acts);
//         ... pick one of acts[0..n) ...
//         vkt_game_apply(&g, a, &err);
//     }
//     double r[VKT_GAME_MAX_PLAYERS]; vkt_game_returns(&g, r);
//
// An invalid move (an LM's text that is not a legal action, see protocol.h) ends the
// game through vkt_game_forfeit with the rewards of the game's vkt_invalid_rule.
#ifndef VKT_GAME_H
#define VKT_GAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rng.h"
#include "status.h"

#define VKT_GAME_MAX_PLAYERS 2
#define VKT_GAME_MAX_LEGAL 1024   // bound on legal actions at any state, every game
#define VKT_GAME_STATE_BYTES 4096 // bound on a game's state struct
#define VKT_ACTION_TEXT_MAX 96    // bound on one action's text, NUL included
#define VKT_TERMINAL (-1)         // current player of a finished game
#define VKT_ACTION_INVALID (-1)   // "the agent's move was not a legal action"

// Rewards when a move is invalid: the offender gets `offender`, every other player
// `others`, and the game ends. SPIRAL uses two settings (arXiv 2506.24119).
typedef struct vkt_invalid_rule {
    double offender;
    double others;
} vkt_invalid_rule;

#define VKT_INVALID_TRAINING ((vkt_invalid_rule){-1.5, 0.5})
#define VKT_INVALID_EVAL ((vkt_invalid_rule){-1.0, 1.0})

// What a game implements. `state` points at the game's own struct inside vkt_game.
// Functions that cannot fail on a valid state return values directly; everything that
// takes input from outside (options, actions) returns vkt_status.
typedef struct vkt_game_ops {
    const char *name;    // "tictactoe", "kuhn", "negotiation", ...
    const char *summary; // one line for --help
    const char *options; // one line naming the options, "rounds=N (1..100), reward=chips|outcome"
    int num_players;     // 1 or 2
    int num_actions;     // action ids are in [0, num_actions)
    size_t state_size;   // sizeof the game's state struct, <= VKT_GAME_STATE_BYTES
    bool case_sensitive; // whether action texts must match case (protocol.c folds if not)

    // Parameters to their defaults (state zeroed before the call).
    void (*defaults)(void *state);
    // One option "key=value" (value may be NULL for a flag): names the bad one on error.
    vkt_status (*set_option)(void *state, const char *key, const char *value, vkt_error *err);
    // A fresh game (a fresh match) with the current parameters; chance from `seed`.
    vkt_status (*reset)(void *state, uint64_t seed, vkt_error *err);
    // The player to move, or VKT_TERMINAL.
    int (*current_player)(const void *state);
    // Legal action ids for the player to move, ascending, into out[VKT_GAME_MAX_LEGAL];
    // returns how many (0 when terminal).
    int (*legal_actions)(const void *state, int *out);
    // Text of `action` in this state, no brackets: "4", "Bet", "Offer: 3 Wood -> 2 Gold".
    // Fails (naming the action) when the id is out of range.
    vkt_status (*action_text)(const void *state, int action, char *buf, size_t cap, vkt_error *err);
    // Plays a legal action (chance that follows is resolved here). Fails, leaving the
    // state unchanged, when the action is not legal.
    vkt_status (*apply)(void *state, int action, vkt_error *err);
    // Returns per player, out[num_players]; meaningful once terminal (0 before).
    void (*returns)(const void *state, double *out);
    // The text a model reads before its move, minus the list of moves: rules, what
    // `player` knows (own card, inventory) and the history. snprintf semantics:
    // returns the length it needs, writes at most cap bytes, always NUL-terminated.
    size_t (*describe)(const void *state, int player, char *buf, size_t cap);
    // Optional: the "Available Moves" line when listing every legal action is too long
    // (negotiation). NULL: protocol.c lists them all as "[text], [text]".
    size_t (*moves_hint)(const void *state, char *buf, size_t cap);
} vkt_game_ops;

// A game: its ops, how invalid moves are scored, and the engine's state, all inline.
typedef struct vkt_game {
    const vkt_game_ops *ops;
    vkt_invalid_rule invalid_rule; // VKT_INVALID_EVAL unless set
    int forfeited_by;              // -1, or the player whose invalid move ended the game
    _Alignas(16) unsigned char state[VKT_GAME_STATE_BYTES];
} vkt_game;

// Every registered game, NULL-terminated; and lookup by name (NULL if unknown).
const vkt_game_ops *const *vkt_game_list(void);
const vkt_game_ops *vkt_game_find(const char *name);

// Makes a game from "name" or "name:key=value,key=value" (e.g. "kuhn:rounds=5",
// "negotiation:random_values"). The game is not dealt yet: call vkt_game_reset.
vkt_status vkt_game_create(vkt_game *g, const char *spec, vkt_error *err);
// Same as one key=value of the spec (CLI flags like --rounds map here). Before reset.
vkt_status vkt_game_set_option(vkt_game *g, const char *key, const char *value, vkt_error *err);
void vkt_game_set_invalid_rule(vkt_game *g, vkt_invalid_rule rule);

vkt_status vkt_game_reset(vkt_game *g, uint64_t seed, vkt_error *err);
int vkt_game_current_player(const vkt_game *g); // VKT_TERMINAL when over
bool vkt_game_is_terminal(const vkt_game *g);
int vkt_game_num_players(const vkt_game *g);
const char *vkt_game_name(const vkt_game *g);
int vkt_game_legal_actions(const vkt_game *g, int *out); // out[VKT_GAME_MAX_LEGAL]
bool vkt_game_is_legal(const vkt_game *g, int action);
vkt_status vkt_game_action_text(const vkt_game *g, int action, char *buf, size_t cap,
                                vkt_error *err);
vkt_status vkt_game_apply(vkt_game *g, int action, vkt_error *err);
// Ends the game because `player` made an invalid move: returns become the invalid rule.
void vkt_game_forfeit(vkt_game *g, int player);
// out[vkt_game_num_players(g)]; the game's own returns, or the invalid rule's after a forfeit.
void vkt_game_returns(const vkt_game *g, double *out);
// A full copy: the clone continues independently and replays the same chance outcomes.
void vkt_game_clone(vkt_game *dst, const vkt_game *src);

#endif
