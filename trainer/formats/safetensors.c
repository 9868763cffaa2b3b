// safetensors.c: the .safetensors reader and writer; see safetensors.h.
#include "safetensors.h"
#include "bytebuf.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "safetensors.c assumes a little-endian host (the file format is little-endian)");

static const char *const dtype_names[VKT_ST_DTYPE_COUNT] = {
    "BOOL", "U8",  "I8",  "F8_E5M2", "F8_E4M3", "I16", "U16", "F16",
    "BF16", "I32", "U32", "F32",     "F64",     "I64", "U64"};
static const uint8_t dtype_sizes[VKT_ST_DTYPE_COUNT] = {1, 1, 1, 1, 1, 2, 2, 2,
                                                        2, 4, 4, 4, 8, 8, 8};

const char *vkt_st_dtype_name(vkt_st_dtype d) {
    return (unsigned)d < VKT_ST_DTYPE_COUNT ? dtype_names[d] : "?";
}

size_t vkt_st_dtype_size(vkt_st_dtype d) {
    return (unsigned)d < VKT_ST_DTYPE_COUNT ? dtype_sizes[d] : 0;
}

static uint64_t le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

void vkt_safetensors_close(vkt_safetensors *st) {
    if (!st) return;
    for (int i = 0; i < st->n_tensors; i++) free(st->tensors[i].name);
    free(st->tensors);
    for (int i = 0; i < st->n_meta; i++) {
        free(st->meta_keys[i]);
        free(st->meta_values[i]);
    }
    free(st->meta_keys);
    free(st->meta_values);
    if (st->map) munmap(st->map, st->map_size);
    free(st->path);
    memset(st, 0, sizeof *st);
}

static int cmp_offsets(const void *a, const void *b) {
    const vkt_st_tensor *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return strcmp(x->name, y->name);
}

// A JSON integer >= 0, or -1 when the value is not one.
static int64_t json_count(const json_t *v) {
    if (!json_is_integer(v)) return -1;
    json_int_t i = json_integer_value(v);
    return i < 0 ? -1 : (int64_t)i;
}

static vkt_status parse_metadata(vkt_safetensors *st, json_t *meta, vkt_error *err) {
    const char *p = st->path;
    if (!json_is_object(meta))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: \"__metadata__\" is not an object", p);
    size_t n = json_object_size(meta);
    st->meta_keys = calloc(n ? n : 1, sizeof(char *));
    st->meta_values = calloc(n ? n : 1, sizeof(char *));
    if (!st->meta_keys || !st->meta_values)
        return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory", p);
    const char *key;
    json_t *v;
    json_object_foreach(meta, key, v) {
        if (!json_is_string(v))
            return vkt_fail(err, VKT_ERR_FORMAT, "%s: metadata value of \"%s\" is not a string", p,
                            key);
        st->meta_keys[st->n_meta] = strdup(key);
        st->meta_values[st->n_meta] = strdup(json_string_value(v));
        st->n_meta++;
        if (!st->meta_keys[st->n_meta - 1] || !st->meta_values[st->n_meta - 1])
            return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory", p);
    }
    return VKT_OK;
}

