// checkpoint.c: Hugging Face model directories in and out.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic_file.h"
#include "checkpoint.h"
#include "checkpoint_shards.h"
#include "safetensors.h"

static void join(char *out, size_t n, const char *dir, const char *file) {
    snprintf(out, n, "%s/%s", dir, file);
}

static vkt_status read_text(const char *path, char **text, vkt_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return vkt_fail(err, VKT_ERR_IO, "%s: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *b = malloc(cap + 1);
    while (b) {
        n += fread(b + n, 1, cap - n, f);
        if (n < cap) break;
        if (cap > (16u << 20)) {
            free(b), fclose(f);
            return vkt_fail(err, VKT_ERR_FORMAT, "%s: larger than 16 MiB, not a config file", path);
        }
        char *nb = realloc(b, 2 * cap + 1);
        if (!nb) free(b);
        b = nb, cap *= 2;
    }
    fclose(f);
    if (!b) return vkt_fail(err, VKT_ERR_NOMEM, "%s", path);
    b[n] = 0;
    *text = b;
    return VKT_OK;
}

vkt_status vkt_checkpoint_config(const char *dir, vkt_model_config *cfg, vkt_error *err) {
    char path[4096], *text = NULL;
    join(path, sizeof path, dir, "config.json");
    VKT_TRY(read_text(path, &text, err));
    vkt_status s = vkt_model_config_from_json(text, path, cfg, err);
    free(text);
    return s;
}

// The name a checkpoint written by transformers may use instead of ours.
static const char *alt_name(const char *name) {
    return strncmp(name, "transformer.", 12) == 0 ? name + 12 : NULL;
}

// Tensors transformers keeps in state dicts that are not parameters.
static bool ignorable(const char *name) {
    size_t n = strlen(name);
    const char *suffix[] = {".attn.bias", ".attn.masked_bias", ".rotary_emb.inv_freq"};
    for (int i = 0; i < 3; i++) {
        size_t k = strlen(suffix[i]);
        if (n >= k && !strcmp(name + n - k, suffix[i])) return true;
    }
    return false;
}

vkt_status vkt_checkpoint_read_params(const char *dir, const vkt_model_config *cfg,
                                      const vkt_params *ps, float *params, vkt_error *err) {
    return vkt_checkpoint_read_params_opt(dir, cfg, ps, params, false, err);
}

// The file's tensor for parameter p: its own name, or (GPT-2) the name without "transformer.";
// a file with both spellings is refused (which one is meant?).
static vkt_status find_param(const vkt_ckpt *h, const vkt_param *p, const vkt_model_config *cfg,
                             vkt_ckpt_tensor *t, vkt_error *err) {
    const char *alt = alt_name(p->name);
    bool has = vkt_checkpoint_has(h, p->name), has_alt = alt && vkt_checkpoint_has(h, alt);
    if (has && has_alt)
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: holds both '%s' and '%s'", vkt_checkpoint_path(h),
                        p->name, alt);
    if (!has && !has_alt)
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "%s: missing tensor '%s' (config.json says %d layers, width %d)",
                        vkt_checkpoint_path(h), p->name, cfg->layers, cfg->width);
    return vkt_checkpoint_tensor(h, has ? p->name : alt, t, err);
}

// Everything that can be wrong with the tensor of p, before anything is written.
static vkt_status check_param(const vkt_ckpt_tensor *t, const vkt_param *p, bool allow_nonfinite,
                              vkt_error *err) {
    bool shape_ok = t->ndim == p->ndim && t->shape[0] == p->shape[0] &&
                    (p->ndim == 1 || t->shape[1] == p->shape[1]);
    if (!shape_ok) {
        char got[96] = "", want[64];
        for (int d = 0, o = 0; d < t->ndim && o < 90; d++)
            o += snprintf(got + o, sizeof got - (size_t)o, d ? ", %lld" : "%lld",
                          (long long)t->shape[d]);
        if (p->ndim == 1)
            snprintf(want, sizeof want, "%lld", (long long)p->shape[0]);
        else
            snprintf(want, sizeof want, "%lld, %lld", (long long)p->shape[0],
                     (long long)p->shape[1]);
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "%s: tensor '%s' has shape [%s]; config.json implies [%s]", t->file,
                        t->name, got, want);
    }
    VKT_TRY(vkt_ckpt_tensor_check_dtype(t, err));
    float v = 0;
    int64_t at = allow_nonfinite ? -1 : vkt_ckpt_tensor_first_nonfinite(t, &v);
    if (at >= 0)
        return vkt_fail(
            err, VKT_ERR_FORMAT,
            "%s: tensor '%s' holds a non-finite value (%g at index %lld): the weights have "
            "diverged (--allow-nonfinite loads them anyway)",
            t->file, t->name, (double)v, (long long)at);
    return VKT_OK;
}

