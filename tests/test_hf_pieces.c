// test_hf_pieces.c: the regular expressions, normalizers and pre-tokenizers of tokenizer.json.
// The tables of expected pieces and texts were made by running the same JSON parts through
// the Rust `tokenizers` crate (its Split, ByteLevel, Metaspace, ... and normalizers), so they
// hold the crate's exact behaviour: the split behaviours and invert, the Metaspace prepend
// schemes, Oniguruma's \w \s \h, and the real Qwen3 / Llama 3 / GPT-2 pre-tokenizers.
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
    json_t *j = json_loads(text, JSON_DECODE_ANY, &je);
    if (!j) fail_msg("bad test JSON: %s: %s", je.text, text);
    return j;
}

static hf_pretok *pretok(const char *text) {
    json_t *j = load(text);
    hf_pretok *pt = NULL;
    vkt_error err = {0};
    vkt_status st = hf_pretok_parse(j, "tokenizer.json: pre_tokenizer", &pt, &err);
    json_decref(j);
    if (st != VKT_OK) fail_msg("parse failed: %s: %s", err.msg, text);
    return pt;
}

static hf_normalizer *normalizer(const char *text) {
    json_t *j = load(text);
    hf_normalizer *nm = NULL;
    vkt_error err = {0};
    vkt_status st = hf_normalizer_parse(j, "tokenizer.json: normalizer", &nm, &err);
    json_decref(j);
    if (st != VKT_OK) fail_msg("parse failed: %s: %s", err.msg, text);
    return nm;
}

// Pre-tokenizes in and compares the pieces with want (NULL-terminated).
static void check_pieces(const hf_pretok *pt, const char *in, bool at_start,
                         const char *const *want, const char *what) {
    hf_strlist l = {0};
    vkt_error err = {0};
    if (hf_pretokenize(pt, in, strlen(in), at_start, &l, &err) != VKT_OK)
        fail_msg("%s on \"%s\": %s", what, in, err.msg);
    size_t n = 0;
    while (want[n]) n++;
    for (size_t i = 0; i < l.n || i < n; i++) {
        size_t len = 0;
        const char *got = i < l.n ? hf_strlist_get(&l, i, &len) : "(none)";
        if (i >= l.n || i >= n || len != strlen(want[i]) || memcmp(got, want[i], len))
            fail_msg("%s on \"%s\": piece %zu is \"%.*s\", want \"%s\" (%zu pieces, want %zu)",
                     what, in, i, (int)(i < l.n ? len : 6), got, i < n ? want[i] : "(none)", l.n,
                     n);
    }
    hf_strlist_free(&l);
}

static void check_norm(const hf_normalizer *nm, const char *in, const char *want,
                       const char *what) {
    vkt_bytebuf b = {0};
    vkt_error err = {0};
    if (hf_normalize(nm, in, strlen(in), &b, &err) != VKT_OK)
        fail_msg("%s on \"%s\": %s", what, in, err.msg);
    if (b.n != strlen(want) || (b.n && memcmp(b.p, want, b.n)))
        fail_msg("%s on \"%s\": got \"%.*s\", want \"%s\"", what, in, (int)b.n, b.p ? b.p : "",
                 want);
    free(b.p);
}

// --- pre-tokenizers, against the Rust crate ------------------------------------------------

#define P_BYTELEVEL_PS_RE                                                                          \
    "{\"type\":\"ByteLevel\",\"add_prefix_space\":true,"                                           \
    "\"trim_offsets\":true,\"use_regex\":true}"
#define P_BYTELEVEL_PS                                                                             \
    "{\"type\":\"ByteLevel\",\"add_prefix_space\":true,"                                           \
    "\"trim_offsets\":true,\"use_regex\":false}"
#define P_BYTELEVEL_RE                                                                             \
    "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,"                                          \
    "\"trim_offsets\":true,\"use_regex\":true}"
#define P_BYTELEVEL_PLAIN                                                                          \
    "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,"                                          \
    "\"trim_offsets\":true,\"use_regex\":false}"
#define P_SPLIT_WS_REMOVED                                                                         \
    "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"\\\\s+\"},"                                      \
    "\"behavior\":\"Removed\",\"invert\":false}"
#define P_SPLIT_LIT_A_REMOVED                                                                      \
    "{\"type\":\"Split\",\"pattern\":{\"String\":\"a\"},"                                          \
    "\"behavior\":\"Removed\",\"invert\":false}"
#define P_SPLIT_WS_REMOVED_INV                                                                     \
    "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"\\\\s+\"},"                                      \
    "\"behavior\":\"Removed\",\"invert\":true}"
#define P_SPLIT_LIT_A_REMOVED_INV                                                                  \
    "{\"type\":\"Split\",\"pattern\":{\"String\":\"a\"},"                                          \
    "\"behavior\":\"Removed\",\"invert\":true}"
#define P_SPLIT_WS_ISOLATED                                                                        \
    "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"\\\\s+\"},"                                      \
    "\"behavior\":\"Isolated\",\"invert\":false}"
#define P_SPLIT_LIT_A_ISOLATED                                                                     \
    "{\"type\":\"Split\",\"pattern\":{\"String\":\"a\"},"                                          \
    "\"behavior\":\"Isolated\",\"invert\":false}"
#define P_SPLIT_WS_ISOLATED_INV                                                                    \
    "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"\\\\s+\"},"                                      \
    "\"behavior\":\"Isolated\",\"invert\":true}"
#define P_SPLIT_LIT_A_ISOLATED_INV                                                                 \
    "{\"type\":\"Split\",\"pattern\":{\"String\":\"a\"},"                                          \
    "\"behavior\":\"Isolated\",\"invert\":true}"
#define P_SPLIT_WS_PREV                                                                            \
    "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"\\\\s+\"},"                                      \
    "\"behavior\":\"MergedWithPrevious\",\"invert\":false}"
#define P_SPLIT_LIT_A_PREV                                                                         \
    "{\"type\":\"Split\",\"pattern\":{\"String\":\"a\"},"                                          \
    "\"behavior\":\"MergedWithPrevious\",\"invert\":false}"
#define P_SPLIT_WS_PREV_INV                                                                        \
    "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"\\\\s+\"},"                                      \
    "\"behavior\":\"MergedWithPrevious\",\"invert\":true}"
#define P_SPLIT_LIT_A_PREV_INV                                                                     \
    "{\"type\":\"Split\",\"pattern\":{\"String\":\"a\"},"                                          \
    "\"behavior\":\"MergedWithPrevious\",\"invert\":true}"
#define P_SPLIT_WS_NEXT                                                                            \
    "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"\\\\s+\"},"                                      \
    "\"behavior\":\"MergedWithNext\",\"invert\":false}"
#define P_SPLIT_LIT_A_NEXT                                                                         \
    "{\"type\":\"Split\",\"pattern\":{\"String\":\"a\"},"                                          \
    "\"behavior\":\"MergedWithNext\",\"invert\":false}"