static vkt_status parse_tensor(vkt_safetensors *st, const char *name, json_t *v, vkt_st_tensor *t,
                               vkt_error *err) {
    const char *p = st->path;
    if (!json_is_object(v))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: tensor '%s': entry is not an object", p, name);
    json_t *jd = json_object_get(v, "dtype"), *js = json_object_get(v, "shape"),
           *jo = json_object_get(v, "data_offsets");
    if (!json_is_string(jd))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: tensor '%s': missing string \"dtype\"", p, name);
    const char *ds = json_string_value(jd);
    int d = 0;
    while (d < VKT_ST_DTYPE_COUNT && strcmp(ds, dtype_names[d]) != 0) d++;
    if (d == VKT_ST_DTYPE_COUNT)
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: tensor '%s': unknown dtype \"%s\"", p, name, ds);
    t->dtype = (vkt_st_dtype)d;
    if (!json_is_array(js))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: tensor '%s': missing array \"shape\"", p, name);
    size_t nd = json_array_size(js);
    if (nd > VKT_ST_MAX_DIMS)
        return vkt_fail(err, VKT_ERR_UNSUPPORTED,
                        "%s: tensor '%s': %zu dimensions (vkt reads at most %d)", p, name, nd,
                        VKT_ST_MAX_DIMS);
    t->ndim = (int)nd;
    // numel stays below 2^60 so numel * 8 bytes cannot overflow
    uint64_t numel = 1;
    bool overflow = false;
    for (size_t i = 0; i < nd; i++) {
        int64_t s = json_count(json_array_get(js, i));
        if (s < 0)
            return vkt_fail(err, VKT_ERR_FORMAT,
                            "%s: tensor '%s': shape entry %zu is not a non-negative integer", p,
                            name, i);
        t->shape[i] = s;
        if (s != 0 && numel > (UINT64_C(1) << 60) / (uint64_t)s)
            overflow = true;
        else
            numel *= (uint64_t)s;
    }
    if (overflow)
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: tensor '%s': shape has an absurd element count",
                        p, name);
    t->numel = (int64_t)numel;
    if (!json_is_array(jo) || json_array_size(jo) != 2)
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "%s: tensor '%s': \"data_offsets\" is not an array of 2", p, name);
    int64_t b = json_count(json_array_get(jo, 0)), e = json_count(json_array_get(jo, 1));
    if (b < 0 || e < 0)
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "%s: tensor '%s': \"data_offsets\" entries are not non-negative integers",
                        p, name);
    if (b > e)
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "%s: tensor '%s': data_offsets [%lld, %lld] has begin > end", p, name,
                        (long long)b, (long long)e);
    t->begin = (uint64_t)b;
    t->end = (uint64_t)e;
    uint64_t need = numel * dtype_sizes[d];
    if ((uint64_t)(e - b) != need)
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "%s: tensor '%s': data_offsets [%lld, %lld] hold %lld bytes but %lld %s "
                        "elements need %llu",
                        p, name, (long long)b, (long long)e, (long long)(e - b), (long long)numel,
                        ds, (unsigned long long)need);
    if (t->end > st->data_size)
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "%s: tensor '%s': data_offsets end %lld is past the end of the data "
                        "section (%llu bytes)",
                        p, name, (long long)e, (unsigned long long)st->data_size);
    t->name = strdup(name);
    if (!t->name) return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory", p);
    return VKT_OK;
}

// Parses the n-byte JSON header hdr, with st->path and st->data_size already set.
static vkt_status parse_header(vkt_safetensors *st, const uint8_t *hdr, size_t n, vkt_error *err) {
    const char *p = st->path;
    json_error_t je;
    json_t *root = json_loadb((const char *)hdr, n, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "%s: header is not valid JSON (line %d, column %d: %s)", p, je.line,
                        je.column, je.text);
    vkt_status s = VKT_OK;
    if (!json_is_object(root)) {
        s = vkt_fail(err, VKT_ERR_FORMAT, "%s: header is not a JSON object", p);
        goto done;
    }
    size_t count = json_object_size(root);
    st->tensors = calloc(count ? count : 1, sizeof *st->tensors);
    if (!st->tensors) {
        s = vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory", p);
        goto done;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (strcmp(key, "__metadata__") == 0)
            s = parse_metadata(st, v, err);
        else {
            s = parse_tensor(st, key, v, &st->tensors[st->n_tensors], err);
            if (s == VKT_OK) st->n_tensors++;
        }
        if (s != VKT_OK) goto done;
    }
    // The tensors must tile the data section exactly, as the library requires.
    qsort(st->tensors, (size_t)st->n_tensors, sizeof *st->tensors, cmp_offsets);
    uint64_t at = 0;
    for (int i = 0; i < st->n_tensors; i++) {
        const vkt_st_tensor *t = &st->tensors[i];
        if (t->begin < at) {
            s = vkt_fail(err, VKT_ERR_FORMAT,
                         "%s: tensor '%s' (bytes %llu..%llu) overlaps tensor '%s'", p, t->name,
                         (unsigned long long)t->begin, (unsigned long long)t->end,
                         st->tensors[i - 1].name);
            goto done;
        }
        if (t->begin > at) {
            s = vkt_fail(err, VKT_ERR_FORMAT,
                         "%s: gap in the data section before tensor '%s' (bytes %llu..%llu unused)",
                         p, t->name, (unsigned long long)at, (unsigned long long)t->begin);
            goto done;
        }
        at = t->end;
    }
    if (at != st->data_size)
        s = vkt_fail(err, VKT_ERR_FORMAT,
                     "%s: tensors cover %llu bytes but the data section has %llu (trailing bytes)",
                     p, (unsigned long long)at, (unsigned long long)st->data_size);
done:
    json_decref(root);
    return s;
}

