// jinja_value.c: template values as Python sees them. The render arena holds them all, so
// nothing is freed one by one; budgets bound what a render may allocate and do. str(),
// repr(), == and < follow CPython because their text ends up in the rendered prompt.
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "jinja_internal.h"

// --- arena -------------------------------------------------------------------------------
struct jinja_chunk {
    jinja_chunk *next;
    size_t cap, used;
    _Alignas(16) unsigned char data[];
};

void *jinja_alloc(jinja_arena *a, size_t n) {
    n = (n + 15) & ~(size_t)15;
    if (n == 0) n = 16;
    if (a->limit && (n > a->limit || a->used > a->limit - n)) return NULL;
    jinja_chunk *h = a->head;
    if (!h || h->cap - h->used < n) {
        size_t cap = n > ((size_t)64 << 10) ? n : ((size_t)64 << 10);
        jinja_chunk *k = malloc(sizeof *k + cap);
        if (!k) return NULL;
        k->cap = cap;
        k->used = 0;
        // A big block gets its own chunk behind the current one, so the current one keeps
        // serving small allocations.
        if (h && n > ((size_t)16 << 10)) {
            k->next = h->next;
            h->next = k;
        } else {
            k->next = h;
            a->head = k;
        }
        h = k;
    }
    void *p = h->data + h->used;
    h->used += n;
    a->used += n;
    return p;
}

void jinja_arena_free(jinja_arena *a) {
    jinja_chunk *h = a->head;
    while (h) {
        jinja_chunk *next = h->next;
        free(h);
        h = next;
    }
    a->head = NULL;
    a->used = 0;
}

