// bench_train.c: one training step (forward, loss, backward, clip, AdamW) on a preset or
// a custom shape, as ms per step and tokens per second.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cli.h"
#include "model.h"

typedef struct {
    vkt_model *m;
    int t;
} step_arg;

static vkt_status one_step(vkt_ctx *ctx, void *p) {
    step_arg *a = p;
    vkt_optim o = {1e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 1.0f, 1.0f};
    VKT_TRY(vkt_model_forward(a->m, NULL, NULL));
    VKT_TRY(vkt_model_backward(a->m, 1e-3f));
    return vkt_model_adamw(a->m, &o, ++a->t, NULL);
}

// One step as vkt train runs it: the batch's upload, forward, loss and backward, the norm,
// the loss and norm read together, AdamW (left recorded for the next step to follow).
static vkt_status train_step(step_arg *a, const int32_t *tok, const int32_t *tgt) {
    vkt_optim o = {1e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 1.0f, 1.0f};
    double loss, wsum;
    float gnorm;
    VKT_TRY(vkt_model_set_batch(a->m, tok, tgt, NULL));
    VKT_TRY(vkt_model_forward(a->m, NULL, NULL));
    VKT_TRY(vkt_model_backward(a->m, 1e-3f));
    VKT_TRY(vkt_model_grad_norm(a->m, o.max_grad_norm));
    VKT_TRY(vkt_model_read_step(a->m, &loss, &wsum, &gnorm));
    return vkt_model_adamw_apply(a->m, &o, ++a->t);
}

// What a step makes the host wait for and move, measured on the second of two steps so
// that the first one's AdamW is still in flight, as it is in a run.
static vkt_status train_step_transfers(vkt_ctx *ctx, step_arg *a, const int32_t *tok,
                                       const int32_t *tgt, vkt_transfers *d) {
    VKT_TRY(train_step(a, tok, tgt));
    vkt_transfers t0, t1;
    vkt_ctx_transfers(ctx, &t0);
    VKT_TRY(train_step(a, tok, tgt));
    vkt_ctx_transfers(ctx, &t1);
    *d = (vkt_transfers){.host_waits = t1.host_waits - t0.host_waits,
                         .bytes_up = t1.bytes_up - t0.bytes_up,
                         .bytes_down = t1.bytes_down - t0.bytes_down};
    return vkt_sync(ctx);
}

static const cli_cmd CMD = {
    .name = "bench train",
    .usage =
        "usage: vkt bench train [--preset P --batch B --seq T --layers L --width C --heads H]\n"
        "                       [--vocab V] [--precision fp32|bf16|fp16] [common options]\n",
    .about = "One training step (forward, loss, backward, clip, AdamW) as ms per step and tokens\n"
             "per second, and what a vkt train step makes the host wait for and move.\n",
};

_Static_assert(VKT_PREC_FP32 == 0 && VKT_PREC_BF16 == 1 && VKT_PREC_FP16 == 2,
               "--precision's choices");

