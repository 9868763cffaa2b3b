// test_hf_bpe.c: the BPE model and the decoders of tokenizer.json on small hand-made
// models and token lists, checked against what the Rust `tokenizers` crate gives.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_internal.h"

static void assert_contains(const char *msg, const char *want) {
    if (!strstr(msg, want)) fail_msg("message \"%s\" lacks \"%s\"", msg, want);
}

static json_t *load(const char *text) {
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!j) fail_msg("bad test JSON: %s: %s", je.text, text);
    return j;
}

static hf_bpe *model(const char *text) {
    json_t *j = load(text);
    hf_bpe *m = NULL;
    vkt_error err = {0};
    vkt_status st = hf_bpe_parse(j, "tokenizer.json: model", &m, &err);
    json_decref(j);
    if (st != VKT_OK) fail_msg("parse failed: %s", err.msg);
    return m;
}

// Parses a model that must fail, and checks the message names want.
static void model_error(const char *text, vkt_status want_st, const char *want) {
    json_t *j = load(text);
    hf_bpe *m = NULL;
    vkt_error err = {0};
    vkt_status st = hf_bpe_parse(j, "tokenizer.json: model", &m, &err);
    json_decref(j);
    if (st == VKT_OK) fail_msg("parsed, but should fail with \"%s\": %s", want, text);
    assert_int_equal(st, want_st);
    assert_null(m);
    assert_contains(err.msg, "tokenizer.json: model");
    assert_contains(err.msg, want);
}

// Tokenizes piece and compares with the n ids that follow.
static void expect_ids(hf_bpe *m, const char *piece, int n, ...) {
    vkt_tokens t = {0};
    vkt_error err = {0};
    if (hf_bpe_tokenize(m, piece, strlen(piece), &t, &err) != VKT_OK)
        fail_msg("tokenize '%s': %s", piece, err.msg);
    va_list ap;
    va_start(ap, n);
    if (t.n != (size_t)n) fail_msg("'%s': %zu ids, want %d", piece, t.n, n);
    for (int i = 0; i < n; i++) {
        int want = va_arg(ap, int);
        if (t.ids[i] != want) fail_msg("'%s': id %d is %d, want %d", piece, i, t.ids[i], want);
    }
    va_end(ap);
    vkt_tokens_free(&t);
}

#define UNRELATED_VOCAB                                                                            \
    "{\"u\":0,\"n\":1,\"r\":2,\"e\":3,\"l\":4,\"a\":5,\"t\":6,\"d\":7,\"re\":8,\"at\":9,"          \
    "\"ed\":10,\"un\":11,\"ated\":12,\"rel\":13,\"related\":14,\"unrelated\":15}"

static void test_merges_both_forms(void **state) {
    (void)state;
    hf_bpe *m = model("{\"type\":\"BPE\",\"dropout\":null,\"vocab\":" UNRELATED_VOCAB ","
                      "\"merges\":[\"r e\",\"a t\",\"e d\",\"u n\",\"at ed\",\"re l\",\"rel ated\","
                      "\"un related\"]}");
    expect_ids(m, "unrelated", 1, 15);
    expect_ids(m, "unrelated", 1, 15); // again, from the cache
    expect_ids(m, "related", 1, 14);
    expect_ids(m, "tar", 3, 6, 5, 2);
    expect_ids(m, "", 0);
    hf_bpe_free(m);
    m = model("{\"dropout\":0,\"vocab\":" UNRELATED_VOCAB
              ",\"merges\":[[\"r\",\"e\"],[\"a\",\"t\"],"
              "[\"e\",\"d\"],[\"u\",\"n\"],[\"at\",\"ed\"],[\"re\",\"l\"],[\"rel\",\"ated\"],"
              "[\"un\",\"related\"]]}");
    expect_ids(m, "unrelated", 1, 15);
    assert_int_equal(hf_bpe_vocab_size(m), 16);
    assert_string_equal(hf_bpe_id_to_token(m, 12), "ated");
    assert_int_equal(hf_bpe_token_to_id(m, "rel", 3), 13);
    assert_int_equal(hf_bpe_token_to_id(m, "rela", 4), -1);
    hf_bpe_free(m);
}