static vkt_status parse_image(vkt_safetensors *st, const uint8_t *buf, size_t size,
                              vkt_error *err) {
    const char *p = st->path;
    if (size < 8)
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "%s: file is %zu bytes, shorter than the 8-byte header length", p, size);
    uint64_t n = le64(buf);
    if (n > VKT_ST_MAX_HEADER)
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: header length %llu exceeds the 100 MB limit", p,
                        (unsigned long long)n);
    if (n > size - 8)
        return vkt_fail(
            err, VKT_ERR_FORMAT,
            "%s: header length %llu runs past the end of the file (%zu bytes): truncated?", p,
            (unsigned long long)n, size);
    st->data = buf + 8 + n;
    st->data_size = size - 8 - n;
    return parse_header(st, buf + 8, (size_t)n, err);
}

static vkt_status set_path(vkt_safetensors *st, const char *name, vkt_error *err) {
    memset(st, 0, sizeof *st);
    st->path = strdup(name ? name : "<memory>");
    return st->path ? VKT_OK : vkt_fail(err, VKT_ERR_NOMEM, "out of memory");
}

vkt_status vkt_safetensors_parse_memory(vkt_safetensors *st, const void *buf, size_t size,
                                        const char *name, vkt_error *err) {
    VKT_TRY(set_path(st, name, err));
    vkt_status s = parse_image(st, buf, size, err);
    if (s != VKT_OK) vkt_safetensors_close(st);
    return s;
}

vkt_status vkt_safetensors_open(vkt_safetensors *st, const char *path, vkt_error *err) {
    VKT_TRY(set_path(st, path, err));
    vkt_status s;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0) {
        s = vkt_fail(err, VKT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        s = vkt_fail(err, VKT_ERR_IO, "%s: not a regular file", path);
        goto fail;
    }
    size_t size = (size_t)sb.st_size;
    if (size < 8) {
        s = vkt_fail(err, VKT_ERR_FORMAT,
                     "%s: file is %zu bytes, shorter than the 8-byte header length", path, size);
        goto fail;
    }
    void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
        s = vkt_fail(err, VKT_ERR_IO, "%s: mmap of %zu bytes failed: %s", path, size,
                     strerror(errno));
        goto fail;
    }
    close(fd);
    fd = -1;
    st->map = m;
    st->map_size = size;
    s = parse_image(st, m, size, err);
    if (s == VKT_OK) return VKT_OK;
fail:
    if (fd >= 0) close(fd);
    vkt_safetensors_close(st);
    return s;
}

const vkt_st_tensor *vkt_safetensors_find(const vkt_safetensors *st, const char *name) {
    for (int i = 0; i < st->n_tensors; i++)
        if (strcmp(st->tensors[i].name, name) == 0) return &st->tensors[i];
    return NULL;
}

