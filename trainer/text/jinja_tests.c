// jinja_tests.c: the `is` tests (x is defined, x is not none, x is string ...). Their
// answers follow jinja2's definitions, which ask Python questions: `iterable` means iter()
// works, so an undefined value is iterable; `number` includes booleans.
#include <string.h>
#include <utf8proc.h>

#include "jinja_internal.h"

enum {
    T_DEFINED,
    T_UNDEFINED,
    T_NONE,
    T_BOOLEAN,
    T_FALSE,
    T_TRUE,
    T_INTEGER,
    T_FLOAT,
    T_NUMBER,
    T_STRING,
    T_MAPPING,
    T_ITERABLE,
    T_SEQUENCE,
    T_CALLABLE,
    T_ODD,
    T_EVEN,
    T_DIVISIBLEBY,
    T_EQ,
    T_NE,
    T_LT,
    T_LE,
    T_GT,
    T_GE,
    T_IN,
    T_SAMEAS,
    T_LOWER,
    T_UPPER,
};

static const struct {
    const char *name;
    int id;
} tests[] = {
    {"defined", T_DEFINED},
    {"undefined", T_UNDEFINED},
    {"none", T_NONE},
    {"boolean", T_BOOLEAN},
    {"false", T_FALSE},
    {"true", T_TRUE},
    {"integer", T_INTEGER},
    {"float", T_FLOAT},
    {"number", T_NUMBER},
    {"string", T_STRING},
    {"mapping", T_MAPPING},
    {"iterable", T_ITERABLE},
    {"sequence", T_SEQUENCE},
    {"callable", T_CALLABLE},
    {"odd", T_ODD},
    {"even", T_EVEN},
    {"divisibleby", T_DIVISIBLEBY},
    {"eq", T_EQ},
    {"equalto", T_EQ},
    {"==", T_EQ},
    {"ne", T_NE},
    {"!=", T_NE},
    {"lt", T_LT},
    {"lessthan", T_LT},
    {"<", T_LT},
    {"le", T_LE},
    {"<=", T_LE},
    {"gt", T_GT},
    {"greaterthan", T_GT},
    {">", T_GT},
    {"ge", T_GE},
    {">=", T_GE},
    {"in", T_IN},
    {"sameas", T_SAMEAS},
    {"lower", T_LOWER},
    {"upper", T_UPPER},
};

int jinja_test_id(const char *name, size_t n) {
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (strlen(tests[i].name) == n && memcmp(tests[i].name, name, n) == 0) return tests[i].id;
    return -1;
}

static const char *test_name(int id) {
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (tests[i].id == id) return tests[i].name;
    return "?";
}

// str.islower() / str.isupper(): some cased character, none of the other case.
static bool case_test(const char *s, size_t n, bool lower) {
    bool cased = false;
    for (size_t i = 0; i < n;) {
        size_t len;
        uint32_t cp = jinja_utf8_next(s + i, n - i, &len);
        i += len;
        if (cp > 0x10ffff) continue;
        utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)cp);
        bool is_lower = cat == UTF8PROC_CATEGORY_LL;
        bool is_upper = cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LT;
        if ((lower && is_upper) || (!lower && (is_lower || cat == UTF8PROC_CATEGORY_LT)))
            return false;
        if (is_lower || is_upper) cased = true;
    }
    return cased;
}

static bool same_object(jv a, jv b) {
    if (a.kind != b.kind) return false;
    switch ((jv_kind)a.kind) {
    case JV_UNDEF:
    case JV_NONE: return true;
    case JV_BOOL: return a.u.b == b.u.b;
    case JV_INT: return a.u.i == b.u.i && a.u.i >= -5 && a.u.i <= 256; // CPython's small ints
    case JV_STR: return a.u.s.p == b.u.s.p && a.u.s.n == b.u.s.n;
    case JV_FLOAT: return false;
    default: return a.u.l == b.u.l;
    }
}

static bool compare_test(jinja_ctx *c, int id, jv v, jv arg, bool *out) {
    if (id == T_EQ || id == T_NE) {
        if (!jv_equal(c, v, arg, out)) return false;
        if (id == T_NE) *out = !*out;
        return true;
    }
    int cmp;
    const char *op = id == T_LT ? "<" : id == T_LE ? "<=" : id == T_GT ? ">" : ">=";
    if (!jv_compare(c, v, arg, op, &cmp)) return false;
    *out = id == T_LT ? cmp < 0 : id == T_LE ? cmp <= 0 : id == T_GT ? cmp > 0 : cmp >= 0;
    return true;
}

static bool parity(jinja_ctx *c, jv v, jv divisor, bool *zero) {
    jv r;
    if (!jinja_mod(c, v, divisor, &r)) return false;
    *zero = r.kind == JV_INT ? r.u.i == 0 : r.u.f == 0.0;
    return true;
}

bool jinja_apply_test(jinja_ctx *c, int id, jv v, const jinja_args *a, bool *out) {
    jv arg = jv_undef();
    bool has_arg = jinja_arg(a, NULL, 0, &arg);
    size_t want = id >= T_DIVISIBLEBY && id <= T_SAMEAS ? 1 : 0;
    if (a->npos != want || a->nkw)
        return jinja_fail(c, VKT_ERR_FORMAT, "test '%s' takes %zu argument(s)", test_name(id),
                          want);
    (void)has_arg;
    bool z;
    switch (id) {
    case T_DEFINED: *out = v.kind != JV_UNDEF; return true;
    case T_UNDEFINED: *out = v.kind == JV_UNDEF; return true;
    case T_NONE: *out = v.kind == JV_NONE; return true;
    case T_BOOLEAN: *out = v.kind == JV_BOOL; return true;
    case T_FALSE: *out = v.kind == JV_BOOL && !v.u.b; return true;
    case T_TRUE: *out = v.kind == JV_BOOL && v.u.b; return true;
    case T_INTEGER: *out = v.kind == JV_INT; return true;
    case T_FLOAT: *out = v.kind == JV_FLOAT; return true;
    case T_NUMBER: *out = jv_is_number(v); return true;
    case T_STRING: *out = v.kind == JV_STR; return true;
    case T_MAPPING: *out = v.kind == JV_DICT; return true;
    case T_ITERABLE:
    case T_SEQUENCE:
        *out = v.kind == JV_STR || v.kind == JV_LIST || v.kind == JV_DICT || v.kind == JV_UNDEF;
        if (id == T_SEQUENCE && v.kind == JV_LIST && (v.flags & JV_F_LAZY)) *out = false;
        return true;
    case T_CALLABLE:
        *out = v.kind == JV_FUNC || v.kind == JV_MACRO || v.kind == JV_UNDEF;
        return true;
    case T_ODD:
    case T_EVEN:
        if (!parity(c, v, jv_int(2), &z)) return false;
        *out = (id == T_EVEN) == z;
        return true;
    case T_DIVISIBLEBY:
        if (!parity(c, v, arg, &z)) return false;
        *out = z;
        return true;
    case T_IN: return jinja_contains(c, v, arg, out);
    case T_SAMEAS: *out = same_object(v, arg); return true;
    case T_LOWER:
    case T_UPPER: {
        jv s;
        if (!jv_to_str(c, v, &s)) return false;
        *out = case_test(s.u.s.p, s.u.s.n, id == T_LOWER);
        return true;
    }
    default: return compare_test(c, id, v, arg, out);
    }
}
