// hf_pretokenizer.c: the "pre_tokenizer" of tokenizer.json, which cuts a normalized segment
// into the pieces the model encodes one by one. Behaviour follows tokenizers'
// pre_tokenizers/*.rs and NormalizedString::split:
//   ByteLevel        optional ' ' prefix, the GPT-2 regex (use_regex), then every byte of
//                    every piece becomes its printable stand-in (hf_byte_to_cp)
//   Split            a String or Regex pattern, a behavior, invert
//   Digits           numbers apart (Contiguous) or each digit apart (individual_digits)
//   Metaspace        ' ' becomes the replacement, which is prepended per prepend_scheme
//                    and starts each piece (MergedWithNext)
//   Punctuation      ASCII punctuation or general category P*, by its behavior
//   Whitespace       \w+|[^\w\s]+ (the rest, whitespace, is dropped)
//   WhitespaceSplit  cut at White_Space, which is dropped
//   Sequence         each of 'pretokenizers' applied to every piece of the one before
// A split finds the pattern's matches (hf_regex_spans, or one span per matching character
// for a character class), joins them to the pieces as the behavior says, and drops empty
// pieces. Only the piece at offset 0 of an at_start segment keeps HF_PIECE_AT_START.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "hf_parts.h"

typedef enum {
    PT_BYTELEVEL,
    PT_SPLIT,
    PT_DIGITS,
    PT_METASPACE,
    PT_PUNCT,
    PT_WHITESPACE,
    PT_WSSPLIT,
    PT_SEQ
} pt_kind;
// tokenizers' SplitDelimiterBehavior: what becomes of a match (a "delimiter").
typedef enum { B_REMOVED, B_ISOLATED, B_MERGED_PREV, B_MERGED_NEXT, B_CONTIGUOUS } split_behavior;
typedef enum { PREPEND_ALWAYS, PREPEND_FIRST, PREPEND_NEVER } prepend_scheme;

struct hf_pretok {
    pt_kind kind;
    hf_regex *re;            // Split's pattern, ByteLevel's GPT-2 regex, Whitespace's regex
    split_behavior behavior; // Split, Punctuation
    bool invert;             // Split
    bool prefix_space;       // ByteLevel add_prefix_space
    bool individual;         // Digits individual_digits
    char repl[5];            // Metaspace replacement (one character) and its code point
    size_t repl_len;
    uint32_t repl_cp;
    prepend_scheme scheme; // Metaspace
    bool split;            // Metaspace
    hf_pretok **kids;      // Sequence
    size_t nkids;
};

