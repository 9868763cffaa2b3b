// dataset.c: tokenizing text and prompt/completion JSONL (with the model's tokenizer), and
// batching.
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"

vkt_status vkt_data_format_parse(const char *s, vkt_data_format *out, vkt_error *err) {
    if (!strcmp(s, "text"))
        *out = VKT_DATA_TEXT;
    else if (!strcmp(s, "jsonl"))
        *out = VKT_DATA_JSONL;
    else
        return vkt_fail(err, VKT_ERR_ARG, "data format '%s' (expected text or jsonl)", s);
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

// Room for len more ids (at least): the byte tokenizer then writes in place, and many
// examples cost amortised O(1) each.
static vkt_status reserve(vkt_tokens *t, size_t len, vkt_error *err) {
    if (t->n + len + 2 <= t->cap) return VKT_OK;
    size_t c = t->cap ? t->cap : 4096;
    while (c < t->n + len + 2) c *= 2;
    int32_t *q = realloc(t->ids, c * sizeof *q);
    if (!q) return vkt_fail(err, VKT_ERR_NOMEM, "dataset tokens");
    t->ids = q, t->cap = c;
    return VKT_OK;
}

unsigned vkt_dataset_text_flags(const vkt_tok *tok) {
    return vkt_tok_kind_of(tok) == VKT_TOK_HF ? VKT_TOKF_PARSE_SPECIAL : 0;
}

static vkt_status encode(vkt_tok *tok, const char *text, size_t len, unsigned flags,
                         vkt_tokens *all, vkt_error *err) {
    VKT_TRY(reserve(all, len, err));
    return vkt_tok_encode(tok, text, len, flags, all, err);
}

static vkt_status load_jsonl(const char *path, const char *buf, size_t len, vkt_tok *tok,
                             vkt_tokens *all, vkt_dataset *d, vkt_error *err) {
    int n_eos = 0;
    const int32_t *eos = vkt_tok_eos_ids(tok, &n_eos);
    if (n_eos < 1)
        return vkt_fail(err, VKT_ERR_ARG,
                        "%s: the tokenizer has no end-of-sequence token to end examples with",
                        path);
    const unsigned flags = vkt_dataset_text_flags(tok);
    size_t excap = 0;
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
            return vkt_fail(err, VKT_ERR_FORMAT,
                            "%s:%zu: expected {\"prompt\": string, \"completion\": string}", path,
                            line);
        }
        vkt_status s = VKT_OK;
        if (d->n_ex == excap) {
            excap = excap ? 2 * excap : 256;
            vkt_example *e = realloc(d->ex, excap * sizeof *e);
            if (!e)
                s = vkt_fail(err, VKT_ERR_NOMEM, "dataset examples");
            else
                d->ex = e;
        }
        vkt_example *e = s == VKT_OK ? &d->ex[d->n_ex] : NULL;
        if (s == VKT_OK) {
            e->start = all->n;
            s = encode(tok, json_string_value(p), json_string_length(p),
                       flags | VKT_TOKF_ADD_SPECIAL, all, err);
        }
        if (s == VKT_OK) {
            e->prompt_len = all->n - e->start;
            s = encode(tok, json_string_value(c), json_string_length(c), flags, all, err);
        }
        if (s == VKT_OK) s = vkt_tokens_push(all, eos[0], err);
        json_decref(o);
        if (s != VKT_OK) return vkt_fail_wrap(err, "%s:%zu", path, line);
        e->len = all->n - e->start;
        d->n_ex++;
    }
    if (d->n_ex < 2)
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "%s: %zu examples; need at least 2 (train and validation)", path, d->n_ex);
    return VKT_OK;
}

