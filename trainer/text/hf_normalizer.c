// hf_normalizer.c: the "normalizer" of tokenizer.json. Each kind rewrites the whole text of
// a segment before it is pre-tokenized; behaviour follows tokenizers' normalizers/*.rs:
//   NFC NFD NFKC NFKD   Unicode normal forms (utf8proc)
//   Lowercase           char::to_lowercase for each character (no final-sigma rule)
//   Strip               White_Space off the left and/or right
//   StripAccents        removes every combining mark (general category M)
//   Prepend             puts a string in front of a non-empty text
//   Replace             every match of a String or Regex pattern becomes 'content'
//   Sequence            the 'normalizers' list, in order
// Others (BertNormalizer, Precompiled, NMT, ByteLevel, ...) are refused by name.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "hf_parts.h"

typedef enum {
    NM_FORM,
    NM_LOWER,
    NM_STRIP,
    NM_STRIP_ACCENTS,
    NM_PREPEND,
    NM_REPLACE,
    NM_SEQ
} nm_kind;

struct hf_normalizer {
    nm_kind kind;
    utf8proc_option_t form; // NM_FORM: the utf8proc options of the normal form
    bool left, right;       // NM_STRIP
    char *text;             // NM_PREPEND: what to prepend; NM_REPLACE: the content
    size_t len;
    hf_regex *re;         // NM_REPLACE
    hf_normalizer **kids; // NM_SEQ
    size_t nkids;
};

static const struct {
    const char *name;
    utf8proc_option_t opts;
} forms[] = {
    {"NFC", UTF8PROC_STABLE | UTF8PROC_COMPOSE},
    {"NFD", UTF8PROC_STABLE | UTF8PROC_DECOMPOSE},
    {"NFKC", UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT},
    {"NFKD", UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT},
};

static vkt_status parse_seq(const json_t *node, const char *where, hf_normalizer *nm,
                            vkt_error *err) {
    const json_t *list = json_object_get(node, "normalizers");
    if (!json_is_array(list))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: Sequence: 'normalizers' must be an array", where);
    nm->kids = calloc(json_array_size(list) + 1, sizeof *nm->kids);
    if (!nm->kids) return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory", where);
    for (size_t i = 0; i < json_array_size(list); i++) {
        char kwhere[512];
        snprintf(kwhere, sizeof kwhere, "%s.normalizers[%zu]", where, i);
        const json_t *kid = json_array_get(list, i);
        if (!json_is_object(kid))
            return vkt_fail(err, VKT_ERR_FORMAT, "%s: must be an object", kwhere);
        VKT_TRY(hf_normalizer_parse(kid, kwhere, &nm->kids[i], err));
        nm->nkids = i + 1;
    }
    return VKT_OK;
}

static vkt_status copy_text(const char *s, size_t n, const char *where, hf_normalizer *nm,
                            vkt_error *err) {
    nm->text = malloc(n + 1);
    if (!nm->text) return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory", where);
    memcpy(nm->text, s, n);
    nm->text[n] = 0;
    nm->len = n;
    return VKT_OK;
}

// Reads the fields of one normalizer of a known type into nm.
static vkt_status parse_fields(const json_t *node, const char *where, const char *type,
                               hf_normalizer *nm, vkt_error *err) {
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
        if (!strcmp(type, forms[i].name)) {
            nm->kind = NM_FORM;
            nm->form = forms[i].opts;
            return VKT_OK;
        }
    const char *s = NULL;
    size_t n = 0;
    if (!strcmp(type, "Lowercase")) {
        nm->kind = NM_LOWER;
    } else if (!strcmp(type, "StripAccents")) {
        nm->kind = NM_STRIP_ACCENTS;
    } else if (!strcmp(type, "Strip")) {
        nm->kind = NM_STRIP;
        nm->left = nm->right = true;
        VKT_TRY(hf_json_bool(node, "strip_left", where, type, &nm->left, err));
        VKT_TRY(hf_json_bool(node, "strip_right", where, type, &nm->right, err));
    } else if (!strcmp(type, "Prepend")) {
        nm->kind = NM_PREPEND;
        VKT_TRY(hf_json_str(node, "prepend", true, where, type, &s, &n, err));
        VKT_TRY(copy_text(s, n, where, nm, err));
    } else if (!strcmp(type, "Replace")) {
        nm->kind = NM_REPLACE;
        VKT_TRY(hf_json_str(node, "content", true, where, type, &s, &n, err));
        VKT_TRY(copy_text(s, n, where, nm, err));
        const json_t *pat = json_object_get(node, "pattern");
        if (!pat) return vkt_fail(err, VKT_ERR_FORMAT, "%s: Replace: missing 'pattern'", where);
        char what[560];
        snprintf(what, sizeof what, "%s: Replace", where);
        VKT_TRY(hf_pattern_parse(pat, what, &nm->re, err));
    } else if (!strcmp(type, "Sequence")) {
        nm->kind = NM_SEQ;
        VKT_TRY(parse_seq(node, where, nm, err));
    } else {
        return vkt_fail(err, VKT_ERR_UNSUPPORTED, "%s: unsupported normalizer type '%s'", where,
                        type);
    }
    return VKT_OK;
}

