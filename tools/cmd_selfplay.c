// cmd_selfplay.c: `vkt selfplay`: self-play RL with a transformer policy (the default,
// trainer/rl/rl_selfplay.h) on one game or a mix, the tabular control on Kuhn Poker
// (`--policy tabular`, trainer/rl/rl_tabular.h), and the warm-up data writer. The per-game
// evaluation lives in cli_selfplay_eval.c.
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include "checkpoint.h"
#include "checkpoint_dir.h"
#include "cli.h"
#include "cli_device.h"
#include "cli_model.h"
#include "cli_out_dir.h"
#include "cli_selfplay_dir.h"
#include "cli_selfplay_eval.h"
#include "cli_selfplay_model.h"
#include "commands.h"
#include "json_file.h"
#include "rl_prompt.h"
#include "rl_selfplay.h"
#include "metrics_json.h"
#include "rl_tabular.h"
#include "train_init.h"

static double now_wall(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void usage_tabular(FILE *f) {
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
        "  --think-tokens N        with --warmup-data: the thinking format (prompts ask for up to N\n"
        "                          tokens of thinking, completions \\boxed{Move}; default 0: [Move])\n"
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

static int run_tabular(int argc, char **argv) {
    vkt_rl_tabular_opts o;
    vkt_rl_tabular_defaults(&o);
    const char *policy = NULL, *metrics = NULL, *warmup = NULL, *game = "kuhn", *v;
    long games = 150000, eval_every = 8192, think = 0;
    bool json = false;
    vkt_error err = {0};
    for (int i = 1; i < argc; i++) {
        int r = 0;
        long l;
        double d;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage_tabular(stdout);
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
        } else if (r == 0 && (r = cli_value(argc, argv, &i, "--think-tokens", &v)) > 0) {
            if (!cli_int("selfplay", "--think-tokens", v, 0, VKT_RL_THINK_MAX, &think)) return CLI_USAGE;
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
        vkt_status st = vkt_rl_warmup_write_think(f, game, (int)think, games, o.seed, &lines, &err);
        if (fclose(f) != 0 && st == VKT_OK) st = vkt_fail(&err, VKT_ERR_IO, "%s: write failed", warmup);
        if (st == VKT_ERR_ARG) return cli_usage_error("selfplay", "%s", err.msg);
        if (st != VKT_OK) return cli_fail("selfplay", "%s", err.msg);
        fprintf(stderr, "wrote %lld examples from %ld games of %s to %s\n", (long long)lines, games, game, warmup);
        return CLI_OK;
    }
    (void)policy;
    if (think > 0) return cli_usage_error("selfplay", "--think-tokens: the tabular policy writes no text (use it with "
                                                      "--warmup-data or the transformer policy)");
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
            if (vkt_kuhn_policy_check_finite(&latest, &err) != VKT_OK ||
                vkt_kuhn_policy_check_finite(&avg, &err) != VKT_OK) {
                rc = cli_fail("selfplay", "after update %d (%lld games): %s", t.updates, (long long)t.games, err.msg);
                break;
            }
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

// --- the transformer policy (the default) -------------------------------------------

static void usage_model(FILE *f) {
    fprintf(f,
        "usage: vkt selfplay [options]                 (transformer policy, the default)\n"
        "       vkt selfplay --policy tabular [options] (the 12-logit control; --policy tabular --help)\n"
        "       vkt selfplay --warmup-data FILE [--game SPEC] [--games N] [--seed S]\n\n"
        "Self-play RL (SPIRAL) with a small transformer that reads a compact role-conditioned\n"
        "prompt and answers its move in brackets. Without --init it first learns the answer\n"
        "format on random legal play (warm-up), then plays itself (one policy in every seat).\n"
        "Every --eval-every updates it reports, per game: one-hand Kuhn, the exact exploitability\n"
        "of its policy (latest and averaged) and its record against random and nash; TicTacToe\n"
        "against random (per seat) and minimax; Negotiation against random and greedy; the\n"
        "off-switch game, agreement with the oracle and regret on held-out episodes beside the\n"
        "fixed choices, and at the end the deference-by-Delta CSV and figure in --out.\n"
        "Ctrl-C saves to --out; --resume continues.\n\n"
        "  --game G                kuhn (default) | tictactoe | negotiation | offswitch, a spec with\n"
        "                          options (negotiation:turns=12), or a mix: kuhn,tictactoe,negotiation\n"
        "                          (games per update split evenly, baselines per game and role)\n"
        "  --out DIR               run directory (default selfplay-run): each save is DIR/ckpt-<updates>/ (model,\n"
        "                          moments, rl_state.json, run_options.json, ref/ with --kl-coef, checkpoint.json:\n"
        "                          their sizes and hashes) published by one rename, linked at the top; metrics.jsonl.\n"
        "                          One that holds a self-play checkpoint needs --resume or --overwrite; a vkt train\n"
        "                          run is refused; DIR/.lock keeps a second run off DIR while this one runs\n"
        "  --resume                continue the run in --out from its newest checkpoint that matches its manifest\n"
        "                          (its saved options; --games may grow)\n"
        "  --overwrite             replace the run in --out with a new one\n"
        "  --keep-last N           complete checkpoints kept (default 1); --resume falls back to the newest intact one\n"
        "  --init CKPT             start from a checkpoint (no warm-up unless --warmup-steps): one vkt wrote, or a pretrained Hugging\n"
        "                          Face directory (config.json, safetensors, tokenizer.json): its tokenizer\n"
        "                          reads the prompts; the weights train in fp32 unless --lora-rank\n"
        "  --chat                  with a pretrained --init: each prompt is the user turn of the model's chat\n"
        "                          template, answers end with its end-of-turn token; enable_thinking is on\n"
        "                          with --think-tokens; a <think>...</think> block is not read as the move\n"
        "  --lora-rank R           with a pretrained --init: train LoRA adapters of rank R on every projection\n"
        "                          (the base frozen, 16-bit where the checkpoint is); checkpoints hold PEFT\n"
        "                          adapter files (--resume checks the base is unchanged; not with --kl-coef)\n"
        "  --lora-alpha A          the adapters' scale alpha / R (default 8)\n"
        "  --preset P              gpt2-tiny, llama-tiny (default: a custom gpt2 of 2 layers, width 64)\n"
        "  --layers L --width C --heads H   override the model's shape\n"
        "  --warmup-steps N        format warm-up steps (default: kuhn 150, tictactoe 800, negotiation 400,\n"
        "                          offswitch 200; a mix: its longest; 0 skips)\n"
        "  --warmup-rows N         rows per warm-up step (default 64)\n"
        "  --warmup-lr X           (default: kuhn 1e-2 after a 30-step linear ramp, the other games and\n"
        "                          mixes 3e-3)\n"
        "  --games N               self-play games in all (default 12288; 0: the warm-up and one evaluation)\n"
        "  --games-per-update N    games per update, all seats (default 128)\n"
        "  --advantage M           auto (default: kuhn group, tictactoe and negotiation rae, offswitch\n"
        "                          group-mean) | group | group-mean | rae | none\n"
        "  --no-rae                same as --advantage none\n"
        "  --replays N             deals replayed per group (default: offswitch 8 under group modes, 3 with\n"
        "                          --explore all, else 1)\n"
        "  --explore E             auto (default: all for offswitch alone, else sample) | sample: every replay\n"
        "                          samples its answer | all: replay j of a deal plays the j-th legal answer\n"
        "                          (offswitch only: the group compares every answer on common random numbers;\n"
        "                          A on the choosing token, |A| on the format; default --games-per-update 192,\n"
        "                          --kl-uniform 0.01, --lr-warmup 8)\n"
        "  --loss L                ppo (default, clip 0.2) | reinforce\n"
        "  --clip E                PPO clip epsilon (default 0.2)\n"
        "  --ppo-epochs N          optimizer steps per update (default 2)\n"
        "  --norm N                seq-sum-maxlen (default) | token-mean\n"
        "  --lr X                  Adam learning rate (default 1e-3; betas 0.9, 0.95; clip 1.0)\n"
        "  --lr-warmup N           ramp the learning rate linearly over the first N updates (default: 8 with\n"
        "                          --explore all, else 0)\n"
        "  --entropy-coef X        exact entropy bonus on the trained answer tokens: loss - X sum n_i H_i (default 0)\n"
        "  --kl-coef C             k3 KL towards the initial policy (after the warm-up; kept in DIR/ref) (default 0)\n"
        "  --kl-uniform C          action-level KL to the uniform policy over the legal answers at every\n"
        "                          decision: C * mean over decisions of -1/n sum_a log pi(a) (default: 0.05 on\n"
        "                          kuhn alone with direct answers, 0.01 with --explore all, else 0; kuhn,\n"
        "                          tictactoe, offswitch only)\n"
        "  --kl-anneal F           decay --kl-uniform linearly to --kl-uniform-end over the last fraction F of\n"
        "                          --games, so the late policy sharpens (default: 0.25 with kuhn's default\n"
        "                          --kl-uniform, else 0; a resumed run re-plans it for a new --games)\n"
        "  --kl-uniform-end C      the coefficient at the end of the anneal (default 0)\n"
        "  --format-credit M       auto (default: on for kuhn alone with direct answers) | on | off: a sampled\n"
        "                          answer that is a legal move gets A on its choosing token, |A| on its format\n"
        "                          ('[', the rest, ']', <|endoftext|>), and an invalid answer is never\n"
        "                          reinforced (A > 0 -> 0); off: every token gets A\n"
        "  --max-new-tokens N      answer budget (default: the mix's largest; 8, negotiation 32; + 8 with\n"
        "                          --think-tokens for the \\boxed{} answer)\n"
        "  --think-tokens N        let the model write up to N tokens before a \\boxed{Move} answer (SPIRAL's\n"
        "                          format; the prompt asks for it, responses may be N + the answer budget\n"
        "                          tokens, all of them trained; the warm-up teaches \\boxed{Move} at once).\n"
        "                          Default 0: answer [Move] directly (tiny models). Kuhn's policy is then\n"
        "                          extracted by sampling (--policy-samples). Not for offswitch\n"
        "  --policy-samples K      with --think-tokens: sampled answers per Kuhn information state for the\n"
        "                          policy (P(bet) = bets / valid answers; default 64)\n"
        "  --micro-rows N          rows per forward/backward (default 64)\n"
        "  --eval-every N          evaluate every N updates (default 8)\n"
        "  --eval-games N          games against random and against the strong opponent per evaluation (default 128)\n"
        "  --eval-episodes N       offswitch: held-out episodes per evaluation (default 1000)\n"
        "  --defer-bin W           offswitch: Delta bin width of the deference CSV (default 0.025)\n"
        "  --no-plot               offswitch: write the CSV but do not draw the figure\n"
        "  --save-every N          checkpoint every N updates (default: at the end and on Ctrl-C)\n"
        "  --metrics FILE          metrics JSONL (default DIR/metrics.jsonl)\n"
        "  --seed S                (default 1)\n"
        "  --device N              Vulkan device\n"
        "  --json                  end with one summary object: games, updates, invalid_rate (null with\n"
        "                          --explore all), invalid_final (the final policy's answers, sampled); per game\n"
        "                          (top level for one game, under per_game for a mix) vs_random and\n"
        "                          vs_<nash|minimax|greedy> (win, draw, loss, invalid, mean_return, seat0,\n"
        "                          seat1), offswitch agreement, regret, fixed_regret, best_fixed, beats_fixed;\n"
        "                          with kuhn: exploitability, avg_exploitability, policy, avg_policy,\n"
        "                          policy_extraction (teacher-forced | sampled), policy_samples, policy_invalid;\n"
        "                          think_tokens, mean_response_tokens\n");
}

static double mean12(const double *x) {
    double m = 0;
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) m += x[i] / VKT_KUHN_INFOSTATES;
    return m;
}

static void print_card_policy(const char *label, const vkt_kuhn_policy *pi) {
    // P(bet) opening, P(bet) after a check, P(call) facing a bet, P(call) after check-bet.
    static const char *cards = "JQK";
    printf("  %s policy:\n    card  P(bet) first  P(bet) after check  P(call) vs bet  P(call) after check-bet\n", label);
    for (int c = 0; c < 3; c++)
        printf("    %c     %12.3f  %18.3f  %14.3f  %23.3f\n", cards[c], pi->bet[c * 4], pi->bet[c * 4 + 1],
               pi->bet[c * 4 + 2], pi->bet[c * 4 + 3]);
    // Whether the card is read: J should fold a bet and K call it (the gap is 1 at Nash).
    printf("    card's effect on P(call), K minus J: %.3f facing a bet, %.3f after check-bet (Nash: 1)\n",
           pi->bet[2 * 4 + 2] - pi->bet[2], pi->bet[2 * 4 + 3] - pi->bet[3]);
}

static void fmt_dur(double s, char *out, size_t n) {
    if (!(s >= 0) || s > 1e7) snprintf(out, n, "?");
    else if (s < 60) snprintf(out, n, "%.0fs", s);
    else snprintf(out, n, "%dm%02ds", (int)s / 60, (int)s % 60);
}

typedef struct model_run {
    const char *out, *init, *preset;
    const char *tok_dir;   // a pretrained model's tokenizer files, saved with each checkpoint
    const char *metrics;   // --metrics FILE (default DIR/metrics.jsonl)
    json_t *lora_base;     // a LoRA run: its base's identity, saved with each checkpoint
    bool chat, warmup_given;
    long lora_rank;
    double lora_alpha;
    long layers, width, heads;
    long warmup_steps, warmup_rows;
    double warmup_lr;
    long games, eval_every, eval_games, eval_episodes, save_every, keep_last;
    double defer_bin;
    bool resume, overwrite, json, plot;
    long device;
} model_run;

static json_t *opts_json(const vkt_rl_sp_opts *o) {
    json_t *j = json_object();
    json_object_set_new(j, "game", json_string(o->game));
    json_object_set_new(j, "advantage", json_string(vkt_rl_adv_mode_name(o->adv)));
    json_object_set_new(j, "replays", json_integer(o->replays));
    json_object_set_new(j, "explore", json_string(vkt_rl_explore_name(o->explore)));
    json_object_set_new(j, "loss", json_string(vkt_pg_kind_name(o->pg.kind)));
    json_object_set_new(j, "norm", json_string(vkt_pg_norm_name(o->pg.norm)));
    json_object_set_new(j, "clip", json_real(o->pg.clip_eps));
    json_object_set_new(j, "ppo_epochs", json_integer(o->ppo_epochs));
    json_object_set_new(j, "games_per_update", json_integer(o->games_per_update));
    json_object_set_new(j, "lr", json_real(o->lr));
    json_object_set_new(j, "lr_warmup", json_integer(o->lr_warmup));
    json_object_set_new(j, "max_new_tokens", json_integer(o->max_new_tokens));
    json_object_set_new(j, "micro_rows", json_integer(o->micro_rows));
    json_object_set_new(j, "seed", json_integer((json_int_t)o->seed));
    json_object_set_new(j, "kl_coef", json_real(o->pg.kl_coef));
    json_object_set_new(j, "entropy_coef", json_real(o->pg.entropy_coef));
    json_object_set_new(j, "kl_uniform", json_real(o->kl_uniform));
    json_object_set_new(j, "kl_uniform_end", json_real(o->kl_uniform_end));
    json_object_set_new(j, "kl_anneal", json_real(o->kl_anneal));
    json_object_set_new(j, "format_credit", json_integer(o->format_credit));
    json_object_set_new(j, "think_tokens", json_integer(o->think_tokens));
    json_object_set_new(j, "policy_samples", json_integer(o->policy_samples));
    json_object_set_new(j, "chat", json_boolean(o->chat));
    return j;
}

static char game_buf[1024];  // the resumed run's game list (outlives its JSON)

static vkt_status opts_from_json(const json_t *j, vkt_rl_sp_opts *o, vkt_error *err) {
    const char *a = json_string_value(json_object_get(j, "advantage"));
    const char *l = json_string_value(json_object_get(j, "loss"));
    const char *n = json_string_value(json_object_get(j, "norm"));
    const char *g = json_string_value(json_object_get(j, "game"));
    if (!a || !l || !n || !json_is_integer(json_object_get(j, "ppo_epochs")))
        return vkt_fail(err, VKT_ERR_FORMAT, "run_options.json: missing fields");
    VKT_TRY(vkt_rl_adv_mode_parse(a, &o->adv, err));
    VKT_TRY(vkt_pg_kind_parse(l, &o->pg.kind, err));
    VKT_TRY(vkt_pg_norm_parse(n, &o->pg.norm, err));
    if (g) {
        snprintf(game_buf, sizeof game_buf, "%s", g);
        o->game = game_buf;
    }
    o->replays = (int)json_integer_value(json_object_get(j, "replays"));  // absent (older runs): 0
    const char *ex = json_string_value(json_object_get(j, "explore"));     // absent (older runs): sample
    o->explore = VKT_RL_EXPLORE_SAMPLE;
    if (ex) VKT_TRY(vkt_rl_explore_parse(ex, &o->explore, err));
    o->pg.clip_eps = json_number_value(json_object_get(j, "clip"));
    o->ppo_epochs = (int)json_integer_value(json_object_get(j, "ppo_epochs"));
    o->games_per_update = (int)json_integer_value(json_object_get(j, "games_per_update"));
    o->lr = json_number_value(json_object_get(j, "lr"));
    o->lr_warmup = (int)json_integer_value(json_object_get(j, "lr_warmup"));  // absent (older runs): 0 (-1: auto)
    o->max_new_tokens = (int)json_integer_value(json_object_get(j, "max_new_tokens"));
    o->micro_rows = (int)json_integer_value(json_object_get(j, "micro_rows"));
    o->seed = (uint64_t)json_integer_value(json_object_get(j, "seed"));
    o->pg.kl_coef = json_number_value(json_object_get(j, "kl_coef"));  // absent (older runs): 0
    o->pg.entropy_coef = json_number_value(json_object_get(j, "entropy_coef"));
    o->kl_uniform = json_number_value(json_object_get(j, "kl_uniform"));  // absent (older runs): 0
    o->kl_uniform_end = json_number_value(json_object_get(j, "kl_uniform_end"));  // absent (older runs): 0,
    o->kl_anneal = json_number_value(json_object_get(j, "kl_anneal"));            // and no anneal
    o->format_credit = (int)json_integer_value(json_object_get(j, "format_credit"));  // absent (older runs): off
    o->think_tokens = (int)json_integer_value(json_object_get(j, "think_tokens"));  // absent (older runs): 0
    o->chat = json_is_true(json_object_get(j, "chat"));  // absent (older runs): false
    if (json_is_integer(json_object_get(j, "policy_samples")))
        o->policy_samples = (int)json_integer_value(json_object_get(j, "policy_samples"));
    return VKT_OK;
}

static char path_buf[4][4096];
static const char *in_dir(int k, const char *dir, const char *file) {
    snprintf(path_buf[k], sizeof path_buf[k], "%s/%s", dir, file);
    return path_buf[k];
}

// Saves the model, its moments, the RL state and the options as one checkpoint of r->out.
static vkt_status save_run(const model_run *r, vkt_rl_sp *s, const vkt_rl_sp_opts *o, json_t *extra, vkt_error *err) {
    json_t *j = opts_json(o);
    if (extra) json_object_update(j, extra);
    vkt_status st = cli_sp_save(s, r->out, j, (int)r->keep_last, r->tok_dir, r->init, r->lora_base, err);
    json_decref(j);
    return st;
}

// The per-update metrics line; a mix adds each game's counts.
static void write_update_line(FILE *mf, const vkt_rl_sp *s, const vkt_rl_sp_stats *us, double elapsed) {
    vkt_jsonl l;  // a non-finite number is written as null, flagged "nonfinite": true
    vkt_jsonl_begin(&l, mf);
    vkt_jsonl_int(&l, "update", s->updates);
    vkt_jsonl_int(&l, "games", (long long)s->games);
    vkt_jsonl_int(&l, "decisions", us->decisions);
    vkt_jsonl_int(&l, "kept", us->kept);
    vkt_jsonl_int(&l, "invalid", us->invalid);
    vkt_jsonl_num(&l, "invalid_rate", "%.6f", us->decisions ? (double)us->invalid / us->decisions : 0.0);
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
            vkt_jsonl_num(&o, "invalid_rate", "%.6f", g->decisions ? (double)g->invalid / g->decisions : 0.0);
            vkt_jsonl_num(&o, "mean_return_p0", "%.6f", g->mean_return_p0);
            l.nonfinite |= o.nonfinite;
            fputc('}', mf);  // the nested object ends without a newline
        }
        fputc('}', mf);
    }
    vkt_jsonl_end(&l);
    fflush(mf);
}

