// steer.c: activation capture and steering directions (see steer.h, docs/steering.md).
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "op_embedding.h"
#include "steer.h"
#include "tokenizer.h"

// --- names --------------------------------------------------------------------------

static const char *const pos_names[] = {"last", "all", "response"};
static const char *const method_names[] = {"mean", "pca"};

vkt_status vkt_steer_pos_parse(const char *s, vkt_steer_pos *out, vkt_error *err) {
    for (int i = 0; i < 3; i++)
        if (s && !strcmp(s, pos_names[i])) return *out = (vkt_steer_pos)i, VKT_OK;
    return vkt_fail(err, VKT_ERR_ARG, "positions '%s': expected last, all or response",
                    s ? s : "(null)");
}
const char *vkt_steer_pos_name(vkt_steer_pos p) { return (unsigned)p < 3 ? pos_names[p] : "?"; }

vkt_status vkt_steer_method_parse(const char *s, vkt_steer_method *out, vkt_error *err) {
    for (int i = 0; i < 2; i++)
        if (s && !strcmp(s, method_names[i])) return *out = (vkt_steer_method)i, VKT_OK;
    return vkt_fail(err, VKT_ERR_ARG, "method '%s': expected mean or pca", s ? s : "(null)");
}
const char *vkt_steer_method_name(vkt_steer_method m) {
    return (unsigned)m < 2 ? method_names[m] : "?";
}

static bool parse_int(const char **p, long *v) {
    char *end;
    if (**p < '0' || **p > '9') return false;
    errno = 0;
    *v = strtol(*p, &end, 10);
    if (errno || *v > 1000000) return false;
    *p = end;
    return true;
}

vkt_status vkt_steer_parse_layers(const char *s, int L, int lo, int *first, int *last,
                                  vkt_error *err) {
    const char *p = s ? s : "";
    long a, b;
    bool ok = parse_int(&p, &a);
    b = a;
    if (ok && *p == '-') {
        p++;
        ok = parse_int(&p, &b);
    }
    if (!ok || *p)
        return vkt_fail(err, VKT_ERR_ARG, "layers '%s': expected A-B or A (block outputs %d..%d)",
                        s ? s : "", lo, L - 1);
    if (a < lo || b > L - 1 || a > b)
        return vkt_fail(err, VKT_ERR_ARG,
                        "layers %ld-%ld out of range: the model has %d blocks, layers numbered "
                        "%d..%d here (layer N = "
                        "output of block N counted from 0, as llama.cpp applies direction.N%s)",
                        a, b, L, lo, L - 1, lo ? "; there is no direction.0" : "");
    *first = (int)a, *last = (int)b;
    return VKT_OK;
}

// --- prompt files -------------------------------------------------------------------

void vkt_steer_prompts_free(vkt_steer_prompts *p) {
    if (!p) return;
    free(p->p), free(p->line), free(p->tokens);
    memset(p, 0, sizeof *p);
}

// Unescapes \n \t \r \\ in place (other backslashes are kept as they are); returns the length.
static size_t unescape(char *s, size_t n) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n) {
            char c = s[i + 1], r = 0;
            if (c == 'n')
                r = '\n';
            else if (c == 't')
                r = '\t';
            else if (c == 'r')
                r = '\r';
            else if (c == '\\')
                r = '\\';
            if (r) {
                s[o++] = r, i++;
                continue;
            }
        }
        s[o++] = s[i];
    }
    return o;
}