const char *vkt_safetensors_meta(const vkt_safetensors *st, const char *key) {
    for (int i = 0; i < st->n_meta; i++)
        if (strcmp(st->meta_keys[i], key) == 0) return st->meta_values[i];
    return NULL;
}

const void *vkt_safetensors_bytes(const vkt_safetensors *st, const vkt_st_tensor *t) {
    return st->data + t->begin;
}

vkt_status vkt_safetensors_read_f32(const vkt_safetensors *st, const char *name, float *out,
                                    int64_t count, vkt_error *err) {
    const vkt_st_tensor *t = vkt_safetensors_find(st, name);
    if (!t) return vkt_fail(err, VKT_ERR_FORMAT, "%s: no tensor named '%s'", st->path, name);
    if (count != t->numel)
        return vkt_fail(err, VKT_ERR_ARG, "%s: tensor '%s' has %lld elements, caller expects %lld",
                        st->path, name, (long long)t->numel, (long long)count);
    if (t->dtype != VKT_ST_F32 && t->dtype != VKT_ST_F16 && t->dtype != VKT_ST_BF16 &&
        t->dtype != VKT_ST_F64)
        return vkt_fail(err, VKT_ERR_UNSUPPORTED,
                        "%s: tensor '%s' has unsupported dtype %s (vkt reads F32, F16, BF16, F64)",
                        st->path, name, dtype_names[t->dtype]);
    if (count == 0) return VKT_OK;
    const uint8_t *src = st->data + t->begin;
    switch (t->dtype) {
    case VKT_ST_F32: memcpy(out, src, (size_t)count * 4); break;
    case VKT_ST_F16:
    case VKT_ST_BF16:
        for (int64_t i = 0; i < count; i++) {
            uint16_t h = (uint16_t)(src[2 * i] | src[2 * i + 1] << 8);
            out[i] = t->dtype == VKT_ST_F16 ? vkt_f16_to_f32(h) : vkt_bf16_to_f32(h);
        }
        break;
    case VKT_ST_F64:
        for (int64_t i = 0; i < count; i++) {
            double d;
            memcpy(&d, src + 8 * i, 8);
            out[i] = (float)d;
        }
        break;
    default: break; // refused above
    }
    return VKT_OK;
}

// --- writer --------------------------------------------------------------------------

static void sb_puts(vkt_bytebuf *b, const char *s) { vkt_bytebuf_put(b, s, strlen(s)); }

// A JSON string the way serde_json writes it (short escapes, else \u00xx lowercase).
static void sb_json_string(vkt_bytebuf *b, const char *s) {
    vkt_bytebuf_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        switch (c) {
        case '"': sb_puts(b, "\\\""); break;
        case '\\': sb_puts(b, "\\\\"); break;
        case '\b': sb_puts(b, "\\b"); break;
        case '\f': sb_puts(b, "\\f"); break;
        case '\n': sb_puts(b, "\\n"); break;
        case '\r': sb_puts(b, "\\r"); break;
        case '\t': sb_puts(b, "\\t"); break;
        default:
            if (c < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", c);
                sb_puts(b, esc);
            } else
                vkt_bytebuf_put(b, (const char *)&c, 1);
        }
    }
    vkt_bytebuf_put(b, "\"", 1);
}

static int cmp_entry_names(const void *a, const void *b) {
    const vkt_st_entry *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

static int cmp_meta_keys(const void *a, const void *b) {
    const char *const *x = *(const char *const *const *)a, *const *y =
                                                               *(const char *const *const *)b;
    return strcmp(x[0], y[0]);
}

static bool valid_utf8(const char *s) {
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        int n = *u < 0x80             ? 0
                : (*u & 0xe0) == 0xc0 ? 1
                : (*u & 0xf0) == 0xe0 ? 2
                : (*u & 0xf8) == 0xf0 ? 3
                                      : -1;
        if (n < 0 || (n == 1 && *u < 0xc2)) return false;
        u++;
        for (int i = 0; i < n; i++, u++)
            if ((*u & 0xc0) != 0x80) return false;
    }
    return true;
}

