// arena.h: many games between fixed agents, with win/draw rates and player 0's mean
// return with a 95% confidence interval. Seeds: game i is dealt from
// vkt_rng_derive(seed, i); each seat's agent draws from its own stream, so a run is
// reproducible and changing one agent does not change the other's dice.
#ifndef VKT_ARENA_H
#define VKT_ARENA_H

#include "agent.h"
#include "game.h"

typedef struct vkt_arena_result {
    long games;
    long wins[VKT_GAME_MAX_PLAYERS];    // by seat: that seat's return beat every other seat's
    long draws;                         // no seat strictly best
    long invalid[VKT_GAME_MAX_PLAYERS]; // games ended by that seat's invalid move
    double mean_return[VKT_GAME_MAX_PLAYERS];
    double ci95[VKT_GAME_MAX_PLAYERS]; // half-width: 1.96 * sample sd / sqrt(games)
} vkt_arena_result;

// Plays `games` games of `proto` (created, options set; it is copied, not changed)
// with agents[p] in seat p. For a 1-player game only agents[0] is used, and a game is
// a "win" when its return is > 0, a "draw" when 0.
vkt_status vkt_arena_run(const vkt_game *proto, vkt_agent *const *agents, long games, uint64_t seed,
                         vkt_arena_result *out, vkt_error *err);

#endif