vkt_status vkt_steer_prompts_parse_tok(vkt_tok *tok, const char *text, size_t len, const char *name,
                                       const char *boundary, vkt_steer_prompts *out,
                                       vkt_error *err) {
    memset(out, 0, sizeof *out);
    size_t lines = 1;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    char *buf = malloc(len + 1);
    out->p = calloc(lines, sizeof *out->p);
    out->line = calloc(lines, sizeof *out->line);
    if (!buf || !out->p || !out->line) {
        free(buf);
        vkt_steer_prompts_free(out);
        return vkt_fail(err, VKT_ERR_NOMEM, "%s: prompts", name);
    }
    // A prompt starts as a tokenizer's text does (its BOS, where it adds one); the
    // response after a boundary continues it.
    const unsigned first = VKT_TOKF_PARSE_SPECIAL | VKT_TOKF_ADD_SPECIAL,
                   rest = VKT_TOKF_PARSE_SPECIAL;
    vkt_tokens all = {0};
    vkt_status s = VKT_OK;
    size_t start = 0;
    int lineno = 0;
    while (start <= len && s == VKT_OK) {
        size_t end = start;
        while (end < len && text[end] != '\n') end++;
        lineno++;
        size_t n = end - start;
        if (n && text[start + n - 1] == '\r') n--;
        memcpy(buf, text + start, n);
        n = unescape(buf, n);
        start = end + 1;
        if (n == 0) continue;
        const size_t at = all.n;
        size_t cut = 0;
        if (boundary) {
            const char *hit = memmem(buf, n, boundary, strlen(boundary));
            if (!hit || !*boundary) {
                s = vkt_fail(err, VKT_ERR_ARG, "%s:%d: no response boundary '%s' in the line", name,
                             lineno, boundary);
                break;
            }
            size_t pre = (size_t)(hit - buf) + strlen(boundary);
            s = vkt_tok_encode(tok, buf, pre, first, &all, err);
            cut = all.n - at;
            if (s == VKT_OK) s = vkt_tok_encode(tok, buf + pre, n - pre, rest, &all, err);
            if (s == VKT_OK && all.n == at + cut)
                s = vkt_fail(err, VKT_ERR_ARG, "%s:%d: nothing after the response boundary '%s'",
                             name, lineno, boundary);
        } else {
            s = vkt_tok_encode(tok, buf, n, first, &all, err);
        }
        if (s == VKT_OK && all.n - at > 0x7fffffff)
            s = vkt_fail(err, VKT_ERR_ARG, "%s:%d: too many tokens", name, lineno);
        if (s != VKT_OK) break;
        out->p[out->n] = (vkt_steer_prompt){NULL, (int)(all.n - at), (int)cut};
        out->line[out->n] = lineno;
        out->n++;
    }
    free(buf);
    out->tokens = all.ids;
    if (s == VKT_OK && out->n == 0)
        s = vkt_fail(err, VKT_ERR_ARG, "%s: no prompts (the file has no non-empty line)", name);
    if (s != VKT_OK) {
        vkt_steer_prompts_free(out);
        return s;
    }
    // Pointers only now: the token list grew while the lines were read.
    size_t off = 0;
    for (int i = 0; i < out->n; i++)
        out->p[i].tokens = out->tokens + off, off += (size_t)out->p[i].n;
    return VKT_OK;
}

vkt_status vkt_steer_prompts_parse(const char *text, size_t len, const char *name,
                                   const char *boundary, vkt_steer_prompts *out, vkt_error *err) {
    vkt_tok *tok;
    memset(out, 0, sizeof *out);
    VKT_TRY(vkt_tok_byte(&tok, err));
    vkt_status s = vkt_steer_prompts_parse_tok(tok, text, len, name, boundary, out, err);
    vkt_tok_free(tok);
    return s;
}

vkt_status vkt_steer_prompts_read(const char *path, const char *boundary, vkt_steer_prompts *out,
                                  vkt_error *err) {
    vkt_tok *tok;
    memset(out, 0, sizeof *out);
    VKT_TRY(vkt_tok_byte(&tok, err));
    vkt_status s = vkt_steer_prompts_read_tok(tok, path, boundary, out, err);
    vkt_tok_free(tok);
    return s;
}

vkt_status vkt_steer_prompts_read_tok(vkt_tok *tok, const char *path, const char *boundary,
                                      vkt_steer_prompts *out, vkt_error *err) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return vkt_fail(err, VKT_ERR_IO, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *text = malloc(cap);
    while (text) {
        size_t got = fread(text + len, 1, cap - len, f);
        len += got;
        if (len < cap) break;
        char *t = realloc(text, cap *= 2);
        if (!t) free(text);
        text = t;
    }
    bool bad = ferror(f);
    fclose(f);
    if (!text) return vkt_fail(err, VKT_ERR_NOMEM, "%s", path);
    if (bad) {
        free(text);
        return vkt_fail(err, VKT_ERR_IO, "%s: read error", path);
    }
    vkt_status s = vkt_steer_prompts_parse_tok(tok, text, len, path, boundary, out, err);
    free(text);
    return s;
}

// --- capture ------------------------------------------------------------------------

void vkt_steer_acts_free(vkt_steer_acts *a) {
    if (!a) return;
    free(a->data), free(a->prompt_index), free(a->token_index);
    memset(a, 0, sizeof *a);
}

