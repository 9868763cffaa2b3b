// vkt train: train a preset (or continue a checkpoint) on a text or JSONL file.
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_opt.h"
#include "checkpoint_dir.h"
#include "cli_device.h"
#include "cli_memory.h"
#include "cli_out_dir.h"
#include "commands.h"
#include "lora.h"
#include "train.h"

static const cli_cmd CMD = {
    .name = "train",
    .usage =
        "usage: vkt train --data FILE --out DIR [--preset NAME] [--tokenizer DIR] [--steps N] "
        "[options]\n"
        "       vkt train --ckpt MODEL --data FILE --out DIR [--lora-rank R [--merge]] [options]\n"
        "       vkt train --out DIR --resume [--steps N] [--lr LR] [--data FILE --allow-change]\n",
    .about =
        "Trains a decoder-only transformer on FILE and writes a Hugging Face checkpoint to DIR\n"
        "(config.json, model.safetensors, tokenizer files) and one JSON object per step to\n"
        "DIR/metrics.jsonl. Each save is a complete checkpoint in DIR/ckpt-<step>/ (with the "
        "optimizer,\n"
        "trainer_state.json and checkpoint.json, a manifest of sizes and hashes) published by one "
        "rename;\n"
        "the files at the top of DIR link to the newest. --resume continues from the newest "
        "checkpoint\n"
        "that matches its manifest, with the saved hyperparameters and data order (same weights as "
        "an\n"
        "uninterrupted run), after cutting metrics.jsonl back to its step.\n",
    .epilog =
        "Signals: SIGINT (Ctrl-C) or SIGTERM saves a checkpoint after the current step and stops; "
        "a\n"
        "second one waits for that save; a third quits at once (the previous complete checkpoint "
        "stays).\n"
        "Exit codes: 0 trained to --steps; 1 the run failed, or was stopped by a signal after "
        "saving\n"
        "(the message says which); 2 bad usage, nothing trained; 128+N killed by a third signal N\n"
        "(130 SIGINT, 143 SIGTERM).\n",
};

// What the command line says, beyond the trainer's own options.
typedef struct train_args {
    vkt_train_opts o;
    const char *preset;
    int layers, width, heads, ffn, device;
    bool json, overwrite, preset_given, steps_given, devmem_given;
} train_args;

static int parse_format(const cli_opt *opt, const char *cmd, const char *const *v) {
    vkt_error err = {0};
    if (vkt_data_format_parse(v[0], opt->dest, &err) != VKT_OK)
        return cli_usage_error(cmd, "--format: %s", err.msg);
    return CLI_OK;
}

static int parse_targets(const cli_opt *opt, const char *cmd, const char *const *v) {
    vkt_error err = {0};
    if (vkt_lora_targets_parse(v[0], opt->dest, &err) != VKT_OK)
        return cli_usage_error(cmd, "--lora-targets: %s", err.msg);
    return CLI_OK;
}

_Static_assert(VKT_PREC_FP32 == 0 && VKT_PREC_BF16 == 1 && VKT_PREC_FP16 == 2,
               "--precision's choices");