// A new model's context: every game's compact prompt + answer fits (negotiation: 89 + 32).
enum { new_model_context = 128 };

static int run_model_with(model_run *rp, vkt_rl_sp_opts *op, bool games_given, vkt_error *errp);

// Says what a model from --init and its plans take on the device, and refuses (printed,
// CLI_FAILED) when the device's heap or VKT_DEVICE_MEMORY cannot hold it.
static int reserve_plans(vkt_ctx *ctx, vkt_model *m, const vkt_rl_sp_opts *o, vkt_error *err) {
    uint64_t plans = 0;
    if (vkt_rl_sp_plan_bytes(m, o, &plans, err) != VKT_OK) return cli_fail("selfplay", "%s", err->msg);
    const vkt_lora *a = vkt_model_lora(m);
    cli_model cm = {.m = m, .bytes = vkt_model_weight_bytes(vkt_model_params(m), vkt_model_get_opts(m)) +
                                     (a ? vkt_lora_count(a) * 16 : 0)};
    return cli_model_reserve("selfplay", ctx, &cm, plans, "generation and training plans");
}


static int run_model(int argc, char **argv) {
    vkt_rl_sp_opts o;
    vkt_rl_sp_defaults(&o);
    model_run r = {.out = "selfplay-run", .lora_alpha = 8, .warmup_steps = -1, .warmup_rows = 64, .warmup_lr = 0, .games = 12288,
                   .eval_every = 8, .eval_games = 128, .eval_episodes = 1000, .defer_bin = 0.025, .plot = true,
                   .device = -1, .keep_last = 1};
    const char *v, *policy = NULL;
    vkt_error err = {0};
    bool games_given = false;
    for (int i = 1; i < argc; i++) {
        int c = 0;
        long l;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage_model(stdout);
            return CLI_OK;
        } else if (!strcmp(argv[i], "--json")) {
            r.json = true;
        } else if (!strcmp(argv[i], "--resume")) {
            r.resume = true;
        } else if (!strcmp(argv[i], "--overwrite")) {
            r.overwrite = true;
        } else if (!strcmp(argv[i], "--no-rae")) {
            o.adv = VKT_RL_ADV_NONE;
        } else if (!strcmp(argv[i], "--no-plot")) {
            r.plot = false;
        } else if (!strcmp(argv[i], "--chat")) {
            r.chat = true;
        } else if ((c = cli_value(argc, argv, &i, "--policy", &policy))) {
        } else if ((c = cli_value(argc, argv, &i, "--out", &r.out))) {
        } else if ((c = cli_value(argc, argv, &i, "--init", &r.init))) {
        } else if ((c = cli_value(argc, argv, &i, "--preset", &r.preset))) {
        } else if ((c = cli_value(argc, argv, &i, "--metrics", &r.metrics))) {
        } else if ((c = cli_value(argc, argv, &i, "--game", &o.game))) {
#define INTOPT(flag, lo, hi, dst)                                                        \
    }                                                                                    \
    else if ((c = cli_value(argc, argv, &i, flag, &v)) > 0) {                            \
        if (!cli_int("selfplay", flag, v, lo, hi, &l)) return CLI_USAGE;                 \
        dst = l;
        INTOPT("--layers", 1, 64, r.layers)
        INTOPT("--width", 8, 4096, r.width)
        INTOPT("--heads", 1, 64, r.heads)
        INTOPT("--warmup-steps", 0, 1000000, r.warmup_steps)
        INTOPT("--warmup-rows", 1, 4096, r.warmup_rows)
        INTOPT("--games", 0, 1000000000L, r.games); games_given = true;
        INTOPT("--games-per-update", 1, 1 << 16, o.games_per_update)
        INTOPT("--ppo-epochs", 1, 1000, o.ppo_epochs)
        INTOPT("--lr-warmup", 0, 1000000, o.lr_warmup)
        INTOPT("--micro-rows", 1, 4096, o.micro_rows)
        INTOPT("--max-new-tokens", 1, 256, o.max_new_tokens)
        INTOPT("--think-tokens", 0, VKT_RL_THINK_MAX, o.think_tokens)
        INTOPT("--policy-samples", 1, 1 << 16, o.policy_samples)
        INTOPT("--replays", 1, 1 << 16, o.replays)
        INTOPT("--eval-every", 1, 1000000000L, r.eval_every)
        INTOPT("--eval-games", 0, 1000000, r.eval_games)
        INTOPT("--eval-episodes", 1, 1000000, r.eval_episodes)
        INTOPT("--save-every", 0, 1000000000L, r.save_every)
        INTOPT("--keep-last", 1, 1000000, r.keep_last)
        INTOPT("--device", 0, 1000, r.device)
        INTOPT("--lora-rank", 1, 4096, r.lora_rank)
#undef INTOPT
        } else if ((c = cli_value(argc, argv, &i, "--lora-alpha", &v)) > 0) {
            if (!cli_double("selfplay", "--lora-alpha", v, 1e-6, 1e6, &r.lora_alpha)) return CLI_USAGE;
        } else if (c == 0 && (c = cli_value(argc, argv, &i, "--warmup-lr", &v)) > 0) {
            if (!cli_double("selfplay", "--warmup-lr", v, 1e-12, 10, &r.warmup_lr)) return CLI_USAGE;
        } else if (c == 0 && (c = cli_value(argc, argv, &i, "--defer-bin", &v)) > 0) {
            if (!cli_double("selfplay", "--defer-bin", v, 1e-4, 10, &r.defer_bin)) return CLI_USAGE;
        } else if (c == 0 && (c = cli_value(argc, argv, &i, "--lr", &v)) > 0) {
            if (!cli_double("selfplay", "--lr", v, 1e-12, 10, &o.lr)) return CLI_USAGE;
        } else if (c == 0 && (c = cli_value(argc, argv, &i, "--clip", &v)) > 0) {
            if (!cli_double("selfplay", "--clip", v, 1e-6, 0.999, &o.pg.clip_eps)) return CLI_USAGE;
        } else if (c == 0 && (c = cli_value(argc, argv, &i, "--entropy-coef", &v)) > 0) {
            if (!cli_double("selfplay", "--entropy-coef", v, 0, 1e3, &o.pg.entropy_coef)) return CLI_USAGE;
        } else if (c == 0 && (c = cli_value(argc, argv, &i, "--kl-coef", &v)) > 0) {
            if (!cli_double("selfplay", "--kl-coef", v, 0, 1e3, &o.pg.kl_coef)) return CLI_USAGE;
        } else if (c == 0 && (c = cli_value(argc, argv, &i, "--kl-uniform", &v)) > 0) {
            if (!cli_double("selfplay", "--kl-uniform", v, 0, 1e3, &o.kl_uniform)) return CLI_USAGE;
        } else if (c == 0 && (c = cli_value(argc, argv, &i, "--kl-uniform-end", &v)) > 0) {
            if (!cli_double("selfplay", "--kl-uniform-end", v, 0, 1e3, &o.kl_uniform_end)) return CLI_USAGE;
        } else if (c == 0 && (c = cli_value(argc, argv, &i, "--kl-anneal", &v)) > 0) {
            if (!cli_double("selfplay", "--kl-anneal", v, 0, 1, &o.kl_anneal)) return CLI_USAGE;
        } else if (c == 0 && (c = cli_value(argc, argv, &i, "--format-credit", &v)) > 0) {
            if (!strcmp(v, "auto") || !strcmp(v, "on") || !strcmp(v, "off"))
                o.format_credit = !strcmp(v, "auto") ? -1 : !strcmp(v, "on");
            else return cli_usage_error("selfplay", "--format-credit '%s': auto, on or off", v);
        } else if (c == 0 && (c = cli_value(argc, argv, &i, "--seed", &v)) > 0) {
            if (!cli_u64("selfplay", "--seed", v, &o.seed)) return CLI_USAGE;
        } else if (c == 0 && (c = cli_value(argc, argv, &i, "--advantage", &v)) > 0) {
            if (vkt_rl_adv_mode_parse(v, &o.adv, &err) != VKT_OK) return cli_usage_error("selfplay", "%s", err.msg);
        } else if (c == 0 && (c = cli_value(argc, argv, &i, "--explore", &v)) > 0) {
            if (vkt_rl_explore_parse(v, &o.explore, &err) != VKT_OK) return cli_usage_error("selfplay", "--%s", err.msg);
        } else if (c == 0 && (c = cli_value(argc, argv, &i, "--loss", &v)) > 0) {
            if (vkt_pg_kind_parse(v, &o.pg.kind, &err) != VKT_OK) return cli_usage_error("selfplay", "%s", err.msg);
        } else if (c == 0 && (c = cli_value(argc, argv, &i, "--norm", &v)) > 0) {
            if (vkt_pg_norm_parse(v, &o.pg.norm, &err) != VKT_OK) return cli_usage_error("selfplay", "%s", err.msg);
        } else if (c == 0) {
            return cli_usage_error("selfplay", "unknown option '%s'", argv[i]);
        }
        if (c < 0) return CLI_USAGE;
    }
    if (policy && strcmp(policy, "model")) return cli_usage_error("selfplay", "--policy '%s': model or tabular", policy);
    r.warmup_given = r.warmup_steps >= 0;
    if (r.resume && r.init) return cli_usage_error("selfplay", "--resume and --init exclude each other");
    if ((r.chat || r.lora_rank > 0) && !r.init)
        return cli_usage_error("selfplay", "%s: for a pretrained model given with --init DIR%s",
                               r.chat ? "--chat" : "--lora-rank", r.resume ? " (a resumed run keeps its own)" : "");
    if (r.lora_rank > 0 && o.pg.kl_coef > 0)
        return cli_usage_error("selfplay", "--kl-coef with --lora-rank: the KL reference would be a second copy of "
                                           "the base model, which is not supported (use full fine-tuning)");
    vkt_tok *tok = NULL;  // a pretrained model's tokenizer (NULL: bytes)
    if (r.init && cli_sp_tokenizer(r.init, NULL, &tok, &err) != VKT_OK) return cli_fail("selfplay", "%s", err.msg);
    if (r.chat && !tok) return cli_usage_error("selfplay", "--chat: %s has no tokenizer.json", r.init);
    o.tok = tok, o.chat = r.chat;
    r.tok_dir = tok ? r.init : NULL;
    int rc = run_model_with(&r, &o, games_given, &err);
    vkt_tok_free(tok);
    return rc;
}