const float *vkt_steer_acts_layer(const vkt_steer_acts *a, int layer) {
    if (!a->data || layer < a->first_layer || layer >= a->first_layer + a->n_layers) return NULL;
    return a->data + (size_t)(layer - a->first_layer) * (size_t)a->rows * (size_t)a->C;
}

// First captured position of a prompt and the number of rows it gives.
static void rows_of(const vkt_steer_prompt *p, vkt_steer_pos pos, int *t0, int *nr) {
    if (pos == VKT_STEER_POS_LAST)
        *t0 = p->n - 1, *nr = 1;
    else if (pos == VKT_STEER_POS_ALL)
        *t0 = 0, *nr = p->n;
    else
        *t0 = p->response_start, *nr = p->n - p->response_start;
}

typedef struct hook_state {
    int first, last;       // 0-based blocks whose outputs are captured
    int C, R;              // rows gathered this batch
    vkt_embedding_ids ids; // row indices into the (N, C) residual
    vkt_view cap;          // (n_layers, R, C) this batch
} hook_state;

// After block l: rows of its output (layer l + 1) -> slot l - first of the capture buffer.
static vkt_status capture_hook(void *user, vkt_model *m, int l, vkt_view resid, int N) {
    hook_state *h = user;
    if (l < h->first || l > h->last) return VKT_OK;
    vkt_view dst =
        vkt_view_f32(h->cap, (uint64_t)(l - h->first) * h->R * h->C, (uint64_t)h->R * h->C);
    return vkt_embedding_fwd(vkt_model_ctx(m), &h->ids, h->C, resid, (vkt_view){0}, dst);
}

static int cmp_len_desc(const void *a, const void *b, void *lens) {
    const int *n = lens;
    int x = *(const int *)a, y = *(const int *)b;
    if (n[x] != n[y]) return n[y] - n[x];
    return x - y;
}

// Checks the positions, layers and prompts; *rows: the rows they give.
static vkt_status check_capture(const vkt_model_config *c, const vkt_steer_prompt *prompts,
                                int n_prompts, int first_layer, int last_layer, vkt_steer_pos pos,
                                int64_t *rows, vkt_error *err) {
    const int L = c->layers, V = c->vocab, Tctx = c->context;
    if ((unsigned)pos > VKT_STEER_POS_RESPONSE)
        return vkt_fail(err, VKT_ERR_ARG, "steer capture: bad positions %d", pos);
    if (first_layer < 0 || last_layer > L - 1 || first_layer > last_layer)
        return vkt_fail(err, VKT_ERR_ARG,
                        "steer capture: layers %d-%d out of range (the model has layers 0..%d)",
                        first_layer, last_layer, L - 1);
    if (n_prompts < 1) return vkt_fail(err, VKT_ERR_ARG, "steer capture: no prompts");
    *rows = 0;
    for (int i = 0; i < n_prompts; i++) {
        const vkt_steer_prompt *p = &prompts[i];
        if (p->n < 1 || !p->tokens)
            return vkt_fail(err, VKT_ERR_ARG, "steer capture: prompt %d is empty", i);
        if (p->n > Tctx)
            return vkt_fail(err, VKT_ERR_ARG,
                            "steer capture: prompt %d has %d tokens, more than the model's "
                            "context %d",
                            i, p->n, Tctx);
        if (pos == VKT_STEER_POS_RESPONSE && (p->response_start < 0 || p->response_start >= p->n))
            return vkt_fail(err, VKT_ERR_ARG,
                            "steer capture: prompt %d: response_start %d is not a token of its %d "
                            "(positions response needs at least one response token)",
                            i, p->response_start, p->n);
        for (int t = 0; t < p->n; t++)
            if (p->tokens[t] < 0 || p->tokens[t] >= V)
                return vkt_fail(err, VKT_ERR_ARG,
                                "steer capture: prompt %d token %d is %d, outside the vocabulary "
                                "[0, %d)",
                                i, t, p->tokens[t], V);
        int t0, nr;
        rows_of(p, pos, &t0, &nr);
        *rows += nr;
    }
    return VKT_OK;
}

