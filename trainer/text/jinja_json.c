// jinja_json.c: JSON in and out of templates. Out: the tojson filter as transformers
// defines it, json.dumps(x, ensure_ascii=False, indent=, separators=, sort_keys=), so tool
// schemas print exactly as Python prints them. In: template variables given as JSON.
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jinja_internal.h"

static void put(vkt_bytebuf *b, const char *s) { vkt_bytebuf_put(b, s, strlen(s)); }

// A JSON string as json.dumps writes it; ascii: ensure_ascii=True (\uXXXX, surrogate pairs).
static void write_json_str(vkt_bytebuf *b, const char *s, size_t n, bool ascii) {
    put(b, "\"");
    size_t run = 0; // bytes copied as they are, flushed before each escape
    for (size_t i = 0; i < n;) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\' && (ch < 0x80 || !ascii)) {
            i++;
            continue;
        }
        vkt_bytebuf_put(b, s + run, i - run);
        char esc[16];
        size_t len = 1;
        switch (ch) {
        case '"': put(b, "\\\""); break;
        case '\\': put(b, "\\\\"); break;
        case '\n': put(b, "\\n"); break;
        case '\r': put(b, "\\r"); break;
        case '\t': put(b, "\\t"); break;
        case '\b': put(b, "\\b"); break;
        case '\f': put(b, "\\f"); break;
        default: {
            uint32_t cp = ch < 0x80 ? ch : jinja_utf8_next(s + i, n - i, &len);
            if (cp > 0x10ffff) cp = 0xfffd; // an invalid byte
            if (cp >= 0x10000) {
                cp -= 0x10000;
                snprintf(esc, sizeof esc, "\\u%04x\\u%04x", 0xd800 + (cp >> 10),
                         0xdc00 + (cp & 0x3ff));
            } else {
                snprintf(esc, sizeof esc, "\\u%04x", cp);
            }
            put(b, esc);
        }
        }
        i += len;
        run = i;
    }
    vkt_bytebuf_put(b, s + run, n - run);
    put(b, "\"");
}

static void write_json_float(vkt_bytebuf *b, double f) {
    if (isnan(f)) {
        put(b, "NaN");
    } else if (isinf(f)) {
        put(b, f < 0 ? "-Infinity" : "Infinity");
    } else {
        char tmp[32];
        jv_float_repr(f, tmp);
        put(b, tmp);
    }
}

static void newline_indent(vkt_bytebuf *b, const jinja_json_opts *o, int level) {
    put(b, "\n");
    for (int i = 0; i < level; i++) {
        if (o->indent_str)
            vkt_bytebuf_put(b, o->indent_str, o->indent_len);
        else
            for (int k = 0; k < o->indent; k++) put(b, " ");
    }
}

static bool indented(const jinja_json_opts *o) { return o->indent_str || o->indent >= 0; }

// A dict key as json.dumps converts it: str, int, float, bool and None only.
static bool write_key(jinja_ctx *c, vkt_bytebuf *b, jv k, bool ascii) {
    char tmp[40];
    switch ((jv_kind)k.kind) {
    case JV_STR: write_json_str(b, k.u.s.p, k.u.s.n, ascii); return true;
    case JV_NONE: put(b, "\"null\""); return true;
    case JV_BOOL: put(b, k.u.b ? "\"true\"" : "\"false\""); return true;
    case JV_INT:
        snprintf(tmp, sizeof tmp, "\"%" PRId64 "\"", k.u.i);
        put(b, tmp);
        return true;
    case JV_FLOAT:
        put(b, "\"");
        write_json_float(b, k.u.f);
        put(b, "\"");
        return true;
    default:
        return jinja_fail(c, VKT_ERR_FORMAT,
                          "tojson: keys must be str, int, float, bool or None, not %s",
                          jv_type_name(k));
    }
}

// The order sort_keys gives: Python's sorted() on the keys.
static bool sorted_order(jinja_ctx *c, const jv_dict *d, size_t **order) {
    size_t *ord = jinja_ctx_alloc(c, (d->n ? d->n : 1) * sizeof(size_t));
    if (!ord) return false;
    for (size_t i = 0; i < d->n; i++) { // insertion sort: stable, and dicts are small
        size_t j = i;
        if (!jinja_step(c, (long long)i)) return false;
        while (j > 0) {
            int cmp;
            if (!jv_compare(c, d->keys[i], d->keys[ord[j - 1]], "<", &cmp)) return false;
            if (cmp >= 0) break;
            ord[j] = ord[j - 1];
            j--;
        }
        ord[j] = i;
    }
    *order = ord;
    return true;
}

