// cmd_steer_efficiency.h: the options of `vkt steer efficiency` (cmd_steer_efficiency_opts.c),
// shared with the experiment's run (cmd_steer_efficiency_run.c).
#ifndef VKT_CMD_STEER_EFFICIENCY_H
#define VKT_CMD_STEER_EFFICIENCY_H

#include <stdbool.h>
#include <stdint.h>

#include "cli_model.h"
#include "effsteer_tok.h"
#include "generate.h"

#define EFF_CMD "steer efficiency"
#define EFF_MAX_STRENGTHS 16
#define EFF_MAX_SEEDS 8
// The task model's recipe (docs/efficiency_steering.md, step 1): a 4 x 64 GPT-2 (233k
// parameters) on 200k examples for 3000 steps (why 3000: docs/experiments/efficiency_steering.md).
#define EFF_TRAIN_EXAMPLES 200000
#define EFF_TRAIN_STEPS 3000

enum { EFF_N_KINDS = 4 };
extern const char *const eff_kind_names[EFF_N_KINDS]; // trace, pc1, last, decision

typedef enum { EFF_CHAT_OFF = 0, EFF_CHAT_ON, EFF_CHAT_AUTO } eff_chat;

typedef struct eff_opts {
    const char *out, *ckpt, *layers;
    const char *adapter, *weights; // --adapter DIR, --weights W (cli_model.h)
    eff_chat chat;                 // --chat on|off|auto (default off)
    const char *system, *thinking; // --system TEXT, --thinking on|off (with the chat template)
    double strengths[EFF_MAX_STRENGTHS];
    int n_strengths;
    unsigned kinds; // bit k: eff_kind_names[k] is swept
    long prompts, check_problems, dir_problems, seeds, device, max_new;
    double max_drop, temperature;
    uint64_t seed;
    int precision; // --precision: the arithmetic of training the task model (VKT_PREC_*)
    bool plot, json, kinds_given;
} eff_opts;

void eff_opts_defaults(eff_opts *o);
// CLI_OK, CLI_USAGE (said on stderr), or -1 after --help printed the usage.
int eff_opts_parse(int argc, char **argv, eff_opts *o);

// The experiment's model (cmd_steer_efficiency_model.c): the checkpoint and --adapter opened
// with a memory report, its tokenizer, how the task's text is encoded for it, and the
// generation plan (created here, its bytes and the capture plan's reported beforehand).
typedef struct eff_model {
    cli_model cm;
    vkt_tok *tok;    // the checkpoint's tokenizer (the byte tokenizer for vkt's own models)
    vkt_eff_enc enc; // enc.tok NULL: byte-level ids, exactly as the experiment always fed them
    vkt_gen *g;
    int max_len;    // the plan's positions: the longest prompt + --max-new-tokens
    unsigned kinds; // o->kinds, less decision when the tokenizer leaves no decision row
} eff_model;

// CLI_OK, or the error printed (CLI_USAGE / CLI_FAILED) with nothing left open.
int eff_model_open(vkt_ctx *ctx, const eff_opts *o, const char *ckpt, int gen_batch,
                   eff_model *out);
void eff_model_close(eff_model *em);

// Step 1 (cmd_steer_efficiency_train.c): writes OUT/data/train.jsonl and trains OUT/model, or
// resumes or reuses it; *ckpt gets its path (freed by the caller).
int eff_train_model(vkt_ctx *ctx, const eff_opts *o, char **ckpt);

#endif
