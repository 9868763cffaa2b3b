// hf_strlist.c: the string list and the UTF-8 helpers every part of the pipeline shares.
#include <stdlib.h>
#include <string.h>

#include "hf_internal.h"

void hf_strlist_push(hf_strlist *l, const char *s, size_t n, unsigned flag) {
    if (l->oom) return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        size_t *e = realloc(l->end, cap * sizeof *e);
        if (e) l->end = e;
        unsigned char *f = realloc(l->flag, cap);
        if (f) l->flag = f;
        if (!e || !f) {
            l->oom = true;
            return;
        }
        l->cap = cap;
    }
    vkt_bytebuf_put(&l->text, s, n);
    if (l->text.oom) {
        l->oom = true;
        return;
    }
    l->end[l->n] = l->text.n;
    l->flag[l->n] = (unsigned char)flag;
    l->n++;
}

const char *hf_strlist_get(const hf_strlist *l, size_t i, size_t *len) {
    size_t start = i ? l->end[i - 1] : 0;
    *len = l->end[i] - start;
    return l->text.p ? l->text.p + start : "";
}

void hf_strlist_clear(hf_strlist *l) {
    l->n = 0;
    l->text.n = 0;
    if (l->text.p) l->text.p[0] = 0;
    l->oom = false;
    l->text.oom = false;
}

void hf_strlist_free(hf_strlist *l) {
    free(l->text.p);
    free(l->end);
    free(l->flag);
    memset(l, 0, sizeof *l);
}

// Unicode 15, table 3-7: the well-formed byte sequences. A lead byte fixes the length and
// the range of the second byte (no overlongs, no surrogates, nothing past U+10FFFF);
// false for a byte that starts no sequence.
static bool lead(unsigned c, size_t *len, unsigned *lo, unsigned *hi) {
    *lo = 0x80, *hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        *len = 2;
    else if (c == 0xE0)
        *len = 3, *lo = 0xA0;
    else if (c >= 0xE1 && c <= 0xEC)
        *len = 3;
    else if (c == 0xED)
        *len = 3, *hi = 0x9F;
    else if (c >= 0xEE && c <= 0xEF)
        *len = 3;
    else if (c == 0xF0)
        *len = 4, *lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3)
        *len = 4;
    else if (c == 0xF4)
        *len = 4, *hi = 0x8F;
    else
        return false;
    return true;
}

int hf_utf8_len(const unsigned char *s, size_t n) {
    if (n == 0) return 0;
    if (s[0] < 0x80) return 1;
    size_t len;
    unsigned lo, hi;
    if (!lead(s[0], &len, &lo, &hi) || n < len || s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    return (int)len;
}

// The length of the maximal invalid subpart at s: the longest prefix of a well-formed
// sequence (at least one byte), which becomes one U+FFFD.
static size_t invalid_len(const unsigned char *s, size_t n) {
    size_t len, i = 1;
    unsigned lo, hi;
    if (!lead(s[0], &len, &lo, &hi)) return 1;
    if (i < n && s[i] >= lo && s[i] <= hi) {
        i++;
        while (i < n && i < len && s[i] >= 0x80 && s[i] <= 0xBF) i++;
    }
    return i;
}

void hf_utf8_lossy(const char *in, size_t n, vkt_bytebuf *out) {
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0, run = 0; // [run, i): valid bytes not yet copied
    while (i < n) {
        int k = hf_utf8_len(s + i, n - i);
        if (k > 0) {
            i += (size_t)k;
            continue;
        }
        vkt_bytebuf_put(out, in + run, i - run);
        vkt_bytebuf_put(out, "\xEF\xBF\xBD", 3);
        i += invalid_len(s + i, n - i);
        run = i;
    }
    vkt_bytebuf_put(out, in + run, n - run);
}

void hf_utf8_put(vkt_bytebuf *out, uint32_t cp) {
    char b[4];
    size_t n;
    if (cp < 0x80)
        b[0] = (char)cp, n = 1;
    else if (cp < 0x800)
        b[0] = (char)(0xC0 | cp >> 6), b[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    else if (cp < 0x10000)
        b[0] = (char)(0xE0 | cp >> 12), b[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
        b[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    else
        b[0] = (char)(0xF0 | cp >> 18), b[1] = (char)(0x80 | ((cp >> 12) & 0x3F)),
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), b[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    vkt_bytebuf_put(out, b, n);
}