// Equal ranks (one merge at several places) go leftmost first; lower ranks before higher.
static void test_merge_order(void **state) {
    (void)state;
    hf_bpe *m = model("{\"vocab\":{\"a\":0,\"aa\":1,\"aaaa\":2,\"b\":3,\"ab\":4,\"ba\":5},"
                      "\"merges\":[\"a a\",\"aa aa\",\"b a\",\"a b\"]}");
    expect_ids(m, "aaa", 2, 1, 0);
    expect_ids(m, "aaaaa", 2, 2, 0);
    expect_ids(m, "aaaaaa", 2, 2, 1);
    expect_ids(m, "aba", 2, 0, 5);     // "b a" (rank 2) beats "a b" (rank 3)
    expect_ids(m, "abab", 3, 0, 5, 3); // then "a b" cannot apply across the new "ba"
    hf_bpe_free(m);
}

static void test_prefix_suffix(void **state) {
    (void)state;
    hf_bpe *m = model("{\"vocab\":{\"a\":0,\"##b\":1,\"##c\":2,\"ab\":3,\"abc\":4},"
                      "\"merges\":[\"a ##b\",\"ab ##c\"],\"unk_token\":\"[UNK]\","
                      "\"continuing_subword_prefix\":\"##\"}");
    expect_ids(m, "ab", 1, 3);
    expect_ids(m, "abc", 1, 4);
    hf_bpe_free(m);
    m = model("{\"vocab\":{\"a\":0,\"b\":1,\"b</w>\":2,\"ab</w>\":3,\"ab\":4},"
              "\"merges\":[[\"a\",\"b</w>\"]],\"end_of_word_suffix\":\"</w>\"}");
    expect_ids(m, "ab", 1, 3);
    expect_ids(m, "b", 1, 2);
    hf_bpe_free(m);
}

static void test_unk(void **state) {
    (void)state;
    const char *v = "\"vocab\":{\"<unk>\":0,\"a\":1,\"b\":2},\"merges\":[],\"unk_token\":\"<unk>\"";
    char text[256];
    snprintf(text, sizeof text, "{%s}", v);
    hf_bpe *m = model(text);
    expect_ids(m, "c", 1, 0);
    expect_ids(m, "cc", 2, 0, 0);
    expect_ids(m, "accb", 4, 1, 0, 0, 2);
    hf_bpe_free(m);
    snprintf(text, sizeof text, "{%s,\"fuse_unk\":true}", v);
    m = model(text);
    expect_ids(m, "cc", 1, 0);
    expect_ids(m, "accb", 3, 1, 0, 2);
    expect_ids(m,
               "c\xC3\xA9"
               "a\xE5\x8F\xAB",
               3, 0, 1, 0);
    hf_bpe_free(m);
}

static void test_unknown_errors(void **state) {
    (void)state;
    // No token, no byte fallback, no unk_token: the char is dropped, as Rust's merge_word.
    hf_bpe *m = model("{\"vocab\":{\"a\":0},\"merges\":[]}");
    vkt_tokens t = {0};
    vkt_error err = {0};
    expect_ids(m,
               "a\xC3\xA9"
               "a",
               2, 0, 0);
    hf_bpe_free(m);
    // An unk_token that is not in the vocab fails only when it is needed.
    m = model("{\"vocab\":{\"a\":0},\"merges\":[],\"unk_token\":\"<unk>\"}");
    expect_ids(m, "aa", 2, 0, 0);
    assert_int_equal(hf_bpe_tokenize(m, "b", 1, &t, &err), VKT_ERR_FORMAT);
    assert_contains(err.msg, "'<unk>' is not in the vocab");
    hf_bpe_free(m);
    vkt_tokens_free(&t);
}

