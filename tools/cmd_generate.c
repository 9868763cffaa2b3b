// vkt generate: sample from a checkpoint (vkt_generate): KV-cached, every prompt and
// sample batched, optional GGUF control vectors with llama.cpp's flags, and best-of-N
// selection of an extracted answer (trainer/model/select.h).
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "cli.h"
#include "cli_opt.h"
#include "cli_device.h"
#include "cli_model.h"
#include "gen_config.h"
#include "commands.h"
#include "cmd_generate_best_of.h"
#include "generate.h"
#include "select.h"
#include "tok_chat.h"

static const cli_cmd CMD = {
    .name = "generate",
    .usage = "usage: vkt generate --ckpt DIR (--prompt TEXT | --prompts FILE) [options]\n",
    .about = "Samples continuations of each prompt, tokenized by the checkpoint's tokenizer: "
             "DIR/tokenizer.json\n"
             "(with its BOS where it adds one), else one token per byte; special tokens' text in a "
             "prompt\n"
             "(<|endoftext|>, <|user|>, ...) are the special tokens. A sample stops at the "
             "tokenizer's EOS\n"
             "ids. All samples of all prompts are generated together.\n",
};

// Lines of a file (without \r\n); empty lines are skipped.
static char **read_lines(const char *path, int *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char **out = NULL, *line = NULL;
    size_t cap = 0;
    ssize_t len;
    *n = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (len == 0) continue;
        char **no = realloc(out, (size_t)(*n + 1) * sizeof *out);
        if (!no) break;
        out = no;
        out[(*n)++] = strdup(line);
    }
    free(line);
    fclose(f);
    if (!out) out = calloc(1, sizeof *out);
    return out;
}

#define MAX_LIST 64

static void free_lines(char **lines, int n) {
    for (int i = 0; lines && i < n; i++) free(lines[i]);
    free(lines);
}

// A prompt's tokens: its text with special tokens parsed (and the tokenizer's BOS), or with
// chat the model's chat template around it as the user's message (after system_msg, if any),
// ending with the assistant's header.
static vkt_status encode_prompt(vkt_tok *tok, const char *text, bool chat, const char *system_msg,
                                int thinking, vkt_tokens *ids, vkt_error *err) {
    if (!chat)
        return vkt_tok_encode(tok, text, strlen(text),
                              VKT_TOKF_PARSE_SPECIAL | VKT_TOKF_ADD_SPECIAL, ids, err);
    vkt_chat_msg msgs[2];
    int nm = 0;
    if (system_msg) msgs[nm++] = (vkt_chat_msg){"system", system_msg};
    msgs[nm++] = (vkt_chat_msg){"user", text};
    vkt_tok_chat_opts co = {.add_generation_prompt = true, .enable_thinking = thinking};
    return vkt_tok_chat_encode(tok, msgs, nm, &co, ids, err);
}

// The command line.
typedef struct gen_args {
    const char *ckpt, *prompts_file, *weights, *adapter, *system_msg, *select_s, *answer_re_s,
        *gold_file;
    const char *prompt_args[MAX_LIST], *stops[MAX_LIST], *cv_files[MAX_LIST];
    char *cv_owned[MAX_LIST]; // the file names cut from --control-vector-scaled values
    float cv_scales[MAX_LIST];
    int n_prompt_args, n_stops, n_cv, n_owned;
    int device, nsamp, batch, cv_range[2], best_n, thinking; // thinking: -1 unset, 0 off, 1 on
    bool json, n_given, allow_nonfinite, chat;
    double borda_power;
    vkt_gen_opts o;
    unsigned given; // VKT_GENCFG_* bits of the sampling flags given
} gen_args;

// A value appended to the list at dest (a const char *[MAX_LIST] of gen_args) and its count.
static int push(const char *cmd, const char *what, const char **list, int *n, const char *v) {
    if (*n == MAX_LIST) return cli_usage_error(cmd, "at most %d %s", MAX_LIST, what);
    list[(*n)++] = v;
    return CLI_OK;
}

static int opt_prompt(const cli_opt *opt, const char *cmd, const char *const *v) {
    gen_args *a = opt->dest;
    return push(cmd, "--prompt", a->prompt_args, &a->n_prompt_args, v[0]);
}

