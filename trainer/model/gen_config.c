// gen_config.c: generation_config.json's sampling defaults (see gen_config.h).
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>

#include "gen_config.h"
#include "json_file.h"

// A number under key, checked against [lo, hi]; false when absent.
static vkt_status number(const json_t *j, const char *path, const char *key, double lo, double hi,
                         bool *has, double *out, vkt_error *err) {
    const json_t *v = json_object_get(j, key);
    *has = v && !json_is_null(v);
    if (!*has) return VKT_OK;
    if (!json_is_number(v) || !(json_number_value(v) >= lo && json_number_value(v) <= hi))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: %s must be a number in [%g, %g]", path, key, lo,
                        hi);
    *out = json_number_value(v);
    return VKT_OK;
}

vkt_status vkt_gen_config_apply(const char *dir, unsigned given, vkt_gen_opts *o, unsigned *applied,
                                vkt_error *err) {
    *applied = 0;
    char path[4200];
    snprintf(path, sizeof path, "%s/generation_config.json", dir);
    struct stat st;
    if (stat(path, &st) != 0) return VKT_OK;
    json_t *j = NULL;
    VKT_TRY(vkt_json_file_read(path, 1, &j, err));
    const json_t *ds = json_object_get(j, "do_sample");
    vkt_status s = VKT_OK;
    if (ds && !json_is_boolean(ds))
        s = vkt_fail(err, VKT_ERR_FORMAT, "%s: do_sample must be true or false", path);
    bool ht = false, hk = false, hp = false;
    double t = 1, k = 0, p = 1;
    if (s == VKT_OK) s = number(j, path, "temperature", 0, 1e6, &ht, &t, err);
    if (s == VKT_OK) s = number(j, path, "top_k", 0, 1 << 30, &hk, &k, err);
    if (s == VKT_OK) s = number(j, path, "top_p", 1e-9, 1, &hp, &p, err);
    if (s == VKT_OK && hk && k != floor(k))
        s = vkt_fail(err, VKT_ERR_FORMAT, "%s: top_k must be an integer", path);
    const bool sample = !ds || json_is_true(ds);
    if (s == VKT_OK && !sample && !(given & (VKT_GENCFG_GREEDY | VKT_GENCFG_TEMPERATURE)))
        o->greedy = true, *applied |= VKT_GENCFG_GREEDY;
    if (s == VKT_OK && sample) {
        if (ht && !(given & VKT_GENCFG_TEMPERATURE))
            o->temperature = t, *applied |= VKT_GENCFG_TEMPERATURE;
        if (hk && !(given & VKT_GENCFG_TOP_K)) o->top_k = (int)k, *applied |= VKT_GENCFG_TOP_K;
        if (hp && !(given & VKT_GENCFG_TOP_P)) o->top_p = p, *applied |= VKT_GENCFG_TOP_P;
    }
    json_decref(j);
    return s;
}
