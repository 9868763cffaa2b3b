// cmd_selfplay_loop.c: a `vkt selfplay` run's updates: an evaluation every --eval-every
// updates and at the end (cli_selfplay_eval.c), one metrics line per update and per
// evaluation, progress on a terminal, checkpoints every --save-every updates and at the end
// (cli_selfplay_dir.c), then the off-switch files and the final policy's invalid-move rate.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "cmd_selfplay.h"
#include "metrics_json.h"
#include "rl_eval.h"

// The per-update metrics line; a mix adds each game's counts.
static void write_update_line(FILE *mf, const vkt_rl_sp *s, const vkt_rl_sp_stats *us,
                              double elapsed) {
    vkt_jsonl l; // a non-finite number is written as null, flagged "nonfinite": true
    vkt_jsonl_begin(&l, mf);
    vkt_jsonl_int(&l, "update", s->updates);
    vkt_jsonl_int(&l, "games", (long long)s->games);
    vkt_jsonl_int(&l, "decisions", us->decisions);
    vkt_jsonl_int(&l, "kept", us->kept);
    vkt_jsonl_int(&l, "invalid", us->invalid);
    vkt_jsonl_num(&l, "invalid_rate", "%.6f",
                  us->decisions ? (double)us->invalid / us->decisions : 0.0);
    vkt_jsonl_num(&l, "mean_return_p0", "%.6f", us->mean_return_p0);
    vkt_jsonl_num(&l, "loss", "%.6g", us->loss);
    vkt_jsonl_num(&l, "clip_frac", "%.4f", us->pg.clip_frac);
    vkt_jsonl_num(&l, "approx_kl", "%.6g", us->pg.approx_kl_old);
    vkt_jsonl_num(&l, "grad_norm", "%.5g", us->grad_norm);
    vkt_jsonl_int(&l, "gen_tokens", us->gen_tokens);
    vkt_jsonl_num(&l, "sample_entropy", "%.6f", us->sample_entropy);
    vkt_jsonl_num(&l, "entropy", "%.6f", us->entropy);
    vkt_jsonl_num(&l, "kl_ref", "%.6g", us->pg.kl_ref);
    vkt_jsonl_num(&l, "kl_uniform_coef", "%.6g", us->kl_uniform_coef);
    vkt_jsonl_num(&l, "kl_uniform", "%.6g", us->kl_uniform);
    vkt_jsonl_num(&l, "legal_mass", "%.6g", us->legal_mass);
    vkt_jsonl_int(&l, "uniform_rows", us->uniform_rows);
    vkt_jsonl_int(&l, "format_turns", us->format_turns);
    vkt_jsonl_int(&l, "invalid_clamped", us->invalid_clamped);
    vkt_jsonl_num(&l, "rollout_s", "%.3f", us->rollout_s);
    vkt_jsonl_num(&l, "score_s", "%.3f", us->score_s);
    vkt_jsonl_num(&l, "train_s", "%.3f", us->train_s);
    vkt_jsonl_num(&l, "elapsed_s", "%.2f", elapsed);
    if (s->mix.n > 1) {
        vkt_jsonl_key(&l, "per_game");
        fputc('{', mf);
        for (int i = 0; i < s->mix.n; i++) {
            const vkt_rl_sp_game_stats *g = &us->per_game[i];
            vkt_jsonl o;
            if (i) fputs(", ", mf);
            fprintf(mf, "\"%s\": ", s->mix.g[i].name);
            vkt_jsonl_begin(&o, mf);
            vkt_jsonl_int(&o, "games", g->games);
            vkt_jsonl_int(&o, "decisions", g->decisions);
            vkt_jsonl_int(&o, "kept", g->kept);
            vkt_jsonl_int(&o, "invalid", g->invalid);
            vkt_jsonl_num(&o, "invalid_rate", "%.6f",
                          g->decisions ? (double)g->invalid / g->decisions : 0.0);
            vkt_jsonl_num(&o, "mean_return_p0", "%.6f", g->mean_return_p0);
            l.nonfinite |= o.nonfinite;
            fputc('}', mf); // the nested object ends without a newline
        }
        fputc('}', mf);
    }
    vkt_jsonl_end(&l);
    fflush(mf);
}

// The evaluation's metrics line.
static void write_eval_line(sp_run *r) {
    json_t *line = json_object();
    if (r->kuhn) {
        json_object_set_new(line, "exploitability", json_real(r->e_latest));
        json_object_set_new(line, "avg_exploitability", json_real(r->e_avg));
        json_object_set_new(line, "policy", sp_policy_json(&r->latest));
        if (r->sampled)
            json_object_set_new(line, "policy_invalid", json_real(sp_mean12(r->pol_inv)));
    }
    cli_sp_eval_add_json(&r->ev, &r->s, line);
    json_object_set_new(line, "games", json_integer(r->s.games));
    json_object_set_new(line, "updates", json_integer(r->s.updates));
    json_object_set_new(line, "eval", json_true());
    char *txt = json_dumps(line, JSON_COMPACT | JSON_REAL_PRECISION(6));
    fprintf(r->mf, "%s\n", txt);
    fflush(r->mf);
    free(txt);
    json_decref(line);
}

