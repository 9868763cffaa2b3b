// gen_text.c: streamed text, stop strings and decoded text of generated samples
// (gen_text.h).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_text.h"

// The bytes of id: the tokenizer's, or "<|id|>" for an id it does not have (a model's
// vocabulary may be larger than its tokenizer's). Returns the length; writes at most cap.
static size_t token_bytes(const vkt_tok *tok, int32_t id, char *buf, size_t cap) {
    int n = vkt_tok_token_bytes(tok, id, buf, cap);
    if (n >= 0) return (size_t)n;
    char unk[32];
    size_t k = (size_t)snprintf(unk, sizeof unk, "<|%d|>", (int)id);
    if (buf) memcpy(buf, unk, k < cap ? k : cap);
    return k;
}

static bool reserve(char **p, size_t *cap, size_t need) {
    if (need <= *cap) return true;
    size_t nc = need * 2;
    char *t = realloc(*p, nc);
    if (!t) return false;
    *p = t, *cap = nc;
    return true;
}

bool vkt_gen_text_append(const vkt_tok *tok, vkt_gen_result *r, size_t *cap, int32_t id) {
    size_t n = token_bytes(tok, id, NULL, 0);
    if (!reserve(&r->text, cap, r->text_len + n + 1)) return false;
    token_bytes(tok, id, r->text + r->text_len, n);
    r->text_len += n;
    r->text[r->text_len] = 0;
    return true;
}

int vkt_gen_text_stop(const vkt_tok *tok, const vkt_gen_result *r, size_t from,
                      const char *const *stop, int n_stop, size_t *at) {
    // Byte tokens add one byte each: "ends with" is the whole rule, and a special token's
    // name is not searched inside (as before tokenizer.json models existed).
    const bool anywhere = vkt_tok_kind_of(tok) == VKT_TOK_HF;
    for (int k = 0; k < n_stop; k++) {
        size_t sl = strlen(stop[k]);
        if (r->text_len < sl) continue;
        if (!anywhere) {
            if (!memcmp(r->text + r->text_len - sl, stop[k], sl)) return *at = r->text_len - sl, k;
            continue;
        }
        size_t lo = from + 1 >= sl ? from + 1 - sl : 0; // a match must end past `from`
        const char *hit = memmem(r->text + lo, r->text_len - lo, stop[k], sl);
        if (hit) return *at = (size_t)(hit - r->text), k;
    }
    return -1;
}

// Appends the decoded text of ids[0..n) to *b: runs of ids the tokenizer has are decoded
// together; any other id is written as "<|id|>".
static vkt_status decode_ids(vkt_tok *tok, const int32_t *ids, size_t n, char **b, size_t *len,
                             size_t *cap, vkt_error *err) {
    const int V = vkt_tok_vocab_size(tok);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && ids[j] >= 0 && ids[j] < V) j++;
        char *piece = NULL, unk[32];
        size_t pn = 0;
        if (j > i) {
            VKT_TRY(vkt_tok_decode(tok, ids + i, j - i, 0, &piece, &pn, err));
        } else {
            pn = (size_t)snprintf(unk, sizeof unk, "<|%d|>", (int)ids[i]);
            j = i + 1;
        }
        bool ok = reserve(b, cap, *len + pn + 1);
        if (ok) memcpy(*b + *len, piece ? piece : unk, pn), *len += pn, (*b)[*len] = 0;
        free(piece);
        if (!ok) return vkt_fail(err, VKT_ERR_NOMEM, "generate: decoding %zu tokens", n);
        i = j;
    }
    return VKT_OK;
}

vkt_status vkt_gen_text_finish(vkt_tok *tok, vkt_gen_result *r, int n_tokens, vkt_error *err) {
    if (vkt_tok_kind_of(tok) != VKT_TOK_HF) return VKT_OK;
    // Tokens whose bytes lie wholly within the kept text; the rest of it is a partial token.
    size_t keep = r->text_len, at = 0;
    int j = 0;
    while (j < n_tokens) {
        size_t n = token_bytes(tok, r->tokens[j], NULL, 0);
        if (at + n > keep) break;
        at += n, j++;
    }
    char *b = NULL;
    size_t len = 0, cap = 0;
    if (!reserve(&b, &cap, 64)) return vkt_fail(err, VKT_ERR_NOMEM, "generate: text");
    b[0] = 0;
    vkt_status s = decode_ids(tok, r->tokens, (size_t)j, &b, &len, &cap, err);
    if (s == VKT_OK && !reserve(&b, &cap, len + keep - at + 1))
        s = vkt_fail(err, VKT_ERR_NOMEM, "generate: text");
    if (s != VKT_OK) {
        free(b);
        return s;
    }
    memcpy(b + len, r->text + at, keep - at);
    len += keep - at;
    b[len] = 0;
    free(r->text);
    r->text = b, r->text_len = len;
    return VKT_OK;
}
