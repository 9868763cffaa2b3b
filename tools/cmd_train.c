// vkt train: train a preset (or continue a checkpoint) on a text or JSONL file.
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "checkpoint_dir.h"
#include "cli_device.h"
#include "cli_memory.h"
#include "cli_out_dir.h"
#include "commands.h"
#include "lora.h"
#include "train.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: vkt train --data FILE --out DIR [--preset NAME] [--tokenizer DIR] [--steps N] [options]\n"
            "       vkt train --ckpt MODEL --data FILE --out DIR [--lora-rank R [--merge]] [options]\n"
            "       vkt train --out DIR --resume [--steps N] [--lr LR] [--data FILE --allow-change]\n\n"
            "Trains a decoder-only transformer on FILE and writes a Hugging Face checkpoint to DIR\n"
            "(config.json, model.safetensors, tokenizer files) and one JSON object per step to\n"
            "DIR/metrics.jsonl. Each save is a complete checkpoint in DIR/ckpt-<step>/ (with the optimizer,\n"
            "trainer_state.json and checkpoint.json, a manifest of sizes and hashes) published by one rename;\n"
            "the files at the top of DIR link to the newest. --resume continues from the newest checkpoint\n"
            "that matches its manifest, with the saved hyperparameters and data order (same weights as an\n"
            "uninterrupted run), after cutting metrics.jsonl back to its step.\n\n"
            "  --data FILE          training text or JSONL, tokenized by the model's tokenizer\n"
            "                       (--resume: default the checkpoint's; other content is refused)\n"
            "  --format text|jsonl  jsonl lines are {\"prompt\": ..., \"completion\": ...}: loss on completions only\n"
            "                       (default: jsonl for a FILE named *.jsonl, else text)\n"
            "  --out DIR            run directory (created); one that holds a checkpoint needs\n"
            "                       --resume or --overwrite; a self-play run directory is refused;\n"
            "                       DIR/.lock keeps a second run off DIR while this one runs\n"
            "  --overwrite          replace the checkpoints in DIR with a new run\n"
            "  --keep-last N        complete checkpoints kept in DIR (default 1); --resume falls back\n"
            "                       to the newest intact one\n"
            "  --skip-nonfinite N   skip up to N steps whose loss is not finite (no update); default 0:\n"
            "                       the first one fails the run (exit 1), nothing saved after it\n"
            "  --ckpt MODEL         start from a pretrained checkpoint (a Hugging Face directory: Llama,\n"
            "                       Mistral, Qwen2/3, GPT-2; docs/pretrained.md): its config, tokenizer\n"
            "                       and weights, all trained (fp32) unless --lora-rank\n"
            "  --lora-rank R        with --ckpt: train LoRA adapters of rank R on the frozen base (kept\n"
            "                       16-bit when the checkpoint is); checkpoints hold the adapter in PEFT's\n"
            "                       format (adapter_config.json, adapter_model.safetensors): load it with\n"
            "                       --adapter DIR, or peft's PeftModel.from_pretrained\n"
            "  --lora-alpha A       scale alpha/R (default 8, as PEFT)\n"
            "  --lora-targets LIST  modules to adapt (default all-linear: q_proj,k_proj,v_proj,o_proj,\n"
            "                       gate_proj,up_proj,down_proj)\n"
            "  --lora-dropout P     dropout on the adapters' input (default 0)\n"
            "  --adapter DIR        with --ckpt: continue training this PEFT adapter (its rank, alpha and\n"
            "                       targets; AdamW starts afresh) instead of new ones\n"
            "  --merge              with --lora-rank: at the end also write DIR/merged, the base with the\n"
            "                       adapters merged (fp32 safetensors, config and tokenizer)\n"
            "  --device-memory SIZE with --ckpt: refuse a run that needs more device memory than SIZE\n"
            "                       (4G, 3.5GiB, 512M; binary units) instead of the device's heap, and say\n"
            "                       which --batch/--accum would fit (default: VKT_DEVICE_MEMORY, if set).\n"
            "                       Activations scale with --batch x --seq: a smaller --batch with a\n"
            "                       larger --accum trains the same step in less memory (docs/pretrained.md)\n"
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
            "  --resume             continue the run in DIR. A flag given with it that differs from the\n"
            "                       checkpoint is honoured and recorded (trainer_state.json \"changes\"):\n"
            "                       --steps --lr --min-lr --warmup --weight-decay --clip; or refused:\n"
            "                       --batch --seq --accum --seed --format --val-fraction and other\n"
            "                       --data content, unless --allow-change (then honoured, recorded;\n"
            "                       a new --seed restarts the data order); --preset and the shape flags\n"
            "                       are always refused\n"
            "  --allow-change       let --resume change the flags above it refuses\n"
            "  --device N           Vulkan device (see vkt devices)\n"
            "  --json               print a JSON summary at the end (with peak_device_bytes)\n\n"
            "Signals: SIGINT (Ctrl-C) or SIGTERM saves a checkpoint after the current step and stops; a\n"
            "second one waits for that save; a third quits at once (the previous complete checkpoint stays).\n"
            "Exit codes: 0 trained to --steps; 1 the run failed, or was stopped by a signal after saving\n"
            "(the message says which); 2 bad usage, nothing trained; 128+N killed by a third signal N\n"
            "(130 SIGINT, 143 SIGTERM).\n");
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
    const char *preset = "gpt2-tiny", *devmem = NULL;
    long device = -1, layers = 0, width = 0, heads = 0, ffn = 0;
    bool json = false, overwrite = false, preset_given = false;
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
        else if (!strcmp(argv[i], "--overwrite")) overwrite = true;
        else if (!strcmp(argv[i], "--allow-change")) o.allow_change = true;
        else if (!strcmp(argv[i], "--json")) json = true;
        else if (!strcmp(argv[i], "--merge")) o.merge = true;
        else if (VAL("--ckpt")) { if (mm < 0) return CLI_USAGE; o.init = v; }
        else if (VAL("--adapter")) { if (mm < 0) return CLI_USAGE; o.adapter = v; }
        else if (VAL("--device-memory")) { if (mm < 0) return CLI_USAGE; devmem = v; }
        else if (VAL("--lora-targets")) {
            if (mm < 0) return CLI_USAGE;
            if (vkt_lora_targets_parse(v, &o.lora_targets, &err) != VKT_OK)
                return cli_usage_error("train", "--lora-targets: %s", err.msg);
        }
        else if (VAL("--lora-alpha")) {
            if (mm < 0 || !cli_double("train", "--lora-alpha", v, 1e-6, 1e6, &dv)) return CLI_USAGE;
            o.lora_alpha = (float)dv;
        }
        else if (VAL("--lora-dropout")) {
            if (mm < 0 || !cli_double("train", "--lora-dropout", v, 0, 0.99, &dv)) return CLI_USAGE;
            o.lora_dropout = (float)dv;
        }
        else if (VAL("--data")) { if (mm < 0) return CLI_USAGE; o.data = v; }
        else if (VAL("--out")) { if (mm < 0) return CLI_USAGE; o.out = v; }
        else if (VAL("--preset")) { if (mm < 0) return CLI_USAGE; preset = v, preset_given = true; }
        else if (VAL("--tokenizer")) { if (mm < 0) return CLI_USAGE; o.tokenizer = v; }
        else if (VAL("--format")) {
            if (mm < 0) return CLI_USAGE;
            if (vkt_data_format_parse(v, &o.format, &err) != VKT_OK) return cli_usage_error("train", "--format: %s", err.msg);
            o.given |= VKT_TRAIN_GIVEN_FORMAT;
        }
