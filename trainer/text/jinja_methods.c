// jinja_methods.c: what a template reaches through names, dots and brackets: the globals
// (raise_exception, strftime_now, namespace, range, dict), attributes and items as the
// sandbox resolves them (x.y tries the attribute, then x['y']; x['y'] the reverse), and the
// methods of str, dict and loop that chat templates call. A Python method the engine lacks
// fails with its name rather than quietly rendering as undefined.
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "jinja_internal.h"

static bool name_is(const char *name, size_t n, const char *lit) {
    return strlen(lit) == n && memcmp(name, lit, n) == 0;
}

static int find_name(const char *const *names, const char *name, size_t n) {
    for (int i = 0; names[i]; i++)
        if (name_is(name, n, names[i])) return i;
    return -1;
}

// --- arguments ---------------------------------------------------------------------------
bool jinja_arg(const jinja_args *a, const char *name, int at, jv *out) {
    for (size_t i = 0; name && i < a->nkw; i++)
        if (name_is(a->kwnames[i], a->kwname_lens[i], name)) {
            *out = a->kw[i];
            return true;
        }
    if (at >= 0 && (size_t)at < a->npos) {
        *out = a->pos[at];
        return true;
    }
    return false;
}

bool jinja_args_check(jinja_ctx *c, const jinja_args *a, size_t max_pos, const char *const *allowed,
                      const char *what) {
    if (a->npos > max_pos)
        return jinja_fail(c, VKT_ERR_FORMAT,
                          "%s takes at most %zu positional argument(s), %zu given", what, max_pos,
                          a->npos);
    for (size_t i = 0; i < a->nkw; i++)
        if (!allowed || find_name(allowed, a->kwnames[i], a->kwname_lens[i]) < 0)
            return jinja_fail(c, VKT_ERR_FORMAT, "%s got an unexpected keyword argument '%.*s'",
                              what, (int)a->kwname_lens[i], a->kwnames[i]);
    return true;
}

static bool need_str(jinja_ctx *c, jv v, const char *what) {
    if (v.kind == JV_STR) return true;
    if (v.kind == JV_UNDEF) return jv_undef_fail(c, v);
    return jinja_fail(c, VKT_ERR_FORMAT, "%s: expected str, got %s", what, jv_type_name(v));
}

// --- iteration -----------------------------------------------------------------------------
bool jinja_iter(jinja_ctx *c, jv v, jv_list **out) {
    jv l;
    switch ((jv_kind)v.kind) {
    case JV_LIST: *out = v.u.l; return true;
    case JV_UNDEF:
        if (!jv_list_new(c, 0, &l)) return false;
        *out = l.u.l;
        return true;
    case JV_DICT:
        if (!jinja_step(c, (long long)v.u.d->n) || !jv_list_new(c, v.u.d->n, &l)) return false;
        if (v.u.d->n) memcpy(l.u.l->items, v.u.d->keys, v.u.d->n * sizeof(jv));
        *out = l.u.l;
        return true;
    case JV_STR: {
        size_t n, *off = jinja_cp_offsets(c, v.u.s.p, v.u.s.n, &n);
        if (!off || !jinja_step(c, (long long)n) || !jv_list_new(c, n, &l)) return false;
        for (size_t i = 0; i < n; i++)
            l.u.l->items[i] = jv_strn(v.u.s.p + off[i], off[i + 1] - off[i]);
        *out = l.u.l;
        return true;
    }
    default: return jinja_fail(c, VKT_ERR_FORMAT, "'%s' object is not iterable", jv_type_name(v));
    }
}

// --- globals ---------------------------------------------------------------------------------
static bool make_func(jinja_ctx *c, jinja_func_id id, jv self, jv *out) {
    jv_func *f = jinja_ctx_alloc(c, sizeof *f);
    if (!f) return false;
    f->id = id;
    f->self = self;
    *out = (jv){.kind = JV_FUNC};
    out->u.fn = f;
    return true;
}

