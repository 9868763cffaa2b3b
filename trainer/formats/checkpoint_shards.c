// checkpoint_shards.c: see checkpoint_shards.h.
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "checkpoint_shards.h"
#include "read_file.h"

#define INDEX_NAME "model.safetensors.index.json"

typedef struct {
    const char *name; // owned by its file's vkt_st_tensor
    int file;
    const vkt_st_tensor *t;
} entry;

struct vkt_ckpt {
    char path[4096];
    int n_files;
    vkt_safetensors *files;
    int n;
    entry *e; // sorted by name
};

static int cmp_entry(const void *a, const void *b) {
    return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

static const entry *lookup(const vkt_ckpt *h, const char *name) {
    entry key = {name, 0, NULL};
    return bsearch(&key, h->e, (size_t)h->n, sizeof *h->e, cmp_entry);
}

void vkt_checkpoint_close(vkt_ckpt *h) {
    if (!h) return;
    for (int i = 0; i < h->n_files; i++) vkt_safetensors_close(&h->files[i]);
    free(h->files);
    free(h->e);
    free(h);
}

static bool exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

// Adds every tensor of file f to the table (the table has room: counted by the caller).
static void add_file(vkt_ckpt *h, int f) {
    const vkt_safetensors *st = &h->files[f];
    for (int i = 0; i < st->n_tensors; i++)
        h->e[h->n++] = (entry){st->tensors[i].name, f, &st->tensors[i]};
}

static vkt_status open_single(vkt_ckpt *h, vkt_error *err) {
    h->files = calloc(1, sizeof *h->files);
    if (!h->files) return vkt_fail(err, VKT_ERR_NOMEM, "%s", h->path);
    VKT_TRY(vkt_safetensors_open(&h->files[0], h->path, err));
    h->n_files = 1;
    h->e = calloc((size_t)h->files[0].n_tensors + 1, sizeof *h->e);
    if (!h->e) return vkt_fail(err, VKT_ERR_NOMEM, "%s", h->path);
    add_file(h, 0);
    return VKT_OK;
}

// A shard is a plain file name inside the directory.
static bool safe_shard_name(const char *s) {
    return *s && !strchr(s, '/') && !strchr(s, '\\') && !strstr(s, "..");
}

// The shard names of weight_map, each once, in first-seen order (borrowed from the JSON).
static vkt_status shard_names(const char *path, json_t *map, const char ***names, int *n,
                              vkt_error *err) {
    *names = calloc(json_object_size(map) + 1, sizeof **names);
    if (!*names) return vkt_fail(err, VKT_ERR_NOMEM, "%s", path);
    const char *key;
    json_t *v;
    json_object_foreach(map, key, v) {
        const char *s = json_string_value(v);
        if (!s)
            return vkt_fail(err, VKT_ERR_FORMAT,
                            "%s: weight_map entry of tensor '%s' is not a file name", path, key);
        if (!safe_shard_name(s))
            return vkt_fail(err, VKT_ERR_FORMAT,
                            "%s: tensor '%s' maps to shard \"%s\": a shard is a file name in the "
                            "model directory "
                            "(no '/' or '..')",
                            path, key, s);
        int i = 0;
        while (i < *n && strcmp((*names)[i], s)) i++;
        if (i == *n) (*names)[(*n)++] = s;
    }
    return VKT_OK;
}

// The first tensor the index places in shard s (what a message about the shard names).
static const char *first_tensor_of(json_t *map, const char *s) {
    const char *key;
    json_t *v;
    json_object_foreach(map, key, v) if (!strcmp(json_string_value(v), s)) return key;
    return "";
}

// Each tensor where the index says, and each shard's tensors all listed for that shard.
static vkt_status match_index(vkt_ckpt *h, const char *dir, json_t *map, const char **names,
                              vkt_error *err) {
    const char *key;
    json_t *v;
    json_object_foreach(map, key, v) {
        int f = 0;
        while (strcmp(names[f], json_string_value(v))) f++;
        if (!vkt_safetensors_find(&h->files[f], key))
            return vkt_fail(err, VKT_ERR_FORMAT,
                            "%s: tensor '%s' is listed in %s/%s but not in this shard",
                            h->files[f].path, key, dir, INDEX_NAME);
    }
    for (int f = 0; f < h->n_files; f++)
        for (int i = 0; i < h->files[f].n_tensors; i++) {
            const char *name = h->files[f].tensors[i].name,
                       *s = json_string_value(json_object_get(map, name));
            if (!s)
                return vkt_fail(err, VKT_ERR_FORMAT, "%s: tensor '%s' is not listed in %s/%s",
                                h->files[f].path, name, dir, INDEX_NAME);
            if (strcmp(s, names[f]))
                return vkt_fail(err, VKT_ERR_FORMAT,
                                "%s: tensor '%s' is also here; %s/%s places it in %s",
                                h->files[f].path, name, dir, INDEX_NAME, s);
        }
    return VKT_OK;
}

static vkt_status open_index(vkt_ckpt *h, const char *dir, vkt_error *err) {
    char *text = NULL;
    size_t len = 0;
    VKT_TRY(vkt_read_file(h->path, &text, &len, err));
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (!root)
        return vkt_fail(err, VKT_ERR_FORMAT, "%s:%d:%d: %s", h->path, je.line, je.column, je.text);
    json_t *map = json_object_get(root, "weight_map");
    const char **names = NULL;
    int n = 0;
    vkt_status s = VKT_OK;
    if (!json_is_object(root) || !json_is_object(map))
        s = vkt_fail(err, VKT_ERR_FORMAT, "%s: no \"weight_map\" object", h->path);
    if (s == VKT_OK) s = shard_names(h->path, map, &names, &n, err);
    if (s == VKT_OK && !(h->files = calloc((size_t)n + 1, sizeof *h->files)))
        s = vkt_fail(err, VKT_ERR_NOMEM, "%s", h->path);
    size_t total = 0;
    for (int f = 0; f < n && s == VKT_OK; f++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, names[f]);
        s = vkt_safetensors_open(&h->files[f], p, err);
        if (s != VKT_OK)
            vkt_fail_wrap(err, "%s: shard %s (holding tensor '%s')", h->path, names[f],
                          first_tensor_of(map, names[f]));
        else
            h->n_files++, total += (size_t)h->files[f].n_tensors;
    }
    if (s == VKT_OK) s = match_index(h, dir, map, names, err);
    if (s == VKT_OK && !(h->e = calloc(total + 1, sizeof *h->e)))
        s = vkt_fail(err, VKT_ERR_NOMEM, "%s", h->path);
    for (int f = 0; f < h->n_files && s == VKT_OK; f++) add_file(h, f);
    free(names);
    json_decref(root);
    return s;
}

