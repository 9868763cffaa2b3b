// cli_selfplay_eval.c: the policy's evaluation per game of a self-play run (see
// cli_selfplay_eval.h).
#include "cli_selfplay_eval.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rl_offswitch.h"

static const char *const choice_name[3] = {"act", "off", "wait"};

vkt_status cli_sp_eval_init(cli_sp_eval *e, const vkt_rl_sp *s, int games, int episodes,
                            uint64_t seed, vkt_error *err) {
    memset(e, 0, sizeof *e);
    e->games = games, e->episodes = episodes, e->seed = seed;
    for (int i = 0; i < s->mix.n; i++) {
        if (!s->mix.g[i].offswitch) continue;
        if (episodes < 1)
            return vkt_fail(err, VKT_ERR_ARG, "selfplay: --eval-episodes %d must be >= 1",
                            episodes);
        e->eps = malloc((size_t)episodes * sizeof *e->eps);
        e->p = malloc((size_t)episodes * 3 * sizeof *e->p),
        e->mass = malloc((size_t)episodes * sizeof *e->mass);
        if (!e->eps || !e->p || !e->mass)
            return vkt_fail(err, VKT_ERR_NOMEM, "selfplay: %d held-out episodes", episodes);
        // Held out: training deals come from vkt_rng_derive(run seed, game id), these from
        // another stream.
        VKT_TRY(vkt_offswitch_eval_episodes(s->mix.g[i].spec, episodes,
                                            vkt_rng_derive(seed, 0x0ff5), e->eps, err));
    }
    return VKT_OK;
}

void cli_sp_eval_free(cli_sp_eval *e) {
    free(e->eps), free(e->p), free(e->mass);
    e->eps = NULL, e->p = e->mass = NULL;
}

vkt_status cli_sp_eval_run(cli_sp_eval *e, vkt_rl_sp *s, uint64_t round) {
    for (int i = 0; i < s->mix.n; i++) {
        const vkt_rl_game_info *gi = &s->mix.g[i];
        cli_sp_game_eval *ge = &e->g[i];
        if (gi->offswitch) {
            VKT_TRY(vkt_rl_offswitch_probs(s->gen, &s->fmt, e->eps, e->episodes, e->p, e->mass));
            VKT_TRY(vkt_offswitch_eval_probs(e->eps, e->episodes, e->p, &ge->os,
                                             vkt_ctx_err(vkt_model_ctx(s->m))));
            ge->legal_mass = 0;
            for (int k = 0; k < e->episodes; k++) ge->legal_mass += e->mass[k] / e->episodes;
            continue;
        }
        if (e->games <= 0) continue;
        // The first game keeps the seeds of the Kuhn-only loop (its runs' numbers stay comparable).
        uint64_t sr = i ? vkt_rng_derive(e->seed, 2 * (uint64_t)i) : e->seed;
        uint64_t ss = i ? vkt_rng_derive(e->seed, 2 * (uint64_t)i + 1) : e->seed ^ 1;
        VKT_TRY(vkt_rl_eval_vs(s->m, s->gen, gi->spec, &s->fmt, "random", e->games,
                               vkt_rng_derive(sr, round), s->max_new_tokens, &ge->vs_random));
        if (gi->strong)
            VKT_TRY(vkt_rl_eval_vs(s->m, s->gen, gi->spec, &s->fmt, gi->strong, e->games,
                                   vkt_rng_derive(ss, round), s->max_new_tokens, &ge->vs_strong));
    }
    e->ran = true;
    return VKT_OK;
}

static json_t *rates_json(int games, double win, double draw, double loss, double invalid) {
    json_t *o = json_object();
    json_object_set_new(o, "games", json_integer(games));
    json_object_set_new(o, "win", json_real(win));
    json_object_set_new(o, "draw", json_real(draw));
    json_object_set_new(o, "loss", json_real(loss));
    json_object_set_new(o, "invalid", json_real(invalid));
    return o;
}

static json_t *eval_json(const vkt_rl_eval *v) {
    json_t *o = rates_json(v->games, v->win, v->draw, v->loss, v->invalid);
    json_object_set_new(o, "mean_return", json_real(v->mean_return));
    json_object_set_new(o, "decisions", json_integer(v->decisions));
    json_object_set_new(o, "invalid_per_move",
                        json_real(v->decisions ? v->invalid * v->games / v->decisions : 0.0));
    for (int k = 0; k < 2; k++)
        json_object_set_new(o, k ? "seat1" : "seat0",
                            rates_json(v->seat_games[k], v->seat_win[k], v->seat_draw[k],
                                       v->seat_loss[k], v->seat_invalid[k]));
    return o;
}

