// hf_regex.c: the regular expressions of tokenizer.json on PCRE2. tokenizers runs its
// patterns on Oniguruma (Ruby syntax, Unicode classes); PCRE2 with UTF + UCP agrees on
// nearly all of it, and the escapes whose meaning differs are rewritten first (the sets
// were checked code point by code point against tokenizers' own Split):
//   \s \S  White_Space (PCRE2's \s also takes U+180E)
//   \w \W  Alphabetic + Mark + Nd + Pc, and outside a class also the Latin-1 digits
//          and fractions, B2 B3 B9 BC-BE (PCRE2's \w is L + N + '_'); inside a class \W
//          stays PCRE2's, which no class item can spell
//   \h \H  a hex digit (Ruby), not horizontal space (PCRE2)
//   \v     the vertical tab (Ruby), not vertical space (PCRE2)
//   \uHHHH a code point (Ruby), which PCRE2 spells \x{HHHH}
// ^ and $ match at line breaks, as in Ruby. "String" patterns are literals, found with
// memmem. Patterns are JIT compiled where PCRE2 allows it.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "hf_parts.h"

struct hf_regex {
    pcre2_code *code; // NULL for a literal
    // Held here so a find allocates nothing; this makes an object usable from one thread.
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jstack;
    char *lit; // the literal (code == NULL)
    size_t lit_len;
};

// Oniguruma's \w, as class items; outside a class it also takes Latin-1's B2 B3 B9 BC-BE.
#define WORD_SET "\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}"
#define WORD_LATIN1 "\\x{B2}\\x{B3}\\x{B9}\\x{BC}-\\x{BE}"
#define HEX_SET "0-9A-Fa-f"

static bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// The length of the UTF-8 character whose lead byte is c (1 for a stray byte).
static size_t lead_len(unsigned char c) { return c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4; }

// The PCRE2 spelling of the Oniguruma escape backslash-d, or NULL where the two agree.
static const char *class_rewrite(char d, bool in_class) {
    switch (d) {
    case 's': return "\\p{White_Space}";
    case 'S': return "\\P{White_Space}";
    case 'w': return in_class ? WORD_SET : "[" WORD_SET WORD_LATIN1 "]";
    case 'W': return in_class ? NULL : "[^" WORD_SET WORD_LATIN1 "]";
    case 'h': return in_class ? HEX_SET : "[" HEX_SET "]";
    case 'H': return in_class ? NULL : "[^" HEX_SET "]";
    case 'v': return "\\x{0B}"; // Ruby's vertical tab, not PCRE2's vertical-space class
    default: return NULL;
    }
}

// Rewrites an Oniguruma (Ruby syntax) pattern into PCRE2 syntax, tracking whether each
// escape stands inside a character class, where a set is written without its brackets.
static void translate(const char *p, size_t n, vkt_bytebuf *out) {
    bool in_class = false;
    size_t i = 0;
    while (i < n) {
        char c = p[i];
        if (c == '\\' && i + 1 < n) {
            char d = p[i + 1];
            const char *rep = class_rewrite(d, in_class);
            if (rep) {
                vkt_bytebuf_put(out, rep, strlen(rep));
                i += 2;
                continue;
            }
            if (d == 'u' && i + 6 <= n && is_hex(p[i + 2]) && is_hex(p[i + 3]) &&
                is_hex(p[i + 4]) && is_hex(p[i + 5])) {
                vkt_bytebuf_put(out, "\\x{", 3);
                vkt_bytebuf_put(out, p + i + 2, 4);
                vkt_bytebuf_put(out, "}", 1);
                i += 6;
                continue;
            }
            // Any other escape is the same in both: copy it with the whole escaped character.
            size_t k = 1 + lead_len((unsigned char)d);
            if (i + k > n) k = n - i;
            vkt_bytebuf_put(out, p + i, k);
            i += k;
            continue;
        }
        if (c == '[' && !in_class) {
            in_class = true;
            vkt_bytebuf_put(out, p + i, 1);
            i++;
            if (i < n && p[i] == '^') vkt_bytebuf_put(out, p + i++, 1);
            if (i < n && p[i] == ']') vkt_bytebuf_put(out, p + i++, 1); // a literal ']'
            continue;
        }
        if (c == '[' && in_class && i + 1 < n && p[i + 1] == ':') { // [:alpha:] inside a class
            const char *e = memchr(p + i + 2, ']', n - i - 2);
            size_t k = e ? (size_t)(e - (p + i)) + 1 : n - i;
            vkt_bytebuf_put(out, p + i, k);
            i += k;
            continue;
        }
        if (c == ']' && in_class) in_class = false;
        vkt_bytebuf_put(out, p + i, 1);
        i++;
    }
}

