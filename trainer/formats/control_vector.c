// control_vector.c: GGUF control vectors (llama.cpp's `direction.N` tensors) read from a
// parsed GGUF file and written as one; see gguf.h.
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "bytebuf.h"
#include "gguf.h"

// Bounds on what a control vector may claim (layers, width), so a bad file cannot ask for
// an absurd allocation.
#define MAX_CV_LAYER 4096
#define MAX_CV_EMBD (1 << 24)

static uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

// --- control vectors -------------------------------------------------------------------

void vkt_control_vector_free(vkt_control_vector *cv) {
    if (!cv) return;
    free(cv->model_hint);
    free(cv->data);
    free(cv->present);
    memset(cv, 0, sizeof *cv);
}

const float *vkt_control_vector_layer(const vkt_control_vector *cv, int layer) {
    if (layer < 1 || layer > cv->max_layer || !cv->present[layer - 1]) return NULL;
    return cv->data + (size_t)(layer - 1) * (size_t)cv->n_embd;
}

// N of "direction.N" (decimal, N >= 1), or -1.
static int direction_layer(const char *name) {
    if (strncmp(name, "direction.", 10) != 0) return -1;
    const char *d = name + 10;
    if (*d < '1' || *d > '9') return -1;
    long v = 0;
    for (; *d; d++) {
        if (*d < '0' || *d > '9' || v > MAX_CV_LAYER) return -1;
        v = v * 10 + (*d - '0');
    }
    return v <= MAX_CV_LAYER ? (int)v : -1;
}

vkt_status vkt_control_vector_from_gguf(vkt_control_vector *cv, const vkt_gguf *g, vkt_error *err) {
    memset(cv, 0, sizeof *cv);
    const char *p = g->path;
    const vkt_gguf_kv *arch = vkt_gguf_find_kv(g, "general.architecture");
    if (arch && (arch->type != VKT_GGUF_STRING || strcmp(arch->str, "controlvector") != 0))
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "%s: general.architecture is '%s', not 'controlvector'", p,
                        arch->type == VKT_GGUF_STRING ? arch->str : vkt_gguf_type_name(arch->type));
    const vkt_gguf_kv *hint = vkt_gguf_find_kv(g, "controlvector.model_hint");
    if (hint && hint->type != VKT_GGUF_STRING)
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: controlvector.model_hint is a %s, not a string",
                        p, vkt_gguf_type_name(hint->type));
    cv->layer_count = -1;
    const vkt_gguf_kv *lc = vkt_gguf_find_kv(g, "controlvector.layer_count");
    if (lc) {
        switch (lc->type) {
        case VKT_GGUF_UINT8:
        case VKT_GGUF_UINT16:
        case VKT_GGUF_UINT32:
        case VKT_GGUF_UINT64: cv->layer_count = lc->u > INT64_MAX ? -2 : (int64_t)lc->u; break;
        case VKT_GGUF_INT8:
        case VKT_GGUF_INT16:
        case VKT_GGUF_INT32:
        case VKT_GGUF_INT64: cv->layer_count = lc->i < 0 ? -2 : lc->i; break;
        default:
            return vkt_fail(err, VKT_ERR_FORMAT,
                            "%s: controlvector.layer_count is a %s, not an integer", p,
                            vkt_gguf_type_name(lc->type));
        }
        if (cv->layer_count == -2)
            return vkt_fail(err, VKT_ERR_FORMAT, "%s: controlvector.layer_count is out of range",
                            p);
    }
    if (g->n_tensors == 0)
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: control vector has no direction tensors", p);
    int n_embd = -1, max_layer = 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const vkt_gguf_tensor *t = &g->tensors[i];
        int layer = direction_layer(t->name);
        if (layer < 0)
            return vkt_fail(err, VKT_ERR_FORMAT,
                            "%s: tensor '%s' is not direction.N with 1 <= N <= %d (a control "
                            "vector holds only those)",
                            p, t->name, MAX_CV_LAYER);
        if (t->type != VKT_GGML_TYPE_F32)
            return vkt_fail(err, VKT_ERR_UNSUPPORTED,
                            "%s: tensor '%s' has ggml type %u; control vectors must be F32 (0)", p,
                            t->name, t->type);
        if (t->n_dims != 1)
            return vkt_fail(err, VKT_ERR_FORMAT, "%s: tensor '%s' has %u dims; a direction is 1-D",
                            p, t->name, t->n_dims);
        if (t->dims[0] == 0 || t->dims[0] > MAX_CV_EMBD)
            return vkt_fail(err, VKT_ERR_FORMAT, "%s: tensor '%s' has length %llu", p, t->name,
                            (unsigned long long)t->dims[0]);
        if (n_embd >= 0 && (uint64_t)n_embd != t->dims[0])
            return vkt_fail(err, VKT_ERR_FORMAT, "%s: tensor '%s' has length %llu, others have %d",
                            p, t->name, (unsigned long long)t->dims[0], n_embd);
        n_embd = (int)t->dims[0];
        if (layer > max_layer) max_layer = layer;
    }
    cv->n_embd = n_embd;
    cv->max_layer = max_layer;
    cv->model_hint = strdup(hint ? hint->str : "");
    cv->data = calloc((size_t)max_layer * (size_t)n_embd, sizeof(float));
    cv->present = calloc((size_t)max_layer, 1);
    if (!cv->model_hint || !cv->data || !cv->present) {
        vkt_control_vector_free(cv);
        return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory for %d x %d floats", p, max_layer,
                        n_embd);
    }
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const vkt_gguf_tensor *t = &g->tensors[i];
        int layer = direction_layer(t->name);
        memcpy(cv->data + (size_t)(layer - 1) * (size_t)n_embd, g->data + t->offset,
               (size_t)n_embd * 4);
        cv->present[layer - 1] = 1;
    }
    return VKT_OK;
}