bool jinja_global(jinja_ctx *c, const char *name, size_t n, jv *out) {
    static const char *const globals[] = {"raise_exception", "strftime_now", "namespace",
                                          "range",           "dict",         NULL};
    static const jinja_func_id ids[] = {JF_RAISE_EXCEPTION, JF_STRFTIME_NOW, JF_NAMESPACE, JF_RANGE,
                                        JF_DICT};
    static const char *const missing[] = {"lipsum", "cycler", "joiner", NULL};
    int i = find_name(globals, name, n);
    if (i >= 0) return make_func(c, ids[i], jv_none(), out);
    if (find_name(missing, name, n) >= 0)
        return jinja_fail(c, VKT_ERR_UNSUPPORTED, "global '%.*s' is not supported", (int)n, name);
    *out = jv_undef();
    return true;
}

static bool g_strftime(jinja_ctx *c, const jinja_args *a, jv *out) {
    jv fmt;
    if (!jinja_args_check(c, a, 1, NULL, "strftime_now()")) return false;
    if (!jinja_arg(a, NULL, 0, &fmt))
        return jinja_fail(c, VKT_ERR_FORMAT, "strftime_now() needs a format");
    if (!need_str(c, fmt, "strftime_now()")) return false;
    if (memchr(fmt.u.s.p, 0, fmt.u.s.n))
        return jinja_fail(c, VKT_ERR_FORMAT, "embedded null character");
    char *f = jinja_ctx_alloc(c, fmt.u.s.n + 1), *buf;
    size_t cap = 256 + 16 * fmt.u.s.n;
    if (!f || !(buf = jinja_ctx_alloc(c, cap))) return false;
    memcpy(f, fmt.u.s.p, fmt.u.s.n);
    f[fmt.u.s.n] = 0;
    time_t now = (time_t)(c->now ? c->now : (int64_t)time(NULL));
    struct tm tm;
    gmtime_r(&now, &tm);
    size_t len = fmt.u.s.n ? strftime(buf, cap, f, &tm) : 0;
    *out = jv_strn(buf, len);
    return true;
}

// namespace(...) and dict(...): a mapping from an optional dict and keyword arguments.
static bool g_mapping(jinja_ctx *c, const jinja_args *a, bool ns, jv *out) {
    if (a->npos > 1)
        return jinja_fail(c, VKT_ERR_FORMAT, "%s expected at most 1 argument, got %zu",
                          ns ? "namespace()" : "dict()", a->npos);
    if (!jv_dict_new(c, a->nkw + 1, out)) return false;
    if (a->npos == 1) {
        jv src = a->pos[0];
        if (src.kind != JV_DICT && src.kind != JV_NS)
            return jinja_fail(c, VKT_ERR_UNSUPPORTED, "%s of a %s is not supported",
                              ns ? "namespace()" : "dict()", jv_type_name(src));
        for (size_t i = 0; i < src.u.d->n; i++)
            if (!jv_dict_set(c, out->u.d, src.u.d->keys[i], src.u.d->vals[i])) return false;
    }
    for (size_t i = 0; i < a->nkw; i++)
        if (!jv_dict_set(c, out->u.d, jv_strn(a->kwnames[i], a->kwname_lens[i]), a->kw[i]))
            return false;
    if (ns) out->kind = JV_NS;
    return true;
}

static bool g_range(jinja_ctx *c, const jinja_args *a, jv *out) {
    if (!jinja_args_check(c, a, 3, NULL, "range()")) return false;
    if (a->npos == 0)
        return jinja_fail(c, VKT_ERR_FORMAT, "range expected at least 1 argument, got 0");
    int64_t v[3] = {0, 0, 1};
    for (size_t i = 0; i < a->npos; i++) {
        if (a->pos[i].kind != JV_INT && a->pos[i].kind != JV_BOOL)
            return jinja_fail(c, VKT_ERR_FORMAT, "'%s' object cannot be interpreted as an integer",
                              jv_type_name(a->pos[i]));
        v[a->npos == 1 ? 1 : i] = a->pos[i].kind == JV_INT ? a->pos[i].u.i : a->pos[i].u.b;
    }
    int64_t start = v[0], stop = v[1], step = v[2];
    if (step == 0) return jinja_fail(c, VKT_ERR_FORMAT, "range() arg 3 must not be zero");
    double span = step > 0 ? (double)stop - (double)start : (double)start - (double)stop;
    double cnt = span <= 0 ? 0 : ((span - 1) / (double)(step > 0 ? step : -step)) + 1;
    if (cnt > 100000) // the sandbox's MAX_RANGE
        return jinja_fail(c, VKT_ERR_ARG,
                          "range too big: the sandbox blocks ranges larger than 100000");
    size_t n = (size_t)cnt;
    if (!jinja_step(c, (long long)n) || !jv_list_new(c, n, out)) return false;
    for (size_t i = 0; i < n; i++) {
        int64_t x; // the count came from doubles: guard the last items against overflow
        if (__builtin_mul_overflow((int64_t)i, step, &x) || __builtin_add_overflow(start, x, &x))
            return jinja_fail(c, VKT_ERR_ARG, "integer overflow in range()");
        out->u.l->items[i] = jv_int(x);
    }
    return true;
}