// One capture: the prompts, the batching and the buffers its batches share.
typedef struct capture_job {
    vkt_model *m;
    vkt_ctx *ctx;
    const vkt_steer_prompt *prompts;
    int n_prompts, first, last, nl, C, B, Tctx;
    vkt_steer_pos pos;
    int32_t pad;
    int *order, *lens; // prompts longest first; their lengths
    int64_t *off;      // each prompt's first row in out
    vkt_buffer *capbuf, *idbuf;
    int32_t *tok, *sel;
    float *host;
    vkt_steer_acts *out;
} capture_job;

// Each row's prompt and token in out, each prompt's first row, the batch order; returns the
// most rows one batch gives.
static int64_t index_rows(capture_job *j) {
    vkt_steer_acts *out = j->out;
    int64_t r = 0, Rmax = 0;
    for (int i = 0; i < j->n_prompts; i++) {
        int t0, nr;
        rows_of(&j->prompts[i], j->pos, &t0, &nr);
        j->off[i] = r;
        for (int k = 0; k < nr; k++) out->prompt_index[r + k] = i, out->token_index[r + k] = t0 + k;
        r += nr;
        j->order[i] = i, j->lens[i] = j->prompts[i].n;
    }
    // Longest first, so each batch's padding is at most the spread of similar lengths.
    qsort_r(j->order, (size_t)j->n_prompts, sizeof *j->order, cmp_len_desc, j->lens);
    for (int b0 = 0; b0 < j->n_prompts; b0 += j->B) {
        int64_t R = 0;
        for (int q = b0; q < j->n_prompts && q < b0 + j->B; q++) {
            int t0, nr;
            rows_of(&j->prompts[j->order[q]], j->pos, &t0, &nr);
            R += nr;
        }
        if (R > Rmax) Rmax = R;
    }
    return Rmax;
}

// The device and host buffers for batches of up to Rmax rows.
static vkt_status make_buffers(capture_job *j, int64_t Rmax) {
    vkt_error *err = vkt_ctx_err(j->ctx);
    const int B = j->B, Tctx = j->Tctx;
    vkt_status s = VKT_OK;
    if (Rmax * (int64_t)B > 0x7fffffff || (int64_t)B * Tctx > 0x7fffffff)
        s = vkt_fail(err, VKT_ERR_ARG, "steer capture: batch too large");
    if (s == VKT_OK) s = vkt_buffer_create(j->ctx, (uint64_t)j->nl * Rmax * j->C * 4, &j->capbuf);
    if (s == VKT_OK)
        s = vkt_buffer_create(j->ctx, vkt_embedding_ids_bytes((int)Rmax, false), &j->idbuf);
    j->tok = malloc((size_t)B * Tctx * sizeof *j->tok);
    j->sel = malloc((size_t)Rmax * sizeof *j->sel);
    j->host = malloc((size_t)j->nl * Rmax * j->C * sizeof *j->host);
    if (s == VKT_OK && (!j->tok || !j->sel || !j->host))
        s = vkt_fail(err, VKT_ERR_NOMEM, "steer capture: batch buffers");
    return s;
}

// The batch of prompts order[b0..]: forward with the capture hook, rows into out.
static vkt_status capture_batch(const capture_job *j, int b0) {
    const int B = j->B, C = j->C, nl = j->nl;
    int nb = j->n_prompts - b0 < B ? j->n_prompts - b0 : B, T = 0;
    for (int q = 0; q < nb; q++) T = j->lens[j->order[b0 + q]] > T ? j->lens[j->order[b0 + q]] : T;
    T = (T + 7) / 8 * 8;
    if (T > j->Tctx) T = j->Tctx;
    int R = 0;
    for (int q = 0; q < B * T; q++) j->tok[q] = j->pad;
    for (int q = 0; q < nb; q++) {
        const vkt_steer_prompt *p = &j->prompts[j->order[b0 + q]];
        memcpy(j->tok + (size_t)q * T, p->tokens, (size_t)p->n * sizeof *j->tok);
        int t0, nr;
        rows_of(p, j->pos, &t0, &nr);
        for (int k = 0; k < nr; k++) j->sel[R++] = q * T + t0 + k;
    }
    hook_state h = {.first = j->first, .last = j->last, .C = C, .R = R};
    h.cap = vkt_view_f32(vkt_view_all(j->capbuf), 0, (uint64_t)nl * R * C);
    vkt_status s = vkt_model_plan(j->m, B, T);
    if (s == VKT_OK) s = vkt_model_set_batch(j->m, j->tok, NULL, NULL);
    if (s == VKT_OK)
        s = vkt_embedding_ids_upload(j->ctx, R, B * T, 0, j->sel, NULL, vkt_view_all(j->idbuf),
                                     &h.ids);
    if (s == VKT_OK) s = vkt_model_forward(j->m, capture_hook, &h);
    if (s == VKT_OK) s = vkt_download(j->ctx, h.cap, j->host, (uint64_t)nl * R * C * 4);
    if (s != VKT_OK) {
        vkt_fail_wrap(vkt_ctx_err(j->ctx), "steer capture");
        return s;
    }
    // Batch order -> prompt order: each prompt's rows are contiguous in both.
    const int64_t rows = j->out->rows;
    for (int k = 0; k < nl; k++) {
        const float *src = j->host + (size_t)k * R * C;
        for (int q = 0; q < nb; q++) {
            int i = j->order[b0 + q], t0, nr;
            rows_of(&j->prompts[i], j->pos, &t0, &nr);
            memcpy(j->out->data + ((size_t)k * rows + (size_t)j->off[i]) * C, src,
                   (size_t)nr * C * sizeof *src);
            src += (size_t)nr * C;
        }
    }
    return VKT_OK;
}

