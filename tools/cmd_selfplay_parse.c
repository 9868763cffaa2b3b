// cmd_selfplay_parse.c: `vkt selfplay`'s command line, one option table a form (the
// transformer policy, the default; the tabular control with the warm-up data writer), each
// printing its --help with the defaults read from its destinations.
#include <string.h>

#include "cli.h"
#include "cli_opt.h"
#include "cmd_selfplay.h"
#include "model.h"

#define SP_STR_(x) #x
#define SP_STR(x) SP_STR_(x)

static const char *const USAGE =
    "usage: vkt selfplay [options]                 (transformer policy, the default)\n"
    "       vkt selfplay --policy tabular [options] (the 12-logit control; --policy tabular "
    "--help)\n"
    "       vkt selfplay --warmup-data FILE [--game SPEC] [--games N] [--seed S]\n";

static const cli_cmd MODEL_CMD = {
    .name = "selfplay",
    .usage = USAGE,
    .about =
        "Self-play RL (SPIRAL) with a small transformer that reads a compact role-conditioned\n"
        "prompt and answers its move in brackets. Without --init it first learns the answer\n"
        "format on random legal play (warm-up), then plays itself (one policy in every seat).\n"
        "Every --eval-every updates it reports, per game: one-hand Kuhn, the exact "
        "exploitability\n"
        "of its policy (latest and averaged) and its record against random and nash; TicTacToe\n"
        "against random (per seat) and minimax; Negotiation against random and greedy; the\n"
        "off-switch game, agreement with the oracle and regret on held-out episodes beside the\n"
        "fixed choices, and at the end the deference-by-Delta CSV and figure in --out.\n"
        "Ctrl-C saves to --out; --resume continues.\n",
    .epilog = "Exit codes: 0 the run finished, or was stopped by Ctrl-C after saving; 1 the run "
              "failed;\n"
              "2 bad usage (also --precision refused for the model).\n",
};

static const cli_cmd TABULAR_CMD = {
    .name = "selfplay",
    .usage = "usage: vkt selfplay --policy tabular [options]\n"
             "       vkt selfplay --warmup-data FILE [--game SPEC] [--games N] [--seed S]\n",
    .about = "Self-play RL on Kuhn Poker (OpenSpiel rules, one hand, chips reward) with the "
             "tabular\n"
             "control: 12 information states x 2 logits, pure C, one policy in both seats; exact\n"
             "exploitability of the latest and of the averaged policy as it learns. The default\n"
             "policy, a transformer, is `vkt selfplay --help`.\n",
    .epilog = "Exit codes: 0 done; 1 the run failed; 2 bad usage.\n",
};

// ---- values parsed by the library's own parsers -------------------------------------------

static int parse_adv(const cli_opt *opt, const char *cmd, const char *const *v) {
    vkt_error err = {0};
    if (vkt_rl_adv_mode_parse(v[0], opt->dest, &err) != VKT_OK)
        return cli_usage_error(cmd, "%s", err.msg);
    return CLI_OK;
}

static int parse_no_rae(const cli_opt *opt, const char *cmd, const char *const *v) {
    (void)cmd, (void)v;
    *(vkt_rl_adv_mode *)opt->dest = VKT_RL_ADV_NONE;
    return CLI_OK;
}

static int parse_loss(const cli_opt *opt, const char *cmd, const char *const *v) {
    vkt_error err = {0};
    if (vkt_pg_kind_parse(v[0], opt->dest, &err) != VKT_OK)
        return cli_usage_error(cmd, "%s", err.msg);
    return CLI_OK;
}

static int parse_norm(const cli_opt *opt, const char *cmd, const char *const *v) {
    vkt_error err = {0};
    if (vkt_pg_norm_parse(v[0], opt->dest, &err) != VKT_OK)
        return cli_usage_error(cmd, "%s", err.msg);
    return CLI_OK;
}

static int parse_explore(const cli_opt *opt, const char *cmd, const char *const *v) {
    vkt_error err = {0};
    if (vkt_rl_explore_parse(v[0], opt->dest, &err) != VKT_OK)
        return cli_usage_error(cmd, "--%s", err.msg);
    return CLI_OK;
}

