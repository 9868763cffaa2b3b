// lora_peft.c: LoRA adapters as PEFT files. PEFT's save_pretrained writes
//   DIR/adapter_model.safetensors  "base_model.model." + the module path + ".lora_A.weight"
//                                  (the adapter name dropped), metadata {"format": "pt"}
//   DIR/adapter_config.json        LoraConfig's fields, keys sorted, indent 2
// and PeftModel.from_pretrained reads them back; this file writes and reads the same.
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "atomic_file.h"
#include "finite.h"
#include "json_file.h"
#include "lora.h"
#include "safetensors.h"

void vkt_lora_tensor_name(const vkt_lora_target *t, char which, char *buf, int size) {
    snprintf(buf, (size_t)size, "base_model.model.model.layers.%d.%s.%s.lora_%c.weight", t->layer,
             vkt_lora_module_parent(t->module), vkt_lora_module_name(t->module), which);
}

// The double nearest the shortest decimal that reads back as f (0.05f -> 0.05), so the
// JSON says what the user typed.
static double short_real(float f) {
    char buf[32];
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)f);
        if ((float)strtod(buf, NULL) == f) break;
    }
    return strtod(buf, NULL);
}

static json_t *number(float f) {
    if (f == floorf(f) && fabsf(f) < 1e9f) return json_integer((json_int_t)f);
    return json_real(short_real(f));
}

// adapter_config.json with the keys PEFT's LoraConfig writes (sorted, as json.dumps
// with sort_keys), defaults for everything vkt does not use.
static json_t *config_json(const vkt_lora_config *c, const char *base) {
    json_t *o = json_object(), *tm = json_array();
    for (int i = 0; i < VKT_LORA_MODULES; i++)
        if (c->targets & (1u << i)) json_array_append_new(tm, json_string(vkt_lora_module_name(i)));
    json_object_set_new(o, "alpha_pattern", json_object());
    json_object_set_new(o, "auto_mapping", json_null());
    json_object_set_new(o, "base_model_name_or_path", base ? json_string(base) : json_null());
    json_object_set_new(o, "bias", json_string("none"));
    json_object_set_new(o, "fan_in_fan_out", json_false());
    json_object_set_new(o, "inference_mode", json_true());
    json_object_set_new(o, "init_lora_weights", json_true());
    json_object_set_new(o, "layer_replication", json_null());
    json_object_set_new(o, "layers_pattern", json_null());
    json_object_set_new(o, "layers_to_transform", json_null());
    json_object_set_new(o, "loftq_config", json_object());
    json_object_set_new(o, "lora_alpha", number(c->alpha));
    json_object_set_new(o, "lora_dropout", json_real(short_real(c->dropout)));
    json_object_set_new(o, "megatron_config", json_null());
    json_object_set_new(o, "megatron_core", json_string("megatron.core"));
    json_object_set_new(o, "modules_to_save", json_null());
    json_object_set_new(o, "peft_type", json_string("LORA"));
    json_object_set_new(o, "r", json_integer(c->rank));
    json_object_set_new(o, "rank_pattern", json_object());
    json_object_set_new(o, "revision", json_null());
    json_object_set_new(o, "target_modules", tm);
    json_object_set_new(o, "task_type", json_string("CAUSAL_LM"));
    json_object_set_new(o, "use_dora", json_false());
    json_object_set_new(o, "use_rslora", json_false());
    return o;
}

vkt_status vkt_lora_save(vkt_lora *a, const char *dir, const char *base_model_path) {
    vkt_error *err = vkt_ctx_err(vkt_lora_ctx(a));
    VKT_TRY(vkt_make_dirs(dir, err));
    const int n = vkt_lora_n_targets(a), r = vkt_lora_cfg(a)->rank;
    const uint64_t total = vkt_lora_count(a);
    float *h = malloc(total * sizeof *h);
    vkt_st_entry *e = calloc(2 * (size_t)n, sizeof *e);
    char(*nm)[128] = calloc(2 * (size_t)n, sizeof *nm);
    int64_t(*shape)[2] = calloc(2 * (size_t)n, sizeof *shape);
    vkt_status s = VKT_OK;
    if (!h || !e || !nm || !shape) s = vkt_fail(err, VKT_ERR_NOMEM, "lora save");
    if (s == VKT_OK) s = vkt_lora_get(a, h);
    char path[4200];
    if (s == VKT_OK) {
        for (int k = 0; k < n; k++) {
            const vkt_lora_target *t = vkt_lora_target_at(a, k);
            vkt_lora_tensor_name(t, 'A', nm[2 * k], 128);
            vkt_lora_tensor_name(t, 'B', nm[2 * k + 1], 128);
            shape[2 * k][0] = r, shape[2 * k][1] = t->in;
            shape[2 * k + 1][0] = t->out, shape[2 * k + 1][1] = r;
            e[2 * k] = (vkt_st_entry){nm[2 * k], 2, shape[2 * k], h + t->a_offset};
            e[2 * k + 1] = (vkt_st_entry){nm[2 * k + 1], 2, shape[2 * k + 1], h + t->b_offset};
        }
        snprintf(path, sizeof path, "%s/adapter_model.safetensors", dir);
        const char *meta[] = {"format", "pt"};
        s = vkt_safetensors_write(path, e, 2 * n, meta, 1, err);
    }
    if (s == VKT_OK) {
        json_t *o = config_json(vkt_lora_cfg(a), base_model_path);
        snprintf(path, sizeof path, "%s/adapter_config.json", dir);
        s = o ? vkt_json_file_write(path, o, err) : vkt_fail(err, VKT_ERR_NOMEM, "%s", path);
        json_decref(o);
    }
    free(h), free(e), free(nm), free(shape);
    return s;
}