// Validates the tensors and sorts them by name into order; numel[i]: entries[i]'s element count.
static vkt_status check_entries(const char *path, const vkt_st_entry *entries, int n,
                                const vkt_st_entry **order, uint64_t *numel, vkt_error *err) {
    for (int i = 0; i < n; i++) {
        const vkt_st_entry *e = &entries[i];
        order[i] = e;
        if (!e->name || !e->name[0] || strcmp(e->name, "__metadata__") == 0 || !valid_utf8(e->name))
            return vkt_fail(err, VKT_ERR_ARG,
                            "%s: tensor %d has an empty, reserved or non-UTF-8 name", path, i);
        if (e->ndim < 0 || e->ndim > VKT_ST_MAX_DIMS || (e->ndim > 0 && !e->shape))
            return vkt_fail(err, VKT_ERR_ARG, "%s: tensor '%s': ndim %d out of range 0..%d", path,
                            e->name, e->ndim, VKT_ST_MAX_DIMS);
        uint64_t c = 1;
        for (int d = 0; d < e->ndim; d++) {
            if (e->shape[d] < 0 ||
                (e->shape[d] > 0 && c > (UINT64_C(1) << 60) / (uint64_t)e->shape[d]))
                return vkt_fail(err, VKT_ERR_ARG, "%s: tensor '%s': bad shape entry %lld", path,
                                e->name, (long long)e->shape[d]);
            c *= (uint64_t)e->shape[d];
        }
        if (c > 0 && !e->data)
            return vkt_fail(err, VKT_ERR_ARG, "%s: tensor '%s': no data", path, e->name);
        numel[i] = c;
    }
    qsort(order, (size_t)n, sizeof *order, cmp_entry_names);
    for (int i = 1; i < n; i++)
        if (strcmp(order[i - 1]->name, order[i]->name) == 0)
            return vkt_fail(err, VKT_ERR_ARG, "%s: tensor name '%s' appears twice", path,
                            order[i]->name);
    return VKT_OK;
}

// Validates the metadata pairs and sorts them by key into morder.
static vkt_status check_meta(const char *path, const char *const *meta, int n_meta,
                             const char *const **morder, vkt_error *err) {
    for (int i = 0; i < n_meta; i++) {
        morder[i] = meta + 2 * i;
        const char *key = meta[2 * i], *value = meta[2 * i + 1];
        if (!key || !value || !valid_utf8(key) || !valid_utf8(value))
            return vkt_fail(err, VKT_ERR_ARG, "%s: metadata entry %d is NULL or not UTF-8", path,
                            i);
    }
    qsort(morder, (size_t)n_meta, sizeof *morder, cmp_meta_keys);
    for (int i = 1; i < n_meta; i++)
        if (strcmp(morder[i - 1][0], morder[i][0]) == 0)
            return vkt_fail(err, VKT_ERR_ARG, "%s: metadata key '%s' appears twice", path,
                            morder[i][0]);
    return VKT_OK;
}

// The header, in the library's compact JSON, padded to 8 bytes; *data_size: the tensors' bytes.
static void put_header(vkt_bytebuf *hb, const vkt_st_entry *entries, const vkt_st_entry **order,
                       const uint64_t *numel, int n, const char *const **morder, int n_meta,
                       uint64_t *data_size) {
    sb_puts(hb, "{");
    if (n_meta > 0) {
        sb_puts(hb, "\"__metadata__\":{");
        for (int i = 0; i < n_meta; i++) {
            if (i) sb_puts(hb, ",");
            sb_json_string(hb, morder[i][0]);
            sb_puts(hb, ":");
            sb_json_string(hb, morder[i][1]);
        }
        sb_puts(hb, "}");
    }
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        const vkt_st_entry *e = order[i];
        uint64_t bytes = numel[e - entries] * 4;
        char num[64];
        if (i || n_meta > 0) sb_puts(hb, ",");
        sb_json_string(hb, e->name);
        sb_puts(hb, ":{\"dtype\":\"F32\",\"shape\":[");
        for (int d = 0; d < e->ndim; d++) {
            snprintf(num, sizeof num, "%s%lld", d ? "," : "", (long long)e->shape[d]);
            sb_puts(hb, num);
        }
        snprintf(num, sizeof num, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
                 (unsigned long long)(off + bytes));
        sb_puts(hb, num);
        off += bytes;
    }
    sb_puts(hb, "}");
    while (!hb->oom && hb->n % 8) sb_puts(hb, " ");
    *data_size = off;
}

