// vkt train: train a preset (or continue a checkpoint) on a text or JSONL file.
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_device.h"
#include "commands.h"
#include "train.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: vkt train --data FILE --out DIR [--preset NAME] [--tokenizer DIR] [--steps N] [options]\n"
            "       vkt train --data FILE --out DIR --resume [--steps N]\n\n"
            "Trains a decoder-only transformer on FILE and writes a Hugging Face checkpoint to DIR\n"
            "(config.json, model.safetensors, optimizer.safetensors, trainer_state.json) and one JSON\n"
            "object per step to DIR/metrics.jsonl. Ctrl-C saves a checkpoint and stops; --resume continues\n"
            "from DIR with the saved hyperparameters and data order (same weights as an uninterrupted run).\n\n"
            "  --data FILE          training text or JSONL, tokenized by the model's tokenizer\n"
            "  --format text|jsonl  jsonl lines are {\"prompt\": ..., \"completion\": ...}: loss on completions only\n"
            "  --out DIR            checkpoint directory (created)\n"
            "  --preset NAME        gpt2-tiny (default), llama-tiny, gpt2-124M\n"
            "  --tokenizer DIR      tokenize with DIR/tokenizer.json (default: bytes, every byte a token);\n"
            "                       the model's vocabulary is its size rounded up to 8, and it is copied\n"
            "                       with tokenizer_config.json, special_tokens_map.json and\n"
            "                       generation_config.json into DIR (--resume uses the checkpoint's)\n"
            "  --layers L --width C --heads H --ffn F   override the preset's shape (--width sets\n"
            "                       the FFN to 4C for gpt2, 8C/3 rounded to 32 for llama, unless --ffn)\n"
            "  --steps N            total optimizer steps (default 1000; with --resume, the saved total)\n"
            "  --batch B            rows per micro-batch (default 8)\n"
            "  --seq T              tokens per row (default 128, at most the context)\n"
            "  --accum K            micro-batches per step (gradient accumulation, default 1)\n"
            "  --lr LR              peak learning rate (default 1e-3), warmup then cosine to --min-lr\n"
            "  --min-lr LR          final learning rate (default lr/10)\n"
            "  --warmup W           warmup steps (default 100)\n"
            "  --weight-decay WD    AdamW decoupled weight decay on matrices (default 0.1)\n"
            "  --clip C             global gradient-norm clipping (default 1.0; 0 disables)\n"
            "  --val-fraction F     last fraction of the data held out (default 0.1)\n"
            "  --eval-every N       validation loss every N steps (default 100)\n"
            "  --save-every N       checkpoint every N steps (default: at the end and on Ctrl-C)\n"
            "  --seed S             seed for initialisation and data order (default 1)\n"
            "  --resume             continue the run in DIR\n"
            "  --device N           Vulkan device (see vkt devices)\n"
            "  --json               print a JSON summary at the end\n");
}

typedef struct {
    bool tty, json;
    int every;
} prog;