json_t *cli_sp_eval_game_json(const cli_sp_eval *e, const vkt_rl_sp *s, int i) {
    const vkt_rl_game_info *gi = &s->mix.g[i];
    const cli_sp_game_eval *ge = &e->g[i];
    json_t *o = json_object();
    if (gi->offswitch) {
        const vkt_offswitch_eval *v = &ge->os;
        json_object_set_new(o, "episodes", json_integer(v->episodes));
        json_object_set_new(o, "agreement", json_real(v->agreement));
        json_object_set_new(o, "regret", json_real(v->regret));
        json_object_set_new(o, "argmax_agreement", json_real(v->argmax_agreement));
        json_object_set_new(o, "argmax_regret", json_real(v->argmax_regret));
        json_object_set_new(o, "legal_mass", json_real(ge->legal_mass));
        json_t *f = json_object(), *pc = json_object();
        for (int a = 0; a < 3; a++) {
            json_object_set_new(f, choice_name[a], json_real(v->fixed_regret[a]));
            json_object_set_new(pc, choice_name[a], json_real(v->p_choice[a]));
        }
        json_object_set_new(o, "fixed_regret", f);
        json_object_set_new(o, "p_choice", pc);
        json_object_set_new(o, "best_fixed", json_string(choice_name[v->best_fixed]));
        json_object_set_new(o, "beats_fixed", json_boolean(v->beats_fixed));
        json_object_set_new(o, "gap_to_best_fixed", json_real(v->gap));
        json_object_set_new(o, "gap_se", json_real(v->gap_se));
        json_object_set_new(o, "oracle_value", json_real(v->oracle_value));
        return o;
    }
    if (e->games <= 0) return o;
    json_object_set_new(o, "vs_random", eval_json(&ge->vs_random));
    if (gi->strong) {
        char key[64];
        snprintf(key, sizeof key, "vs_%s", gi->strong);
        json_object_set_new(o, key, eval_json(&ge->vs_strong));
    }
    return o;
}

void cli_sp_eval_add_json(const cli_sp_eval *e, const vkt_rl_sp *s, json_t *obj) {
    if (!e->ran) return;
    if (s->mix.n == 1) {
        json_t *g = cli_sp_eval_game_json(e, s, 0);
        json_object_update(obj, g);
        json_decref(g);
        return;
    }
    json_t *per = json_object();
    for (int i = 0; i < s->mix.n; i++)
        json_object_set_new(per, s->mix.g[i].name, cli_sp_eval_game_json(e, s, i));
    json_object_set_new(obj, "per_game", per);
}

void cli_sp_eval_line(const cli_sp_eval *e, const vkt_rl_sp *s, char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; i < s->mix.n && n < cap; i++) {
        const vkt_rl_game_info *gi = &s->mix.g[i];
        const cli_sp_game_eval *ge = &e->g[i];
        if (gi->offswitch) {
            const vkt_offswitch_eval *v = &ge->os;
            n += (size_t)snprintf(
                buf + n, cap - n,
                "%s%s: agree %.3f regret %.4f (best fixed: %s %.4f) legal mass %.3f", i ? "  " : "",
                gi->name, v->agreement, v->regret, choice_name[v->best_fixed],
                v->fixed_regret[v->best_fixed], ge->legal_mass);
        } else if (e->games > 0) {
            const vkt_rl_eval *r = &ge->vs_random, *t = &ge->vs_strong;
            n += (size_t)snprintf(
                buf + n, cap - n, "%s%s: random w%.2f l%.2f | %s w%.2f d%.2f l%.2f", i ? "  " : "",
                gi->name, r->win, r->loss, gi->strong ? gi->strong : "-", t->win, t->draw, t->loss);
        }
    }
}

static void report_rates(FILE *f, const char *label, double win, double draw, double loss,
                         double invalid) {
    fprintf(f, "%swin %5.1f%%  draw %5.1f%%  loss %5.1f%%  (invalid %.1f%%)\n", label, 100 * win,
            100 * draw, 100 * loss, 100 * invalid);
}