#define P_SPLIT_WS_NEXT_INV                                                                        \
    "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"\\\\s+\"},"                                      \
    "\"behavior\":\"MergedWithNext\",\"invert\":true}"
#define P_SPLIT_LIT_A_NEXT_INV                                                                     \
    "{\"type\":\"Split\",\"pattern\":{\"String\":\"a\"},"                                          \
    "\"behavior\":\"MergedWithNext\",\"invert\":true}"
#define P_SPLIT_WS_CONTIGUOUS                                                                      \
    "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"\\\\s+\"},"                                      \
    "\"behavior\":\"Contiguous\",\"invert\":false}"
#define P_SPLIT_LIT_A_CONTIGUOUS                                                                   \
    "{\"type\":\"Split\",\"pattern\":{\"String\":\"a\"},"                                          \
    "\"behavior\":\"Contiguous\",\"invert\":false}"
#define P_SPLIT_WS_CONTIGUOUS_INV                                                                  \
    "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"\\\\s+\"},"                                      \
    "\"behavior\":\"Contiguous\",\"invert\":true}"
#define P_SPLIT_LIT_A_CONTIGUOUS_INV                                                               \
    "{\"type\":\"Split\",\"pattern\":{\"String\":\"a\"},"                                          \
    "\"behavior\":\"Contiguous\",\"invert\":true}"
#define P_SPLIT_ASTAR                                                                              \
    "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"a*\"},"                                          \
    "\"behavior\":\"Isolated\",\"invert\":false}"
#define P_SPLIT_ASTAR_REMOVED                                                                      \
    "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"a*\"},"                                          \
    "\"behavior\":\"Removed\",\"invert\":false}"
#define P_SPLIT_STRING_WITH_REGEX_CHARACTERS                                                       \
    "{\"type\":\"Split\",\"pattern\":{\"String\":\".*\"},"                                         \
    "\"behavior\":\"Isolated\",\"invert\":false}"
#define P_DIGITS "{\"type\":\"Digits\",\"individual_digits\":false}"
#define P_DIGITS_INDIVIDUAL "{\"type\":\"Digits\",\"individual_digits\":true}"
#define P_METASPACE_ALWAYS                                                                         \
    "{\"type\":\"Metaspace\",\"replacement\":\"▁\","                                             \
    "\"prepend_scheme\":\"always\",\"split\":true}"
#define P_METASPACE_FIRST_AT_START                                                                 \
    "{\"type\":\"Metaspace\",\"replacement\":\"▁\","                                             \
    "\"prepend_scheme\":\"first\",\"split\":true}"
#define P_METASPACE_NEVER                                                                          \
    "{\"type\":\"Metaspace\",\"replacement\":\"▁\","                                             \
    "\"prepend_scheme\":\"never\",\"split\":true}"
#define P_METASPACE_NO_SPLIT                                                                       \
    "{\"type\":\"Metaspace\",\"replacement\":\"▁\","                                             \
    "\"prepend_scheme\":\"always\",\"split\":false}"
#define P_METASPACE_LEGACY_ADD_PREFIX_SPACE                                                        \
    "{\"type\":\"Metaspace\",\"replacement\":\"▁\","                                             \
    "\"add_prefix_space\":true}"
#define P_METASPACE_UNDERSCORE                                                                     \
    "{\"type\":\"Metaspace\",\"replacement\":\"_\","                                               \
    "\"prepend_scheme\":\"always\",\"split\":true}"
#define P_PUNCTUATION_REMOVED "{\"type\":\"Punctuation\",\"behavior\":\"Removed\"}"
#define P_PUNCTUATION_ISOLATED "{\"type\":\"Punctuation\",\"behavior\":\"Isolated\"}"
#define P_PUNCTUATION_PREV "{\"type\":\"Punctuation\",\"behavior\":\"MergedWithPrevious\"}"
#define P_PUNCTUATION_NEXT "{\"type\":\"Punctuation\",\"behavior\":\"MergedWithNext\"}"
#define P_PUNCTUATION_CONTIGUOUS "{\"type\":\"Punctuation\",\"behavior\":\"Contiguous\"}"
#define P_PUNCTUATION_DEFAULT "{\"type\":\"Punctuation\"}"
#define P_WHITESPACE "{\"type\":\"Whitespace\"}"
#define P_WHITESPACESPLIT "{\"type\":\"WhitespaceSplit\"}"
#define P_SEQUENCE_WHITESPACESPLIT_METASPACE                                                       \
    "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"WhitespaceSplit\"},"                    \
    "{\"type\":\"Metaspace\",\"replacement\":\"▁\","                                             \
    "\"prepend_scheme\":\"always\",\"split\":true}]}"
#define P_SEQUENCE_PUNCTUATION_DIGITS                                                              \
    "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Punctuation\"},"                        \
    "{\"type\":\"Digits\",\"individual_digits\":true}]}"
#define P_ONIGURUMA_CLASSES                                                                        \
    "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"\\\\w+|"                                         \
    "\\\\s|\\\\h+|\\\\u0041\"},\"behavior\":\"Isolated\","                                         \
    "\"invert\":false}"
#define P_QWEN3                                                                                    \
    "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\","                               \
    "\"pattern\":{\"Regex\":\"(?i:'s|'t|'re|'ve|'m|"                                               \
    "'ll|'d)|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|"                                             \
    "\\\\p{N}| ?[^\\\\s\\\\p{L}\\\\p{N}]+[\\\\r\\\\n]*|"                                           \
    "\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+\"},"                                               \
    "\"behavior\":\"Isolated\",\"invert\":false},{\"type\":\"ByteLevel\","                         \
    "\"add_prefix_space\":false,\"trim_offsets\":false,"                                           \
    "\"use_regex\":false}]}"
#define P_LLAMA3                                                                                   \
    "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\","                               \
    "\"pattern\":{\"Regex\":\"(?i:'s|'t|'re|'ve|'m|"                                               \
    "'ll|'d)|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|"                                             \
    "\\\\p{N}{1,3}| ?[^\\\\s\\\\p{L}\\\\p{N}]+[\\\\r\\\\n]*|"                                      \
    "\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+\"},"                                               \
    "\"behavior\":\"Isolated\",\"invert\":false},{\"type\":\"ByteLevel\","                         \
    "\"add_prefix_space\":false,\"trim_offsets\":true,"                                            \
    "\"use_regex\":false}]}"
#define P_GPT2                                                                                     \
    "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,"                                          \
    "\"trim_offsets\":true,\"use_regex\":true}"

struct pre_case {
    const char *config;
    const char *input;
    const char *want[24];
};

