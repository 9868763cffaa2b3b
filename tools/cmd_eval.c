// vkt eval: the mean next-token NLL of a text under a checkpoint (vkt_gen_eval_ids), tokenized
// by the checkpoint's tokenizer.
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "cli.h"
#include "cli_opt.h"
#include "cli_device.h"
#include "commands.h"
#include "dataset.h"
#include "cli_model.h"
#include "generate.h"

static const cli_cmd CMD = {
    .name = "eval",
    .usage = "usage: vkt eval --ckpt DIR --data FILE [--ctx N] [--json]\n",
    .about = "Mean next-token negative log-likelihood (nats/token) of FILE under the checkpoint in "
             "DIR.\n"
             "Tokens are the checkpoint's: DIR/tokenizer.json (its special tokens' text read as "
             "their ids),\n"
             "else one per byte. They are cut into non-overlapping windows of --ctx tokens (the "
             "last may\n"
             "be shorter) and every token but the first of each window is scored.\n",
};

static int opt_weights(const cli_opt *opt, const char *cmd, const char *const *v) {
    if (cli_weights_check(cmd, v[0]) != CLI_OK) return CLI_USAGE;
    *(const char **)opt->dest = v[0];
    return CLI_OK;
}

typedef struct eval_args {
    const char *ckpt, *data, *weights, *adapter;
    int device, batch, wctx;
    bool json, allow_nonfinite;
} eval_args;

static int parse_args(int argc, char **argv, eval_args *a) {
    const cli_opt table[] = {
        {"--ckpt", CLI_OPT_STR, &a->ckpt, .metavar = "DIR",
         .help = "checkpoint (config.json + model.safetensors)"},
        {"--data", CLI_OPT_STR, &a->data, .metavar = "FILE", .help = "text to score"},
        {"--ctx", CLI_OPT_INT, &a->wctx, 2, 1 << 20, "N",
         .def = "the model's context, at most 1024", .help = "window length in tokens"},
        {"--batch", CLI_OPT_INT, &a->batch, 1, 4096, "N", .help = "windows per forward"},
        {"--weights", CLI_OPT_CUSTOM, &a->weights, .metavar = "W", .parse = opt_weights,
         .def = "auto",
         .help = "auto|fp32|bf16|f16: how the weights sit on the device (auto: 16-bit\n"
                 "for a bf16/fp16 checkpoint of the llama family, else fp32)"},
        {"--adapter", CLI_OPT_STR, &a->adapter, .metavar = "DIR",
         .help = "apply a PEFT LoRA adapter (adapter_config.json, adapter_model.safetensors)"},
        CLI_OPT_DEVICE(&a->device),
        {"--allow-nonfinite", CLI_OPT_FLAG, &a->allow_nonfinite,
         .help = "load weights holding NaN/inf (an NLL that is not finite is still an error)"},
        {"--json", CLI_OPT_FLAG, &a->json, .help = "print {\"nll\": ..., \"tokens\": ...}"},
        {0},
    };
    int rc = cli_parse(&CMD, table, argc, argv);
    if (rc != CLI_OK) return rc;
    if (!a->ckpt) return cli_usage_error("eval", "--ckpt DIR is required");
    if (!a->data) return cli_usage_error("eval", "--data FILE is required");
    return CLI_OK;
}

static unsigned char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    unsigned char *b = malloc(cap);
    while (b) {
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (n < cap) break;
        unsigned char *nb = realloc(b, cap *= 2);
        if (!nb) free(b);
        b = nb;
    }
    if (b && ferror(f)) free(b), b = NULL;
    fclose(f);
    *len = n;
    return b;
}

