// hf_parts.c: the small helpers of hf_parts.h that the normalizer and pre-tokenizer parts
// share: the span list and the JSON field checks.
#include <stdlib.h>

#include "hf_parts.h"

void hf_spans_push(hf_spans *sp, size_t start, size_t end, bool match) {
    if (sp->oom) return;
    if (sp->n == sp->cap) {
        size_t cap = sp->cap ? sp->cap * 2 : 64;
        hf_span *v = realloc(sp->v, cap * sizeof *v);
        if (!v) {
            sp->oom = true;
            return;
        }
        sp->v = v;
        sp->cap = cap;
    }
    sp->v[sp->n++] = (hf_span){start, end, match};
}

vkt_status hf_json_bool(const json_t *obj, const char *key, const char *where, const char *type,
                        bool *v, vkt_error *err) {
    const json_t *f = json_object_get(obj, key);
    if (!f) return VKT_OK;
    if (!json_is_boolean(f))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: %s: '%s' must be a boolean", where, type, key);
    *v = json_is_true(f);
    return VKT_OK;
}

vkt_status hf_json_str(const json_t *obj, const char *key, bool required, const char *where,
                       const char *type, const char **v, size_t *len, vkt_error *err) {
    const json_t *f = json_object_get(obj, key);
    if (!f) {
        if (required)
            return vkt_fail(err, VKT_ERR_FORMAT, "%s: %s: missing '%s'", where, type, key);
        return VKT_OK;
    }
    if (!json_is_string(f))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: %s: '%s' must be a string", where, type, key);
    *v = json_string_value(f);
    if (len) *len = json_string_length(f);
    return VKT_OK;
}

vkt_status hf_json_type(const json_t *node, const char *where, const char **type, vkt_error *err) {
    const json_t *t = json_object_get(node, "type");
    if (!t) return vkt_fail(err, VKT_ERR_FORMAT, "%s: missing 'type'", where);
    if (!json_is_string(t))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: 'type' must be a string", where);
    *type = json_string_value(t);
    return VKT_OK;
}