static const struct pre_case pre_cases[] = {
    {P_BYTELEVEL_PS_RE,
     "Hello my friend, how is your day going?",
     {"ĠHello", "Ġmy", "Ġfriend", ",", "Ġhow", "Ġis", "Ġyour", "Ġday", "Ġgoing", "?", NULL}},
    {P_BYTELEVEL_PS_RE, " Hey", {"ĠHey", NULL}},
    {P_BYTELEVEL_PS_RE, "é\n\n x", {"ĠÃ©", "ĊĊ", "Ġx", NULL}},
    {P_BYTELEVEL_PS_RE, "I'm 123 ok", {"ĠI", "'m", "Ġ123", "Ġok", NULL}},
    {P_BYTELEVEL_PS,
     "Hello my friend, how is your day going?",
     {"ĠHelloĠmyĠfriend,ĠhowĠisĠyourĠdayĠgoing?", NULL}},
    {P_BYTELEVEL_PS, " Hey", {"ĠHey", NULL}},
    {P_BYTELEVEL_PS, "é\n\n x", {"ĠÃ©ĊĊĠx", NULL}},
    {P_BYTELEVEL_PS, "I'm 123 ok", {"ĠI'mĠ123Ġok", NULL}},
    {P_BYTELEVEL_RE,
     "Hello my friend, how is your day going?",
     {"Hello", "Ġmy", "Ġfriend", ",", "Ġhow", "Ġis", "Ġyour", "Ġday", "Ġgoing", "?", NULL}},
    {P_BYTELEVEL_RE, " Hey", {"ĠHey", NULL}},
    {P_BYTELEVEL_RE, "é\n\n x", {"Ã©", "ĊĊ", "Ġx", NULL}},
    {P_BYTELEVEL_RE, "I'm 123 ok", {"I", "'m", "Ġ123", "Ġok", NULL}},
    {P_BYTELEVEL_PLAIN,
     "Hello my friend, how is your day going?",
     {"HelloĠmyĠfriend,ĠhowĠisĠyourĠdayĠgoing?", NULL}},
    {P_BYTELEVEL_PLAIN, " Hey", {"ĠHey", NULL}},
    {P_BYTELEVEL_PLAIN, "é\n\n x", {"Ã©ĊĊĠx", NULL}},
    {P_BYTELEVEL_PLAIN, "I'm 123 ok", {"I'mĠ123Ġok", NULL}},
    {P_SPLIT_WS_REMOVED, "a  b c ", {"a", "b", "c", NULL}},
    {P_SPLIT_WS_REMOVED, " x", {"x", NULL}},
    {P_SPLIT_LIT_A_REMOVED, "baab", {"b", "b", NULL}},
    {P_SPLIT_LIT_A_REMOVED, "aaa bab", {" b", "b", NULL}},
    {P_SPLIT_WS_REMOVED_INV, "a  b c ", {"  ", " ", " ", NULL}},
    {P_SPLIT_WS_REMOVED_INV, " x", {" ", NULL}},
    {P_SPLIT_LIT_A_REMOVED_INV, "baab", {"a", "a", NULL}},
    {P_SPLIT_LIT_A_REMOVED_INV, "aaa bab", {"a", "a", "a", "a", NULL}},
    {P_SPLIT_WS_ISOLATED, "a  b c ", {"a", "  ", "b", " ", "c", " ", NULL}},
    {P_SPLIT_WS_ISOLATED, " x", {" ", "x", NULL}},
    {P_SPLIT_LIT_A_ISOLATED, "baab", {"b", "a", "a", "b", NULL}},
    {P_SPLIT_LIT_A_ISOLATED, "aaa bab", {"a", "a", "a", " b", "a", "b", NULL}},
    {P_SPLIT_WS_ISOLATED_INV, "a  b c ", {"a", "  ", "b", " ", "c", " ", NULL}},
    {P_SPLIT_WS_ISOLATED_INV, " x", {" ", "x", NULL}},
    {P_SPLIT_LIT_A_ISOLATED_INV, "baab", {"b", "a", "a", "b", NULL}},
    {P_SPLIT_LIT_A_ISOLATED_INV, "aaa bab", {"a", "a", "a", " b", "a", "b", NULL}},
    {P_SPLIT_WS_PREV, "a  b c ", {"a  ", "b ", "c ", NULL}},
    {P_SPLIT_WS_PREV, " x", {" ", "x", NULL}},
    {P_SPLIT_LIT_A_PREV, "baab", {"ba", "a", "b", NULL}},
    {P_SPLIT_LIT_A_PREV, "aaa bab", {"a", "a", "a", " ba", "b", NULL}},
    {P_SPLIT_WS_PREV_INV, "a  b c ", {"a", "  b", " c", " ", NULL}},
    {P_SPLIT_WS_PREV_INV, " x", {" x", NULL}},
    {P_SPLIT_LIT_A_PREV_INV, "baab", {"b", "a", "ab", NULL}},
    {P_SPLIT_LIT_A_PREV_INV, "aaa bab", {"a", "a", "a b", "ab", NULL}},
    {P_SPLIT_WS_NEXT, "a  b c ", {"a", "  b", " c", " ", NULL}},
    {P_SPLIT_WS_NEXT, " x", {" x", NULL}},
    {P_SPLIT_LIT_A_NEXT, "baab", {"b", "a", "ab", NULL}},
    {P_SPLIT_LIT_A_NEXT, "aaa bab", {"a", "a", "a b", "ab", NULL}},
    {P_SPLIT_WS_NEXT_INV, "a  b c ", {"a  ", "b ", "c ", NULL}},
    {P_SPLIT_WS_NEXT_INV, " x", {" ", "x", NULL}},
    {P_SPLIT_LIT_A_NEXT_INV, "baab", {"ba", "a", "b", NULL}},
    {P_SPLIT_LIT_A_NEXT_INV, "aaa bab", {"a", "a", "a", " ba", "b", NULL}},
    {P_SPLIT_WS_CONTIGUOUS, "a  b c ", {"a", "  ", "b", " ", "c", " ", NULL}},
    {P_SPLIT_WS_CONTIGUOUS, " x", {" ", "x", NULL}},
    {P_SPLIT_LIT_A_CONTIGUOUS, "baab", {"b", "aa", "b", NULL}},
    {P_SPLIT_LIT_A_CONTIGUOUS, "aaa bab", {"aaa", " b", "a", "b", NULL}},
    {P_SPLIT_WS_CONTIGUOUS_INV, "a  b c ", {"a", "  ", "b", " ", "c", " ", NULL}},
    {P_SPLIT_WS_CONTIGUOUS_INV, " x", {" ", "x", NULL}},
    {P_SPLIT_LIT_A_CONTIGUOUS_INV, "baab", {"b", "aa", "b", NULL}},
    {P_SPLIT_LIT_A_CONTIGUOUS_INV, "aaa bab", {"aaa", " b", "a", "b", NULL}},
    {P_SPLIT_ASTAR, "baab", {"b", "aa", "b", NULL}},
    {P_SPLIT_ASTAR, "", {NULL}},
    {P_SPLIT_ASTAR_REMOVED, "baab", {"b", "b", NULL}},
    {P_SPLIT_STRING_WITH_REGEX_CHARACTERS, "a.*b..*", {"a", ".*", "b.", ".*", NULL}},
    {P_DIGITS, "abc123def4567", {"abc", "123", "def", "4567", NULL}},
    {P_DIGITS, "٣٤x²", {"٣٤", "x", "²", NULL}},
    {P_DIGITS_INDIVIDUAL, "abc123def4567", {"abc", "1", "2", "3", "def", "4", "5", "6", "7", NULL}},
    {P_METASPACE_ALWAYS, "Hey   friend!", {"▁Hey", "▁", "▁", "▁friend!", NULL}},
    {P_METASPACE_ALWAYS, " Hey friend", {"▁Hey", "▁friend", NULL}},
    {P_METASPACE_ALWAYS, "▁already ▁marked", {"▁already", "▁", "▁marked", NULL}},
    {P_METASPACE_ALWAYS, "a▁b c", {"▁a", "▁b", "▁c", NULL}},
    {P_METASPACE_ALWAYS, "   ", {"▁", "▁", "▁", NULL}},
    {P_METASPACE_FIRST_AT_START, "Hey   friend!", {"▁Hey", "▁", "▁", "▁friend!", NULL}},
    {P_METASPACE_FIRST_AT_START, " Hey friend", {"▁Hey", "▁friend", NULL}},
    {P_METASPACE_NEVER, "Hey   friend!", {"Hey", "▁", "▁", "▁friend!", NULL}},
    {P_METASPACE_NEVER, " Hey friend", {"▁Hey", "▁friend", NULL}},
    {P_METASPACE_NEVER, "▁already ▁marked", {"▁already", "▁", "▁marked", NULL}},
    {P_METASPACE_NEVER, "a▁b c", {"a", "▁b", "▁c", NULL}},
    {P_METASPACE_NEVER, "   ", {"▁", "▁", "▁", NULL}},
    {P_METASPACE_NO_SPLIT, "Hey   friend!", {"▁Hey▁▁▁friend!", NULL}},
    {P_METASPACE_NO_SPLIT, " Hey friend", {"▁Hey▁friend", NULL}},
    {P_METASPACE_LEGACY_ADD_PREFIX_SPACE, "Hey   friend!", {"▁Hey", "▁", "▁", "▁friend!", NULL}},
    {P_METASPACE_UNDERSCORE, "a_b c", {"_a", "_b", "_c", NULL}},
    {P_PUNCTUATION_REMOVED, "x!!y..z??", {"x", "y", "z", NULL}},
    {P_PUNCTUATION_REMOVED, "¿Qué? «sí»", {"Qué", " ", "sí", NULL}},
    {P_PUNCTUATION_ISOLATED, "x!!y..z??", {"x", "!", "!", "y", ".", ".", "z", "?", "?", NULL}},
    {P_PUNCTUATION_ISOLATED, "¿Qué? «sí»", {"¿", "Qué", "?", " ", "«", "sí", "»", NULL}},
    {P_PUNCTUATION_PREV, "x!!y..z??", {"x!", "!", "y.", ".", "z?", "?", NULL}},
    {P_PUNCTUATION_PREV, "¿Qué? «sí»", {"¿", "Qué?", " «", "sí»", NULL}},
    {P_PUNCTUATION_NEXT, "x!!y..z??", {"x", "!", "!y", ".", ".z", "?", "?", NULL}},
    {P_PUNCTUATION_NEXT, "¿Qué? «sí»", {"¿Qué", "? ", "«sí", "»", NULL}},
    {P_PUNCTUATION_CONTIGUOUS, "x!!y..z??", {"x", "!!", "y", "..", "z", "??", NULL}},
    {P_PUNCTUATION_CONTIGUOUS, "¿Qué? «sí»", {"¿", "Qué", "?", " ", "«", "sí", "»", NULL}},
    {P_PUNCTUATION_DEFAULT, "a$+b", {"a", "$", "+", "b", NULL}},
    {P_WHITESPACE,
     "Hello, world!  x²y a\xe2\x80\x8d"
     "b _c",
     {"Hello", ",", "world", "!", "x", "²", "y",
      "a\xe2\x80\x8d"
      "b",
      "_c", NULL}},
    {P_WHITESPACESPLIT,
     "hello  world\t\nfoo\xc2\xa0"
     "bar ",
     {"hello", "world", "foo", "bar", NULL}},
    {P_SEQUENCE_WHITESPACESPLIT_METASPACE, "Hey  my friend", {"▁Hey", "▁my", "▁friend", NULL}},
    {P_SEQUENCE_PUNCTUATION_DIGITS, "a1,23.b", {"a", "1", ",", "2", "3", ".", "b", NULL}},
    {P_ONIGURUMA_CLASSES,
     "x²½ a\xe2\x80\x8d"
     "b\xc2\x85.ABC",
     {"x²½", " ", "a", "\xe2\x80\x8d", "b", "\xc2\x85", ".", "ABC", NULL}},
    {P_ONIGURUMA_CLASSES, "Ⓐ①", {"Ⓐ", "①", NULL}},
    {P_QWEN3,
     "Hello world, it's 12345 test!!  \n\n  x",
     {"Hello", "Ġworld", ",", "Ġit", "'s", "Ġ", "1", "2", "3", "4", "5", "Ġtest", "!!", "ĠĠĊĊ", "Ġ",
      "Ġx", NULL}},
    {P_QWEN3, "I'M HERE'S can't", {"I", "'M", "ĠHERE", "'S", "Ġcan", "'t", NULL}},
    {P_QWEN3,
     "def f(x):\n\treturn x**2  # ok\r\n",
     {"def", "Ġf", "(x", "):Ċ", "ĉreturn", "Ġx", "**", "2", "Ġ", "Ġ#", "Ġok", "čĊ", NULL}},
    {P_QWEN3, "日本語のテキスト、です。", {"æĹ¥æľ¬èªŀãģ®ãĥĨãĤŃãĤ¹ãĥĪ", "ãĢģãģ§ãģĻ", "ãĢĤ", NULL}},
    {P_QWEN3, "emoji 👍🏽 naïve café", {"emoji", "ĠðŁĳįðŁı½", "ĠnaÃ¯ve", "ĠcafÃ©", NULL}},
    {P_QWEN3,
     "   spaces\xc2\xa0"
     "and\xe3\x80\x80more   ",
     {"ĠĠ", "Ġspaces", "Âłand", "ãĢĢmore", "ĠĠĠ", NULL}},
    {P_LLAMA3,
     "Hello world, it's 12345 test!!  \n\n  x",
     {"Hello", "Ġworld", ",", "Ġit", "'s", "Ġ", "123", "45", "Ġtest", "!!", "ĠĠĊĊ", "Ġ", "Ġx",
      NULL}},
    {P_LLAMA3, "I'M HERE'S can't", {"I", "'M", "ĠHERE", "'S", "Ġcan", "'t", NULL}},
    {P_LLAMA3,
     "def f(x):\n\treturn x**2  # ok\r\n",
     {"def", "Ġf", "(x", "):Ċ", "ĉreturn", "Ġx", "**", "2", "Ġ", "Ġ#", "Ġok", "čĊ", NULL}},
    {P_LLAMA3, "日本語のテキスト、です。", {"æĹ¥æľ¬èªŀãģ®ãĥĨãĤŃãĤ¹ãĥĪ", "ãĢģãģ§ãģĻ", "ãĢĤ", NULL}},
    {P_LLAMA3, "emoji 👍🏽 naïve café", {"emoji", "ĠðŁĳįðŁı½", "ĠnaÃ¯ve", "ĠcafÃ©", NULL}},
    {P_LLAMA3,
     "   spaces\xc2\xa0"
     "and\xe3\x80\x80more   ",
     {"ĠĠ", "Ġspaces", "Âłand", "ãĢĢmore", "ĠĠĠ", NULL}},
    {P_GPT2,
     "Hello world, it's 12345 test!!  \n\n  x",
     {"Hello", "Ġworld", ",", "Ġit", "'s", "Ġ12345", "Ġtest", "!!", "ĠĠĊĊĠ", "Ġx", NULL}},
    {P_GPT2, "I'M HERE'S can't", {"I", "'", "M", "ĠHERE", "'", "S", "Ġcan", "'t", NULL}},
    {P_GPT2,
     "def f(x):\n\treturn x**2  # ok\r\n",
     {"def", "Ġf", "(", "x", "):", "Ċ", "ĉ", "return", "Ġx", "**", "2", "Ġ", "Ġ#", "Ġok", "čĊ",
      NULL}},
    {P_GPT2,
     "日本語のテキスト、です。",
     {"æĹ¥æľ¬èªŀãģ®ãĥĨãĤŃãĤ¹ãĥĪ", "ãĢģ", "ãģ§ãģĻ", "ãĢĤ", NULL}},
    {P_GPT2, "emoji 👍🏽 naïve café", {"emoji", "ĠðŁĳįðŁı½", "ĠnaÃ¯ve", "ĠcafÃ©", NULL}},
    {P_GPT2,
     "   spaces\xc2\xa0"
     "and\xe3\x80\x80more   ",
     {"ĠĠ", "Ġspaces", "Âł", "and", "ãĢĢ", "more", "ĠĠĠ", NULL}},
};

