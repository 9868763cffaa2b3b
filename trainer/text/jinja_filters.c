// jinja_filters.c: the filters of x|f(...) that chat templates use, each with jinja2's
// arguments and edge cases (trim and upper take str() of anything; default replaces only
// undefined unless boolean=true; tojson is transformers' json.dumps). selectattr, map
// and friends run a test or a filter per item, the way Llama 3.1 and Mistral use them.
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jinja_internal.h"

enum {
    F_ABS,
    F_CAPITALIZE,
    F_DEFAULT,
    F_FIRST,
    F_FLOAT,
    F_INDENT,
    F_INT,
    F_ITEMS,
    F_JOIN,
    F_LAST,
    F_LENGTH,
    F_LIST,
    F_LOWER,
    F_MAP,
    F_REJECT,
    F_REJECTATTR,
    F_REPLACE,
    F_REVERSE,
    F_SAFE,
    F_SELECT,
    F_SELECTATTR,
    F_STRING,
    F_TITLE,
    F_TOJSON,
    F_TRIM,
    F_UPPER,
};

static const struct {
    const char *name;
    int id;
} filters[] = {
    {"abs", F_ABS},
    {"capitalize", F_CAPITALIZE},
    {"count", F_LENGTH},
    {"d", F_DEFAULT},
    {"default", F_DEFAULT},
    {"first", F_FIRST},
    {"float", F_FLOAT},
    {"indent", F_INDENT},
    {"int", F_INT},
    {"items", F_ITEMS},
    {"join", F_JOIN},
    {"last", F_LAST},
    {"length", F_LENGTH},
    {"list", F_LIST},
    {"lower", F_LOWER},
    {"map", F_MAP},
    {"reject", F_REJECT},
    {"rejectattr", F_REJECTATTR},
    {"replace", F_REPLACE},
    {"reverse", F_REVERSE},
    {"safe", F_SAFE},
    {"select", F_SELECT},
    {"selectattr", F_SELECTATTR},
    {"string", F_STRING},
    {"title", F_TITLE},
    {"tojson", F_TOJSON},
    {"trim", F_TRIM},
    {"upper", F_UPPER},
};

int jinja_filter_id(const char *name, size_t n) {
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++)
        if (strlen(filters[i].name) == n && memcmp(filters[i].name, name, n) == 0)
            return filters[i].id;
    return -1;
}

static const char *filter_name(int id) {
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++)
        if (filters[i].id == id) return filters[i].name;
    return "?";
}

static bool check(jinja_ctx *c, const jinja_args *a, size_t max_pos, const char *const *kw,
                  int id) {
    char what[48];
    snprintf(what, sizeof what, "filter '%s'", filter_name(id));
    return jinja_args_check(c, a, max_pos, kw, what);
}

static bool length(jinja_ctx *c, jv v, jv *out) {
    switch ((jv_kind)v.kind) {
    case JV_UNDEF: *out = jv_int(0); return true;
    case JV_STR:
        if (!jinja_step(c, (long long)(v.u.s.n >> 4))) return false;
        *out = jv_int((int64_t)jinja_cp_count(v.u.s.p, v.u.s.n));
        return true;
    case JV_LIST:
        if (v.flags & JV_F_LAZY) break;
        *out = jv_int((int64_t)v.u.l->n);
        return true;
    case JV_DICT: *out = jv_int((int64_t)v.u.d->n); return true;
    default: break;
    }
    return jinja_fail(c, VKT_ERR_FORMAT, "object of type '%s' has no len()", jv_type_name(v));
}