// Never write what the reader would refuse: check the header with the reader.
static vkt_status check_header(const char *path, const vkt_bytebuf *hb, uint64_t data_size,
                               vkt_error *err) {
    vkt_safetensors chk = {0};
    chk.path = (char *)path;
    chk.data_size = data_size;
    vkt_status s = parse_header(&chk, (const uint8_t *)hb->p, hb->n, err);
    chk.path = NULL;
    vkt_safetensors_close(&chk);
    if (s != VKT_OK) vkt_fail_wrap(err, "safetensors writer produced a bad header");
    return s;
}

// The length, the header and the tensors in name order, to a temp file renamed over path.
static vkt_status write_file(const char *path, const vkt_bytebuf *hb, const vkt_st_entry *entries,
                             const vkt_st_entry **order, const uint64_t *numel, int n,
                             vkt_error *err) {
    vkt_atomic_file af = {0};
    uint8_t len[8];
    for (int i = 0; i < 8; i++) len[i] = (uint8_t)((uint64_t)hb->n >> (8 * i));
    vkt_status s = vkt_atomic_file_open(&af, path, err);
    if (s != VKT_OK) return s;
    s = vkt_atomic_file_write(&af, len, 8, err);
    if (s == VKT_OK) s = vkt_atomic_file_write(&af, hb->p, hb->n, err);
    for (int i = 0; s == VKT_OK && i < n; i++)
        s = vkt_atomic_file_write(&af, order[i]->data, numel[order[i] - entries] * 4, err);
    if (s == VKT_OK)
        s = vkt_atomic_file_commit(&af, err);
    else
        vkt_atomic_file_abort(&af);
    return s;
}

vkt_status vkt_safetensors_write(const char *path, const vkt_st_entry *entries, int n,
                                 const char *const *meta, int n_meta, vkt_error *err) {
    if (!path) return vkt_fail(err, VKT_ERR_ARG, "safetensors write: no file name");
    if (n < 0 || n_meta < 0 || (n > 0 && !entries) || (n_meta > 0 && !meta))
        return vkt_fail(err, VKT_ERR_ARG, "%s: bad tensor or metadata list", path);
    vkt_status s = VKT_OK;
    const vkt_st_entry **order = calloc((size_t)n + 1, sizeof *order);
    const char *const **morder = calloc((size_t)n_meta + 1, sizeof *morder);
    uint64_t *numel = calloc((size_t)n + 1, sizeof *numel);
    vkt_bytebuf hb = {0};
    uint64_t data_size = 0;
    if (!order || !morder || !numel) s = vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory", path);
    // Validate everything before the first byte is written.
    if (s == VKT_OK) s = check_entries(path, entries, n, order, numel, err);
    if (s == VKT_OK) s = check_meta(path, meta, n_meta, morder, err);
    if (s == VKT_OK) {
        put_header(&hb, entries, order, numel, n, morder, n_meta, &data_size);
        if (hb.oom) s = vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory", path);
    }
    if (s == VKT_OK) s = check_header(path, &hb, data_size, err);
    if (s == VKT_OK) s = write_file(path, &hb, entries, order, numel, n, err);
    free(order);
    free(morder);
    free(numel);
    free(hb.p);
    return s;
}