// The GPT-2 pattern ByteLevel splits with when use_regex is true.
static const char gpt2_pattern[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

// Rust regex's \w (Alphabetic + Mark + Nd + Pc + Join_Control), for Whitespace.
#define RUST_WORD_ITEMS "\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\x{200C}\\x{200D}"
#define RUST_WORD "[" RUST_WORD_ITEMS "]"

// GPT-2's bytes_to_unicode: printable bytes stand for themselves, the other 68 bytes take
// the code points from 256 on, in byte order.
const uint16_t hf_byte_to_cp[256] = {
    256, 257, 258, 259, 260, 261, 262, 263, 264, 265, 266, 267, 268, 269, 270, 271, 272, 273, 274,
    275, 276, 277, 278, 279, 280, 281, 282, 283, 284, 285, 286, 287, 288, 33,  34,  35,  36,  37,
    38,  39,  40,  41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51,  52,  53,  54,  55,  56,
    57,  58,  59,  60,  61,  62,  63,  64,  65,  66,  67,  68,  69,  70,  71,  72,  73,  74,  75,
    76,  77,  78,  79,  80,  81,  82,  83,  84,  85,  86,  87,  88,  89,  90,  91,  92,  93,  94,
    95,  96,  97,  98,  99,  100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113,
    114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 289, 290, 291, 292, 293, 294,
    295, 296, 297, 298, 299, 300, 301, 302, 303, 304, 305, 306, 307, 308, 309, 310, 311, 312, 313,
    314, 315, 316, 317, 318, 319, 320, 321, 322, 161, 162, 163, 164, 165, 166, 167, 168, 169, 170,
    171, 172, 323, 174, 175, 176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189,
    190, 191, 192, 193, 194, 195, 196, 197, 198, 199, 200, 201, 202, 203, 204, 205, 206, 207, 208,
    209, 210, 211, 212, 213, 214, 215, 216, 217, 218, 219, 220, 221, 222, 223, 224, 225, 226, 227,
    228, 229, 230, 231, 232, 233, 234, 235, 236, 237, 238, 239, 240, 241, 242, 243, 244, 245, 246,
    247, 248, 249, 250, 251, 252, 253, 254, 255,
};

int hf_cp_to_byte(uint32_t cp) {
    if ((cp >= 33 && cp <= 126) || (cp >= 161 && cp <= 172) || (cp >= 174 && cp <= 255))
        return (int)cp;
    if (cp < 256 || cp > 323) return -1;
    uint32_t k = cp - 256; // the k-th byte that is not printable
    return k < 33 ? (int)k : k < 67 ? (int)(127 + k - 33) : 173;
}

// --- parsing -------------------------------------------------------------------------------

static vkt_status parse_behavior(const json_t *node, const char *where, const char *type,
                                 bool required, split_behavior *b, vkt_error *err) {
    static const char *names[] = {"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext",
                                  "Contiguous"};
    const char *s = NULL;
    VKT_TRY(hf_json_str(node, "behavior", required, where, type, &s, NULL, err));
    if (!s) return VKT_OK;
    for (int i = 0; i < 5; i++)
        if (!strcmp(s, names[i])) {
            *b = (split_behavior)i;
            return VKT_OK;
        }
    return vkt_fail(err, VKT_ERR_FORMAT, "%s: %s: unknown behavior '%s'", where, type, s);
}

static vkt_status parse_metaspace(const json_t *node, const char *where, hf_pretok *pt,
                                  vkt_error *err) {
    const char *type = "Metaspace", *s = NULL;
    size_t n = 0;
    VKT_TRY(hf_json_str(node, "replacement", true, where, type, &s, &n, err));
    if (n == 0 || n > 4 || hf_utf8_len((const unsigned char *)s, n) != (int)n)
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: %s: 'replacement' must be one character", where,
                        type);
    memcpy(pt->repl, s, n);
    pt->repl_len = n;
    hf_utf8_next(s, n, &pt->repl_cp);
    // prepend_scheme (default "always"); the older add_prefix_space: false means "never".
    const char *scheme = NULL;
    bool prefix = true;
    pt->split = true;
    VKT_TRY(hf_json_str(node, "prepend_scheme", false, where, type, &scheme, NULL, err));
    VKT_TRY(hf_json_bool(node, "add_prefix_space", where, type, &prefix, err));
    VKT_TRY(hf_json_bool(node, "split", where, type, &pt->split, err));
    pt->scheme = PREPEND_ALWAYS;
    if (scheme && !strcmp(scheme, "first"))
        pt->scheme = PREPEND_FIRST;
    else if (scheme && !strcmp(scheme, "never"))
        pt->scheme = PREPEND_NEVER;
    else if (scheme && strcmp(scheme, "always"))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: %s: unknown prepend_scheme '%s'", where, type,
                        scheme);
    if (!prefix) {
        if (scheme && pt->scheme != PREPEND_NEVER)
            return vkt_fail(err, VKT_ERR_FORMAT,
                            "%s: %s: add_prefix_space false does not match "
                            "prepend_scheme '%s'",
                            where, type, scheme);
        pt->scheme = PREPEND_NEVER;
    }
    return VKT_OK;
}

static vkt_status parse_seq(const json_t *node, const char *where, hf_pretok *pt, vkt_error *err) {
    const json_t *list = json_object_get(node, "pretokenizers");
    if (!json_is_array(list))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: Sequence: 'pretokenizers' must be an array",
                        where);
    pt->kids = calloc(json_array_size(list) + 1, sizeof *pt->kids);
    if (!pt->kids) return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory", where);
    for (size_t i = 0; i < json_array_size(list); i++) {
        char kwhere[512];
        snprintf(kwhere, sizeof kwhere, "%s.pretokenizers[%zu]", where, i);
        const json_t *kid = json_array_get(list, i);
        if (!json_is_object(kid))
            return vkt_fail(err, VKT_ERR_FORMAT, "%s: must be an object", kwhere);
        VKT_TRY(hf_pretok_parse(kid, kwhere, &pt->kids[i], err));
        pt->nkids = i + 1;
    }
    return VKT_OK;
}