static void test_byte_fallback(void **state) {
    (void)state;
    hf_bpe *m = model("{\"vocab\":{\"<unk>\":0,\"<0x61>\":1,\"<0x0A>\":2,\"<0xC3>\":3,\"<0xA9>\":4,"
                      "\"x\":5},\"merges\":[],\"unk_token\":\"<unk>\",\"byte_fallback\":true}");
    expect_ids(m, "c", 1, 0);
    expect_ids(m, "a", 1, 1);
    expect_ids(m, "\n", 1, 2);
    expect_ids(m, "x\xC3\xA9x", 4, 5, 3, 4, 5);
    expect_ids(m, "\xC3\xA8", 1, 0); // 0xA8 has no token: the whole char is unk
    hf_bpe_free(m);
}

static void test_ignore_merges(void **state) {
    (void)state;
    const char *v =
        "\"vocab\":{\".:.:\":0,\"\xC4\xA0"
        "belirtilen\":1,\".\":2,\":\":3,\"bel\":4,\"irtilen\":5,"
        "\"\xC4\xA0\":6,\".:\":7,\"belirtilen\":8,\".:.\":9,\"be\":10,\"l\":11,\"ir\":12,\"ti\":13,"
        "\"en\":14,\"irtil\":15,\"irti\":16,\"i\":17,\"r\":18,\"t\":19,\"b\":20,\"e\":21,\"n\":22},"
        "\"merges\":[\". :\",\"b e\",\"be l\",\"i r\",\"t i\",\"ir ti\",\"e n\",\"irti l\"]";
    char text[1024];
    snprintf(text, sizeof text, "{%s,\"ignore_merges\":true}", v);
    hf_bpe *m = model(text);
    expect_ids(m, ".:.:", 1, 0);
    expect_ids(m,
               "\xC4\xA0"
               "belirtilen",
               1, 1);
    hf_bpe_free(m);
    snprintf(text, sizeof text, "{%s,\"ignore_merges\":false}", v);
    m = model(text);
    expect_ids(m, ".:.:", 2, 7, 7);
    expect_ids(m,
               "\xC4\xA0"
               "belirtilen",
               4, 6, 4, 15, 14);
    hf_bpe_free(m);
}

static void test_sparse_ids(void **state) {
    (void)state;
    hf_bpe *m = model("{\"vocab\":{\"a\":0,\"b\":7},\"merges\":[]}");
    assert_int_equal(hf_bpe_vocab_size(m), 8);
    assert_null(hf_bpe_id_to_token(m, 3));
    assert_null(hf_bpe_id_to_token(m, 8));
    assert_null(hf_bpe_id_to_token(m, -1));
    assert_string_equal(hf_bpe_id_to_token(m, 7), "b");
    hf_bpe_free(m);
}

// 100 kB of one character: a naive merge loop is quadratic here.
static void test_long_piece(void **state) {
    (void)state;
    hf_bpe *m = model("{\"vocab\":{\"a\":0,\"aa\":1,\"aaaa\":2,\"aaaaaaaa\":3,\"b\":4},"
                      "\"merges\":[\"a a\",\"aa aa\",\"aaaa aaaa\"]}");
    size_t n = 100000 + 3;
    char *s = malloc(n + 1);
    memset(s, 'a', n);
    s[n] = 0;
    vkt_tokens t = {0};
    vkt_error err = {0};
    assert_int_equal(hf_bpe_tokenize(m, s, n, &t, &err), VKT_OK);
    assert_int_equal(t.n, 100000 / 8 + 2);
    assert_int_equal(t.ids[0], 3);
    assert_int_equal(t.ids[t.n - 2], 1);
    assert_int_equal(t.ids[t.n - 1], 0);
    for (size_t i = 0; i < n; i += 2) s[i] = 'b'; // no merges apply at all
    t.n = 0;
    assert_int_equal(hf_bpe_tokenize(m, s, n, &t, &err), VKT_OK);
    assert_int_equal(t.n, n);
    free(s);
    vkt_tokens_free(&t);
    hf_bpe_free(m);
}

