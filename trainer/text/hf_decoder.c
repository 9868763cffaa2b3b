// hf_decoder.c: the decoders of tokenizer.json, as the Rust `tokenizers` crate runs them
// (decoders/*.rs, and the ByteLevel, Metaspace and Replace types that double as decoders).
// Each decoder maps the list of token strings to a new list (Rust's decode_chain); a
// Sequence runs its decoders in turn, and the final list is concatenated.
#include <stdlib.h>
#include <string.h>

#include "hf_internal.h"

typedef enum {
    D_BYTELEVEL,
    D_BYTEFALLBACK,
    D_FUSE,
    D_STRIP,
    D_REPLACE,
    D_METASPACE,
    D_SEQUENCE,
} dkind;

struct hf_decoder {
    dkind kind;
    char ch[5]; // Strip's content, Metaspace's replacement: one character, as UTF-8
    size_t ch_len;
    size_t start, stop; // Strip: how many content chars may go from each end
    char *pat, *with;   // Replace: a String pattern (when re is NULL) and its content
    size_t pat_len, with_len;
    hf_regex *re;      // Replace: a Regex pattern
    bool drop_first;   // Metaspace: the first token loses its replacement chars
    hf_decoder **kids; // Sequence
    size_t n_kids;
};

// --- parsing ------------------------------------------------------------------------------

// A required field holding exactly one character (Rust's `char`).
static vkt_status get_char(json_t *node, const char *key, const char *where, const char *type,
                           hf_decoder *d, vkt_error *err) {
    json_t *v = json_object_get(node, key);
    const unsigned char *s = (const unsigned char *)json_string_value(v);
    size_t n = json_string_length(v);
    if (!json_is_string(v) || n == 0 || (size_t)hf_utf8_len(s, n) != n)
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: %s: '%s' must be a string of one character",
                        where, type, key);
    memcpy(d->ch, s, n);
    d->ch_len = n;
    return VKT_OK;
}

static vkt_status get_size(json_t *node, const char *key, const char *where, const char *type,
                           size_t *out, vkt_error *err) {
    json_t *v = json_object_get(node, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: %s: '%s' must be a non-negative integer", where,
                        type, key);
    *out = (size_t)json_integer_value(v);
    return VKT_OK;
}

static vkt_status opt_bool(json_t *node, const char *key, const char *where, const char *type,
                           int *out, vkt_error *err) { // *out: -1 absent or null, else 0/1
    json_t *v = json_object_get(node, key);
    *out = -1;
    if (!v || json_is_null(v)) return VKT_OK;
    if (!json_is_boolean(v))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: %s: '%s' must be true or false", where, type,
                        key);
    *out = json_is_true(v);
    return VKT_OK;
}

static char *dup_string(json_t *v, size_t *n) {
    *n = json_string_length(v);
    char *s = malloc(*n + 1);
    if (s) memcpy(s, json_string_value(v), *n + 1);
    return s;
}

// pattern: {"String": "..."} or {"Regex": "..."}; content: the replacement text.
static vkt_status parse_replace(hf_decoder *d, json_t *node, const char *where, vkt_error *err) {
    json_t *p = json_object_get(node, "pattern"), *c = json_object_get(node, "content");
    json_t *str = json_object_get(p, "String"), *rx = json_object_get(p, "Regex");
    if (!json_is_object(p) || json_object_size(p) != 1 ||
        !(json_is_string(str) || json_is_string(rx)))
        return vkt_fail(
            err, VKT_ERR_FORMAT,
            "%s: Replace: 'pattern' must be {\"String\": \"...\"} or {\"Regex\": \"...\"}", where);
    if (!json_is_string(c))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: Replace: 'content' must be a string", where);
    d->with = dup_string(c, &d->with_len);
    if (!d->with) return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory", where);
    if (rx) {
        char what[VKT_ERROR_MAX / 2];
        snprintf(what, sizeof what, "%s: Replace: pattern", where);
        return hf_regex_compile(json_string_value(rx), what, &d->re, err);
    }
    d->pat = dup_string(str, &d->pat_len);
    if (!d->pat) return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory", where);
    return VKT_OK;
}