static void test_pretokenizers_match_rust(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof pre_cases / sizeof pre_cases[0]; i++) {
        hf_pretok *pt = pretok(pre_cases[i].config);
        check_pieces(pt, pre_cases[i].input, true, pre_cases[i].want, pre_cases[i].config);
        hf_pretok_free(pt);
    }
}

// --- normalizers, against the Rust crate ---------------------------------------------------

#define N_NFC "{\"type\":\"NFC\"}"
#define N_NFD "{\"type\":\"NFD\"}"
#define N_NFKC "{\"type\":\"NFKC\"}"
#define N_NFKD "{\"type\":\"NFKD\"}"
#define N_LOWERCASE "{\"type\":\"Lowercase\"}"
#define N_STRIP "{\"type\":\"Strip\",\"strip_left\":true,\"strip_right\":true}"
#define N_STRIP_LEFT "{\"type\":\"Strip\",\"strip_left\":true,\"strip_right\":false}"
#define N_STRIP_RIGHT "{\"type\":\"Strip\",\"strip_left\":false,\"strip_right\":true}"
#define N_STRIP_ACCENTS "{\"type\":\"StripAccents\"}"
#define N_PREPEND "{\"type\":\"Prepend\",\"prepend\":\"▁\"}"
#define N_REPLACE_SPACE "{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"▁\"}"
#define N_REPLACE_AB "{\"type\":\"Replace\",\"pattern\":{\"String\":\"ab\"},\"content\":\"\"}"
#define N_SEQ_ACCENTS                                                                              \
    "{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFD\"},"                                  \
    "{\"type\":\"StripAccents\"},{\"type\":\"Lowercase\"}]}"