// Anything else in the files means they are not the model config.json describes.
static vkt_status check_extra(const vkt_ckpt *h, const vkt_model_config *cfg, const vkt_params *ps,
                              vkt_error *err) {
    for (int i = 0; i < vkt_checkpoint_count(h); i++) {
        const char *name = vkt_checkpoint_name(h, i);
        if (ignorable(name)) continue;
        bool known = vkt_params_by_name(ps, name) != NULL;
        if (!known) {
            char full[256];
            snprintf(full, sizeof full, "transformer.%s", name);
            known = vkt_params_by_name(ps, full) != NULL;
        }
        if (!known && cfg->tied && !strcmp(name, "lm_head.weight")) known = true; // tied copy
        if (!known) {
            vkt_ckpt_tensor t;
            VKT_TRY(vkt_checkpoint_tensor(h, name, &t, err));
            const char *arch[] = {"gpt2", "llama", "mistral", "qwen2", "qwen3"};
            return vkt_fail(err, VKT_ERR_FORMAT,
                            "%s: unexpected tensor '%s' for a %s model of %d layers", t.file, name,
                            (unsigned)cfg->arch < 5 ? arch[cfg->arch] : "?", cfg->layers);
        }
    }
    return VKT_OK;
}

vkt_status vkt_checkpoint_validate(const vkt_ckpt *h, const vkt_model_config *cfg,
                                   const vkt_params *ps, bool allow_nonfinite, vkt_error *err) {
    vkt_ckpt_tensor t;
    for (int i = 0; i < ps->n; i++) {
        VKT_TRY(find_param(h, &ps->p[i], cfg, &t, err));
        VKT_TRY(check_param(&t, &ps->p[i], allow_nonfinite, err));
    }
    return check_extra(h, cfg, ps, err);
}

vkt_status vkt_checkpoint_param_tensor(const vkt_ckpt *h, const vkt_model_config *cfg,
                                       const vkt_param *p, vkt_ckpt_tensor *t, vkt_error *err) {
    return find_param(h, p, cfg, t, err);
}

// Validates every tensor first, then converts them one by one straight into params (and
// zeroes the alignment gaps): on any error params is untouched, and the host holds the
// mapped files and this one float copy.
vkt_status vkt_checkpoint_read_params_opt(const char *dir, const vkt_model_config *cfg,
                                          const vkt_params *ps, float *params, bool allow_nonfinite,
                                          vkt_error *err) {
    vkt_ckpt *h;
    VKT_TRY(vkt_checkpoint_open(dir, &h, err));
    vkt_ckpt_tensor t;
    vkt_status s = vkt_checkpoint_validate(h, cfg, ps, allow_nonfinite, err);
    for (int i = 0; i < ps->n && s == VKT_OK; i++) {
        const vkt_param *p = &ps->p[i];
        s = find_param(h, p, cfg, &t, err);
        if (s != VKT_OK) break;
        vkt_ckpt_tensor_to_f32(&t, params + p->offset);
        uint64_t end = i + 1 < ps->n ? ps->p[i + 1].offset : ps->total;
        memset(params + p->offset + p->count, 0, (end - p->offset - p->count) * sizeof *params);
    }
    vkt_checkpoint_close(h);
    return s;
}

static vkt_status write_tensors(const char *path, const vkt_params *ps, const float *data,
                                const char *prefix, const char *const *meta, int n_meta,
                                vkt_error *err) {
    vkt_st_entry *e = calloc((size_t)ps->n, sizeof *e);
    char(*names)[128] = calloc((size_t)ps->n, sizeof *names);
    if (!e || !names) {
        free(e), free(names);
        return vkt_fail(err, VKT_ERR_NOMEM, "%s", path);
    }
    for (int i = 0; i < ps->n; i++) {
        snprintf(names[i], sizeof names[i], "%s%s", prefix, ps->p[i].name);
        e[i] = (vkt_st_entry){names[i], ps->p[i].ndim, ps->p[i].shape, data + ps->p[i].offset};
    }
    vkt_status s = vkt_safetensors_write(path, e, ps->n, meta, n_meta, err);
    free(e), free(names);
    return s;
}

vkt_status vkt_checkpoint_write_params(const char *dir, const vkt_model_config *cfg,
                                       const vkt_params *ps, const float *params, vkt_error *err) {
    VKT_TRY(vkt_make_dirs(dir, err));
    char path[4096], *json;
    VKT_TRY(vkt_model_config_to_json(cfg, &json, err));
    join(path, sizeof path, dir, "config.json");
    vkt_atomic_file af;
    vkt_status s = vkt_atomic_file_open(&af, path, err);
    if (s == VKT_OK) s = vkt_atomic_file_write(&af, json, strlen(json), err);
    if (s == VKT_OK) s = vkt_atomic_file_write(&af, "\n", 1, err);
    if (s == VKT_OK)
        s = vkt_atomic_file_commit(&af, err);
    else
        vkt_atomic_file_abort(&af);
    free(json);
    if (s != VKT_OK) return s;
    join(path, sizeof path, dir, "model.safetensors");
    const char *meta[] = {"format", "pt"};
    return write_tensors(path, ps, params, "", meta, 1, err);
}