// add_prefix_space false (older files) means prepend_scheme "never"; declaring both
// otherwise is an error, as in Rust.
static vkt_status parse_metaspace(hf_decoder *d, json_t *node, const char *where, vkt_error *err) {
    VKT_TRY(get_char(node, "replacement", where, "Metaspace", d, err));
    int aps, split;
    VKT_TRY(opt_bool(node, "add_prefix_space", where, "Metaspace", &aps, err));
    VKT_TRY(opt_bool(node, "split", where, "Metaspace", &split, err));
    json_t *ps = json_object_get(node, "prepend_scheme");
    const char *scheme = json_string_value(ps);
    if (ps && !(scheme && (!strcmp(scheme, "always") || !strcmp(scheme, "first") ||
                           !strcmp(scheme, "never"))))
        return vkt_fail(
            err, VKT_ERR_FORMAT,
            "%s: Metaspace: 'prepend_scheme' must be \"always\", \"first\" or \"never\"", where);
    if (aps == 0 && scheme && strcmp(scheme, "never") != 0)
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "%s: Metaspace: add_prefix_space false does not match prepend_scheme '%s'",
                        where, scheme);
    d->drop_first = aps != 0 && !(scheme && strcmp(scheme, "never") == 0);
    return VKT_OK;
}

static vkt_status parse_sequence(hf_decoder *d, json_t *node, const char *where, vkt_error *err) {
    json_t *a = json_object_get(node, "decoders");
    if (!json_is_array(a))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: Sequence: 'decoders' must be an array", where);
    d->kids = calloc(json_array_size(a) + 1, sizeof *d->kids);
    if (!d->kids) return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory", where);
    for (size_t i = 0; i < json_array_size(a); i++) {
        char w[VKT_ERROR_MAX / 2];
        snprintf(w, sizeof w, "%s.decoders[%zu]", where, i);
        json_t *k = json_array_get(a, i);
        if (!json_is_object(k))
            return vkt_fail(err, VKT_ERR_FORMAT, "%s: must be a decoder object", w);
        VKT_TRY(hf_decoder_parse(k, w, &d->kids[i], err));
        d->n_kids = i + 1;
    }
    return VKT_OK;
}

static vkt_status parse_kind(hf_decoder *d, json_t *node, const char *type, const char *where,
                             vkt_error *err) {
    int b;
    if (!strcmp(type, "ByteLevel")) {
        d->kind = D_BYTELEVEL; // its pre-tokenizer options are checked, not used
        VKT_TRY(opt_bool(node, "add_prefix_space", where, type, &b, err));
        VKT_TRY(opt_bool(node, "trim_offsets", where, type, &b, err));
        return opt_bool(node, "use_regex", where, type, &b, err);
    }
    if (!strcmp(type, "ByteFallback")) return d->kind = D_BYTEFALLBACK, VKT_OK;
    if (!strcmp(type, "Fuse")) return d->kind = D_FUSE, VKT_OK;
    if (!strcmp(type, "Strip")) {
        d->kind = D_STRIP;
        VKT_TRY(get_char(node, "content", where, type, d, err));
        VKT_TRY(get_size(node, "start", where, type, &d->start, err));
        return get_size(node, "stop", where, type, &d->stop, err);
    }
    if (!strcmp(type, "Replace")) return d->kind = D_REPLACE, parse_replace(d, node, where, err);
    if (!strcmp(type, "Metaspace"))
        return d->kind = D_METASPACE, parse_metaspace(d, node, where, err);
    if (!strcmp(type, "Sequence")) return d->kind = D_SEQUENCE, parse_sequence(d, node, where, err);
    if (!strcmp(type, "WordPiece") || !strcmp(type, "BPEDecoder") || !strcmp(type, "CTC"))
        return vkt_fail(err, VKT_ERR_UNSUPPORTED, "%s: decoder type '%s' is not supported", where,
                        type);
    return vkt_fail(err, VKT_ERR_FORMAT, "%s: unknown decoder type '%s'", where, type);
}

vkt_status hf_decoder_parse(const json_t *node, const char *where, hf_decoder **out,
                            vkt_error *err) {
    *out = NULL;
    json_t *o = (json_t *)node; // jansson's getters take non-const pointers
    if (!o || json_is_null(o)) return VKT_OK;
    if (!json_is_object(o))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: must be an object or null", where);
    const char *type = json_string_value(json_object_get(o, "type"));
    if (!type) return vkt_fail(err, VKT_ERR_FORMAT, "%s: 'type' must be a string", where);
    hf_decoder *d = calloc(1, sizeof *d);
    if (!d) return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory", where);
    vkt_status st = parse_kind(d, o, type, where, err);
    if (st != VKT_OK) {
        hf_decoder_free(d);
        return st;
    }
    *out = d;
    return VKT_OK;
}

void hf_decoder_free(hf_decoder *d) {
    if (!d) return;
    for (size_t i = 0; i < d->n_kids; i++) hf_decoder_free(d->kids[i]);
    free(d->kids);
    free(d->pat);
    free(d->with);
    if (d->re) hf_regex_free(d->re);
    free(d);
}