#define N_SEQ_LLAMA2                                                                               \
    "{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Prepend\",\"prepend\":\"▁\"},"          \
    "{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"▁\"}]}"

struct norm_case {
    const char *config, *input, *want;
};

// Escaped rows: the Angstrom, Ohm and Kelvin signs, and Hangul syllables and their jamo.
static const struct norm_case norm_cases[] = {
    {N_NFC, "e\xcc\x81 a\xcc\x80 n\xcc\x83", "é à ñ"},
    {N_NFC, "\xe2\x84\xab \xe2\x84\xa6 \xe2\x84\xaa", "\xc3\x85 \xce\xa9 K"},
    {N_NFC, "\xe1\x84\x80\xe1\x85\xa1\xe1\x86\xab", "\xea\xb0\x84"},
    {N_NFD, "é", "e\xcc\x81"},
    {N_NFD, "\xed\x95\x9c", "\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab"},
    {N_NFD, "\xe2\x84\xab", "A\xcc\x8a"},
    {N_NFKC, "ﬁ ﬂ ＡＢＣ１２３ ①", "fi fl ABC123 1"},
    {N_NFKC, "x² ½ e\xcc\x81", "x2 1⁄2 é"},
    {N_NFKD, "ﬁé", "fie\xcc\x81"},
    {N_LOWERCASE, "İstanbul ΣΑΣ ǅ ẞ", "i\xcc\x87stanbul σασ ǆ ß"},
    {N_LOWERCASE, "HELLO World", "hello world"},
    {N_STRIP, "  \t hi there \xe3\x80\x80\n", "hi there"},
    {N_STRIP, "\xc2\x85\xc2\xa0", ""},
    {N_STRIP_LEFT, "  hi  ", "hi  "},
    {N_STRIP_RIGHT, "  hi  ", "  hi"},
    {N_STRIP_ACCENTS,
     "e\xcc\x81"
     "a\xe0\xa4\x83"
     "b\xe2\x83\x9d"
     "c",
     "eabc"},
    {N_STRIP_ACCENTS, "é", "é"},
    {N_PREPEND, "hello", "▁hello"},
    {N_PREPEND, "", ""},
    {N_REPLACE_SPACE, "a b  c ", "a▁b▁▁c▁"},
    {N_REPLACE_AB, "aabbab", "ab"},
    {N_SEQ_ACCENTS, "Ünïcödé FAÇADE", "unicode facade"},
    {N_SEQ_LLAMA2, "Hello world", "▁Hello▁world"},
    {N_SEQ_LLAMA2, " x", "▁▁x"},
    {N_SEQ_LLAMA2, "", ""},
};

static void test_normalizers_match_rust(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof norm_cases / sizeof norm_cases[0]; i++) {
        hf_normalizer *nm = normalizer(norm_cases[i].config);
        check_norm(nm, norm_cases[i].input, norm_cases[i].want, norm_cases[i].config);
        hf_normalizer_free(nm);
    }
}

// --- the at_start flag ---------------------------------------------------------------------

