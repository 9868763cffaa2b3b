// cmd_selfplay.c: `vkt selfplay`: self-play RL. So far only the tabular control
// (`--policy tabular`, trainer/rl_tabular.h) on Kuhn Poker; the transformer path
// (issue 6) builds on the same advantage and loss modules.
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "rl_prompt.h"
#include "rl_tabular.h"

static void usage(FILE *f) {
    fprintf(f,
        "usage: vkt selfplay --policy tabular [options]\n"
        "       vkt selfplay --warmup-data FILE [--game SPEC] [--games N] [--seed S]\n\n"
        "Self-play RL on Kuhn Poker (OpenSpiel rules, one hand, chips reward): one policy in both\n"
        "seats; exact exploitability of the latest and of the averaged policy as it learns.\n"
        "Only the tabular control (12 information states x 2 logits, pure C) exists so far.\n\n"
        "  --policy tabular        required (the transformer policy is not wired yet)\n"
        "  --games N               games to play (default 150000)\n"
        "  --games-per-update N    games per update, both seats (default 128)\n"
        "  --advantage M           rae (default) | group | none (see docs/selfplay.md)\n"
        "  --no-rae                same as --advantage none\n"
        "  --loss L                ppo (default, clip 0.2) | reinforce\n"
        "  --clip E                PPO clip epsilon (default 0.2)\n"
        "  --ppo-epochs N          full-batch steps per update (default 2)\n"
        "  --norm N                seq-sum-maxlen (default) | token-mean (equal for one-token answers)\n"
        "  --lr X                  Adam learning rate on the logits (default 0.01; betas 0.9, 0.95)\n"
        "  --entropy-coef X        exact entropy bonus (default 0)\n"
        "  --eval-every N          games between evaluations (default 8192)\n"
        "  --metrics FILE          append one JSON object per evaluation\n"
        "  --seed S                (default 1)\n"
        "  --warmup-data FILE      instead of training: write the imitation warm-up data, one JSON\n"
        "                          line {\"prompt\", \"completion\"} per decision of --games games of\n"
        "                          uniformly random legal play (--game, default kuhn), in the\n"
        "                          compact role-conditioned prompt format; `vkt train --format jsonl`\n"
        "                          reads it\n"
        "  --json                  end with one summary object: games, updates, invalid_rate,\n"
        "                          exploitability, avg_exploitability, policy, avg_policy\n");
}

static json_t *policy_json(const vkt_kuhn_policy *pi) {
    json_t *o = json_object();
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) json_object_set_new(o, vkt_kuhn_infostate_name(i), json_real(pi->bet[i]));
    return o;
}

static void print_policy(const char *label, const vkt_kuhn_policy *pi) {
    printf("%-10s", label);
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) printf(" %s=%.3f", vkt_kuhn_infostate_name(i), pi->bet[i]);
    printf("\n");
}