vkt_status vkt_checkpoint_write_optim(const char *dir, const vkt_params *ps, const float *m1,
                                      const float *m2, vkt_error *err) {
    VKT_TRY(vkt_make_dirs(dir, err));
    // Two tensors per parameter in one file: moments share the parameter table layout.
    vkt_st_entry *e = calloc(2 * (size_t)ps->n, sizeof *e);
    char(*names)[140] = calloc(2 * (size_t)ps->n, sizeof *names);
    if (!e || !names) {
        free(e), free(names);
        return vkt_fail(err, VKT_ERR_NOMEM, "optimizer state");
    }
    for (int i = 0; i < ps->n; i++)
        for (int k = 0; k < 2; k++) {
            snprintf(names[2 * i + k], sizeof names[0], "%s.%s", k ? "exp_avg_sq" : "exp_avg",
                     ps->p[i].name);
            e[2 * i + k] = (vkt_st_entry){names[2 * i + k], ps->p[i].ndim, ps->p[i].shape,
                                          (k ? m2 : m1) + ps->p[i].offset};
        }
    char path[4096];
    join(path, sizeof path, dir, "optimizer.safetensors");
    const char *meta[] = {"optimizer", "AdamW"};
    vkt_status s = vkt_safetensors_write(path, e, 2 * ps->n, meta, 1, err);
    free(e), free(names);
    return s;
}

vkt_status vkt_checkpoint_read_optim(const char *dir, const vkt_params *ps, float *m1, float *m2,
                                     vkt_error *err) {
    char path[4096];
    join(path, sizeof path, dir, "optimizer.safetensors");
    vkt_safetensors st;
    VKT_TRY(vkt_safetensors_open(&st, path, err));
    vkt_status s = VKT_OK;
    float *t1 = calloc(ps->total, sizeof *t1), *t2 = calloc(ps->total, sizeof *t2);
    if (!t1 || !t2) s = vkt_fail(err, VKT_ERR_NOMEM, "%s", path);
    for (int i = 0; i < ps->n && s == VKT_OK; i++)
        for (int k = 0; k < 2 && s == VKT_OK; k++) {
            char name[160];
            snprintf(name, sizeof name, "%s.%s", k ? "exp_avg_sq" : "exp_avg", ps->p[i].name);
            const vkt_st_tensor *t = vkt_safetensors_find(&st, name);
            if (!t)
                s = vkt_fail(err, VKT_ERR_FORMAT, "%s: missing tensor '%s'", path, name);
            else if (t->numel != (int64_t)ps->p[i].count)
                s = vkt_fail(err, VKT_ERR_FORMAT,
                             "%s: tensor '%s' has %lld elements, the model %llu", path, name,
                             (long long)t->numel, (unsigned long long)ps->p[i].count);
            else
                s = vkt_safetensors_read_f32(&st, name, (k ? t2 : t1) + ps->p[i].offset, t->numel,
                                             err);
        }
    if (s == VKT_OK) {
        memcpy(m1, t1, ps->total * 4);
        memcpy(m2, t2, ps->total * 4);
    }
    free(t1), free(t2);
    vkt_safetensors_close(&st);
    return s;
}

vkt_status vkt_checkpoint_load_model(vkt_ctx *ctx, const char *dir, vkt_model **out) {
    return vkt_checkpoint_load_model_opt(ctx, dir, false, out);
}

vkt_status vkt_checkpoint_save_model(vkt_model *m, const char *dir, bool with_optim) {
    vkt_error *err = vkt_ctx_err(vkt_model_ctx(m));
    const vkt_params *ps = vkt_model_params(m);
    float *h = malloc(ps->total * sizeof *h),
          *h2 = with_optim ? malloc(ps->total * sizeof *h2) : NULL;
    vkt_status s =
        (h && (!with_optim || h2)) ? VKT_OK : vkt_fail(err, VKT_ERR_NOMEM, "checkpoint buffers");
    if (s == VKT_OK) s = vkt_model_get_params(m, h);
    if (s == VKT_OK) s = vkt_checkpoint_write_params(dir, vkt_model_cfg(m), ps, h, err);
    if (s == VKT_OK && with_optim) {
        s = vkt_model_get_optim(m, h, h2);
        if (s == VKT_OK) s = vkt_checkpoint_write_optim(dir, ps, h, h2, err);
    }
    free(h), free(h2);
    return s;
}
