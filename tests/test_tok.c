// test_tok.c: the tokenizer front (tok.h): the byte tokenizer through it, and a tiny
// hand-made tokenizer.json whose ids are worked out by hand: added tokens (special or
// not, lstrip/rstrip, single_word) matched as tokenizers' AddedVocabulary does, the
// post-processor's BOS, tokenizer_config.json / generation_config.json, and the errors
// for parts vkt does not read.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytebuf.h"
#include "hf_internal.h"
#include "support_files.h"
#include "tok.h"
#include "tokenizer.h"

// --- the byte tokenizer keeps its ids ----------------------------------------------------

static void test_byte_path(void **state) {
    (void)state;
    vkt_tok *t;
    vkt_error err = {0};
    assert_int_equal(vkt_tok_byte(&t, &err), VKT_OK);
    assert_int_equal(vkt_tok_kind_of(t), VKT_TOK_BYTE);
    assert_int_equal(vkt_tok_vocab_size(t), VKT_TOK_VOCAB);
    const char *s = "h\xc3\xa9<|endoftext|>\xff";
    vkt_tokens a = {0}, b = {0};
    assert_int_equal(vkt_tok_encode(t, s, strlen(s), 0, &a, &err), VKT_OK);
    assert_int_equal(a.n, strlen(s)); // plain: one id per byte, invalid UTF-8 included
    for (size_t i = 0; i < a.n; i++) assert_int_equal(a.ids[i], (unsigned char)s[i]);
    assert_int_equal(vkt_tok_encode(t, s, strlen(s), VKT_TOKF_PARSE_SPECIAL, &b, &err), VKT_OK);
    assert_int_equal(b.n, 5);
    assert_int_equal(b.ids[3], VKT_TOK_EOT);
    char *text;
    size_t n;
    assert_int_equal(vkt_tok_decode(t, b.ids, b.n, 0, &text, &n, &err), VKT_OK);
    assert_int_equal(n, strlen(s));
    assert_memory_equal(text, s, n);
    free(text);
    assert_int_equal(vkt_tok_decode(t, b.ids, b.n, VKT_TOKF_SKIP_SPECIAL, &text, &n, &err), VKT_OK);
    assert_int_equal(n, 4);
    free(text);
    int ne;
    const int32_t *eos = vkt_tok_eos_ids(t, &ne);
    assert_int_equal(ne, 1);
    assert_int_equal(eos[0], VKT_TOK_EOT);
    assert_int_equal(vkt_tok_pad_id(t), VKT_TOK_PAD);
    char buf[32];
    assert_int_equal(vkt_tok_token_bytes(t, 'A', buf, sizeof buf), 1);
    assert_int_equal(buf[0], 'A');
    assert_int_equal(vkt_tok_token_bytes(t, VKT_TOK_EOT, buf, sizeof buf), 13);
    assert_int_equal(vkt_tok_token_bytes(t, VKT_TOK_VOCAB, buf, sizeof buf), -1);
    int32_t bad = 999;
    assert_int_not_equal(vkt_tok_decode(t, &bad, 1, 0, &text, &n, &err), VKT_OK);
    assert_non_null(strstr(err.msg, "999"));
    vkt_tokens_free(&a);
    vkt_tokens_free(&b);
    vkt_tok_free(t);
    // A directory without tokenizer.json is the byte tokenizer.
    assert_int_equal(vkt_tok_load_dir(test_dir(), &t, &err), VKT_OK);
    assert_int_equal(vkt_tok_kind_of(t), VKT_TOK_BYTE);
    vkt_tok_free(t);
}

// --- a tiny tokenizer.json ------------------------------------------------------------------
// ByteLevel without regex or prefix space: a segment's bytes are one piece. Vocab: byte b
// has id b (its GPT-2 character), then merges h+e=256, he+l=257, hel+l=258, hell+o=259.
// Added tokens: 260 <|endoftext|> (special), 261 <|im_end|> (special), 262 <tag> (not
// special, lstrip + rstrip), 263 word (not special, single_word).

