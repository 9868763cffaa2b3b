// cli_model.c: see cli_model.h.
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_memory.h"
#include "cli_model.h"
#include "profile.h"

static const char *const weight_names[] = {"fp32", "bf16",
                                           "f16"}; // VKT_W32, VKT_W16_BF16, VKT_W16_F16

int cli_weights_check(const char *cmd, const char *v) {
    if (!v || !strcmp(v, "auto")) return CLI_OK;
    for (int i = 0; i < 3; i++)
        if (!strcmp(v, weight_names[i])) return CLI_OK;
    return cli_usage_error(cmd, "--weights: '%s' (auto, fp32, bf16 or f16)", v);
}

static int weights_of(const char *v) {
    for (int i = 0; v && i < 3; i++)
        if (!strcmp(v, weight_names[i])) return i;
    return VKT_WEIGHTS_AUTO;
}

static double gib(uint64_t b) { return (double)b / (double)(1ull << 30); }

// Refuses a total past the budget VKT_DEVICE_MEMORY states, or else the device's largest heap.
static int fits(const char *cmd, vkt_ctx *ctx, uint64_t total, const char *what) {
    uint64_t budget;
    if (cli_device_memory(cmd, NULL, &budget) != CLI_OK) return CLI_USAGE;
    const uint64_t limit = budget ? budget : vkt_ctx_profile(ctx)->device_heap_bytes;
    if (limit && total > limit)
        return cli_fail(
            cmd,
            "%s needs %.2f GiB of device memory in all; %s %.2f GiB (try --weights bf16, a smaller "
            "--batch, or a shorter context)",
            what, gib(total), budget ? "the budget VKT_DEVICE_MEMORY is" : "the device's heap has",
            gib(limit));
    return CLI_OK;
}

int cli_model_open(const char *cmd, vkt_ctx *ctx, const cli_model_args *a, cli_model *out) {
    memset(out, 0, sizeof *out);
    vkt_error *err = vkt_ctx_err(ctx); // one channel for the pure loaders and the device
    vkt_model_config cfg;
    if (vkt_checkpoint_config(a->ckpt, &cfg, err) != VKT_OK) return cli_fail(cmd, "%s", err->msg);
    vkt_load_opts lo = {weights_of(a->weights), !a->trainable, a->allow_nonfinite};
    if (a->trainable && lo.weights != VKT_WEIGHTS_AUTO && lo.weights != VKT_W32)
        return cli_usage_error(
            cmd,
            "--weights %s: training the base weights needs fp32 (16-bit weights are "
            "frozen; train a LoRA adapter instead)",
            a->weights);
    vkt_model_opts mo;
    if (vkt_checkpoint_model_opts(a->ckpt, &cfg, &lo, &mo, err) != VKT_OK)
        return cli_fail(cmd, "%s", err->msg);
    vkt_params ps;
    if (vkt_params_build(&cfg, &ps, err) != VKT_OK)
        return cli_fail(cmd, "%s: %s", a->ckpt, err->msg);
    uint64_t bytes = vkt_model_weight_bytes(&ps, &mo), nparam = 0;
    for (int i = 0; i < ps.n; i++) nparam += ps.p[i].count;
    vkt_params_free(&ps);
    const char *arch[] = {"gpt2", "llama", "mistral", "qwen2", "qwen3"};
    fprintf(stderr, "vkt %s: %s: %s, %.3g M parameters, weights %s%s: %.2f GiB on the device\n",
            cmd, a->ckpt, (unsigned)cfg.arch < 5 ? arch[cfg.arch] : "?", (double)nparam / 1e6,
            weight_names[mo.w16], mo.frozen ? " (frozen)" : " with gradients and AdamW moments",
            gib(bytes));
    int rc = fits(cmd, ctx, bytes, "the model");
    if (rc != CLI_OK) return rc;
    if (vkt_checkpoint_load_model_as(ctx, a->ckpt, &lo, &out->m) != VKT_OK)
        return cli_fail(cmd, "%s", err->msg);
    out->bytes = bytes;
    if (a->adapter) {
        const vkt_model *m = out->m;
        if (vkt_lora_load(ctx, vkt_model_cfg(m), vkt_model_params(m), a->adapter, &out->lora) !=
                VKT_OK ||
            vkt_model_set_lora(out->m, out->lora) != VKT_OK) {
            rc = cli_fail(cmd, "--adapter %s: %s", a->adapter, err->msg);
            cli_model_close(out);
            return rc;
        }
        out->bytes += vkt_lora_count(out->lora) * 4;
        fprintf(stderr, "vkt %s: adapter %s: rank %d, %d target modules, %.3g M parameters\n", cmd,
                a->adapter, vkt_lora_cfg(out->lora)->rank, vkt_lora_n_targets(out->lora),
                (double)vkt_lora_count(out->lora) / 1e6);
    }
    return CLI_OK;
}

int cli_model_reserve(const char *cmd, vkt_ctx *ctx, cli_model *cm, uint64_t bytes,
                      const char *what) {
    fprintf(stderr, "vkt %s: %s: %.2f GiB more (%.2f GiB in all)\n", cmd, what, gib(bytes),
            gib(cm->bytes + bytes));
    int rc = fits(cmd, ctx, cm->bytes + bytes, what);
    if (rc == CLI_OK) cm->bytes += bytes;
    return rc;
}

void cli_model_close(cli_model *cm) {
    if (cm->m) vkt_model_set_lora(cm->m, NULL);
    vkt_lora_destroy(cm->lora);
    vkt_model_destroy(cm->m);
    memset(cm, 0, sizeof *cm);
}