// More distinct pieces than the cache holds: it starts over and stays right. With the one
// merge "1 2" the answer is a greedy left-to-right scan.
static void test_cache_wraps(void **state) {
    (void)state;
    hf_bpe *m = model("{\"vocab\":{\"0\":0,\"1\":1,\"2\":2,\"3\":3,\"4\":4,\"5\":5,\"6\":6,\"7\":7,"
                      "\"8\":8,\"9\":9,\"12\":10},\"merges\":[\"1 2\"]}");
    vkt_tokens t = {0};
    vkt_error err = {0};
    char piece[16];
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < 120000; i += pass ? 97 : 1) {
            int n = snprintf(piece, sizeof piece, "%d", i * 7);
            t.n = 0;
            assert_int_equal(hf_bpe_tokenize(m, piece, (size_t)n, &t, &err), VKT_OK);
            size_t k = 0;
            for (int j = 0; j < n; j++, k++) {
                bool twelve = piece[j] == '1' && piece[j + 1] == '2';
                assert_true(k < t.n);
                assert_int_equal(t.ids[k], twelve ? 10 : piece[j] - '0');
                j += twelve;
            }
            assert_int_equal(t.n, k);
        }
    vkt_tokens_free(&t);
    hf_bpe_free(m);
}

static void test_model_errors(void **state) {
    (void)state;
    model_error("[]", VKT_ERR_FORMAT, "must be an object");
    model_error("{\"type\":\"WordPiece\",\"vocab\":{}}", VKT_ERR_UNSUPPORTED, "WordPiece");
    model_error("{\"merges\":[]}", VKT_ERR_FORMAT, "'vocab'");
    model_error("{\"vocab\":[],\"merges\":[]}", VKT_ERR_FORMAT, "'vocab'");
    model_error("{\"vocab\":{\"a\":-1},\"merges\":[]}", VKT_ERR_FORMAT, "vocab['a']");
    model_error("{\"vocab\":{\"a\":\"0\"},\"merges\":[]}", VKT_ERR_FORMAT, "vocab['a']");
    model_error("{\"vocab\":{\"a\":1.5},\"merges\":[]}", VKT_ERR_FORMAT, "vocab['a']");
    model_error("{\"vocab\":{\"a\":0}}", VKT_ERR_FORMAT, "'merges'");
    model_error("{\"vocab\":{\"a\":0},\"merges\":{}}", VKT_ERR_FORMAT, "'merges'");
    const char *v = "\"vocab\":{\"a\":0,\"b\":1,\"ab\":2,\"c\":3}";
    char text[512];
    const char *bad[][2] = {
        {"\"merges\":[\"a b\",\"a  b\"]", "merges[1]"},
        {"\"merges\":[\"a b\",\"ab\"]", "merges[1]"},
        {"\"merges\":[\"a b\",\"a d\"]", "merges[1]: token 'd'"},
        {"\"merges\":[\"a b\",\"b c\"]", "merges[1]: token 'bc'"},
        {"\"merges\":[\"a b\",[\"a\",\"b\"]]", "merges[1]"},
        {"\"merges\":[[\"a\",\"b\"],\"a b\"]", "merges[1]"},
        {"\"merges\":[[\"a\",\"b\",\"c\"]]", "merges[0]"},
        {"\"merges\":[[\"a\",1]]", "merges[0]"},
        {"\"merges\":[7]", "merges[0]"},
        {"\"merges\":[],\"dropout\":\"0\"", "'dropout'"},
        {"\"merges\":[],\"dropout\":1.5", "'dropout'"},
        {"\"merges\":[],\"unk_token\":5", "'unk_token'"},
        {"\"merges\":[],\"continuing_subword_prefix\":[]", "'continuing_subword_prefix'"},
        {"\"merges\":[],\"end_of_word_suffix\":true", "'end_of_word_suffix'"},
        {"\"merges\":[],\"fuse_unk\":\"yes\"", "'fuse_unk'"},
        {"\"merges\":[],\"byte_fallback\":1", "'byte_fallback'"},
        {"\"merges\":[],\"ignore_merges\":{}", "'ignore_merges'"},
        {"\"merges\":[\"a b\"],\"continuing_subword_prefix\":\"##\"", "merges[0]"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "{%s,%s}", v, bad[i][0]);
        model_error(text, VKT_ERR_FORMAT, bad[i][1]);
    }
    snprintf(text, sizeof text, "{%s,\"merges\":[],\"dropout\":0.1}", v);
    model_error(text, VKT_ERR_UNSUPPORTED, "'dropout'");
}

