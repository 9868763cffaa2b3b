// hf_added.c: matching added tokens in text, as tokenizers' AddedVocabulary does: the
// leftmost-longest match, then single_word / lstrip / rstrip applied to it, and a match
// that is rejected (or a special token while special text is plain) still consumes its
// bytes, as the automaton's iterator moves past it.
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "hf_tokenizer.h"

static int32_t trie_new(hf_trie *t, unsigned char byte) {
    if (t->n == t->cap) {
        int32_t cap = t->cap ? t->cap * 2 : 256;
        hf_trie_node *q = realloc(t->node, (size_t)cap * sizeof *q);
        if (!q) return -1;
        t->node = q, t->cap = cap;
    }
    t->node[t->n] = (hf_trie_node){.child = -1, .sibling = -1, .token = -1, .byte = byte};
    return t->n++;
}

static int32_t trie_child(const hf_trie *t, int32_t at, unsigned char byte) {
    for (int32_t c = t->node[at].child; c >= 0; c = t->node[c].sibling)
        if (t->node[c].byte == byte) return c;
    return -1;
}

vkt_status hf_trie_add(hf_trie *t, const char *s, size_t n, int32_t token_index) {
    if (t->n == 0 && trie_new(t, 0) < 0) return VKT_ERR_NOMEM;
    int32_t at = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)s[i];
        int32_t c = trie_child(t, at, b);
        if (c < 0) {
            if ((c = trie_new(t, b)) < 0) return VKT_ERR_NOMEM;
            t->node[c].sibling = t->node[at].child;
            t->node[at].child = c;
        }
        at = c;
    }
    if (t->node[at].token < 0) t->node[at].token = token_index; // first definition wins
    return VKT_OK;
}

void hf_trie_free(hf_trie *t) {
    free(t->node);
    memset(t, 0, sizeof *t);
}

// The longest token that starts at s[0..n): its index, and its length in *len; -1 if none.
static int32_t longest_at(const hf_trie *t, const char *s, size_t n, size_t *len) {
    int32_t at = 0, best = -1;
    for (size_t i = 0; i < n; i++) {
        at = trie_child(t, at, (unsigned char)s[i]);
        if (at < 0) break;
        if (t->node[at].token >= 0) best = t->node[at].token, *len = i + 1;
    }
    return best;
}

// Decodes the code point that ends at s[end) (s valid UTF-8), or -1 at the start.
static int32_t cp_before(const char *s, size_t end) {
    if (end == 0) return -1;
    size_t i = end - 1;
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80) i--;
    utf8proc_int32_t cp;
    utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(end - i), &cp);
    return cp;
}

static int32_t cp_at(const char *s, size_t n, size_t i) {
    if (i >= n) return -1;
    utf8proc_int32_t cp;
    utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);
    return cp;
}

// The regex class \w that tokenizers uses for single_word boundaries: Alphabetic (L*, Nl),
// marks, decimal digits, connector punctuation and the joiners.
static bool is_word_cp(int32_t cp) {
    if (cp < 0) return false;
    if (cp == 0x200C || cp == 0x200D) return true;
    utf8proc_category_t c = utf8proc_category(cp);
    return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_ME) || c == UTF8PROC_CATEGORY_ND ||
           c == UTF8PROC_CATEGORY_NL || c == UTF8PROC_CATEGORY_PC;
}

static bool is_space_cp(int32_t cp) {
    if (cp < 0) return false;
    if (cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
        (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
        cp == 0x205F || cp == 0x3000)
        return true;
    return false;
}

static size_t cp_len(const char *s, size_t n, size_t i) {
    int k = hf_utf8_len((const unsigned char *)s + i, n - i);
    return k > 0 ? (size_t)k : 1;
}

vkt_status hf_added_split(const hf_trie *t, const hf_added_token *tokens, bool skip_special,
                          const char *text, size_t n, bool at_start, hf_text_fn on_text,
                          hf_token_fn on_token, void *user) {
    size_t done = 0; // text[0..done) has been handed out
    size_t i = 0;
    while (t->n > 0 && i < n) {
        size_t mlen = 0;
        int32_t k = longest_at(t, text + i, n - i, &mlen);
        if (k < 0) {
            i += cp_len(text, n, i);
            continue;
        }
        const hf_added_token *a = &tokens[k];
        size_t start = i, stop = i + mlen;
        i = stop;
        if (skip_special && a->special) continue;
        if (a->single_word &&
            (is_word_cp(cp_before(text, start)) || is_word_cp(cp_at(text, n, stop))))
            continue;
        if (a->lstrip) {
            while (start > done && is_space_cp(cp_before(text, start))) {
                size_t j = start - 1;
                while (j > 0 && ((unsigned char)text[j] & 0xC0) == 0x80) j--;
                start = j;
            }
        }
        if (a->rstrip) {
            while (stop < n && is_space_cp(cp_at(text, n, stop))) stop += cp_len(text, n, stop);
            i = stop;
        }
        if (start > done) VKT_TRY(on_text(user, text + done, start - done, at_start && done == 0));
        VKT_TRY(on_token(user, k));
        done = stop;
    }
    if (n > done) VKT_TRY(on_text(user, text + done, n - done, at_start && done == 0));
    return VKT_OK;
}