static bool tojson(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    static const char *const kw[] = {"ensure_ascii", "indent", "separators", "sort_keys", NULL};
    if (!check(c, a, 4, kw, F_TOJSON)) return false;
    jinja_json_opts o = {
        .indent = -1, .item_sep = ", ", .key_sep = ": ", .item_sep_len = 2, .key_sep_len = 2};
    jv x;
    if (jinja_arg(a, "ensure_ascii", 0, &x)) o.ensure_ascii = jv_truthy(x);
    if (jinja_arg(a, "sort_keys", 3, &x)) o.sort_keys = jv_truthy(x);
    if (jinja_arg(a, "indent", 1, &x) && x.kind != JV_NONE) {
        if (x.kind == JV_STR)
            o.indent_str = x.u.s.p, o.indent_len = x.u.s.n;
        else if (x.kind == JV_INT || x.kind == JV_BOOL)
            o.indent = x.kind == JV_INT ? (x.u.i < 0 ? 0 : x.u.i > 64 ? 64 : (int)x.u.i) : x.u.b;
        else
            return jinja_fail(c, VKT_ERR_FORMAT, "tojson: indent must be an int or a str");
        o.item_sep = ","; // json.dumps drops the space after ',' when indenting
        o.item_sep_len = 1;
    }
    if (jinja_arg(a, "separators", 2, &x) && x.kind != JV_NONE) {
        if (x.kind != JV_LIST || x.u.l->n != 2 || x.u.l->items[0].kind != JV_STR ||
            x.u.l->items[1].kind != JV_STR)
            return jinja_fail(c, VKT_ERR_FORMAT, "tojson: separators must be two strings");
        o.item_sep = x.u.l->items[0].u.s.p, o.item_sep_len = x.u.l->items[0].u.s.n;
        o.key_sep = x.u.l->items[1].u.s.p, o.key_sep_len = x.u.l->items[1].u.s.n;
    }
    vkt_bytebuf b = {0};
    if (!jinja_json_dump(c, &b, v, &o, 0)) {
        free(b.p);
        return false;
    }
    return jv_from_buf(c, &b, out);
}

// make_attrgetter of jinja2: item[part] for each dotted part, digits as integers.
static bool get_path(jinja_ctx *c, jv item, jv attr, jv *out) {
    if (attr.kind != JV_STR) return jinja_getitem(c, item, attr, out);
    const char *p = attr.u.s.p, *end = p + attr.u.s.n;
    *out = item;
    while (p <= end) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        size_t n = dot ? (size_t)(dot - p) : (size_t)(end - p);
        bool digits = n > 0;
        for (size_t i = 0; i < n; i++) digits = digits && p[i] >= '0' && p[i] <= '9';
        jv key = digits ? jv_int(strtoll(p, NULL, 10)) : jv_strn(p, n);
        if (!jinja_getitem(c, *out, key, out)) return false;
        if (!dot) break;
        p = dot + 1;
    }
    return true;
}

// select / reject / selectattr / rejectattr: keep the items whose test passes (or fails).
static bool select_items(jinja_ctx *c, int id, jv v, const jinja_args *a, jv *out) {
    bool attr = id == F_SELECTATTR || id == F_REJECTATTR,
         keep_pass = id == F_SELECT || id == F_SELECTATTR;
    if (!check(c, a, (size_t)-1, NULL, id)) return false;
    size_t first = attr ? 1 : 0;
    if (attr && a->npos == 0)
        return jinja_fail(c, VKT_ERR_FORMAT, "filter '%s' needs an attribute", filter_name(id));
    int test = -1;
    if (a->npos > first) {
        jv t = a->pos[first];
        if (t.kind != JV_STR || (test = jinja_test_id(t.u.s.p, t.u.s.n)) < 0)
            return jinja_fail(c, VKT_ERR_UNSUPPORTED, "filter '%s': test '%.*s' is not supported",
                              filter_name(id), t.kind == JV_STR ? (int)t.u.s.n : 1,
                              t.kind == JV_STR ? t.u.s.p : "?");
    }
    jinja_args ta = {0};
    if (a->npos > first + 1) ta.pos = a->pos + first + 1, ta.npos = a->npos - first - 1;
    jv_list *items;
    if (!jinja_iter(c, v, &items) || !jv_list_new(c, items->n, out)) return false;
    size_t k = 0;
    for (size_t i = 0; i < items->n; i++) {
        jv x = items->items[i];
        bool pass;
        if (!jinja_step(c, 1) || (attr && !get_path(c, x, a->pos[0], &x))) return false;
        if (test < 0)
            pass = jv_truthy(x);
        else if (!jinja_apply_test(c, test, x, &ta, &pass))
            return false;
        if (pass == keep_pass) out->u.l->items[k++] = items->items[i];
    }
    out->u.l->n = k;
    out->flags = JV_F_LAZY; // jinja2's select_or_reject is a generator
    return true;
}

