// cmd_selfplay_report.c: what a `vkt selfplay` run prints: the header before its first update,
// and at the end one JSON summary (--json) or the text summary: invalid-move rates, Kuhn's
// exploitability and card policy, each game's evaluation, the off-switch files.
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "cmd_selfplay.h"

json_t *sp_policy_json(const vkt_kuhn_policy *pi) {
    json_t *o = json_object();
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++)
        json_object_set_new(o, vkt_kuhn_infostate_name(i), json_real(pi->bet[i]));
    return o;
}

double sp_mean12(const double *x) {
    double m = 0;
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) m += x[i] / VKT_KUHN_INFOSTATES;
    return m;
}

void sp_print_header(const sp_run *r) {
    const sp_args *a = &r->a;
    const vkt_rl_sp_opts *o = &a->o;
    const vkt_rl_sp *s = &r->s;
    if (a->json) return;
    char anneal[96] = "";
    if (s->kl_anneal > 0)
        snprintf(anneal, sizeof anneal, " (-> %g over the last %g%% of the games)",
                 o->kl_uniform_end, 100 * s->kl_anneal);
    printf("# self-play on %s: advantage %s, loss %s, epochs %d, %d games/update, lr %g, "
           "entropy %g, kl %g, kl-uniform %g%s, seed %llu, %ld games%s%s%s\n",
           o->game, vkt_rl_adv_mode_name(o->adv), vkt_pg_kind_name(o->pg.kind), o->ppo_epochs,
           o->games_per_update, o->lr, o->pg.entropy_coef, o->pg.kl_coef, s->kl_uniform, anneal,
           (unsigned long long)o->seed, a->games, s->explore ? ", every answer explored" : "",
           s->format_credit ? ", format credit" : "", a->resume ? " (resumed)" : "");
    if (o->think_tokens > 0) {
        printf("# thinking: up to %d tokens before \\boxed{move} (responses <= %d tokens, all "
               "trained)",
               o->think_tokens, s->max_new_tokens);
        if (r->kuhn)
            printf("; kuhn policy sampled: %d answers per information state, P(bet) = bets / valid "
                   "answers",
                   o->policy_samples);
        printf("\n");
    }
    if (r->kuhn_only)
        printf("# %8s %7s %8s %9s %9s %8s %8s %8s %8s\n", "games", "updates", "invalid", "expl",
               "avg_expl", "rnd_win", "nash_ret", "games/s", "elapsed");
    else
        printf("# %8s %7s %8s  %s  %8s %8s\n", "games", "updates", "invalid", "evaluation",
               "games/s", "elapsed");
    fflush(stdout);
}

static double mean_response(const sp_run *r) {
    return r->run_decisions ? (double)r->run_tokens / (double)r->run_decisions : 0.0;
}

// Kuhn's part of the summary.
static void add_kuhn_json(const sp_run *r, json_t *j) {
    json_object_set_new(j, "policy_extraction",
                        json_string(r->sampled ? "sampled" : "teacher-forced"));
    if (r->sampled) {
        json_object_set_new(j, "policy_samples", json_integer(r->a.o.policy_samples));
        json_object_set_new(j, "policy_invalid", json_real(sp_mean12(r->pol_inv)));
    }
    json_object_set_new(j, "exploitability_start", json_real(r->expl0));
    json_object_set_new(j, "exploitability", json_real(r->e_latest));
    json_object_set_new(j, "avg_exploitability", json_real(r->e_avg));
    json_object_set_new(j, "policy", sp_policy_json(&r->latest));
    json_object_set_new(j, "avg_policy", sp_policy_json(&r->avg));
}