// --- render context ----------------------------------------------------------------------
bool jinja_fail(jinja_ctx *c, vkt_status st, const char *fmt, ...) {
    if (c->failed) return false;
    c->failed = true;
    c->status = st;
    char msg[VKT_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    vkt_fail(c->err, st, "%s line %d: %s", c->name, c->line, msg);
    return false;
}

bool jinja_step(jinja_ctx *c, long long n) {
    c->steps += n;
    if (c->steps > JINJA_MAX_STEPS)
        return jinja_fail(c, VKT_ERR_ARG,
                          "render takes more than %lld steps (loop or data too large)",
                          (long long)JINJA_MAX_STEPS);
    return true;
}

void *jinja_ctx_alloc(jinja_ctx *c, size_t n) {
    void *p = jinja_alloc(&c->arena, n);
    if (!p)
        jinja_fail(c, VKT_ERR_NOMEM, "render needs more than %zu MiB of values",
                   JINJA_MAX_ARENA >> 20);
    return p;
}

// --- constructors ------------------------------------------------------------------------
bool jv_str_copy(jinja_ctx *c, const char *p, size_t n, jv *out) {
    char *q = jinja_ctx_alloc(c, n + 1);
    if (!q) return false;
    if (n) memcpy(q, p, n);
    q[n] = 0;
    *out = jv_strn(q, n);
    return true;
}

bool jv_from_buf(jinja_ctx *c, vkt_bytebuf *b, jv *out) {
    bool ok = !b->oom || jinja_fail(c, VKT_ERR_NOMEM, "out of memory");
    if (ok) ok = jv_str_copy(c, b->p ? b->p : "", b->n, out);
    free(b->p);
    memset(b, 0, sizeof *b);
    return ok;
}

bool jv_list_new(jinja_ctx *c, size_t n, jv *out) {
    if (n > JINJA_MAX_ARENA / sizeof(jv))
        return jinja_fail(c, VKT_ERR_NOMEM, "list of %zu items is too large", n);
    jv_list *l = jinja_ctx_alloc(c, sizeof *l);
    jv *items = jinja_ctx_alloc(c, (n ? n : 1) * sizeof(jv));
    if (!l || !items) return false;
    memset(items, 0, (n ? n : 1) * sizeof(jv));
    l->n = n;
    l->items = items;
    *out = (jv){.kind = JV_LIST};
    out->u.l = l;
    return true;
}

bool jv_dict_new(jinja_ctx *c, size_t cap, jv *out) {
    jv_dict *d = jinja_ctx_alloc(c, sizeof *d);
    if (!d) return false;
    memset(d, 0, sizeof *d);
    if (cap) {
        d->keys = jinja_ctx_alloc(c, cap * sizeof(jv));
        d->vals = jinja_ctx_alloc(c, cap * sizeof(jv));
        if (!d->keys || !d->vals) return false;
        d->cap = cap;
    }
    *out = (jv){.kind = JV_DICT};
    out->u.d = d;
    return true;
}

const jv *jv_dict_get_str(const jv_dict *d, const char *key, size_t n) {
    for (size_t i = 0; i < d->n; i++) {
        const jv *k = &d->keys[i];
        if (k->kind == JV_STR && k->u.s.n == n && (n == 0 || memcmp(k->u.s.p, key, n) == 0))
            return &d->vals[i];
    }
    return NULL;
}

// Python dict keys must be hashable: lists, dicts and namespaces are not.
static bool key_hashable(jinja_ctx *c, jv key) {
    if (key.kind == JV_DICT || key.kind == JV_NS ||
        (key.kind == JV_LIST && !(key.flags & JV_F_TUPLE)))
        return jinja_fail(c, VKT_ERR_FORMAT, "unhashable type: '%s'", jv_type_name(key));
    return true;
}

static bool dict_find(jinja_ctx *c, const jv_dict *d, jv key, size_t *at) {
    if (key.kind == JV_STR) {
        const jv *v = jv_dict_get_str(d, key.u.s.p, key.u.s.n);
        *at = v ? (size_t)(v - d->vals) : d->n;
        return true;
    }
    if (!jinja_step(c, (long long)d->n)) return false;
    for (size_t i = 0; i < d->n; i++) {
        bool eq;
        if (!jv_equal(c, d->keys[i], key, &eq)) return false;
        if (eq) {
            *at = i;
            return true;
        }
    }
    *at = d->n;
    return true;
}

const jv *jv_dict_get(jinja_ctx *c, const jv_dict *d, jv key) {
    size_t at;
    if (!dict_find(c, d, key, &at) || at == d->n) return NULL;
    return &d->vals[at];
}

bool jv_dict_set(jinja_ctx *c, jv_dict *d, jv key, jv val) {
    size_t at;
    if (!key_hashable(c, key) || !dict_find(c, d, key, &at)) return false;
    if (at < d->n) {
        d->vals[at] = val; // Python keeps the first key object and replaces the value
        return true;
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 4;
        jv *k = jinja_ctx_alloc(c, cap * sizeof(jv)), *v = jinja_ctx_alloc(c, cap * sizeof(jv));
        if (!k || !v) return false;
        if (d->n) {
            memcpy(k, d->keys, d->n * sizeof(jv));
            memcpy(v, d->vals, d->n * sizeof(jv));
        }
        d->keys = k;
        d->vals = v;
        d->cap = cap;
    }
    d->keys[d->n] = key;
    d->vals[d->n] = val;
    d->n++;
    return true;
}

// --- classification ----------------------------------------------------------------------
bool jv_truthy(jv v) {
    switch ((jv_kind)v.kind) {
    case JV_UNDEF:
    case JV_NONE: return false;
    case JV_BOOL: return v.u.b;
    case JV_INT: return v.u.i != 0;
    case JV_FLOAT: return v.u.f != 0.0;
    case JV_STR: return v.u.s.n != 0;
    case JV_LIST: return v.u.l->n != 0 || (v.flags & JV_F_LAZY);
    case JV_DICT: return v.u.d->n != 0;
    default: return true;
    }
}

bool jv_is_number(jv v) { return v.kind == JV_BOOL || v.kind == JV_INT || v.kind == JV_FLOAT; }

const char *jv_type_name(jv v) {
    switch ((jv_kind)v.kind) {
    case JV_UNDEF: return "Undefined";
    case JV_NONE: return "NoneType";
    case JV_BOOL: return "bool";
    case JV_INT: return "int";
    case JV_FLOAT: return "float";
    case JV_STR: return "str";
    case JV_LIST:
        return (v.flags & JV_F_LAZY) ? "generator" : (v.flags & JV_F_TUPLE) ? "tuple" : "list";
    case JV_DICT: return "dict";
    case JV_NS: return "Namespace";
    case JV_LOOP: return "LoopContext";
    case JV_FUNC: return "builtin_function_or_method";
    case JV_MACRO: return "Macro";
    }
    return "object";
}

bool jv_undef_fail(jinja_ctx *c, jv v) {
    if (!v.u.s.p) return jinja_fail(c, VKT_ERR_FORMAT, "a value is undefined");
    if (v.flags & JV_F_ATTRMISS)
        return jinja_fail(c, VKT_ERR_FORMAT, "'dict object' has no attribute '%.*s'", (int)v.u.s.n,
                          v.u.s.p);
    return jinja_fail(c, VKT_ERR_FORMAT, "'%.*s' is undefined", (int)v.u.s.n, v.u.s.p);
}

// --- equality and order ------------------------------------------------------------------
static double num_f(jv v) {
    return v.kind == JV_FLOAT ? v.u.f : v.kind == JV_INT ? (double)v.u.i : (double)v.u.b;
}
static int64_t num_i(jv v) { return v.kind == JV_INT ? v.u.i : (int64_t)v.u.b; }

static int cmp_num(jv a, jv b) {
    if (a.kind != JV_FLOAT && b.kind != JV_FLOAT) {
        int64_t x = num_i(a), y = num_i(b);
        return x < y ? -1 : x > y;
    }
    double x = num_f(a), y = num_f(b);
    return x < y ? -1 : x > y ? 1 : 0; // NaN compares "equal" here; == handles it below
}

static int cmp_bytes(const char *p, size_t n, const char *q, size_t m) {
    int r = memcmp(p, q, n < m ? n : m); // UTF-8 byte order is code point order
    if (r) return r < 0 ? -1 : 1;
    return n < m ? -1 : n > m;
}

static bool equal_d(jinja_ctx *c, jv a, jv b, bool *eq, int depth);

static bool equal_dict(jinja_ctx *c, const jv_dict *x, const jv_dict *y, bool *eq, int depth) {
    *eq = false;
    if (x->n != y->n) return true;
    if (!jinja_step(c, (long long)x->n)) return false;
    for (size_t i = 0; i < x->n; i++) {
        size_t at;
        if (!dict_find(c, y, x->keys[i], &at)) return false;
        if (at == y->n) return true;
        if (!equal_d(c, x->vals[i], y->vals[at], eq, depth + 1)) return false;
        if (!*eq) return true;
    }
    *eq = true;
    return true;
}

static bool equal_d(jinja_ctx *c, jv a, jv b, bool *eq, int depth) {
    if (depth > JINJA_MAX_VALUE_DEPTH)
        return jinja_fail(c, VKT_ERR_ARG, "values nested more than %d deep", JINJA_MAX_VALUE_DEPTH);
    *eq = false;
    if (jv_is_number(a) && jv_is_number(b)) {
        if (a.kind == JV_FLOAT || b.kind == JV_FLOAT)
            *eq = num_f(a) == num_f(b);
        else
            *eq = num_i(a) == num_i(b);
        return true;
    }
    if (a.kind != b.kind) return true;
    switch ((jv_kind)a.kind) {
    case JV_UNDEF:
    case JV_NONE: *eq = true; return true;
    case JV_STR:
        if (a.u.s.n == b.u.s.n && !jinja_step(c, (long long)(a.u.s.n >> 4))) return false;
        *eq = a.u.s.n == b.u.s.n && (a.u.s.n == 0 || memcmp(a.u.s.p, b.u.s.p, a.u.s.n) == 0);
        return true;
    case JV_LIST:
        if ((a.flags | b.flags) & JV_F_LAZY) { // generators compare by identity
            *eq = a.u.l == b.u.l;
            return true;
        }
        if ((a.flags & JV_F_TUPLE) != (b.flags & JV_F_TUPLE) || a.u.l->n != b.u.l->n) return true;
        if (!jinja_step(c, (long long)a.u.l->n)) return false;
        for (size_t i = 0; i < a.u.l->n; i++) {
            if (!equal_d(c, a.u.l->items[i], b.u.l->items[i], eq, depth + 1)) return false;
            if (!*eq) return true;
        }
        *eq = true;
        return true;
    case JV_DICT: return equal_dict(c, a.u.d, b.u.d, eq, depth);
    case JV_NS: *eq = a.u.d == b.u.d; return true;
    case JV_LOOP: *eq = a.u.loop == b.u.loop; return true;
    case JV_FUNC: *eq = a.u.fn == b.u.fn; return true;
    case JV_MACRO: *eq = a.u.mac == b.u.mac; return true;
    default: return true;
    }
}

bool jv_equal(jinja_ctx *c, jv a, jv b, bool *eq) { return equal_d(c, a, b, eq, 0); }

static bool compare_d(jinja_ctx *c, jv a, jv b, const char *op, int *cmp, int depth) {
    if (depth > JINJA_MAX_VALUE_DEPTH)
        return jinja_fail(c, VKT_ERR_ARG, "values nested more than %d deep", JINJA_MAX_VALUE_DEPTH);
    if (a.kind == JV_UNDEF) return jv_undef_fail(c, a);
    if (b.kind == JV_UNDEF) return jv_undef_fail(c, b);
    if (jv_is_number(a) && jv_is_number(b)) {
        *cmp = cmp_num(a, b);
        return true;
    }
    if (a.kind == JV_STR && b.kind == JV_STR) {
        if (!jinja_step(c, (long long)(a.u.s.n >> 4))) return false;
        *cmp = cmp_bytes(a.u.s.p, a.u.s.n, b.u.s.p, b.u.s.n);
        return true;
    }
    if (a.kind == JV_LIST && b.kind == JV_LIST && a.flags == b.flags && !(a.flags & JV_F_LAZY)) {
        size_t n = a.u.l->n < b.u.l->n ? a.u.l->n : b.u.l->n;
        if (!jinja_step(c, (long long)n)) return false;
        for (size_t i = 0; i < n; i++) { // the first unequal pair decides, as in Python
            bool eq;
            if (!equal_d(c, a.u.l->items[i], b.u.l->items[i], &eq, depth + 1)) return false;
            if (!eq) return compare_d(c, a.u.l->items[i], b.u.l->items[i], op, cmp, depth + 1);
        }
        *cmp = a.u.l->n < b.u.l->n ? -1 : a.u.l->n > b.u.l->n;
        return true;
    }
    return jinja_fail(c, VKT_ERR_FORMAT, "'%s' not supported between instances of '%s' and '%s'",
                      op, jv_type_name(a), jv_type_name(b));
}

bool jv_compare(jinja_ctx *c, jv a, jv b, const char *op, int *cmp) {
    return compare_d(c, a, b, op, cmp, 0);
}

// --- text --------------------------------------------------------------------------------
void jv_float_repr(double f, char buf[32]) {
    if (isnan(f)) {
        strcpy(buf, "nan");
        return;
    }
    if (isinf(f)) {
        strcpy(buf, f < 0 ? "-inf" : "inf");
        return;
    }
    // The shortest digits that read back as f (what CPython's repr prints).
    char tmp[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*e", p - 1, f);
        if (strtod(tmp, NULL) == f) break;
    }
    char digits[24];
    size_t nd = 0;
    const char *s = tmp;
    bool neg = *s == '-';
    if (neg) s++;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9') digits[nd++] = *s;
    int exp = atoi(s + 1);
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    char *o = buf;
    if (neg) *o++ = '-';
    if (exp < -4 || exp >= 16) { // CPython switches to exponent form outside 1e-4 .. 1e16
        *o++ = digits[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, digits + 1, nd - 1);
            o += nd - 1;
        }
        snprintf(o, 8, "e%c%02d", exp < 0 ? '-' : '+', (exp < 0 ? -exp : exp) % 1000);
        return;
    }
    if (exp < 0) {
        *o++ = '0';
        *o++ = '.';
        for (int i = 0; i < -exp - 1; i++) *o++ = '0';
        memcpy(o, digits, nd);
        o += nd;
    } else {
        for (int i = 0; i <= exp; i++) *o++ = (size_t)i < nd ? digits[i] : '0';
        *o++ = '.';
        if ((size_t)exp + 1 < nd) {
            memcpy(o, digits + exp + 1, nd - (size_t)exp - 1);
            o += nd - (size_t)exp - 1;
        } else {
            *o++ = '0';
        }
    }
    *o = 0;
}