// A key that must be absent, null, false, or an empty object / array (features vkt lacks).
static vkt_status want_unset(const char *path, json_t *o, const char *key, vkt_error *err) {
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v) || json_is_false(v)) return VKT_OK;
    if (json_is_object(v) && json_object_size(v) == 0) return VKT_OK;
    if (json_is_array(v) && json_array_size(v) == 0) return VKT_OK;
    return vkt_fail(err, VKT_ERR_UNSUPPORTED,
                    "%s: '%s' is set; vkt's LoRA supports only its default", path, key);
}

static vkt_status parse_targets(const char *path, json_t *tm, unsigned *targets, vkt_error *err) {
    *targets = 0;
    if (json_is_string(tm)) {
        // PEFT reads a string as a regular expression; vkt takes only a plain module name.
        vkt_error e2;
        if (vkt_lora_targets_parse(json_string_value(tm), targets, &e2) != VKT_OK ||
            strchr(json_string_value(tm), ','))
            return vkt_fail(err, VKT_ERR_UNSUPPORTED,
                            "%s: target_modules '%s' (a pattern) is not supported; list "
                            "the modules",
                            path, json_string_value(tm));
        return VKT_OK;
    }
    if (!json_is_array(tm) || json_array_size(tm) == 0)
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "%s: 'target_modules' must be a non-empty list of module names", path);
    size_t i;
    json_t *v;
    json_array_foreach(tm, i, v) {
        const char *name = json_string_value(v);
        int found = -1;
        for (int m = 0; name && m < VKT_LORA_MODULES; m++)
            if (!strcmp(name, vkt_lora_module_name(m))) found = m;
        if (found < 0)
            return vkt_fail(
                err, VKT_ERR_UNSUPPORTED,
                "%s: target_modules[%zu] '%s' is not one of q_proj, k_proj, v_proj, o_proj, "
                "gate_proj, up_proj, down_proj",
                path, i, name ? name : "(not a string)");
        *targets |= 1u << found;
    }
    return VKT_OK;
}

static vkt_status parse_config(const char *path, json_t *o, vkt_lora_config *c, vkt_error *err) {
    memset(c, 0, sizeof *c);
    json_t *v = json_object_get(o, "peft_type");
    if (!json_is_string(v) || strcmp(json_string_value(v), "LORA"))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: 'peft_type' must be \"LORA\"", path);
    v = json_object_get(o, "r");
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 65536)
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: 'r' must be an integer >= 1", path);
    c->rank = (int)json_integer_value(v);
    v = json_object_get(o, "lora_alpha");
    if (!json_is_number(v) || !isfinite(json_number_value(v)))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: 'lora_alpha' must be a number", path);
    c->alpha = (float)json_number_value(v);
    v = json_object_get(o, "lora_dropout");
    if (v && !json_is_null(v)) {
        if (!json_is_number(v) || !(json_number_value(v) >= 0 && json_number_value(v) < 1))
            return vkt_fail(err, VKT_ERR_FORMAT, "%s: 'lora_dropout' must be a number in [0, 1)",
                            path);
        c->dropout = (float)json_number_value(v);
    }
    v = json_object_get(o, "target_modules");
    if (!v) return vkt_fail(err, VKT_ERR_FORMAT, "%s: 'target_modules' is missing", path);
    VKT_TRY(parse_targets(path, v, &c->targets, err));
    v = json_object_get(o, "bias");
    if (v && !json_is_null(v) && (!json_is_string(v) || strcmp(json_string_value(v), "none")))
        return vkt_fail(err, VKT_ERR_UNSUPPORTED, "%s: 'bias' must be \"none\"", path);
    const char *unset[] = {"fan_in_fan_out",
                           "use_rslora",
                           "use_dora",
                           "lora_bias",
                           "rank_pattern",
                           "alpha_pattern",
                           "layers_to_transform",
                           "layer_replication",
                           "modules_to_save",
                           "trainable_token_indices"};
    for (size_t i = 0; i < sizeof unset / sizeof *unset; i++)
        VKT_TRY(want_unset(path, o, unset[i], err));
    return VKT_OK;
}