vkt_status vkt_checkpoint_open(const char *dir, vkt_ckpt **out, vkt_error *err) {
    *out = NULL;
    vkt_ckpt *h = calloc(1, sizeof *h);
    if (!h) return vkt_fail(err, VKT_ERR_NOMEM, "%s", dir);
    vkt_status s;
    snprintf(h->path, sizeof h->path, "%s/model.safetensors", dir);
    if (exists(h->path)) {
        s = open_single(h, err);
    } else {
        snprintf(h->path, sizeof h->path, "%s/%s", dir, INDEX_NAME);
        if (exists(h->path))
            s = open_index(h, dir, err);
        else
            s = vkt_fail(err, VKT_ERR_IO, "%s/model.safetensors: cannot open: %s (and no %s)", dir,
                         strerror(ENOENT), INDEX_NAME);
    }
    if (s != VKT_OK) {
        vkt_checkpoint_close(h);
        return s;
    }
    qsort(h->e, (size_t)h->n, sizeof *h->e, cmp_entry);
    *out = h;
    return VKT_OK;
}

const char *vkt_checkpoint_path(const vkt_ckpt *h) { return h->path; }
int vkt_checkpoint_count(const vkt_ckpt *h) { return h->n; }
const char *vkt_checkpoint_name(const vkt_ckpt *h, int i) { return h->e[i].name; }
bool vkt_checkpoint_has(const vkt_ckpt *h, const char *name) { return lookup(h, name) != NULL; }

vkt_status vkt_checkpoint_tensor(const vkt_ckpt *h, const char *name, vkt_ckpt_tensor *out,
                                 vkt_error *err) {
    const entry *e = lookup(h, name);
    if (!e) return vkt_fail(err, VKT_ERR_FORMAT, "%s: missing tensor '%s'", h->path, name);
    const vkt_safetensors *st = &h->files[e->file];
    *out = (vkt_ckpt_tensor){e->name,
                             st->path,
                             e->t->dtype,
                             e->t->ndim,
                             e->t->shape,
                             e->t->numel,
                             vkt_safetensors_bytes(st, e->t),
                             e->t->end - e->t->begin};
    return VKT_OK;
}

vkt_status vkt_ckpt_tensor_check_dtype(const vkt_ckpt_tensor *t, vkt_error *err) {
    if (t->dtype == VKT_ST_F32 || t->dtype == VKT_ST_F16 || t->dtype == VKT_ST_BF16) return VKT_OK;
    return vkt_fail(err, VKT_ERR_UNSUPPORTED,
                    "%s: tensor '%s' has dtype %s (vkt reads F32, F16 and BF16)", t->file, t->name,
                    vkt_st_dtype_name(t->dtype));
}

static float value_at(const vkt_ckpt_tensor *t, int64_t i) {
    const uint8_t *b = t->bytes;
    if (t->dtype == VKT_ST_F32) {
        float x;
        memcpy(&x, b + 4 * i, 4);
        return x;
    }
    uint16_t h = (uint16_t)(b[2 * i] | b[2 * i + 1] << 8);
    return t->dtype == VKT_ST_F16 ? vkt_f16_to_f32(h) : vkt_bf16_to_f32(h);
}

int64_t vkt_ckpt_tensor_first_nonfinite(const vkt_ckpt_tensor *t, float *value) {
    const uint8_t *b = t->bytes;
    for (int64_t i = 0; i < t->numel; i++) {
        bool bad;
        if (t->dtype == VKT_ST_F32) {
            uint32_t u = (uint32_t)b[4 * i + 2] | (uint32_t)b[4 * i + 3] << 8;
            bad = (u & 0x7f80) == 0x7f80; // exponent all ones (upper half of the word)
        } else {
            uint16_t h = (uint16_t)(b[2 * i] | b[2 * i + 1] << 8);
            bad = t->dtype == VKT_ST_F16 ? (h & 0x7c00) == 0x7c00 : (h & 0x7f80) == 0x7f80;
        }
        if (bad) {
            *value = value_at(t, i);
            return i;
        }
    }
    return -1;
}

void vkt_ckpt_tensor_to_f32(const vkt_ckpt_tensor *t, float *out) {
    if (t->dtype == VKT_ST_F32) {
        memcpy(out, t->bytes, (size_t)t->numel * 4);
        return;
    }
    for (int64_t i = 0; i < t->numel; i++) out[i] = value_at(t, i);
}