static void put(vkt_bytebuf *b, const char *s) { vkt_bytebuf_put(b, s, strlen(s)); }

// Python's str.isprintable for one code point.
static bool py_printable(uint32_t cp) {
    if (cp == ' ') return true;
    if (cp < 0x20 || cp == 0x7f) return false;
    if (cp < 0x7f) return true;
    switch (utf8proc_category((utf8proc_int32_t)cp)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_ZS: return false;
    default: return true;
    }
}

static void write_str_repr(vkt_bytebuf *b, const char *s, size_t n) {
    bool has_sq = memchr(s, '\'', n) != NULL, has_dq = memchr(s, '"', n) != NULL;
    char q = has_sq && !has_dq ? '"' : '\'';
    vkt_bytebuf_put(b, &q, 1);
    for (size_t i = 0; i < n;) {
        size_t len;
        uint32_t cp = jinja_utf8_next(s + i, n - i, &len);
        char esc[16];
        if (cp == '\\' || cp == (uint32_t)q) {
            esc[0] = '\\';
            esc[1] = (char)cp;
            vkt_bytebuf_put(b, esc, 2);
        } else if (cp == '\n') {
            put(b, "\\n");
        } else if (cp == '\r') {
            put(b, "\\r");
        } else if (cp == '\t') {
            put(b, "\\t");
        } else if (len == 1 && (unsigned char)s[i] >= 0x80) {
            snprintf(esc, sizeof esc, "\\x%02x", (unsigned char)s[i]); // invalid UTF-8 byte
            put(b, esc);
        } else if (py_printable(cp)) {
            vkt_bytebuf_put(b, s + i, len);
        } else {
            if (cp < 0x100)
                snprintf(esc, sizeof esc, "\\x%02x", cp);
            else if (cp < 0x10000)
                snprintf(esc, sizeof esc, "\\u%04x", cp);
            else
                snprintf(esc, sizeof esc, "\\U%08x", cp);
            put(b, esc);
        }
        i += len;
    }
    vkt_bytebuf_put(b, &q, 1);
}

