// jinja_text.c: the Unicode pieces of Python's str that templates use: whitespace as
// str.isspace sees it, code points for len() and indexing, case mapping and strip. Text is
// UTF-8; a byte that is not part of valid UTF-8 counts as one character and is kept as is.
#include <string.h>
#include <utf8proc.h>

#include "jinja_internal.h"

#define BAD_CP 0x110000u // + the byte: an invalid byte read as one character

bool jinja_py_isspace(uint32_t cp) {
    if (cp < 0x80) return cp == ' ' || (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x1f);
    return cp == 0x85 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

uint32_t jinja_utf8_next(const char *s, size_t n, size_t *len) {
    const unsigned char *u = (const unsigned char *)s;
    *len = 1;
    if (u[0] < 0x80) return u[0];
    size_t need;
    uint32_t cp, min;
    if ((u[0] & 0xe0) == 0xc0) {
        need = 2, cp = u[0] & 0x1f, min = 0x80;
    } else if ((u[0] & 0xf0) == 0xe0) {
        need = 3, cp = u[0] & 0x0f, min = 0x800;
    } else if ((u[0] & 0xf8) == 0xf0) {
        need = 4, cp = u[0] & 0x07, min = 0x10000;
    } else {
        return BAD_CP + u[0];
    }
    if (n < need) return BAD_CP + u[0];
    for (size_t i = 1; i < need; i++) {
        if ((u[i] & 0xc0) != 0x80) return BAD_CP + u[0];
        cp = (cp << 6) | (u[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return BAD_CP + u[0];
    *len = need;
    return cp;
}

size_t jinja_utf8_put(char *dst, uint32_t cp) {
    unsigned char *d = (unsigned char *)dst;
    if (cp >= BAD_CP) {
        d[0] = (unsigned char)(cp - BAD_CP);
        return 1;
    }
    if (cp < 0x80) {
        d[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (unsigned char)(0xc0 | (cp >> 6));
        d[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (unsigned char)(0xe0 | (cp >> 12));
        d[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        d[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    d[0] = (unsigned char)(0xf0 | (cp >> 18));
    d[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    d[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    d[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

size_t jinja_cp_count(const char *s, size_t n) {
    size_t count = 0;
    for (size_t i = 0; i < n; count++) {
        size_t len;
        if ((unsigned char)s[i] < 0x80) {
            i++;
            continue;
        }
        jinja_utf8_next(s + i, n - i, &len);
        i += len;
    }
    return count;
}

size_t *jinja_cp_offsets(jinja_ctx *c, const char *s, size_t n, size_t *ncp) {
    size_t count = jinja_cp_count(s, n);
    size_t *off = jinja_ctx_alloc(c, (count + 1) * sizeof(size_t));
    if (!off) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        size_t len;
        off[k++] = i;
        jinja_utf8_next(s + i, n - i, &len);
        i += len;
    }
    off[k] = n;
    *ncp = count;
    return off;
}

static bool is_cased(uint32_t cp) {
    if (cp >= BAD_CP) return false;
    utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)cp);
    return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL ||
           cat == UTF8PROC_CATEGORY_LT;
}

static uint32_t map_cp(uint32_t cp, char how) {
    if (cp >= BAD_CP) return cp;
    utf8proc_int32_t c = (utf8proc_int32_t)cp;
    switch (how) {
    case 'u': return (uint32_t)utf8proc_toupper(c);
    case 'l': return (uint32_t)utf8proc_tolower(c);
    default: return (uint32_t)utf8proc_totitle(c);
    }
}

// Where jinja's title filter starts a new word: after runs of [-\s({\[<].
static bool title_sep(uint32_t cp) {
    return cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<' || jinja_py_isspace(cp);
}

void jinja_case_map(vkt_bytebuf *b, const char *s, size_t n, char mode) {
    bool first = true, prev_cased = false;
    for (size_t i = 0; i < n;) {
        size_t len;
        uint32_t cp = jinja_utf8_next(s + i, n - i, &len), m;
        switch (mode) {
        case 'u':
        case 'l': m = map_cp(cp, mode); break;
        case 'c': m = map_cp(cp, first ? 't' : 'l'); break;      // str.capitalize
        case 't': m = map_cp(cp, prev_cased ? 'l' : 't'); break; // str.title
        default:                                                 // jinja's title filter
            if (title_sep(cp)) {
                m = cp;
                first = true;
                vkt_bytebuf_put(b, s + i, len);
                i += len;
                continue;
            }
            m = map_cp(cp, first ? 'u' : 'l');
            break;
        }
        prev_cased = is_cased(cp);
        first = false;
        char enc[4];
        if (m == cp)
            vkt_bytebuf_put(b, s + i, len);
        else
            vkt_bytebuf_put(b, enc, jinja_utf8_put(enc, m));
        i += len;
    }
}

static bool in_set(uint32_t cp, const char *chars, size_t nchars) {
    if (!chars) return jinja_py_isspace(cp);
    for (size_t i = 0; i < nchars;) {
        size_t len;
        if (jinja_utf8_next(chars + i, nchars - i, &len) == cp) return true;
        i += len;
    }
    return false;
}

// Start of the code point that ends s[0..n) (an invalid byte counts alone).
static size_t last_cp_start(const char *s, size_t n) {
    size_t i = n - 1, len;
    while (i > 0 && n - i < 4 && ((unsigned char)s[i] & 0xc0) == 0x80) i--;
    jinja_utf8_next(s + i, n - i, &len);
    return i + len == n ? i : n - 1;
}

void jinja_strip(const char *s, size_t n, const char *chars, size_t nchars, char which,
                 size_t *start, size_t *len) {
    size_t a = 0, end = n, l;
    if (which != 'r') // from the left, while the characters are in the set
        while (a < n && in_set(jinja_utf8_next(s + a, n - a, &l), chars, nchars)) a += l;
    if (which != 'l') { // from the right, without crossing a
        while (end > a) {
            size_t k = last_cp_start(s, end);
            if (k < a || !in_set(jinja_utf8_next(s + k, end - k, &l), chars, nchars)) break;
            end = k;
        }
    }
    *start = a;
    *len = end - a;
}