static int opt_stop(const cli_opt *opt, const char *cmd, const char *const *v) {
    gen_args *a = opt->dest;
    if (!*v[0]) return cli_usage_error(cmd, "--stop: empty string");
    return push(cmd, "--stop", a->stops, &a->n_stops, v[0]);
}

static int opt_cv(const cli_opt *opt, const char *cmd, const char *const *v) {
    gen_args *a = opt->dest;
    if (a->n_cv == MAX_LIST) return cli_usage_error(cmd, "at most %d control vectors", MAX_LIST);
    a->cv_scales[a->n_cv] = 1.0f;
    return push(cmd, "control vectors", a->cv_files, &a->n_cv, v[0]);
}

static int opt_cv_scaled(const cli_opt *opt, const char *cmd, const char *const *v) {
    gen_args *a = opt->dest;
    const char *colon = strrchr(v[0], ':');
    double dv;
    if (!colon || colon == v[0])
        return cli_usage_error(cmd, "--control-vector-scaled: expected FILE:SCALE, got '%s'", v[0]);
    if (!cli_double(cmd, "--control-vector-scaled", colon + 1, -1e9, 1e9, &dv)) return CLI_USAGE;
    if (a->n_cv == MAX_LIST) return cli_usage_error(cmd, "at most %d control vectors", MAX_LIST);
    if (!(a->cv_owned[a->n_owned] = strndup(v[0], (size_t)(colon - v[0]))))
        return cli_fail(cmd, "out of memory (%zu bytes)", (size_t)(colon - v[0]) + 1);
    a->cv_files[a->n_cv] = a->cv_owned[a->n_owned++];
    a->cv_scales[a->n_cv++] = (float)dv;
    return CLI_OK;
}

static int opt_layer_range(const cli_opt *opt, const char *cmd, const char *const *v) {
    int *r = opt->dest;
    long lo, hi;
    if (!cli_int(cmd, opt->name, v[0], 1, 100000, &lo) ||
        !cli_int(cmd, opt->name, v[1], 1, 100000, &hi))
        return CLI_USAGE;
    if (lo > hi) return cli_usage_error(cmd, "--control-vector-layer-range: %ld > %ld", lo, hi);
    r[0] = (int)lo, r[1] = (int)hi;
    return CLI_OK;
}

static int opt_weights(const cli_opt *opt, const char *cmd, const char *const *v) {
    if (cli_weights_check(cmd, v[0]) != CLI_OK) return CLI_USAGE;
    *(const char **)opt->dest = v[0];
    return CLI_OK;
}

