// dataset.c: loading text and prompt/completion JSONL into tokens, and batching.
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "tokenizer.h"

vkt_status vkt_data_format_parse(const char *s, vkt_data_format *out, vkt_error *err) {
    if (!strcmp(s, "text")) *out = VKT_DATA_TEXT;
    else if (!strcmp(s, "jsonl")) *out = VKT_DATA_JSONL;
    else return vkt_fail(err, VKT_ERR_ARG, "data format '%s' (expected text or jsonl)", s);
    return VKT_OK;
}

static vkt_status read_all(const char *path, char **buf, size_t *len, vkt_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return vkt_fail(err, VKT_ERR_IO, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    while (b) {
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (n < cap) break;
        char *nb = realloc(b, cap *= 2);
        if (!nb) free(b);
        b = nb;
    }
    bool bad = ferror(f);
    fclose(f);
    if (!b) return vkt_fail(err, VKT_ERR_NOMEM, "%s: reading the file", path);
    if (bad) {
        free(b);
        return vkt_fail(err, VKT_ERR_IO, "%s: read error", path);
    }
    *buf = b;
    *len = n;
    return VKT_OK;
}

static vkt_status grow_tokens(vkt_dataset *d, size_t need, size_t *cap, vkt_error *err) {
    if (d->n_tokens + need <= *cap) return VKT_OK;
    size_t c = *cap ? *cap : 4096;
    while (c < d->n_tokens + need) c *= 2;
    int32_t *t = realloc(d->tokens, c * sizeof *t);
    if (!t) return vkt_fail(err, VKT_ERR_NOMEM, "dataset tokens");
    d->tokens = t;
    *cap = c;
    return VKT_OK;
}

static vkt_status load_jsonl(const char *path, const char *buf, size_t len, vkt_dataset *d, vkt_error *err) {
    size_t cap = 0, excap = 0;
    size_t line = 0;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) : len;
        line++;
        size_t a = pos;
        pos = end + 1;
        while (a < end && (buf[a] == ' ' || buf[a] == '\t' || buf[a] == '\r')) a++;
        if (a == end) continue; // blank line
        json_error_t je;
        json_t *o = json_loadb(buf + a, end - a, 0, &je);
        if (!o) return vkt_fail(err, VKT_ERR_FORMAT, "%s:%zu: %s", path, line, je.text);
        json_t *p = json_object_get(o, "prompt"), *c = json_object_get(o, "completion");
        if (!json_is_string(p) || !json_is_string(c)) {
            json_decref(o);
            return vkt_fail(err, VKT_ERR_FORMAT, "%s:%zu: expected {\"prompt\": string, \"completion\": string}", path,
                            line);
        }
        size_t pl = json_string_length(p), cl = json_string_length(c), got;
        vkt_status s = grow_tokens(d, pl + cl + 1, &cap, err);
        if (s == VKT_OK && d->n_ex == excap) {
            excap = excap ? 2 * excap : 256;
            vkt_example *e = realloc(d->ex, excap * sizeof *e);
            if (!e) s = vkt_fail(err, VKT_ERR_NOMEM, "dataset examples");
            else d->ex = e;
        }
        vkt_example *e = s == VKT_OK ? &d->ex[d->n_ex] : NULL;
        if (s == VKT_OK) {
            e->start = d->n_tokens;
            s = vkt_tokenizer_encode(json_string_value(p), pl, 0, d->tokens + d->n_tokens, pl, &got, err);
        }
        if (s == VKT_OK) {
            e->prompt_len = got;
            d->n_tokens += got;
            s = vkt_tokenizer_encode(json_string_value(c), cl, 0, d->tokens + d->n_tokens, cl, &got, err);
        }
        json_decref(o);
        if (s != VKT_OK) return vkt_fail_wrap(err, "%s:%zu", path, line);
        d->n_tokens += got;
        d->tokens[d->n_tokens++] = VKT_TOK_EOT;
        e->len = d->n_tokens - e->start;
        d->n_ex++;
    }
    if (d->n_ex < 2) return vkt_fail(err, VKT_ERR_FORMAT, "%s: %zu examples; need at least 2 (train and validation)", path, d->n_ex);
    return VKT_OK;
}

