// arena.c: fixed agents against each other, with statistics over games.
#include "arena.h"

#include <math.h>
#include <string.h>

vkt_status vkt_arena_run(const vkt_game *proto, vkt_agent *const *agents, long games, uint64_t seed,
                         vkt_arena_result *out, vkt_error *err) {
    memset(out, 0, sizeof *out);
    if (games < 1) return vkt_fail(err, VKT_ERR_ARG, "arena: games=%ld must be >= 1", games);
    int np = vkt_game_num_players(proto);
    vkt_rng rng[VKT_GAME_MAX_PLAYERS];
    for (int p = 0; p < np; p++)
        vkt_rng_seed(&rng[p], vkt_rng_derive(seed ^ 0xa6e1a5eedULL, (uint64_t)p));
    double sum[VKT_GAME_MAX_PLAYERS] = {0}, sumsq[VKT_GAME_MAX_PLAYERS] = {0};
    vkt_game g;
    for (long i = 0; i < games; i++) {
        vkt_game_clone(&g, proto);
        VKT_TRY(vkt_game_reset(&g, vkt_rng_derive(seed, (uint64_t)i), err));
        while (!vkt_game_is_terminal(&g)) {
            int p = vkt_game_current_player(&g), a;
            if (vkt_agent_act(agents[p], &g, p, &rng[p], &a, err) != VKT_OK)
                return vkt_fail_wrap(err, "arena game %ld", i + 1);
            if (a == VKT_ACTION_INVALID) {
                vkt_game_forfeit(&g, p);
                out->invalid[p]++;
                break;
            }
            if (vkt_game_apply(&g, a, err) != VKT_OK)
                return vkt_fail_wrap(err, "arena game %ld", i + 1);
        }
        double r[VKT_GAME_MAX_PLAYERS];
        vkt_game_returns(&g, r);
        for (int p = 0; p < np; p++) {
            sum[p] += r[p];
            sumsq[p] += r[p] * r[p];
        }
        if (np == 1) {
            if (r[0] > 0)
                out->wins[0]++;
            else if (r[0] == 0)
                out->draws++;
        } else {
            int best = 0;
            for (int p = 1; p < np; p++)
                if (r[p] > r[best]) best = p;
            bool unique = true;
            for (int p = 0; p < np; p++)
                if (p != best && r[p] == r[best]) unique = false;
            if (unique)
                out->wins[best]++;
            else
                out->draws++;
        }
    }
    out->games = games;
    for (int p = 0; p < np; p++) {
        double m = sum[p] / games;
        double var = games > 1 ? (sumsq[p] - games * m * m) / (games - 1) : 0;
        out->mean_return[p] = m;
        out->ci95[p] = 1.96 * sqrt(var > 0 ? var : 0) / sqrt((double)games);
    }
    return VKT_OK;
}