static bool map_items(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    jv attr, dflt;
    bool by_attr = jinja_arg(a, "attribute", -1, &attr),
         has_default = jinja_arg(a, "default", -1, &dflt);
    int fid = -1;
    jinja_args fa = {0};
    if (!by_attr) {
        if (a->npos == 0 || a->pos[0].kind != JV_STR)
            return jinja_fail(c, VKT_ERR_FORMAT, "filter 'map' needs a filter name or attribute=");
        if ((fid = jinja_filter_id(a->pos[0].u.s.p, a->pos[0].u.s.n)) < 0)
            return jinja_fail(c, VKT_ERR_UNSUPPORTED, "filter '%.*s' is not supported",
                              (int)a->pos[0].u.s.n, a->pos[0].u.s.p);
        fa = *a;
        fa.pos++;
        fa.npos--;
    } else if (a->npos || a->nkw > 1u + has_default) {
        return jinja_fail(c, VKT_ERR_FORMAT, "filter 'map' with attribute= takes only default=");
    }
    jv_list *items;
    if (!jinja_iter(c, v, &items) || !jv_list_new(c, items->n, out)) return false;
    for (size_t i = 0; i < items->n; i++) {
        jv *r = &out->u.l->items[i];
        if (!jinja_step(c, 1)) return false;
        if (!by_attr) {
            if (!jinja_apply_filter(c, fid, items->items[i], &fa, r)) return false;
            continue;
        }
        if (!get_path(c, items->items[i], attr, r)) return false;
        if (r->kind == JV_UNDEF && has_default) *r = dflt;
    }
    out->flags = JV_F_LAZY;
    return true;
}

static bool join(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    static const char *const kw[] = {"d", "attribute", NULL};
    jv sep = jv_strn("", 0), attr;
    bool by_attr;
    if (!check(c, a, 2, kw, F_JOIN)) return false;
    jinja_arg(a, "d", 0, &sep);
    by_attr = jinja_arg(a, "attribute", 1, &attr) && attr.kind != JV_NONE;
    jv_list *items;
    if (!jinja_iter(c, v, &items)) return false;
    vkt_bytebuf b = {0};
    bool ok = true;
    for (size_t i = 0; i < items->n && ok; i++) {
        jv x = items->items[i];
        if (i) ok = jv_write_str(c, &b, sep);
        if (ok && by_attr) ok = get_path(c, x, attr, &x);
        if (ok) ok = jv_write_str(c, &b, x);
        if (ok && b.n > JINJA_MAX_OUTPUT)
            ok = jinja_fail(c, VKT_ERR_ARG, "join result longer than %zu MiB",
                            JINJA_MAX_OUTPUT >> 20);
    }
    if (!ok) {
        free(b.p);
        return false;
    }
    return jv_from_buf(c, &b, out);
}

// A line boundary of str.splitlines at s: \n \r \v \f \x1c-\x1e \x85 \u2028 \u2029.
static bool is_line_break(const char *s, size_t n, size_t *len) {
    uint32_t cp = jinja_utf8_next(s, n, len);
    return cp == '\n' || cp == '\r' || cp == 0x0b || cp == 0x0c || (cp >= 0x1c && cp <= 0x1e) ||
           cp == 0x85 || cp == 0x2028 || cp == 0x2029;
}

// indent(s, width=4, first=False, blank=False) as jinja2 3.x writes it.
static bool indent(jinja_ctx *c, jv v, const jinja_args *a, jv *out) {
    static const char *const kw[] = {"width", "first", "blank", NULL};
    if (!check(c, a, 3, kw, F_INDENT)) return false;
    jv w = jv_int(4), f = jv_bool(false), bl = jv_bool(false), s;
    jinja_arg(a, "width", 0, &w);
    jinja_arg(a, "first", 1, &f);
    jinja_arg(a, "blank", 2, &bl);
    vkt_bytebuf pad = {0}, b = {0};
    int64_t width = w.kind == JV_INT ? w.u.i : w.kind == JV_BOOL ? w.u.b : 0;
    if (width > 65536)
        return jinja_fail(c, VKT_ERR_ARG, "indent width %lld is too large", (long long)width);
    if (w.kind == JV_STR) vkt_bytebuf_put(&pad, w.u.s.p, w.u.s.n);
    for (int64_t i = 0; i < width; i++) vkt_bytebuf_put(&pad, " ", 1);
    if (!jv_to_str(c, v, &s)) {
        free(pad.p);
        return false;
    }
    // jinja2: lines = (s + "\n").splitlines(); the first stays, the others get the pad
    // (empty ones only with blank=True), joined by "\n".
    const char *p = s.u.s.p;
    size_t n = s.u.s.n;
    const char *pp = pad.p ? pad.p : ""; // an empty pad has no buffer
    if (jv_truthy(f)) vkt_bytebuf_put(&b, pp, pad.n);
    for (size_t i = 0, line = 0; i <= n; line++) {
        size_t j = i, len;
        while (j < n && !is_line_break(p + j, n - j, &len)) j += len;
        if (line) {
            vkt_bytebuf_put(&b, "\n", 1);
            if (j > i || jv_truthy(bl)) vkt_bytebuf_put(&b, pp, pad.n);
        }
        vkt_bytebuf_put(&b, p + i, j - i);
        if (j >= n) break; // the appended "\n" ends this last line
        is_line_break(p + j, n - j, &len);
        if (len == 1 && p[j] == '\r' && j + 1 < n && p[j + 1] == '\n') len = 2;
        i = j + len;
    }
    free(pad.p);
    return jv_from_buf(c, &b, out);
}