static int parse_table(int argc, char **argv, gen_args *a) {
    vkt_gen_opts *o = &a->o;
    unsigned *g = &a->given;
    const char *BEST =
        "Best-of-N (arXiv 2502.18581): N samples per prompt, an answer extracted from each, one "
        "chosen.\nPrints the chosen answer of each prompt, one a line (an empty line when no "
        "sample has one).";
    const cli_opt table[] = {
        {"--ckpt", CLI_OPT_STR, &a->ckpt, .metavar = "DIR",
         .help = "checkpoint (config.json + model.safetensors)"},
        {"--prompt", CLI_OPT_CUSTOM, a, .metavar = "TEXT", .parse = opt_prompt,
         .help = "a prompt (repeatable)"},
        {"--prompts", CLI_OPT_STR, &a->prompts_file, .metavar = "FILE",
         .help = "one prompt per line"},
        {"-n", CLI_OPT_INT, &a->nsamp, 1, 1 << 20, "N", .given = &a->n_given,
         .help = "samples per prompt"},
        {"--max-new-tokens", CLI_OPT_INT, &o->max_new_tokens, 0, 1 << 24, "K",
         .help = "tokens per sample at most"},
        {"--temperature", CLI_OPT_DOUBLE, &o->temperature, 0, 1e6, "T", .bits = g,
         .bit = VKT_GENCFG_TEMPERATURE,
         .help = "0 = greedy; DIR/generation_config.json's do_sample, temperature,\n"
                 "top_k, top_p apply when stated, each overridden by its flag"},
        {"--top-k", CLI_OPT_INT, &o->top_k, 0, 1 << 30, "K", .bits = g, .bit = VKT_GENCFG_TOP_K,
         .help = "keep the K most probable tokens (0 = off)"},
        {"--top-p", CLI_OPT_DOUBLE, &o->top_p, 1e-9, 1, "P", .bits = g, .bit = VKT_GENCFG_TOP_P,
         .help = "nucleus sampling (1 = off)"},
        {"--greedy", CLI_OPT_FLAG, &o->greedy, .bits = g, .bit = VKT_GENCFG_GREEDY,
         .help = "argmax decoding"},
        {"--stop", CLI_OPT_CUSTOM, a, .metavar = "STR", .parse = opt_stop,
         .help = "stop when the text ends with STR (repeatable; cut from the text);\n"
                 "with a tokenizer.json, when STR ends within the newest token"},
        {"--include-stop", CLI_OPT_FLAG, &o->include_stop,
         .help = "keep the stop string in the text"},
        {"--seed", CLI_OPT_U64, &o->seed, .metavar = "S",
         .help = "sample k of prompt i uses stream i*N+k of seed S"},
        {"--batch", CLI_OPT_INT, &a->batch, 1, 65536, "N", .def = "all samples, at most 64",
         .help = "sequences in flight at once"},
        {"--control-vector", CLI_OPT_CUSTOM, a, .metavar = "F", .parse = opt_cv,
         .help = "add the GGUF control vector F (scale 1)"},
        {"--control-vector-scaled", CLI_OPT_CUSTOM, a, .metavar = "F:S", .parse = opt_cv_scaled,
         .help = "... scaled by S (repeatable; vectors are scaled and summed)"},
        {"--control-vector-layer-range", CLI_OPT_CUSTOM, a->cv_range, .metavar = "A B", .nargs = 2,
         .parse = opt_layer_range, .def = "all",
         .help = "apply direction.N only for A <= N <= B; direction.N edits the\n"
                 "output of block N counted from 0, as in llama.cpp: the first block (0)\n"
                 "is never edited"},
        {"--allow-nonfinite", CLI_OPT_FLAG, &a->allow_nonfinite,
         .help = "load weights and control vectors holding NaN/inf and sample from\n"
                 "non-finite logits (default: refused, naming where they are)"},
        {"--chat", CLI_OPT_FLAG, &a->chat,
         .help = "wrap each prompt as a user message in the model's chat template\n"
                 "(tokenizer_config.json), ending with the assistant's header"},
        {"--system", CLI_OPT_STR, &a->system_msg, .metavar = "TEXT",
         .help = "with --chat: a system message first"},
        {"--thinking", CLI_OPT_CHOICE, &a->thinking, .choices = "off|on", .metavar = "on|off",
         .help = "with --chat: the template's enable_thinking (Qwen3)"},
        {"--weights", CLI_OPT_CUSTOM, &a->weights, .metavar = "W", .parse = opt_weights,
         .def = "auto",
         .help = "auto|fp32|bf16|f16: the weights on the device (auto: 16-bit for a\n"
                 "bf16/fp16 checkpoint of the llama family, else fp32)"},
        {"--adapter", CLI_OPT_STR, &a->adapter, .metavar = "DIR",
         .help = "apply a PEFT LoRA adapter"},
        CLI_OPT_DEVICE(&a->device),
        {"--json", CLI_OPT_FLAG, &a->json,
         .help = "one JSON object: every sample's prompt tokens, text, tokens,\n"
                 "per-token logprob, entropy and self-certainty (temperature-1\n"
                 "model distribution), their means, and the generation speed;\n"
                 "with --best-of, a \"best_of\" object, and per prompt the chosen\n"
                 "answer and sample, each sample's answer, mean self-certainty, rank\n"
                 "and Borda weight, and the votes of each answer"},
        {"--best-of", CLI_OPT_INT, &a->best_n, 1, 1 << 20, "N", .group = BEST, .def = "",
         .help = "samples per prompt (the same as -n N)"},
        {"--answer-regex", CLI_OPT_STR, &a->answer_re_s, .metavar = "RE",
         .help = "POSIX extended regex; the answer is its group 1 (or the whole match)\n"
                 "in the LAST match with a non-empty answer; no match: no answer"},
        {"--select", CLI_OPT_STR, &a->select_s, .metavar = "RULE", .def = "self-certainty",
         .help = "self-certainty: the most self-certain sample with an answer;\n"
                 "majority: the most frequent answer (self-consistency);\n"
                 "borda: sample ranked r of N by self-certainty gives (N-r+1)^p votes;\n"
                 "vote ties go to the answer whose voters are more self-certain in\n"
                 "total, then to the answer that occurs first"},
        {"--borda-power", CLI_OPT_DOUBLE, &a->borda_power, 0, 1e3, "P",
         .help = "p of the Borda weights"},
        {"--gold", CLI_OPT_STR, &a->gold_file, .metavar = "FILE",
         .help = "expected answer of each prompt, one a line in prompt order: adds\n"
                 "correctness, the accuracy, and the accuracy of every rule at\n"
                 "N = 1, 2, 4, ... (averaged over the disjoint groups of N samples)"},
        {0},
    };
    return cli_parse(&CMD, table, argc, argv);
}