static int parse_format_credit(const cli_opt *opt, const char *cmd, const char *const *v) {
    int *fc = opt->dest;
    if (!strcmp(v[0], "auto"))
        *fc = -1;
    else if (!strcmp(v[0], "on") || !strcmp(v[0], "off"))
        *fc = !strcmp(v[0], "on");
    else
        return cli_usage_error(cmd, "--format-credit '%s': auto, on or off", v[0]);
    return CLI_OK;
}

_Static_assert(VKT_PREC_FP32 == 0 && VKT_PREC_BF16 == 1 && VKT_PREC_FP16 == 2,
               "--precision's choices");

// ---- the transformer form -----------------------------------------------------------------

void sp_args_defaults(sp_args *a) {
    memset(a, 0, sizeof *a);
    vkt_rl_sp_defaults(&a->o);
    a->out = "selfplay-run";
    a->lora_alpha = 8;
    a->warmup_steps = -1, a->warmup_rows = 64, a->warmup_lr = 0;
    a->games = 12288;
    a->eval_every = 8, a->eval_games = 128, a->eval_episodes = 1000;
    a->defer_bin = 0.025;
    a->plot = true;
    a->device = -1;
    a->keep_last = 1;
    a->precision = VKT_PREC_FP32;
}

#define MODEL_OPTS 64

static const char *const RUN = "Game and run directory:", *const MOD = "Model:",
                         *const WARM = "Format warm-up (a new model):",
                         *const RL = "Self-play updates:", *const EVAL = "Evaluation and output:";

// The game, the run directory and the model.
static int model_table_run(sp_args *a, cli_opt *t) {
    vkt_rl_sp_opts *o = &a->o;
    const cli_opt e[] = {
        {"--game", CLI_OPT_STR, &o->game, .metavar = "G", .group = RUN,
         .help = "kuhn | tictactoe | negotiation | offswitch, a spec with options\n"
                 "(negotiation:turns=12), or a mix: kuhn,tictactoe,negotiation\n"
                 "(games per update split evenly, baselines per game and role)"},
        {"--policy", CLI_OPT_STR, &a->policy, .metavar = "P", .def = "model",
         .help = "model (this form) | tabular (vkt selfplay --policy tabular --help)"},
        {"--out", CLI_OPT_STR, &a->out, .metavar = "DIR",
         .help = "run directory: each save is DIR/ckpt-<updates>/ (model, moments,\n"
                 "rl_state.json, run_options.json, ref/ with --kl-coef, checkpoint.json:\n"
                 "their sizes and hashes) published by one rename, linked at the top;\n"
                 "metrics.jsonl. One that holds a self-play checkpoint needs --resume or\n"
                 "--overwrite; a vkt train run is refused; DIR/.lock keeps a second run\n"
                 "off DIR while this one runs"},
        {"--resume", CLI_OPT_FLAG, &a->resume,
         .help = "continue the run in --out from its newest checkpoint that matches its\n"
                 "manifest (its saved options and --precision; --games may grow)"},
        {"--overwrite", CLI_OPT_FLAG, &a->overwrite,
         .help = "replace the run in --out with a new one"},
        {"--keep-last", CLI_OPT_LONG, &a->keep_last, 1, 1000000, "N",
         .help = "complete checkpoints kept; --resume falls back to the newest intact one"},
        {"--init", CLI_OPT_STR, &a->init, .metavar = "CKPT", .group = MOD,
         .help = "start from a checkpoint (no warm-up unless --warmup-steps): one vkt\n"
                 "wrote, or a pretrained Hugging Face directory (config.json,\n"
                 "safetensors, tokenizer.json): its tokenizer reads the prompts; the\n"
                 "weights train in fp32 unless --lora-rank"},
        {"--chat", CLI_OPT_FLAG, &a->chat,
         .help = "with a pretrained --init: each prompt is the user turn of the model's\n"
                 "chat template, answers end with its end-of-turn token; enable_thinking\n"
                 "is on with --think-tokens; a <think>...</think> block is not read as\n"
                 "the move"},
        {"--lora-rank", CLI_OPT_LONG, &a->lora_rank, 1, 4096, "R", .def = "",
         .help = "with a pretrained --init: train LoRA adapters of rank R on every\n"
                 "projection (the base frozen, 16-bit where the checkpoint is);\n"
                 "checkpoints hold PEFT adapter files (--resume checks the base is\n"
                 "unchanged; not with --kl-coef)"},
        {"--lora-alpha", CLI_OPT_DOUBLE, &a->lora_alpha, 1e-6, 1e6, "A",
         .help = "the adapters' scale alpha / R"},
        {"--preset", CLI_OPT_STR, &a->preset, .metavar = "P",
         .def = "a custom gpt2 of 2 layers, width 64", .help = "gpt2-tiny, llama-tiny"},
        {"--layers", CLI_OPT_LONG, &a->layers, 1, 64, "L", .def = "",
         .help = "override the model's shape: blocks"},
        {"--width", CLI_OPT_LONG, &a->width, 8, 4096, "C", .def = "", .help = "residual width"},
        {"--heads", CLI_OPT_LONG, &a->heads, 1, 64, "H", .def = "", .help = "attention heads"},
        {"--precision", CLI_OPT_CHOICE, &a->precision, .choices = "fp32|bf16|fp16",
         .given = &a->precision_given,
         .help = "arithmetic of training: bf16/fp16 matmuls on 16-bit operands with\n"
                 "fp32 accumulation and fp32 master weights (a new or --init model;\n"
                 "refused for LoRA adapters); --resume: the run's unless given"},
        {0},
    };
    int n = 0;
    while (e[n].type != CLI_OPT_END) t[n] = e[n], n++;
    return n;
}