// Only the piece at offset 0 of an at_start segment is at the start; Metaspace "first"
// prepends to it alone.
static void test_at_start_flag(void **state) {
    (void)state;
    hf_pretok *pt = pretok(
        "{\"type\":\"Sequence\",\"pretokenizers\":["
        "{\"type\":\"Split\",\"pattern\":{\"String\":\" \"},\"behavior\":\"Removed\"},"
        "{\"type\":\"Metaspace\",\"replacement\":\"\xe2\x96\x81\",\"prepend_scheme\":\"first\"}]}");
    const char *first[] = {"\xe2\x96\x81Hey", "my", "friend", NULL};
    const char *later[] = {"Hey", "my", "friend", NULL};
    check_pieces(pt, "Hey my friend", true, first, "at start");
    check_pieces(pt, "Hey my friend", false, later, "not at start");
    hf_strlist l = {0};
    vkt_error err = {0};
    assert_int_equal(hf_pretokenize(pt, "a b", 3, true, &l, &err), VKT_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.flag[0], HF_PIECE_AT_START);
    assert_int_equal(l.flag[1], 0);
    // A segment that starts with a removed delimiter has no piece at offset 0.
    hf_strlist_clear(&l);
    assert_int_equal(hf_pretokenize(pt, " a", 2, true, &l, &err), VKT_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.flag[0], 0);
    hf_strlist_free(&l);
    hf_pretok_free(pt);

    // tokenizers' own test: segments around an added token "<s>", split=false.
    pt = pretok("{\"type\":\"Metaspace\",\"replacement\":\"\xe2\x96\x81\","
                "\"prepend_scheme\":\"first\",\"split\":false}");
    const char *a[] = {"\xe2\x96\x81Hey\xe2\x96\x81my\xe2\x96\x81"
                       "friend\xe2\x96\x81",
                       NULL};
    const char *b[] = {"how\xe2\x96\x81"
                       "are\xe2\x96\x81you",
                       NULL};
    const char *c[] = {"\xe2\x96\x81you", NULL};
    check_pieces(pt, "Hey my friend ", true, a, "first segment");
    check_pieces(pt,
                 "how\xe2\x96\x81"
                 "are you",
                 false, b, "later segment");
    check_pieces(pt, " you", false, c, "later segment with a space");
    hf_pretok_free(pt);
}

// No pre-tokenizer: the segment is one piece; an empty segment gives none, for every kind.
static void test_null_and_empty(void **state) {
    (void)state;
    json_t *null = json_null();
    hf_pretok *pt = (hf_pretok *)1;
    hf_normalizer *nm = (hf_normalizer *)1;
    vkt_error err = {0};
    assert_int_equal(hf_pretok_parse(null, "p", &pt, &err), VKT_OK);
    assert_null(pt);
    assert_int_equal(hf_normalizer_parse(null, "n", &nm, &err), VKT_OK);
    assert_null(nm);
    json_decref(null);

    hf_strlist l = {0};
    assert_int_equal(hf_pretokenize(NULL, "a b", 3, true, &l, &err), VKT_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.flag[0], HF_PIECE_AT_START);
    hf_strlist_free(&l);
    check_norm(NULL, "a b", "a b", "no normalizer");

    const char *none[] = {NULL};
    const char *configs[] = {P_BYTELEVEL_PS_RE,
                             P_BYTELEVEL_PS,
                             P_METASPACE_ALWAYS,
                             P_SPLIT_ASTAR,
                             P_DIGITS,
                             P_PUNCTUATION_ISOLATED,
                             P_WHITESPACE,
                             P_WHITESPACESPLIT,
                             P_QWEN3,
                             "{\"type\":\"Sequence\",\"pretokenizers\":[]}"};
    for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
        pt = pretok(configs[i]);
        check_pieces(pt, "", true, none, configs[i]);
        hf_pretok_free(pt);
    }
}

// --- the byte table, regexes, UTF-8 -------------------------------------------------------

static void test_byte_table(void **state) {
    (void)state;
    assert_int_equal(hf_byte_to_cp[0], 256);
    assert_int_equal(hf_byte_to_cp[' '], 0x120);  // 'Ġ'
    assert_int_equal(hf_byte_to_cp['\n'], 0x10A); // 'Ċ'
    assert_int_equal(hf_byte_to_cp['!'], '!');
    assert_int_equal(hf_byte_to_cp[126], 126);
    assert_int_equal(hf_byte_to_cp[127], 289);
    assert_int_equal(hf_byte_to_cp[160], 322);
    assert_int_equal(hf_byte_to_cp[173], 323);
    assert_int_equal(hf_byte_to_cp[255], 255);
    bool seen[324] = {false};
    for (int b = 0; b < 256; b++) {
        uint32_t cp = hf_byte_to_cp[b];
        assert_true(cp < 324);
        assert_false(seen[cp]);
        seen[cp] = true;
        assert_int_equal(hf_cp_to_byte(cp), b);
    }
    assert_int_equal(hf_cp_to_byte(' '), -1);
    assert_int_equal(hf_cp_to_byte(173), -1);
    assert_int_equal(hf_cp_to_byte(324), -1);
    assert_int_equal(hf_cp_to_byte(0x2581), -1);
}

static hf_regex *regex(const char *pattern) {
    hf_regex *re = NULL;
    vkt_error err = {0};
    if (hf_regex_compile(pattern, "test", &re, &err) != VKT_OK) fail_msg("%s", err.msg);
    return re;
}

// The first match of pattern in s, as "start-end", or "none".
static const char *first_match(const char *pattern, const char *s, char *buf) {
    hf_regex *re = regex(pattern);
    size_t ms, me;
    if (hf_regex_find(re, s, strlen(s), 0, &ms, &me))
        sprintf(buf, "%zu-%zu", ms, me);
    else
        strcpy(buf, "none");
    hf_regex_free(re);
    return buf;
}