vkt_status hf_normalizer_parse(const json_t *node, const char *where, hf_normalizer **out,
                               vkt_error *err) {
    *out = NULL;
    if (!node || json_is_null(node)) return VKT_OK;
    if (!json_is_object(node))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: must be an object or null", where);
    const char *type;
    VKT_TRY(hf_json_type(node, where, &type, err));
    hf_normalizer *nm = calloc(1, sizeof *nm);
    if (!nm) return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory", where);
    vkt_status st = parse_fields(node, where, type, nm, err);
    if (st != VKT_OK) {
        hf_normalizer_free(nm);
        return st;
    }
    *out = nm;
    return VKT_OK;
}

void hf_normalizer_free(hf_normalizer *nm) {
    if (!nm) return;
    for (size_t i = 0; i < nm->nkids; i++) hf_normalizer_free(nm->kids[i]);
    free(nm->kids);
    hf_regex_free(nm->re);
    free(nm->text);
    free(nm);
}

static vkt_status normal_form(const hf_normalizer *nm, const char *in, size_t n, vkt_bytebuf *out,
                              vkt_error *err) {
    utf8proc_uint8_t *dst = NULL;
    utf8proc_ssize_t len =
        utf8proc_map((const utf8proc_uint8_t *)in, (utf8proc_ssize_t)n, &dst, nm->form);
    if (len < 0) {
        free(dst);
        if (len == UTF8PROC_ERROR_NOMEM)
            return vkt_fail(err, VKT_ERR_NOMEM, "normalizer: out of memory");
        return vkt_fail(err, VKT_ERR_ARG, "normalizer: %s", utf8proc_errmsg(len));
    }
    vkt_bytebuf_put(out, dst, (size_t)len);
    free(dst);
    return VKT_OK;
}

// Rust's char::to_lowercase: the simple mapping, plus SpecialCasing's one unconditional
// lowercase expansion (U+0130 -> "i" U+0307).
static void lowercase(const char *in, size_t n, vkt_bytebuf *out) {
    size_t i = 0;
    while (i < n) {
        size_t run = i; // ASCII fast path
        while (i < n && (unsigned char)in[i] < 0x80 && !(in[i] >= 'A' && in[i] <= 'Z')) i++;
        vkt_bytebuf_put(out, in + run, i - run);
        if (i == n) break;
        uint32_t cp;
        int k = hf_utf8_next(in + i, n - i, &cp);
        i += (size_t)k;
        if (cp == 0x130)
            vkt_bytebuf_put(out, "i\xCC\x87", 3);
        else
            hf_utf8_put(out, (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp));
    }
}

static void strip(const hf_normalizer *nm, const char *in, size_t n, vkt_bytebuf *out) {
    size_t a = 0, b = n;
    uint32_t cp;
    if (nm->left)
        while (a < b) {
            int k = hf_utf8_next(in + a, b - a, &cp);
            if (!hf_is_white_space(cp)) break;
            a += (size_t)k;
        }
    if (nm->right)
        while (b > a) {
            size_t s = b - 1;
            while (s > a && ((unsigned char)in[s] & 0xC0) == 0x80) s--; // back to a lead byte
            hf_utf8_next(in + s, b - s, &cp);
            if (!hf_is_white_space(cp)) break;
            b = s;
        }
    vkt_bytebuf_put(out, in + a, b - a);
}