vkt_status vkt_control_vector_check_finite(const vkt_control_vector *cv, const char *path,
                                           vkt_error *err) {
    for (int N = 1; N <= cv->max_layer; N++) {
        const float *d = cv->data + (size_t)(N - 1) * (size_t)cv->n_embd;
        for (int j = 0; cv->present[N - 1] && j < cv->n_embd; j++)
            if (!isfinite(d[j]))
                return vkt_fail(
                    err, VKT_ERR_FORMAT,
                    "%s: tensor 'direction.%d' holds a non-finite value (%g at index %d)", path, N,
                    (double)d[j], j);
    }
    return VKT_OK;
}

vkt_status vkt_control_vector_load(vkt_control_vector *cv, const char *path, vkt_error *err) {
    return vkt_control_vector_load_opt(cv, path, false, err);
}

vkt_status vkt_control_vector_load_opt(vkt_control_vector *cv, const char *path,
                                       bool allow_nonfinite, vkt_error *err) {
    memset(cv, 0, sizeof *cv);
    vkt_gguf g;
    VKT_TRY(vkt_gguf_open(&g, path, err));
    vkt_status s = vkt_control_vector_from_gguf(cv, &g, err);
    vkt_gguf_close(&g);
    if (s == VKT_OK && !allow_nonfinite) s = vkt_control_vector_check_finite(cv, path, err);
    if (s != VKT_OK) vkt_control_vector_free(cv);
    return s;
}

// --- writer ----------------------------------------------------------------------------

static void wb_u32(vkt_bytebuf *b, uint32_t v) { vkt_bytebuf_put(b, &v, 4); }
static void wb_u64(vkt_bytebuf *b, uint64_t v) { vkt_bytebuf_put(b, &v, 8); }
static void wb_str(vkt_bytebuf *b, const char *s) {
    wb_u64(b, strlen(s));
    vkt_bytebuf_put(b, s, strlen(s));
}

typedef struct layer_ix {
    int layer, index;
} layer_ix;

static int cmp_layer(const void *a, const void *b) {
    const layer_ix *x = a, *y = b;
    return (x->layer > y->layer) - (x->layer < y->layer);
}