// Reads target k's A or B from st into h, checking its shape; the error names the tensor.
static vkt_status read_tensor(const vkt_safetensors *st, const char *name, int64_t rows,
                              int64_t cols, const char *shape_hint, float *h, vkt_error *err) {
    const vkt_st_tensor *t = vkt_safetensors_find(st, name);
    if (!t) return vkt_fail(err, VKT_ERR_FORMAT, "%s: missing tensor '%s'", st->path, name);
    if (t->ndim != 2 || t->shape[0] != rows || t->shape[1] != cols) {
        char got[64] = "";
        int len = 0;
        for (int d = 0; d < t->ndim && len < 48; d++)
            len += snprintf(got + len, sizeof got - (size_t)len, "%s%lld", d ? ", " : "",
                            (long long)t->shape[d]);
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "%s: tensor '%s' has shape [%s], expected [%lld, %lld] %s", st->path, name,
                        got, (long long)rows, (long long)cols, shape_hint);
    }
    VKT_TRY(vkt_safetensors_read_f32(st, name, h, rows * cols, err));
    int64_t bad = vkt_first_nonfinite(h, (size_t)(rows * cols));
    if (bad >= 0)
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: tensor '%s' has a non-finite value at index %lld",
                        st->path, name, (long long)bad);
    return VKT_OK;
}

static vkt_status read_weights(vkt_lora *a, const vkt_safetensors *st, float *h, vkt_error *err) {
    const int n = vkt_lora_n_targets(a), r = vkt_lora_cfg(a)->rank;
    char name[128], hint[96];
    for (int k = 0; k < n; k++) {
        const vkt_lora_target *t = vkt_lora_target_at(a, k);
        vkt_lora_tensor_name(t, 'A', name, sizeof name);
        snprintf(hint, sizeof hint, "(r=%d from adapter_config.json, in_features %d)", r, t->in);
        VKT_TRY(read_tensor(st, name, r, t->in, hint, h + t->a_offset, err));
        vkt_lora_tensor_name(t, 'B', name, sizeof name);
        snprintf(hint, sizeof hint, "(out_features %d, r=%d from adapter_config.json)", t->out, r);
        VKT_TRY(read_tensor(st, name, t->out, r, hint, h + t->b_offset, err));
    }
    // Every tensor must be one of those: anything else is an adapter vkt would ignore.
    if (st->n_tensors != 2 * n)
        for (int i = 0; i < st->n_tensors; i++) {
            bool known = false;
            for (int k = 0; k < n && !known; k++)
                for (int w = 0; w < 2 && !known; w++) {
                    vkt_lora_tensor_name(vkt_lora_target_at(a, k), w ? 'B' : 'A', name,
                                         sizeof name);
                    known = !strcmp(name, st->tensors[i].name);
                }
            if (!known)
                return vkt_fail(err, VKT_ERR_FORMAT,
                                "%s: unexpected tensor '%s' (not a lora_A/lora_B of the configured "
                                "target_modules for a model of %d targets)",
                                st->path, st->tensors[i].name, n);
        }
    return VKT_OK;
}

vkt_status vkt_lora_load(vkt_ctx *ctx, const vkt_model_config *mc, const vkt_params *ps,
                         const char *dir, vkt_lora **out) {
    vkt_error *err = vkt_ctx_err(ctx);
    *out = NULL;
    char path[4200];
    snprintf(path, sizeof path, "%s/adapter_config.json", dir);
    json_t *o = NULL;
    VKT_TRY(vkt_json_file_read(path, 1, &o, err));
    vkt_lora_config c;
    vkt_status s = parse_config(path, o, &c, err);
    json_decref(o);
    if (s != VKT_OK) return s;
    vkt_lora *a = NULL;
    VKT_TRY(vkt_lora_create(ctx, mc, ps, &c, &a));
    snprintf(path, sizeof path, "%s/adapter_model.safetensors", dir);
    vkt_safetensors st;
    s = vkt_safetensors_open(&st, path, err);
    float *h = s == VKT_OK ? malloc(vkt_lora_count(a) * sizeof *h) : NULL;
    if (s == VKT_OK && !h) s = vkt_fail(err, VKT_ERR_NOMEM, "%s", path);
    if (s == VKT_OK) s = read_weights(a, &st, h, err);
    if (s == VKT_OK) s = vkt_lora_set(a, h);
    free(h);
    vkt_safetensors_close(&st);
    if (s != VKT_OK) {
        vkt_lora_destroy(a);
        return s;
    }
    *out = a;
    return VKT_OK;
}