int cmd_selfplay(int argc, char **argv) {
    vkt_rl_tabular_opts o;
    vkt_rl_tabular_defaults(&o);
    const char *policy = NULL, *metrics = NULL, *warmup = NULL, *game = "kuhn", *v;
    long games = 150000, eval_every = 8192;
    bool json = false;
    vkt_error err = {0};
    for (int i = 1; i < argc; i++) {
        int r = 0;
        long l;
        double d;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], "--no-rae")) {
            o.adv = VKT_RL_ADV_NONE;
        } else if ((r = cli_value(argc, argv, &i, "--policy", &policy))) {
        } else if ((r = cli_value(argc, argv, &i, "--metrics", &metrics))) {
        } else if ((r = cli_value(argc, argv, &i, "--warmup-data", &warmup))) {
        } else if ((r = cli_value(argc, argv, &i, "--game", &game))) {
        } else if ((r = cli_value(argc, argv, &i, "--games", &v)) > 0) {
            if (!cli_int("selfplay", "--games", v, 1, 1000000000L, &games)) return CLI_USAGE;
        } else if (r == 0 && (r = cli_value(argc, argv, &i, "--games-per-update", &v)) > 0) {
            if (!cli_int("selfplay", "--games-per-update", v, 1, 1 << 20, &l)) return CLI_USAGE;
            o.games_per_update = (int)l;
        } else if (r == 0 && (r = cli_value(argc, argv, &i, "--ppo-epochs", &v)) > 0) {
            if (!cli_int("selfplay", "--ppo-epochs", v, 1, 1000, &l)) return CLI_USAGE;
            o.ppo_epochs = (int)l;
        } else if (r == 0 && (r = cli_value(argc, argv, &i, "--eval-every", &v)) > 0) {
            if (!cli_int("selfplay", "--eval-every", v, 1, 1000000000L, &eval_every)) return CLI_USAGE;
        } else if (r == 0 && (r = cli_value(argc, argv, &i, "--lr", &v)) > 0) {
            if (!cli_double("selfplay", "--lr", v, 1e-12, 1e3, &o.lr)) return CLI_USAGE;
        } else if (r == 0 && (r = cli_value(argc, argv, &i, "--clip", &v)) > 0) {
            if (!cli_double("selfplay", "--clip", v, 1e-6, 0.999, &o.pg.clip_eps)) return CLI_USAGE;
        } else if (r == 0 && (r = cli_value(argc, argv, &i, "--entropy-coef", &v)) > 0) {
            if (!cli_double("selfplay", "--entropy-coef", v, 0, 1e3, &d)) return CLI_USAGE;
            o.entropy_coef = d;
        } else if (r == 0 && (r = cli_value(argc, argv, &i, "--seed", &v)) > 0) {
            if (!cli_u64("selfplay", "--seed", v, &o.seed)) return CLI_USAGE;
        } else if (r == 0 && (r = cli_value(argc, argv, &i, "--advantage", &v)) > 0) {
            if (vkt_rl_adv_mode_parse(v, &o.adv, &err) != VKT_OK) return cli_usage_error("selfplay", "%s", err.msg);
        } else if (r == 0 && (r = cli_value(argc, argv, &i, "--loss", &v)) > 0) {
            if (vkt_pg_kind_parse(v, &o.pg.kind, &err) != VKT_OK) return cli_usage_error("selfplay", "%s", err.msg);
        } else if (r == 0 && (r = cli_value(argc, argv, &i, "--norm", &v)) > 0) {
            if (vkt_pg_norm_parse(v, &o.pg.norm, &err) != VKT_OK) return cli_usage_error("selfplay", "%s", err.msg);
        } else if (r == 0) {
            return cli_usage_error("selfplay", "unknown option '%s'", argv[i]);
        }
        if (r < 0) return CLI_USAGE;
    }
    if (warmup) {
        FILE *f = fopen(warmup, "w");
        if (!f) return cli_fail("selfplay", "%s: cannot open for writing", warmup);
        int64_t lines = 0;
        vkt_status st = vkt_rl_warmup_write(f, game, games, o.seed, &lines, &err);
        if (fclose(f) != 0 && st == VKT_OK) st = vkt_fail(&err, VKT_ERR_IO, "%s: write failed", warmup);
        if (st == VKT_ERR_ARG) return cli_usage_error("selfplay", "%s", err.msg);
        if (st != VKT_OK) return cli_fail("selfplay", "%s", err.msg);
        fprintf(stderr, "wrote %lld examples from %ld games of %s to %s\n", (long long)lines, games, game, warmup);
        return CLI_OK;
    }
    if (!policy) return cli_usage_error("selfplay", "--policy is required (only 'tabular' exists so far)");
    if (strcmp(policy, "tabular"))
        return cli_usage_error("selfplay", "--policy '%s': only 'tabular' is implemented so far", policy);
    FILE *mf = NULL;
    if (metrics && !(mf = fopen(metrics, "a"))) return cli_fail("selfplay", "%s: cannot open for appending", metrics);
    vkt_rl_tabular t;
    if (vkt_rl_tabular_init(&t, &o, &err) != VKT_OK) {
        if (mf) fclose(mf);
        return cli_usage_error("selfplay", "%s", err.msg);
    }
    if (!json)
        printf("# tabular self-play: advantage %s, loss %s, epochs %d, games/update %d, lr %g, seed %llu\n"
               "# %9s %7s %10s %10s %10s %9s\n",
               vkt_rl_adv_mode_name(o.adv), vkt_pg_kind_name(o.pg.kind), o.ppo_epochs, o.games_per_update, o.lr,
               (unsigned long long)o.seed, "games", "updates", "expl", "avg_expl", "avg_reach", "value_p0");
    int rc = CLI_OK;
    long next_eval = 0;
    vkt_kuhn_policy latest, avg, avg_reach;
    while (1) {
        if (t.games >= next_eval || t.games >= games) {
            vkt_rl_tabular_policy(&t, &latest);
            vkt_rl_tabular_avg_policy(&t, false, &avg);
            vkt_rl_tabular_avg_policy(&t, true, &avg_reach);
            double e = vkt_kuhn_exploitability(&latest), ea = vkt_kuhn_exploitability(&avg);
            double er = vkt_kuhn_exploitability(&avg_reach), val = vkt_kuhn_value(&latest, &latest);
            if (!json) {
                printf("  %9lld %7d %10.5f %10.5f %10.5f %+9.5f\n", (long long)t.games, t.updates, e, ea, er, val);
                fflush(stdout);
            }
            if (mf) {
                fprintf(mf,
                        "{\"games\": %lld, \"updates\": %d, \"seed\": %llu, \"advantage\": \"%s\", \"loss\": \"%s\", "
                        "\"exploitability\": %.6f, \"avg_exploitability\": %.6f, \"avg_reach_exploitability\": %.6f, "
                        "\"value_p0\": %.6f}\n",
                        (long long)t.games, t.updates, (unsigned long long)o.seed, vkt_rl_adv_mode_name(o.adv),
                        vkt_pg_kind_name(o.pg.kind), e, ea, er, val);
                fflush(mf);
            }
            while (next_eval <= t.games) next_eval += eval_every;
        }
        if (t.games >= games) break;
        if (vkt_rl_tabular_update(&t, NULL, &err) != VKT_OK) {
            rc = cli_fail("selfplay", "%s", err.msg);
            break;
        }
    }
    if (rc == CLI_OK) {
        if (json) {
            json_t *j = json_object();
            json_object_set_new(j, "games", json_integer(t.games));
            json_object_set_new(j, "updates", json_integer(t.updates));
            json_object_set_new(j, "invalid_rate", json_real(0));
            json_object_set_new(j, "exploitability", json_real(vkt_kuhn_exploitability(&latest)));
            json_object_set_new(j, "avg_exploitability", json_real(vkt_kuhn_exploitability(&avg)));
            json_object_set_new(j, "avg_reach_exploitability", json_real(vkt_kuhn_exploitability(&avg_reach)));
            json_object_set_new(j, "policy", policy_json(&latest));
            json_object_set_new(j, "avg_policy", policy_json(&avg));
            char *s = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
            puts(s);
            free(s);
            json_decref(j);
        } else {
            print_policy("latest", &latest);
            print_policy("average", &avg);
        }
    }
    vkt_rl_tabular_free(&t);
    if (mf) fclose(mf);
    return rc;
}