void cli_sp_eval_report(const cli_sp_eval *e, const vkt_rl_sp *s, FILE *f) {
    if (!e->ran) return;
    for (int i = 0; i < s->mix.n; i++) {
        const vkt_rl_game_info *gi = &s->mix.g[i];
        const cli_sp_game_eval *ge = &e->g[i];
        if (gi->offswitch) {
            const vkt_offswitch_eval *v = &ge->os;
            fprintf(
                f,
                "  %s, %d held-out episodes (the model's choice probabilities, teacher forced):\n",
                gi->name, v->episodes);
            fprintf(f,
                    "    agreement with the oracle %.1f%% (most probable choice: %.1f%%); legal "
                    "answer mass %.3f\n",
                    100 * v->agreement, 100 * v->argmax_agreement, ge->legal_mass);
            fprintf(f,
                    "    mean regret %.4f (most probable choice: %.4f); fixed choices: always act "
                    "%.4f, always off "
                    "%.4f, always wait %.4f\n",
                    v->regret, v->argmax_regret, v->fixed_regret[0], v->fixed_regret[1],
                    v->fixed_regret[2]);
            fprintf(f,
                    "    regret minus the best fixed choice's (always %s), paired over the "
                    "episodes: %+.4f +- %.4f (1 SE):\n"
                    "    %s every fixed choice; P(act) %.3f P(off) %.3f P(wait) %.3f\n",
                    choice_name[v->best_fixed], v->gap, v->gap_se,
                    v->beats_fixed ? "beats" : "does NOT beat", v->p_choice[0], v->p_choice[1],
                    v->p_choice[2]);
            continue;
        }
        if (e->games <= 0) continue;
        const vkt_rl_eval *r = &ge->vs_random, *t = &ge->vs_strong;
        fprintf(f, "  %s, %d games per opponent, seats alternating:\n", gi->name, r->games);
        report_rates(f, "    vs random:            ", r->win, r->draw, r->loss, r->invalid);
        fprintf(f, "      (%d model moves, %.1f%% of them invalid)\n", r->decisions,
                r->decisions ? 100.0 * r->invalid * r->games / r->decisions : 0.0);
        for (int k = 0; k < 2; k++) {
            char label[64];
            snprintf(label, sizeof label, "      as player %d%s:   ", k,
                     !strcmp(gi->name, "tictactoe") ? (k ? " (O)" : " (X)") : "    ");
            report_rates(f, label, r->seat_win[k], r->seat_draw[k], r->seat_loss[k],
                         r->seat_invalid[k]);
        }
        if (gi->strong) {
            char label[64];
            snprintf(label, sizeof label, "    vs %-19s", gi->strong);
            report_rates(f, label, t->win, t->draw, t->loss, t->invalid);
            fprintf(f, "      mean return %+.3f\n", t->mean_return);
        }
    }
}

vkt_status cli_sp_eval_offswitch_files(const cli_sp_eval *e, const vkt_rl_sp *s, const char *dir,
                                       double width, bool plot, vkt_error *err) {
    if (!e->eps || !e->ran) return VKT_OK;
    enum { CAP = 4096 };
    vkt_offswitch_bin *bins = malloc(CAP * sizeof *bins);
    if (!bins) return vkt_fail(err, VKT_ERR_NOMEM, "selfplay: deference bins");
    int nb = 0;
    char csv[4096], png[4096];
    snprintf(csv, sizeof csv, "%s/offswitch_deference.csv", dir);
    snprintf(png, sizeof png, "%s/offswitch_deference.png", dir);
    vkt_status st = vkt_offswitch_deference(e->eps, e->episodes, e->p, width, bins, CAP, &nb, err);
    if (st == VKT_OK) st = vkt_rl_offswitch_write_csv(csv, bins, nb, err);
    free(bins);
    if (st != VKT_OK || !plot) return st;
    char title[160];
    int i = 0;
    while (i < s->mix.n && !s->mix.g[i].offswitch) i++;
    snprintf(title, sizeof title, "%s after %lld games: regret %.4f (always %s %.4f)",
             s->mix.g[i].spec, (long long)s->games, e->g[i].os.regret,
             choice_name[e->g[i].os.best_fixed], e->g[i].os.fixed_regret[e->g[i].os.best_fixed]);
    char *args[] = {"--csv", csv, "--out", png, "--title", title, NULL};
    if (cli_run_python("selfplay", "offswitch_defer_plot.py", args) != CLI_OK)
        fprintf(stderr,
                "vkt selfplay: warning: the deference figure was not drawn (the CSV is %s)\n", csv);
    return VKT_OK;
}
