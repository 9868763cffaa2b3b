// lora_resume.c: a LoRA run's moments and its base's identity (see lora_resume.h).
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint_dir.h"
#include "json_file.h"
#include "lora_resume.h"
#include "safetensors.h"

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

vkt_status vkt_lora_base_identity(const char *base, json_t **out, vkt_error *err) {
    *out = NULL;
    DIR *d = opendir(base);
    if (!d) return vkt_fail(err, VKT_ERR_IO, "%s: cannot read the base model's directory", base);
    char *names[4096];
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) && n < 4096;)
        if (!strcmp(e->d_name, "config.json") || ends_with(e->d_name, ".safetensors"))
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, by_name);
    json_t *files = json_array();
    vkt_status s = files ? VKT_OK : vkt_fail(err, VKT_ERR_NOMEM, "base identity");
    for (int i = 0; i < n && s == VKT_OK; i++) {
        char path[4400], hex[17];
        uint64_t size = 0, hash = 0;
        snprintf(path, sizeof path, "%s/%s", base, names[i] ? names[i] : "");
        s = names[i] ? vkt_ckpt_hash_file(path, &size, &hash, err)
                     : vkt_fail(err, VKT_ERR_NOMEM, "base identity");
        snprintf(hex, sizeof hex, "%016" PRIx64, hash);
        if (s == VKT_OK)
            json_array_append_new(files, json_pack("{s:s, s:I, s:s}", "name", names[i], "bytes",
                                                   (json_int_t)size, "fnv1a64", hex));
    }
    for (int i = 0; i < n; i++) free(names[i]);
    if (s == VKT_OK)
        *out = json_pack("{s:s, s:o}", "base", base, "files", files);
    else
        json_decref(files);
    return s;
}

vkt_status vkt_lora_save_resume(vkt_lora *a, const char *dir, const json_t *base_id) {
    vkt_error *err = vkt_ctx_err(vkt_lora_ctx(a));
    const uint64_t count = vkt_lora_count(a);
    float *m1 = malloc(count * sizeof *m1), *m2 = malloc(count * sizeof *m2);
    vkt_status s =
        m1 && m2 ? VKT_OK
                 : vkt_fail(err, VKT_ERR_NOMEM, "LoRA moments: 2 x %" PRIu64 " floats", count);
    if (s == VKT_OK && (s = vkt_lora_get_optim(a, m1, m2)) != VKT_OK)
        s = vkt_fail_wrap(err, "LoRA moments");
    char path[4200];
    if (s == VKT_OK) {
        const int64_t shape[1] = {(int64_t)count};
        const vkt_st_entry e[2] = {{"exp_avg", 1, shape, m1}, {"exp_avg_sq", 1, shape, m2}};
        const char *meta[] = {"optimizer", "AdamW"};
        snprintf(path, sizeof path, "%s/adapter_optimizer.safetensors", dir);
        s = vkt_safetensors_write(path, e, 2, meta, 1, err);
    }
    free(m1), free(m2);
    snprintf(path, sizeof path, "%s/lora_base.json", dir);
    if (s == VKT_OK) s = vkt_json_file_write(path, base_id, err);
    return s;
}

vkt_status vkt_lora_resume_base(const char *dir, char *base, size_t n, vkt_error *err) {
    char path[4200];
    snprintf(path, sizeof path, "%s/lora_base.json", dir);
    json_t *saved = NULL, *now = NULL;
    VKT_TRY(vkt_json_file_read(path, 1, &saved, err));
    const char *b = json_string_value(json_object_get(saved, "base"));
    vkt_status s = b ? VKT_OK : vkt_fail(err, VKT_ERR_FORMAT, "%s: no \"base\"", path);
    if (s == VKT_OK) snprintf(base, n, "%s", b);
    if (s == VKT_OK) s = vkt_lora_base_identity(base, &now, err);
    const json_t *fa = json_object_get(saved, "files"),
                 *fb = now ? json_object_get(now, "files") : NULL;
    for (size_t i = 0; s == VKT_OK && i < json_array_size(fa); i++) {
        const json_t *x = json_array_get(fa, i), *y = NULL;
        const char *name = json_string_value(json_object_get(x, "name"));
        for (size_t k = 0; k < json_array_size(fb) && !y; k++)
            if (name &&
                !strcmp(name, json_string_value(json_object_get(json_array_get(fb, k), "name"))))
                y = json_array_get(fb, k);
        if (!name || !y)
            s = vkt_fail(err, VKT_ERR_FORMAT,
                         "%s/%s: the base file the adapters were trained on is missing", base,
                         name ? name : "?");
        else if (!json_equal(x, y))
            s = vkt_fail(err, VKT_ERR_FORMAT,
                         "%s/%s: changed since the adapters were trained on it (size or "
                         "content hash differs from %s); resuming would mix two bases",
                         base, name, path);
    }
    if (s == VKT_OK && json_array_size(fa) != json_array_size(fb))
        s = vkt_fail(err, VKT_ERR_FORMAT,
                     "%s: holds files the adapters were not trained with (%s lists %zu)", base,
                     path, json_array_size(fa));
    json_decref(saved), json_decref(now);
    return s;
}

vkt_status vkt_lora_load_optim(vkt_lora *a, const char *dir) {
    vkt_error *err = vkt_ctx_err(vkt_lora_ctx(a));
    char path[4200];
    snprintf(path, sizeof path, "%s/adapter_optimizer.safetensors", dir);
    vkt_safetensors st;
    VKT_TRY(vkt_safetensors_open(&st, path, err));
    const uint64_t count = vkt_lora_count(a);
    float *m1 = malloc(count * sizeof *m1), *m2 = malloc(count * sizeof *m2);
    vkt_status s =
        m1 && m2 ? VKT_OK
                 : vkt_fail(err, VKT_ERR_NOMEM, "LoRA moments: 2 x %" PRIu64 " floats", count);
    for (int k = 0; k < 2 && s == VKT_OK; k++) {
        const char *name = k ? "exp_avg_sq" : "exp_avg";
        const vkt_st_tensor *t = vkt_safetensors_find(&st, name);
        if (!t || t->ndim != 1 || (uint64_t)t->shape[0] != count)
            s = vkt_fail(err, VKT_ERR_FORMAT,
                         "%s: %s must be a vector of %" PRIu64 " floats (the adapter's size)", path,
                         name, count);
        else
            s = vkt_safetensors_read_f32(&st, name, k ? m2 : m1, count, err);
    }
    if (s == VKT_OK && (s = vkt_lora_set_optim(a, m1, m2)) != VKT_OK)
        s = vkt_fail_wrap(err, "LoRA moments");
    vkt_safetensors_close(&st);
    free(m1), free(m2);
    return s;
}