// Everything a run holds, freed by gen_free whichever step stopped it.
typedef struct gen_run {
    best_of bo;
    vkt_answer_re *answer_re;
    char **file_lines;
    int n_file, n_gold, np, total;
    vkt_tok *tok;
    const char **ptext;
    int32_t **pids;
    int *plen;
    vkt_gen_prompt *req;
    vkt_ctx *ctx;
    cli_model cm;
    bool model_open;
    vkt_gen *g;
    vkt_gen_result *res;
    double t0, t1;
} gen_run;

// The options and their combinations; the best-of rule and pattern compiled (before any work).
static int parse_args(int argc, char **argv, gen_args *a, gen_run *r) {
    int rc = parse_table(argc, argv, a);
    if (rc != CLI_OK) return rc;
    if (!a->ckpt) return cli_usage_error("generate", "--ckpt DIR is required");
    if (!a->n_prompt_args && !a->prompts_file)
        return cli_usage_error("generate", "give --prompt TEXT or --prompts FILE");
    a->o.stop = a->stops, a->o.n_stop = a->n_stops;
    a->o.allow_nonfinite = a->allow_nonfinite;
    vkt_error err = {0};
    if (a->best_n > 0) {
        if (a->n_given && a->nsamp != a->best_n)
            return cli_usage_error("generate", "-n %d and --best-of %d disagree", a->nsamp,
                                   a->best_n);
        a->nsamp = a->best_n;
        if (!a->answer_re_s)
            return cli_usage_error("generate", "--best-of needs --answer-regex RE");
        if (vkt_select_rule_parse(a->select_s ? a->select_s : "self-certainty", &r->bo.rule,
                                  &err) != VKT_OK)
            return cli_usage_error("generate", "--select: %s", err.msg);
        if (vkt_answer_re_compile(a->answer_re_s, &r->answer_re, &err) != VKT_OK)
            return cli_usage_error("generate", "--answer-regex: %s", err.msg);
        r->bo.N = a->best_n, r->bo.power = a->borda_power;
    } else if (a->select_s || a->answer_re_s || a->gold_file) {
        return cli_usage_error("generate", "--select, --answer-regex and --gold need --best-of N");
    }
    return CLI_OK;
}