// --- attribute and item access ---------------------------------------------------------
static const char *const str_methods[] = {"startswith", "endswith",   "split",   "rsplit", "strip",
                                          "lstrip",     "rstrip",     "replace", "upper",  "lower",
                                          "title",      "capitalize", "format",  "join",   "find",
                                          "count",      NULL};
static const jinja_func_id str_ids[] = {
    JF_S_STARTSWITH, JF_S_ENDSWITH, JF_S_SPLIT, JF_S_RSPLIT, JF_S_STRIP, JF_S_LSTRIP,
    JF_S_RSTRIP,     JF_S_REPLACE,  JF_S_UPPER, JF_S_LOWER,  JF_S_TITLE, JF_S_CAPITALIZE,
    JF_S_FORMAT,     JF_S_JOIN,     JF_S_FIND,  JF_S_COUNT};
static const char *const str_missing[] = {
    "casefold", "center",    "encode",      "expandtabs",   "format_map",   "index",
    "isalnum",  "isalpha",   "isascii",     "isdecimal",    "isdigit",      "isidentifier",
    "islower",  "isnumeric", "isprintable", "isspace",      "istitle",      "isupper",
    "ljust",    "maketrans", "partition",   "removeprefix", "removesuffix", "rfind",
    "rindex",   "rjust",     "rpartition",  "splitlines",   "swapcase",     "translate",
    "zfill",    NULL};
static const char *const dict_methods[] = {"get", "items", "keys", "values", NULL};
static const jinja_func_id dict_ids[] = {JF_D_GET, JF_D_ITEMS, JF_D_KEYS, JF_D_VALUES};
static const char *const dict_missing[] = {"clear",   "copy",       "fromkeys", "pop",
                                           "popitem", "setdefault", "update",   NULL};
static const char *const list_missing[] = {"append", "clear",   "copy",   "count",
                                           "extend", "index",   "insert", "pop",
                                           "remove", "reverse", "sort",   NULL};

static bool unsupported_method(jinja_ctx *c, jv obj, const char *name, size_t n) {
    return jinja_fail(c, VKT_ERR_UNSUPPORTED, "method '%.*s' of %s is not supported", (int)n, name,
                      jv_type_name(obj));
}

// The methods a value has under `name`; *found is false when it has none.
static bool method(jinja_ctx *c, jv obj, const char *name, size_t n, jv *out, bool *found) {
    *found = true;
    int i;
    if (obj.kind == JV_STR) {
        if ((i = find_name(str_methods, name, n)) >= 0) return make_func(c, str_ids[i], obj, out);
        if (find_name(str_missing, name, n) >= 0) return unsupported_method(c, obj, name, n);
    } else if (obj.kind == JV_DICT) {
        if ((i = find_name(dict_methods, name, n)) >= 0) return make_func(c, dict_ids[i], obj, out);
        if (find_name(dict_missing, name, n) >= 0) return unsupported_method(c, obj, name, n);
    } else if (obj.kind == JV_LIST) {
        if (find_name(list_missing, name, n) >= 0) return unsupported_method(c, obj, name, n);
    }
    *found = false;
    return true;
}