#define INTF(name, field, lo, hi, bit) \
        else if (VAL(name)) { if (mm < 0 || !cli_int("train", name, v, lo, hi, &iv)) return CLI_USAGE; o.field = (int)iv; o.given |= bit; }
#define DBLF(name, field, lo, hi, bit) \
        else if (VAL(name)) { if (mm < 0 || !cli_double("train", name, v, lo, hi, &dv)) return CLI_USAGE; o.field = dv; o.given |= bit; }
#define SHAPE(name, var, lo, hi) \
        else if (VAL(name)) { if (mm < 0 || !cli_int("train", name, v, lo, hi, &var)) return CLI_USAGE; }
        SHAPE("--layers", layers, 1, 256)
        SHAPE("--width", width, 8, 16384)
        SHAPE("--heads", heads, 1, 256)
        SHAPE("--ffn", ffn, 8, 65536)
#undef SHAPE
        INTF("--steps", steps, 1, 100000000, 0)
        INTF("--lora-rank", lora_rank, 1, 4096, 0)
        INTF("--batch", batch, 1, 65536, VKT_TRAIN_GIVEN_BATCH)
        INTF("--seq", seq, 1, 1 << 20, VKT_TRAIN_GIVEN_SEQ)
        INTF("--accum", accum, 1, 65536, VKT_TRAIN_GIVEN_ACCUM)
        INTF("--warmup", warmup, 0, 100000000, VKT_TRAIN_GIVEN_WARMUP)
        INTF("--eval-every", eval_every, 0, 100000000, 0)
        INTF("--save-every", save_every, 0, 100000000, 0)
        INTF("--keep-last", keep_last, 1, 1000000, 0)
        INTF("--skip-nonfinite", skip_nonfinite, 0, 1000000, 0)
        DBLF("--lr", lr, 0, 10, VKT_TRAIN_GIVEN_LR)
        DBLF("--min-lr", min_lr, 0, 10, VKT_TRAIN_GIVEN_MIN_LR)
        DBLF("--weight-decay", weight_decay, 0, 10, VKT_TRAIN_GIVEN_WEIGHT_DECAY)
        DBLF("--clip", max_grad_norm, 0, 1e9, VKT_TRAIN_GIVEN_CLIP)
        DBLF("--val-fraction", val_fraction, 0, 0.9, VKT_TRAIN_GIVEN_VAL_FRACTION)
        else if (VAL("--seed")) {
            uint64_t sv;
            if (mm < 0 || !cli_u64("train", "--seed", v, &sv)) return CLI_USAGE;
            o.seed = sv, o.given |= VKT_TRAIN_GIVEN_SEED;
        } else if (VAL("--device")) {
            if (mm < 0 || !cli_int("train", "--device", v, 0, 1000, &device)) return CLI_USAGE;
        } else return cli_usage_error("train", "unknown option '%s'", argv[i]);