static bool dump_dict(jinja_ctx *c, vkt_bytebuf *b, const jv_dict *d, const jinja_json_opts *o,
                      int depth) {
    if (d->n == 0) {
        put(b, "{}");
        return true;
    }
    size_t *ord = NULL;
    if (o->sort_keys && !sorted_order(c, d, &ord)) return false;
    put(b, "{");
    for (size_t i = 0; i < d->n; i++) {
        size_t k = ord ? ord[i] : i;
        if (i) vkt_bytebuf_put(b, o->item_sep, o->item_sep_len);
        if (indented(o)) newline_indent(b, o, depth + 1);
        if (!write_key(c, b, d->keys[k], o->ensure_ascii)) return false;
        vkt_bytebuf_put(b, o->key_sep, o->key_sep_len);
        if (!jinja_json_dump(c, b, d->vals[k], o, depth + 1)) return false;
    }
    if (indented(o)) newline_indent(b, o, depth);
    put(b, "}");
    return true;
}

static bool dump_list(jinja_ctx *c, vkt_bytebuf *b, const jv_list *l, const jinja_json_opts *o,
                      int depth) {
    if (l->n == 0) {
        put(b, "[]");
        return true;
    }
    put(b, "[");
    for (size_t i = 0; i < l->n; i++) {
        if (i) vkt_bytebuf_put(b, o->item_sep, o->item_sep_len);
        if (indented(o)) newline_indent(b, o, depth + 1);
        if (!jinja_json_dump(c, b, l->items[i], o, depth + 1)) return false;
    }
    if (indented(o)) newline_indent(b, o, depth);
    put(b, "]");
    return true;
}

bool jinja_json_dump(jinja_ctx *c, vkt_bytebuf *b, jv v, const jinja_json_opts *o, int depth) {
    if (depth > JINJA_MAX_VALUE_DEPTH)
        return jinja_fail(c, VKT_ERR_ARG, "tojson: values nested more than %d deep",
                          JINJA_MAX_VALUE_DEPTH);
    if (!jinja_step(c, 1)) return false;
    if (b->n > JINJA_MAX_OUTPUT)
        return jinja_fail(c, VKT_ERR_ARG, "tojson: text longer than %zu MiB",
                          JINJA_MAX_OUTPUT >> 20);
    char tmp[32];
    switch ((jv_kind)v.kind) {
    case JV_NONE: put(b, "null"); return true;
    case JV_BOOL: put(b, v.u.b ? "true" : "false"); return true;
    case JV_INT:
        snprintf(tmp, sizeof tmp, "%" PRId64, v.u.i);
        put(b, tmp);
        return true;
    case JV_FLOAT: write_json_float(b, v.u.f); return true;
    case JV_STR: write_json_str(b, v.u.s.p, v.u.s.n, o->ensure_ascii); return true;
    case JV_LIST:
        if (v.flags & JV_F_LAZY) break;
        return dump_list(c, b, v.u.l, o, depth);
    case JV_DICT: return dump_dict(c, b, v.u.d, o, depth);
    default: break;
    }
    return jinja_fail(c, VKT_ERR_FORMAT, "tojson: Object of type %s is not JSON serializable",
                      jv_type_name(v));
}

static bool from_json_object(jinja_ctx *c, const json_t *j, jv *out, int depth) {
    if (!jv_dict_new(c, json_object_size(j), out)) return false;
    const char *key;
    size_t key_len;
    json_t *val;
    json_object_keylen_foreach((json_t *)j, key, key_len, val) {
        jv k = jv_strn(key, key_len), v;
        if (!jinja_from_json(c, val, &v, depth + 1) || !jv_dict_set(c, out->u.d, k, v))
            return false;
    }
    return true;
}

bool jinja_from_json(jinja_ctx *c, const json_t *j, jv *out, int depth) {
    if (depth > JINJA_MAX_VALUE_DEPTH)
        return jinja_fail(c, VKT_ERR_ARG, "variables nested more than %d deep",
                          JINJA_MAX_VALUE_DEPTH);
    switch (json_typeof(j)) {
    case JSON_OBJECT: return from_json_object(c, j, out, depth);
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        if (!jv_list_new(c, n, out)) return false;
        for (size_t i = 0; i < n; i++)
            if (!jinja_from_json(c, json_array_get(j, i), &out->u.l->items[i], depth + 1))
                return false;
        return true;
    }
    case JSON_STRING: *out = jv_strn(json_string_value(j), json_string_length(j)); return true;
    case JSON_INTEGER: *out = jv_int((int64_t)json_integer_value(j)); return true;
    case JSON_REAL: *out = jv_float(json_real_value(j)); return true;
    case JSON_TRUE: *out = jv_bool(true); return true;
    case JSON_FALSE: *out = jv_bool(false); return true;
    default: *out = jv_none(); return true;
    }
}