static bool write_list_repr(jinja_ctx *c, vkt_bytebuf *b, jv v, int depth) {
    bool tuple = v.flags & JV_F_TUPLE;
    put(b, tuple ? "(" : "[");
    for (size_t i = 0; i < v.u.l->n; i++) {
        if (i) put(b, ", ");
        if (!jv_write_repr(c, b, v.u.l->items[i], depth + 1)) return false;
    }
    if (tuple && v.u.l->n == 1) put(b, ",");
    put(b, tuple ? ")" : "]");
    return true;
}

static bool write_dict_repr(jinja_ctx *c, vkt_bytebuf *b, const jv_dict *d, int depth) {
    put(b, "{");
    for (size_t i = 0; i < d->n; i++) {
        if (i) put(b, ", ");
        if (!jv_write_repr(c, b, d->keys[i], depth + 1)) return false;
        put(b, ": ");
        if (!jv_write_repr(c, b, d->vals[i], depth + 1)) return false;
    }
    put(b, "}");
    return true;
}

bool jv_write_repr(jinja_ctx *c, vkt_bytebuf *b, jv v, int depth) {
    if (depth > JINJA_MAX_VALUE_DEPTH)
        return jinja_fail(c, VKT_ERR_ARG, "values nested more than %d deep", JINJA_MAX_VALUE_DEPTH);
    if (!jinja_step(c, 1)) return false;
    if (b->n > JINJA_MAX_OUTPUT)
        return jinja_fail(c, VKT_ERR_ARG, "text longer than %zu MiB", JINJA_MAX_OUTPUT >> 20);
    switch ((jv_kind)v.kind) {
    case JV_UNDEF: put(b, "Undefined"); return true;
    case JV_STR: write_str_repr(b, v.u.s.p, v.u.s.n); return true;
    case JV_LIST:
        if (v.flags & JV_F_LAZY) return jv_write_str(c, b, v);
        return write_list_repr(c, b, v, depth);
    case JV_DICT: return write_dict_repr(c, b, v.u.d, depth);
    case JV_NS:
        put(b, "<Namespace ");
        if (!write_dict_repr(c, b, v.u.d, depth)) return false;
        put(b, ">");
        return true;
    default: return jv_write_str(c, b, v);
    }
}

