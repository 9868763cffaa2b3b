// test_dataset.c: text and JSONL loading, splits, batches, weights, the LR schedule; the
// same under a tokenizer.json (tests/data/tokenizers/tiny): ids as the tokenizer gives
// them, its EOS ending examples, its pad id padding them.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <math.h>

#include <cmocka.h>

#include "dataset.h"
#include "schedule.h"
#include "tok.h"
#include "tokenizer.h"

static char *write_tmp(const char *text) {
    static char path[64];
    snprintf(path, sizeof path, "/tmp/vkt-ds-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_text(void **s) {
    char text[1001];
    for (int i = 0; i < 1000; i++) text[i] = (char)('a' + i % 26);
    text[1000] = 0;
    char *p = write_tmp(text);
    vkt_dataset d;
    vkt_error err = {0};
    assert_int_equal(vkt_dataset_load(p, VKT_DATA_TEXT, 0.1, &d, &err), VKT_OK);
    assert_int_equal(d.n_tokens, 1000);
    assert_int_equal(d.train_tokens, 900);
    int32_t tok[4 * 16], tgt[4 * 16];
    float w[4 * 16];
    vkt_rng r;
    vkt_rng_seed(&r, 1);
    vkt_dataset_train_batch(&d, 4, 16, &r, tok, tgt, w);
    for (int i = 0; i < 64; i++) {
        // targets are the next byte; every weight 1; windows lie in the training split
        assert_int_equal(tgt[i], 'a' + (tok[i] - 'a' + 1) % 26);
        assert_true(w[i] == 1.0f);
    }
    // Same seed, same batch.
    int32_t tok2[64], tgt2[64];
    float w2[64];
    vkt_rng_seed(&r, 1);
    vkt_dataset_train_batch(&d, 4, 16, &r, tok2, tgt2, w2);
    assert_memory_equal(tok, tok2, sizeof tok);
    // Validation covers the last 100 tokens in non-overlapping windows: 99 targets.
    size_t nb = vkt_dataset_val_batches(&d, 4, 16);
    double counted = 0;
    for (size_t b = 0; b < nb; b++) {
        assert_true(vkt_dataset_val_batch(&d, b, 4, 16, tok, tgt, w));
        for (int i = 0; i < 64; i++) counted += w[i];
    }
    assert_true(counted == 99);
    assert_false(vkt_dataset_val_batch(&d, nb, 4, 16, tok, tgt, w));
    vkt_dataset_free(&d);
    unlink(p);
}

static void test_jsonl(void **s) {
    char *p = write_tmp("{\"prompt\": \"ab\", \"completion\": \"cd\"}\n\n{\"prompt\": \"x\", "
                        "\"completion\": \"yz\"}\n"
                        "{\"prompt\": \"\", \"completion\": \"q\"}\n");
    vkt_dataset d;
    vkt_error err = {0};
    assert_int_equal(vkt_dataset_load(p, VKT_DATA_JSONL, 0.34, &d, &err), VKT_OK);
    assert_int_equal(d.n_ex, 3);
    assert_int_equal(d.train_ex, 2);
    int32_t tok[8], tgt[8];
    float w[8];
    // Example 0 as a validation-style row: "abcd<eot>" -> targets b c d <eot>, weights on c d
    // <eot>.
    vkt_rng r;
    vkt_rng_seed(&r, 3);
    int seen0 = 0;
    for (int k = 0; k < 20; k++) {
        vkt_dataset_train_batch(&d, 1, 8, &r, tok, tgt, w);
        if (tok[0] != 'a') continue;
        seen0 = 1;
        int32_t want_tgt[8] = {'b',         'c',         'd',         VKT_TOK_EOT,
                               VKT_TOK_PAD, VKT_TOK_PAD, VKT_TOK_PAD, VKT_TOK_PAD};
        float want_w[8] = {0, 1, 1, 1, 0, 0, 0, 0};
        assert_memory_equal(tgt, want_tgt, sizeof want_tgt);
        assert_memory_equal(w, want_w, sizeof want_w);
        assert_int_equal(tok[4], VKT_TOK_EOT); // the end token is an input with no target
        assert_int_equal(tok[5], VKT_TOK_PAD);
    }
    assert_true(seen0);
    // The validation example ("" -> "q"): every target trained.
    assert_true(vkt_dataset_val_batch(&d, 0, 1, 8, tok, tgt, w));
    assert_int_equal(tok[0], 'q');
    assert_int_equal(tgt[0], VKT_TOK_EOT);
    assert_true(w[0] == 1.0f && w[1] == 0.0f);
    vkt_dataset_free(&d);
    unlink(p);

    p = write_tmp("{\"prompt\": \"ab\", \"completion\": 3}\n");
    assert_int_equal(vkt_dataset_load(p, VKT_DATA_JSONL, 0.1, &d, &err), VKT_ERR_FORMAT);
    assert_non_null(strstr(err.msg, ":1:"));
    unlink(p);
    p = write_tmp("{\"prompt\": \"ab\", \"completion\": \"c\"}\nnot json\n");
    assert_int_equal(vkt_dataset_load(p, VKT_DATA_JSONL, 0.1, &d, &err), VKT_ERR_FORMAT);
    assert_non_null(strstr(err.msg, ":2:"));
    unlink(p);
    assert_int_equal(vkt_dataset_load("/nonexistent/x.txt", VKT_DATA_TEXT, 0.1, &d, &err),
                     VKT_ERR_IO);
    assert_non_null(strstr(err.msg, "/nonexistent/x.txt"));
}

// The tiny test tokenizer's directory: $VKT_TEST_DATA/tokenizers/tiny, or beside the tools
// directory ctest names when VKT_TEST_DATA is not set.
static const char *tiny_dir(void) {
    static char path[4096];
    const char *d = getenv("VKT_TEST_DATA"), *t = getenv("VKT_TOOLS_DIR");
    if (d)
        snprintf(path, sizeof path, "%s/tokenizers/tiny", d);
    else if (t)
        snprintf(path, sizeof path, "%s/../tests/data/tokenizers/tiny", t);
    else
        snprintf(path, sizeof path, "tests/data/tokenizers/tiny");
    return path;
}

// Appends the ids of text under tok to *ids at *n.
static void encode_into(vkt_tok *tok, const char *text, unsigned flags, int32_t *ids, size_t *n) {
    vkt_tokens t = {0};
    vkt_error err = {0};
    if (vkt_tok_encode(tok, text, strlen(text), flags, &t, &err) != VKT_OK) fail_msg("%s", err.msg);
    memcpy(ids + *n, t.ids, t.n * sizeof *ids);
    *n += t.n;
    vkt_tokens_free(&t);
}

static void test_tokenizer_json(void **s) {
    vkt_error err = {0};
    vkt_tok *tok;
    if (vkt_tok_load_dir(tiny_dir(), &tok, &err) != VKT_OK) fail_msg("%s", err.msg);
    assert_int_equal(vkt_tok_kind_of(tok), VKT_TOK_HF);
    const int32_t eot = vkt_tok_token_to_id(tok, "<|endoftext|>"),
                  im_end = vkt_tok_token_to_id(tok, "<|im_end|>");
    int n_eos;
    assert_int_equal(vkt_tok_eos_ids(tok, &n_eos)[0], eot);
    assert_int_equal(vkt_tok_pad_id(tok), eot);

    // jsonl: prompt (with the tokenizer's specials) + completion + the first EOS id; special
    // tokens' text in a completion is the token.
    char *p =
        write_tmp("{\"prompt\": \"question: what is two plus three?\", \"completion\": \" five\"}\n"
                  "{\"prompt\": \"the cat\", \"completion\": \" sat on the mat\"}\n"
                  "{\"prompt\": \"the dog\", \"completion\": \" ate<|im_end|>\"}\n");
    vkt_dataset d;
    assert_int_equal(vkt_dataset_load_tok(p, VKT_DATA_JSONL, 0.34, tok, &d, &err), VKT_OK);
    assert_int_equal(d.n_ex, 3);
    assert_int_equal(d.train_ex, 2);
    const char *pr[3] = {"question: what is two plus three?", "the cat", "the dog"};
    const char *co[3] = {" five", " sat on the mat", " ate<|im_end|>"};
    for (int i = 0; i < 3; i++) {
        int32_t want[64];
        size_t n = 0;
        encode_into(tok, pr[i], VKT_TOKF_PARSE_SPECIAL | VKT_TOKF_ADD_SPECIAL, want, &n);
        assert_int_equal(d.ex[i].prompt_len, n);
        encode_into(tok, co[i], VKT_TOKF_PARSE_SPECIAL, want, &n);
        want[n++] = eot;
        assert_int_equal(d.ex[i].len, n);
        assert_memory_equal(d.tokens + d.ex[i].start, want, n * sizeof *want);
        if (i == 0) assert_true(n < strlen(pr[0]) + strlen(co[0])); // merges: fewer ids than bytes
        if (i == 2) assert_int_equal(want[n - 2], im_end);
    }
    // The validation example, padded with the pad id (weight 0); its prompt is not trained.
    const vkt_example *x = &d.ex[2];
    int32_t tk[32], tg[32];
    float w[32];
    assert_true(vkt_dataset_val_batch(&d, 0, 1, 32, tk, tg, w));
    for (int t = 0; t < 32; t++) {
        bool in = (size_t)t + 1 < x->len;
        assert_int_equal(tk[t], (size_t)t < x->len ? d.tokens[x->start + (size_t)t] : eot);
        assert_int_equal(tg[t], in ? d.tokens[x->start + (size_t)t + 1] : eot);
        assert_true(w[t] == (in && (size_t)t + 1 >= x->prompt_len ? 1.0f : 0.0f));
    }
    vkt_dataset_free(&d);
    unlink(p);

    // text: the tokenizer's ids, its special tokens' text read as their ids
    const char *text = "the cat sat on the mat.<|endoftext|>the dog sat on the log.";
    p = write_tmp(text);
    assert_int_equal(vkt_dataset_load_tok(p, VKT_DATA_TEXT, 0.1, tok, &d, &err), VKT_OK);
    int32_t want[128];
    size_t n = 0;
    encode_into(tok, text, VKT_TOKF_PARSE_SPECIAL, want, &n);
    assert_int_equal(d.n_tokens, n);
    assert_memory_equal(d.tokens, want, n * sizeof *want);
    bool has_eot = false;
    for (size_t i = 0; i < n; i++) has_eot |= want[i] == eot;
    assert_true(has_eot);
    vkt_dataset_free(&d);
    unlink(p);
    vkt_tok_free(tok);

    // The byte tokenizer through the same entry: the ids of vkt_dataset_load, exactly.
    assert_int_equal(vkt_tok_byte(&tok, &err), VKT_OK);
    p = write_tmp("{\"prompt\": \"a<|user|>\", \"completion\": \"b<|endoftext|>\"}\n"
                  "{\"prompt\": \"x\", \"completion\": \"yz\"}\n");
    vkt_dataset d2;
    assert_int_equal(vkt_dataset_load(p, VKT_DATA_JSONL, 0.5, &d, &err), VKT_OK);
    assert_int_equal(vkt_dataset_load_tok(p, VKT_DATA_JSONL, 0.5, tok, &d2, &err), VKT_OK);
    assert_int_equal(d.n_tokens, d2.n_tokens);
    assert_int_equal(d.n_tokens, 9 + 1 + 13 + 1 + 1 + 2 + 1); // every byte a token (names included)
    assert_memory_equal(d.tokens, d2.tokens, d.n_tokens * sizeof *d.tokens);
    assert_int_equal(d2.pad, VKT_TOK_PAD);
    vkt_dataset_free(&d), vkt_dataset_free(&d2);
    unlink(p);
    vkt_tok_free(tok);
}

static void test_schedule(void **s) {
    assert_true(fabs(vkt_lr_at(0, 100, 10, 1.0, 0.0) - 0.1) < 1e-12);
    assert_true(fabs(vkt_lr_at(9, 100, 10, 1.0, 0.0) - 1.0) < 1e-12);
    assert_true(fabs(vkt_lr_at(10, 100, 10, 1.0, 0.1) - 1.0) < 1e-12);
    assert_true(fabs(vkt_lr_at(55, 100, 10, 1.0, 0.0) - 0.5) < 1e-12); // halfway through the cosine
    assert_true(fabs(vkt_lr_at(100, 100, 10, 1.0, 0.1) - 0.1) < 1e-12);
    assert_true(fabs(vkt_lr_at(0, 5, 0, 2.0, 0.0) - 2.0) < 1e-12);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_jsonl),
        cmocka_unit_test(test_tokenizer_json),
        cmocka_unit_test(test_schedule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