// The warm-up and the RL options.
static int model_table_rl(sp_args *a, cli_opt *t) {
    vkt_rl_sp_opts *o = &a->o;
    const cli_opt e[] = {
        {"--warmup-steps", CLI_OPT_LONG, &a->warmup_steps, 0, 1000000, "N", .group = WARM,
         .def = "the game's",
         .help = "format warm-up steps (kuhn 150, tictactoe 800, negotiation 400,\n"
                 "offswitch 200; a mix: its longest; 0 skips)"},
        {"--warmup-rows", CLI_OPT_LONG, &a->warmup_rows, 1, 4096, "N",
         .help = "rows per warm-up step"},
        {"--warmup-lr", CLI_OPT_DOUBLE, &a->warmup_lr, 1e-12, 10, "X", .def = "the game's",
         .help = "kuhn 1e-2 after a 30-step linear ramp, the other games and mixes 3e-3"},
        {"--games", CLI_OPT_LONG, &a->games, 0, 1000000000L, "N", .given = &a->games_given,
         .group = RL, .help = "self-play games in all (0: the warm-up and one evaluation)"},
        {"--games-per-update", CLI_OPT_INT, &o->games_per_update, 1, 1 << 16, "N",
         .def = SP_STR(VKT_RL_GAMES_PER_UPDATE_EXPLORE) " exploring every answer, else " SP_STR(
             VKT_RL_GAMES_PER_UPDATE),
         .help = "games per update, all seats"},
        {"--advantage", CLI_OPT_CUSTOM, &o->adv, .metavar = "M", .parse = parse_adv, .def = "auto",
         .help = "auto (each game's own: kuhn group, tictactoe and negotiation rae,\n"
                 "offswitch group-mean) | group | group-mean | rae | none"},
        {"--no-rae", CLI_OPT_CUSTOM, &o->adv, .parse = parse_no_rae, .nargs = -1,
         .help = "same as --advantage none"},
        {"--replays", CLI_OPT_INT, &o->replays, 1, 1 << 16, "N",
         .def = "offswitch 8 under group modes, 3 with --explore all, else 1",
         .help = "deals replayed per group"},
        {"--explore", CLI_OPT_CUSTOM, &o->explore, .metavar = "E", .parse = parse_explore,
         .def = "auto",
         .help =
             "auto (all for offswitch alone, else sample) | sample: every replay\n"
             "samples its answer | all: replay j of a deal plays the j-th legal\n"
             "answer (offswitch only: the group compares every answer on common\n"
             "random numbers; A on the choosing token, |A| on the format; default\n"
             "--games-per-update " SP_STR(VKT_RL_GAMES_PER_UPDATE_EXPLORE) ", --kl-uniform " SP_STR(
                 VKT_RL_KL_UNIFORM_EXPLORE) ", --lr-warmup " SP_STR(VKT_RL_LR_WARMUP_EXPLORE) ")"},
        {"--loss", CLI_OPT_CUSTOM, &o->pg.kind, .metavar = "L", .parse = parse_loss, .def = "ppo",
         .help = "ppo (clip --clip) | reinforce"},
        {"--clip", CLI_OPT_DOUBLE, &o->pg.clip_eps, 1e-6, 0.999, "E", .help = "PPO clip epsilon"},
        {"--ppo-epochs", CLI_OPT_INT, &o->ppo_epochs, 1, 1000, "N",
         .help = "optimizer steps per update"},
        {"--norm", CLI_OPT_CUSTOM, &o->pg.norm, .metavar = "N", .parse = parse_norm,
         .def = "seq-sum-maxlen", .help = "seq-sum-maxlen | token-mean"},
        {"--lr", CLI_OPT_DOUBLE, &o->lr, 1e-12, 10, "X",
         .help = "Adam learning rate (betas 0.9, 0.95; clip 1.0)"},
        {"--lr-warmup", CLI_OPT_INT, &o->lr_warmup, 0, 1000000, "N",
         .def = SP_STR(VKT_RL_LR_WARMUP_EXPLORE) " with --explore all, else 0",
         .help = "ramp the learning rate linearly over the first N updates"},
        {"--entropy-coef", CLI_OPT_DOUBLE, &o->pg.entropy_coef, 0, 1e3, "X",
         .help = "exact entropy bonus on the trained answer tokens: loss - X sum n_i H_i"},
        {"--kl-coef", CLI_OPT_DOUBLE, &o->pg.kl_coef, 0, 1e3, "C",
         .help = "k3 KL towards the initial policy (after the warm-up; kept in DIR/ref)"},
        {0},
    };
    int n = 0;
    while (e[n].type != CLI_OPT_END) t[n] = e[n], n++;
    return n;
}