vkt_status vkt_control_vector_write(const char *path, const char *model_hint, uint32_t layer_count,
                                    int n_embd, int n, const int *layers, const float *dirs,
                                    vkt_error *err) {
    if (!path) return vkt_fail(err, VKT_ERR_ARG, "control vector: no file name");
    if (n < 1 || n_embd < 1 || n_embd > MAX_CV_EMBD || !layers || !dirs)
        return vkt_fail(err, VKT_ERR_ARG,
                        "%s: need n >= 1 directions of length 1..%d (got n=%d, n_embd=%d)", path,
                        MAX_CV_EMBD, n, n_embd);
    layer_ix *ord = malloc((size_t)n * sizeof *ord);
    if (!ord) return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory", path);
    vkt_status s = VKT_OK;
    for (int i = 0; i < n && s == VKT_OK; i++) {
        ord[i] = (layer_ix){layers[i], i};
        if (layers[i] < 1 || layers[i] > MAX_CV_LAYER)
            s = vkt_fail(err, VKT_ERR_ARG, "%s: layer %d out of range 1..%d", path, layers[i],
                         MAX_CV_LAYER);
        for (int j = 0; j < n_embd && s == VKT_OK; j++)
            if (!isfinite(dirs[(size_t)i * n_embd + j]))
                s = vkt_fail(err, VKT_ERR_ARG,
                             "%s: direction for layer %d has a non-finite value at %d", path,
                             layers[i], j);
    }
    if (s == VKT_OK) {
        qsort(ord, (size_t)n, sizeof *ord, cmp_layer);
        for (int i = 1; i < n && s == VKT_OK; i++)
            if (ord[i].layer == ord[i - 1].layer)
                s = vkt_fail(err, VKT_ERR_ARG, "%s: layer %d given twice", path, ord[i].layer);
    }
    if (s != VKT_OK) {
        free(ord);
        return s;
    }
    const uint64_t align = VKT_GGUF_DEFAULT_ALIGNMENT;
    uint64_t stride = align_up((uint64_t)n_embd * 4, align);
    vkt_bytebuf b = {0};
    vkt_bytebuf_put(&b, "GGUF", 4);
    wb_u32(&b, 3);
    wb_u64(&b, (uint64_t)n);
    wb_u64(&b, 3);
    wb_str(&b, "general.architecture");
    wb_u32(&b, VKT_GGUF_STRING);
    wb_str(&b, "controlvector");
    wb_str(&b, "controlvector.model_hint");
    wb_u32(&b, VKT_GGUF_STRING);
    wb_str(&b, model_hint ? model_hint : "");
    wb_str(&b, "controlvector.layer_count");
    wb_u32(&b, VKT_GGUF_UINT32);
    wb_u32(&b, layer_count);
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "direction.%d", ord[i].layer);
        wb_str(&b, name);
        wb_u32(&b, 1);
        wb_u64(&b, (uint64_t)n_embd);
        wb_u32(&b, VKT_GGML_TYPE_F32);
        wb_u64(&b, (uint64_t)i * stride);
    }
    static const uint8_t zeros[32];
    vkt_bytebuf_put(&b, zeros, align_up(b.n, align) - b.n);
    if (b.oom) {
        free(ord);
        free(b.p);
        return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory", path);
    }
    vkt_atomic_file af;
    s = vkt_atomic_file_open(&af, path, err);
    if (s == VKT_OK) {
        s = vkt_atomic_file_write(&af, b.p, b.n, err);
        for (int i = 0; i < n && s == VKT_OK; i++) {
            s = vkt_atomic_file_write(&af, dirs + (size_t)ord[i].index * n_embd, (size_t)n_embd * 4,
                                      err);
            if (s == VKT_OK) s = vkt_atomic_file_pad(&af, stride - (uint64_t)n_embd * 4, err);
        }
        if (s == VKT_OK)
            s = vkt_atomic_file_commit(&af, err);
        else
            vkt_atomic_file_abort(&af);
    }
    free(ord);
    free(b.p);
    return s;
}