// --- decoders ------------------------------------------------------------------------------

static hf_decoder *decoder(const char *text) {
    json_t *j = load(text);
    hf_decoder *d = NULL;
    vkt_error err = {0};
    vkt_status st = hf_decoder_parse(j, "tokenizer.json: decoder", &d, &err);
    json_decref(j);
    if (st != VKT_OK) fail_msg("decoder parse failed: %s", err.msg);
    return d;
}

// Decodes the NULL-terminated token list and compares with want.
static void expect_text(const hf_decoder *d, const char *want, const char *const *toks) {
    hf_strlist l = {0};
    for (size_t i = 0; toks[i]; i++) hf_strlist_push(&l, toks[i], strlen(toks[i]), 0);
    vkt_bytebuf out = {0};
    vkt_error err = {0};
    if (hf_decode(d, &l, &out, &err) != VKT_OK) fail_msg("decode: %s", err.msg);
    assert_int_equal(out.n, strlen(want));
    if (out.n) assert_memory_equal(out.p, want, out.n);
    free(out.p);
    hf_strlist_free(&l);
}

#define TOKS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_decode_bytelevel(void **state) {
    (void)state;
    hf_decoder *d =
        decoder("{\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"trim_offsets\":true,"
                "\"use_regex\":true}");
    expect_text(d, "Hello my friend, how?",
                TOKS("Hello", "\xC4\xA0my",
                     "\xC4\xA0"
                     "friend",
                     ",", "\xC4\xA0how", "?"));
    expect_text(d, "\xE5\x8F\xAB", TOKS("\xC3\xA5", "\xC4\xB1\xC2\xAB")); // 叫 in two tokens
    expect_text(d,
                "a\xEF\xBF\xBD"
                "b",
                TOKS("a", "\xC3\xA5", "b")); // a lone lead byte
    // A token with a char off the table keeps its UTF-8 whole (its Ġ too).
    expect_text(d, " \xC4\xA0\xE5\x8F\xAB", TOKS("\xC4\xA0", "\xC4\xA0\xE5\x8F\xAB"));
    expect_text(d, "", TOKS(""));
    hf_decoder_free(d);
}

static void test_decode_bytefallback(void **state) {
    (void)state;
    hf_decoder *d = decoder("{\"type\":\"ByteFallback\"}");
    expect_text(d, "Heyfriend!", TOKS("Hey", "friend!"));
    expect_text(d, "a", TOKS("<0x61>"));
    expect_text(d, "\xEF\xBF\xBD", TOKS("<0xE5>"));
    expect_text(d, "\xEF\xBF\xBD\xEF\xBF\xBD", TOKS("<0xE5>", "<0x8f>"));
    expect_text(d,
                "\xE5\x8F\xAB"
                "a",
                TOKS("<0xE5>", "<0x8f>", "<0xab>", "a"));
    expect_text(d,
                "\xEF\xBF\xBD\xEF\xBF\xBD"
                "a",
                TOKS("<0xE5>", "<0x8f>", "a"));
    expect_text(d, "\x0F<0xG1><0x411>", TOKS("<0x+F>", "<0xG1>", "<0x411>"));
    hf_decoder_free(d);
}

