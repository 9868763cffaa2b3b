// vkt steer: residual-stream capture and steering-vector extraction (docs/steering.md).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "atomic_file.h"
#include "checkpoint.h"
#include "cli.h"
#include "cli_opt.h"
#include "cli_device.h"
#include "cli_model.h"
#include "commands.h"
#include "generate.h"
#include "gguf.h"
#include "safetensors.h"
#include "steer.h"

static void usage(FILE *f) {
    fprintf(
        f,
        "usage: vkt steer capture --ckpt DIR --prompts FILE --out acts.safetensors [options]\n"
        "       vkt steer extract --ckpt DIR --pos FILE --neg FILE --out vec.gguf [options]\n"
        "       vkt steer efficiency --out DIR [--ckpt DIR] [options]\n"
        "       vkt steer efficiency-data --out DIR [options]\n\n"
        "Steering vectors on the residual stream. Layer N (0..L-1) is the output of block N\n"
        "counted from 0, where llama.cpp and repeng apply direction.N (there is no direction.0,\n"
        "so extract writes layers 1..L-1). Prompt files hold one prompt per line\n"
        "(empty lines skipped; \\n \\t \\r \\\\ unescaped; special tokens such as <|user|> "
        "parsed),\n"
        "tokenized by the checkpoint's tokenizer (DIR/tokenizer.json, else one token per byte).\n"
        "See docs/steering.md. vkt steer SUBCOMMAND --help for the options.\n");
}

static const cli_cmd CAPTURE = {
    .name = "steer capture",
    .usage =
        "usage: vkt steer capture --ckpt DIR --prompts FILE --out acts.safetensors [options]\n",
    .about =
        "Runs every prompt through the model on the device and saves the residual stream at the\n"
        "chosen layers and positions: tensors layer.N (rows, C) F32, prompt_index (rows) and\n"
        "token_index (rows) as F32 (exact integers), metadata positions, prompts, layers, rows.\n",
};

static const cli_cmd EXTRACT = {
    .name = "steer extract",
    .usage = "usage: vkt steer extract --ckpt DIR --pos FILE --neg FILE --out vec.gguf [options]\n",
    .about =
        "Captures the last token of every line of --pos and --neg (paired by line) and writes\n"
        "one direction per layer as a GGUF control vector (llama.cpp --control-vector, repeng):\n"
        "  mean: mean(pos) - mean(neg), not normalised;\n"
        "  pca:  first principal component of the paired differences pos_i - neg_i, unit norm,\n"
        "        sign so that positives project higher than negatives on average.\n",
};

static const char *model_hint(const vkt_model_config *c) {
    return c->family == VKT_FAMILY_GPT2 ? "gpt2" : "llama";
}

// The flags both subcommands take.
typedef struct common {
    const char *ckpt, *out, *layers, *weights, *adapter;
    int device, batch;
    bool json;
} common;

static int opt_weights(const cli_opt *opt, const char *cmd, const char *const *v) {
    if (cli_weights_check(cmd, v[0]) != CLI_OK) return CLI_USAGE;
    *(const char **)opt->dest = v[0];
    return CLI_OK;
}

#define COMMON_BATCH(o)                                                                            \
    { "--batch", CLI_OPT_INT, &(o)->batch, 1, 65536, "N", .help = "prompts per forward pass" }
#define COMMON_MODEL(o, weights_help)                                                              \
    {"--weights",          CLI_OPT_CUSTOM, &(o)->weights,       .metavar = "W",                    \
     .parse = opt_weights, .def = "auto",  .help = weights_help},                                  \
        {"--adapter", CLI_OPT_STR, &(o)->adapter, .metavar = "DIR",                                \
         .help = "apply a PEFT LoRA adapter"},                                                     \
        CLI_OPT_DEVICE(&(o)->device)

