// test_tok_use.c: the commands that take text use the checkpoint's tokenizer. With the tiny
// tokenizer.json of tests/data/tokenizers/tiny (307 ids, ByteLevel BPE), through the binary
// named by VKT_BIN (skipped when it is not set):
//  - vkt train --tokenizer: the model's vocabulary is 312 (307 rounded up to 8), every
//    tokenizer file is copied into the checkpoint, --resume keeps them;
//  - vkt eval: the ids the tokenizer gives, scored as the library scores them;
//  - vkt generate: the prompt's ids as the tokenizer gives them, the samples of the library,
//    text decoded by the tokenizer, a stop at the EOS ids of generation_config.json, a stop
//    string made of two tokens (and one that ends inside a token);
//  - vkt steer capture: prompt rows as the tokenizer counts them, generations decoded;
//  - a model whose vocabulary is smaller than its tokenizer's is refused, naming both.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "support_cli.h"
#include <jansson.h>

#include "checkpoint.h"
#include "generate.h"
#include "support_files.h"
#include "support_gpu.h"
#include "support_model.h"
#include "tok.h"

#define MAXG 24 // greedy tokens of the random model

static char dir[] = "/tmp/vkt_tok_use_XXXXXX";
static char tokdir[4200], trained[4200], rnd[4200], small[4200], text_path[4200];
static int32_t G[MAXG]; // greedy continuation of PROMPT on rnd, EOS ids not stopping it
static int V_TOK;       // the tokenizer's vocabulary
static const char *PROMPT = "the cat";
static const char *TEXT =
    "the cat sat on the mat. the dog sat on the log.<|endoftext|>once upon a time there "
    "was a little bird that sang in the morning.<|endoftext|>question: what is two plus "
    "three? answer: five.<|endoftext|>the dog saw the cat and the cat saw the dog.";

static const char *data_dir(void) {
    static char path[4096];
    const char *d = getenv("VKT_TEST_DATA"), *t = getenv("VKT_TOOLS_DIR");
    if (d)
        snprintf(path, sizeof path, "%s", d);
    else if (t)
        snprintf(path, sizeof path, "%s/../tests/data", t);
    else
        snprintf(path, sizeof path, "tests/data");
    return path;
}

static vkt_tok *load_tok(const char *d) {
    vkt_tok *t;
    vkt_error err = {0};
    if (vkt_checkpoint_tokenizer(d, NULL, &t, &err) != VKT_OK) fail_msg("%s", err.msg);
    return t;
}

static vkt_tokens encode(vkt_tok *t, const char *s, unsigned flags) {
    vkt_tokens ids = {0};
    vkt_error err = {0};
    if (vkt_tok_encode(t, s, strlen(s), flags, &ids, &err) != VKT_OK) fail_msg("%s", err.msg);
    return ids;
}

// The text generation gives ids[0..n): decoded by the tokenizer, "<|id|>" for ids past it.
static char *expected_text(vkt_tok *t, const int32_t *ids, int n) {
    char *out = calloc(1, 1);
    size_t len = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && ids[j] < V_TOK) j++;
        char *piece, unk[32];
        size_t pn;
        vkt_error err = {0};
        if (j > i) {
            if (vkt_tok_decode(t, ids + i, (size_t)(j - i), 0, &piece, &pn, &err) != VKT_OK)
                fail_msg("%s", err.msg);
        } else {
            pn = (size_t)snprintf(unk, sizeof unk, "<|%d|>", (int)ids[i]), piece = strdup(unk),
            j = i + 1;
        }
        out = realloc(out, len + pn + 1);
        memcpy(out + len, piece, pn), len += pn, out[len] = 0;
        free(piece);
        i = j;
    }
    return out;
}

static void copy_file(const char *from, const char *to) {
    size_t n;
    unsigned char *b = test_read_all(from, &n);
    test_write_bytes(to, b, n);
    free(b);
}

// A random model (weights scaled up so greedy outputs vary) of the given vocabulary.
static void write_model(vkt_ctx *ctx, const char *path, int vocab, int context) {
    vkt_model_config c = test_config("gpt2-tiny", (test_shape){.vocab = vocab,
                                                               .context = context,
                                                               .layers = 2,
                                                               .width = 16,
                                                               .ffn = 32,
                                                               .heads = 2,
                                                               .kv_heads = 2});
    vkt_model *m = test_model_new(ctx, &c, 21);
    free(test_model_scale(ctx, m, 5.0f));
    TEST_OK(ctx, vkt_checkpoint_save_model(m, path, false));
    vkt_model_destroy(m);
}