static void test_decode_strip_fuse_replace(void **state) {
    (void)state;
    hf_decoder *d = decoder("{\"type\":\"Strip\",\"content\":\"H\",\"start\":1,\"stop\":0}");
    expect_text(d, "ey friend!HH", TOKS("Hey", " friend!", "HHH"));
    hf_decoder_free(d);
    d = decoder("{\"type\":\"Strip\",\"content\":\"y\",\"start\":0,\"stop\":1}");
    expect_text(d, "He friend!", TOKS("Hey", " friend!"));
    hf_decoder_free(d);
    d = decoder("{\"type\":\"Strip\",\"content\":\"\xE2\x96\x81\",\"start\":2,\"stop\":5}");
    expect_text(d,
                "\xE2\x96\x81"
                "a\xE2\x96\x81"
                "b",
                TOKS("\xE2\x96\x81\xE2\x96\x81\xE2\x96\x81"
                     "a\xE2\x96\x81"
                     "b\xE2\x96\x81",
                     "\xE2\x96\x81\xE2\x96\x81"));
    hf_decoder_free(d);
    d = decoder(
        "{\"type\":\"Replace\",\"pattern\":{\"String\":\"\xE2\x96\x81\"},\"content\":\" \"}");
    expect_text(d, " Hey friend!",
                TOKS("\xE2\x96\x81Hey", "\xE2\x96\x81"
                                        "friend!"));
    hf_decoder_free(d);
    d = decoder("{\"type\":\"Replace\",\"pattern\":{\"String\":\"\"},\"content\":\"-\"}");
    expect_text(d, "-a-\xC3\xA9-", TOKS("a\xC3\xA9", ""));
    hf_decoder_free(d);
    d = decoder("{\"type\":\"Replace\",\"pattern\":{\"Regex\":\"a+\"},\"content\":\"X\"}");
    expect_text(d, "bXcX", TOKS("baaac", "a"));
    hf_decoder_free(d);
    d = decoder("{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Fuse\"},"
                "{\"type\":\"Strip\",\"content\":\" \",\"start\":1,\"stop\":0}]}");
    expect_text(d, "a b", TOKS(" a", " b"));
    hf_decoder_free(d);
}

static void test_decode_metaspace(void **state) {
    (void)state;
    hf_decoder *d = decoder("{\"type\":\"Metaspace\",\"replacement\":\"\xE2\x96\x81\","
                            "\"prepend_scheme\":\"always\",\"split\":true}");
    expect_text(d, "Hey friend!",
                TOKS("\xE2\x96\x81Hey", "\xE2\x96\x81"
                                        "friend!"));
    expect_text(d, "ab c",
                TOKS("\xE2\x96\x81"
                     "a\xE2\x96\x81"
                     "b",
                     "\xE2\x96\x81"
                     "c"));
    hf_decoder_free(d);
    d = decoder(
        "{\"type\":\"Metaspace\",\"replacement\":\"\xE2\x96\x81\",\"prepend_scheme\":\"never\"}");
    expect_text(d, " Hey friend!",
                TOKS("\xE2\x96\x81Hey", "\xE2\x96\x81"
                                        "friend!"));
    hf_decoder_free(d);
    d = decoder("{\"type\":\"Metaspace\",\"replacement\":\"_\",\"add_prefix_space\":false}");
    expect_text(d, " Hey", TOKS("_Hey"));
    hf_decoder_free(d);
    d = decoder("{\"type\":\"Metaspace\",\"replacement\":\"_\",\"add_prefix_space\":true,"
                "\"prepend_scheme\":\"first\",\"str_rep\":\"_\"}");
    expect_text(d, "Hey you", TOKS("_Hey", "_you"));
    hf_decoder_free(d);
}

// Llama 2's decoder chain, and no decoder at all.
static void test_decode_sequence(void **state) {
    (void)state;
    hf_decoder *d = decoder(
        "{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Replace\",\"pattern\":{\"String\":"
        "\"\xE2\x96\x81\"},\"content\":\" \"},{\"type\":\"ByteFallback\"},{\"type\":\"Fuse\"},"
        "{\"type\":\"Strip\",\"content\":\" \",\"start\":1,\"stop\":0}]}");
    expect_text(
        d, "Hello\xE5\x8F\xAB world\xEF\xBF\xBD",
        TOKS("\xE2\x96\x81Hello", "<0xE5>", "<0x8F>", "<0xAB>", "\xE2\x96\x81world", "<0xFF>"));
    hf_decoder_free(d);
    json_t *null = json_null();
    vkt_error err = {0};
    assert_int_equal(hf_decoder_parse(null, "tokenizer.json: decoder", &d, &err), VKT_OK);
    assert_null(d);
    expect_text(NULL, "ab c", TOKS("a", "b", " c"));
    json_decref(null);
}