static jv missing_attr(jv obj, const char *name, size_t n) {
    jv u = jv_undef();
    if (obj.kind == JV_DICT) { // for "'dict object' has no attribute 'x'"
        u.flags = JV_F_ATTRMISS;
        u.u.s.p = name;
        u.u.s.n = n;
    }
    return u;
}

static bool loop_attr(jinja_ctx *c, const jv_loop *l, const char *name, size_t n, jv *out) {
    size_t i = l->index0, len = l->length;
    if (name_is(name, n, "index"))
        *out = jv_int((int64_t)i + 1);
    else if (name_is(name, n, "index0"))
        *out = jv_int((int64_t)i);
    else if (name_is(name, n, "revindex"))
        *out = jv_int((int64_t)(len - i));
    else if (name_is(name, n, "revindex0"))
        *out = jv_int((int64_t)(len - i - 1));
    else if (name_is(name, n, "first"))
        *out = jv_bool(i == 0);
    else if (name_is(name, n, "last"))
        *out = jv_bool(i + 1 == len);
    else if (name_is(name, n, "length"))
        *out = jv_int((int64_t)len);
    else if (name_is(name, n, "depth"))
        *out = jv_int(1);
    else if (name_is(name, n, "depth0"))
        *out = jv_int(0);
    else if (name_is(name, n, "previtem"))
        *out = i > 0 ? l->items[i - 1] : jv_undef();
    else if (name_is(name, n, "nextitem"))
        *out = i + 1 < len ? l->items[i + 1] : jv_undef();
    else if (name_is(name, n, "cycle")) {
        jv self = {.kind = JV_LOOP};
        self.u.loop = (jv_loop *)l;
        return make_func(c, JF_LOOP_CYCLE, self, out);
    } else if (name_is(name, n, "changed"))
        return jinja_fail(c, VKT_ERR_UNSUPPORTED, "loop.changed is not supported");
    else
        *out = jv_undef();
    return true;
}

bool jinja_getattr(jinja_ctx *c, jv obj, const char *name, size_t n, jv *out) {
    bool found;
    switch ((jv_kind)obj.kind) {
    case JV_UNDEF: return jv_undef_fail(c, obj);
    case JV_LOOP: return loop_attr(c, obj.u.loop, name, n, out);
    case JV_NS: {
        const jv *v = jv_dict_get_str(obj.u.d, name, n);
        *out = v ? *v : jv_undef();
        return true;
    }
    default:
        if (!method(c, obj, name, n, out, &found)) return false;
        if (found) return true;
        if (obj.kind == JV_DICT) {
            const jv *v = jv_dict_get_str(obj.u.d, name, n);
            *out = v ? *v : missing_attr(obj, name, n);
            return true;
        }
        *out = jv_undef();
        return true;
    }
}

bool jinja_getitem(jinja_ctx *c, jv obj, jv key, jv *out) {
    if (obj.kind == JV_UNDEF) return jv_undef_fail(c, obj);
    bool int_key = key.kind == JV_INT || key.kind == JV_BOOL;
    int64_t k = key.kind == JV_INT ? key.u.i : key.kind == JV_BOOL ? key.u.b : 0;
    if (obj.kind == JV_DICT) {
        bool hashable = key.kind != JV_DICT && key.kind != JV_NS &&
                        !(key.kind == JV_LIST && !(key.flags & JV_F_TUPLE));
        const jv *v = hashable ? jv_dict_get(c, obj.u.d, key) : NULL;
        if (c->failed) return false;
        if (v) {
            *out = *v;
            return true;
        }
    } else if (obj.kind == JV_LIST && int_key && !(obj.flags & JV_F_LAZY)) {
        int64_t n = (int64_t)obj.u.l->n;
        if (k < 0) k += n;
        *out = k >= 0 && k < n ? obj.u.l->items[k] : jv_undef();
        return true;
    } else if (obj.kind == JV_STR && int_key) {
        size_t n, *off = jinja_cp_offsets(c, obj.u.s.p, obj.u.s.n, &n);
        if (!off) return false;
        if (k < 0) k += (int64_t)n;
        *out = k >= 0 && k < (int64_t)n ? jv_strn(obj.u.s.p + off[k], off[k + 1] - off[k])
                                        : jv_undef();
        return true;
    }
    // Not an item: a string key falls back to the attribute, as jinja2's getitem does.
    if (key.kind == JV_STR) {
        if (obj.kind == JV_DICT) {
            bool found;
            if (!method(c, obj, key.u.s.p, key.u.s.n, out, &found)) return false;
            if (!found) *out = missing_attr(obj, key.u.s.p, key.u.s.n);
            return true;
        }
        return jinja_getattr(c, obj, key.u.s.p, key.u.s.n, out);
    }
    *out = jv_undef();
    return true;
}