static void test_regex(void **state) {
    (void)state;
    char b[32];
    assert_string_equal(first_match("\\p{L}+", "12 abc", b), "3-6");
    assert_string_equal(first_match("(?i:'s)", "IT'S", b), "2-4");
    assert_string_equal(first_match("\\s+(?!\\S)", "a   b", b), "1-3");
    // Oniguruma's classes: \s is White_Space (U+0085 yes, U+180E no), \h a hex digit,
    // \w takes superscript two outside a class but not inside one, \uHHHH a code point.
    assert_string_equal(first_match("\\s", "x\xe1\xa0\x8e\xc2\x85", b), "4-6");
    assert_string_equal(first_match("\\h+", "xyzBEEFg", b), "3-7");
    assert_string_equal(first_match("[\\h]+", "xyzBEEFg", b), "3-7");
    assert_string_equal(first_match("\\w+", "-\xc2\xb2x-", b), "1-4");
    assert_string_equal(first_match("[\\w]+", "-\xc2\xb2x-", b), "3-4");
    assert_string_equal(first_match("\\W", "a\xe2\x80\x8d", b), "1-4"); // ZWJ is not \w
    assert_string_equal(first_match("\\u00e9", "caf\xc3\xa9", b), "3-5");
    assert_string_equal(first_match("^b", "a\nb", b), "2-3");   // Ruby: ^ at every line
    assert_string_equal(first_match("\\v", "a\n\v", b), "2-3"); // Ruby: the vertical tab

    // Later matches see what comes before start (lookbehind).
    hf_regex *re = regex("(?<=a)b");
    size_t ms, me;
    assert_true(hf_regex_find(re, "abab", 4, 2, &ms, &me));
    assert_int_equal(ms, 3);
    assert_false(hf_regex_find(re, "abab", 4, 4, &ms, &me));
    hf_regex_free(re);

    // A literal is matched as is; an empty one matches empty at start.
    vkt_error err = {0};
    assert_int_equal(hf_regex_literal(".*", "test", &re, &err), VKT_OK);
    assert_true(hf_regex_find(re, "ab.*c", 5, 0, &ms, &me));
    assert_int_equal(ms, 2);
    assert_int_equal(me, 4);
    assert_false(hf_regex_find(re, "ab.*c", 5, 3, &ms, &me));
    hf_regex_free(re);
    assert_int_equal(hf_regex_literal("", "test", &re, &err), VKT_OK);
    assert_true(hf_regex_find(re, "ab", 2, 1, &ms, &me));
    assert_int_equal(ms, 1);
    assert_int_equal(me, 1);
    hf_regex_free(re);

    re = (hf_regex *)1;
    assert_int_equal(hf_regex_compile("(ab", "tokenizer.json: pre_tokenizer: Split", &re, &err),
                     VKT_ERR_FORMAT);
    assert_null(re);
    assert_contains(err.msg, "tokenizer.json: pre_tokenizer: Split");
    assert_contains(err.msg, "(ab");
}

static void test_utf8_lossy(void **state) {
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"a\xff"
         "b",
         "a\xef\xbf\xbd"
         "b"},
        {"\xe2\x82", "\xef\xbf\xbd"},                             // truncated: one
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, // surrogate: three
        {"\xf0\x9f\x98 x", "\xef\xbf\xbd x"},                     // truncated 4-byte
        {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},                 // overlong
        {"ok \xe2\x96\x81", "ok \xe2\x96\x81"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vkt_bytebuf b = {0};
        hf_utf8_lossy(cases[i].in, strlen(cases[i].in), &b);
        assert_int_equal(b.n, strlen(cases[i].want));
        assert_memory_equal(b.p, cases[i].want, b.n);
        free(b.p);
    }
    hf_strlist l = {0};
    vkt_error err = {0};
    assert_int_equal(hf_pretokenize(NULL, "a\xff", 2, true, &l, &err), VKT_ERR_ARG);
    assert_contains(err.msg, "byte 1");
    vkt_bytebuf b = {0};
    assert_int_equal(hf_normalize(NULL, "\xc3", 1, &b, &err), VKT_ERR_ARG);
    hf_strlist_free(&l);
    free(b.p);
}

// --- parse errors --------------------------------------------------------------------------

struct error_case {
    bool normalizer;
    const char *json;
    vkt_status status;
    const char *want; // a part of the message (which also names where)
};

static const struct error_case error_cases[] = {
    {true, "{\"type\":\"BertNormalizer\"}", VKT_ERR_UNSUPPORTED,
     "normalizer: unsupported normalizer type 'BertNormalizer'"},
    {true, "{\"type\":\"Precompiled\",\"precompiled_charsmap\":\"\"}", VKT_ERR_UNSUPPORTED,
     "'Precompiled'"},
    {true, "{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFC\"},{\"type\":\"NMT\"}]}",
     VKT_ERR_UNSUPPORTED, "normalizer.normalizers[1]: unsupported normalizer type 'NMT'"},
    {true, "{\"type\":\"Sequence\",\"normalizers\":{}}", VKT_ERR_FORMAT,
     "'normalizers' must be an array"},
    {true, "{\"type\":\"Sequence\",\"normalizers\":[3]}", VKT_ERR_FORMAT,
     "normalizer.normalizers[0]: must be an object"},
    {true, "{\"type\":\"Replace\",\"content\":\"x\"}", VKT_ERR_FORMAT,
     "Replace: missing 'pattern'"},
    {true, "{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":1}", VKT_ERR_FORMAT,
     "Replace: 'content' must be a string"},
    {true, "{\"type\":\"Replace\",\"pattern\":{\"String\":\" \",\"Regex\":\" \"},\"content\":\"\"}",
     VKT_ERR_FORMAT, "exactly one of 'String' and 'Regex'"},
    {true, "{\"type\":\"Replace\",\"pattern\":{\"Regex\":\"[a\"},\"content\":\"\"}", VKT_ERR_FORMAT,
     "normalizer: Replace: bad regex '[a'"},
    {true, "{\"type\":\"Replace\",\"pattern\":{\"Regex\":5},\"content\":\"\"}", VKT_ERR_FORMAT,
     "'pattern.Regex' must be a string"},
    {true, "{\"type\":\"Strip\",\"strip_left\":1,\"strip_right\":true}", VKT_ERR_FORMAT,
     "normalizer: Strip: 'strip_left' must be a boolean"},
    {true, "{\"type\":\"Prepend\"}", VKT_ERR_FORMAT, "Prepend: missing 'prepend'"},
    {true, "{\"prepend\":\"x\"}", VKT_ERR_FORMAT, "normalizer: missing 'type'"},
    {true, "{\"type\":7}", VKT_ERR_FORMAT, "normalizer: 'type' must be a string"},
    {true, "\"NFC\"", VKT_ERR_FORMAT, "normalizer: must be an object or null"},
    {false, "{\"type\":\"BertPreTokenizer\"}", VKT_ERR_UNSUPPORTED,
     "pre_tokenizer: unsupported pre_tokenizer type 'BertPreTokenizer'"},
    {false, "{\"type\":\"UnicodeScripts\"}", VKT_ERR_UNSUPPORTED, "'UnicodeScripts'"},
    {false, "{\"type\":\"CharDelimiterSplit\",\"delimiter\":\" \"}", VKT_ERR_UNSUPPORTED,
     "'CharDelimiterSplit'"},
    {false,
     "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":"
     "{\"String\":\" \"},\"behavior\":1}]}",
     VKT_ERR_FORMAT,
     "tokenizer.json: pre_tokenizer.pretokenizers[0]: Split: 'behavior' must be a string"},
    {false, "{\"type\":\"Split\",\"pattern\":{\"String\":\" \"},\"behavior\":\"Foo\"}",
     VKT_ERR_FORMAT, "pre_tokenizer: Split: unknown behavior 'Foo'"},
    {false, "{\"type\":\"Split\",\"pattern\":{\"String\":\" \"}}", VKT_ERR_FORMAT,
     "Split: missing 'behavior'"},
    {false, "{\"type\":\"Split\",\"behavior\":\"Isolated\"}", VKT_ERR_FORMAT,
     "Split: missing 'pattern'"},
    {false, "{\"type\":\"Split\",\"pattern\":\" \",\"behavior\":\"Isolated\"}", VKT_ERR_FORMAT,
     "Split: 'pattern' must be an object"},
    {false, "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(?<x\"},\"behavior\":\"Isolated\"}",
     VKT_ERR_FORMAT, "pre_tokenizer: Split: bad regex"},
    {false,
     "{\"type\":\"Split\",\"pattern\":{\"String\":\" \"},\"behavior\":\"Isolated\","
     "\"invert\":\"no\"}",
     VKT_ERR_FORMAT, "Split: 'invert' must be a boolean"},
    {false, "{\"type\":\"ByteLevel\",\"add_prefix_space\":\"yes\"}", VKT_ERR_FORMAT,
     "ByteLevel: 'add_prefix_space' must be a boolean"},
    {false, "{\"type\":\"Digits\",\"individual_digits\":0}", VKT_ERR_FORMAT,
     "Digits: 'individual_digits' must be a boolean"},
    {false, "{\"type\":\"Punctuation\",\"behavior\":\"Merged\"}", VKT_ERR_FORMAT,
     "Punctuation: unknown behavior 'Merged'"},
    {false, "{\"type\":\"Metaspace\",\"replacement\":\"ab\"}", VKT_ERR_FORMAT,
     "Metaspace: 'replacement' must be one character"},
    {false, "{\"type\":\"Metaspace\"}", VKT_ERR_FORMAT, "Metaspace: missing 'replacement'"},
    {false, "{\"type\":\"Metaspace\",\"replacement\":\"_\",\"prepend_scheme\":\"sometimes\"}",
     VKT_ERR_FORMAT, "Metaspace: unknown prepend_scheme 'sometimes'"},
    {false,
     "{\"type\":\"Metaspace\",\"replacement\":\"_\",\"prepend_scheme\":\"always\","
     "\"add_prefix_space\":false}",
     VKT_ERR_FORMAT, "add_prefix_space false does not match prepend_scheme 'always'"},
    {false, "{\"type\":\"Metaspace\",\"replacement\":\"_\",\"split\":\"true\"}", VKT_ERR_FORMAT,
     "Metaspace: 'split' must be a boolean"},
    {false, "{\"type\":\"Sequence\",\"pretokenizers\":null}", VKT_ERR_FORMAT,
     "pre_tokenizer: Sequence: 'pretokenizers' must be an array"},
    {false,
     "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Whitespace\"},"
     "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Bad\"}]}]}",
     VKT_ERR_UNSUPPORTED, "pre_tokenizer.pretokenizers[1].pretokenizers[0]: unsupported"},
    {false, "[]", VKT_ERR_FORMAT, "pre_tokenizer: must be an object or null"},
};