static char *tiny_json(const char *model_type, const char *extra) {
    vkt_bytebuf b = {0};
    const char *head =
        "{\"version\": \"1.0\", \"padding\": null,"
        " \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false,"
        " \"trim_offsets\": true, \"use_regex\": false},"
        " \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": "
        "true,"
        " \"use_regex\": false},"
        " \"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\":"
        " {\"id\": \"<|endoftext|>\", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", "
        "\"type_id\": 0}}],"
        " \"pair\": [], \"special_tokens\": {\"<|endoftext|>\": {\"id\": \"<|endoftext|>\","
        " \"ids\": [260], \"tokens\": [\"<|endoftext|>\"]}}},"
        " \"added_tokens\": ["
        "{\"id\": 260, \"content\": \"<|endoftext|>\", \"special\": true, \"normalized\": false},"
        "{\"id\": 261, \"content\": \"<|im_end|>\", \"special\": true, \"normalized\": false},"
        "{\"id\": 262, \"content\": \"<tag>\", \"special\": false, \"normalized\": false,"
        " \"lstrip\": true, \"rstrip\": true},"
        "{\"id\": 263, \"content\": \"word\", \"special\": false, \"normalized\": false,"
        " \"single_word\": true}],";
    vkt_bytebuf_put(&b, head, strlen(head));
    vkt_bytebuf_put(&b, extra, strlen(extra));
    char m[128];
    snprintf(m, sizeof m, " \"model\": {\"type\": \"%s\", \"vocab\": {", model_type);
    vkt_bytebuf_put(&b, m, strlen(m));
    for (int i = 0; i < 256; i++) {
        vkt_bytebuf cp = {0};
        hf_utf8_put(&cp, hf_byte_to_cp[i]);
        char e[32];
        if (i == '"' || i == '\\')
            snprintf(e, sizeof e, "\"\\%c\": %d, ", i, i);
        else
            snprintf(e, sizeof e, "\"%s\": %d, ", cp.p, i);
        vkt_bytebuf_put(&b, e, strlen(e));
        free(cp.p);
    }
    const char *tail = "\"he\": 256, \"hel\": 257, \"hell\": 258, \"hello\": 259},"
                       " \"merges\": [\"h e\", \"he l\", \"hel l\", \"hell o\"]}}";
    vkt_bytebuf_put(&b, tail, strlen(tail));
    return b.p;
}

static vkt_tok *tiny(void) {
    char *j = tiny_json("BPE", "");
    test_write_bytes(test_path("tokenizer.json"), j, strlen(j));
    free(j);
    vkt_tok *t;
    vkt_error err = {0};
    if (vkt_tok_load_dir(test_dir(), &t, &err) != VKT_OK) fail_msg("%s", err.msg);
    return t;
}

static void expect_ids(vkt_tok *t, const char *text, unsigned flags, const int32_t *want,
                       size_t n) {
    vkt_tokens ids = {0};
    vkt_error err = {0};
    if (vkt_tok_encode(t, text, strlen(text), flags, &ids, &err) != VKT_OK) fail_msg("%s", err.msg);
    if (ids.n != n) fail_msg("'%s': %zu ids, want %zu", text, ids.n, n);
    for (size_t i = 0; i < n; i++)
        if (ids.ids[i] != want[i])
            fail_msg("'%s': id %zu is %d, want %d", text, i, ids.ids[i], want[i]);
    vkt_tokens_free(&ids);
}

static void test_added_tokens(void **state) {
    (void)state;
    vkt_tok *t = tiny();
    assert_int_equal(vkt_tok_kind_of(t), VKT_TOK_HF);
    assert_int_equal(vkt_tok_vocab_size(t), 264);
    const unsigned P = VKT_TOKF_PARSE_SPECIAL;
    expect_ids(t, "hello", P, (int32_t[]){259}, 1);
    expect_ids(t, "hello<|endoftext|>h", P, (int32_t[]){259, 260, 'h'}, 3);
    // Special text as plain text: its bytes.
    expect_ids(t, "a<|im_end|>", 0,
               (int32_t[]){'a', '<', '|', 'i', 'm', '_', 'e', 'n', 'd', '|', '>'}, 11);
    // lstrip and rstrip take the spaces around <tag> (and a tab, Unicode White_Space).
    expect_ids(t, "x \t<tag>  y", P, (int32_t[]){'x', 262, 'y'}, 3);
    // Non-special added tokens match even when special text is plain.
    expect_ids(t, "x <tag>", 0, (int32_t[]){'x', 262}, 2);
    // single_word: only between non-word characters.
    expect_ids(t, "a word.", P, (int32_t[]){'a', ' ', 263, '.'}, 4);
    expect_ids(t, "swords", P, (int32_t[]){'s', 'w', 'o', 'r', 'd', 's'}, 6);
    expect_ids(t, "word", P, (int32_t[]){263}, 1);
    // The longest added token wins at a position; the post-processor adds BOS.
    expect_ids(t, "he", P | VKT_TOKF_ADD_SPECIAL, (int32_t[]){260, 256}, 2);
    // Invalid UTF-8 reads as U+FFFD (EF BF BD), one per maximal subpart.
    expect_ids(t, "\xe4\xbd", P, (int32_t[]){0xEF, 0xBF, 0xBD}, 3);
    expect_ids(t, "\xff\xfe", P, (int32_t[]){0xEF, 0xBF, 0xBD, 0xEF, 0xBF, 0xBD}, 6);
    char *text;
    size_t n;
    vkt_error err = {0};
    int32_t ids[] = {260, 259, 262, 'x'};
    assert_int_equal(vkt_tok_decode(t, ids, 4, 0, &text, &n, &err), VKT_OK);
    assert_string_equal(text, "<|endoftext|>hello<tag>x");
    free(text);
    assert_int_equal(vkt_tok_decode(t, ids, 4, VKT_TOKF_SKIP_SPECIAL, &text, &n, &err), VKT_OK);
    assert_string_equal(text, "hello<tag>x");
    free(text);
    char buf[16];
    assert_int_equal(vkt_tok_token_bytes(t, 0x0A, buf, sizeof buf), 1); // "Ċ" is a newline
    assert_int_equal(buf[0], '\n');
    assert_string_equal(vkt_tok_id_to_token(t, 10), "\xc4\x8a");
    assert_int_equal(vkt_tok_token_to_id(t, "hello"), 259);
    assert_int_equal(vkt_tok_token_to_id(t, "<|im_end|>"), 261);
    assert_true(vkt_tok_is_special(t, 261));
    assert_false(vkt_tok_is_special(t, 262));
    assert_int_equal(vkt_tok_bos_id(t), 260);
    vkt_tok_free(t);
}