// The options, their destinations in *a (defaults: vkt_train_defaults).
static int parse_args(int argc, char **argv, train_args *a) {
    vkt_train_opts *o = &a->o;
    unsigned *g = &o->given;
    const char *RUN = "Data and run directory:", *PRE = "Pretrained model and LoRA:",
               *MOD = "Model:", *OPT = "Optimization:", *RES = "Resume:",
               *OUT = "Device and output:";
    const cli_opt table[] = {
        {"--data", CLI_OPT_STR, &o->data, .metavar = "FILE", .group = RUN,
         .help = "training text or JSONL, tokenized by the model's tokenizer\n"
                 "(--resume: default the checkpoint's; other content is refused)"},
        {"--format", CLI_OPT_CUSTOM, &o->format, .metavar = "text|jsonl", .parse = parse_format,
         .bits = g, .bit = VKT_TRAIN_GIVEN_FORMAT,
         .def = "jsonl for a FILE named *.jsonl, else text",
         .help =
             "jsonl lines are {\"prompt\": ..., \"completion\": ...}: loss on completions only"},
        {"--out", CLI_OPT_STR, &o->out, .metavar = "DIR",
         .help = "run directory (created); one that holds a checkpoint needs\n"
                 "--resume or --overwrite; a self-play run directory is refused;\n"
                 "DIR/.lock keeps a second run off DIR while this one runs"},
        {"--overwrite", CLI_OPT_FLAG, &a->overwrite,
         .help = "replace the checkpoints in DIR with a new run"},
        {"--keep-last", CLI_OPT_INT, &o->keep_last, 1, 1000000, "N",
         .help = "complete checkpoints kept in DIR; --resume falls back\nto the newest intact one"},
        {"--skip-nonfinite", CLI_OPT_INT, &o->skip_nonfinite, 0, 1000000, "N",
         .help = "skip up to N steps whose loss is not finite (no update); 0:\n"
                 "the first one fails the run (exit 1), nothing saved after it"},
        {"--ckpt", CLI_OPT_STR, &o->init, .metavar = "MODEL", .group = PRE,
         .help = "start from a pretrained checkpoint (a Hugging Face directory: Llama,\n"
                 "Mistral, Qwen2/3, GPT-2; docs/pretrained.md): its config, tokenizer\n"
                 "and weights, all trained (fp32) unless --lora-rank"},
        {"--lora-rank", CLI_OPT_INT, &o->lora_rank, 1, 4096, "R", .def = "",
         .help = "with --ckpt: train LoRA adapters of rank R on the frozen base (kept\n"
                 "16-bit when the checkpoint is); checkpoints hold the adapter in PEFT's\n"
                 "format (adapter_config.json, adapter_model.safetensors): load it with\n"
                 "--adapter DIR, or peft's PeftModel.from_pretrained"},
        {"--lora-alpha", CLI_OPT_FLOAT, &o->lora_alpha, 1e-6, 1e6, "A",
         .help = "scale alpha/R (as PEFT)"},
        {"--lora-targets", CLI_OPT_CUSTOM, &o->lora_targets, .metavar = "LIST",
         .parse = parse_targets, .def = "all-linear",
         .help = "modules to adapt (all-linear: q_proj,k_proj,v_proj,o_proj,\n"
                 "gate_proj,up_proj,down_proj)"},
        {"--lora-dropout", CLI_OPT_FLOAT, &o->lora_dropout, 0, 0.99, "P",
         .help = "dropout on the adapters' input"},
        {"--adapter", CLI_OPT_STR, &o->adapter, .metavar = "DIR",
         .help = "with --ckpt: continue training this PEFT adapter (its rank, alpha and\n"
                 "targets; AdamW starts afresh) instead of new ones"},
        {"--merge", CLI_OPT_FLAG, &o->merge,
         .help = "with --lora-rank: at the end also write DIR/merged, the base with the\n"
                 "adapters merged (fp32 safetensors, config and tokenizer)"},
        {"--device-memory", CLI_OPT_SIZE, &o->device_memory, .metavar = "SIZE",
         .given = &a->devmem_given, .def = "VKT_DEVICE_MEMORY, if set",
         .help = "with --ckpt: refuse a run that needs more device memory than SIZE\n"
                 "(4G, 3.5GiB, 512M; binary units) instead of the device's heap, and say\n"
                 "which --batch/--accum would fit. Activations scale with --batch x --seq:\n"
                 "a smaller --batch with a larger --accum trains the same step in less\n"
                 "memory (docs/pretrained.md)"},
        {"--preset", CLI_OPT_STR, &a->preset, .metavar = "NAME", .given = &a->preset_given,
         .group = MOD, .help = "gpt2-tiny, llama-tiny, gpt2-124M"},
        {"--tokenizer", CLI_OPT_STR, &o->tokenizer, .metavar = "DIR",
         .def = "bytes, every byte a token",
         .help = "tokenize with DIR/tokenizer.json; the model's vocabulary is its size\n"
                 "rounded up to 8, and it is copied with tokenizer_config.json,\n"
                 "special_tokens_map.json and generation_config.json into DIR\n"
                 "(--resume uses the checkpoint's)"},
        {"--layers", CLI_OPT_INT, &a->layers, 1, 256, "L", .def = "the preset's",
         .help = "override the preset's shape: blocks"},
        {"--width", CLI_OPT_INT, &a->width, 8, 16384, "C", .def = "the preset's",
         .help = "residual width; sets the FFN to 4C for gpt2, 8C/3 rounded to 32\nfor llama, "
                 "unless --ffn"},
        {"--heads", CLI_OPT_INT, &a->heads, 1, 256, "H", .def = "the preset's",
         .help = "attention heads"},
        {"--ffn", CLI_OPT_INT, &a->ffn, 8, 65536, "F", .def = "the preset's", .help = "FFN width"},
        {"--precision", CLI_OPT_CHOICE, &o->precision, .choices = "fp32|bf16|fp16",
         .help = "arithmetic of training: bf16/fp16 matmuls on 16-bit operands with fp32\n"
                 "accumulation and fp32 master weights; fp16 scales the loss"},
        {"--steps", CLI_OPT_INT, &o->steps, 1, 100000000, "N", .given = &a->steps_given,
         .group = OPT,
         .help = "total optimizer steps; with --resume, the saved total unless given"},
        {"--batch", CLI_OPT_INT, &o->batch, 1, 65536, "B", .bits = g, .bit = VKT_TRAIN_GIVEN_BATCH,
         .help = "rows per micro-batch"},
        {"--seq", CLI_OPT_INT, &o->seq, 1, 1 << 20, "T", .bits = g, .bit = VKT_TRAIN_GIVEN_SEQ,
         .help = "tokens per row (at most the context)"},
        {"--accum", CLI_OPT_INT, &o->accum, 1, 65536, "K", .bits = g, .bit = VKT_TRAIN_GIVEN_ACCUM,
         .help = "micro-batches per step (gradient accumulation)"},
        {"--lr", CLI_OPT_DOUBLE, &o->lr, 0, 10, "LR", .bits = g, .bit = VKT_TRAIN_GIVEN_LR,
         .help = "peak learning rate, warmup then cosine to --min-lr"},
        {"--min-lr", CLI_OPT_DOUBLE, &o->min_lr, 0, 10, "LR", .bits = g,
         .bit = VKT_TRAIN_GIVEN_MIN_LR, .def = "lr/10", .help = "final learning rate"},
        {"--warmup", CLI_OPT_INT, &o->warmup, 0, 100000000, "W", .bits = g,
         .bit = VKT_TRAIN_GIVEN_WARMUP, .help = "warmup steps"},
        {"--weight-decay", CLI_OPT_DOUBLE, &o->weight_decay, 0, 10, "WD", .bits = g,
         .bit = VKT_TRAIN_GIVEN_WEIGHT_DECAY, .help = "AdamW decoupled weight decay on matrices"},
        {"--clip", CLI_OPT_DOUBLE, &o->max_grad_norm, 0, 1e9, "C", .bits = g,
         .bit = VKT_TRAIN_GIVEN_CLIP, .help = "global gradient-norm clipping (0 disables)"},
        {"--val-fraction", CLI_OPT_DOUBLE, &o->val_fraction, 0, 0.9, "F", .bits = g,
         .bit = VKT_TRAIN_GIVEN_VAL_FRACTION, .help = "last fraction of the data held out"},
        {"--eval-every", CLI_OPT_INT, &o->eval_every, 0, 100000000, "N",
         .help = "validation loss every N steps"},
        {"--save-every", CLI_OPT_INT, &o->save_every, 0, 100000000, "N",
         .def = "at the end and on Ctrl-C", .help = "checkpoint every N steps"},
        {"--seed", CLI_OPT_U64, &o->seed, .metavar = "S", .bits = g, .bit = VKT_TRAIN_GIVEN_SEED,
         .help = "seed for initialisation and data order"},
        {"--resume", CLI_OPT_FLAG, &o->resume, .group = RES,
         .help = "continue the run in DIR. A flag given with it that differs from the\n"
                 "checkpoint is honoured and recorded (trainer_state.json \"changes\"):\n"
                 "--steps --lr --min-lr --warmup --weight-decay --clip; or refused:\n"
                 "--batch --seq --accum --seed --format --val-fraction and other\n"
                 "--data content, unless --allow-change (then honoured, recorded;\n"
                 "a new --seed restarts the data order); --preset and the shape flags\n"
                 "are always refused"},
        {"--allow-change", CLI_OPT_FLAG, &o->allow_change,
         .help = "let --resume change the flags above it refuses"},
        {"--json", CLI_OPT_FLAG, &a->json, .group = OUT,
         .help = "print a JSON summary at the end (with peak_device_bytes)"},
        CLI_OPT_DEVICE(&a->device),
        {0},
    };
    return cli_parse(&CMD, table, argc, argv);
}

