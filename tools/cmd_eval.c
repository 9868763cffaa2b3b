// vkt eval: the mean next-token NLL of a text under a checkpoint (vkt_gen_eval_ids), tokenized
// by the checkpoint's tokenizer.
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "cli.h"
#include "cli_device.h"
#include "commands.h"
#include "dataset.h"
#include "cli_model.h"
#include "generate.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: vkt eval --ckpt DIR --data FILE [--ctx N] [--json]\n\n"
            "Mean next-token negative log-likelihood (nats/token) of FILE under the checkpoint in DIR.\n"
            "Tokens are the checkpoint's: DIR/tokenizer.json (its special tokens' text read as their ids),\n"
            "else one per byte. They are cut into non-overlapping windows of --ctx tokens (the last may\n"
            "be shorter) and every token but the first of each window is scored.\n\n"
            "  --ckpt DIR       checkpoint (config.json + model.safetensors)\n"
            "  --data FILE      text to score\n"
            "  --ctx N          window length in tokens (default: the model's context, at most 1024)\n"
            "  --batch N        windows per forward (default 4)\n"
            CLI_WEIGHTS_HELP
            "  --device N       Vulkan device (see vkt devices)\n"
            "  --allow-nonfinite  load weights holding NaN/inf (an NLL that is not finite is still an error)\n"
            "  --json           print {\"nll\": ..., \"tokens\": ...}\n");
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
    const char *ckpt = NULL, *data = NULL, *weights = NULL, *adapter = NULL;
    long device = -1, batch = 4, wctx = 0;
    bool json = false, allow_nonfinite = false;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int mm;
#define VAL(name) ((mm = cli_value(argc, argv, &i, name, &v)) != 0)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(argv[i], "--json")) json = true;
        else if (!strcmp(argv[i], "--allow-nonfinite")) allow_nonfinite = true;
        else if (VAL("--ckpt")) { if (mm < 0) return CLI_USAGE; ckpt = v; }
        else if (VAL("--data")) { if (mm < 0) return CLI_USAGE; data = v; }
        else if (VAL("--weights")) { if (mm < 0 || cli_weights_check("eval", v) != CLI_OK) return CLI_USAGE; weights = v; }
        else if (VAL("--adapter")) { if (mm < 0) return CLI_USAGE; adapter = v; }
        else if (VAL("--ctx")) { if (mm < 0 || !cli_int("eval", "--ctx", v, 2, 1 << 20, &wctx)) return CLI_USAGE; }
        else if (VAL("--batch")) { if (mm < 0 || !cli_int("eval", "--batch", v, 1, 4096, &batch)) return CLI_USAGE; }
        else if (VAL("--device")) { if (mm < 0 || !cli_int("eval", "--device", v, 0, 1000, &device)) return CLI_USAGE; }
        else return cli_usage_error("eval", "unknown option '%s'", argv[i]);
#undef VAL
    }
    if (!ckpt) return cli_usage_error("eval", "--ckpt DIR is required");
    if (!data) return cli_usage_error("eval", "--data FILE is required");
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
    int rc = cli_open_device("eval", (int)device, &ctx);
    if (rc != CLI_OK) {
        free(text), vkt_tokens_free(&ids);
        return rc;
    }
    cli_model cm;
    vkt_gen *g = NULL;
    double nll = 0;
    int64_t tokens = 0;
    cli_model_args ma = {ckpt, adapter, weights, allow_nonfinite, false};
    rc = cli_model_open("eval", ctx, &ma, &cm);
    if (rc != CLI_OK) {
        vkt_ctx_destroy(ctx);
        free(text), vkt_tokens_free(&ids);
        return rc;
    }
    vkt_model *m = cm.m;
    int W = vkt_model_cfg(m)->context;
    if (wctx > W) {
        s = vkt_fail(&err, VKT_ERR_ARG, "--ctx %ld is past the model's context %d", wctx, W);
    } else {
        W = wctx ? (int)wctx : W < 1024 ? W : 1024;
        int rows = (int)(batch * W > 1 << 20 ? 1 << 20 : batch * W);
        char what[96];
        snprintf(what, sizeof what, "caches and activations for %ld windows of %d tokens", batch, W);
        rc = cli_model_reserve("eval", ctx, &cm, vkt_gen_bytes(m, (int)batch, W, rows), what);
        if (rc != CLI_OK) s = VKT_ERR_ARG, err.status = VKT_ERR_ARG;
        if (s == VKT_OK) s = vkt_gen_create(m, (int)batch, W, rows, &g);
    }
    if (s == VKT_OK && bytes) s = vkt_gen_eval_text(g, text, len, &nll, &tokens);
    else if (s == VKT_OK) s = vkt_gen_eval_ids(g, ids.ids, ids.n, &nll, &tokens);
    if (s != VKT_OK && err.status == VKT_OK) err = *vkt_ctx_err(ctx);
    vkt_gen_destroy(g);
    cli_model_close(&cm);
    vkt_ctx_destroy(ctx);
    free(text), vkt_tokens_free(&ids);
    if (rc != CLI_OK) return rc;
    if (s != VKT_OK && !strncmp(err.msg, ckpt, strlen(ckpt))) return cli_fail("eval", "%s", err.msg);
    if (s != VKT_OK) return cli_fail("eval", "%s: %s", ckpt, err.msg);
    // No scored token: there is no NLL to report (not 0, which would read as a perfect model).
    if (tokens == 0)
        return cli_fail("eval", "%s: nothing to score: it holds %zu %s (at least 2 are needed, and every window of "
                        "the model's context scores all its tokens but the first)", data, bytes ? len : n_ids,
                        bytes ? "bytes" : "tokens");
    if (!isfinite(nll)) return cli_fail("eval", "%s: the NLL of %s is %g, not finite", ckpt, data, nll);
    if (json) printf("{\"nll\": %.9g, \"tokens\": %lld}\n", nll, (long long)tokens);
    else
        printf("nll %.6f nats/token (perplexity %.4f, %.4f bits/%s) over %lld tokens\n", nll, exp(nll),
               nll / log(2.0), bytes ? "byte" : "token", (long long)tokens);
    return CLI_OK;
}