static void test_configs(void **state) {
    (void)state;
    char *j = tiny_json("BPE", "");
    test_write_bytes(test_path("tokenizer.json"), j, strlen(j));
    free(j);
    const char *tc = "{\"eos_token\": {\"content\": \"<|im_end|>\"}, \"bos_token\": null,"
                     " \"chat_template\": [{\"name\": \"tool_use\", \"template\": \"T\"},"
                     " {\"name\": \"default\", \"template\": \"{{ messages[0].content }}\"}]}";
    test_write_bytes(test_path("tokenizer_config.json"), tc, strlen(tc));
    vkt_tok *t;
    vkt_error err = {0};
    assert_int_equal(vkt_tok_load_dir(test_dir(), &t, &err), VKT_OK);
    int ne;
    const int32_t *eos = vkt_tok_eos_ids(t, &ne);
    assert_int_equal(ne, 1);
    assert_int_equal(eos[0], 261);
    assert_int_equal(vkt_tok_pad_id(t), 261); // no pad_token: EOS
    assert_string_equal(vkt_tok_eos_text(t), "<|im_end|>");
    assert_string_equal(vkt_tok_chat_template(t), "{{ messages[0].content }}");
    vkt_tok_free(t);
    const char *gc = "{\"eos_token_id\": [261, 260]}";
    test_write_bytes(test_path("generation_config.json"), gc, strlen(gc));
    assert_int_equal(vkt_tok_load_dir(test_dir(), &t, &err), VKT_OK);
    eos = vkt_tok_eos_ids(t, &ne);
    assert_int_equal(ne, 2);
    assert_int_equal(eos[1], 260);
    vkt_tok_free(t);
    const char *bad = "{\"eos_token_id\": [99999]}";
    test_write_bytes(test_path("generation_config.json"), bad, strlen(bad));
    assert_int_not_equal(vkt_tok_load_dir(test_dir(), &t, &err), VKT_OK);
    assert_non_null(strstr(err.msg, "generation_config.json"));
    remove(test_path("generation_config.json"));
    remove(test_path("tokenizer_config.json"));
}

// Each refusal names the file and the part.
static void expect_refused(const char *json, const char *what) {
    test_write_bytes(test_path("tokenizer.json"), json, strlen(json));
    vkt_tok *t = NULL;
    vkt_error err = {0};
    if (vkt_tok_load_dir(test_dir(), &t, &err) == VKT_OK)
        fail_msg("accepted a tokenizer with %s", what);
    if (!strstr(err.msg, "tokenizer.json") || !strstr(err.msg, what))
        fail_msg("message '%s' lacks %s", err.msg, what);
    assert_null(t);
}

static void test_refusals(void **state) {
    (void)state;
    char *j = tiny_json("WordPiece", "");
    expect_refused(j, "WordPiece");
    free(j);
    j = tiny_json("BPE", " \"normalizer\": {\"type\": \"BertNormalizer\"},");
    expect_refused(j, "BertNormalizer");
    free(j);
    j = tiny_json("BPE", " \"truncation\": {\"max_length\": 8},");
    expect_refused(j, "truncation");
    free(j);
    expect_refused("{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}, "
                   "\"added_tokens\": [{\"id\": 1}]}",
                   "added_tokens[0]");
    expect_refused("[1, 2]", "object");
    expect_refused("{\"model\": 1, ", "tokenizer.json");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_byte_path, test_dir_setup, test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_added_tokens, test_dir_setup, test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_configs, test_dir_setup, test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_refusals, test_dir_setup, test_dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