static bool to_number(jinja_ctx *c, int id, jv v, const jinja_args *a, jv *out) {
    jv dflt = id == F_INT ? jv_int(0) : jv_float(0.0);
    if (!check(c, a, id == F_INT ? 2 : 1, (const char *const[]){"default", "base", NULL}, id))
        return false;
    jinja_arg(a, "default", 0, &dflt);
    double f = 0;
    bool ok = true;
    if (v.kind == JV_UNDEF) return jv_undef_fail(c, v); // int(Undefined) raises
    if (v.kind == JV_INT || v.kind == JV_BOOL)
        f = v.kind == JV_INT ? (double)v.u.i : v.u.b;
    else if (v.kind == JV_FLOAT)
        f = v.u.f;
    else if (v.kind == JV_STR) {
        char buf[64];
        size_t st, len;
        jinja_strip(v.u.s.p, v.u.s.n, NULL, 0, 'b', &st, &len);
        ok = len > 0 && len < sizeof buf;
        if (ok) {
            memcpy(buf, v.u.s.p + st, len);
            buf[len] = 0;
            char *end;
            if (id == F_INT) {
                errno = 0;
                long long i = strtoll(buf, &end, 10);
                if (!*end && errno == ERANGE) return jinja_fail(c, VKT_ERR_ARG, "integer overflow");
                if (!*end) return (*out = jv_int(i)), true;
            }
            f = strtod(buf, &end);
            ok = !*end;
        }
    } else {
        ok = false;
    }
    if (!ok || (id == F_INT && !isfinite(f))) return (*out = dflt), true;
    if (id == F_INT && v.kind != JV_INT &&
        (f >= 9223372036854775808.0 || f < -9223372036854775808.0))
        return jinja_fail(c, VKT_ERR_ARG, "integer overflow"); // Python's ints have no bound
    *out = id == F_INT ? jv_int((int64_t)f) : jv_float(f);
    if (id == F_INT && v.kind == JV_INT) *out = v;
    return true;
}

static bool reverse(jinja_ctx *c, jv v, jv *out) {
    jv_list *items;
    if (!jinja_iter(c, v, &items)) return false;
    if (v.kind == JV_STR) {
        vkt_bytebuf b = {0};
        for (size_t i = items->n; i-- > 0;)
            vkt_bytebuf_put(&b, items->items[i].u.s.p, items->items[i].u.s.n);
        return jv_from_buf(c, &b, out);
    }
    if (!jv_list_new(c, items->n, out)) return false;
    for (size_t i = 0; i < items->n; i++) out->u.l->items[i] = items->items[items->n - 1 - i];
    out->flags = JV_F_LAZY; // reversed() gives an iterator
    return true;
}

static bool str_filter(jinja_ctx *c, int id, jv v, const jinja_args *a, jv *out) {
    jv s;
    if (!jv_to_str(c, v, &s)) return false;
    if (id == F_TRIM) {
        jv chars = jv_none();
        if (!check(c, a, 1, (const char *const[]){"chars", NULL}, id)) return false;
        jinja_arg(a, "chars", 0, &chars);
        if (chars.kind != JV_NONE && chars.kind != JV_STR)
            return jinja_fail(c, VKT_ERR_FORMAT, "strip arg must be None or str");
        size_t st, len, m = chars.kind == JV_STR ? chars.u.s.n : 1;
        if (!jinja_step(c, (long long)(s.u.s.n / 16 + 1) * (long long)(m / 16 + 1))) return false;
        jinja_strip(s.u.s.p, s.u.s.n, chars.kind == JV_STR ? chars.u.s.p : NULL,
                    chars.kind == JV_STR ? chars.u.s.n : 0, 'b', &st, &len);
        *out = jv_strn(s.u.s.p + st, len);
        return true;
    }
    if (id == F_REPLACE) {
        jv old, new_, cnt = jv_none();
        if (!check(c, a, 3, (const char *const[]){"old", "new", "count", NULL}, id)) return false;
        if (!jinja_arg(a, "old", 0, &old) || !jinja_arg(a, "new", 1, &new_))
            return jinja_fail(c, VKT_ERR_FORMAT, "filter 'replace' needs old and new");
        jinja_arg(a, "count", 2, &cnt);
        if (!jv_to_str(c, old, &old) || !jv_to_str(c, new_, &new_)) return false;
        int64_t k = cnt.kind == JV_INT ? cnt.u.i : -1;
        return jinja_str_replace(c, s, old, new_, k, out);
    }
    if (!check(c, a, 0, NULL, id)) return false;
    if (id == F_STRING || id == F_SAFE) {
        *out = s;
        return true;
    }
    vkt_bytebuf b = {0};
    jinja_case_map(&b, s.u.s.p, s.u.s.n,
                   id == F_UPPER        ? 'u'
                   : id == F_LOWER      ? 'l'
                   : id == F_CAPITALIZE ? 'c'
                                        : 'T');
    return jv_from_buf(c, &b, out);
}