// A model trained with --tokenizer; a random model with the tokenizer; a byte-sized model
// with it (too small); the library's greedy continuation of PROMPT on the random model.
static int setup(void **state) {
    if (!test_cli_available()) return -1;
    if (!mkdtemp(dir)) return -1;
    snprintf(tokdir, sizeof tokdir, "%s/tokenizers/tiny", data_dir());
    snprintf(trained, sizeof trained, "%s/trained", dir);
    snprintf(rnd, sizeof rnd, "%s/rnd", dir);
    snprintf(small, sizeof small, "%s/small", dir);
    snprintf(text_path, sizeof text_path, "%s/text.txt", dir);
    test_write_bytes(text_path, TEXT, strlen(TEXT));
    char args[16384], *err = NULL;
    snprintf(args, sizeof args,
             "train --data '%s' --out '%s' --tokenizer '%s' --layers 1 --width 16 --heads 2 "
             "--steps 2 --batch 2 "
             "--seq 16 --eval-every 0 --json",
             text_path, trained, tokdir);
    int rc = test_cli(args, NULL, NULL, &err);
    if (rc != 0) fail_msg("vkt %s: exit %d: %s", args, rc, err);
    free(err);

    vkt_ctx *ctx = test_ctx();
    vkt_error e = {0};
    write_model(ctx, rnd, 312, 32);
    if (vkt_checkpoint_copy_tokenizer(tokdir, rnd, &e) != VKT_OK) fail_msg("%s", e.msg);
    write_model(ctx, small, 264, 16);
    if (vkt_checkpoint_copy_tokenizer(tokdir, small, &e) != VKT_OK) fail_msg("%s", e.msg);

    vkt_tok *tok = load_tok(rnd);
    V_TOK = vkt_tok_vocab_size(tok);
    vkt_tokens p = encode(tok, PROMPT, VKT_TOKF_PARSE_SPECIAL | VKT_TOKF_ADD_SPECIAL);
    vkt_model *m;
    TEST_OK(ctx, vkt_checkpoint_load_model(ctx, rnd, &m));
    vkt_gen *g;
    TEST_OK(ctx, vkt_gen_create(m, 1, 0, 0, &g));
    vkt_gen_prompt gp = {p.ids, (int)p.n, 0};
    vkt_gen_opts o;
    vkt_gen_defaults(&o);
    o.greedy = true, o.max_new_tokens = MAXG, o.stop_at_eot = false, o.tok = tok;
    vkt_gen_result r;
    TEST_OK(ctx, vkt_generate(g, &gp, 1, &o, &r));
    assert_int_equal(r.n, MAXG);
    memcpy(G, r.tokens, sizeof G);
    char *want = expected_text(tok, G, MAXG);
    assert_int_equal(r.text_len, strlen(want));
    assert_memory_equal(r.text, want, r.text_len);
    free(want);
    vkt_gen_result_free(&r);
    vkt_gen_destroy(g);
    vkt_model_destroy(m);
    vkt_tokens_free(&p);
    vkt_tok_free(tok);
    test_ctx_done(ctx);
    return 0;
}

