// test_tokenizer.c: the byte-level tokenizer. Reference facts: id = byte value for every
// byte 0..255, the documented special ids 256..260, and that decode(encode(x)) == x for
// any byte string.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tokenizer.h"

static void test_every_byte_round_trips(void **state) {
    (void)state;
    char text[256];
    for (int i = 0; i < 256; i++) text[i] = (char)i; // NUL and invalid UTF-8 included
    int32_t ids[256];
    size_t n = 0;
    vkt_error err = {0};
    assert_int_equal(vkt_tokenizer_encode(text, 256, 0, ids, 256, &n, &err), VKT_OK);
    assert_int_equal(n, 256);
    for (int i = 0; i < 256; i++) assert_int_equal(ids[i], i);
    char out[257];
    size_t m = 0;
    assert_int_equal(vkt_tokenizer_decode(ids, n, 0, out, sizeof out, &m, &err), VKT_OK);
    assert_int_equal(m, 256);
    assert_memory_equal(out, text, 256);
    assert_int_equal(out[256], 0);
    // UTF-8 text: one id per byte
    const char *s = "h\xc3\xa9!"; // "hé!"
    assert_int_equal(vkt_tokenizer_encode(s, strlen(s), 0, ids, 8, &n, &err), VKT_OK);
    assert_int_equal(n, 4);
    assert_int_equal(ids[1], 0xc3);
    assert_int_equal(ids[2], 0xa9);
}

static void test_special_tokens(void **state) {
    (void)state;
    static const char *const names[5] = {"<|endoftext|>", "<|pad|>", "<|system|>", "<|user|>",
                                         "<|assistant|>"};
    assert_int_equal(VKT_TOK_VOCAB, 261);
    for (int i = 0; i < 5; i++) {
        assert_string_equal(vkt_tokenizer_special_name(256 + i), names[i]);
        assert_int_equal(vkt_tokenizer_special_id(names[i]), 256 + i);
    }
    assert_int_equal(VKT_TOK_EOT, 256);
    assert_int_equal(VKT_TOK_PAD, 257);
    assert_int_equal(VKT_TOK_ASSISTANT, 260);
    assert_null(vkt_tokenizer_special_name(65));
    assert_null(vkt_tokenizer_special_name(261));
    assert_null(vkt_tokenizer_special_name(-1));
    assert_int_equal(vkt_tokenizer_special_id("<|bogus|>"), -1);

    const char *t = "a<|user|>b<|bogus|><|endoftext|><|endof";
    int32_t ids[64];
    size_t n;
    vkt_error err = {0};
    // Without the flag a special name is just its bytes.
    assert_int_equal(vkt_tokenizer_encode(t, strlen(t), 0, ids, 64, &n, &err), VKT_OK);
    assert_int_equal(n, strlen(t));
    assert_int_equal(ids[1], '<');
    // With it, names become ids; unknown and cut-off names stay bytes.
    assert_int_equal(vkt_tokenizer_encode(t, strlen(t), VKT_TOK_PARSE_SPECIAL, ids, 64, &n, &err),
                     VKT_OK);
    size_t want_n = 1 + 1 + 1 + strlen("<|bogus|>") + 1 + strlen("<|endof");
    assert_int_equal(n, want_n);
    assert_int_equal(ids[0], 'a');
    assert_int_equal(ids[1], VKT_TOK_USER);
    assert_int_equal(ids[2], 'b');
    assert_int_equal(ids[3], '<');
    assert_int_equal(ids[3 + strlen("<|bogus|>")], VKT_TOK_EOT);
    assert_int_equal(ids[n - 1], 'f');

    // Decode renders names (round trip) or skips them.
    char out[128];
    size_t m;
    assert_int_equal(vkt_tokenizer_decode(ids, n, 0, out, sizeof out, &m, &err), VKT_OK);
    assert_string_equal(out, t);
    assert_int_equal(m, strlen(t));
    assert_int_equal(vkt_tokenizer_decode(ids, n, VKT_TOK_SKIP_SPECIAL, out, sizeof out, &m, &err),
                     VKT_OK);
    assert_string_equal(out, "ab<|bogus|><|endof");
    int32_t pad[3] = {VKT_TOK_PAD, 'x', VKT_TOK_SYSTEM};
    assert_int_equal(vkt_tokenizer_decode(pad, 3, 0, out, sizeof out, &m, &err), VKT_OK);
    assert_string_equal(out, "<|pad|>x<|system|>");
}

static void test_errors_and_capacity(void **state) {
    (void)state;
    vkt_error err = {0};
    int32_t bad[3] = {'a', 261, 'b'};
    char out[16];
    size_t m;
    assert_int_equal(vkt_tokenizer_decode(bad, 3, 0, out, sizeof out, &m, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "id 261 at position 1"));
    int32_t neg[1] = {-5};
    assert_int_equal(vkt_tokenizer_decode(neg, 1, 0, out, sizeof out, &m, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "-5"));
    // Counting only.
    size_t n;
    const char *t = "<|endoftext|>hi";
    assert_int_equal(vkt_tokenizer_encode(t, strlen(t), VKT_TOK_PARSE_SPECIAL, NULL, 0, &n, &err),
                     VKT_OK);
    assert_int_equal(n, 3);
    int32_t ids[3] = {VKT_TOK_EOT, 'h', 'i'};
    assert_int_equal(vkt_tokenizer_decode(ids, 3, 0, NULL, 0, &m, &err), VKT_OK);
    assert_int_equal(m, 15);
    // Too small buffers fail and report what is needed.
    int32_t small[2];
    assert_int_equal(vkt_tokenizer_encode(t, strlen(t), VKT_TOK_PARSE_SPECIAL, small, 2, &n, &err),
                     VKT_ERR_ARG);
    assert_int_equal(n, 3);
    assert_int_equal(vkt_tokenizer_decode(ids, 3, 0, out, 15, &m, &err),
                     VKT_ERR_ARG); // 15 + NUL needed
    assert_int_equal(m, 15);
    assert_int_equal(vkt_tokenizer_decode(ids, 3, 0, out, 16, &m, &err), VKT_OK);
    assert_string_equal(out, t);
    // Empty input.
    assert_int_equal(vkt_tokenizer_encode("", 0, 0, ids, 3, &n, &err), VKT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(vkt_tokenizer_decode(ids, 0, 0, out, 1, &m, &err), VKT_OK);
    assert_string_equal(out, "");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_byte_round_trips),
        cmocka_unit_test(test_special_tokens),
        cmocka_unit_test(test_errors_and_capacity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