// The terms on the legal answers, the answer format, evaluation and output.
static int model_table_eval(sp_args *a, cli_opt *t) {
    vkt_rl_sp_opts *o = &a->o;
    const cli_opt e[] = {
        {"--kl-uniform", CLI_OPT_DOUBLE, &o->kl_uniform, 0, 1e3, "C", .def = "auto",
         .help = "action-level KL to the uniform policy over the legal answers at "
                 "every\n"
                 "decision: C * mean over decisions of -1/n sum_a log pi(a) (kuhn,\n"
                 "tictactoe, offswitch only). auto: " SP_STR(
                     VKT_RL_KL_UNIFORM_KUHN) " on kuhn alone with direct "
                                             "answers,\n" SP_STR(
                                                 VKT_RL_KL_UNIFORM_EXPLORE) " with --explore all, "
                                                                            "else 0"},
        {"--kl-anneal", CLI_OPT_DOUBLE, &o->kl_anneal, 0, 1, "F",
         .def = SP_STR(VKT_RL_KL_ANNEAL_KUHN) " with kuhn's default --kl-uniform, else 0",
         .help = "decay --kl-uniform linearly to --kl-uniform-end over the last fraction\n"
                 "F of --games, so the late policy sharpens (a resumed run re-plans it\n"
                 "for a new --games)"},
        {"--kl-uniform-end", CLI_OPT_DOUBLE, &o->kl_uniform_end, 0, 1e3, "C",
         .help = "the coefficient at the end of the anneal"},
        {"--format-credit", CLI_OPT_CUSTOM, &o->format_credit, .metavar = "M",
         .parse = parse_format_credit, .def = "auto: on for kuhn alone with direct answers",
         .help = "auto | on | off: a sampled answer that is a legal move gets A on its\n"
                 "choosing token, |A| on its format ('[', the rest, ']', <|endoftext|>),\n"
                 "and an invalid answer is never reinforced (A > 0 -> 0); off: every\n"
                 "token gets A"},
        {"--max-new-tokens", CLI_OPT_INT, &o->max_new_tokens, 1, 256, "N",
         .def = "the mix's largest",
         .help = "answer budget (kuhn, tictactoe, offswitch 8, negotiation 32; + 8 with\n"
                 "--think-tokens for the \\boxed{} answer)"},
        {"--think-tokens", CLI_OPT_INT, &o->think_tokens, 0, VKT_RL_THINK_MAX, "N",
         .help = "let the model write up to N tokens before a \\boxed{Move} answer\n"
                 "(SPIRAL's format; the prompt asks for it, responses may be N + the\n"
                 "answer budget tokens, all of them trained; the warm-up teaches\n"
                 "\\boxed{Move} at once). 0: answer [Move] directly (tiny models). Kuhn's\n"
                 "policy is then extracted by sampling (--policy-samples). Not for\n"
                 "offswitch"},
        {"--policy-samples", CLI_OPT_INT, &o->policy_samples, 1, 1 << 16, "K",
         .help = "with --think-tokens: sampled answers per Kuhn information state for\n"
                 "the policy (P(bet) = bets / valid answers)"},
        {"--micro-rows", CLI_OPT_INT, &o->micro_rows, 1, 4096, "N",
         .help = "rows per forward/backward"},
        {"--eval-every", CLI_OPT_LONG, &a->eval_every, 1, 1000000000L, "N", .group = EVAL,
         .help = "evaluate every N updates"},
        {"--eval-games", CLI_OPT_LONG, &a->eval_games, 0, 1000000, "N",
         .help = "games against random and against the strong opponent per evaluation"},
        {"--eval-episodes", CLI_OPT_LONG, &a->eval_episodes, 1, 1000000, "N",
         .help = "offswitch: held-out episodes per evaluation"},
        {"--defer-bin", CLI_OPT_DOUBLE, &a->defer_bin, 1e-4, 10, "W",
         .help = "offswitch: Delta bin width of the deference CSV"},
        {"--no-plot", CLI_OPT_UNFLAG, &a->plot,
         .help = "offswitch: write the CSV but do not draw the figure"},
        {"--save-every", CLI_OPT_LONG, &a->save_every, 0, 1000000000L, "N",
         .def = "at the end and on Ctrl-C", .help = "checkpoint every N updates"},
        {"--metrics", CLI_OPT_STR, &a->metrics, .metavar = "FILE", .def = "DIR/metrics.jsonl",
         .help = "metrics JSONL"},
        {"--seed", CLI_OPT_U64, &o->seed, .metavar = "S", .help = "seed"},
        CLI_OPT_DEVICE(&a->device),
        {"--json", CLI_OPT_FLAG, &a->json,
         .help = "end with one summary object: games, updates, invalid_rate (null with\n"
                 "--explore all), invalid_final (the final policy's answers, sampled);\n"
                 "per game (top level for one game, under per_game for a mix) vs_random\n"
                 "and vs_<nash|minimax|greedy> (win, draw, loss, invalid, mean_return,\n"
                 "seat0, seat1), offswitch agreement, regret, fixed_regret, best_fixed,\n"
                 "beats_fixed; with kuhn: exploitability, avg_exploitability, policy,\n"
                 "avg_policy, policy_extraction (teacher-forced | sampled),\n"
                 "policy_samples, policy_invalid; think_tokens, mean_response_tokens"},
        {0},
    };
    int n = 0;
    while (e[n].type != CLI_OPT_END) t[n] = e[n], n++;
    return n;
}