// The evaluation's line on stdout; window_*: the invalid answers since the last one.
static void print_eval_line(const sp_run *r, int window_inv, int window_dec) {
    const vkt_rl_sp *s = &r->s;
    char el[32];
    cli_fmt_secs(cli_now_s() - r->t_start, el, sizeof el);
    double rate = window_dec ? (double)window_inv / window_dec
                             : (double)s->invalid / (s->decisions ? s->decisions : 1);
    double gps = (s->games - r->games0) / (cli_now_s() - r->t_start + 1e-9);
    const char *cr = r->tty ? "\r" : "";
    if (r->kuhn_only) {
        printf("%s  %8lld %7d %7.2f%% %9.4f %9.4f %8.3f %+8.3f %8.1f %8s\n", cr,
               (long long)s->games, s->updates, 100 * rate, r->e_latest, r->e_avg,
               r->ev.g[0].vs_random.win, r->ev.g[0].vs_strong.mean_return, gps, el);
    } else {
        char line_txt[1024];
        cli_sp_eval_line(&r->ev, s, line_txt, sizeof line_txt);
        printf("%s  %8lld %7d %7.2f%%  %s", cr, (long long)s->games, s->updates, 100 * rate,
               line_txt);
        if (r->kuhn) printf("  kuhn expl %.4f avg %.4f", r->e_latest, r->e_avg);
        printf("  %8.1f %8s\n", gps, el);
    }
    fflush(stdout);
}

// One evaluation: Kuhn's exact exploitability and the games against the opponents.
static vkt_status evaluate(sp_run *r) {
    double te = cli_now_s();
    vkt_status st = VKT_OK;
    if (r->kuhn) {
        st = vkt_rl_sp_kuhn_policy(&r->s, &r->latest, r->pol_inv);
        vkt_rl_sp_avg_policy(&r->s, &r->latest, &r->avg);
        r->e_latest = vkt_kuhn_exploitability(&r->latest);
        r->e_avg = vkt_kuhn_exploitability(&r->avg);
    }
    if (st == VKT_OK) st = cli_sp_eval_run(&r->ev, &r->s, (uint64_t)r->s.updates);
    r->eval_s += cli_now_s() - te;
    if (st == VKT_OK) write_eval_line(r);
    return st;
}

static void print_progress(const sp_run *r, const vkt_rl_sp_stats *us) {
    const vkt_rl_sp *s = &r->s;
    double el = cli_now_s() - r->t_start, gps = (s->games - r->games0) / (el + 1e-9);
    char eta[32];
    cli_fmt_secs(gps > 0 ? (r->a.games - s->games) / gps : -1, eta, sizeof eta);
    fprintf(stderr,
            "\r  update %d | games %lld/%ld | invalid %.1f%% | kept %d/%d | %.1f games/s | "
            "ETA %s   ",
            s->updates, (long long)s->games, r->a.games,
            us->decisions ? 100.0 * us->invalid / us->decisions : 0.0, us->kept, us->decisions, gps,
            eta);
    fflush(stderr);
}

// Updates until --games or Ctrl-C, evaluating every --eval-every and at the end.
static vkt_status run_updates(sp_run *r) {
    vkt_rl_sp *s = &r->s;
    const sp_args *a = &r->a;
    volatile sig_atomic_t *stop_flag = cli_catch_sigint();
    int window_inv = 0, window_dec = 0;
    vkt_status st = VKT_OK;
    while (st == VKT_OK) {
        bool done = s->games >= a->games;
        if (done || s->updates % a->eval_every == 0) {
            if ((st = evaluate(r)) != VKT_OK) break;
            if (!a->json) print_eval_line(r, window_inv, window_dec);
            window_inv = window_dec = 0;
        }
        if (done) break;
        if (*stop_flag) {
            r->interrupted = true;
            break;
        }
        vkt_rl_sp_stats us;
        if ((st = vkt_rl_sp_update(s, &us)) != VKT_OK) break;
        window_inv += us.invalid, window_dec += us.decisions;
        r->run_tokens += us.gen_tokens, r->run_decisions += us.decisions;
        write_update_line(r->mf, s, &us, cli_now_s() - r->t_start);
        if (r->tty) print_progress(r, &us);
        if (a->save_every > 0 && s->updates % a->save_every == 0) st = sp_save(r);
    }
    cli_release_sigint();
    if (r->tty) fprintf(stderr, "\n");
    return st;
}

vkt_status sp_loop(sp_run *r) {
    sp_print_header(r);
    r->t_start = cli_now_s(), r->eval_s = 0;
    r->games0 = r->s.games;
    r->e_latest = r->e_avg = r->expl0;
    VKT_TRY(run_updates(r));
    VKT_TRY(sp_save(r));
    VKT_TRY(cli_sp_eval_offswitch_files(&r->ev, &r->s, r->a.out, r->a.defer_bin, r->a.plot,
                                        vkt_ctx_err(r->ctx)));
    // The final policy's own answers, sampled: with every answer explored, training sampled none.
    return vkt_rl_invalid_rate(r->m, r->s.gen, r->a.o.game, &r->s.fmt, SP_INV_FINAL_GAMES,
                               1000000000LL, r->eval_seed, r->s.max_new_tokens, &r->inv_final);
}
