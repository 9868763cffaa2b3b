// cmd_selfplay_tabular.c: `vkt selfplay --policy tabular`, the 12-logit control on one-hand
// Kuhn Poker (trainer/rl/rl_tabular.h) with its exact exploitability as it learns, and
// `--warmup-data FILE`, the imitation warm-up data of random legal play as JSONL.
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "cli_opt.h"
#include "cmd_selfplay.h"
#include "rl_prompt.h"

static int write_warmup(const sp_tab_args *t) {
    vkt_error err = {0};
    FILE *f = fopen(t->warmup, "w");
    if (!f) return cli_fail("selfplay", "%s: cannot open for writing", t->warmup);
    int64_t lines = 0;
    vkt_status st =
        vkt_rl_warmup_write_think(f, t->game, (int)t->think, t->games, t->o.seed, &lines, &err);
    if (fclose(f) != 0 && st == VKT_OK)
        st = vkt_fail(&err, VKT_ERR_IO, "%s: write failed", t->warmup);
    if (st == VKT_ERR_ARG) return cli_usage_error("selfplay", "%s", err.msg);
    if (st != VKT_OK) return cli_fail("selfplay", "%s", err.msg);
    fprintf(stderr, "wrote %lld examples from %ld games of %s to %s\n", (long long)lines, t->games,
            t->game, t->warmup);
    return CLI_OK;
}

// The policies at one evaluation and their exploitabilities.
typedef struct tab_eval {
    vkt_kuhn_policy latest, avg, avg_reach;
    double e, ea, er, val;
} tab_eval;

static void print_policy(const char *label, const vkt_kuhn_policy *pi) {
    printf("%-10s", label);
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++)
        printf(" %s=%.3f", vkt_kuhn_infostate_name(i), pi->bet[i]);
    printf("\n");
}

// One evaluation: a line on stdout (not --json) and in the metrics file.
static int evaluate(const sp_tab_args *t, vkt_rl_tabular *tb, FILE *mf, tab_eval *ev) {
    vkt_error err = {0};
    vkt_rl_tabular_policy(tb, &ev->latest);
    vkt_rl_tabular_avg_policy(tb, false, &ev->avg);
    vkt_rl_tabular_avg_policy(tb, true, &ev->avg_reach);
    if (vkt_kuhn_policy_check_finite(&ev->latest, &err) != VKT_OK ||
        vkt_kuhn_policy_check_finite(&ev->avg, &err) != VKT_OK)
        return cli_fail("selfplay", "after update %d (%lld games): %s", tb->updates,
                        (long long)tb->games, err.msg);
    ev->e = vkt_kuhn_exploitability(&ev->latest), ev->ea = vkt_kuhn_exploitability(&ev->avg);
    ev->er = vkt_kuhn_exploitability(&ev->avg_reach);
    ev->val = vkt_kuhn_value(&ev->latest, &ev->latest);
    if (!t->json) {
        printf("  %9lld %7d %10.5f %10.5f %10.5f %+9.5f\n", (long long)tb->games, tb->updates,
               ev->e, ev->ea, ev->er, ev->val);
        fflush(stdout);
    }
    if (mf) {
        fprintf(mf,
                "{\"games\": %lld, \"updates\": %d, \"seed\": %llu, \"advantage\": \"%s\", "
                "\"loss\": \"%s\", \"exploitability\": %.6f, \"avg_exploitability\": %.6f, "
                "\"avg_reach_exploitability\": %.6f, \"value_p0\": %.6f}\n",
                (long long)tb->games, tb->updates, (unsigned long long)t->o.seed,
                vkt_rl_adv_mode_name(t->o.adv), vkt_pg_kind_name(t->o.pg.kind), ev->e, ev->ea,
                ev->er, ev->val);
        fflush(mf);
    }
    return CLI_OK;
}

static void report(const sp_tab_args *t, const vkt_rl_tabular *tb, const tab_eval *ev) {
    if (!t->json) {
        print_policy("latest", &ev->latest);
        print_policy("average", &ev->avg);
        return;
    }
    json_t *j = json_object();
    json_object_set_new(j, "games", json_integer(tb->games));
    json_object_set_new(j, "updates", json_integer(tb->updates));
    json_object_set_new(j, "invalid_rate", json_real(0));
    json_object_set_new(j, "exploitability", json_real(vkt_kuhn_exploitability(&ev->latest)));
    json_object_set_new(j, "avg_exploitability", json_real(vkt_kuhn_exploitability(&ev->avg)));
    json_object_set_new(j, "avg_reach_exploitability",
                        json_real(vkt_kuhn_exploitability(&ev->avg_reach)));
    json_object_set_new(j, "policy", sp_policy_json(&ev->latest));
    json_object_set_new(j, "avg_policy", sp_policy_json(&ev->avg));
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    puts(s);
    free(s);
    json_decref(j);
}

// Updates until --games, evaluating every --eval-every games and at the end.
static int train(const sp_tab_args *t, vkt_rl_tabular *tb, FILE *mf) {
    vkt_error err = {0};
    long next_eval = 0;
    tab_eval ev;
    while (1) {
        if (tb->games >= next_eval || tb->games >= t->games) {
            int rc = evaluate(t, tb, mf, &ev);
            if (rc != CLI_OK) return rc;
            while (next_eval <= tb->games) next_eval += t->eval_every;
        }
        if (tb->games >= t->games) break;
        if (vkt_rl_tabular_update(tb, NULL, &err) != VKT_OK)
            return cli_fail("selfplay", "%s", err.msg);
    }
    report(t, tb, &ev);
    return CLI_OK;
}

int sp_run_tabular(int argc, char **argv) {
    sp_tab_args t;
    int rc = sp_parse_tabular(argc, argv, &t);
    if (rc != CLI_OK) return rc == CLI_HELP ? CLI_OK : rc;
    if (t.warmup) return write_warmup(&t);
    if (t.think > 0)
        return cli_usage_error("selfplay", "--think-tokens: the tabular policy writes no text (use "
                                           "it with --warmup-data or the transformer policy)");
    FILE *mf = NULL;
    if (t.metrics && !(mf = fopen(t.metrics, "a")))
        return cli_fail("selfplay", "%s: cannot open for appending", t.metrics);
    vkt_error err = {0};
    vkt_rl_tabular tb;
    if (vkt_rl_tabular_init(&tb, &t.o, &err) != VKT_OK) {
        if (mf) fclose(mf);
        return cli_usage_error("selfplay", "%s", err.msg);
    }
    const vkt_rl_tabular_opts *o = &t.o;
    if (!t.json)
        printf("# tabular self-play: advantage %s, loss %s, epochs %d, games/update %d, lr %g, "
               "seed %llu\n# %9s %7s %10s %10s %10s %9s\n",
               vkt_rl_adv_mode_name(o->adv), vkt_pg_kind_name(o->pg.kind), o->ppo_epochs,
               o->games_per_update, o->lr, (unsigned long long)o->seed, "games", "updates", "expl",
               "avg_expl", "avg_reach", "value_p0");
    rc = train(&t, &tb, mf);
    vkt_rl_tabular_free(&tb);
    if (mf) fclose(mf);
    return rc;
}