static int teardown(void **state) {
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void check_tokenizer_files(const char *ckpt) {
    const char *files[] = {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                           "generation_config.json"};
    for (int i = 0; i < 4; i++) {
        char a[8400], b[8400];
        snprintf(a, sizeof a, "%s/%s", tokdir, files[i]);
        snprintf(b, sizeof b, "%s/%s", ckpt, files[i]);
        size_t na, nb;
        unsigned char *x = test_read_all(a, &na), *y = test_read_all(b, &nb);
        assert_int_equal(na, nb);
        assert_memory_equal(x, y, na);
        free(x), free(y);
    }
    DIR *d = opendir(ckpt);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (strstr(e->d_name, ".tmp.")) fail_msg("%s: temporary file %s left", ckpt, e->d_name);
    closedir(d);
}

static void test_train_tokenizer(void **state) {
    check_tokenizer_files(trained);
    vkt_model_config c;
    vkt_error err = {0};
    assert_int_equal(vkt_checkpoint_config(trained, &c, &err), VKT_OK);
    assert_int_equal(c.vocab, 312); // 307 rounded up to 8
    // --resume reads the tokenizer from the checkpoint and keeps its files.
    char args[16384], *e = NULL;
    snprintf(args, sizeof args, "train --data '%s' --out '%s' --resume --steps 3", text_path,
             trained);
    int rc = test_cli(args, NULL, NULL, &e);
    if (rc != 0) fail_msg("vkt %s: exit %d: %s", args, rc, e);
    free(e);
    check_tokenizer_files(trained);
    // --tokenizer with --resume is bad usage; a directory without tokenizer.json too.
    snprintf(args, sizeof args, "train --data '%s' --out '%s' --resume --steps 4 --tokenizer '%s'",
             text_path, trained, tokdir);
    assert_int_equal(test_cli(args, NULL, NULL, NULL), 2);
    snprintf(args, sizeof args, "train --data '%s' --out '%s/x' --tokenizer '%s' --steps 1",
             text_path, dir, dir);
    assert_int_equal(test_cli(args, NULL, NULL, NULL), 2);
}

static void test_eval(void **state) {
    char args[16384];
    snprintf(args, sizeof args, "eval --ckpt '%s' --data '%s' --json", trained, text_path);
    json_t *j = test_cli_json(args);
    vkt_tok *tok = load_tok(trained);
    vkt_tokens ids = encode(tok, TEXT, VKT_TOKF_PARSE_SPECIAL);
    int n_eot = 0;
    for (size_t i = 0; i < ids.n; i++)
        n_eot += ids.ids[i] == vkt_tok_token_to_id(tok, "<|endoftext|>");
    assert_int_equal(n_eot, 3);
    assert_true(ids.n < strlen(TEXT) / 2); // BPE merges, not bytes
    vkt_ctx *ctx = test_ctx();
    vkt_model *m;
    TEST_OK(ctx, vkt_checkpoint_load_model(ctx, trained, &m));
    vkt_gen *g;
    TEST_OK(ctx, vkt_gen_create(m, 4, 0, 0, &g));
    double nll;
    int64_t n;
    TEST_OK(ctx, vkt_gen_eval_ids(g, ids.ids, ids.n, &nll, &n));
    assert_int_equal(n, (int64_t)ids.n - 1); // one window: the context is 256
    assert_int_equal(json_integer_value(json_object_get(j, "tokens")), n);
    double got = json_number_value(json_object_get(j, "nll"));
    if (fabs(got - nll) > 1e-5 * nll) fail_msg("eval nll %.9g vs library %.9g", got, nll);
    vkt_gen_destroy(g);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
    vkt_tokens_free(&ids);
    vkt_tok_free(tok);
    json_decref(j);
}

static json_t *sample0(json_t *j) { return json_array_get(json_object_get(j, "samples"), 0); }

static void check_ids(json_t *arr, const int32_t *want, int n) {
    assert_int_equal(json_array_size(arr), n);
    for (int i = 0; i < n; i++)
        assert_int_equal(json_integer_value(json_array_get(arr, (size_t)i)), want[i]);
}

// `generate --json` on ckpt with PROMPT, greedy, MAXG tokens at most, plus extra.
static json_t *generate(const char *ckpt, const char *extra) {
    char args[16384];
    snprintf(args, sizeof args,
             "generate --ckpt '%s' --prompt '%s' --greedy --max-new-tokens %d --json %s", ckpt,
             PROMPT, MAXG, extra);
    return test_cli_json(args);
}

static void test_generate(void **state) {
    vkt_tok *tok = load_tok(rnd);
    vkt_tokens p = encode(tok, PROMPT, VKT_TOKF_PARSE_SPECIAL | VKT_TOKF_ADD_SPECIAL);
    assert_true(p.n < strlen(PROMPT));
    json_t *j = generate(rnd, "");
    json_t *s = sample0(j);
    check_ids(json_object_get(s, "prompt_tokens"), p.ids, (int)p.n);
    // The library's greedy tokens, up to the first EOS of generation_config.json (304, 306).
    int n_eos, end = MAXG;
    const int32_t *eos = vkt_tok_eos_ids(tok, &n_eos);
    assert_int_equal(n_eos, 2);
    for (int t = 0; t < MAXG && end == MAXG; t++)
        for (int e = 0; e < n_eos; e++)
            if (G[t] == eos[e]) end = t + 1;
    check_ids(json_object_get(s, "tokens"), G, end);
    assert_string_equal(json_string_value(json_object_get(s, "finish")),
                        end < MAXG ? "eot" : "length");
    char *want = expected_text(tok, G, end < MAXG ? end - 1 : MAXG);
    assert_string_equal(json_string_value(json_object_get(s, "text")), want);
    free(want);
    // A special token's text in a prompt is the token.
    char args[16384];
    snprintf(args, sizeof args,
             "generate --ckpt '%s' --prompt 'the<|im_start|>x' --max-new-tokens 1 --json", rnd);
    json_t *k = test_cli_json(args);
    json_t *pt = json_object_get(sample0(k), "prompt_tokens");
    assert_int_equal(json_integer_value(json_array_get(pt, json_array_size(pt) - 2)),
                     vkt_tok_token_to_id(tok, "<|im_start|>"));
    json_decref(k);
    json_decref(j);
    vkt_tokens_free(&p);
    vkt_tok_free(tok);
}

// generation_config.json's eos_token_id decides where a sample ends.
static void test_eos_ids(void **state) {
    int k = -1;
    for (int t = 1; t < MAXG && k < 0; t++) {
        bool seen = false;
        for (int u = 0; u < t; u++) seen |= G[u] == G[t];
        if (!seen && G[t] < V_TOK) k = t;
    }
    if (k < 0 && G[0] < V_TOK) k = 0;
    if (k < 0) fail_msg("the random model's greedy tokens have no id to make an EOS of");
    char d[8400], a[8400], b[8400], json[64];
    snprintf(d, sizeof d, "%s/eos", dir);
    assert_int_equal(mkdir(d, 0755), 0);
    const char *files[] = {"config.json", "model.safetensors", "tokenizer.json",
                           "tokenizer_config.json"};
    for (int i = 0; i < 4; i++) {
        snprintf(a, sizeof a, "%s/%s", rnd, files[i]);
        snprintf(b, sizeof b, "%s/%s", d, files[i]);
        copy_file(a, b);
    }
    snprintf(b, sizeof b, "%s/generation_config.json", d);
    snprintf(json, sizeof json, "{\"eos_token_id\": %d}\n", (int)G[k]);
    test_write_bytes(b, json, strlen(json));
    json_t *j = generate(d, "");
    json_t *s = sample0(j);
    check_ids(json_object_get(s, "tokens"), G, k + 1);
    assert_string_equal(json_string_value(json_object_get(s, "finish")), "eot");
    vkt_tok *tok = load_tok(d);
    char *want = expected_text(tok, G, k);
    assert_string_equal(json_string_value(json_object_get(s, "text")), want);
    free(want);
    vkt_tok_free(tok);
    json_decref(j);
}

// The streamed text of G (generate.h) and its byte offsets: off[t] = where token t's bytes
// start (off[MAXG] = the end).
static void stream_of(vkt_tok *tok, char *text, size_t *off) {
    off[0] = 0;
    for (int t = 0; t < MAXG; t++) {
        int n = G[t] < V_TOK ? vkt_tok_token_bytes(tok, G[t], text + off[t], 256)
                             : snprintf(text + off[t], 32, "<|%d|>", (int)G[t]);
        assert_true(n >= 0 && n <= 256);
        off[t + 1] = off[t] + (size_t)n;
    }
    text[off[MAXG]] = 0;
}

// Stop strings are matched on the tokens' bytes: one made of two whole tokens, and one
// that ends inside a token (the sample stops there; the cut text drops the partial token).
static void test_stop_strings(void **state) {
    vkt_tok *tok = load_tok(rnd);
    char *text = malloc(MAXG * 256 + 1), stop[1024];
    size_t off[MAXG + 1];
    stream_of(tok, text, off);
    int n_eos;
    const int32_t *eos = vkt_tok_eos_ids(tok, &n_eos);
    int found = 0;
    for (int pass = 0; pass < 2; pass++) {
        // pass 0: S = bytes of tokens k and k+1; pass 1: bytes of token k and the first byte of k+1
        int k = -1;
        for (int t = MAXG - 2; t >= 0 && k < 0; t--) { // the latest k: the most text before it
            bool ok = G[t] < V_TOK && G[t + 1] < V_TOK && !vkt_tok_is_special(tok, G[t]) &&
                      !vkt_tok_is_special(tok, G[t + 1]) && off[t + 1] > off[t] &&
                      off[t + 2] > off[t + 1] + pass;
            for (int u = 0; u <= t + 1 && ok; u++)
                for (int e = 0; e < n_eos; e++) ok &= G[u] != eos[e];
            size_t len = (pass ? off[t + 1] + 1 : off[t + 2]) - off[t];
            if (!ok || len >= sizeof stop || memchr(text + off[t], 0, len)) continue;
            memcpy(stop, text + off[t], len), stop[len] = 0;
            const char *first = memmem(text, off[MAXG], stop, len);
            if (first == text + off[t]) k = t; // no earlier occurrence: it stops at token k+1
        }
        if (k < 0) {
            if (pass == 0)
                fail_msg("no two greedy tokens of the random model make a usable stop string");
            continue; // no token of 2+ bytes after a usable one: the inside-a-token case is skipped
        }
        size_t len = (pass ? off[k + 1] + 1 : off[k + 2]) - off[k];
        memcpy(stop, text + off[k], len), stop[len] = 0;
        setenv("VKT_TEST_STOP", stop, 1); // any bytes reach the binary through the shell
        json_t *j = generate(rnd, "--stop \"$VKT_TEST_STOP\""),
               *ji = generate(rnd, "--stop \"$VKT_TEST_STOP\" --include-stop");
        json_t *s = sample0(j), *si = sample0(ji);
        check_ids(json_object_get(s, "tokens"), G, k + 2);
        assert_string_equal(json_string_value(json_object_get(s, "finish")), "stop");
        char *want = expected_text(tok, G, k), *want_i = expected_text(tok, G, k + 2);
        assert_string_equal(json_string_value(json_object_get(s, "text")), want);
        assert_string_equal(json_string_value(json_object_get(si, "text")), want_i);
        free(want), free(want_i);
        json_decref(j), json_decref(ji);
        found++;
    }
    print_message("stop strings checked: %d of 2\n", found);
    free(text);
    vkt_tok_free(tok);
}

static void test_steer_capture(void **state) {
    const char *lines[2] = {"the cat sat on the mat", "a dog<|im_end|>"};
    char prompts[8400], out[8400], args[20000];
    snprintf(prompts, sizeof prompts, "%s/prompts.txt", dir);
    snprintf(out, sizeof out, "%s/acts.safetensors", dir);
    char body[256];
    snprintf(body, sizeof body, "%s\n%s\n", lines[0], lines[1]);
    test_write_bytes(prompts, body, strlen(body));
    vkt_tok *tok = load_tok(rnd);
    size_t rows = 0;
    for (int i = 0; i < 2; i++) {
        vkt_tokens t = encode(tok, lines[i], VKT_TOKF_PARSE_SPECIAL | VKT_TOKF_ADD_SPECIAL);
        rows += t.n;
        vkt_tokens_free(&t);
    }
    snprintf(args, sizeof args,
             "steer capture --ckpt '%s' --prompts '%s' --out '%s' --positions all --json", rnd,
             prompts, out);
    json_t *j = test_cli_json(args);
    assert_int_equal(json_integer_value(json_object_get(j, "rows")), rows);
    json_decref(j);
    // --generate: the generations file holds the prompt and continuation as decoded text.
    snprintf(
        args, sizeof args,
        "steer capture --ckpt '%s' --prompts '%s' --out '%s' --generate 3 --temperature 0 --json",
        rnd, prompts, out);
    j = test_cli_json(args);
    json_decref(j);
    char gen[8500];
    snprintf(gen, sizeof gen, "%s.generations.jsonl", out);
    size_t n;
    char *g = (char *)test_read_all(gen, &n);
    json_error_t je;
    json_t *first = json_loadb(g, (size_t)(strchr(g, '\n') - g), 0, &je);
    assert_non_null(first);
    assert_string_equal(json_string_value(json_object_get(first, "prompt")), lines[0]);
    assert_true(json_is_string(json_object_get(first, "generation")));
    json_decref(first);
    free(g);
    vkt_tok_free(tok);
}

static void test_small_vocab_refused(void **state) {
    const char *cmds[] = {"generate --ckpt '%s' --prompt hi", "eval --ckpt '%s' --data '%s'",
                          "steer capture --ckpt '%s' --prompts '%s' --out /dev/null"};
    for (int i = 0; i < 3; i++) {
        char args[16384], *err = NULL;
        snprintf(args, sizeof args, cmds[i], small, text_path);
        assert_int_equal(test_cli(args, NULL, NULL, &err), 1);
        if (!strstr(err, "264") || !strstr(err, "307") || !strstr(err, small))
            fail_msg("vkt %s: the message should name 264, 307 and the directory: %s", args, err);
        free(err);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_tokenizer),
        cmocka_unit_test(test_eval),
        cmocka_unit_test(test_generate),
        cmocka_unit_test(test_eos_ids),
        cmocka_unit_test(test_stop_strings),
        cmocka_unit_test(test_steer_capture),
        cmocka_unit_test(test_small_vocab_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