static void test_parse_errors(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
        const struct error_case *c = &error_cases[i];
        json_t *j = load(c->json);
        vkt_error err = {0};
        vkt_status st;
        void *out = (void *)1;
        if (c->normalizer) {
            st = hf_normalizer_parse(j, "tokenizer.json: normalizer", (hf_normalizer **)&out, &err);
        } else {
            st = hf_pretok_parse(j, "tokenizer.json: pre_tokenizer", (hf_pretok **)&out, &err);
        }
        json_decref(j);
        if (st == VKT_OK) fail_msg("parsed, but should fail with \"%s\": %s", c->want, c->json);
        if (st != c->status)
            fail_msg("%s: status %d, want %d (%s)", c->json, st, c->status, err.msg);
        assert_null(out);
        assert_contains(err.msg, c->normalizer ? "tokenizer.json: normalizer"
                                               : "tokenizer.json: pre_tokenizer");
        assert_contains(err.msg, c->want);
    }
}

// Fields HF ignores, and the ones it defaults, are fine.
static void test_lenient_fields(void **state) {
    (void)state;
    hf_pretok *pt = pretok("{\"type\":\"ByteLevel\",\"trim_offsets\":true,\"future\":[1]}");
    const char *want[] = {"\xc4\xa0"
                          "a",
                          NULL}; // add_prefix_space and use_regex default true
    check_pieces(pt, "a", true, want, "ByteLevel defaults");
    hf_pretok_free(pt);
    pt = pretok("{\"type\":\"Metaspace\",\"replacement\":\"_\",\"add_prefix_space\":false,"
                "\"str_rep\":\"_\"}");
    const char *never[] = {"a", "_b", NULL};
    check_pieces(pt, "a b", true, never, "Metaspace add_prefix_space false");
    hf_pretok_free(pt);
}

// --- long runs of one character ------------------------------------------------------------

// Rust's regex engines never backtrack badly; these patterns must stay linear on 100 kB of
// one character (each case runs in milliseconds). Counts are the Rust crate's.
static void test_long_runs(void **state) {
    (void)state;
    static const struct {
        const char *config, *unit;
        size_t pieces, bytes;
    } cases[] = {
        {P_QWEN3, " ", 1, 200000},       {P_QWEN3, "a", 1, 100000},
        {P_QWEN3, "1", 100000, 100000},  {P_QWEN3, "!", 1, 100000},
        {P_QWEN3, "\n", 1, 200000},      {P_QWEN3, "a ", 50001, 150000},
        {P_QWEN3, "'", 1, 100000},       {P_QWEN3, "\t", 1, 200000},
        {P_LLAMA3, " ", 1, 200000},      {P_LLAMA3, "a", 1, 100000},
        {P_LLAMA3, "1", 33334, 100000},  {P_LLAMA3, "!", 1, 100000},
        {P_LLAMA3, "\n", 1, 200000},     {P_LLAMA3, "a ", 50001, 150000},
        {P_GPT2, " ", 1, 200000},        {P_GPT2, "a", 1, 100000},
        {P_GPT2, "1", 1, 100000},        {P_GPT2, "!", 1, 100000},
        {P_GPT2, "\n", 1, 200000},       {P_GPT2, "a ", 50001, 150000},
        {P_GPT2, "\xc3\xa9", 1, 200000},
    };
    const size_t run = 100000;
    char *text = malloc(run);
    assert_non_null(text);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t u = strlen(cases[i].unit), n = run / u * u;
        for (size_t k = 0; k < n; k += u) memcpy(text + k, cases[i].unit, u);
        hf_pretok *pt = pretok(cases[i].config);
        hf_strlist l = {0};
        vkt_error err = {0};
        assert_int_equal(hf_pretokenize(pt, text, n, true, &l, &err), VKT_OK);
        if (l.n != cases[i].pieces || l.text.n != cases[i].bytes)
            fail_msg("case %zu: %zu pieces of %zu bytes, want %zu of %zu", i, l.n, l.text.n,
                     cases[i].pieces, cases[i].bytes);
        hf_strlist_free(&l);
        hf_pretok_free(pt);
    }
    free(text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pretokenizers_match_rust),
        cmocka_unit_test(test_normalizers_match_rust),
        cmocka_unit_test(test_at_start_flag),
        cmocka_unit_test(test_null_and_empty),
        cmocka_unit_test(test_byte_table),
        cmocka_unit_test(test_regex),
        cmocka_unit_test(test_utf8_lossy),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_lenient_fields),
        cmocka_unit_test(test_long_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
