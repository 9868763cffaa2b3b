// gguf.c: the GGUF reader; see gguf.h (control vectors on top of it: control_vector.c).
#include "gguf.h"
#include "bytebuf.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "gguf.c assumes a little-endian host");

#define MAX_ARRAY_DEPTH 8

static const char *const type_names[VKT_GGUF_TYPE_COUNT] = {
    "uint8", "int8",   "uint16", "int16",  "uint32", "int32",  "float32",
    "bool",  "string", "array",  "uint64", "int64",  "float64"};
// Bytes of a scalar of each type; 0 for string and array (variable).
static const uint8_t scalar_size[VKT_GGUF_TYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
// Fewest bytes one element can take (for bounding counts by the bytes left).
static const uint8_t min_size[VKT_GGUF_TYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 8, 12, 8, 8, 8};

const char *vkt_gguf_type_name(vkt_gguf_type t) {
    return (unsigned)t < VKT_GGUF_TYPE_COUNT ? type_names[t] : "?";
}

// Bytes per element of the unquantized ggml types; 0 = not known here (quantized types
// have block layouts vkt does not need).
static unsigned ggml_type_size(uint32_t type) {
    switch (type) {
    case 0: return 4;  // F32
    case 1: return 2;  // F16
    case 24: return 1; // I8
    case 25: return 2; // I16
    case 26: return 4; // I32
    case 27: return 8; // I64
    case 28: return 8; // F64
    case 30: return 2; // BF16
    default: return 0;
    }
}

typedef struct cursor {
    const uint8_t *p;
    size_t size, pos;
    const char *path;
    vkt_error *err;
} cursor;

static vkt_status truncated(cursor *c, const char *what) {
    return vkt_fail(c->err, VKT_ERR_FORMAT, "%s: truncated at byte %zu of %zu while reading %s",
                    c->path, c->pos, c->size, what);
}

static vkt_status need(cursor *c, uint64_t n, const char *what) {
    return n > c->size - c->pos ? truncated(c, what) : VKT_OK;
}

static vkt_status rd_u32(cursor *c, uint32_t *v, const char *what) {
    VKT_TRY(need(c, 4, what));
    memcpy(v, c->p + c->pos, 4);
    c->pos += 4;
    return VKT_OK;
}

static vkt_status rd_u64(cursor *c, uint64_t *v, const char *what) {
    VKT_TRY(need(c, 8, what));
    memcpy(v, c->p + c->pos, 8);
    c->pos += 8;
    return VKT_OK;
}

// A string: *s points into the buffer (not NUL-terminated).
static vkt_status rd_str(cursor *c, const char **s, uint64_t *len, const char *what) {
    VKT_TRY(rd_u64(c, len, what));
    if (*len > c->size - c->pos)
        return vkt_fail(
            c->err, VKT_ERR_FORMAT,
            "%s: %s: string length %llu at byte %zu runs past the end of the file (%zu bytes)",
            c->path, what, (unsigned long long)*len, c->pos - 8, c->size);
    *s = (const char *)c->p + c->pos;
    c->pos += *len;
    return VKT_OK;
}

static char *dup_n(const char *s, uint64_t n) {
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

// Skips an array body (element type, count, elements), checking every length.
static vkt_status skip_array(cursor *c, const char *key, int depth, uint32_t *type_out,
                             uint64_t *n_out) {
    uint32_t t;
    uint64_t n;
    VKT_TRY(rd_u32(c, &t, "an array type"));
    VKT_TRY(rd_u64(c, &n, "an array length"));
    if (t >= VKT_GGUF_TYPE_COUNT)
        return vkt_fail(c->err, VKT_ERR_FORMAT, "%s: key '%s': unknown array element type %u",
                        c->path, key, t);
    if (t == VKT_GGUF_ARRAY && depth >= MAX_ARRAY_DEPTH)
        return vkt_fail(c->err, VKT_ERR_FORMAT, "%s: key '%s': arrays nested deeper than %d",
                        c->path, key, MAX_ARRAY_DEPTH);
    if (n > (c->size - c->pos) / min_size[t])
        return vkt_fail(c->err, VKT_ERR_FORMAT,
                        "%s: key '%s': array of %llu %s runs past the end of the file", c->path,
                        key, (unsigned long long)n, type_names[t]);
    if (type_out) *type_out = t;
    if (n_out) *n_out = n;
    if (scalar_size[t]) {
        c->pos += n * scalar_size[t]; // fits: checked against the bytes left above
        return VKT_OK;
    }
    for (uint64_t i = 0; i < n; i++) {
        if (t == VKT_GGUF_STRING) {
            const char *s;
            uint64_t len;
            VKT_TRY(rd_str(c, &s, &len, "a string in an array"));
        } else {
            VKT_TRY(skip_array(c, key, depth + 1, NULL, NULL));
        }
    }
    return VKT_OK;
}

static vkt_status read_kv(cursor *c, vkt_gguf_kv *kv, uint64_t index) {
    const char *s;
    uint64_t len;
    VKT_TRY(rd_str(c, &s, &len, "a key"));
    if (memchr(s, 0, len))
        return vkt_fail(c->err, VKT_ERR_FORMAT, "%s: key %llu contains a NUL byte", c->path,
                        (unsigned long long)index);
    if (!(kv->key = dup_n(s, len)))
        return vkt_fail(c->err, VKT_ERR_NOMEM, "%s: out of memory", c->path);
    uint32_t t;
    VKT_TRY(rd_u32(c, &t, "a value type"));
    if (t >= VKT_GGUF_TYPE_COUNT)
        return vkt_fail(c->err, VKT_ERR_FORMAT, "%s: key '%s': unknown value type %u", c->path,
                        kv->key, t);
    kv->type = (vkt_gguf_type)t;
    if (t == VKT_GGUF_STRING) {
        VKT_TRY(rd_str(c, &s, &len, kv->key));
        if (!(kv->str = dup_n(s, len)))
            return vkt_fail(c->err, VKT_ERR_NOMEM, "%s: out of memory", c->path);
        kv->str_len = len;
        return VKT_OK;
    }
    if (t == VKT_GGUF_ARRAY) {
        uint32_t at;
        VKT_TRY(skip_array(c, kv->key, 1, &at, &kv->arr_n));
        kv->arr_type = (vkt_gguf_type)at;
        return VKT_OK;
    }
    VKT_TRY(need(c, scalar_size[t], kv->key));
    const uint8_t *p = c->p + c->pos;
    c->pos += scalar_size[t];
    uint8_t u8 = p[0];
    uint16_t u16 = 0;
    uint32_t u32 = 0;
    uint64_t u64 = 0;
    memcpy(&u16, p, scalar_size[t] >= 2 ? 2 : 0);
    memcpy(&u32, p, scalar_size[t] >= 4 ? 4 : 0);
    memcpy(&u64, p, scalar_size[t] >= 8 ? 8 : 0);
    switch (t) {
    case VKT_GGUF_UINT8:
    case VKT_GGUF_BOOL: kv->u = u8; break;
    case VKT_GGUF_INT8: kv->i = (int8_t)u8; break;
    case VKT_GGUF_UINT16: kv->u = u16; break;
    case VKT_GGUF_INT16: kv->i = (int16_t)u16; break;
    case VKT_GGUF_UINT32: kv->u = u32; break;
    case VKT_GGUF_INT32: kv->i = (int32_t)u32; break;
    case VKT_GGUF_UINT64: kv->u = u64; break;
    case VKT_GGUF_INT64: kv->i = (int64_t)u64; break;
    case VKT_GGUF_FLOAT32: {
        float f;
        memcpy(&f, &u32, 4);
        kv->f = f;
        break;
    }
    case VKT_GGUF_FLOAT64: {
        double d;
        memcpy(&d, &u64, 8);
        kv->f = d;
        break;
    }
    default: break;
    }
    return VKT_OK;
}

static vkt_status read_tensor_info(cursor *c, vkt_gguf_tensor *t, uint64_t index) {
    const char *s;
    uint64_t len;
    VKT_TRY(rd_str(c, &s, &len, "a tensor name"));
    if (memchr(s, 0, len))
        return vkt_fail(c->err, VKT_ERR_FORMAT, "%s: tensor %llu: name contains a NUL byte",
                        c->path, (unsigned long long)index);
    if (!(t->name = dup_n(s, len)))
        return vkt_fail(c->err, VKT_ERR_NOMEM, "%s: out of memory", c->path);
    VKT_TRY(rd_u32(c, &t->n_dims, "a tensor's n_dims"));
    if (t->n_dims > VKT_GGUF_MAX_DIMS)
        return vkt_fail(c->err, VKT_ERR_FORMAT, "%s: tensor '%s': n_dims %u > %d", c->path, t->name,
                        t->n_dims, VKT_GGUF_MAX_DIMS);
    for (uint32_t d = 0; d < t->n_dims; d++) VKT_TRY(rd_u64(c, &t->dims[d], "a tensor's dims"));
    VKT_TRY(rd_u32(c, &t->type, "a tensor's type"));
    VKT_TRY(rd_u64(c, &t->offset, "a tensor's offset"));
    if (t->type >= 64)
        return vkt_fail(c->err, VKT_ERR_FORMAT, "%s: tensor '%s': unknown ggml type %u", c->path,
                        t->name, t->type);
    uint64_t numel = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        if (t->dims[d] != 0 && numel > (UINT64_C(1) << 60) / t->dims[d])
            return vkt_fail(c->err, VKT_ERR_FORMAT, "%s: tensor '%s': absurd element count",
                            c->path, t->name);
        numel *= t->dims[d];
    }
    t->nbytes = numel * ggml_type_size(t->type);
    return VKT_OK;
}

static int cmp_str_ptr(const void *a, const void *b) {
    return strcmp(**(char *const *const *)a, **(char *const *const *)b);
}

// The first name that appears twice among n names found at base + i*stride, or NULL.
static const char *find_duplicate(const void *base, size_t stride, uint64_t n) {
    if (n < 2) return NULL;
    char *const **v = malloc(n * sizeof *v);
    if (!v) return NULL;
    for (uint64_t i = 0; i < n; i++) v[i] = (char *const *)((const char *)base + i * stride);
    qsort(v, n, sizeof *v, cmp_str_ptr);
    const char *dup = NULL;
    for (uint64_t i = 1; i < n && !dup; i++)
        if (strcmp(*v[i - 1], *v[i]) == 0) dup = *v[i];
    free(v);
    return dup;
}

static int cmp_tensor_offset(const void *a, const void *b) {
    const vkt_gguf_tensor *x = *(const vkt_gguf_tensor *const *)a,
                          *y = *(const vkt_gguf_tensor *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

static vkt_status parse(vkt_gguf *g, cursor *c) {
    const char *p = g->path;
    if (c->size < 4 || memcmp(c->p, "GGUF", 4) != 0) {
        if (c->size < 4) return truncated(c, "the magic");
        return vkt_fail(c->err, VKT_ERR_FORMAT, "%s: bad magic (not a GGUF file)", p);
    }
    c->pos = 4;
    VKT_TRY(rd_u32(c, &g->version, "the version"));
    if (g->version == 0x02000000u || g->version == 0x03000000u)
        return vkt_fail(c->err, VKT_ERR_UNSUPPORTED, "%s: big-endian GGUF files are not supported",
                        p);
    if (g->version != 2 && g->version != 3)
        return vkt_fail(c->err, VKT_ERR_UNSUPPORTED,
                        "%s: unsupported GGUF version %u (vkt reads 2 and 3)", p, g->version);
    uint64_t nt, nkv;
    VKT_TRY(rd_u64(c, &nt, "the tensor count"));
    VKT_TRY(rd_u64(c, &nkv, "the KV count"));
    if (nt > VKT_GGUF_MAX_COUNT || nt > (c->size - c->pos) / 24)
        return vkt_fail(c->err, VKT_ERR_FORMAT,
                        "%s: tensor count %llu is absurd for a %zu-byte file", p,
                        (unsigned long long)nt, c->size);
    if (nkv > VKT_GGUF_MAX_COUNT || nkv > (c->size - c->pos) / 13)
        return vkt_fail(c->err, VKT_ERR_FORMAT, "%s: KV count %llu is absurd for a %zu-byte file",
                        p, (unsigned long long)nkv, c->size);
    g->kv = calloc(nkv ? nkv : 1, sizeof *g->kv);
    g->tensors = calloc(nt ? nt : 1, sizeof *g->tensors);
    if (!g->kv || !g->tensors) return vkt_fail(c->err, VKT_ERR_NOMEM, "%s: out of memory", p);
    for (uint64_t i = 0; i < nkv; i++) {
        g->n_kv = i + 1; // so close() frees a half-read entry
        VKT_TRY(read_kv(c, &g->kv[i], i));
    }
    const char *dup = find_duplicate(g->kv, sizeof *g->kv, g->n_kv);
    if (dup) return vkt_fail(c->err, VKT_ERR_FORMAT, "%s: key '%s' appears twice", p, dup);
    g->alignment = VKT_GGUF_DEFAULT_ALIGNMENT;
    const vkt_gguf_kv *al = vkt_gguf_find_kv(g, "general.alignment");
    if (al) {
        if (al->type != VKT_GGUF_UINT32 || al->u == 0 || (al->u & (al->u - 1)) ||
            al->u > (1u << 20))
            return vkt_fail(c->err, VKT_ERR_FORMAT,
                            "%s: general.alignment must be a uint32 power of two", p);
        g->alignment = (uint32_t)al->u;
    }
    for (uint64_t i = 0; i < nt; i++) {
        g->n_tensors = i + 1;
        VKT_TRY(read_tensor_info(c, &g->tensors[i], i));
    }
    dup = find_duplicate(g->tensors, sizeof *g->tensors, g->n_tensors);
    if (dup) return vkt_fail(c->err, VKT_ERR_FORMAT, "%s: tensor '%s' appears twice", p, dup);
    if (nt == 0) {
        g->data = c->p + c->pos;
        g->data_size = c->size - c->pos;
        return VKT_OK;
    }
    uint64_t start = align_up(c->pos, g->alignment);
    if (start > c->size) return truncated(c, "the padding before the data section");
    g->data = c->p + start;
    g->data_size = c->size - start;
    const vkt_gguf_tensor **byoff = malloc(nt * sizeof *byoff);
    if (!byoff) return vkt_fail(c->err, VKT_ERR_NOMEM, "%s: out of memory", p);
    for (uint64_t i = 0; i < nt; i++) byoff[i] = &g->tensors[i];
    qsort(byoff, nt, sizeof *byoff, cmp_tensor_offset);
    vkt_status s = VKT_OK;
    uint64_t end = 0; // end of the previous tensor (of known size), padded
    const char *prev = NULL;
    for (uint64_t i = 0; i < nt && s == VKT_OK; i++) {
        const vkt_gguf_tensor *t = byoff[i];
        if (t->offset % g->alignment)
            s = vkt_fail(c->err, VKT_ERR_FORMAT,
                         "%s: tensor '%s': offset %llu is not a multiple of the alignment %u", p,
                         t->name, (unsigned long long)t->offset, g->alignment);
        else if (t->offset < end)
            s = vkt_fail(c->err, VKT_ERR_FORMAT,
                         "%s: tensor '%s' (offset %llu) overlaps tensor '%s'", p, t->name,
                         (unsigned long long)t->offset, prev);
        else if (t->offset > g->data_size ||
                 align_up(t->nbytes, g->alignment) > g->data_size - t->offset)
            s = vkt_fail(c->err, VKT_ERR_FORMAT,
                         "%s: tensor '%s': bytes %llu..%llu (padded) run past the end of the data "
                         "section (%llu bytes): truncated?",
                         p, t->name, (unsigned long long)t->offset,
                         (unsigned long long)(t->offset + align_up(t->nbytes, g->alignment)),
                         (unsigned long long)g->data_size);
        end = t->offset + t->nbytes;
        prev = t->name;
    }
    free(byoff);
    return s;
}

void vkt_gguf_close(vkt_gguf *g) {
    if (!g) return;
    for (uint64_t i = 0; i < g->n_kv; i++) {
        free(g->kv[i].key);
        free(g->kv[i].str);
    }
    for (uint64_t i = 0; i < g->n_tensors; i++) free(g->tensors[i].name);
    free(g->kv);
    free(g->tensors);
    if (g->map) munmap(g->map, g->map_size);
    free(g->path);
    memset(g, 0, sizeof *g);
}

static vkt_status parse_image(vkt_gguf *g, const void *buf, size_t size, vkt_error *err) {
    cursor c = {buf, size, 0, g->path, err};
    vkt_status s = parse(g, &c);
    if (s != VKT_OK) vkt_gguf_close(g);
    return s;
}

vkt_status vkt_gguf_parse_memory(vkt_gguf *g, const void *buf, size_t size, const char *name,
                                 vkt_error *err) {
    memset(g, 0, sizeof *g);
    if (!(g->path = strdup(name ? name : "<memory>")))
        return vkt_fail(err, VKT_ERR_NOMEM, "out of memory");
    if (!buf) size = 0;
    return parse_image(g, buf ? buf : "", size, err);
}

vkt_status vkt_gguf_open(vkt_gguf *g, const char *path, vkt_error *err) {
    memset(g, 0, sizeof *g);
    if (!(g->path = strdup(path))) return vkt_fail(err, VKT_ERR_NOMEM, "out of memory");
    vkt_status s;
    struct stat sb;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        s = vkt_fail(err, VKT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        s = vkt_fail(err, VKT_ERR_IO, "%s: not a regular file", path);
        goto fail;
    }
    if (sb.st_size == 0) {
        close(fd);
        return parse_image(g, "", 0, err);
    }
    void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
        s = vkt_fail(err, VKT_ERR_IO, "%s: mmap failed: %s", path, strerror(errno));
        goto fail;
    }
    close(fd);
    g->map = m;
    g->map_size = (size_t)sb.st_size;
    return parse_image(g, m, g->map_size, err);
fail:
    if (fd >= 0) close(fd);
    vkt_gguf_close(g);
    return s;
}

const vkt_gguf_kv *vkt_gguf_find_kv(const vkt_gguf *g, const char *key) {
    for (uint64_t i = 0; i < g->n_kv; i++)
        if (g->kv[i].key && strcmp(g->kv[i].key, key) == 0) return &g->kv[i];
    return NULL;
}

const vkt_gguf_tensor *vkt_gguf_find_tensor(const vkt_gguf *g, const char *name) {
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].name && strcmp(g->tensors[i].name, name) == 0) return &g->tensors[i];
    return NULL;
}

const void *vkt_gguf_tensor_data(const vkt_gguf *g, const vkt_gguf_tensor *t) {
    return g->data + t->offset;
}