vkt_status vkt_dataset_load_tok(const char *path, vkt_data_format fmt, double val_fraction,
                                vkt_tok *tok, vkt_dataset *d, vkt_error *err) {
    memset(d, 0, sizeof *d);
    d->format = fmt;
    d->pad = vkt_tok_pad_id(tok);
    if (!(val_fraction >= 0 && val_fraction < 1))
        return vkt_fail(err, VKT_ERR_ARG, "validation fraction %g must be in [0, 1)", val_fraction);
    char *buf = NULL;
    size_t len = 0;
    VKT_TRY(read_all(path, &buf, &len, err));
    vkt_status s = VKT_OK;
    vkt_tokens all = {0};
    if (fmt == VKT_DATA_TEXT) {
        if (len < 3)
            s = vkt_fail(err, VKT_ERR_FORMAT, "%s: %zu bytes of text; need at least 3", path, len);
        if (s == VKT_OK &&
            (s = encode(tok, buf, len, vkt_dataset_text_flags(tok), &all, err)) != VKT_OK)
            vkt_fail_wrap(err, "%s", path);
        d->tokens = all.ids, d->n_tokens = all.n;
        size_t val = (size_t)((double)d->n_tokens * val_fraction);
        if (val_fraction > 0 && val < 2) val = 2;
        d->train_tokens = d->n_tokens > val ? d->n_tokens - val : 0;
        if (s == VKT_OK && d->train_tokens < 2)
            s = vkt_fail(err, VKT_ERR_FORMAT, "%s: too little text for a training split", path);
    } else {
        s = load_jsonl(path, buf, len, tok, &all, d, err);
        d->tokens = all.ids, d->n_tokens = all.n;
        size_t val = (size_t)((double)d->n_ex * val_fraction + 0.5);
        if (val_fraction > 0 && val < 1) val = 1;
        d->train_ex = d->n_ex - val;
        // Training on the held-out examples would make the validation loss meaningless.
        if (s == VKT_OK && d->train_ex == 0)
            s = vkt_fail(err, VKT_ERR_ARG,
                         "%s: the validation fraction %g holds out all %zu examples, leaving none "
                         "to train on "
                         "(lower --val-fraction)",
                         path, val_fraction, d->n_ex);
    }
    free(buf);
    if (s != VKT_OK) vkt_dataset_free(d);
    return s;
}

vkt_status vkt_dataset_load(const char *path, vkt_data_format fmt, double val_fraction,
                            vkt_dataset *d, vkt_error *err) {
    vkt_tok *tok;
    memset(d, 0, sizeof *d);
    VKT_TRY(vkt_tok_byte(&tok, err));
    vkt_status s = vkt_dataset_load_tok(path, fmt, val_fraction, tok, d, err);
    vkt_tok_free(tok);
    return s;
}

void vkt_dataset_free(vkt_dataset *d) {
    free(d->tokens);
    free(d->ex);
    memset(d, 0, sizeof *d);
}

// One row from tokens src[0..n) (n <= T+1 used): inputs, next-token targets, weights.
// Targets at index t < prompt_len - 1 are prompt tokens (weight 0).
static void fill_row(const int32_t *src, size_t n, size_t prompt_len, int32_t pad, int T,
                     int32_t *tok, int32_t *tgt, float *w) {
    for (int t = 0; t < T; t++) {
        bool has = (size_t)t + 1 < n;
        tok[t] = (size_t)t < n ? src[t] : pad;
        tgt[t] = has ? src[t + 1] : pad;
        w[t] = has && (size_t)t + 1 >= prompt_len ? 1.0f : 0.0f;
    }
}