bool jv_write_str(jinja_ctx *c, vkt_bytebuf *b, jv v) {
    char tmp[48];
    switch ((jv_kind)v.kind) {
    case JV_UNDEF: return true;
    case JV_NONE: put(b, "None"); return true;
    case JV_BOOL: put(b, v.u.b ? "True" : "False"); return true;
    case JV_INT:
        snprintf(tmp, sizeof tmp, "%" PRId64, v.u.i);
        put(b, tmp);
        return true;
    case JV_FLOAT:
        jv_float_repr(v.u.f, tmp);
        put(b, tmp);
        return true;
    case JV_STR: vkt_bytebuf_put(b, v.u.s.p, v.u.s.n); return true;
    case JV_LIST:
        if (v.flags & JV_F_LAZY) // Python prints <generator object ... at 0x...>
            return jinja_fail(
                c, VKT_ERR_UNSUPPORTED,
                "printing a generator (a filter result without |list) is not supported");
        return jv_write_repr(c, b, v, 0);
    case JV_DICT:
    case JV_NS: return jv_write_repr(c, b, v, 0);
    case JV_LOOP:
        snprintf(tmp, sizeof tmp, "<LoopContext %zu/%zu>", v.u.loop->index0 + 1, v.u.loop->length);
        put(b, tmp);
        return true;
    case JV_FUNC:
    case JV_MACRO:
        return jinja_fail(c, VKT_ERR_UNSUPPORTED, "printing a %s is not supported",
                          v.kind == JV_MACRO ? "macro" : "function");
    }
    return true;
}

bool jv_to_str(jinja_ctx *c, jv v, jv *out) {
    if (v.kind == JV_STR) {
        *out = v;
        return true;
    }
    vkt_bytebuf b = {0};
    if (!jv_write_str(c, &b, v)) {
        free(b.p);
        return false;
    }
    return jv_from_buf(c, &b, out);
}