vkt_status hf_regex_compile(const char *pattern, const char *what, hf_regex **out, vkt_error *err) {
    *out = NULL;
    vkt_bytebuf pat = {0};
    translate(pattern, strlen(pattern), &pat);
    vkt_bytebuf_put(&pat, "", 0); // a NUL-terminated string even for an empty pattern
    hf_regex *re = calloc(1, sizeof *re);
    if (pat.oom || !re) {
        free(pat.p);
        free(re);
        return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory compiling a regex", what);
    }
    int code;
    PCRE2_SIZE off;
    // Oniguruma's lines end at "\n" alone (for '.', '^' and '$'), whatever PCRE2's build says.
    pcre2_compile_context *cctx = pcre2_compile_context_create(NULL);
    if (cctx) pcre2_set_newline(cctx, PCRE2_NEWLINE_LF);
    re->code = pcre2_compile((PCRE2_SPTR)pat.p, pat.n, PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE,
                             &code, &off, cctx);
    pcre2_compile_context_free(cctx);
    free(pat.p);
    if (!re->code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        free(re);
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: bad regex '%s': %s", what, pattern, (char *)msg);
    }
    // The JIT is an optimisation: when it is not available the interpreter matches alike.
    if (pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE) == 0) {
        re->mctx = pcre2_match_context_create(NULL);
        re->jstack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
        if (re->mctx && re->jstack) pcre2_jit_stack_assign(re->mctx, NULL, re->jstack);
    }
    re->md = pcre2_match_data_create_from_pattern(re->code, NULL);
    if (!re->md) {
        hf_regex_free(re);
        return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory compiling a regex", what);
    }
    *out = re;
    return VKT_OK;
}

vkt_status hf_regex_literal(const char *literal, const char *what, hf_regex **out, vkt_error *err) {
    *out = NULL;
    hf_regex *re = calloc(1, sizeof *re);
    size_t n = strlen(literal);
    char *lit = malloc(n + 1);
    if (!re || !lit) {
        free(re);
        free(lit);
        return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory", what);
    }
    memcpy(lit, literal, n + 1);
    re->lit = lit;
    re->lit_len = n;
    *out = re;
    return VKT_OK;
}

bool hf_regex_find(const hf_regex *re, const char *s, size_t n, size_t start, size_t *ms,
                   size_t *me) {
    if (start > n) return false;
    if (!re->code) {
        const char *hit =
            re->lit_len ? memmem(s + start, n - start, re->lit, re->lit_len) : s + start;
        if (!hit) return false;
        *ms = (size_t)(hit - s);
        *me = *ms + re->lit_len;
        return true;
    }
    // The whole subject goes in (lookbehind sees before start). It was checked to be valid
    // UTF-8 once; PCRE2 would otherwise check it again on every call.
    int rc = pcre2_match(re->code, (PCRE2_SPTR)s, n, start, PCRE2_NO_UTF_CHECK, re->md, re->mctx);
    if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) // a JIT limit: the interpreter has its own
        rc = pcre2_match(re->code, (PCRE2_SPTR)s, n, start, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT,
                         re->md, NULL);
    if (rc < 0) return false;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(re->md);
    *ms = ov[0];
    *me = ov[1] < ov[0] ? ov[0] : ov[1];
    return true;
}

void hf_regex_free(hf_regex *re) {
    if (!re) return;
    pcre2_match_data_free(re->md);
    pcre2_match_context_free(re->mctx);
    pcre2_jit_stack_free(re->jstack);
    pcre2_code_free(re->code);
    free(re->lit);
    free(re);
}

void hf_regex_spans(const hf_regex *re, const char *s, size_t n, bool invert, hf_spans *out) {
    size_t from = 0, prev = 0, ms, me;
    bool had = false; // a match ended at last_end
    size_t last_end = 0;
    while (from <= n && hf_regex_find(re, s, n, from, &ms, &me)) {
        if (ms == me && had && me == last_end) {
            // An empty match where the last one ended: step one character and search again.
            from += from < n ? lead_len((unsigned char)s[from]) : 1;
            continue;
        }
        from = last_end = me;
        had = true;
        if (ms != prev) hf_spans_push(out, prev, ms, invert);
        hf_spans_push(out, ms, me, !invert);
        prev = me;
    }
    if (prev != n) hf_spans_push(out, prev, n, invert);
}

vkt_status hf_pattern_parse(const json_t *node, const char *what, hf_regex **out, vkt_error *err) {
    *out = NULL;
    if (!json_is_object(node))
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "%s: 'pattern' must be an object {\"String\": ...} or "
                        "{\"Regex\": ...}",
                        what);
    const json_t *str = json_object_get(node, "String"), *rx = json_object_get(node, "Regex");
    if ((str != NULL) == (rx != NULL))
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "%s: 'pattern' must have exactly one of 'String' and "
                        "'Regex'",
                        what);
    if (str && !json_is_string(str))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: 'pattern.String' must be a string", what);
    if (rx && !json_is_string(rx))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: 'pattern.Regex' must be a string", what);
    // The compile calls take C strings: a NUL inside would cut the pattern short unseen.
    const json_t *v = str ? str : rx;
    if (memchr(json_string_value(v), 0, json_string_length(v)))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: 'pattern.%s' holds a NUL character", what,
                        str ? "String" : "Regex");
    if (str) return hf_regex_literal(json_string_value(str), what, out, err);
    return hf_regex_compile(json_string_value(rx), what, out, err);
}