// --- calls -----------------------------------------------------------------------------------
static bool d_method(jinja_ctx *c, jinja_func_id id, const jv_dict *d, const jinja_args *a,
                     jv *out) {
    static const char *const names[] = {[JF_D_GET - JF_D_GET] = "dict.get()",
                                        [JF_D_ITEMS - JF_D_GET] = "dict.items()",
                                        [JF_D_KEYS - JF_D_GET] = "dict.keys()",
                                        [JF_D_VALUES - JF_D_GET] = "dict.values()"};
    const char *what = names[id - JF_D_GET];
    if (!jinja_args_check(c, a, id == JF_D_GET ? 2 : 0, NULL, what)) return false;
    if (id == JF_D_GET) {
        if (a->npos == 0)
            return jinja_fail(c, VKT_ERR_FORMAT, "get expected at least 1 argument, got 0");
        jv key = a->pos[0];
        if (key.kind == JV_DICT || key.kind == JV_NS ||
            (key.kind == JV_LIST && !(key.flags & JV_F_TUPLE)))
            return jinja_fail(c, VKT_ERR_FORMAT, "unhashable type: '%s'", jv_type_name(key));
        const jv *v = jv_dict_get(c, d, key);
        if (c->failed) return false;
        *out = v ? *v : a->npos > 1 ? a->pos[1] : jv_none();
        return true;
    }
    if (!jinja_step(c, (long long)d->n) || !jv_list_new(c, d->n, out)) return false;
    for (size_t i = 0; i < d->n; i++) {
        if (id == JF_D_KEYS) {
            out->u.l->items[i] = d->keys[i];
        } else if (id == JF_D_VALUES) {
            out->u.l->items[i] = d->vals[i];
        } else {
            jv pair;
            if (!jv_list_new(c, 2, &pair)) return false;
            pair.flags = JV_F_TUPLE;
            pair.u.l->items[0] = d->keys[i];
            pair.u.l->items[1] = d->vals[i];
            out->u.l->items[i] = pair;
        }
    }
    return true;
}

static bool g_raise(jinja_ctx *c, const jinja_args *a) {
    jv msg = jv_none(), s;
    jinja_arg(a, "message", 0, &msg);
    if (!jv_to_str(c, msg, &s)) return false;
    return jinja_fail(c, VKT_ERR_ARG, "raise_exception: %.*s", (int)(s.u.s.n > 900 ? 900 : s.u.s.n),
                      s.u.s.p);
}

bool jinja_call_func(jinja_ctx *c, const jv_func *f, const jinja_args *a, jv *out) {
    switch (f->id) {
    case JF_RAISE_EXCEPTION: return g_raise(c, a);
    case JF_STRFTIME_NOW: return g_strftime(c, a, out);
    case JF_NAMESPACE: return g_mapping(c, a, true, out);
    case JF_DICT: return g_mapping(c, a, false, out);
    case JF_RANGE: return g_range(c, a, out);
    case JF_LOOP_CYCLE: {
        if (!jinja_args_check(c, a, (size_t)-1, NULL, "loop.cycle()")) return false;
        if (a->npos == 0) return jinja_fail(c, VKT_ERR_FORMAT, "no items for cycling given");
        *out = a->pos[f->self.u.loop->index0 % a->npos];
        return true;
    }
    case JF_D_GET:
    case JF_D_ITEMS:
    case JF_D_KEYS:
    case JF_D_VALUES: return d_method(c, f->id, f->self.u.d, a, out);
    default: return jinja_str_method(c, f->id, f->self, a, out);
    }
}
