// rl_eval.c: invalid-move rate and evaluation against an opponent (see rl_eval.h).
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "context.h"
#include "protocol.h"
#include "rl_eval.h"
#include "rl_prompt.h"
#include "rl_sp_internal.h"

vkt_status vkt_rl_invalid_rate(vkt_model *m, vkt_gen *gen, const char *game, const vkt_rl_fmt *f,
                               int games, int64_t game_base, uint64_t seed, int max_new_tokens,
                               double *rate) {
    vkt_error *err = vkt_ctx_err(vkt_model_ctx(m));
    vkt_rl_mix mx;
    VKT_TRY(vkt_rl_mix_parse(game, &mx, err));
    if (games < mx.n)
        return vkt_fail(err, VKT_ERR_ARG, "invalid rate: %d games for the %d games of '%s'", games,
                        mx.n, game);
    vkt_rl_rollout_opts ro;
    vkt_rl_rollout_defaults(&ro);
    ro.game = game, ro.n_games = games, ro.game_base = game_base, ro.seed = seed, ro.fmt = f;
    if (mx.n > 1)
        vkt_rl_sp_mix_blocks(&mx, games, NULL, &ro);
    else
        ro.game = mx.g[0].spec;
    vkt_rl_sp_gen_opts(&ro.gen, max_new_tokens);
    vkt_rl_rollout r;
    vkt_status s = vkt_rl_rollout_run(m, gen, &ro, &r);
    if (s == VKT_OK) *rate = r.n_turns ? (double)r.invalid / r.n_turns : 0;
    vkt_rl_rollout_free(&r);
    return s;
}

vkt_status vkt_rl_eval_vs(vkt_model *m, vkt_gen *gen, const char *game, const vkt_rl_fmt *f,
                          const char *opponent, int games, uint64_t seed, int max_new_tokens,
                          vkt_rl_eval *out) {
    vkt_error *err = vkt_ctx_err(vkt_model_ctx(m));
    memset(out, 0, sizeof *out);
    if (games < 1) return vkt_fail(err, VKT_ERR_ARG, "eval: games %d must be >= 1", games);
    vkt_game probe;
    VKT_TRY(vkt_game_create(&probe, game, err));
    if (vkt_game_num_players(&probe) != 2)
        return vkt_fail(
            err, VKT_ERR_ARG,
            "eval: %s is not a two-player game (offswitch is scored against its oracle)", game);
    vkt_game *gs = malloc((size_t)games * sizeof *gs);
    vkt_rng *rng = malloc((size_t)games * sizeof *rng);
    int *turn = calloc((size_t)games, sizeof *turn), *wait = malloc((size_t)games * sizeof *wait);
    int32_t **ids = calloc((size_t)games, sizeof *ids);
    vkt_gen_prompt *pr = malloc((size_t)games * sizeof *pr);
    vkt_gen_result *res = calloc((size_t)games, sizeof *res);
    vkt_agent opp = {0};
    vkt_status s = VKT_OK;
    if (!gs || !rng || !turn || !wait || !ids || !pr || !res)
        s = vkt_fail(err, VKT_ERR_NOMEM, "eval: %d games", games);
    for (int g = 0; s == VKT_OK && g < games; g++) {
        s = vkt_game_create(&gs[g], game, err);
        if (s == VKT_OK) s = vkt_game_reset(&gs[g], vkt_rng_derive(seed, (uint64_t)g), err);
        vkt_rng_seed(&rng[g], vkt_rng_derive(seed ^ 0x0bb0e17ull, (uint64_t)g));
    }
    if (s == VKT_OK) s = vkt_agent_create(opponent, gs[0].ops, &opp, err);
    vkt_gen_opts go;
    vkt_rl_sp_gen_opts(&go, max_new_tokens);
    go.seed = vkt_rng_derive(seed, 0xe7a1);
    vkt_rl_fmt_gen_opts(f, &go);
    while (s == VKT_OK) {
        int n = 0;
        for (int g = 0; g < games && s == VKT_OK; g++) {
            // The opponent moves until it is the model's turn (seat g % 2) or the game ends.
            while (s == VKT_OK && !vkt_game_is_terminal(&gs[g]) &&
                   vkt_game_current_player(&gs[g]) != g % 2) {
                int p = vkt_game_current_player(&gs[g]), a;
                s = vkt_agent_act(&opp, &gs[g], p, &rng[g], &a, err);
                if (s != VKT_OK) break;
                if (a == VKT_ACTION_INVALID)
                    vkt_game_forfeit(&gs[g], p);
                else
                    s = vkt_game_apply(&gs[g], a, err);
            }
            if (s == VKT_OK && !vkt_game_is_terminal(&gs[g]) && turn[g] < 200) {
                int np = 0;
                free(ids[g]);
                ids[g] = NULL;
                s = vkt_rl_prompt_tokens(&gs[g], g % 2, f, &ids[g], &np, err);
                pr[n] = (vkt_gen_prompt){ids[g], np, ((uint64_t)g << 16) | (uint64_t)turn[g]};
                wait[n++] = g;
            }
        }
        if (s != VKT_OK || n == 0) break;
        if (vkt_generate(gen, pr, n, &go, res) != VKT_OK) {
            s = vkt_fail_wrap(err, "selfplay: eval: generate");
            break;
        }
        for (int k = 0; k < n; k++) {
            int g = wait[k], a;
            bool invalid = false;
            size_t at, len;
            vkt_rl_fmt_answer_span(f, res[k].text, res[k].text_len, &at, &len);
            if (s == VKT_OK)
                s = vkt_protocol_step(&gs[g], res[k].text + at, len, &a, &invalid, NULL);
            if (s == VKT_OK && invalid) out->invalid += 1, out->seat_invalid[g % 2] += 1;
            out->decisions++;
            turn[g]++;
            vkt_gen_result_free(&res[k]);
        }
    }
    for (int g = 0; s == VKT_OK && g < games; g++) {
        double r[VKT_GAME_MAX_PLAYERS] = {0};
        if (vkt_game_is_terminal(&gs[g])) vkt_game_returns(&gs[g], r);
        const int seat = g % 2;
        double mine = r[seat];
        out->mean_return += mine;
        out->seat_games[seat]++;
        if (mine > 0)
            out->win += 1, out->seat_win[seat] += 1;
        else if (mine < 0)
            out->loss += 1, out->seat_loss[seat] += 1;
        else
            out->draw += 1, out->seat_draw[seat] += 1;
    }
    if (s == VKT_OK) {
        out->games = games;
        out->win /= games, out->draw /= games, out->loss /= games, out->invalid /= games,
            out->mean_return /= games;
        for (int k = 0; k < 2; k++) {
            double n = out->seat_games[k] ? out->seat_games[k] : 1;
            out->seat_win[k] /= n, out->seat_draw[k] /= n, out->seat_loss[k] /= n,
                out->seat_invalid[k] /= n;
        }
    }
    if (opp.act) vkt_agent_destroy(&opp);
    for (int g = 0; ids && g < games; g++) free(ids[g]);
    free(gs), free(rng), free(turn), free(wait), free(ids), free(pr), free(res);
    return s;
}
