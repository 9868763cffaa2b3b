// test_dataset.c: text and JSONL loading, splits, batches, weights, the LR schedule.
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
    char *p = write_tmp("{\"prompt\": \"ab\", \"completion\": \"cd\"}\n\n{\"prompt\": \"x\", \"completion\": \"yz\"}\n"
                        "{\"prompt\": \"\", \"completion\": \"q\"}\n");
    vkt_dataset d;
    vkt_error err = {0};
    assert_int_equal(vkt_dataset_load(p, VKT_DATA_JSONL, 0.34, &d, &err), VKT_OK);
    assert_int_equal(d.n_ex, 3);
    assert_int_equal(d.train_ex, 2);
    int32_t tok[8], tgt[8];
    float w[8];
    // Example 0 as a validation-style row: "abcd<eot>" -> targets b c d <eot>, weights on c d <eot>.
    vkt_rng r;
    vkt_rng_seed(&r, 3);
    int seen0 = 0;
    for (int k = 0; k < 20; k++) {
        vkt_dataset_train_batch(&d, 1, 8, &r, tok, tgt, w);
        if (tok[0] != 'a') continue;
        seen0 = 1;
        int32_t want_tgt[8] = {'b', 'c', 'd', VKT_TOK_EOT, VKT_TOK_PAD, VKT_TOK_PAD, VKT_TOK_PAD, VKT_TOK_PAD};
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
    assert_int_equal(vkt_dataset_load("/nonexistent/x.txt", VKT_DATA_TEXT, 0.1, &d, &err), VKT_ERR_IO);
    assert_non_null(strstr(err.msg, "/nonexistent/x.txt"));
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
        cmocka_unit_test(test_schedule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