// Reads the fields of one pre-tokenizer of a known type into pt.
static vkt_status parse_fields(const json_t *node, const char *where, const char *type,
                               hf_pretok *pt, vkt_error *err) {
    char what[560];
    snprintf(what, sizeof what, "%s: %s", where, type);
    if (!strcmp(type, "ByteLevel")) {
        bool use_regex = true;
        pt->kind = PT_BYTELEVEL;
        pt->prefix_space = true;
        VKT_TRY(hf_json_bool(node, "add_prefix_space", where, type, &pt->prefix_space, err));
        VKT_TRY(hf_json_bool(node, "use_regex", where, type, &use_regex, err));
        if (use_regex) return hf_regex_compile(gpt2_pattern, what, &pt->re, err);
    } else if (!strcmp(type, "Split")) {
        pt->kind = PT_SPLIT;
        const json_t *pat = json_object_get(node, "pattern");
        if (!pat) return vkt_fail(err, VKT_ERR_FORMAT, "%s: missing 'pattern'", what);
        VKT_TRY(parse_behavior(node, where, type, true, &pt->behavior, err));
        VKT_TRY(hf_json_bool(node, "invert", where, type, &pt->invert, err));
        return hf_pattern_parse(pat, what, &pt->re, err);
    } else if (!strcmp(type, "Digits")) {
        pt->kind = PT_DIGITS;
        VKT_TRY(hf_json_bool(node, "individual_digits", where, type, &pt->individual, err));
    } else if (!strcmp(type, "Metaspace")) {
        pt->kind = PT_METASPACE;
        return parse_metaspace(node, where, pt, err);
    } else if (!strcmp(type, "Punctuation")) {
        pt->kind = PT_PUNCT;
        pt->behavior = B_ISOLATED;
        return parse_behavior(node, where, type, false, &pt->behavior, err);
    } else if (!strcmp(type, "Whitespace")) {
        pt->kind = PT_WHITESPACE;
        // \w+|[^\w\s]+ in Rust's regex crate, whose \w differs from Oniguruma's.
        return hf_regex_compile(RUST_WORD "+|[^" RUST_WORD_ITEMS "\\s]+", what, &pt->re, err);
    } else if (!strcmp(type, "WhitespaceSplit")) {
        pt->kind = PT_WSSPLIT;
    } else if (!strcmp(type, "Sequence")) {
        pt->kind = PT_SEQ;
        return parse_seq(node, where, pt, err);
    } else {
        return vkt_fail(err, VKT_ERR_UNSUPPORTED, "%s: unsupported pre_tokenizer type '%s'", where,
                        type);
    }
    return VKT_OK;
}

vkt_status hf_pretok_parse(const json_t *node, const char *where, hf_pretok **out, vkt_error *err) {
    *out = NULL;
    if (!node || json_is_null(node)) return VKT_OK;
    if (!json_is_object(node))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: must be an object or null", where);
    const char *type;
    VKT_TRY(hf_json_type(node, where, &type, err));
    hf_pretok *pt = calloc(1, sizeof *pt);
    if (!pt) return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory", where);
    vkt_status st = parse_fields(node, where, type, pt, err);
    if (st != VKT_OK) {
        hf_pretok_free(pt);
        return st;
    }
    *out = pt;
    return VKT_OK;
}

void hf_pretok_free(hf_pretok *pt) {
    if (!pt) return;
    for (size_t i = 0; i < pt->nkids; i++) hf_pretok_free(pt->kids[i]);
    free(pt->kids);
    hf_regex_free(pt->re);
    free(pt);
}

// --- splitting -----------------------------------------------------------------------------

// Scratch one hf_pretokenize call reuses for every piece.
typedef struct work {
    hf_spans sp;      // the spans of the piece being split
    vkt_bytebuf text; // a piece rewritten before it is split (prefix, replacement)
    vkt_bytebuf map;  // one ByteLevel piece, mapped
} work;

static bool is_numeric(uint32_t cp, const hf_pretok *pt) { // Rust's char::is_numeric
    (void)pt;
    if (cp < 0x80) return cp >= '0' && cp <= '9';
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return c == UTF8PROC_CATEGORY_ND || c == UTF8PROC_CATEGORY_NL || c == UTF8PROC_CATEGORY_NO;
}