static int run_model_with(model_run *rp, vkt_rl_sp_opts *op, bool games_given, vkt_error *errp) {
    model_run r = *rp;
    vkt_rl_sp_opts o = *op;
    vkt_error err = *errp;
    {  // the game list, checked before a device is opened; the warm-up's defaults
        vkt_rl_mix mx;
        if (!r.resume && vkt_rl_mix_parse(o.game, &mx, &err) != VKT_OK)
            return cli_usage_error("selfplay", "--game: %s", err.msg);
        for (int i = 0; !r.resume && i < mx.n; i++)
            if (mx.g[i].prompt_max == 0)
                return cli_usage_error("selfplay", "--game: %s has no compact prompt for the transformer loop "
                                                   "(one-hand kuhn, tictactoe, negotiation, offswitch)", mx.g[i].spec);
        // Before a device opens: thinking must fit the new model's context (below) with every
        // game's prompt; the KL-to-uniform term and format credit need few legal moves and
        // direct answers.
        const bool explores = !r.resume && vkt_rl_sp_explores(&o, &mx);
        o.games_target = r.games;  // the anneal's horizon (a resumed run's: read below)
        int steps = (int)r.warmup_steps;  // the library's defaults for what was not given
        double lr = r.warmup_lr;
        if (!r.resume && vkt_rl_sp_resolve(&o, &steps, &lr, &err) != VKT_OK)
            return cli_usage_error("selfplay", "--game: %s", err.msg);
        r.warmup_steps = steps, r.warmup_lr = lr;
        const bool check = (!r.init && o.think_tokens > 0) || o.kl_uniform > 0 || o.kl_uniform_end > 0 ||
                           o.format_credit > 0 || explores || o.chat;
        if (!r.resume && check && vkt_rl_sp_check(&o, r.init ? 1 << 20 : new_model_context, &err) != VKT_OK)
            return cli_usage_error("selfplay", "%s", strncmp(err.msg, "selfplay: ", 10) ? err.msg : err.msg + 10);
    }
    int rc = cli_check_out_dir("selfplay", r.out, VKT_RUNDIR_SELFPLAY, r.resume, r.overwrite);
    if (rc != CLI_OK) return rc;
    int lock = -1;  // DIR/.lock, held to the end
    char src[4096];  // the checkpoint a resumed run reads
    if (cli_sp_open_dir(r.out, r.resume, &lock, src, sizeof src, &err) != VKT_OK)
        return cli_fail("selfplay", "%s", err.msg);
    vkt_ctx *ctx = NULL;
    rc = cli_open_device("selfplay", (int)r.device, &ctx);
    if (rc != CLI_OK) {
        vkt_run_unlock(lock);
        return rc;
    }
    vkt_model *m = NULL;
    vkt_tok *run_tok = NULL;  // a resumed run's tokenizer
    char base[4200] = "";     // a resumed LoRA run's base
    vkt_rl_sp s;
    memset(&s, 0, sizeof s);
    cli_sp_eval ev;
    memset(&ev, 0, sizeof ev);
    FILE *mf = NULL;
    vkt_status st = VKT_OK;
    double inv_before = NAN, inv_after = NAN, warm_loss = NAN, expl0 = NAN;
    json_t *extra = json_object();
    const uint64_t eval_seed = vkt_rng_derive(o.seed, 0xe1a1);
    bool tty = cli_stderr_is_tty() && !r.json;
    // Model: resumed, initialised from a checkpoint, or new and warmed up.
    if (r.resume) {
        json_t *j = NULL;
        st = vkt_json_file_read(in_dir(0, src, "run_options.json"), 1, &j, &err);
        if (st == VKT_OK) st = opts_from_json(j, &o, &err);
        if (st == VKT_OK) {
            inv_before = json_number_value(json_object_get(j, "invalid_before_warmup"));
            inv_after = json_number_value(json_object_get(j, "invalid_after_warmup"));
            expl0 = json_number_value(json_object_get(j, "exploitability_start"));
            if (!games_given && json_is_integer(json_object_get(j, "games_target")))
                r.games = (long)json_integer_value(json_object_get(j, "games_target"));
            o.games_target = r.games;  // the anneal's horizon: the saved target unless --games is given
        }
        json_decref(j);
        if (st == VKT_OK) st = cli_sp_resume_model(ctx, src, o.seed, &m, base, sizeof base, &r.lora_base, &err);
        if (st == VKT_OK && base[0]) r.init = base;  // the base the adapters' config names
        if (st == VKT_OK) st = cli_sp_tokenizer(src, vkt_model_cfg(m), &run_tok, &err);
        o.tok = run_tok;
        r.tok_dir = run_tok ? r.out : NULL;  // the top of DIR links the newest checkpoint's files
    } else if (r.init) {
        st = r.lora_rank > 0 ? cli_sp_open_lora(ctx, r.init, (int)r.lora_rank, r.lora_alpha, o.seed, &m, &r.lora_base,
                                                &err)
                             : vkt_checkpoint_load_model(ctx, r.init, &m, &err);
        if (st == VKT_OK && o.tok && !r.json) {
            char what[512];
            vkt_train_describe_init(m, r.init, what, sizeof what);
            fprintf(stderr, "# %s\n", what);
        }
    } else {
        vkt_model_config cfg;
        st = vkt_model_preset(r.preset ? r.preset : "gpt2-tiny", &cfg, &err);
        if (st == VKT_OK && !r.preset) cfg.layers = 2, cfg.width = 64, cfg.heads = 4, cfg.kv_heads = 4, cfg.ffn = 256;
        if (st == VKT_OK) {
            cfg.context = new_model_context;  // every game's compact prompt + answer fits (the longest, negotiation: 89 + 32)
            vkt_model_config_reshape(&cfg, (int)r.layers, (int)r.width, (int)r.heads, 0);
            st = vkt_model_config_check(&cfg, &err);
        }
        if (st == VKT_OK && vkt_model_create(ctx, &cfg, &m, &err) != VKT_OK && err.msg[0] == 0)
            st = vkt_fail(&err, VKT_ERR_VULKAN, "model: %s", vkt_ctx_message(ctx));
        else if (st == VKT_OK && !m) st = VKT_ERR_VULKAN;
        if (st == VKT_OK && vkt_model_init(m, o.seed) != VKT_OK) st = vkt_fail(&err, VKT_ERR_VULKAN, "%s", vkt_ctx_message(ctx));
    }
    bool reported = false;  // a failure already printed
    if (st == VKT_OK && r.init && reserve_plans(ctx, m, &o, &err) != CLI_OK) st = VKT_ERR_ARG, reported = true;
    if (st == VKT_OK) st = vkt_rl_sp_init(&s, m, &o, &err);
    const int inv_games = 64, inv_final_games = 256;
    if (st == VKT_OK && !r.resume && (!r.init || r.warmup_given) && r.warmup_steps > 0) {
        double t0 = now_wall();
        st = vkt_rl_invalid_rate(m, s.gen, o.game, &s.fmt, inv_games, 1000000000LL, eval_seed,
                                 s.max_new_tokens, &inv_before, &err);
        if (st == VKT_OK && !r.json) {
            printf("# model: %d layers, width %d, %d heads (%llu parameters); warm-up: %ld steps x %ld rows, lr %g\n",
                   vkt_model_cfg(m)->layers, vkt_model_cfg(m)->width, vkt_model_cfg(m)->heads,
                   (unsigned long long)vkt_model_params(m)->total, r.warmup_steps, r.warmup_rows, r.warmup_lr);
            printf("  invalid-move rate before warm-up: %.1f%% (%d self-play games, sampled)\n", 100 * inv_before, inv_games);
            fflush(stdout);
        }
        if (st == VKT_OK)
            st = vkt_rl_warmup(m, o.game, &s.fmt, (int)r.warmup_steps, (int)r.warmup_rows, r.warmup_lr,
                               o.seed, &warm_loss, &err);
        if (st == VKT_OK)
            st = vkt_rl_invalid_rate(m, s.gen, o.game, &s.fmt, inv_games, 1000000000LL, eval_seed,
                                     s.max_new_tokens, &inv_after, &err);
        if (st == VKT_OK && !r.json) {
            printf("  invalid-move rate after warm-up:  %.1f%% (answer loss %.4f nats/token, %.0fs)\n", 100 * inv_after,
                   warm_loss, now_wall() - t0);
            fflush(stdout);
        }
    }
    if (st == VKT_OK && !r.resume && (!r.init || r.warmup_given) && r.warmup_steps > 0) {  // the warm-up re-planned the model
        vkt_rl_sp_free(&s);
        st = vkt_rl_sp_init(&s, m, &o, &err);
    }
    const bool kuhn = st == VKT_OK && s.kuhn >= 0, kuhn_only = kuhn && s.mix.n == 1;
    vkt_kuhn_policy latest, avg;
    memset(&latest, 0, sizeof latest), memset(&avg, 0, sizeof avg);
    double pol_inv[VKT_KUHN_INFOSTATES] = {0};
    const bool sampled = o.think_tokens > 0;
    if (kuhn) st = vkt_rl_sp_kuhn_policy(&s, &latest, pol_inv, &err);
    if (st == VKT_OK && r.resume) st = vkt_rl_sp_load_state(&s, in_dir(0, src, "rl_state.json"), &err);
    // The KL reference is the policy the run started from, not the one it was saved with.
    if (st == VKT_OK && r.resume && o.pg.kl_coef > 0) st = vkt_rl_sp_load_ref(&s, in_dir(0, src, "ref"), &err);
    if (st == VKT_OK && !r.resume && kuhn) expl0 = vkt_kuhn_exploitability(&latest);
    if (st == VKT_OK) st = cli_sp_eval_init(&ev, &s, (int)r.eval_games, (int)r.eval_episodes, eval_seed, &err);
    json_object_set_new(extra, "invalid_before_warmup", json_real(inv_before));
    json_object_set_new(extra, "invalid_after_warmup", json_real(inv_after));
    json_object_set_new(extra, "exploitability_start", json_real(expl0));
    json_object_set_new(extra, "games_target", json_integer(r.games));
    char mpath[4096];
    snprintf(mpath, sizeof mpath, "%s", r.metrics ? r.metrics : in_dir(2, r.out, "metrics.jsonl"));
    if (st == VKT_OK) {
        if (mkdir(r.out, 0777) != 0 && errno != EEXIST) st = vkt_fail(&err, VKT_ERR_IO, "%s: cannot create", r.out);
        else if (!(mf = fopen(mpath, r.resume ? "a" : "w"))) st = vkt_fail(&err, VKT_ERR_IO, "%s: cannot open", mpath);
    }
    char anneal_txt[96] = "";
    if (st == VKT_OK && s.kl_anneal > 0)
        snprintf(anneal_txt, sizeof anneal_txt, " (-> %g over the last %g%% of the games)", o.kl_uniform_end,
                 100 * s.kl_anneal);
    if (st == VKT_OK && !r.json) {
        printf("# self-play on %s: advantage %s, loss %s, epochs %d, %d games/update, lr %g, entropy %g, kl %g, "
               "kl-uniform %g%s, seed %llu, %ld games%s%s%s\n",
               o.game, vkt_rl_adv_mode_name(o.adv), vkt_pg_kind_name(o.pg.kind), o.ppo_epochs, o.games_per_update, o.lr,
               o.pg.entropy_coef, o.pg.kl_coef, s.kl_uniform, anneal_txt, (unsigned long long)o.seed, r.games,
               s.explore ? ", every answer explored" : "", s.format_credit ? ", format credit" : "",
               r.resume ? " (resumed)" : "");
        if (o.think_tokens > 0) {
            printf("# thinking: up to %d tokens before \\boxed{move} (responses <= %d tokens, all trained)", o.think_tokens,
                   s.max_new_tokens);
            if (kuhn)
                printf("; kuhn policy sampled: %d answers per information state, P(bet) = bets / valid answers",
                       o.policy_samples);
            printf("\n");
        }
        if (kuhn_only)
            printf("# %8s %7s %8s %9s %9s %8s %8s %8s %8s\n", "games", "updates", "invalid", "expl", "avg_expl", "rnd_win",
                   "nash_ret", "games/s", "elapsed");
        else
            printf("# %8s %7s %8s  %s  %8s %8s\n", "games", "updates", "invalid", "evaluation", "games/s", "elapsed");
        fflush(stdout);
    }
    volatile sig_atomic_t *stop_flag = cli_catch_sigint();
    double t_start = now_wall(), eval_s = 0;
    int64_t games0 = s.games;
    double e_latest = expl0, e_avg = expl0;
    bool interrupted = false;
    int window_inv = 0, window_dec = 0;
    int64_t run_tokens = 0, run_decisions = 0;  // this invocation's RL responses
    while (st == VKT_OK) {
        bool done = s.games >= r.games;
        bool do_eval = done || s.updates % r.eval_every == 0;
        if (do_eval) {
            double te = now_wall();
            if (kuhn) {
                st = vkt_rl_sp_kuhn_policy(&s, &latest, pol_inv, &err);
                vkt_rl_sp_avg_policy(&s, &latest, &avg);
                e_latest = vkt_kuhn_exploitability(&latest), e_avg = vkt_kuhn_exploitability(&avg);
            }
            if (st == VKT_OK) st = cli_sp_eval_run(&ev, &s, (uint64_t)s.updates, &err);
            eval_s += now_wall() - te;
            if (st != VKT_OK) break;
            json_t *line = json_object();
            if (kuhn) {
                json_object_set_new(line, "exploitability", json_real(e_latest));
                json_object_set_new(line, "avg_exploitability", json_real(e_avg));
                json_object_set_new(line, "policy", policy_json(&latest));
                if (sampled) json_object_set_new(line, "policy_invalid", json_real(mean12(pol_inv)));
            }
            cli_sp_eval_add_json(&ev, &s, line);
            json_object_set_new(line, "games", json_integer(s.games));
            json_object_set_new(line, "updates", json_integer(s.updates));
            json_object_set_new(line, "eval", json_true());
            char *txt = json_dumps(line, JSON_COMPACT | JSON_REAL_PRECISION(6));
            fprintf(mf, "%s\n", txt);
            fflush(mf);
            free(txt);
            json_decref(line);
            if (!r.json) {
                char el[32];
                fmt_dur(now_wall() - t_start, el, sizeof el);
                double rate = window_dec ? (double)window_inv / window_dec : (double)s.invalid / (s.decisions ? s.decisions : 1);
                double gps = (s.games - games0) / (now_wall() - t_start + 1e-9);
                if (kuhn_only) {
                    printf("%s  %8lld %7d %7.2f%% %9.4f %9.4f %8.3f %+8.3f %8.1f %8s\n", tty ? "\r" : "",
                           (long long)s.games, s.updates, 100 * rate, e_latest, e_avg, ev.g[0].vs_random.win,
                           ev.g[0].vs_strong.mean_return, gps, el);
                } else {
                    char line_txt[1024];
                    cli_sp_eval_line(&ev, &s, line_txt, sizeof line_txt);
                    printf("%s  %8lld %7d %7.2f%%  %s", tty ? "\r" : "", (long long)s.games, s.updates, 100 * rate, line_txt);
                    if (kuhn) printf("  kuhn expl %.4f avg %.4f", e_latest, e_avg);
                    printf("  %8.1f %8s\n", gps, el);
                }
                fflush(stdout);
            }
            window_inv = window_dec = 0;
        }
        if (done) break;
        if (*stop_flag) {
            interrupted = true;
            break;
        }
        vkt_rl_sp_stats us;
        st = vkt_rl_sp_update(&s, &us, &err);
        if (st != VKT_OK) break;
        window_inv += us.invalid, window_dec += us.decisions;
        run_tokens += us.gen_tokens, run_decisions += us.decisions;
        write_update_line(mf, &s, &us, now_wall() - t_start);
        if (tty) {
            double el = now_wall() - t_start, gps = (s.games - games0) / (el + 1e-9);
            char eta[32];
            fmt_dur(gps > 0 ? (r.games - s.games) / gps : -1, eta, sizeof eta);
            fprintf(stderr, "\r  update %d | games %lld/%ld | invalid %.1f%% | kept %d/%d | %.1f games/s | ETA %s   ",
                    s.updates, (long long)s.games, r.games, us.decisions ? 100.0 * us.invalid / us.decisions : 0.0,
                    us.kept, us.decisions, gps, eta);
            fflush(stderr);
        }
        if (r.save_every > 0 && s.updates % r.save_every == 0) st = save_run(&r, &s, &o, extra, &err);
    }
    cli_release_sigint();
    if (tty) fprintf(stderr, "\n");
    if (st == VKT_OK) st = save_run(&r, &s, &o, extra, &err);
    if (st == VKT_OK) st = cli_sp_eval_offswitch_files(&ev, &s, r.out, r.defer_bin, r.plot, &err);
    // The final policy's own answers, sampled: with every answer explored, training sampled none.
    double inv_final = NAN;
    if (st == VKT_OK)
        st = vkt_rl_invalid_rate(m, s.gen, o.game, &s.fmt, inv_final_games, 1000000000LL, eval_seed,
                                 s.max_new_tokens, &inv_final, &err);
    if (st != VKT_OK) {
        rc = reported ? CLI_FAILED : cli_fail("selfplay", "%s", err.msg);
    } else if (r.json) {
        json_t *j = json_object();
        json_object_set_new(j, "game", json_string(o.game));
        json_object_set_new(j, "games", json_integer(s.games));
        json_object_set_new(j, "updates", json_integer(s.updates));
        json_object_set_new(j, "invalid_rate", s.explore ? json_null()
                                                             : json_real(s.decisions ? (double)s.invalid / s.decisions : 0.0));
        json_object_set_new(j, "invalid_final", json_real(inv_final));
        json_object_set_new(j, "explore", json_string(s.explore ? "all" : "sample"));
        json_object_set_new(j, "lr_warmup", json_integer(s.lr_warmup));
        json_object_set_new(j, "invalid_before_warmup", json_real(inv_before));
        json_object_set_new(j, "invalid_after_warmup", json_real(inv_after));
        json_object_set_new(j, "think_tokens", json_integer(o.think_tokens));
        json_object_set_new(j, "kl_uniform", json_real(s.kl_uniform));
        json_object_set_new(j, "kl_anneal", json_real(s.kl_anneal));
        json_object_set_new(j, "kl_uniform_end", json_real(s.kl_anneal > 0 ? o.kl_uniform_end : s.kl_uniform));
        json_object_set_new(j, "format_credit", json_boolean(s.format_credit));
        json_object_set_new(j, "mean_response_tokens",
                            json_real(run_decisions ? (double)run_tokens / (double)run_decisions : 0.0));
        if (kuhn) {
            json_object_set_new(j, "policy_extraction", json_string(sampled ? "sampled" : "teacher-forced"));
            if (sampled) {
                json_object_set_new(j, "policy_samples", json_integer(o.policy_samples));
                json_object_set_new(j, "policy_invalid", json_real(mean12(pol_inv)));
            }
            json_object_set_new(j, "exploitability_start", json_real(expl0));
            json_object_set_new(j, "exploitability", json_real(e_latest));
            json_object_set_new(j, "avg_exploitability", json_real(e_avg));
            json_object_set_new(j, "policy", policy_json(&latest));
            json_object_set_new(j, "avg_policy", policy_json(&avg));
        }
        cli_sp_eval_add_json(&ev, &s, j);
        if (ev.eps) {
            json_object_set_new(j, "deference_csv", json_string(in_dir(0, r.out, "offswitch_deference.csv")));
            if (r.plot) json_object_set_new(j, "deference_png", json_string(in_dir(1, r.out, "offswitch_deference.png")));
        }
        json_object_set_new(j, "interrupted", json_boolean(interrupted));
        json_object_set_new(j, "wall_s", json_real(now_wall() - t_start));
        char *txt = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
        puts(txt);
        free(txt);
        json_decref(j);
    } else {
        double el = now_wall() - t_start;
        printf("\n%s after %lld games (%d updates, %.0fs, %.0fs of it evaluating); saved to %s%s\n",
               interrupted ? "Stopped" : "Finished", (long long)s.games, s.updates, el, eval_s, r.out,
               interrupted ? " (--resume continues)" : "");
        if (s.explore)
            printf("  invalid-move rate: none sampled in training (every answer explored, %lld decisions)\n",
                   (long long)s.decisions);
        else
            printf("  invalid-move rate: %.2f%% of %lld self-play decisions\n",
                   s.decisions ? 100.0 * s.invalid / s.decisions : 0.0, (long long)s.decisions);
        printf("  the final policy's own answers, sampled: %.2f%% invalid (%d self-play games)\n", 100 * inv_final,
               inv_final_games);
        if (o.think_tokens > 0)
            printf("  mean response: %.1f tokens (this run's RL decisions; budget %d = %d thinking + %d answer)\n",
                   run_decisions ? (double)run_tokens / (double)run_decisions : 0.0, s.max_new_tokens, o.think_tokens,
                   s.answer_tokens);
        if (kuhn) {
            printf("  kuhn exploitability (0 = Nash equilibrium, uniform random play = 0.458): start %.4f -> latest %.4f, "
                   "averaged %.4f\n",
                   expl0, e_latest, e_avg);
            if (sampled)
                printf("  (policies sampled: %d answers per information state; %.1f%% of the latest's named no legal "
                       "move)\n",
                       o.policy_samples, 100 * mean12(pol_inv));
            print_card_policy("latest", &latest);
            print_card_policy("averaged", &avg);
            printf("  (Nash: J bets first with alpha <= 1/3, never calls a bet; Q checks, calls a bet 1/3 + alpha;\n"
                   "   K bets with 3 alpha and always calls; as the second player K always bets after a check, J bluffs 1/3.)\n");
        }
        cli_sp_eval_report(&ev, &s, stdout);
        if (ev.eps)
            printf("  deference by Delta: %s%s%s\n", in_dir(0, r.out, "offswitch_deference.csv"), r.plot ? ", " : "",
                   r.plot ? in_dir(1, r.out, "offswitch_deference.png") : "");
    }
    json_decref(extra);
    if (mf) fclose(mf);
    cli_sp_eval_free(&ev);
    vkt_rl_sp_free(&s);
    vkt_train_close_model(m);
    vkt_tok_free(run_tok);
    json_decref(r.lora_base);
    vkt_ctx_destroy(ctx);
    vkt_run_unlock(lock);
    return rc;
}

int cmd_selfplay(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--warmup-data")) return run_tabular(argc, argv);
        if (!strcmp(argv[i], "--policy") && i + 1 < argc && !strcmp(argv[i + 1], "tabular")) return run_tabular(argc, argv);
        if (!strcmp(argv[i], "--policy=tabular")) return run_tabular(argc, argv);
    }
    return run_model(argc, argv);
}