bool jinja_apply_filter(jinja_ctx *c, int id, jv v, const jinja_args *a, jv *out) {
    jv_list *items;
    jv x;
    switch (id) {
    case F_TRIM:
    case F_REPLACE:
    case F_STRING:
    case F_UPPER:
    case F_LOWER:
    case F_CAPITALIZE:
    case F_TITLE: return str_filter(c, id, v, a, out);
    case F_SAFE:
        if (!check(c, a, 0, NULL, id)) return false;
        *out = v;
        return true;
    case F_TOJSON: return tojson(c, v, a, out);
    case F_LENGTH: return check(c, a, 0, NULL, id) && length(c, v, out);
    case F_DEFAULT: {
        jv d = jv_strn("", 0), boolean = jv_bool(false);
        if (!check(c, a, 2, (const char *const[]){"default_value", "boolean", NULL}, id))
            return false;
        jinja_arg(a, "default_value", 0, &d);
        jinja_arg(a, "boolean", 1, &boolean);
        *out = v.kind == JV_UNDEF || (jv_truthy(boolean) && !jv_truthy(v)) ? d : v;
        return true;
    }
    case F_JOIN: return join(c, v, a, out);
    case F_FIRST:
    case F_LAST:
    case F_LIST:
        if (!check(c, a, 0, NULL, id) || !jinja_iter(c, v, &items)) return false;
        if (id == F_LIST) {
            if (!jv_list_new(c, items->n, out)) return false;
            memcpy(out->u.l->items, items->items, items->n * sizeof(jv));
            return true;
        }
        if (id == F_LAST && v.kind == JV_LIST && (v.flags & JV_F_LAZY))
            return jinja_fail(c, VKT_ERR_FORMAT, "'generator' object is not reversible");
        *out = items->n == 0 ? jv_undef() : items->items[id == F_FIRST ? 0 : items->n - 1];
        return true;
    case F_ITEMS:
        if (!check(c, a, 0, NULL, id)) return false;
        if (v.kind == JV_UNDEF) {
            if (!jv_list_new(c, 0, out)) return false;
        } else if (v.kind != JV_DICT) {
            return jinja_fail(c, VKT_ERR_FORMAT, "Can only get item pairs from a mapping.");
        } else if (!jinja_getattr(c, v, "items", 5, &x) ||
                   !jinja_call_func(c, x.u.fn, &(jinja_args){0}, out)) {
            return false;
        }
        out->flags = JV_F_LAZY;
        return true;
    case F_SELECT:
    case F_REJECT:
    case F_SELECTATTR:
    case F_REJECTATTR: return select_items(c, id, v, a, out);
    case F_MAP: return map_items(c, v, a, out);
    case F_INT:
    case F_FLOAT: return to_number(c, id, v, a, out);
    case F_ABS:
        if (!check(c, a, 0, NULL, id)) return false;
        if (v.kind == JV_FLOAT)
            *out = jv_float(fabs(v.u.f));
        else if (v.kind == JV_INT || v.kind == JV_BOOL) {
            int64_t i = v.kind == JV_INT ? v.u.i : v.u.b;
            if (i == INT64_MIN) return jinja_fail(c, VKT_ERR_ARG, "integer overflow");
            *out = jv_int(i < 0 ? -i : i);
        } else {
            return jinja_fail(c, VKT_ERR_FORMAT, "bad operand type for abs(): '%s'",
                              jv_type_name(v));
        }
        return true;
    case F_REVERSE: return check(c, a, 0, NULL, id) && reverse(c, v, out);
    case F_INDENT: return indent(c, v, a, out);
    default: return jinja_fail(c, VKT_ERR_UNSUPPORTED, "filter is not supported");
    }
}