void sp_report_json(const sp_run *r) {
    const sp_args *a = &r->a;
    const vkt_rl_sp *s = &r->s;
    json_t *j = json_object();
    json_object_set_new(j, "game", json_string(a->o.game));
    json_object_set_new(j, "games", json_integer(s->games));
    json_object_set_new(j, "updates", json_integer(s->updates));
    const double rate = s->decisions ? (double)s->invalid / s->decisions : 0.0;
    json_object_set_new(j, "invalid_rate", s->explore ? json_null() : json_real(rate));
    json_object_set_new(j, "invalid_final", json_real(r->inv_final));
    json_object_set_new(j, "explore", json_string(s->explore ? "all" : "sample"));
    json_object_set_new(j, "lr_warmup", json_integer(s->lr_warmup));
    json_object_set_new(j, "invalid_before_warmup", json_real(r->inv_before));
    json_object_set_new(j, "invalid_after_warmup", json_real(r->inv_after));
    json_object_set_new(j, "think_tokens", json_integer(a->o.think_tokens));
    json_object_set_new(j, "kl_uniform", json_real(s->kl_uniform));
    json_object_set_new(j, "kl_anneal", json_real(s->kl_anneal));
    json_object_set_new(j, "kl_uniform_end",
                        json_real(s->kl_anneal > 0 ? a->o.kl_uniform_end : s->kl_uniform));
    json_object_set_new(j, "format_credit", json_boolean(s->format_credit));
    json_object_set_new(j, "mean_response_tokens", json_real(mean_response(r)));
    if (r->kuhn) add_kuhn_json(r, j);
    cli_sp_eval_add_json(&r->ev, s, j);
    if (r->ev.eps) {
        json_object_set_new(j, "deference_csv",
                            json_string(sp_in_dir(0, a->out, "offswitch_deference.csv")));
        if (a->plot)
            json_object_set_new(j, "deference_png",
                                json_string(sp_in_dir(1, a->out, "offswitch_deference.png")));
    }
    json_object_set_new(j, "interrupted", json_boolean(r->interrupted));
    json_object_set_new(j, "wall_s", json_real(cli_now_s() - r->t_start));
    char *txt = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    puts(txt);
    free(txt);
    json_decref(j);
}

static void print_card_policy(const char *label, const vkt_kuhn_policy *pi) {
    // P(bet) opening, P(bet) after a check, P(call) facing a bet, P(call) after check-bet.
    static const char *cards = "JQK";
    printf("  %s policy:\n    card  P(bet) first  P(bet) after check  P(call) vs bet  P(call) "
           "after check-bet\n",
           label);
    for (int c = 0; c < 3; c++)
        printf("    %c     %12.3f  %18.3f  %14.3f  %23.3f\n", cards[c], pi->bet[c * 4],
               pi->bet[c * 4 + 1], pi->bet[c * 4 + 2], pi->bet[c * 4 + 3]);
    // Whether the card is read: J should fold a bet and K call it (the gap is 1 at Nash).
    printf("    card's effect on P(call), K minus J: %.3f facing a bet, %.3f after check-bet "
           "(Nash: 1)\n",
           pi->bet[2 * 4 + 2] - pi->bet[2], pi->bet[2 * 4 + 3] - pi->bet[3]);
}

static void print_kuhn(const sp_run *r) {
    printf("  kuhn exploitability (0 = Nash equilibrium, uniform random play = 0.458): start %.4f "
           "-> latest %.4f, averaged %.4f\n",
           r->expl0, r->e_latest, r->e_avg);
    if (r->sampled)
        printf("  (policies sampled: %d answers per information state; %.1f%% of the latest's "
               "named no legal move)\n",
               r->a.o.policy_samples, 100 * sp_mean12(r->pol_inv));
    print_card_policy("latest", &r->latest);
    print_card_policy("averaged", &r->avg);
    printf("  (Nash: J bets first with alpha <= 1/3, never calls a bet; Q checks, calls a bet 1/3 "
           "+ alpha;\n"
           "   K bets with 3 alpha and always calls; as the second player K always bets after a "
           "check, J bluffs 1/3.)\n");
}

void sp_report_text(const sp_run *r) {
    const sp_args *a = &r->a;
    const vkt_rl_sp *s = &r->s;
    double el = cli_now_s() - r->t_start;
    printf("\n%s after %lld games (%d updates, %.0fs, %.0fs of it evaluating); saved to %s%s\n",
           r->interrupted ? "Stopped" : "Finished", (long long)s->games, s->updates, el, r->eval_s,
           a->out, r->interrupted ? " (--resume continues)" : "");
    if (s->explore)
        printf("  invalid-move rate: none sampled in training (every answer explored, %lld "
               "decisions)\n",
               (long long)s->decisions);
    else
        printf("  invalid-move rate: %.2f%% of %lld self-play decisions\n",
               s->decisions ? 100.0 * s->invalid / s->decisions : 0.0, (long long)s->decisions);
    printf("  the final policy's own answers, sampled: %.2f%% invalid (%d self-play games)\n",
           100 * r->inv_final, SP_INV_FINAL_GAMES);
    if (a->o.think_tokens > 0)
        printf("  mean response: %.1f tokens (the run's RL decisions; budget %d = %d thinking + "
               "%d answer)\n",
               mean_response(r), s->max_new_tokens, a->o.think_tokens, s->answer_tokens);
    if (r->kuhn) print_kuhn(r);
    cli_sp_eval_report(&r->ev, s, stdout);
    if (r->ev.eps)
        printf("  deference by Delta: %s%s%s\n", sp_in_dir(0, a->out, "offswitch_deference.csv"),
               a->plot ? ", " : "", a->plot ? sp_in_dir(1, a->out, "offswitch_deference.png") : "");
}