static void strip_accents(const char *in, size_t n, vkt_bytebuf *out) {
    size_t i = 0, run = 0; // [run, i): kept, not yet copied
    while (i < n) {
        uint32_t cp;
        int k = hf_utf8_next(in + i, n - i, &cp);
        utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
        if (c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_MC || c == UTF8PROC_CATEGORY_ME) {
            vkt_bytebuf_put(out, in + run, i - run);
            run = i + (size_t)k;
        }
        i += (size_t)k;
    }
    vkt_bytebuf_put(out, in + run, n - run);
}

static vkt_status replace(const hf_normalizer *nm, const char *in, size_t n, vkt_bytebuf *out,
                          vkt_error *err) {
    hf_spans sp = {0};
    hf_regex_spans(nm->re, in, n, false, &sp);
    if (sp.oom) {
        free(sp.v);
        return vkt_fail(err, VKT_ERR_NOMEM, "normalizer: Replace: out of memory");
    }
    for (size_t i = 0; i < sp.n; i++) {
        if (sp.v[i].match)
            vkt_bytebuf_put(out, nm->text, nm->len);
        else
            vkt_bytebuf_put(out, in + sp.v[i].start, sp.v[i].end - sp.v[i].start);
    }
    free(sp.v);
    return VKT_OK;
}

// Applies nm to in[0..n) (valid UTF-8), appending to out.
static vkt_status apply(const hf_normalizer *nm, const char *in, size_t n, vkt_bytebuf *out,
                        vkt_error *err) {
    switch (nm->kind) {
    case NM_FORM: return normal_form(nm, in, n, out, err);
    case NM_LOWER: lowercase(in, n, out); return VKT_OK;
    case NM_STRIP: strip(nm, in, n, out); return VKT_OK;
    case NM_STRIP_ACCENTS: strip_accents(in, n, out); return VKT_OK;
    case NM_PREPEND:
        if (n) vkt_bytebuf_put(out, nm->text, nm->len);
        vkt_bytebuf_put(out, in, n);
        return VKT_OK;
    case NM_REPLACE: return replace(nm, in, n, out, err);
    case NM_SEQ: break;
    }
    // A Sequence passes the text through two buffers in turn; the last step appends to out.
    vkt_bytebuf buf[2] = {{0}, {0}};
    const char *cur = in;
    size_t cur_n = n;
    vkt_status st = VKT_OK;
    if (nm->nkids == 0) vkt_bytebuf_put(out, in, n);
    for (size_t i = 0; i < nm->nkids && st == VKT_OK; i++) {
        vkt_bytebuf *dst = out;
        if (i + 1 < nm->nkids) {
            dst = &buf[i & 1];
            dst->n = 0;
        }
        st = apply(nm->kids[i], cur, cur_n, dst, err);
        if (dst->oom && st == VKT_OK)
            st = vkt_fail(err, VKT_ERR_NOMEM, "normalizer: out of memory");
        cur = dst->p ? dst->p : "";
        cur_n = dst->n;
    }
    free(buf[0].p);
    free(buf[1].p);
    return st;
}

vkt_status hf_normalize(const hf_normalizer *nm, const char *in, size_t n, vkt_bytebuf *out,
                        vkt_error *err) {
    // PCRE2 runs without its own UTF-8 check (it would repeat it on every match).
    for (size_t i = 0; i < n;) {
        int k = hf_utf8_len((const unsigned char *)in + i, n - i);
        if (!k) return vkt_fail(err, VKT_ERR_ARG, "normalizer: input is not UTF-8 at byte %zu", i);
        i += (size_t)k;
    }
    if (!nm) {
        vkt_bytebuf_put(out, in, n);
    } else {
        vkt_status st = apply(nm, in, n, out, err);
        if (st != VKT_OK) return st;
    }
    if (out->oom) return vkt_fail(err, VKT_ERR_NOMEM, "normalizer: out of memory");
    return VKT_OK;
}