vkt_status vkt_steer_capture(vkt_model *m, const vkt_steer_prompt *prompts, int n_prompts,
                             int first_layer, int last_layer, vkt_steer_pos pos, int batch,
                             vkt_steer_acts *out) {
    vkt_error *err = vkt_ctx_err(vkt_model_ctx(m));
    memset(out, 0, sizeof *out);
    const vkt_model_config *c = vkt_model_cfg(m);
    int64_t rows = 0;
    vkt_status s = check_capture(c, prompts, n_prompts, first_layer, last_layer, pos, &rows, err);
    if (s != VKT_OK) return s;
    if (batch <= 0) batch = 16;
    const int C = c->width, nl = last_layer - first_layer + 1;
    capture_job j = {.m = m,
                     .ctx = vkt_model_ctx(m),
                     .prompts = prompts,
                     .n_prompts = n_prompts,
                     .first = first_layer,
                     .last = last_layer,
                     .nl = nl,
                     .C = C,
                     .B = batch < n_prompts ? batch : n_prompts,
                     .Tctx = c->context,
                     .pos = pos,
                     .out = out};
    // Pad with <|pad|> where the vocabulary has it; any id would do (the mask hides it).
    j.pad = c->vocab > VKT_TOK_PAD ? VKT_TOK_PAD : 0;
    j.order = malloc((size_t)n_prompts * sizeof *j.order);
    j.lens = malloc((size_t)n_prompts * sizeof *j.lens);
    j.off = malloc((size_t)n_prompts * sizeof *j.off);
    out->data = malloc((size_t)nl * (size_t)rows * (size_t)C * sizeof *out->data);
    out->prompt_index = malloc((size_t)rows * sizeof *out->prompt_index);
    out->token_index = malloc((size_t)rows * sizeof *out->token_index);
    if (!j.order || !j.lens || !j.off || !out->data || !out->prompt_index || !out->token_index) {
        free(j.order), free(j.lens), free(j.off);
        vkt_steer_acts_free(out);
        return vkt_fail(err, VKT_ERR_NOMEM, "steer capture: %lld rows of %d floats x %d layers",
                        (long long)rows, C, nl);
    }
    out->first_layer = first_layer, out->n_layers = nl, out->C = C, out->n_prompts = n_prompts;
    out->pos = pos, out->rows = rows;
    s = make_buffers(&j, index_rows(&j));
    for (int b0 = 0; b0 < n_prompts && s == VKT_OK; b0 += j.B) s = capture_batch(&j, b0);
    if (j.capbuf) vkt_buffer_destroy(j.ctx, j.capbuf);
    if (j.idbuf) vkt_buffer_destroy(j.ctx, j.idbuf);
    free(j.tok), free(j.sel), free(j.host), free(j.order), free(j.lens), free(j.off);
    if (s != VKT_OK) vkt_steer_acts_free(out);
    return s;
}

// --- directions ---------------------------------------------------------------------