static bool is_punct(uint32_t cp, const hf_pretok *pt) { // ASCII punctuation or P*
    (void)pt;
    if (cp < 0x80)
        return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) ||
               (cp >= 0x5B && cp <= 0x60) || (cp >= 0x7B && cp <= 0x7E);
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}

static bool is_ws(uint32_t cp, const hf_pretok *pt) {
    (void)pt;
    return hf_is_white_space(cp);
}

static bool is_repl(uint32_t cp, const hf_pretok *pt) { return cp == pt->repl_cp; }

// Spans for a character-class pattern: each matching character is a match of its own, the
// runs between them are gaps (tokenizers' Pattern for Fn(char) -> bool).
static void class_spans(const char *s, size_t n, bool (*f)(uint32_t, const hf_pretok *),
                        const hf_pretok *pt, hf_spans *out) {
    size_t i = 0, gap = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = (size_t)hf_utf8_next(s + i, n - i, &cp);
        if (f(cp, pt)) {
            if (gap < i) hf_spans_push(out, gap, i, false);
            hf_spans_push(out, i, i + k, true);
            gap = i + k;
        }
        i += k;
    }
    if (gap < n) hf_spans_push(out, gap, n, false);
}

// Pushes s[a..b) unless it is empty; ByteLevel pieces go through the byte table.
static void put_piece(const char *s, size_t a, size_t b, bool at_start, bool bytelevel, work *w,
                      hf_strlist *out) {
    if (a == b) return;
    unsigned flag = at_start && a == 0 ? HF_PIECE_AT_START : 0;
    if (!bytelevel) {
        hf_strlist_push(out, s + a, b - a, flag);
        return;
    }
    w->map.n = 0;
    for (size_t i = a; i < b; i++) hf_utf8_put(&w->map, hf_byte_to_cp[(unsigned char)s[i]]);
    if (w->map.oom)
        out->oom = true;
    else
        hf_strlist_push(out, w->map.p, w->map.n, flag);
}

// Joins the spans of s into pieces as behavior says (NormalizedString::split, written
// forwards: a match joins the gap before it, MergedWithPrevious, or after it,
// MergedWithNext; Contiguous joins runs of the same kind).
static void emit(const char *s, const hf_spans *sp, split_behavior behavior, bool at_start,
                 bool bytelevel, work *w, hf_strlist *out) {
    const hf_span *v = sp->v;
    for (size_t i = 0; i < sp->n; i++) {
        size_t a = v[i].start, b = v[i].end;
        switch (behavior) {
        case B_REMOVED:
            if (v[i].match) continue;
            break;
        case B_ISOLATED: break;
        case B_CONTIGUOUS:
            while (i + 1 < sp->n && v[i + 1].match == v[i].match) b = v[++i].end;
            break;
        case B_MERGED_PREV:
            if (!v[i].match && i + 1 < sp->n && v[i + 1].match) b = v[++i].end;
            break;
        case B_MERGED_NEXT:
            if (v[i].match && i + 1 < sp->n && !v[i + 1].match) b = v[++i].end;
            break;
        }
        put_piece(s, a, b, at_start, bytelevel, w, out);
    }
}

static void bytelevel(const hf_pretok *pt, const char *s, size_t n, bool at_start, work *w,
                      hf_strlist *out) {
    if (pt->prefix_space && n > 0 && s[0] != ' ') {
        w->text.n = 0;
        vkt_bytebuf_put(&w->text, " ", 1);
        vkt_bytebuf_put(&w->text, s, n);
        if (w->text.oom) {
            out->oom = true;
            return;
        }
        s = w->text.p;
        n = w->text.n;
    }
    if (!pt->re) {
        put_piece(s, 0, n, at_start, true, w, out);
        return;
    }
    hf_regex_spans(pt->re, s, n, false, &w->sp);
    emit(s, &w->sp, B_ISOLATED, at_start, true, w, out);
}

