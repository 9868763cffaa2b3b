// cmd_steer_efficiency_model.c: the model of `vkt steer efficiency` (cmd_steer_efficiency.h):
// vkt's byte-level task model, or a Hugging Face checkpoint read through its tokenizer.json
// (docs/efficiency_steering.md, "On a pretrained model").
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_steer_efficiency.h"
#include "generate.h"

#define CMD EFF_CMD

void eff_model_close(eff_model *em) {
    vkt_gen_destroy(em->g);
    cli_model_close(&em->cm);
    vkt_tok_free(em->tok);
    memset(em, 0, sizeof *em);
}

// Problems whose prompts are the longest a tokenizer may make (operands of every digit
// pattern); every tag is tried with each.
static const int PROBE[][2] = {{10, 10}, {47, 35}, {99, 99}, {11, 88}, {64, 19}};

// The longest prompt over every tag x PROBE, and the concise trace of 47+35 (its tokens,
// its bytes, its decision rows).
static int probe(const eff_model *em, int *max_prompt, int *trace_tokens, int *trace_bytes,
                 int *decisions) {
    vkt_error err = {0};
    *max_prompt = 0;
    for (size_t k = 0; k < sizeof PROBE / sizeof *PROBE; k++)
        for (int t = 0; t < VKT_EFF_TAGS; t++) {
            vkt_tokens ids = {0};
            vkt_status s = vkt_eff_encode_prompt(&em->enc, t, PROBE[k][0], PROBE[k][1], &ids, &err);
            if (ids.n > (size_t)*max_prompt) *max_prompt = (int)ids.n;
            vkt_tokens_free(&ids);
            if (s != VKT_OK) return cli_fail(CMD, "%s", err.msg);
        }
    char comp[VKT_EFF_COMPLETION_MAX];
    const size_t lc = vkt_eff_completion(47, 35, 0, comp, sizeof comp);
    vkt_tokens ids = {0};
    int *ends = NULL;
    if (vkt_eff_encode_completion(&em->enc, comp, &ids, &ends, &err) != VKT_OK) {
        vkt_tokens_free(&ids);
        return cli_fail(CMD, "%s", err.msg);
    }
    *trace_tokens = (int)ids.n, *trace_bytes = (int)lc, *decisions = 0;
    for (size_t j = 0; j < ids.n; j++) *decisions += vkt_eff_decision_at(comp, lc, (size_t)ends[j]);
    vkt_tokens_free(&ids), free(ends);
    return CLI_OK;
}

// Tokenizer and encoding: bytes for vkt's own models; --chat resolved against the template.
static int open_encoding(const eff_opts *o, const char *ckpt, const vkt_model_config *cfg,
                         eff_model *em) {
    vkt_error err = {0};
    if (vkt_checkpoint_tokenizer(ckpt, cfg, &em->tok, &err) != VKT_OK)
        return cli_fail(CMD, "%s", err.msg);
    const bool hf = vkt_tok_kind_of(em->tok) == VKT_TOK_HF,
               has_template = hf && vkt_tok_chat_template(em->tok);
    if (o->chat == EFF_CHAT_ON && !has_template)
        return cli_usage_error(CMD, "--chat on: %s has no chat template (%s)", ckpt,
                               hf ? "tokenizer_config.json has no chat_template"
                                  : "a byte-level model");
    em->enc = (vkt_eff_enc){hf ? em->tok : NULL,
                            o->chat == EFF_CHAT_ON || (o->chat == EFF_CHAT_AUTO && has_template),
                            NULL, -1};
    if (em->enc.chat) {
        em->enc.system = o->system;
        if (o->thinking) em->enc.enable_thinking = !strcmp(o->thinking, "on");
    }
    return CLI_OK;
}