// The prompts (--prompt values, then the file's lines), the gold answers, the tokenizer and
// generation_config.json, every prompt's tokens and the requests: one per sample.
static int load_prompts(gen_args *a, gen_run *r) {
    vkt_error err = {0};
    if (a->prompts_file && !(r->file_lines = read_lines(a->prompts_file, &r->n_file)))
        return cli_fail("generate", "%s: %s", a->prompts_file, strerror(errno));
    const int np = r->np = a->n_prompt_args + r->n_file;
    if (np > 0 && a->gold_file && !(r->bo.gold = read_lines(a->gold_file, &r->n_gold)))
        return cli_fail("generate", "%s: %s", a->gold_file, strerror(errno));
    if (np == 0) return cli_fail("generate", "%s has no prompts", a->prompts_file);
    if (a->gold_file && r->n_gold != np)
        return cli_usage_error("generate", "--gold %s has %d answers for %d prompts", a->gold_file,
                               r->n_gold, np);
    r->bo.np = np;
    // The checkpoint's tokenizer (refused when the model's vocabulary is smaller).
    if (vkt_checkpoint_tokenizer(a->ckpt, NULL, &r->tok, &err) != VKT_OK)
        return cli_fail("generate", "%s", err.msg);
    vkt_gen_opts *o = &a->o;
    o->tok = r->tok;
    unsigned applied = 0;
    if (vkt_gen_config_apply(a->ckpt, a->given, o, &applied, &err) != VKT_OK)
        return cli_fail("generate", "%s", err.msg);
    if (applied) {
        char what[160] = "";
        size_t k = 0;
        if (applied & VKT_GENCFG_GREEDY)
            k += (size_t)snprintf(what + k, sizeof what - k, " greedy");
        if (applied & VKT_GENCFG_TEMPERATURE)
            k += (size_t)snprintf(what + k, sizeof what - k, " temperature %g", o->temperature);
        if (applied & VKT_GENCFG_TOP_K)
            k += (size_t)snprintf(what + k, sizeof what - k, " top-k %d", o->top_k);
        if (applied & VKT_GENCFG_TOP_P) snprintf(what + k, sizeof what - k, " top-p %g", o->top_p);
        fprintf(stderr,
                "vkt generate: sampling as %s/generation_config.json says:%s (flags override)\n",
                a->ckpt, what);
    }
    r->ptext = malloc((size_t)np * sizeof *r->ptext);
    r->pids = calloc((size_t)np, sizeof *r->pids);
    r->plen = calloc((size_t)np, sizeof *r->plen);
    if (!r->ptext || !r->pids || !r->plen)
        return cli_fail("generate", "out of memory (%d prompts)", np);
    for (int i = 0; i < np; i++) {
        r->ptext[i] =
            i < a->n_prompt_args ? a->prompt_args[i] : r->file_lines[i - a->n_prompt_args];
        vkt_tokens ids = {0};
        vkt_status es =
            encode_prompt(r->tok, r->ptext[i], a->chat, a->system_msg, a->thinking, &ids, &err);
        if (es != VKT_OK) return cli_fail("generate", "prompt %d: %s", i, err.msg);
        if (ids.n == 0) return cli_usage_error("generate", "prompt %d is empty", i);
        if (ids.n > (size_t)1 << 30) return cli_usage_error("generate", "prompt %d is too long", i);
        r->pids[i] = ids.ids, r->plen[i] = (int)ids.n;
    }
    const int total = r->total = np * a->nsamp;
    r->req = malloc((size_t)total * sizeof *r->req);
    r->res = calloc((size_t)total, sizeof *r->res);
    if (!r->req || !r->res) return cli_fail("generate", "out of memory (%d samples)", total);
    for (int i = 0; i < np; i++)
        for (int k = 0; k < a->nsamp; k++)
            r->req[i * a->nsamp + k] =
                (vkt_gen_prompt){r->pids[i], r->plen[i], (uint64_t)(i * a->nsamp + k)};
    if (a->batch == 0) a->batch = total < 64 ? total : 64;
    return CLI_OK;
}

// The sum of the control vectors, as the generator's edit. Reports into r->ctx.
static vkt_status set_control_vectors(const gen_args *a, gen_run *r, const vkt_model_config *c) {
    vkt_error *err = vkt_ctx_err(r->ctx);
    vkt_control_vector *cvs = calloc((size_t)a->n_cv, sizeof *cvs);
    float *dirs = malloc((size_t)c->layers * c->width * sizeof *dirs);
    vkt_status s = cvs && dirs ? VKT_OK : vkt_fail(err, VKT_ERR_NOMEM, "control vectors");
    for (int i = 0; i < a->n_cv && s == VKT_OK; i++)
        s = vkt_control_vector_load_opt(&cvs[i], a->cv_files[i], a->allow_nonfinite, err);
    if (s == VKT_OK)
        s = vkt_gen_edit_from_control_vectors(cvs, a->cv_scales, a->n_cv, a->cv_range[0],
                                              a->cv_range[1], c->layers, c->width, dirs, err);
    if (s == VKT_OK) s = vkt_gen_set_edit(r->g, dirs);
    for (int i = 0; cvs && i < a->n_cv; i++) vkt_control_vector_free(&cvs[i]);
    free(cvs), free(dirs);
    return s;
}