typedef struct {
    bool tty, json;
    int every;
} prog;

static void on_notice(void *user, const char *msg) {
    (void)user;
    fprintf(stderr, "vkt train: note: %s\n", msg);
    fflush(stderr);
}

static void on_progress(void *user, const vkt_train_progress *p) {
    prog *g = user;
    char eta[32], val[32] = "";
    cli_fmt_secs(p->eta_s, eta, sizeof eta);
    if (!isnan(p->val_loss)) snprintf(val, sizeof val, " | val %.4f", p->val_loss);
    if (g->tty) {
        fprintf(stderr, "\rstep %d/%d | loss %.4f%s | lr %.2e | %.0f tok/s | ETA %s   ", p->step,
                p->steps, p->loss, val, p->lr, p->tokens_per_s, eta);
        if (p->step == p->steps) fputc('\n', stderr);
    } else if (p->evaluated || p->step == 1 || p->step % g->every == 0 || p->step == p->steps) {
        fprintf(stderr, "step %d/%d | loss %.4f%s | lr %.2e | %.0f tok/s | ETA %s\n", p->step,
                p->steps, p->loss, val, p->lr, p->tokens_per_s, eta);
    }
    fflush(stderr);
}

// The flags' combinations, the run directory and the model's shape: CLI_OK or the usage
// error printed (nothing opened yet).
static int check_args(train_args *a) {
    vkt_train_opts *o = &a->o;
    vkt_error err = {0};
    if (!a->steps_given) o->steps = 0; // unset: 1000 for a new run, the saved total with --resume
    if (!o->data && !o->resume) return cli_usage_error("train", "--data FILE is required");
    size_t dl = o->data ? strlen(o->data) : 0;
    if (!o->resume && !(o->given & VKT_TRAIN_GIVEN_FORMAT) && dl > 6 &&
        !strcmp(o->data + dl - 6, ".jsonl")) {
        // Raw-text training on a JSONL file is never what was meant.
        o->format = VKT_DATA_JSONL;
        fprintf(
            stderr,
            "vkt train: note: %s read as prompt/completion JSONL (--format text to train on its "
            "raw text)\n",
            o->data);
    }
    if (!o->out) return cli_usage_error("train", "--out DIR is required");
    if (a->devmem_given && !o->init)
        return cli_usage_error("train", "--device-memory: the fit check is for --ckpt runs");
    if (!a->devmem_given && cli_device_memory("train", NULL, &o->device_memory) != CLI_OK)
        return CLI_USAGE;
    if (o->resume && a->overwrite)
        return cli_usage_error("train", "--resume and --overwrite exclude each other");
    if (o->resume && a->preset_given)
        return cli_usage_error("train", "--preset: the model of a resumed run is the checkpoint's");
    int rc = cli_check_out_dir("train", o->out, VKT_RUNDIR_TRAIN, o->resume, a->overwrite);
    if (rc != CLI_OK) return rc;
    const bool shaped = a->layers || a->width || a->heads || a->ffn;
    if (o->init && o->resume)
        return cli_usage_error("train", "--ckpt: a resumed run continues from its own checkpoint");
    if (o->init && (a->preset_given || o->tokenizer || shaped))
        return cli_usage_error("train",
                               "--ckpt: the model, its shape and tokenizer are the checkpoint's "
                               "(--preset, --tokenizer and the shape flags do not apply)");
    if (!o->init && (o->lora_rank || o->merge))
        return cli_usage_error(
            "train", "--lora-rank/--merge: LoRA adapts a pretrained model: give --ckpt MODEL");
    if (o->adapter && !o->init)
        return cli_usage_error("train", "--adapter: give the base model with --ckpt MODEL");
    if (o->adapter && o->lora_rank)
        return cli_usage_error(
            "train", "--adapter and --lora-rank: the adapter has its own rank, alpha and targets");
    if (o->merge && !o->lora_rank && !o->adapter)
        return cli_usage_error("train", "--merge needs --lora-rank or --adapter");
    if (!o->resume && vkt_model_preset(a->preset, &o->cfg, &err) != VKT_OK)
        return cli_usage_error("train", "--preset: %s", err.msg);
    if (o->resume && shaped)
        return cli_usage_error(
            "train",
            "--layers/--width/--heads/--ffn: the shape of a resumed run is the checkpoint's");
    if (o->resume && o->tokenizer)
        return cli_usage_error("train",
                               "--tokenizer: a resumed run uses the checkpoint's tokenizer");
    if (!o->resume && !o->init) {
        vkt_model_config_reshape(&o->cfg, a->layers, a->width, a->heads, a->ffn);
        if (vkt_model_config_check(&o->cfg, &err) != VKT_OK)
            return cli_usage_error("train", "%s", err.msg);
    }
    return CLI_OK;
}

