// bench_tokenize.c: encoding speed of a model's tokenizer in MB/s (1e6 bytes/s) on a few MB
// of mixed English, code and CJK text, next to the JavaScript reference (@lenml/tokenizers,
// a port of transformers.js' tokenizers) run by node on the same corpus in the same run.
// The corpus is paragraphs of tools/data/tokenize_bench_seed.txt drawn with a fixed seed.
// Both sides encode the whole corpus once to warm up (caches filled) and once timed.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "bench.h"
#include "bytebuf.h"
#include "cli.h"
#include "read_file.h"
#include "tok.h"

// Paragraphs (blank-line separated) of the seed, drawn with splitmix64 until `bytes`.
static int build_corpus(double mb, vkt_bytebuf *out) {
    char path[4096], *seed;
    size_t len;
    vkt_error err = {0};
    snprintf(path, sizeof path, "%s/data/tokenize_bench_seed.txt", cli_tools_dir());
    if (vkt_read_file(path, &seed, &len, &err) != VKT_OK)
        return cli_fail("bench", "tokenize: %s", err.msg);
    size_t starts[65536], ends[65536], np = 0;
    for (size_t i = 0; i < len && np < 65536;) {
        while (i < len && seed[i] == '\n') i++;
        size_t s = i;
        while (i < len && !(seed[i] == '\n' && i + 1 < len && seed[i + 1] == '\n')) i++;
        if (i > s) starts[np] = s, ends[np++] = i;
    }
    uint64_t x = 0x243F6A8885A308D3ull;
    while (np && out->n < (size_t)(mb * 1e6) && !out->oom) {
        uint64_t z = (x += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        size_t k = (size_t)((z ^ (z >> 31)) % np);
        vkt_bytebuf_put(out, seed + starts[k], ends[k] - starts[k]);
        vkt_bytebuf_put(out, "\n\n", 2);
    }
    free(seed);
    if (!np || out->oom) return cli_fail("bench", "tokenize: %s gives no corpus", path);
    return CLI_OK;
}

// Runs node on the reference script; its one JSON line is parsed into *out.
static int run_js(const char *model, const char *corpus, json_t **out) {
    char script[4096];
    snprintf(script, sizeof script, "%s/bench_tokenize_js.mjs", cli_tools_dir());
    const char *argv[] = {"node", script, model, corpus, NULL};
    *out = bench_child_json(argv);
    if (!*out)
        return cli_fail(
            "bench",
            "tokenize: the JavaScript reference failed (node %s; run tools/setup.sh for "
            "the fixtures, or --js off)",
            script);
    return CLI_OK;
}

typedef struct tok_timing {
    double load_s, cold_s, warm_s;
    size_t tokens;
} tok_timing;

static int time_vkt(const char *model, const vkt_bytebuf *corpus, tok_timing *t) {
    vkt_error err = {0};
    vkt_tok *tok;
    double t0 = cli_now_s();
    if (vkt_tok_load_dir(model, &tok, &err) != VKT_OK)
        return cli_fail("bench", "tokenize: %s", err.msg);
    t->load_s = cli_now_s() - t0;
    vkt_tokens ids = {0};
    vkt_status s = VKT_OK;
    for (int pass = 0; pass < 2 && s == VKT_OK; pass++) {
        ids.n = 0;
        t0 = cli_now_s();
        s = vkt_tok_encode(tok, corpus->p, corpus->n, VKT_TOKF_PARSE_SPECIAL, &ids, &err);
        *(pass ? &t->warm_s : &t->cold_s) = cli_now_s() - t0;
    }
    t->tokens = ids.n;
    vkt_tokens_free(&ids);
    vkt_tok_free(tok);
    return s == VKT_OK ? CLI_OK : cli_fail("bench", "tokenize: %s", err.msg);
}

static const cli_cmd CMD = {
    .name = "bench tokenize",
    .usage = "usage: vkt bench tokenize --model DIR [--mb MB] [--js on|off] [common options]\n",
    .about =
        "Encoding MB/s of a model's tokenizer on a few MB of mixed English, code and CJK text,\n"
        "next to the JavaScript reference (@lenml/tokenizers) run by node on the same corpus.\n",
};

int bench_tokenize(bench_env *env, int argc, char **argv) {
    const char *model = NULL;
    double mb = 4;
    int js_off = 0; // --js: on (0) or off (1)
    const cli_opt table[] = {
        {"--model", CLI_OPT_STR, &model, .metavar = "DIR",
         .help = "the tokenizer's folder (tokenizer.json; required)"},
        {"--mb", CLI_OPT_DOUBLE, &mb, 0.01, 1000, "MB", .help = "corpus size in MB (1e6 bytes)"},
        {"--js", CLI_OPT_CHOICE, &js_off, .choices = "on|off",
         .help = "time the JavaScript reference too"},
        BENCH_COMMON_OPTS(env),
    };
    int rc = cli_parse(&CMD, table, argc, argv);
    if (rc != CLI_OK) return rc;
    if (!model) return cli_usage_error(CMD.name, "--model DIR is required");
    vkt_ctx *ctx; // opened and named as for every entry, though the tokenizer runs on the CPU
    if ((rc = bench_device(env, &ctx)) != CLI_OK) return rc;
    const bench_opts *o = &env->o;
    vkt_bytebuf corpus = {0};
    rc = build_corpus(mb, &corpus);
    tok_timing t = {0};
    if (rc == CLI_OK) rc = time_vkt(model, &corpus, &t);
    char path[] = "/tmp/vkt-bench-tokenize-XXXXXX";
    json_t *ref = NULL;
    if (rc == CLI_OK && !js_off) {
        int fd = mkstemp(path);
        if (fd < 0 || write(fd, corpus.p, corpus.n) != (ssize_t)corpus.n)
            rc = cli_fail("bench", "tokenize: %s", path);
        if (fd >= 0) close(fd);
        if (rc == CLI_OK) rc = run_js(model, path, &ref);
        unlink(path);
    }
    if (rc == CLI_OK) {
        double mbs = (double)corpus.n / 1e6;
        double js_mbs = ref ? json_number_value(json_object_get(ref, "mb_per_s")) : 0;
        json_int_t js_tokens = ref ? json_integer_value(json_object_get(ref, "tokens")) : -1;
        if (o->json)
            printf("{\"op\": \"tokenize\", \"model\": \"%s\", \"bytes\": %zu, \"tokens\": %zu, "
                   "\"load_s\": %.3f, "
                   "\"mb_per_s_cold\": %.3f, \"mb_per_s\": %.3f, \"js_mb_per_s\": %.3f, "
                   "\"js_tokens\": %lld, "
                   "\"ratio\": %.2f}\n",
                   model, corpus.n, t.tokens, t.load_s, mbs / t.cold_s, mbs / t.warm_s, js_mbs,
                   (long long)js_tokens, js_mbs > 0 ? mbs / t.warm_s / js_mbs : 0);
        else
            printf("%-18s %.2f MB, %zu tokens: vkt %.2f MB/s (first pass %.2f, load %.2f s)%s",
                   "tokenize", mbs, t.tokens, mbs / t.warm_s, mbs / t.cold_s, t.load_s,
                   ref ? "" : "\n");
        if (ref && !o->json)
            printf(", JavaScript reference %.2f MB/s (%lld tokens): %.2fx\n", js_mbs,
                   (long long)js_tokens, mbs / t.warm_s / js_mbs);
        if (ref && js_tokens != (json_int_t)t.tokens)
            fprintf(stderr, "bench tokenize: the reference gives %lld tokens, vkt %zu\n",
                    (long long)js_tokens, t.tokens);
    }
    json_decref(ref);
    free(corpus.p);
    (void)ctx;
    return rc;
}