int cmd_eval(int argc, char **argv) {
    eval_args a = {.device = -1, .batch = 4};
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_OK) return rc == CLI_HELP ? CLI_OK : rc;
    const char *ckpt = a.ckpt, *data = a.data;
    const long batch = a.batch, wctx = a.wctx;
    size_t len;
    unsigned char *text = read_all(data, &len);
    if (!text) return cli_fail("eval", "%s: %s", data, strerror(errno));
    vkt_error err = {0};
    vkt_tok *tok = NULL;
    vkt_tokens ids = {0};
    vkt_status s = vkt_checkpoint_tokenizer(ckpt, NULL, &tok, &err);
    const bool bytes = s == VKT_OK && vkt_tok_kind_of(tok) == VKT_TOK_BYTE;
    if (s == VKT_OK && !bytes)
        s = vkt_tok_encode(tok, (const char *)text, len, vkt_dataset_text_flags(tok), &ids, &err);
    vkt_tok_free(tok);
    const size_t n_ids = ids.n;
    if (s != VKT_OK) {
        free(text);
        return cli_fail("eval", "%s", err.msg);
    }
    vkt_ctx *ctx;
    rc = cli_open_device("eval", a.device, &ctx);
    if (rc != CLI_OK) {
        free(text), vkt_tokens_free(&ids);
        return rc;
    }
    cli_model cm;
    vkt_gen *g = NULL;
    double nll = 0;
    int64_t tokens = 0;
    cli_model_args ma = {ckpt, a.adapter, a.weights, a.allow_nonfinite, false};
    rc = cli_model_open("eval", ctx, &ma, &cm);
    if (rc != CLI_OK) {
        vkt_ctx_destroy(ctx);
        free(text), vkt_tokens_free(&ids);
        return rc;
    }
    vkt_model *m = cm.m;
    int W = vkt_model_cfg(m)->context;
    if (wctx > W) {
        s = vkt_fail(vkt_ctx_err(ctx), VKT_ERR_ARG, "--ctx %ld is past the model's context %d",
                     wctx, W);
    } else {
        W = wctx ? (int)wctx : W < 1024 ? W : 1024;
        int rows = (int)(batch * W > 1 << 20 ? 1 << 20 : batch * W);
        char what[96];
        snprintf(what, sizeof what, "caches and activations for %ld windows of %d tokens", batch,
                 W);
        rc = cli_model_reserve("eval", ctx, &cm, vkt_gen_bytes(m, (int)batch, W, rows), what);
        if (rc != CLI_OK) s = VKT_ERR_ARG; // said
        if (s == VKT_OK) s = vkt_gen_create(m, (int)batch, W, rows, &g);
    }
    if (s == VKT_OK && bytes)
        s = vkt_gen_eval_text(g, text, len, &nll, &tokens);
    else if (s == VKT_OK)
        s = vkt_gen_eval_ids(g, ids.ids, ids.n, &nll, &tokens);
    // Said before the context that holds the message closes; a message that names the
    // checkpoint already is not prefixed with it again.
    const char *msg = vkt_ctx_message(ctx);
    if (rc == CLI_OK && s != VKT_OK)
        rc = strncmp(msg, ckpt, strlen(ckpt)) ? cli_fail("eval", "%s: %s", ckpt, msg)
                                              : cli_fail("eval", "%s", msg);
    vkt_gen_destroy(g);
    cli_model_close(&cm);
    vkt_ctx_destroy(ctx);
    free(text), vkt_tokens_free(&ids);
    if (rc != CLI_OK) return rc;
    // No scored token: there is no NLL to report (not 0, which would read as a perfect model).
    if (tokens == 0)
        return cli_fail(
            "eval",
            "%s: nothing to score: it holds %zu %s (at least 2 are needed, and every window of "
            "the model's context scores all its tokens but the first)",
            data, bytes ? len : n_ids, bytes ? "bytes" : "tokens");
    if (!isfinite(nll))
        return cli_fail("eval", "%s: the NLL of %s is %g, not finite", ckpt, data, nll);
    if (a.json)
        printf("{\"nll\": %.9g, \"tokens\": %lld}\n", nll, (long long)tokens);
    else
        printf("nll %.6f nats/token (perplexity %.4f, %.4f bits/%s) over %lld tokens\n", nll,
               exp(nll), nll / log(2.0), bytes ? "byte" : "token", (long long)tokens);
    return CLI_OK;
}