void vkt_dataset_train_batch(const vkt_dataset *d, int B, int T, vkt_rng *rng, int32_t *tokens,
                             int32_t *targets, float *weights) {
    for (int b = 0; b < B; b++) {
        int32_t *tok = tokens + (size_t)b * T, *tgt = targets + (size_t)b * T;
        float *w = weights + (size_t)b * T;
        if (d->format == VKT_DATA_TEXT) {
            size_t n = d->train_tokens < (size_t)T + 1 ? d->train_tokens : (size_t)T + 1;
            size_t start = vkt_rng_below(rng, d->train_tokens - n + 1);
            fill_row(d->tokens + start, n, 0, d->pad, T, tok, tgt, w);
        } else {
            const vkt_example *e = &d->ex[vkt_rng_below(rng, d->train_ex ? d->train_ex : d->n_ex)];
            size_t n = e->len < (size_t)T + 1 ? e->len : (size_t)T + 1;
            fill_row(d->tokens + e->start, n, e->prompt_len, d->pad, T, tok, tgt, w);
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

bool vkt_dataset_val_batch(const vkt_dataset *d, size_t index, int B, int T, int32_t *tokens,
                           int32_t *targets, float *weights) {
    if (index >= vkt_dataset_val_batches(d, B, T)) return false;
    for (int b = 0; b < B; b++) {
        size_t row = index * (size_t)B + (size_t)b;
        int32_t *tok = tokens + (size_t)b * T, *tgt = targets + (size_t)b * T;
        float *w = weights + (size_t)b * T;
        fill_row(NULL, 0, 0, d->pad, T, tok, tgt, w); // padding, weight 0
        if (d->format == VKT_DATA_TEXT) {
            // Non-overlapping windows: row r predicts tokens r*T+1 .. r*T+T of the split.
            size_t start = d->train_tokens + row * (size_t)T, end = d->n_tokens;
            if (start + 1 >= end) continue;
            size_t n = end - start < (size_t)T + 1 ? end - start : (size_t)T + 1;
            fill_row(d->tokens + start, n, 0, d->pad, T, tok, tgt, w);
        } else {
            size_t e = d->train_ex + row;
            if (e >= d->n_ex) continue;
            const vkt_example *x = &d->ex[e];
            size_t n = x->len < (size_t)T + 1 ? x->len : (size_t)T + 1;
            fill_row(d->tokens + x->start, n, x->prompt_len, d->pad, T, tok, tgt, w);
        }
    }
    return true;
}

// An example's row keeps min(len, T + 1) tokens; target t + 1 is trained when t + 1 <
// kept and t + 1 >= prompt_len (fill_row), so some token is trained iff kept > max(prompt_len, 1).
static bool example_trains(const vkt_example *e, int T) {
    size_t kept = e->len < (size_t)T + 1 ? e->len : (size_t)T + 1;
    size_t need = e->prompt_len > 1 ? e->prompt_len : 1;
    return kept > need;
}

vkt_status vkt_dataset_check_context(const vkt_dataset *d, const char *path, int T,
                                     size_t *masked_train, size_t *masked_val, vkt_error *err) {
    size_t mt = 0, mv = 0;
    if (masked_train) *masked_train = 0;
    if (masked_val) *masked_val = 0;
    if (T < 1) return vkt_fail(err, VKT_ERR_ARG, "%s: context %d must be >= 1", path, T);
    if (d->format != VKT_DATA_JSONL) return VKT_OK;
    for (size_t i = 0; i < d->n_ex; i++)
        if (!example_trains(&d->ex[i], T)) *(i < d->train_ex ? &mt : &mv) += 1;
    if (masked_train) *masked_train = mt;
    if (masked_val) *masked_val = mv;
    size_t n_val = d->n_ex - d->train_ex;
    if (d->train_ex > 0 && mt == d->train_ex)
        return vkt_fail(
            err, VKT_ERR_FORMAT,
            "%s: every one of the %zu training examples has its prompt filling the context of %d "
            "tokens, "
            "so no completion token would be trained (raise --seq or shorten the prompts)",
            path, d->train_ex, T);
    if (n_val > 0 && mv == n_val)
        return vkt_fail(
            err, VKT_ERR_FORMAT,
            "%s: every one of the %zu validation examples has its prompt filling the context of %d "
            "tokens: the validation loss would average over no token (raise --seq or shorten the "
            "prompts)",
            path, n_val, T);
    return VKT_OK;
}
