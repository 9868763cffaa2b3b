// cmd_selfplay.h: the parts of `vkt selfplay`, one job a file: the command line
// (cmd_selfplay_parse.c), run_options.json (cmd_selfplay_options.c), opening a run: the
// directory, the device, the model and the warm-up (cmd_selfplay_open.c), the updates with
// their evaluations and checkpoints (cmd_selfplay_loop.c), the summary (cmd_selfplay_report.c);
// the tabular control and the warm-up data writer (cmd_selfplay_tabular.c).
#ifndef VKT_CMD_SELFPLAY_H
#define VKT_CMD_SELFPLAY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli_selfplay_eval.h"
#include "rl_selfplay.h"
#include "rl_tabular.h"

// A new model's context: every game's compact prompt + answer fits (negotiation: 89 + 32).
enum { SP_NEW_MODEL_CONTEXT = 128 };
// Self-play games sampled for the invalid-move rate around the warm-up, and at the end.
enum { SP_INV_GAMES = 64, SP_INV_FINAL_GAMES = 256 };

// What the transformer form's command line says (defaults: sp_args_defaults).
typedef struct sp_args {
    vkt_rl_sp_opts o;
    const char *out, *init, *preset, *metrics, *policy;
    bool chat, resume, overwrite, json, plot;
    bool games_given, precision_given;
    bool warmup_given; // --warmup-steps (a model from --init is warmed up only then)
    long lora_rank;
    double lora_alpha;
    long layers, width, heads;
    long warmup_steps, warmup_rows;
    double warmup_lr;
    long games, eval_every, eval_games, eval_episodes, save_every, keep_last;
    double defer_bin;
    int device;
    int precision; // VKT_PREC_*
} sp_args;

// One transformer run: its options and what it opened, learned and measured.
typedef struct sp_run {
    sp_args a;
    const char *tok_dir; // the tokenizer files saved with each checkpoint (NULL: none)
    json_t *lora_base;   // a LoRA run: its base's identity, saved with each checkpoint
    vkt_tok *run_tok;    // a resumed run's tokenizer
    char base[4200];     // a resumed LoRA run's base
    char src[4096];      // the checkpoint a resumed run reads
    int lock;            // DIR/.lock, held to the end
    vkt_ctx *ctx;
    vkt_model *m;
    vkt_rl_sp s;
    cli_sp_eval ev;
    FILE *mf;      // the metrics JSONL
    json_t *extra; // run_options.json's fields beyond the options
    uint64_t eval_seed;
    bool tty;     // progress on stderr
    int reported; // a failure already printed: the exit code it asks for (0: none)
    double inv_before, inv_after, warm_loss, expl0, inv_final;
    bool kuhn, kuhn_only, sampled; // one-hand Kuhn in the mix, alone; its policy sampled
    vkt_kuhn_policy latest, avg;
    double pol_inv[VKT_KUHN_INFOSTATES];
    double e_latest, e_avg;
    bool interrupted;
    int64_t games0;                    // s.games when this invocation started
    int64_t run_tokens, run_decisions; // the run's RL responses (saved in run_options.json)
    double t_start, eval_s;
} sp_run;

// cmd_selfplay_parse.c. Both return CLI_OK, CLI_USAGE after printing, or CLI_HELP after
// printing the form's help.
void sp_args_defaults(sp_args *a);
int sp_parse(int argc, char **argv, sp_args *a);

typedef struct sp_tab_args {
    vkt_rl_tabular_opts o;
    const char *policy, *metrics, *warmup, *game;
    long games, eval_every, think;
    bool json;
} sp_tab_args;
int sp_parse_tabular(int argc, char **argv, sp_tab_args *t);

// cmd_selfplay_options.c: run_options.json, what --resume reads back. sp_save reports into
// r->ctx.
vkt_status sp_options_read(sp_run *r, vkt_error *err);
vkt_status sp_save(sp_run *r);
// "dir/file" in one of 4 static buffers (k).
const char *sp_in_dir(int k, const char *dir, const char *file);

// cmd_selfplay_open.c: the checks before a device opens (CLI code, printed), then the run
// directory, device, model, precision, plans, warm-up, resumed state and metrics file. A
// failure of sp_open is either printed (r->reported) or in vkt_ctx_message(r->ctx).
int sp_check(sp_run *r, vkt_error *err);
vkt_status sp_open(sp_run *r);
void sp_close(sp_run *r);

// cmd_selfplay_loop.c: updates until --games, Ctrl-C or a failure; evaluations, metrics,
// checkpoints, the final save, the off-switch files and the final invalid-move rate. Reports
// into r->ctx.
vkt_status sp_loop(sp_run *r);

// cmd_selfplay_report.c
json_t *sp_policy_json(const vkt_kuhn_policy *pi);
double sp_mean12(const double *x);
void sp_print_header(const sp_run *r);
void sp_report_json(const sp_run *r);
void sp_report_text(const sp_run *r);

// cmd_selfplay_tabular.c: `--policy tabular` and `--warmup-data`.
int sp_run_tabular(int argc, char **argv);

#endif
