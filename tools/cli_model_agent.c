#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "checkpoint.h"
#include "cli.h"
#include "cli_device.h"
#include "cli_model.h"
#include "cli_model_agent.h"
#include "generate.h"
#include "json_file.h"
#include "rl_selfplay.h"

// The library's model agent over a generation plan, plus what it runs on.
typedef struct owned {
    vkt_ctx *ctx;
    cli_model cm; // the model (with its LoRA adapter when DIR holds one)
    vkt_model *m;
    vkt_gen *gen;
    vkt_tok *tok;   // a pretrained model's tokenizer, or NULL (bytes)
    vkt_rl_fmt fmt; // the format the run trained in (the agent points at its text)
    vkt_agent inner;
} owned;

static vkt_status o_act(void *self, const vkt_game *g, int player, vkt_rng *rng, int *action,
                        vkt_error *err) {
    owned *o = self;
    return o->inner.act(o->inner.self, g, player, rng, action, err);
}

static vkt_status o_probs(void *self, const vkt_game *g, int player, const int *acts, int n,
                          double *p, vkt_error *err) {
    owned *o = self;
    return o->inner.probs(o->inner.self, g, player, acts, n, p, err);
}

static void o_destroy(void *self) {
    owned *o = self;
    vkt_agent_destroy(&o->inner);
    vkt_rl_fmt_free(&o->fmt);
    vkt_tok_free(o->tok);
    vkt_gen_destroy(o->gen);
    cli_model_close(&o->cm);
    vkt_ctx_destroy(o->ctx);
    free(o);
}

// DIR as a model: its own weights, or (a LoRA self-play run) the adapter it holds over the
// base its adapter_config.json names.
static int open_model(const char *cmd, owned *o, const char *dir) {
    char cfg[4096], base[4096] = "";
    struct stat st;
    snprintf(cfg, sizeof cfg, "%s/adapter_config.json", dir);
    if (stat(cfg, &st) == 0) {
        json_t *j = NULL;
        if (vkt_json_file_read(cfg, 1, &j, vkt_ctx_err(o->ctx)) != VKT_OK)
            return cli_fail(cmd, "ckpt:%s: %s", dir, vkt_ctx_message(o->ctx));
        const char *b = json_string_value(json_object_get(j, "base_model_name_or_path"));
        if (b) snprintf(base, sizeof base, "%s", b);
        json_decref(j);
        if (!base[0])
            return cli_fail(cmd, "ckpt:%s: %s names no base_model_name_or_path", dir, cfg);
    }
    cli_model_args a = {base[0] ? base : dir, base[0] ? dir : NULL, NULL, false, false};
    int rc = cli_model_open(cmd, o->ctx, &a, &o->cm);
    o->m = o->cm.m;
    return rc;
}

// The format a `vkt selfplay --out DIR` run trained in: DIR/run_options.json's think_tokens
// and chat (absent file or key: 0 and false, the direct-answer format on bytes).
static int think_tokens_of(const char *cmd, const char *dir, int *think, bool *chat) {
    *think = 0, *chat = false;
    char path[4096];
    snprintf(path, sizeof path, "%s/run_options.json", dir);
    struct stat st;
    if (stat(path, &st) != 0) return CLI_OK;
    json_t *j = NULL;
    vkt_error err = {0};
    if (vkt_json_file_read(path, 1, &j, &err) != VKT_OK)
        return cli_fail(cmd, "ckpt:%s: %s", dir, err.msg);
    json_t *t = json_object_get(j, "think_tokens");
    int rc = CLI_OK;
    if (t && (!json_is_integer(t) || json_integer_value(t) < 0 ||
              json_integer_value(t) > VKT_RL_THINK_MAX))
        rc = cli_fail(cmd, "ckpt:%s: %s: think_tokens is not an integer in 0..%d", dir, path,
                      VKT_RL_THINK_MAX);
    else if (t)
        *think = (int)json_integer_value(t);
    *chat = json_is_true(json_object_get(j, "chat"));
    json_decref(j);
    return rc;
}

int cli_model_agent(const char *cmd, const char *dir, vkt_agent *out) {
    int think;
    bool chat;
    int rc = think_tokens_of(cmd, dir, &think, &chat);
    if (rc != CLI_OK) return rc;
    owned *o = calloc(1, sizeof *o);
    if (!o) return cli_fail(cmd, "out of memory");
    rc = cli_open_device(cmd, -1, &o->ctx);
    if (rc != CLI_OK) {
        free(o);
        return rc;
    }
    vkt_error *err = vkt_ctx_err(o->ctx); // one channel for the pure calls and the device
    rc = open_model(cmd, o, dir);
    if (rc == CLI_OK && vkt_checkpoint_tokenizer(dir, vkt_model_cfg(o->m), &o->tok, err) != VKT_OK)
        rc = cli_fail(cmd, "ckpt:%s: %s", dir, err->msg);
    if (rc == CLI_OK && vkt_tok_kind_of(o->tok) == VKT_TOK_BYTE)
        vkt_tok_free(o->tok), o->tok = NULL;
    o->fmt = (vkt_rl_fmt){.think = think, .tok = o->tok, .chat = chat};
    if (rc == CLI_OK && vkt_rl_fmt_prepare(&o->fmt, err) != VKT_OK)
        rc = cli_fail(cmd, "ckpt:%s: %s", dir, err->msg);
    // A pretrained model's context would size the cache: a game's prompt and answer need far less.
    const int ctx_len = rc == CLI_OK ? vkt_model_cfg(o->m)->context : 0;
    const int len = o->tok && ctx_len > 1024 + think ? 1024 + think : 0;
    if (rc == CLI_OK && (vkt_gen_create(o->m, 1, len, 0, &o->gen) != VKT_OK ||
                         vkt_rl_model_agent(o->gen, &o->fmt, &o->inner) != VKT_OK))
        rc = cli_fail(cmd, "ckpt:%s: %s", dir, err->msg);
    if (rc != CLI_OK) {
        vkt_rl_fmt_free(&o->fmt);
        vkt_tok_free(o->tok);
        if (o->gen) vkt_gen_destroy(o->gen);
        cli_model_close(&o->cm);
        vkt_ctx_destroy(o->ctx);
        free(o);
        return rc;
    }
    *out = (vkt_agent){o, "model", o_act, o_probs, o_destroy};
    return CLI_OK;
}