static void fmt_time(double s, char *out, size_t n) {
    if (!isfinite(s) || s < 0) snprintf(out, n, "?");
    else if (s < 60) snprintf(out, n, "%.0fs", s);
    else if (s < 3600) snprintf(out, n, "%dm%02ds", (int)s / 60, (int)s % 60);
    else snprintf(out, n, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

static void on_progress(void *user, const vkt_train_progress *p) {
    prog *g = user;
    char eta[32], val[32] = "";
    fmt_time(p->eta_s, eta, sizeof eta);
    if (!isnan(p->val_loss)) snprintf(val, sizeof val, " | val %.4f", p->val_loss);
    if (g->tty) {
        fprintf(stderr, "\rstep %d/%d | loss %.4f%s | lr %.2e | %.0f tok/s | ETA %s   ", p->step, p->steps, p->loss, val,
                p->lr, p->tokens_per_s, eta);
        if (p->step == p->steps) fputc('\n', stderr);
    } else if (p->evaluated || p->step == 1 || p->step % g->every == 0 || p->step == p->steps) {
        fprintf(stderr, "step %d/%d | loss %.4f%s | lr %.2e | %.0f tok/s | ETA %s\n", p->step, p->steps, p->loss, val,
                p->lr, p->tokens_per_s, eta);
    }
    fflush(stderr);
}

int cmd_train(int argc, char **argv) {
    vkt_train_opts o;
    vkt_train_defaults(&o);
    o.steps = 0; // unset: 1000 for a new run, the saved total with --resume
    const char *preset = "gpt2-tiny";
    long device = -1, layers = 0, width = 0, heads = 0, ffn = 0;
    bool json = false;
    vkt_error err = {0};
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int mm;
        long iv;
        double dv;
#define VAL(name) ((mm = cli_value(argc, argv, &i, name, &v)) != 0)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(argv[i], "--resume")) o.resume = true;
        else if (!strcmp(argv[i], "--json")) json = true;
        else if (VAL("--data")) { if (mm < 0) return CLI_USAGE; o.data = v; }
        else if (VAL("--out")) { if (mm < 0) return CLI_USAGE; o.out = v; }
        else if (VAL("--preset")) { if (mm < 0) return CLI_USAGE; preset = v; }
        else if (VAL("--tokenizer")) { if (mm < 0) return CLI_USAGE; o.tokenizer = v; }
        else if (VAL("--format")) {
            if (mm < 0) return CLI_USAGE;
            if (vkt_data_format_parse(v, &o.format, &err) != VKT_OK) return cli_usage_error("train", "--format: %s", err.msg);
        }
#define INTF(name, field, lo, hi) \
        else if (VAL(name)) { if (mm < 0 || !cli_int("train", name, v, lo, hi, &iv)) return CLI_USAGE; o.field = (int)iv; }
#define DBLF(name, field, lo, hi) \
        else if (VAL(name)) { if (mm < 0 || !cli_double("train", name, v, lo, hi, &dv)) return CLI_USAGE; o.field = dv; }
#define SHAPE(name, var, lo, hi) \
        else if (VAL(name)) { if (mm < 0 || !cli_int("train", name, v, lo, hi, &var)) return CLI_USAGE; }
        SHAPE("--layers", layers, 1, 256)
        SHAPE("--width", width, 8, 16384)
        SHAPE("--heads", heads, 1, 256)
        SHAPE("--ffn", ffn, 8, 65536)
#undef SHAPE
        INTF("--steps", steps, 1, 100000000)
        INTF("--batch", batch, 1, 65536)
        INTF("--seq", seq, 1, 1 << 20)
        INTF("--accum", accum, 1, 65536)
        INTF("--warmup", warmup, 0, 100000000)
        INTF("--eval-every", eval_every, 0, 100000000)
        INTF("--save-every", save_every, 0, 100000000)
        DBLF("--lr", lr, 0, 10)
        DBLF("--min-lr", min_lr, 0, 10)
        DBLF("--weight-decay", weight_decay, 0, 10)
        DBLF("--clip", max_grad_norm, 0, 1e9)
        DBLF("--val-fraction", val_fraction, 0, 0.9)
        else if (VAL("--seed")) {
            uint64_t sv;
            if (mm < 0 || !cli_u64("train", "--seed", v, &sv)) return CLI_USAGE;
            o.seed = sv;
        } else if (VAL("--device")) {
            if (mm < 0 || !cli_int("train", "--device", v, 0, 1000, &device)) return CLI_USAGE;
        } else return cli_usage_error("train", "unknown option '%s'", argv[i]);
#undef VAL
#undef INTF
#undef DBLF
    }
    if (!o.data) return cli_usage_error("train", "--data FILE is required");
    if (!o.out) return cli_usage_error("train", "--out DIR is required");
    if (!o.resume && vkt_model_preset(preset, &o.cfg, &err) != VKT_OK) return cli_usage_error("train", "--preset: %s", err.msg);
    if (o.resume && (layers || width || heads || ffn))
        return cli_usage_error("train", "--layers/--width/--heads/--ffn: the shape of a resumed run is the checkpoint's");
    if (o.resume && o.tokenizer)
        return cli_usage_error("train", "--tokenizer: a resumed run uses the checkpoint's tokenizer");
    if (!o.resume) {
        vkt_model_config_reshape(&o.cfg, (int)layers, (int)width, (int)heads, (int)ffn);
        if (vkt_model_config_check(&o.cfg, &err) != VKT_OK) return cli_usage_error("train", "%s", err.msg);
    }
    vkt_ctx *ctx;
    int rc = cli_open_device("train", (int)device, &ctx);
    if (rc != CLI_OK) return rc;
    prog g = {cli_stderr_is_tty(), json, 10};
    o.progress = on_progress;
    o.user = &g;
    o.stop = cli_catch_sigint();
    vkt_train_result r;
    vkt_status s = vkt_train_run(ctx, &o, &r, &err);
    cli_release_sigint();
    vkt_ctx_destroy(ctx);
    if (json) {
        // val_loss is null when no validation ran (it printed "null0.000000" before)
        char val[64] = "null";
        if (!isnan(r.final_val_loss)) snprintf(val, sizeof val, "%.6f", r.final_val_loss);
        printf("{\"steps\": %d, \"loss\": %.6f, \"val_loss\": %s, \"interrupted\": %s, \"out\": \"%s\"}\n",
               r.steps_done, r.final_loss, val, r.interrupted ? "true" : "false", o.out);
    }
    if (s != VKT_OK) {
        fprintf(stderr, "vkt train: %s\n", err.msg);
        return s == VKT_ERR_ARG ? CLI_USAGE : CLI_FAILED;
    }
    if (!json) fprintf(stderr, "vkt train: %d steps, loss %.4f, checkpoint in %s\n", r.steps_done, r.final_loss, o.out);
    return CLI_OK;
}