// The transformer form's table into t[MODEL_OPTS], ended by {0}.
static void model_table(sp_args *a, cli_opt *t) {
    int n = model_table_run(a, t);
    n += model_table_rl(a, t + n);
    n += model_table_eval(a, t + n);
    t[n] = (cli_opt){0};
}

// What the options say together, before anything opens.
static int check_model_args(const sp_args *a) {
    if (a->policy && strcmp(a->policy, "model"))
        return cli_usage_error("selfplay", "--policy '%s': model or tabular", a->policy);
    if (a->resume && a->init)
        return cli_usage_error("selfplay", "--resume and --init exclude each other");
    if ((a->chat || a->lora_rank > 0) && !a->init)
        return cli_usage_error("selfplay", "%s: for a pretrained model given with --init DIR%s",
                               a->chat ? "--chat" : "--lora-rank",
                               a->resume ? " (a resumed run keeps its own)" : "");
    if (a->lora_rank > 0 && a->o.pg.kl_coef > 0)
        return cli_usage_error("selfplay",
                               "--kl-coef with --lora-rank: the KL reference would be a second "
                               "copy of the base model, which is not supported (use full "
                               "fine-tuning)");
    return CLI_OK;
}

int sp_parse(int argc, char **argv, sp_args *a) {
    cli_opt table[MODEL_OPTS];
    model_table(a, table);
    int rc = cli_parse(&MODEL_CMD, table, argc, argv);
    if (rc != CLI_OK) return rc;
    a->warmup_given = a->warmup_steps >= 0;
    return check_model_args(a);
}

// ---- the tabular form ---------------------------------------------------------------------

#define TABULAR_OPTS 24