// The JSON summary or the closing line; the exit code of the run. msg: the failure's message.
static int report(const train_args *a, vkt_status s, const char *msg, const vkt_train_result *r,
                  uint64_t peak) {
    if (a->json) {
        // val_loss is null when no validation ran (it printed "null0.000000" before)
        char val[64] = "null";
        if (!isnan(r->final_val_loss)) snprintf(val, sizeof val, "%.6f", r->final_val_loss);
        // 16-bit runs add their precision and (fp16) the steps skipped for overflowing gradients
        char prec[96] = "";
        if (a->o.precision != VKT_PREC_FP32)
            snprintf(prec, sizeof prec, ", \"precision\": \"%s\", \"skipped_overflow\": %d",
                     vkt_precision_name(a->o.precision), r->skipped_overflow);
        printf("{\"steps\": %d, \"loss\": %.6f, \"val_loss\": %s, \"interrupted\": %s, "
               "\"skipped_nonfinite\": %d, "
               "\"peak_device_bytes\": %llu, \"out\": \"%s\"%s}\n",
               r->steps_done, r->final_loss, val, r->interrupted ? "true" : "false",
               r->skipped_nonfinite, (unsigned long long)peak, a->o.out, prec);
    }
    if (r->steps_done > 0)
        fprintf(stderr, "vkt train: peak device memory %.2f GiB\n", (double)peak / (1ull << 30));
    if (s != VKT_OK) {
        fprintf(stderr, "vkt train: %s\n", msg);
        return s == VKT_ERR_ARG ? CLI_USAGE : CLI_FAILED;
    }
    if (!a->json)
        fprintf(stderr, "vkt train: %d steps%s, loss %.4f, checkpoint in %s\n", r->steps_done,
                r->skipped_nonfinite ? " (steps with a non-finite loss skipped: see above)" : "",
                r->final_loss, a->o.out);
    return CLI_OK;
}