vkt_status vkt_dataset_load(const char *path, vkt_data_format fmt, double val_fraction, vkt_dataset *d,
                            vkt_error *err) {
    memset(d, 0, sizeof *d);
    d->format = fmt;
    if (!(val_fraction >= 0 && val_fraction < 1))
        return vkt_fail(err, VKT_ERR_ARG, "validation fraction %g must be in [0, 1)", val_fraction);
    char *buf = NULL;
    size_t len = 0;
    VKT_TRY(read_all(path, &buf, &len, err));
    vkt_status s = VKT_OK;
    if (fmt == VKT_DATA_TEXT) {
        if (len < 3) s = vkt_fail(err, VKT_ERR_FORMAT, "%s: %zu bytes of text; need at least 3", path, len);
        size_t cap = 0;
        if (s == VKT_OK) s = grow_tokens(d, len, &cap, err);
        if (s == VKT_OK) s = vkt_tokenizer_encode(buf, len, 0, d->tokens, len, &d->n_tokens, err);
        size_t val = (size_t)((double)d->n_tokens * val_fraction);
        if (val_fraction > 0 && val < 2) val = 2;
        d->train_tokens = d->n_tokens - val;
        if (s == VKT_OK && d->train_tokens < 2)
            s = vkt_fail(err, VKT_ERR_FORMAT, "%s: too little text for a training split", path);
    } else {
        s = load_jsonl(path, buf, len, d, err);
        size_t val = (size_t)((double)d->n_ex * val_fraction + 0.5);
        if (val_fraction > 0 && val < 1) val = 1;
        d->train_ex = d->n_ex - val;
    }
    free(buf);
    if (s != VKT_OK) vkt_dataset_free(d);
    return s;
}

void vkt_dataset_free(vkt_dataset *d) {
    free(d->tokens);
    free(d->ex);
    memset(d, 0, sizeof *d);
}

// One row from tokens src[0..n) (n <= T+1 used): inputs, next-token targets, weights.
// Targets at index t < prompt_len - 1 are prompt tokens (weight 0).
static void fill_row(const int32_t *src, size_t n, size_t prompt_len, int T, int32_t *tok, int32_t *tgt, float *w) {
    for (int t = 0; t < T; t++) {
        bool has = (size_t)t + 1 < n;
        tok[t] = (size_t)t < n ? src[t] : VKT_TOK_PAD;
        tgt[t] = has ? src[t + 1] : VKT_TOK_PAD;
        w[t] = has && (size_t)t + 1 >= prompt_len ? 1.0f : 0.0f;
    }
}

void vkt_dataset_train_batch(const vkt_dataset *d, int B, int T, vkt_rng *rng, int32_t *tokens, int32_t *targets,
                             float *weights) {
    for (int b = 0; b < B; b++) {
        int32_t *tok = tokens + (size_t)b * T, *tgt = targets + (size_t)b * T;
        float *w = weights + (size_t)b * T;
        if (d->format == VKT_DATA_TEXT) {
            size_t n = d->train_tokens < (size_t)T + 1 ? d->train_tokens : (size_t)T + 1;
            size_t start = vkt_rng_below(rng, d->train_tokens - n + 1);
            fill_row(d->tokens + start, n, 0, T, tok, tgt, w);
        } else {
            const vkt_example *e = &d->ex[vkt_rng_below(rng, d->train_ex ? d->train_ex : d->n_ex)];
            size_t n = e->len < (size_t)T + 1 ? e->len : (size_t)T + 1;
            fill_row(d->tokens + e->start, n, e->prompt_len, T, tok, tgt, w);
        }
    }
}

size_t vkt_dataset_val_batches(const vkt_dataset *d, int B, int T) {
    size_t rows;
    if (d->format == VKT_DATA_TEXT) {
        size_t val = d->n_tokens - d->train_tokens;
        rows = val < 2 ? 0 : (val - 1 + (size_t)T - 1) / (size_t)T;
    } else {
        rows = d->n_ex - d->train_ex;
    }
    return (rows + (size_t)B - 1) / (size_t)B;
}

bool vkt_dataset_val_batch(const vkt_dataset *d, size_t index, int B, int T, int32_t *tokens, int32_t *targets,
                           float *weights) {
    if (index >= vkt_dataset_val_batches(d, B, T)) return false;
    for (int b = 0; b < B; b++) {
        size_t row = index * (size_t)B + (size_t)b;
        int32_t *tok = tokens + (size_t)b * T, *tgt = targets + (size_t)b * T;
        float *w = weights + (size_t)b * T;
        fill_row(NULL, 0, 0, T, tok, tgt, w); // padding, weight 0
        if (d->format == VKT_DATA_TEXT) {
            // Non-overlapping windows: row r predicts tokens r*T+1 .. r*T+T of the split.
            size_t start = d->train_tokens + row * (size_t)T, end = d->n_tokens;
            if (start + 1 >= end) continue;
            size_t n = end - start < (size_t)T + 1 ? end - start : (size_t)T + 1;
            fill_row(d->tokens + start, n, 0, T, tok, tgt, w);
        } else {
            size_t e = d->train_ex + row;
            if (e >= d->n_ex) continue;
            const vkt_example *x = &d->ex[e];
            size_t n = x->len < (size_t)T + 1 ? x->len : (size_t)T + 1;
            fill_row(d->tokens + x->start, n, x->prompt_len, T, tok, tgt, w);
        }
    }
    return true;
}