int sp_parse_tabular(int argc, char **argv, sp_tab_args *t) {
    memset(t, 0, sizeof *t);
    vkt_rl_tabular_defaults(&t->o);
    t->game = "kuhn";
    t->games = 150000, t->eval_every = 8192;
    vkt_rl_tabular_opts *o = &t->o;
    const char *TRAIN = "Tabular self-play:", *DATA = "Warm-up data:";
    const cli_opt e[] = {
        {"--policy", CLI_OPT_STR, &t->policy, .metavar = "tabular", .group = TRAIN, .def = "",
         .help = "this form (`--warmup-data` needs no --policy)"},
        {"--games", CLI_OPT_LONG, &t->games, 1, 1000000000L, "N",
         .help = "games to play (with --warmup-data: games to write)"},
        {"--games-per-update", CLI_OPT_INT, &o->games_per_update, 1, 1 << 20, "N",
         .help = "games per update, both seats"},
        {"--advantage", CLI_OPT_CUSTOM, &o->adv, .metavar = "M", .parse = parse_adv, .def = "rae",
         .help = "rae | group | none (see docs/selfplay.md)"},
        {"--no-rae", CLI_OPT_CUSTOM, &o->adv, .parse = parse_no_rae, .nargs = -1,
         .help = "same as --advantage none"},
        {"--loss", CLI_OPT_CUSTOM, &o->pg.kind, .metavar = "L", .parse = parse_loss, .def = "ppo",
         .help = "ppo (clip --clip) | reinforce"},
        {"--clip", CLI_OPT_DOUBLE, &o->pg.clip_eps, 1e-6, 0.999, "E", .help = "PPO clip epsilon"},
        {"--ppo-epochs", CLI_OPT_INT, &o->ppo_epochs, 1, 1000, "N",
         .help = "full-batch steps per update"},
        {"--norm", CLI_OPT_CUSTOM, &o->pg.norm, .metavar = "N", .parse = parse_norm,
         .def = "seq-sum-maxlen",
         .help = "seq-sum-maxlen | token-mean (equal for one-token answers)"},
        {"--lr", CLI_OPT_DOUBLE, &o->lr, 1e-12, 1e3, "X",
         .help = "Adam learning rate on the logits (betas 0.9, 0.95)"},
        {"--entropy-coef", CLI_OPT_DOUBLE, &o->entropy_coef, 0, 1e3, "X",
         .help = "exact entropy bonus"},
        {"--eval-every", CLI_OPT_LONG, &t->eval_every, 1, 1000000000L, "N",
         .help = "games between evaluations"},
        {"--metrics", CLI_OPT_STR, &t->metrics, .metavar = "FILE",
         .help = "append one JSON object per evaluation"},
        {"--seed", CLI_OPT_U64, &o->seed, .metavar = "S", .help = "seed"},
        {"--json", CLI_OPT_FLAG, &t->json,
         .help = "end with one summary object: games, updates, invalid_rate,\n"
                 "exploitability, avg_exploitability, avg_reach_exploitability, policy,\n"
                 "avg_policy"},
        {"--warmup-data", CLI_OPT_STR, &t->warmup, .metavar = "FILE", .group = DATA,
         .help = "instead of training: write the imitation warm-up data, one JSON line\n"
                 "{\"prompt\", \"completion\"} per decision of --games games of uniformly\n"
                 "random legal play of --game, in the compact role-conditioned prompt\n"
                 "format; `vkt train --format jsonl` reads it"},
        {"--game", CLI_OPT_STR, &t->game, .metavar = "SPEC",
         .help = "with --warmup-data: the game"},
        {"--think-tokens", CLI_OPT_LONG, &t->think, 0, VKT_RL_THINK_MAX, "N",
         .help = "with --warmup-data: the thinking format (prompts ask for up to N\n"
                 "tokens of thinking, completions \\boxed{Move}; 0: [Move])"},
        {0},
    };
    // Every option of both forms: one of the transformer's only is "not an option here".
    sp_args dummy;
    sp_args_defaults(&dummy);
    cli_opt all[TABULAR_OPTS + MODEL_OPTS];
    int n = 0;
    while (e[n].type != CLI_OPT_END) all[n] = e[n], n++;
    model_table(&dummy, all + n);
    return cli_parse_form(&TABULAR_CMD, e, all, argc, argv);
}