// --- decoding -----------------------------------------------------------------------------

typedef struct work {
    hf_strlist next; // the list a step builds, swapped with the current one
    vkt_bytebuf a, b;
} work;

static uint32_t cp_at(const unsigned char *s, int cl) {
    if (cl == 1) return s[0];
    if (cl == 2) return (s[0] & 0x1Fu) << 6 | (s[1] & 0x3Fu);
    if (cl == 3) return (s[0] & 0x0Fu) << 12 | (s[1] & 0x3Fu) << 6 | (s[2] & 0x3Fu);
    return (s[0] & 0x07u) << 18 | (s[1] & 0x3Fu) << 12 | (s[2] & 0x3Fu) << 6 | (s[3] & 0x3Fu);
}

static int char_len(const char *s, size_t n) {
    int cl = hf_utf8_len((const unsigned char *)s, n);
    return cl > 0 ? cl : 1;
}

// Every char of a token through the inverse byte table; a token with any char off the
// table keeps its own UTF-8 whole. All bytes then become one string, read lossily.
static void bytelevel(const hf_strlist *in, hf_strlist *o, work *w) {
    w->a.n = 0;
    for (size_t t = 0; t < in->n; t++) {
        size_t n, mark = w->a.n;
        const char *s = hf_strlist_get(in, t, &n);
        for (size_t i = 0; i < n;) {
            int cl = hf_utf8_len((const unsigned char *)s + i, n - i);
            int b = cl > 0 ? hf_cp_to_byte(cp_at((const unsigned char *)s + i, cl)) : -1;
            if (b < 0) {
                w->a.n = mark;
                vkt_bytebuf_put(&w->a, s, n);
                break;
            }
            unsigned char c = (unsigned char)b;
            vkt_bytebuf_put(&w->a, &c, 1);
            i += (size_t)cl;
        }
    }
    w->b.n = 0;
    hf_utf8_lossy(w->a.p ? w->a.p : "", w->a.n, &w->b);
    hf_strlist_push(o, w->b.p ? w->b.p : "", w->b.n, 0);
}

