// tokenizer.c: see tokenizer.h.
#include "tokenizer.h"

#include <string.h>

static const char *const special_names[VKT_TOK_VOCAB - 256] = {
    "<|endoftext|>", "<|pad|>", "<|system|>", "<|user|>", "<|assistant|>"};

const char *vkt_tokenizer_special_name(int32_t id) {
    return id >= 256 && id < VKT_TOK_VOCAB ? special_names[id - 256] : NULL;
}

int32_t vkt_tokenizer_special_id(const char *name) {
    for (int i = 0; i < VKT_TOK_VOCAB - 256; i++)
        if (strcmp(name, special_names[i]) == 0) return 256 + i;
    return -1;
}

// The special token whose name starts at text[i], or -1.
static int32_t special_at(const char *text, size_t len, size_t i, size_t *name_len) {
    if (len - i < 4 || text[i] != '<' || text[i + 1] != '|') return -1;
    for (int k = 0; k < VKT_TOK_VOCAB - 256; k++) {
        size_t m = strlen(special_names[k]);
        if (m <= len - i && memcmp(text + i, special_names[k], m) == 0) {
            *name_len = m;
            return 256 + k;
        }
    }
    return -1;
}

vkt_status vkt_tokenizer_encode(const char *text, size_t len, unsigned flags, int32_t *ids,
                                size_t cap, size_t *n_out, vkt_error *err) {
    if (!text && len) return vkt_fail(err, VKT_ERR_ARG, "tokenizer: NULL text");
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        size_t m = 1;
        int32_t id = (flags & VKT_TOK_PARSE_SPECIAL) ? special_at(text, len, i, &m) : -1;
        if (id < 0) {
            id = (unsigned char)text[i];
            m = 1;
        }
        if (ids && n < cap) ids[n] = id;
        n++;
        i += m;
    }
    if (n_out) *n_out = n;
    if (ids && n > cap)
        return vkt_fail(err, VKT_ERR_ARG, "tokenizer: text needs %zu ids, buffer holds %zu", n,
                        cap);
    return VKT_OK;
}

vkt_status vkt_tokenizer_decode(const int32_t *ids, size_t n, unsigned flags, char *out, size_t cap,
                                size_t *n_out, vkt_error *err) {
    if (!ids && n) return vkt_fail(err, VKT_ERR_ARG, "tokenizer: NULL ids");
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (id < 0 || id >= VKT_TOK_VOCAB)
            return vkt_fail(err, VKT_ERR_ARG,
                            "tokenizer: id %d at position %zu is outside the vocabulary 0..%d", id,
                            i, VKT_TOK_VOCAB - 1);
        if (id < 256) {
            if (out && len + 1 < cap) out[len] = (char)id;
            len++;
        } else if (!(flags & VKT_TOK_SKIP_SPECIAL)) {
            const char *s = special_names[id - 256];
            size_t m = strlen(s);
            if (out && len + m < cap) memcpy(out + len, s, m);
            len += m;
        }
    }
    if (n_out) *n_out = len;
    if (out) {
        if (len + 1 > cap)
            return vkt_fail(err, VKT_ERR_ARG,
                            "tokenizer: decoded text needs %zu bytes, buffer holds %zu", len + 1,
                            cap);
        out[len] = 0;
    }
    return VKT_OK;
}