vkt_status vkt_steer_direction(const float *pos, const float *neg, int n, int C,
                               vkt_steer_method method, float *dir, vkt_steer_dir_info *info,
                               vkt_error *err) {
    if (n < 1 || C < 1)
        return vkt_fail(err, VKT_ERR_ARG,
                        "steer direction: %d pairs of width %d (need at least one pair)", n, C);
    if ((unsigned)method > VKT_STEER_PCA)
        return vkt_fail(err, VKT_ERR_ARG, "steer direction: bad method %d", method);
    double *d = malloc((size_t)n * C * sizeof *d), *mean = calloc((size_t)C, sizeof *mean);
    double *v = malloc((size_t)C * sizeof *v), *w = malloc((size_t)C * sizeof *w);
    double *proj = malloc((size_t)n * sizeof *proj);
    if (!d || !mean || !v || !w || !proj) {
        free(d), free(mean), free(v), free(w), free(proj);
        return vkt_fail(err, VKT_ERR_NOMEM, "steer direction");
    }
    double total = 0; // sum_i |d_i|^2
    for (int i = 0; i < n; i++)
        for (int j = 0; j < C; j++) {
            double x = (double)pos[(size_t)i * C + j] - (double)neg[(size_t)i * C + j];
            d[(size_t)i * C + j] = x;
            mean[j] += x / n;
            total += x * x;
        }
    vkt_status s = VKT_OK;
    int iters = 0;
    if (!(total > 0) || !isfinite(total)) {
        s = vkt_fail(
            err, VKT_ERR_ARG,
            total > 0
                ? "steer direction: the differences are not finite"
                : "steer direction: every positive row equals its negative (no direction to find)");
        goto done;
    }
    if (method == VKT_STEER_MEAN) {
        memcpy(v, mean, (size_t)C * sizeof *v);
    } else {
        // Power iteration on M = D^T D (C x C, never formed): v <- D^T (D v) / |.|, from
        // the mean difference (a good start: it is the top direction when the pairs agree),
        // or e_0 when that is zero. Stops when v moves less than 1e-12 (or 1000 steps).
        double nm = 0;
        for (int j = 0; j < C; j++) nm += mean[j] * mean[j];
        for (int j = 0; j < C; j++) v[j] = nm > 1e-300 * total ? mean[j] / sqrt(nm) : (j == 0);
        for (iters = 1; iters <= 1000; iters++) {
            memset(w, 0, (size_t)C * sizeof *w);
            for (int i = 0; i < n; i++) {
                const double *di = d + (size_t)i * C;
                double p = 0;
                for (int j = 0; j < C; j++) p += di[j] * v[j];
                for (int j = 0; j < C; j++) w[j] += p * di[j];
            }
            double wn = 0, delta = 0;
            for (int j = 0; j < C; j++) wn += w[j] * w[j];
            wn = sqrt(wn);
            if (!(wn >
                  0)) { // v orthogonal to every difference: restart from the first non-zero one
                for (int i = 0; i < n && !(wn > 0); i++) {
                    wn = 0;
                    for (int j = 0; j < C; j++) w[j] = d[(size_t)i * C + j], wn += w[j] * w[j];
                    wn = sqrt(wn);
                }
            }
            for (int j = 0; j < C; j++) {
                double x = w[j] / wn;
                delta += (x - v[j]) * (x - v[j]);
                v[j] = x;
            }
            if (delta < 1e-24) break;
        }
        if (iters > 1000) iters = 1000;
        // Sign: positives project higher on average, i.e. mean(d) . v >= 0. (repeng votes
        // pair by pair; the mean decides here, and ties in the vote are decided by it.)
        double sdot = 0;
        for (int j = 0; j < C; j++) sdot += mean[j] * v[j];
        if (sdot < 0)
            for (int j = 0; j < C; j++) v[j] = -v[j];
    }
    double norm = 0;
    for (int j = 0; j < C; j++) norm += v[j] * v[j];
    norm = sqrt(norm);
    if (!(norm > 0)) {
        s = vkt_fail(err, VKT_ERR_ARG,
                     "steer direction: the mean difference is zero (the pairs cancel out; try "
                     "--method pca)");
        goto done;
    }
    double sep = 0, along = 0;
    for (int i = 0; i < n; i++) {
        double p = 0;
        for (int j = 0; j < C; j++) p += d[(size_t)i * C + j] * v[j];
        proj[i] = p / norm;
        sep += proj[i] / n;
        along += proj[i] * proj[i];
    }
    for (int j = 0; j < C; j++) dir[j] = (float)v[j];
    if (info) {
        info->norm = norm;
        info->separation = sep;
        info->explained = along / total;
        info->iterations = iters;
    }
done:
    free(d), free(mean), free(v), free(w), free(proj);
    return s;
}