// Config and layer range (before any device is opened, so bad input fails fast).
// lo: the first layer allowed (0 for capture, 1 for extract: there is no direction.0).
static int check_common(const char *cmd, const common *o, int lo, vkt_model_config *cfg, int *first,
                        int *last) {
    vkt_error err = {0};
    if (!o->ckpt) return cli_usage_error(cmd, "--ckpt DIR is required");
    if (!o->out) return cli_usage_error(cmd, "--out FILE is required");
    if (vkt_checkpoint_config(o->ckpt, cfg, &err) != VKT_OK) return cli_fail(cmd, "%s", err.msg);
    if (!o->layers) {
        *first = lo, *last = cfg->layers - 1;
        if (*first > *last)
            return cli_usage_error(cmd, "a model of %d block(s) has no steerable layer",
                                   cfg->layers);
    } else if (vkt_steer_parse_layers(o->layers, cfg->layers, lo, first, last, &err) != VKT_OK) {
        return cli_usage_error(cmd, "--layers: %s", err.msg);
    }
    return CLI_OK;
}

// The checkpoint's tokenizer (refused when the model's vocabulary is smaller).
static int open_tokenizer(const char *cmd, const common *o, const vkt_model_config *cfg,
                          vkt_tok **tok) {
    vkt_error err = {0};
    if (vkt_checkpoint_tokenizer(o->ckpt, cfg, tok, &err) != VKT_OK)
        return cli_fail(cmd, "%s", err.msg);
    return CLI_OK;
}

// The model, frozen (16-bit for a bf16/fp16 checkpoint unless --weights says otherwise).
static int open_model(const char *cmd, const common *o, vkt_ctx **ctx, cli_model *cm) {
    int rc = cli_open_device(cmd, o->device, ctx);
    if (rc != CLI_OK) return rc;
    cli_model_args a = {o->ckpt, o->adapter, o->weights, false, false};
    if ((rc = cli_model_open(cmd, *ctx, &a, cm)) != CLI_OK) vkt_ctx_destroy(*ctx);
    return rc;
}

static int read_prompts(const char *cmd, vkt_tok *tok, const char *flag, const char *path,
                        const char *boundary, vkt_steer_prompts *p) {
    vkt_error err = {0};
    vkt_status s = vkt_steer_prompts_read_tok(tok, path, boundary, p, &err);
    if (s == VKT_OK) return CLI_OK;
    return s == VKT_ERR_ARG ? cli_usage_error(cmd, "%s: %s", flag, err.msg)
                            : cli_fail(cmd, "%s: %s", flag, err.msg);
}

