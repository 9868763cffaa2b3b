// hf_parts.h: what the normalizer and pre-tokenizer parts share beyond hf_internal.h: a
// pattern's matches as spans (the way tokenizers' Pattern::find_matches walks them), the
// Unicode classes HF's Rust code tests characters with, and the JSON field checks that
// give every parse error the same shape ("<where>: <Type>: 'field' must be a string").
#ifndef VKT_HF_PARTS_H
#define VKT_HF_PARTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hf_internal.h"

// --- spans: a string cut into matches and the gaps between them --------------------------
typedef struct hf_span {
    size_t start, end;
    bool match;
} hf_span;
typedef struct hf_spans {
    hf_span *v;
    size_t n, cap;
    bool oom;
} hf_spans;

void hf_spans_push(hf_spans *sp, size_t start, size_t end, bool match);

// Cuts s[0..n) into the matches of re and the gaps between them, in order, covering [0, n)
// (appended to out). An empty match right where the previous match ended is skipped, as
// onig's find_iter does. invert swaps which spans count as matches (Split's "invert").
// s must be valid UTF-8; an empty s gives no spans.
void hf_regex_spans(const hf_regex *re, const char *s, size_t n, bool invert, hf_spans *out);

// Parses a pattern object {"String": "..."} (a literal) or {"Regex": "..."}.
// what names the part for messages ("tokenizer.json: normalizer: Replace").
vkt_status hf_pattern_parse(const json_t *node, const char *what, hf_regex **out, vkt_error *err);

// --- UTF-8 and Unicode classes ---------------------------------------------------------
// Decodes the code point at s (valid UTF-8, n >= 1) and returns its length in bytes.
static inline int hf_utf8_next(const char *s, size_t n, uint32_t *cp) {
    const unsigned char *u = (const unsigned char *)s;
    if (u[0] < 0x80 || n < 2) return *cp = u[0], 1;
    if (u[0] < 0xE0) return *cp = (uint32_t)(u[0] & 0x1F) << 6 | (u[1] & 0x3F), 2;
    if (u[0] < 0xF0 || n < 4)
        return *cp = (uint32_t)(u[0] & 0x0F) << 12 | (uint32_t)(u[1] & 0x3F) << 6 | (u[2] & 0x3F),
               3;
    *cp = (uint32_t)(u[0] & 0x07) << 18 | (uint32_t)(u[1] & 0x3F) << 12 |
          (uint32_t)(u[2] & 0x3F) << 6 | (u[3] & 0x3F);
    return 4;
}

// Unicode White_Space, what Rust's char::is_whitespace tests.
static inline bool hf_is_white_space(uint32_t c) {
    if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D);
    return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
           c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// --- JSON field checks -------------------------------------------------------------------
// An optional boolean field: absent leaves *v as it is; any type but a boolean is an error.
vkt_status hf_json_bool(const json_t *obj, const char *key, const char *where, const char *type,
                        bool *v, vkt_error *err);
// A string field: absent is an error when required (else *v is left as it is); any type but
// a string is an error. *v points into obj (valid while obj lives); *len may be NULL.
vkt_status hf_json_str(const json_t *obj, const char *key, bool required, const char *where,
                       const char *type, const char **v, size_t *len, vkt_error *err);
// The "type" string of a part object (node must be an object).
vkt_status hf_json_type(const json_t *node, const char *where, const char **type, vkt_error *err);

#endif