#undef VAL
#undef INTF
#undef DBLF
    }
    if (!o.data && !o.resume) return cli_usage_error("train", "--data FILE is required");
    size_t dl = o.data ? strlen(o.data) : 0;
    if (!o.resume && !(o.given & VKT_TRAIN_GIVEN_FORMAT) && dl > 6 && !strcmp(o.data + dl - 6, ".jsonl")) {
        // Raw-text training on a JSONL file is never what was meant.
        o.format = VKT_DATA_JSONL;
        fprintf(stderr, "vkt train: note: %s read as prompt/completion JSONL (--format text to train on its "
                        "raw text)\n", o.data);
    }
    if (!o.out) return cli_usage_error("train", "--out DIR is required");
    if (devmem && !o.init) return cli_usage_error("train", "--device-memory: the fit check is for --ckpt runs");
    if (cli_device_memory("train", devmem, &o.device_memory) != CLI_OK) return CLI_USAGE;
    if (o.resume && overwrite) return cli_usage_error("train", "--resume and --overwrite exclude each other");
    if (o.resume && preset_given)
        return cli_usage_error("train", "--preset: the model of a resumed run is the checkpoint's");
    int rc = cli_check_out_dir("train", o.out, VKT_RUNDIR_TRAIN, o.resume, overwrite);
    if (rc != CLI_OK) return rc;
    if (o.init && o.resume) return cli_usage_error("train", "--ckpt: a resumed run continues from its own checkpoint");
    if (o.init && (preset_given || o.tokenizer || layers || width || heads || ffn))
        return cli_usage_error("train", "--ckpt: the model, its shape and tokenizer are the checkpoint's "
                               "(--preset, --tokenizer and the shape flags do not apply)");
    if (!o.init && (o.lora_rank || o.merge))
        return cli_usage_error("train", "--lora-rank/--merge: LoRA adapts a pretrained model: give --ckpt MODEL");
    if (o.adapter && !o.init) return cli_usage_error("train", "--adapter: give the base model with --ckpt MODEL");
    if (o.adapter && o.lora_rank)
        return cli_usage_error("train", "--adapter and --lora-rank: the adapter has its own rank, alpha and targets");
    if (o.merge && !o.lora_rank && !o.adapter) return cli_usage_error("train", "--merge needs --lora-rank or --adapter");
    if (!o.resume && vkt_model_preset(preset, &o.cfg, &err) != VKT_OK) return cli_usage_error("train", "--preset: %s", err.msg);
    if (o.resume && (layers || width || heads || ffn))
        return cli_usage_error("train", "--layers/--width/--heads/--ffn: the shape of a resumed run is the checkpoint's");
    if (o.resume && o.tokenizer)
        return cli_usage_error("train", "--tokenizer: a resumed run uses the checkpoint's tokenizer");
    if (!o.resume && !o.init) {
        vkt_model_config_reshape(&o.cfg, (int)layers, (int)width, (int)heads, (int)ffn);
        if (vkt_model_config_check(&o.cfg, &err) != VKT_OK) return cli_usage_error("train", "%s", err.msg);
    }
    int lock = -1;  // held to the end: no second run writes DIR meanwhile
    if (vkt_run_lock(o.out, &lock, &err) != VKT_OK) return cli_fail("train", "%s", err.msg);
    vkt_ctx *ctx;
    rc = cli_open_device("train", (int)device, &ctx);
    if (rc != CLI_OK) {
        vkt_run_unlock(lock);
        return rc;
    }
    prog g = {cli_stderr_is_tty(), json, 10};
    o.progress = on_progress;
    o.notice = on_notice;
    o.user = &g;
    o.stop = cli_catch_sigint();
    vkt_train_result r;
    // The handlers stay to the end: a late signal must not kill a run that saved and is exiting.
    vkt_status s = vkt_train_run(ctx, &o, &r, &err);
    const uint64_t peak = vkt_ctx_bytes_peak(ctx);
    vkt_ctx_destroy(ctx);
    vkt_run_unlock(lock);
    if (json) {
        // val_loss is null when no validation ran (it printed "null0.000000" before)
        char val[64] = "null";
        if (!isnan(r.final_val_loss)) snprintf(val, sizeof val, "%.6f", r.final_val_loss);
        printf("{\"steps\": %d, \"loss\": %.6f, \"val_loss\": %s, \"interrupted\": %s, \"skipped_nonfinite\": %d, "
               "\"peak_device_bytes\": %llu, \"out\": \"%s\"}\n",
               r.steps_done, r.final_loss, val, r.interrupted ? "true" : "false", r.skipped_nonfinite,
               (unsigned long long)peak, o.out);
    }
    if (r.steps_done > 0) fprintf(stderr, "vkt train: peak device memory %.2f GiB\n", (double)peak / (1ull << 30));
    if (s != VKT_OK) {
        fprintf(stderr, "vkt train: %s\n", err.msg);
        return s == VKT_ERR_ARG ? CLI_USAGE : CLI_FAILED;
    }
    if (!json)
        fprintf(stderr, "vkt train: %d steps%s, loss %.4f, checkpoint in %s\n", r.steps_done,
                r.skipped_nonfinite ? " (steps with a non-finite loss skipped: see above)" : "", r.final_loss, o.out);
    return CLI_OK;
}