// --generate: samples up to max_new tokens after every prompt (prompt i on stream i),
// writes OUT.generations.jsonl ({"prompt", "generation", "tokens", "finish"} per line,
// temp + rename) and replaces P's prompts by prompt + every sampled token (a final
// EOS included, so every prompt has at least one response row),
// response_start = the prompt's length. Reports into m's context.
static vkt_status generate_then_extend(vkt_model *m, vkt_tok *tkz, vkt_steer_prompts *P,
                                       int max_new, double temperature, uint64_t seed,
                                       const char *out) {
    vkt_error *err = vkt_ctx_err(vkt_model_ctx(m));
    const int n = P->n, ctxlen = vkt_model_cfg(m)->context;
    if (n < 1) return vkt_fail(err, VKT_ERR_ARG, "--generate: no prompts");
    for (int i = 0; i < n; i++)
        if (P->p[i].n >= ctxlen)
            return vkt_fail(err, VKT_ERR_ARG,
                            "--generate: prompt on line %d has %d tokens, no room left in the "
                            "model's context of %d",
                            P->line[i], P->p[i].n, ctxlen);
    vkt_gen *g = NULL;
    vkt_gen_prompt *gp = calloc((size_t)n, sizeof *gp);
    vkt_gen_result *res = calloc((size_t)n, sizeof *res);
    if (!gp || !res) {
        free(gp), free(res);
        return vkt_fail(err, VKT_ERR_NOMEM, "--generate: %d prompts", n);
    }
    int longest = 0;
    for (int i = 0; i < n; i++) longest = P->p[i].n > longest ? P->p[i].n : longest;
    int max_len = longest + max_new < ctxlen ? longest + max_new : ctxlen;
    vkt_status s = vkt_gen_create(m, n < 64 ? n : 64, max_len, 0, &g);
    if (s != VKT_OK) vkt_fail_wrap(err, "--generate");
    for (int i = 0; i < n; i++) gp[i] = (vkt_gen_prompt){P->p[i].tokens, P->p[i].n, (uint64_t)i};
    vkt_gen_opts go;
    vkt_gen_defaults(&go);
    go.max_new_tokens = max_new, go.temperature = temperature, go.greedy = temperature <= 0,
    go.seed = seed;
    go.tok = tkz;
    if (s == VKT_OK && (s = vkt_generate(g, gp, n, &go, res)) != VKT_OK)
        vkt_fail_wrap(err, "--generate");
    vkt_gen_destroy(g);
    // New token storage: every prompt followed by its generation.
    int64_t total = 0;
    for (int i = 0; i < n; i++) total += P->p[i].n + res[i].n;
    int32_t *tok = s == VKT_OK ? malloc((size_t)total * sizeof *tok) : NULL;
    if (s == VKT_OK && !tok)
        s = vkt_fail(err, VKT_ERR_NOMEM, "--generate: %lld tokens", (long long)total);
    json_t *lines = json_array();
    for (int64_t i = 0, at = 0; s == VKT_OK && i < n; i++) {
        vkt_steer_prompt *p = &P->p[i];
        const int k = res[i].n;
        memcpy(tok + at, p->tokens, (size_t)p->n * sizeof *tok);
        memcpy(tok + at + p->n, res[i].tokens, (size_t)k * sizeof *tok);
        char *ptext = NULL;
        size_t plen = 0;
        if (vkt_tok_decode(tkz, p->tokens, (size_t)p->n, 0, &ptext, &plen, NULL) != VKT_OK)
            plen = 0;
        json_t *o = json_object();
        json_object_set_new(o, "prompt", json_stringn(ptext ? ptext : "", plen));
        json_object_set_new(o, "generation", json_stringn(res[i].text, res[i].text_len));
        json_object_set_new(o, "tokens", json_integer(res[i].n));
        json_object_set_new(o, "finish", json_string(vkt_finish_name(res[i].finish)));
        json_array_append_new(lines, o);
        free(ptext);
        const int pn = p->n;
        *p = (vkt_steer_prompt){tok + at, pn + k, pn};
        at += pn + k;
    }
    if (s == VKT_OK) {
        free(P->tokens);
        P->tokens = tok;
        size_t len = strlen(out) + 32;
        char *path = malloc(len);
        vkt_atomic_file af = {0};
        if (!path)
            s = vkt_fail(err, VKT_ERR_NOMEM, "--generate: path");
        else
            snprintf(path, len, "%s.generations.jsonl", out);
        if (s == VKT_OK) s = vkt_atomic_file_open(&af, path, err);
        for (size_t i = 0; s == VKT_OK && i < json_array_size(lines); i++) {
            char *line = json_dumps(json_array_get(lines, i),
                                    JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
            if (!line) s = vkt_fail(err, VKT_ERR_NOMEM, "--generate: json");
            if (s == VKT_OK) s = vkt_atomic_file_write(&af, line, strlen(line), err);
            if (s == VKT_OK) s = vkt_atomic_file_write(&af, "\n", 1, err);
            free(line);
        }
        if (s == VKT_OK) s = vkt_atomic_file_commit(&af, err);
        vkt_atomic_file_abort(&af);
        free(path);
    } else {
        free(tok);
    }
    json_decref(lines);
    for (int i = 0; i < n; i++) vkt_gen_result_free(&res[i]);
    free(gp), free(res);
    return s;
}

typedef struct capture_args {
    common o;
    const char *prompts, *positions, *boundary;
    int gen_tokens;
    double temperature;
    uint64_t seed;
    vkt_steer_pos pos;
} capture_args;

static int capture_parse(int argc, char **argv, capture_args *c) {
    const char *cmd = CAPTURE.name;
    common *o = &c->o;
    const cli_opt table[] = {
        {"--ckpt", CLI_OPT_STR, &o->ckpt, .metavar = "DIR",
         .help = "model checkpoint (vkt train / Hugging Face GPT-2 or Llama)"},
        {"--prompts", CLI_OPT_STR, &c->prompts, .metavar = "FILE", .help = "one prompt per line"},
        {"--layers", CLI_OPT_STR, &o->layers, .metavar = "A-B", .def = "all",
         .help = "layers to capture, 0..L-1"},
        {"--positions", CLI_OPT_STR, &c->positions, .metavar = "P",
         .help = "last: each prompt's last token; all: every token;\n"
                 "response: the tokens after --boundary in each line"},
        {"--boundary", CLI_OPT_STR, &c->boundary, .metavar = "STR", .def = "<|assistant|>",
         .help = "prompt/response boundary for --positions response"},
        {"--generate", CLI_OPT_INT, &c->gen_tokens, 1, 1 << 20, "N", .def = "",
         .help = "first generate up to N tokens after each prompt (stops at an EOS token)\n"
                 "and capture prompt + generation; --positions response is then every\n"
                 "sampled token (the EOS included). Texts: OUT.generations.jsonl"},
        {"--temperature", CLI_OPT_DOUBLE, &c->temperature, 0, 100, "T",
         .help = "sampling temperature for --generate (0: greedy)"},
        {"--seed", CLI_OPT_U64, &c->seed, .metavar = "S",
         .help = "sampling seed for --generate (prompt i on stream i)"},
        COMMON_BATCH(o),
        {"--out", CLI_OPT_STR, &o->out, .metavar = "FILE", .help = "output .safetensors"},
        COMMON_MODEL(o,
                     "auto|fp32|bf16|f16 (auto: 16-bit for a bf16/fp16 llama-family checkpoint)"),
        {"--json", CLI_OPT_FLAG, &o->json, .help = "print a JSON summary"},
        {0},
    };
    int rc = cli_parse(&CAPTURE, table, argc, argv);
    if (rc != CLI_OK) return rc;
    vkt_error err = {0};
    if (vkt_steer_pos_parse(c->positions, &c->pos, &err) != VKT_OK)
        return cli_usage_error(cmd, "--positions: %s", err.msg);
    if (c->boundary && (c->pos != VKT_STEER_POS_RESPONSE || c->gen_tokens))
        return cli_usage_error(
            cmd, "--boundary only applies to --positions response without --generate");
    if (c->pos == VKT_STEER_POS_RESPONSE && !c->boundary && !c->gen_tokens)
        c->boundary = "<|assistant|>";
    if (!c->prompts) return cli_usage_error(cmd, "--prompts FILE is required");
    return CLI_OK;
}

// Writes the capture: tensors layer.N (rows, C), prompt_index and token_index (rows) as exact
// F32 integers, and the metadata.
static vkt_status capture_write(const capture_args *c, const vkt_steer_acts *a,
                                const vkt_model_config *cfg, int first, int last, vkt_error *err) {
    int ne = a->n_layers + 2;
    vkt_st_entry *e = calloc((size_t)ne, sizeof *e);
    char(*names)[32] = calloc((size_t)a->n_layers, sizeof *names);
    float *pi = malloc((size_t)a->rows * sizeof *pi), *ti = malloc((size_t)a->rows * sizeof *ti);
    int64_t shape2[2] = {a->rows, a->C}, shape1[1] = {a->rows};
    vkt_status s;
    if (!e || !names || !pi || !ti) {
        s = vkt_fail(err, VKT_ERR_NOMEM, "capture output");
    } else {
        for (int k = 0; k < a->n_layers; k++) {
            snprintf(names[k], sizeof names[k], "layer.%d", a->first_layer + k);
            e[k] = (vkt_st_entry){names[k], 2, shape2, vkt_steer_acts_layer(a, a->first_layer + k)};
        }
        for (int64_t r = 0; r < a->rows; r++)
            pi[r] = (float)a->prompt_index[r], ti[r] = (float)a->token_index[r];
        e[a->n_layers] = (vkt_st_entry){"prompt_index", 1, shape1, pi};
        e[a->n_layers + 1] = (vkt_st_entry){"token_index", 1, shape1, ti};
        char sp[24], sl[48], sr[24], sc[24], sg[24];
        snprintf(sp, sizeof sp, "%d", a->n_prompts);
        snprintf(sl, sizeof sl, "%d-%d", first, last);
        snprintf(sr, sizeof sr, "%lld", (long long)a->rows);
        snprintf(sc, sizeof sc, "%d", a->C);
        snprintf(sg, sizeof sg, "%d", c->gen_tokens);
        const char *meta[18] = {"format",     "vkt-steer-capture",
                                "positions",  vkt_steer_pos_name(c->pos),
                                "prompts",    sp,
                                "layers",     sl,
                                "rows",       sr,
                                "width",      sc,
                                "model_type", model_hint(cfg)};
        int nm = 7;
        if (c->boundary) meta[2 * nm] = "boundary", meta[2 * nm + 1] = c->boundary, nm++;
        if (c->gen_tokens) meta[2 * nm] = "generate_max_tokens", meta[2 * nm + 1] = sg, nm++;
        s = vkt_safetensors_write(c->o.out, e, ne, meta, nm, err);
    }
    free(e), free(names), free(pi), free(ti);
    return s;
}

static int steer_capture(int argc, char **argv) {
    const char *cmd = CAPTURE.name;
    capture_args c = {
        .o = {.device = -1, .batch = 16}, .positions = "last", .temperature = 1.0, .seed = 1};
    int rc = capture_parse(argc, argv, &c);
    if (rc != CLI_OK) return rc == CLI_HELP ? CLI_OK : rc;
    const common *o = &c.o;
    vkt_model_config cfg;
    int first, last;
    if ((rc = check_common(cmd, o, 0, &cfg, &first, &last)) != CLI_OK) return rc;
    vkt_tok *tok;
    if ((rc = open_tokenizer(cmd, o, &cfg, &tok)) != CLI_OK) return rc;
    vkt_steer_prompts P;
    if ((rc = read_prompts(cmd, tok, "--prompts", c.prompts, c.boundary, &P)) != CLI_OK) {
        vkt_tok_free(tok);
        return rc;
    }
    vkt_ctx *ctx;
    cli_model cm;
    if ((rc = open_model(cmd, o, &ctx, &cm)) != CLI_OK) {
        vkt_steer_prompts_free(&P), vkt_tok_free(tok);
        return rc;
    }
    vkt_steer_acts a;
    vkt_status s = VKT_OK;
    if (c.gen_tokens)
        s = generate_then_extend(cm.m, tok, &P, c.gen_tokens, c.temperature, c.seed, o->out);
    vkt_tok_free(tok);
    if (s == VKT_OK) s = vkt_steer_capture(cm.m, P.p, P.n, first, last, c.pos, o->batch, &a);
    if (s != VKT_OK)
        rc = s == VKT_ERR_ARG ? cli_usage_error(cmd, "%s", vkt_ctx_message(ctx))
                              : cli_fail(cmd, "%s", vkt_ctx_message(ctx));
    cli_model_close(&cm);
    vkt_ctx_destroy(ctx);
    if (s != VKT_OK) {
        vkt_steer_prompts_free(&P);
        return rc;
    }
    vkt_error err = {0}; // the device is closed
    s = capture_write(&c, &a, &cfg, first, last, &err);
    if (s == VKT_OK && o->json)
        printf("{\"prompts\": %d, \"rows\": %lld, \"width\": %d, \"layers\": [%d, %d], "
               "\"positions\": \"%s\", "
               "\"out\": \"%s\"}\n",
               a.n_prompts, (long long)a.rows, a.C, first, last, vkt_steer_pos_name(c.pos), o->out);
    else if (s == VKT_OK)
        fprintf(stderr,
                "vkt steer capture: %lld rows x %d floats at layers %d-%d from %d prompts -> %s\n",
                (long long)a.rows, a.C, first, last, a.n_prompts, o->out);
    vkt_steer_acts_free(&a);
    vkt_steer_prompts_free(&P);
    return s == VKT_OK ? CLI_OK : cli_fail(cmd, "%s", err.msg);
}

static int steer_extract(int argc, char **argv) {
    const char *cmd = EXTRACT.name;
    common o = {.device = -1, .batch = 16};
    const char *posf = NULL, *negf = NULL, *method = "pca";
    const cli_opt table[] = {
        {"--ckpt", CLI_OPT_STR, &o.ckpt, .metavar = "DIR", .help = "model checkpoint"},
        {"--pos", CLI_OPT_STR, &posf, .metavar = "FILE", .help = "positive prompts, one per line"},
        {"--neg", CLI_OPT_STR, &negf, .metavar = "FILE",
         .help = "negative prompts, as many as --pos"},
        {"--method", CLI_OPT_STR, &method, .metavar = "M", .help = "pca or mean"},
        {"--layers", CLI_OPT_STR, &o.layers, .metavar = "A-B", .def = "all",
         .help = "layers to extract, 1..L-1"},
        COMMON_BATCH(&o),
        {"--out", CLI_OPT_STR, &o.out, .metavar = "FILE", .help = "output .gguf"},
        COMMON_MODEL(&o, "auto|fp32|bf16|f16 (as for capture)"),
        {"--json", CLI_OPT_FLAG, &o.json,
         .help = "print a JSON summary (per layer: norm, separation, explained)"},
        {0},
    };
    int rc = cli_parse(&EXTRACT, table, argc, argv);
    if (rc != CLI_OK) return rc == CLI_HELP ? CLI_OK : rc;
    vkt_error err = {0};
    vkt_steer_method meth;
    if (vkt_steer_method_parse(method, &meth, &err) != VKT_OK)
        return cli_usage_error(cmd, "--method: %s", err.msg);
    if (!posf) return cli_usage_error(cmd, "--pos FILE is required");
    if (!negf) return cli_usage_error(cmd, "--neg FILE is required");
    vkt_model_config cfg;
    int first, last;
    rc = check_common(cmd, &o, 1, &cfg, &first, &last);
    if (rc != CLI_OK) return rc;
    vkt_tok *tok;
    if ((rc = open_tokenizer(cmd, &o, &cfg, &tok)) != CLI_OK) return rc;
    vkt_steer_prompts P = {0}, N = {0};
    rc = read_prompts(cmd, tok, "--pos", posf, NULL, &P);
    if (rc == CLI_OK && (rc = read_prompts(cmd, tok, "--neg", negf, NULL, &N)) != CLI_OK)
        vkt_steer_prompts_free(&P);
    vkt_tok_free(tok);
    if (rc != CLI_OK) return rc;
    if (P.n != N.n) {
        rc = cli_usage_error(
            cmd, "%s has %d prompts but %s has %d: --pos and --neg are paired line by line", posf,
            P.n, negf, N.n);
        vkt_steer_prompts_free(&P), vkt_steer_prompts_free(&N);
        return rc;
    }
    // One capture of pos then neg: prompts [0, n) positive, [n, 2n) negative.
    const int n = P.n;
    vkt_steer_prompt *all = malloc(2 * (size_t)n * sizeof *all);
    if (!all) {
        vkt_steer_prompts_free(&P), vkt_steer_prompts_free(&N);
        return cli_fail(cmd, "out of memory");
    }
    memcpy(all, P.p, (size_t)n * sizeof *all);
    memcpy(all + n, N.p, (size_t)n * sizeof *all);
    vkt_ctx *ctx;
    cli_model cm;
    if ((rc = open_model(cmd, &o, &ctx, &cm)) != CLI_OK) {
        free(all), vkt_steer_prompts_free(&P), vkt_steer_prompts_free(&N);
        return rc;
    }
    vkt_steer_acts a;
    vkt_status s =
        vkt_steer_capture(cm.m, all, 2 * n, first, last, VKT_STEER_POS_LAST, o.batch, &a);
    if (s != VKT_OK)
        rc = s == VKT_ERR_ARG ? cli_usage_error(cmd, "%s", vkt_ctx_message(ctx))
                              : cli_fail(cmd, "%s", vkt_ctx_message(ctx));
    cli_model_close(&cm);
    vkt_ctx_destroy(ctx);
    free(all), vkt_steer_prompts_free(&P), vkt_steer_prompts_free(&N);
    if (s != VKT_OK) return rc;
    const int nl = last - first + 1, C = a.C;
    float *dirs = malloc((size_t)nl * C * sizeof *dirs);
    int *layers = malloc((size_t)nl * sizeof *layers);
    vkt_steer_dir_info *info = calloc((size_t)nl, sizeof *info);
    if (!dirs || !layers || !info) s = vkt_fail(&err, VKT_ERR_NOMEM, "directions");
    for (int k = 0; k < nl && s == VKT_OK; k++) {
        const float *h = vkt_steer_acts_layer(&a, first + k); // last-token rows: one per prompt
        layers[k] = first + k;
        s = vkt_steer_direction(h, h + (size_t)n * C, n, C, meth, dirs + (size_t)k * C, &info[k],
                                &err);
        if (s != VKT_OK) vkt_fail_wrap(&err, "layer %d", first + k);
    }
    if (s == VKT_OK)
        s = vkt_control_vector_write(o.out, model_hint(&cfg), (uint32_t)nl, C, nl, layers, dirs,
                                     &err);
    if (s == VKT_OK && o.json) {
        printf("{\"method\": \"%s\", \"pairs\": %d, \"width\": %d, \"model_hint\": \"%s\", "
               "\"out\": \"%s\", \"layers\": [",
               vkt_steer_method_name(meth), n, C, model_hint(&cfg), o.out);
        for (int k = 0; k < nl; k++)
            printf("%s{\"layer\": %d, \"norm\": %.6g, \"separation\": %.6g, \"explained\": %.6g}",
                   k ? ", " : "", layers[k], info[k].norm, info[k].separation, info[k].explained);
        printf("]}\n");
    } else if (s == VKT_OK) {
        for (int k = 0; k < nl; k++)
            fprintf(stderr, "layer %d: norm %.4g, separation %.4g, explained %.3f\n", layers[k],
                    info[k].norm, info[k].separation, info[k].explained);
        fprintf(stderr, "vkt steer extract: %s directions for layers %d-%d from %d pairs -> %s\n",
                vkt_steer_method_name(meth), first, last, n, o.out);
    }
    free(dirs), free(layers), free(info);
    vkt_steer_acts_free(&a);
    if (s == VKT_OK) return CLI_OK;
    return s == VKT_ERR_ARG ? cli_usage_error(cmd, "%s", err.msg) : cli_fail(cmd, "%s", err.msg);
}

int cmd_steer_efficiency_data(int argc, char **argv); // cmd_steer_efficiency.c
int cmd_steer_efficiency(int argc, char **argv);      // cmd_steer_efficiency_run.c

int cmd_steer(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(argv[1], "capture")) return steer_capture(argc - 1, argv + 1);
    if (!strcmp(argv[1], "extract")) return steer_extract(argc - 1, argv + 1);
    if (!strcmp(argv[1], "efficiency-data")) return cmd_steer_efficiency_data(argc - 1, argv + 1);
    if (!strcmp(argv[1], "efficiency")) return cmd_steer_efficiency(argc - 1, argv + 1);
    return cli_usage_error(
        "steer", "unknown subcommand '%s' (capture, extract, efficiency or efficiency-data)",
        argv[1]);
}