int bench_train(bench_env *env, int argc, char **argv) {
    const char *preset = "gpt2-tiny";
    int prec = VKT_PREC_FP32;
    long B = 4, T = 64, layers = 0, width = 0, heads = 0, vocab = 0;
    const cli_opt table[] = {
        {"--preset", CLI_OPT_STR, &preset, .metavar = "P", .help = "model preset"},
        {"--batch", CLI_OPT_LONG, &B, 1, 4096, "B", .help = "rows per step"},
        {"--seq", CLI_OPT_LONG, &T, 1, 1 << 16, "T", .help = "positions per row"},
        {"--layers", CLI_OPT_LONG, &layers, 1, 1024, "L", .def = "the preset's", .help = "blocks"},
        {"--width", CLI_OPT_LONG, &width, 1, 1 << 16, "C", .def = "the preset's",
         .help = "residual width (FFN 4C)"},
        {"--heads", CLI_OPT_LONG, &heads, 1, 1024, "H", .def = "the preset's",
         .help = "attention heads"},
        {"--vocab", CLI_OPT_LONG, &vocab, 1, 1 << 20, "V", .def = "the preset's",
         .help = "vocabulary"},
        {"--precision", CLI_OPT_CHOICE, &prec, .choices = "fp32|bf16|fp16",
         .help = "arithmetic of training (bf16/fp16: 16-bit matmul operands)"},
        BENCH_COMMON_OPTS(env),
    };
    int rc = cli_parse(&CMD, table, argc, argv);
    if (rc != CLI_OK) return rc;
    vkt_model_config cfg;
    vkt_error err = {0};
    if (vkt_model_preset(preset, &cfg, &err) != VKT_OK)
        return cli_usage_error(CMD.name, "%s", err.msg);
    if (layers) cfg.layers = (int)layers;
    if (width) cfg.width = (int)width, cfg.ffn = 4 * (int)width;
    if (heads)
        cfg.heads = (int)heads,
        cfg.kv_heads = cfg.family == VKT_FAMILY_GPT2 ? (int)heads : cfg.kv_heads;
    if (vocab) cfg.vocab = (int)vocab;
    if (T > cfg.context) cfg.context = (int)T;
    vkt_ctx *ctx;
    if ((rc = bench_device(env, &ctx)) != CLI_OK) return rc;
    const bench_opts *o = &env->o;
    step_arg a = {NULL, 0};
    if (vkt_model_create(ctx, &cfg, &a.m) != VKT_OK)
        return cli_fail("bench", "train: %s", vkt_ctx_message(ctx));
    const int N = (int)(B * T);
    int32_t *tok = malloc((size_t)N * 4), *tgt = malloc((size_t)N * 4);
    for (int i = 0; i < N; i++)
        tok[i] = (i * 31 + 7) % cfg.vocab, tgt[i] = (i * 17 + 3) % cfg.vocab;
    if (vkt_model_set_precision(a.m, prec) != VKT_OK || vkt_model_init(a.m, 1) != VKT_OK ||
        vkt_model_plan(a.m, (int)B, (int)T) != VKT_OK ||
        vkt_model_set_batch(a.m, tok, tgt, NULL) != VKT_OK) {
        rc = cli_fail("bench", "train: %s", vkt_ctx_message(ctx));
    } else {
        double ms = bench_time(ctx, o, one_step, &a);
        vkt_transfers d = {0};
        if (ms >= 0 && train_step_transfers(ctx, &a, tok, tgt, &d) != VKT_OK) ms = -1;
        const unsigned long long moved = (unsigned long long)(d.bytes_up + d.bytes_down);
        if (ms < 0)
            rc = cli_fail("bench", "train: %s", vkt_ctx_message(ctx));
        else if (o->json)
            printf("{\"op\": \"train\", \"preset\": \"%s\", \"precision\": \"%s\", \"layers\": %d, "
                   "\"width\": %d, "
                   "\"heads\": %d, \"vocab\": %d, "
                   "\"batch\": %ld, \"seq\": %ld, \"params\": %llu, \"ms_per_step\": %.3f, "
                   "\"tokens_per_s\": %.1f, "
                   "\"host_waits_per_step\": %llu, \"bytes_moved_per_step\": %llu, \"device\": "
                   "\"%s\"}\n",
                   preset, vkt_precision_name(prec), cfg.layers, cfg.width, cfg.heads, cfg.vocab, B,
                   T, (unsigned long long)vkt_model_params(a.m)->total, ms, (double)N / (ms * 1e-3),
                   (unsigned long long)d.host_waits, moved, vkt_ctx_profile(ctx)->name);
        else
            printf("%-18s %-17s %4s B=%ld T=%-10ld %10.1f ms/step %9.0f tokens/s  (L=%d C=%d H=%d "
                   "V=%d; a vkt train step: "
                   "%llu host waits, %llu bytes moved)\n",
                   "train", preset, vkt_precision_name(prec), B, T, ms, (double)N / (ms * 1e-3),
                   cfg.layers, cfg.width, cfg.heads, cfg.vocab, (unsigned long long)d.host_waits,
                   moved);
    }
    fflush(stdout);
    free(tok), free(tgt);
    vkt_model_destroy(a.m);
    return rc;
}