static void decoder_error(const char *text, vkt_status want_st, const char *want) {
    json_t *j = load(text);
    hf_decoder *d = NULL;
    vkt_error err = {0};
    vkt_status st = hf_decoder_parse(j, "tokenizer.json: decoder", &d, &err);
    json_decref(j);
    if (st == VKT_OK) fail_msg("parsed, but should fail with \"%s\": %s", want, text);
    assert_int_equal(st, want_st);
    assert_null(d);
    assert_contains(err.msg, "tokenizer.json: decoder");
    assert_contains(err.msg, want);
}

static void test_decoder_errors(void **state) {
    (void)state;
    decoder_error("{\"type\":\"WordPiece\",\"prefix\":\"##\"}", VKT_ERR_UNSUPPORTED, "WordPiece");
    decoder_error("{\"type\":\"BPEDecoder\"}", VKT_ERR_UNSUPPORTED, "BPEDecoder");
    decoder_error("{\"type\":\"CTC\"}", VKT_ERR_UNSUPPORTED, "CTC");
    decoder_error("{\"type\":\"Nope\"}", VKT_ERR_FORMAT, "'Nope'");
    decoder_error("{\"replacement\":\"_\"}", VKT_ERR_FORMAT, "'type'");
    decoder_error("[]", VKT_ERR_FORMAT, "object");
    decoder_error("{\"type\":\"Strip\",\"content\":\"ab\",\"start\":1,\"stop\":0}", VKT_ERR_FORMAT,
                  "'content'");
    decoder_error("{\"type\":\"Strip\",\"content\":\" \",\"start\":-1,\"stop\":0}", VKT_ERR_FORMAT,
                  "'start'");
    decoder_error("{\"type\":\"Strip\",\"content\":\" \",\"start\":1}", VKT_ERR_FORMAT, "'stop'");
    decoder_error("{\"type\":\"Replace\",\"pattern\":\"x\",\"content\":\" \"}", VKT_ERR_FORMAT,
                  "'pattern'");
    decoder_error("{\"type\":\"Replace\",\"pattern\":{\"String\":\"x\"}}", VKT_ERR_FORMAT,
                  "'content'");
    decoder_error("{\"type\":\"Metaspace\"}", VKT_ERR_FORMAT, "'replacement'");
    decoder_error("{\"type\":\"Metaspace\",\"replacement\":\"_\",\"prepend_scheme\":\"sometimes\"}",
                  VKT_ERR_FORMAT, "'prepend_scheme'");
    decoder_error("{\"type\":\"Metaspace\",\"replacement\":\"_\",\"add_prefix_space\":false,"
                  "\"prepend_scheme\":\"always\"}",
                  VKT_ERR_FORMAT, "add_prefix_space");
    decoder_error("{\"type\":\"ByteLevel\",\"trim_offsets\":\"no\"}", VKT_ERR_FORMAT,
                  "'trim_offsets'");
    decoder_error("{\"type\":\"Sequence\"}", VKT_ERR_FORMAT, "'decoders'");
    decoder_error("{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Fuse\"},{\"type\":\"CTC\"}]}",
                  VKT_ERR_UNSUPPORTED, "decoder.decoders[1]: decoder type 'CTC'");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merges_both_forms),
        cmocka_unit_test(test_merge_order),
        cmocka_unit_test(test_prefix_suffix),
        cmocka_unit_test(test_unk),
        cmocka_unit_test(test_unknown_errors),
        cmocka_unit_test(test_byte_fallback),
        cmocka_unit_test(test_ignore_merges),
        cmocka_unit_test(test_sparse_ids),
        cmocka_unit_test(test_long_piece),
        cmocka_unit_test(test_cache_wraps),
        cmocka_unit_test(test_model_errors),
        cmocka_unit_test(test_decode_bytelevel),
        cmocka_unit_test(test_decode_bytefallback),
        cmocka_unit_test(test_decode_strip_fuse_replace),
        cmocka_unit_test(test_decode_metaspace),
        cmocka_unit_test(test_decode_sequence),
        cmocka_unit_test(test_decoder_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