// The model, its cache, the control vectors; every sample generated, then best-of-N.
// CLI_OK with *s the outcome (its message in r->ctx; VKT_ERR_ARG: a usage error, said at the
// end), or the error printed.
static int generate_all(const gen_args *a, gen_run *r, vkt_status *s) {
    int rc = cli_open_device("generate", a->device, &r->ctx);
    if (rc != CLI_OK) return rc;
    cli_model_args ma = {a->ckpt, a->adapter, a->weights, a->allow_nonfinite, false};
    if ((rc = cli_model_open("generate", r->ctx, &ma, &r->cm)) != CLI_OK) return rc;
    r->model_open = true;
    vkt_model *m = r->cm.m;
    const vkt_model_config *c = vkt_model_cfg(m);
    vkt_error *err = vkt_ctx_err(r->ctx);
    *s = VKT_OK;
    for (int i = 0; i < r->np && *s == VKT_OK; i++)
        if (r->plen[i] > c->context)
            *s = vkt_fail(err, VKT_ERR_ARG,
                          "prompt %d has %d tokens, more than the model's context %d", i,
                          r->plen[i], c->context);
    // The cache holds the longest prompt and its new tokens, not the whole context (a
    // pretrained model's 40k positions would be gigabytes of keys and values).
    long long need = 0;
    for (int i = 0; i < r->np; i++)
        if (r->plen[i] + (long long)a->o.max_new_tokens > need)
            need = r->plen[i] + (long long)a->o.max_new_tokens;
    int max_len = need < c->context ? (int)need : c->context;
    char what[96];
    snprintf(what, sizeof what, "caches and activations for %d sequences of %d tokens", a->batch,
             max_len);
    if (*s == VKT_OK &&
        (rc = cli_model_reserve("generate", r->ctx, &r->cm, vkt_gen_bytes(m, a->batch, max_len, 0),
                                what)) != CLI_OK)
        return rc;
    if (*s == VKT_OK) *s = vkt_gen_create(m, a->batch, max_len, 0, &r->g);
    if (*s == VKT_OK && a->n_cv > 0) *s = set_control_vectors(a, r, c);
    if (*s == VKT_OK) {
        r->t0 = cli_now_s();
        *s = vkt_generate(r->g, r->req, r->total, &a->o, r->res);
        r->t1 = cli_now_s();
    }
    if (*s == VKT_OK && a->best_n > 0) *s = best_of_run(&r->bo, r->answer_re, r->res, err);
    return CLI_OK;
}

static void print_json(const gen_args *a, const gen_run *r, long long ntok, double secs) {
    printf("{\"samples\": [");
    for (int i = 0; i < r->total; i++) {
        const vkt_gen_result *g = &r->res[i];
        int pi = i / a->nsamp;
        printf("%s\n  {\"prompt_index\": %d, \"sample\": %d, \"prompt\": ", i ? "," : "", pi,
               i % a->nsamp);
        gen_json_str(stdout, r->ptext[pi], strlen(r->ptext[pi]));
        printf(", \"prompt_tokens\": [");
        for (int t = 0; t < r->plen[pi]; t++) printf("%s%d", t ? ", " : "", r->pids[pi][t]);
        printf("], \"text\": ");
        gen_json_str(stdout, g->text, g->text_len);
        printf(", \"finish\": \"%s\", \"n_tokens\": %d, \"tokens\": [", vkt_finish_name(g->finish),
               g->n);
        for (int t = 0; t < g->n; t++) printf("%s%d", t ? ", " : "", g->tokens[t]);
        printf("], \"ids\": [");
        for (int t = 0; t < g->n; t++) printf("%s%d", t ? ", " : "", g->tokens[t]);
        printf("], \"logprob\": ");
        gen_json_floats(stdout, g->logprob, g->n);
        printf(", \"entropy\": ");
        gen_json_floats(stdout, g->entropy, g->n);
        printf(", \"self_certainty\": ");
        gen_json_floats(stdout, g->self_certainty, g->n);
        printf(", \"mean_logprob\": ");
        gen_json_num(stdout, g->mean_logprob);
        printf(", \"mean_entropy\": ");
        gen_json_num(stdout, g->mean_entropy);
        printf(", \"mean_self_certainty\": ");
        gen_json_num(stdout, g->mean_self_certainty);
        if (a->best_n > 0) printf(", \"answer\": "), best_of_json_answer(stdout, &r->bo.s[i]);
        printf("}");
    }
    printf("\n]");
    if (a->best_n > 0) best_of_json(stdout, &r->bo, a->answer_re_s, r->ptext);
    printf(", \"generated_tokens\": %lld, \"seconds\": %.4f, \"tokens_per_s\": %.2f}\n", ntok, secs,
           secs > 0 ? (double)ntok / secs : 0.0);
}