static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// The byte of a "<0xNN>" token, else -1 (Rust's u8::from_str_radix: "+F" reads as 15 too).
static int byte_token(const char *s, size_t n) {
    if (n != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>') return -1;
    if (s[3] == '+') return hex(s[4]);
    int hi = hex(s[3]), lo = hex(s[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

// A run of byte tokens becomes one string when it is valid UTF-8, else one U+FFFD per byte.
static void flush_bytes(vkt_bytebuf *run, hf_strlist *o) {
    if (!run->n) return;
    size_t i = 0;
    while (i < run->n) {
        int cl = hf_utf8_len((const unsigned char *)run->p + i, run->n - i);
        if (cl <= 0) break;
        i += (size_t)cl;
    }
    if (i == run->n)
        hf_strlist_push(o, run->p, run->n, 0);
    else
        for (size_t k = 0; k < run->n; k++) hf_strlist_push(o, "\xEF\xBF\xBD", 3, 0);
    run->n = 0;
}

static void bytefallback(const hf_strlist *in, hf_strlist *o, work *w) {
    w->a.n = 0;
    for (size_t t = 0; t < in->n; t++) {
        size_t n;
        const char *s = hf_strlist_get(in, t, &n);
        int b = byte_token(s, n);
        if (b >= 0) {
            unsigned char c = (unsigned char)b;
            vkt_bytebuf_put(&w->a, &c, 1);
            continue;
        }
        flush_bytes(&w->a, o);
        hf_strlist_push(o, s, n, 0);
    }
    flush_bytes(&w->a, o);
}

// Whether s[b..e) begins (at_end: ends) with the content char.
static bool has_ch(const hf_decoder *d, const char *s, size_t b, size_t e, bool at_end) {
    return e - b >= d->ch_len && !memcmp(at_end ? s + e - d->ch_len : s + b, d->ch, d->ch_len);
}

// Up to start leading and stop trailing content chars go (the trailing ones only from
// what the leading cut left).
static void strip(const hf_decoder *d, const hf_strlist *in, hf_strlist *o) {
    for (size_t t = 0; t < in->n; t++) {
        size_t n, b = 0, left = 0;
        const char *s = hf_strlist_get(in, t, &n);
        for (size_t k = 0; k < d->start && has_ch(d, s, b, n, false); k++) b += d->ch_len;
        for (size_t i = b; i < n; i += (size_t)char_len(s + i, n - i)) left++;
        size_t e = n;
        for (size_t k = 0; k < d->stop && k < left && has_ch(d, s, b, e, true); k++) e -= d->ch_len;
        hf_strlist_push(o, s + b, e - b, 0);
    }
}

// The next match of the pattern in s[0..n) at or after start, as Rust's find_iter sees it.
static bool find(const hf_decoder *d, const char *s, size_t n, size_t start, size_t *ms,
                 size_t *me) {
    if (d->re) return hf_regex_find(d->re, s, n, start, ms, me);
    if (d->pat_len == 0) return *ms = *me = start, start <= n;
    for (size_t i = start; i + d->pat_len <= n; i++)
        if (s[i] == d->pat[0] && !memcmp(s + i, d->pat, d->pat_len))
            return *ms = i, *me = i + d->pat_len, true;
    return false;
}

// Every match becomes the content; an empty match inserts it and the search moves one char on.
static void replace(const hf_decoder *d, const hf_strlist *in, hf_strlist *o, work *w) {
    for (size_t t = 0; t < in->n; t++) {
        size_t n, ms, me, prev = 0, at = 0;
        const char *s = hf_strlist_get(in, t, &n);
        w->a.n = 0;
        while (n > 0 && at <= n && find(d, s, n, at, &ms, &me)) {
            vkt_bytebuf_put(&w->a, s + prev, ms - prev);
            vkt_bytebuf_put(&w->a, d->with, d->with_len);
            prev = me;
            at = me > ms ? me : me + (me < n ? (size_t)char_len(s + me, n - me) : 1);
        }
        vkt_bytebuf_put(&w->a, s + prev, n - prev);
        hf_strlist_push(o, w->a.p ? w->a.p : "", w->a.n, 0);
    }
}

static void metaspace(const hf_decoder *d, const hf_strlist *in, hf_strlist *o, work *w) {
    for (size_t t = 0; t < in->n; t++) {
        size_t n;
        const char *s = hf_strlist_get(in, t, &n);
        w->a.n = 0;
        for (size_t i = 0; i < n;) {
            if (n - i >= d->ch_len && !memcmp(s + i, d->ch, d->ch_len)) {
                if (!(t == 0 && d->drop_first)) vkt_bytebuf_put(&w->a, " ", 1);
                i += d->ch_len;
                continue;
            }
            int cl = char_len(s + i, n - i);
            vkt_bytebuf_put(&w->a, s + i, (size_t)cl);
            i += (size_t)cl;
        }
        hf_strlist_push(o, w->a.p ? w->a.p : "", w->a.n, 0);
    }
}

static vkt_status apply(const hf_decoder *d, hf_strlist *list, work *w, vkt_error *err) {
    if (d->kind == D_SEQUENCE) {
        for (size_t i = 0; i < d->n_kids; i++) VKT_TRY(apply(d->kids[i], list, w, err));
        return VKT_OK;
    }
    hf_strlist_clear(&w->next);
    switch (d->kind) {
    case D_BYTELEVEL: bytelevel(list, &w->next, w); break;
    case D_BYTEFALLBACK: bytefallback(list, &w->next, w); break;
    case D_FUSE:
        hf_strlist_push(&w->next, list->text.p ? list->text.p : "", list->text.n, 0);
        break;
    case D_STRIP: strip(d, list, &w->next); break;
    case D_REPLACE: replace(d, list, &w->next, w); break;
    case D_METASPACE: metaspace(d, list, &w->next, w); break;
    case D_SEQUENCE: break;
    }
    if (w->next.oom || w->a.oom || w->b.oom)
        return vkt_fail(err, VKT_ERR_NOMEM, "decoder: out of memory");
    hf_strlist t = *list;
    *list = w->next;
    w->next = t;
    return VKT_OK;
}

vkt_status hf_decode(const hf_decoder *d, hf_strlist *tokens, vkt_bytebuf *out, vkt_error *err) {
    if (tokens->oom) return vkt_fail(err, VKT_ERR_NOMEM, "decoder: out of memory");
    work w = {0};
    vkt_status st = d ? apply(d, tokens, &w, err) : VKT_OK;
    hf_strlist_free(&w.next);
    free(w.a.p);
    free(w.b.p);
    if (st != VKT_OK) return st;
    if (tokens->text.n) vkt_bytebuf_put(out, tokens->text.p, tokens->text.n);
    if (out->oom) return vkt_fail(err, VKT_ERR_NOMEM, "decoder: out of memory");
    return VKT_OK;
}