int cmd_train(int argc, char **argv) {
    train_args a = {.preset = "gpt2-tiny", .device = -1};
    vkt_train_defaults(&a.o);
    int rc = parse_args(argc, argv, &a);
    if (rc == CLI_OK) rc = check_args(&a);
    if (rc != CLI_OK) return rc == CLI_HELP ? CLI_OK : rc;
    vkt_train_opts *o = &a.o;
    vkt_error err = {0};
    int lock = -1; // held to the end: no second run writes DIR meanwhile
    if (vkt_run_lock(o->out, &lock, &err) != VKT_OK) return cli_fail("train", "%s", err.msg);
    vkt_ctx *ctx;
    rc = cli_open_device("train", a.device, &ctx);
    if (rc != CLI_OK) {
        vkt_run_unlock(lock);
        return rc;
    }
    prog g = {cli_stderr_is_tty(), a.json, 10};
    o->progress = on_progress;
    o->notice = on_notice;
    o->user = &g;
    o->stop = cli_catch_sigint();
    vkt_train_result r;
    // The handlers stay to the end: a late signal must not kill a run that saved and is exiting.
    vkt_status s = vkt_train_run(ctx, o, &r);
    rc = report(&a, s, vkt_ctx_message(ctx), &r, vkt_ctx_bytes_peak(ctx));
    vkt_ctx_destroy(ctx);
    vkt_run_unlock(lock);
    return rc;
}