// Says how the task reads in the model's tokens; drops or refuses the decision direction
// when no trace token ends a column line.
static int describe(const eff_opts *o, const char *ckpt, eff_model *em, int *max_prompt,
                    int *trace_tokens) {
    int trace_bytes = 0, decisions = 0;
    int rc = probe(em, max_prompt, trace_tokens, &trace_bytes, &decisions);
    if (rc != CLI_OK) return rc;
    em->kinds = o->kinds;
    if (vkt_eff_enc_is_bytes(&em->enc)) return CLI_OK;
    char p[VKT_EFF_PROMPT_MAX];
    vkt_eff_prompt(0, 47, 35, p, sizeof p);
    vkt_tokens ids = {0};
    vkt_error err = {0};
    vkt_eff_encode_prompt(&em->enc, 0, 47, 35, &ids, &err);
    const int think = em->enc.chat ? em->enc.enable_thinking : -1;
    fprintf(stderr,
            "vkt %s: %s/tokenizer.json: prompts %s%s%s; \"%s\" is %zu tokens (longest prompt %d); "
            "the concise "
            "trace of 47+35 is %d tokens for %d bytes, %d decision rows\n",
            CMD, ckpt,
            em->enc.chat ? "as a user turn of the chat template" : "as plain text (--chat off)",
            think < 0 ? ""
            : think   ? ", thinking on"
                      : ", thinking off",
            em->enc.chat && em->enc.system ? ", with a system message" : "", p, ids.n, *max_prompt,
            *trace_tokens, trace_bytes, decisions);
    vkt_tokens_free(&ids);
    if (decisions == 0 && (em->kinds >> 3 & 1u)) {
        if (o->kinds_given)
            return cli_usage_error(
                CMD,
                "--kinds decision: %s's tokenizer merges the newline before \"tens:\" / "
                "\"ans=\" into the next token, so no trace token ends a column line; leave "
                "decision out of --kinds",
                ckpt);
        em->kinds &= ~(1u << 3);
        fprintf(stderr,
                "vkt %s: the decision direction is left out: no trace token of this tokenizer ends "
                "a column "
                "line\n",
                CMD);
    }
    return CLI_OK;
}

int eff_model_open(vkt_ctx *ctx, const eff_opts *o, const char *ckpt, int gen_batch,
                   eff_model *out) {
    memset(out, 0, sizeof *out);
    vkt_model_config cfg;
    if (vkt_checkpoint_config(ckpt, &cfg, vkt_ctx_err(ctx)) != VKT_OK)
        return cli_fail(CMD, "%s", vkt_ctx_message(ctx));
    int max_prompt = 0, trace_tokens = 0;
    int rc = open_encoding(o, ckpt, &cfg, out);
    if (rc == CLI_OK) rc = describe(o, ckpt, out, &max_prompt, &trace_tokens);
    // vkt's own model keeps its plan of VKT_EFF_PROMPT_MAX + 128 positions (by default).
    const bool bytes = vkt_eff_enc_is_bytes(&out->enc);
    if (bytes)
        max_prompt = VKT_EFF_PROMPT_MAX;
    else
        max_prompt += 8; // a problem whose digits tokenize longer than the probes'
    out->max_len = max_prompt + (int)o->max_new;
    // The capture runs the prompt and the trace, padded to a multiple of 8.
    int cap_len = (max_prompt + (bytes ? VKT_EFF_COMPLETION_MAX : trace_tokens + 8) + 7) / 8 * 8;
    if (rc == CLI_OK && cfg.context < out->max_len)
        rc = cli_usage_error(
            CMD,
            "%s: context %d is too short for the task (needs %d: prompts of up to %d tokens and "
            "--max-new-tokens %ld)",
            ckpt, cfg.context, out->max_len, max_prompt, o->max_new);
    if (cap_len > cfg.context) cap_len = cfg.context;
    cli_model_args ma = {ckpt, o->adapter, o->weights, false, false};
    if (rc == CLI_OK) rc = cli_model_open(CMD, ctx, &ma, &out->cm);
    char what[128];
    snprintf(what, sizeof what, "caches and activations for %d sequences of %d tokens", gen_batch,
             out->max_len);
    if (rc == CLI_OK)
        rc = cli_model_reserve(CMD, ctx, &out->cm,
                               vkt_gen_bytes(out->cm.m, gen_batch, out->max_len, 0), what);
    snprintf(what, sizeof what, "activations to capture 16 rows of %d tokens", cap_len);
    if (rc == CLI_OK)
        rc = cli_model_reserve(CMD, ctx, &out->cm, vkt_model_plan_bytes(out->cm.m, 16, cap_len),
                               what);
    if (rc == CLI_OK && vkt_gen_create(out->cm.m, gen_batch, out->max_len, 0, &out->g) != VKT_OK)
        rc = cli_fail(CMD, "generation plan: %s", vkt_ctx_message(ctx));
    if (rc != CLI_OK) eff_model_close(out);
    return rc;
}