static void metaspace(const hf_pretok *pt, const char *s, size_t n, bool at_start, work *w,
                      hf_strlist *out) {
    bool starts =
        n > 0 && (s[0] == ' ' || (n >= pt->repl_len && !memcmp(s, pt->repl, pt->repl_len)));
    bool prepend = n > 0 && !starts &&
                   (pt->scheme == PREPEND_ALWAYS || (pt->scheme == PREPEND_FIRST && at_start));
    w->text.n = 0;
    if (prepend) vkt_bytebuf_put(&w->text, pt->repl, pt->repl_len);
    size_t run = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == ' ') {
            vkt_bytebuf_put(&w->text, s + run, i - run);
            vkt_bytebuf_put(&w->text, pt->repl, pt->repl_len);
            run = i + 1;
        }
    vkt_bytebuf_put(&w->text, s + run, n - run);
    if (w->text.oom) {
        out->oom = true;
        return;
    }
    if (!pt->split) {
        put_piece(w->text.p, 0, w->text.n, at_start, false, w, out);
        return;
    }
    class_spans(w->text.p, w->text.n, is_repl, pt, &w->sp);
    emit(w->text.p, &w->sp, B_MERGED_NEXT, at_start, false, w, out);
}

static void apply(const hf_pretok *pt, const char *s, size_t n, bool at_start, work *w,
                  hf_strlist *out);

// Each pre-tokenizer of the list splits every piece the one before it made.
static void sequence(const hf_pretok *pt, const char *s, size_t n, bool at_start, work *w,
                     hf_strlist *out) {
    if (pt->nkids == 0) {
        put_piece(s, 0, n, at_start, false, w, out);
        return;
    }
    hf_strlist lists[2];
    memset(lists, 0, sizeof lists);
    hf_strlist *cur = &lists[0];
    put_piece(s, 0, n, at_start, false, w, cur);
    for (size_t k = 0; k < pt->nkids && !cur->oom; k++) {
        hf_strlist *dst = k + 1 == pt->nkids ? out : &lists[(k + 1) & 1];
        if (dst != out) hf_strlist_clear(dst);
        for (size_t i = 0; i < cur->n; i++) {
            size_t len;
            const char *p = hf_strlist_get(cur, i, &len);
            apply(pt->kids[k], p, len, cur->flag[i] & HF_PIECE_AT_START, w, dst);
        }
        cur = dst;
    }
    if (cur->oom) out->oom = true;
    hf_strlist_free(&lists[0]);
    hf_strlist_free(&lists[1]);
}

static void apply(const hf_pretok *pt, const char *s, size_t n, bool at_start, work *w,
                  hf_strlist *out) {
    w->sp.n = 0;
    switch (pt->kind) {
    case PT_BYTELEVEL: bytelevel(pt, s, n, at_start, w, out); return;
    case PT_METASPACE: metaspace(pt, s, n, at_start, w, out); return;
    case PT_SEQ: sequence(pt, s, n, at_start, w, out); return;
    case PT_SPLIT: hf_regex_spans(pt->re, s, n, pt->invert, &w->sp); break;
    case PT_DIGITS: class_spans(s, n, is_numeric, pt, &w->sp); break;
    case PT_PUNCT: class_spans(s, n, is_punct, pt, &w->sp); break;
    case PT_WHITESPACE: hf_regex_spans(pt->re, s, n, true, &w->sp); break; // keeps the matches
    case PT_WSSPLIT: class_spans(s, n, is_ws, pt, &w->sp); break;
    }
    if (w->sp.oom) {
        out->oom = true;
        return;
    }
    split_behavior b = pt->behavior;
    if (pt->kind == PT_DIGITS)
        b = pt->individual ? B_ISOLATED : B_CONTIGUOUS;
    else if (pt->kind == PT_WHITESPACE || pt->kind == PT_WSSPLIT)
        b = B_REMOVED;
    emit(s, &w->sp, b, at_start, false, w, out);
}

vkt_status hf_pretokenize(const hf_pretok *pt, const char *in, size_t n, bool at_start,
                          hf_strlist *out, vkt_error *err) {
    // PCRE2 runs without its own UTF-8 check (it would repeat it on every match).
    for (size_t i = 0; i < n;) {
        int k = hf_utf8_len((const unsigned char *)in + i, n - i);
        if (!k)
            return vkt_fail(err, VKT_ERR_ARG, "pre_tokenizer: input is not UTF-8 at byte %zu", i);
        i += (size_t)k;
    }
    work w = {{0}, {0}, {0}};
    if (!pt)
        put_piece(in, 0, n, at_start, false, &w, out);
    else
        apply(pt, in, n, at_start, &w, out);
    free(w.sp.v);
    free(w.text.p);
    free(w.map.p);
    if (out->oom) return vkt_fail(err, VKT_ERR_NOMEM, "pre_tokenizer: out of memory");
    return VKT_OK;
}