// The samples (or chosen answers) on stdout, the speed on stderr.
static void report(const gen_args *a, const gen_run *r) {
    long long ntok = 0;
    for (int i = 0; i < r->total; i++) ntok += r->res[i].n;
    const double secs = r->t1 - r->t0;
    if (a->json) {
        print_json(a, r, ntok, secs);
    } else if (a->best_n > 0) {
        int right = 0;
        for (int i = 0; i < r->np; i++) {
            const vkt_select_sample *ans = best_of_chosen(&r->bo, i);
            if (ans) fwrite(ans->answer, 1, ans->answer_len, stdout);
            fputc('\n', stdout);
            right += best_of_correct(&r->bo, i);
        }
        fprintf(stderr, "vkt generate: best of %d by %s: %lld tokens in %.2f s", r->bo.N,
                vkt_select_rule_name(r->bo.rule), ntok, secs);
        if (r->bo.gold)
            fprintf(stderr, "; accuracy %d/%d = %.4f", right, r->np, (double)right / r->np);
        fputc('\n', stderr);
    } else {
        for (int i = 0; i < r->total; i++) {
            int pi = i / a->nsamp;
            if (r->total > 1)
                printf("--- prompt %d, sample %d (%s, mean logprob %.3f, self-certainty %.3f)\n",
                       pi, i % a->nsamp, vkt_finish_name(r->res[i].finish), r->res[i].mean_logprob,
                       r->res[i].mean_self_certainty);
            fwrite(r->ptext[pi], 1, strlen(r->ptext[pi]), stdout);
            fwrite(r->res[i].text, 1, r->res[i].text_len, stdout);
            fputc('\n', stdout);
        }
        fprintf(stderr,
                "vkt generate: %lld tokens in %.2f s (%.1f tokens/s, %d sequences in flight)\n",
                ntok, secs, secs > 0 ? (double)ntok / secs : 0.0, a->batch);
    }
}

static void gen_free(gen_args *a, gen_run *r) {
    for (int i = 0; r->res && i < r->total; i++) vkt_gen_result_free(&r->res[i]);
    free(r->res);
    vkt_gen_destroy(r->g);
    if (r->model_open) cli_model_close(&r->cm);
    if (r->ctx) vkt_ctx_destroy(r->ctx);
    vkt_tok_free(r->tok);
    for (int i = 0; r->pids && i < r->np; i++) free(r->pids[i]);
    free_lines(r->file_lines, r->n_file);
    free(r->pids), free(r->plen), free(r->ptext), free(r->req);
    free_lines(r->bo.gold, r->n_gold);
    r->bo.gold = NULL;
    best_of_free(&r->bo);
    vkt_answer_re_free(r->answer_re);
    for (int i = 0; i < a->n_owned; i++) free(a->cv_owned[i]);
}

int cmd_generate(int argc, char **argv) {
    gen_args a = {.device = -1, .nsamp = 1, .thinking = -1, .borda_power = VKT_BORDA_POWER};
    vkt_gen_defaults(&a.o);
    a.o.seed = 1;
    gen_run r = {0};
    vkt_status s = VKT_ERR_ARG;
    int rc = parse_args(argc, argv, &a, &r);
    if (rc == CLI_OK) rc = load_prompts(&a, &r);
    if (rc == CLI_OK) rc = generate_all(&a, &r, &s);
    if (rc == CLI_OK && s == VKT_OK)
        report(&a, &r);
    else if (rc == CLI_OK) // said before gen_free closes the context that holds the message
        rc = s == VKT_ERR_ARG ? cli_usage_error("generate", "%s", vkt_ctx_message(r.ctx))
                              : cli_fail("generate", "%s", vkt_ctx_message(r.ctx));
    gen_free(&a, &r);
    return rc == CLI_HELP ? CLI_OK : rc; // the others said where they happened
}
