// jinja_eval.c: expressions to values. Operators follow Python (int / float promotion,
// floor division and modulo toward minus infinity, `and` / `or` returning an operand,
// chained comparisons); an operation Python would refuse fails the render with the
// TypeError text Python would give.
#include <math.h>
#include <string.h>

#include "jinja_internal.h"

static bool eval_args(jinja_ctx *c, jinja_scope *s, const jinja_node *n, jinja_args *a) {
    memset(a, 0, sizeof *a);
    size_t np = n->args.n, nk = n->kwvals.n;
    a->pos = jinja_ctx_alloc(c, (np + 1) * sizeof(jv));
    a->kw = jinja_ctx_alloc(c, (nk + 1) * sizeof(jv));
    if (!a->pos || !a->kw) return false;
    for (size_t i = 0; i < np; i++)
        if (!jinja_eval(c, s, n->args.v[i], &a->pos[i])) return false;
    for (size_t i = 0; i < nk; i++)
        if (!jinja_eval(c, s, n->kwvals.v[i], &a->kw[i])) return false;
    a->npos = np;
    a->nkw = nk;
    a->kwnames = n->kwnames;
    a->kwname_lens = n->kwname_lens;
    c->line = n->line;
    return true;
}

static bool type_error(jinja_ctx *c, const char *op, jv a, jv b) {
    if (a.kind == JV_UNDEF) return jv_undef_fail(c, a);
    if (b.kind == JV_UNDEF) return jv_undef_fail(c, b);
    return jinja_fail(c, VKT_ERR_FORMAT, "unsupported operand type(s) for %s: '%s' and '%s'", op,
                      jv_type_name(a), jv_type_name(b));
}

static int64_t as_int(jv v) { return v.kind == JV_INT ? v.u.i : (int64_t)v.u.b; }
static double as_float(jv v) { return v.kind == JV_FLOAT ? v.u.f : (double)as_int(v); }

static bool overflow(jinja_ctx *c) { return jinja_fail(c, VKT_ERR_ARG, "integer overflow"); }

// Python's float divmod: the quotient floored, the remainder with the divisor's sign.
static void float_divmod(double x, double y, double *floordiv, double *mod) {
    double m = fmod(x, y), div = (x - m) / y;
    if (m != 0.0) {
        if ((y < 0) != (m < 0)) {
            m += y;
            div -= 1.0;
        }
    } else {
        m = copysign(0.0, y);
    }
    double fd;
    if (div != 0.0) {
        fd = floor(div);
        if (div - fd > 0.5) fd += 1.0;
    } else {
        fd = copysign(0.0, x / y);
    }
    *floordiv = fd;
    *mod = m;
}

static bool int_divmod(jinja_ctx *c, int64_t x, int64_t y, int64_t *q, int64_t *r) {
    if (x == INT64_MIN && y == -1) return overflow(c);
    int64_t qq = x / y, rr = x % y;
    if (rr != 0 && ((rr < 0) != (y < 0))) {
        qq -= 1;
        rr += y;
    }
    *q = qq;
    *r = rr;
    return true;
}

bool jinja_mod(jinja_ctx *c, jv a, jv b, jv *out) {
    if (!jv_is_number(a) || !jv_is_number(b)) {
        if (a.kind == JV_STR)
            return jinja_fail(c, VKT_ERR_UNSUPPORTED, "string formatting with %% is not supported");
        return type_error(c, "%", a, b);
    }
    if (as_float(b) == 0.0)
        return jinja_fail(c, VKT_ERR_FORMAT, "integer division or modulo by zero");
    if (a.kind != JV_FLOAT && b.kind != JV_FLOAT) {
        int64_t q = 0, r = 0;
        if (!int_divmod(c, as_int(a), as_int(b), &q, &r)) return false;
        *out = jv_int(r);
        return true;
    }
    double fd, m;
    float_divmod(as_float(a), as_float(b), &fd, &m);
    *out = jv_float(m);
    return true;
}

static bool repeat(jinja_ctx *c, jv seq, int64_t times, jv *out) {
    if (times < 0) times = 0;
    size_t unit = seq.kind == JV_STR ? seq.u.s.n : seq.u.l->n;
    if (unit && (uint64_t)times > (JINJA_MAX_ARENA / 16) / unit)
        return jinja_fail(c, VKT_ERR_NOMEM, "repetition result is too large");
    size_t total = unit * (size_t)times;
    if (!jinja_step(c, (long long)total)) return false;
    if (seq.kind == JV_STR) {
        char *p = jinja_ctx_alloc(c, total + 1);
        if (!p) return false;
        for (int64_t i = 0; i < times; i++) memcpy(p + (size_t)i * unit, seq.u.s.p, unit);
        p[total] = 0;
        *out = jv_strn(p, total);
        return true;
    }
    if (!jv_list_new(c, total, out)) return false;
    for (size_t i = 0; i < total; i++) out->u.l->items[i] = seq.u.l->items[i % unit];
    out->flags = seq.flags;
    return true;
}

static bool add(jinja_ctx *c, jv a, jv b, jv *out) {
    if (jv_is_number(a) && jv_is_number(b)) {
        if (a.kind == JV_FLOAT || b.kind == JV_FLOAT) {
            *out = jv_float(as_float(a) + as_float(b));
            return true;
        }
        int64_t r;
        if (__builtin_add_overflow(as_int(a), as_int(b), &r)) return overflow(c);
        *out = jv_int(r);
        return true;
    }
    if (a.kind == JV_STR && b.kind == JV_STR) {
        size_t n = a.u.s.n + b.u.s.n;
        char *p = jinja_ctx_alloc(c, n + 1);
        if (!p) return false;
        memcpy(p, a.u.s.p, a.u.s.n);
        memcpy(p + a.u.s.n, b.u.s.p, b.u.s.n);
        p[n] = 0;
        *out = jv_strn(p, n);
        return true;
    }
    if (a.kind == JV_LIST && b.kind == JV_LIST && a.flags == b.flags && !(a.flags & JV_F_LAZY)) {
        size_t na = a.u.l->n, nb = b.u.l->n;
        if (!jinja_step(c, (long long)(na + nb)) || !jv_list_new(c, na + nb, out)) return false;
        memcpy(out->u.l->items, a.u.l->items, na * sizeof(jv));
        memcpy(out->u.l->items + na, b.u.l->items, nb * sizeof(jv));
        out->flags = a.flags;
        return true;
    }
    if (a.kind == JV_STR && b.kind != JV_UNDEF)
        return jinja_fail(c, VKT_ERR_FORMAT, "can only concatenate str (not \"%s\") to str",
                          jv_type_name(b));
    return type_error(c, "+", a, b);
}

static bool power(jinja_ctx *c, jv a, jv b, jv *out) {
    if (a.kind != JV_FLOAT && b.kind != JV_FLOAT && as_int(b) >= 0) {
        int64_t base = as_int(a), e = as_int(b), r = 1;
        while (e > 0) { // square and multiply, failing on overflow
            if ((e & 1) && __builtin_mul_overflow(r, base, &r)) return overflow(c);
            e >>= 1;
            if (e && __builtin_mul_overflow(base, base, &base)) return overflow(c);
        }
        *out = jv_int(r);
        return true;
    }
    double x = as_float(a), y = as_float(b);
    if (x == 0.0 && y < 0)
        return jinja_fail(c, VKT_ERR_FORMAT, "0.0 cannot be raised to a negative power");
    if (x < 0 && y != floor(y))
        return jinja_fail(c, VKT_ERR_UNSUPPORTED, "complex results of ** are not supported");
    *out = jv_float(pow(x, y));
    return true;
}

static bool arith(jinja_ctx *c, int op, jv a, jv b, jv *out) {
    static const char *const names[] = {
        [JT_SUB] = "-", [JT_MUL] = "*", [JT_DIV] = "/", [JT_FLOORDIV] = "//", [JT_POW] = "**"};
    if (op == JT_ADD) return add(c, a, b, out);
    if (op == JT_MOD) return jinja_mod(c, a, b, out);
    if (op == JT_MUL) {
        bool seq_a = a.kind == JV_STR || (a.kind == JV_LIST && !(a.flags & JV_F_LAZY));
        bool seq_b = b.kind == JV_STR || (b.kind == JV_LIST && !(b.flags & JV_F_LAZY));
        if (seq_a && (b.kind == JV_INT || b.kind == JV_BOOL)) return repeat(c, a, as_int(b), out);
        if (seq_b && (a.kind == JV_INT || a.kind == JV_BOOL)) return repeat(c, b, as_int(a), out);
    }
    if (!jv_is_number(a) || !jv_is_number(b)) return type_error(c, names[op], a, b);
    bool ints = a.kind != JV_FLOAT && b.kind != JV_FLOAT;
    int64_t r;
    switch (op) {
    case JT_SUB:
        if (!ints) return (*out = jv_float(as_float(a) - as_float(b))), true;
        if (__builtin_sub_overflow(as_int(a), as_int(b), &r)) return overflow(c);
        return (*out = jv_int(r)), true;
    case JT_MUL:
        if (!ints) return (*out = jv_float(as_float(a) * as_float(b))), true;
        if (__builtin_mul_overflow(as_int(a), as_int(b), &r)) return overflow(c);
        return (*out = jv_int(r)), true;
    case JT_DIV:
        if (as_float(b) == 0.0) return jinja_fail(c, VKT_ERR_FORMAT, "division by zero");
        *out = jv_float(ints ? (double)as_int(a) / (double)as_int(b) : as_float(a) / as_float(b));
        return true;
    case JT_FLOORDIV: {
        if (as_float(b) == 0.0)
            return jinja_fail(c, VKT_ERR_FORMAT, "integer division or modulo by zero");
        if (ints) {
            int64_t q = 0, m = 0;
            if (!int_divmod(c, as_int(a), as_int(b), &q, &m)) return false;
            return (*out = jv_int(q)), true;
        }
        double fd, m;
        float_divmod(as_float(a), as_float(b), &fd, &m);
        return (*out = jv_float(fd)), true;
    }
    default: return power(c, a, b, out);
    }
}

bool jinja_contains(jinja_ctx *c, jv needle, jv hay, bool *out) {
    *out = false;
    switch ((jv_kind)hay.kind) {
    case JV_UNDEF: return true; // iterating an Undefined yields nothing
    case JV_STR:
        if (needle.kind != JV_STR)
            return jinja_fail(c, VKT_ERR_FORMAT,
                              "'in <string>' requires string as left operand, not %s",
                              jv_type_name(needle));
        if (!jinja_step(c, (long long)(hay.u.s.n >> 4) + 1)) return false; // memmem is cheap
        *out = needle.u.s.n == 0 || memmem(hay.u.s.p, hay.u.s.n, needle.u.s.p, needle.u.s.n);
        return true;
    case JV_LIST:
        if (!jinja_step(c, (long long)hay.u.l->n)) return false;
        for (size_t i = 0; i < hay.u.l->n && !*out; i++)
            if (!jv_equal(c, needle, hay.u.l->items[i], out)) return false;
        return true;
    case JV_DICT:
        if (needle.kind == JV_DICT || needle.kind == JV_NS ||
            (needle.kind == JV_LIST && !(needle.flags & JV_F_TUPLE)))
            return jinja_fail(c, VKT_ERR_FORMAT, "unhashable type: '%s'", jv_type_name(needle));
        *out = jv_dict_get(c, hay.u.d, needle) != NULL;
        return !c->failed;
    default:
        return jinja_fail(c, VKT_ERR_FORMAT, "argument of type '%s' is not iterable",
                          jv_type_name(hay));
    }
}

static bool eval_compare(jinja_ctx *c, jinja_scope *s, const jinja_node *n, jv *out) {
    jv left;
    if (!jinja_eval(c, s, n->a, &left)) return false;
    for (size_t i = 0; i < n->args.n; i++) {
        jv right;
        if (!jinja_eval(c, s, n->args.v[i], &right)) return false;
        c->line = n->line;
        int op = n->cmp_ops[i], cmp;
        bool r;
        if (op == JT_EQ || op == JT_NE) {
            if (!jv_equal(c, left, right, &r)) return false;
            if (op == JT_NE) r = !r;
        } else if (op == JT_NAME || op == -JT_NAME) {
            if (!jinja_contains(c, left, right, &r)) return false;
            if (op < 0) r = !r;
        } else {
            const char *name = op == JT_LT ? "<" : op == JT_LTEQ ? "<=" : op == JT_GT ? ">" : ">=";
            if (!jv_compare(c, left, right, name, &cmp)) return false;
            r = op == JT_LT ? cmp < 0 : op == JT_LTEQ ? cmp <= 0 : op == JT_GT ? cmp > 0 : cmp >= 0;
        }
        if (!r) {
            *out = jv_bool(false);
            return true;
        }
        left = right;
    }
    *out = jv_bool(true);
    return true;
}

// Python's slice.indices: normalized start and step, and the number of items.
static bool slice_indices(jinja_ctx *c, jv vs, jv ve, jv vstep, size_t len, int64_t *start,
                          int64_t *step, size_t *count) {
    int64_t n = (int64_t)len, st = vstep.kind == JV_NONE ? 1 : as_int(vstep);
    if (st == 0) return jinja_fail(c, VKT_ERR_FORMAT, "slice step cannot be zero");
    int64_t lo = st < 0 ? -1 : 0, hi = st < 0 ? n - 1 : n;
    int64_t a = st < 0 ? hi : lo, b = st < 0 ? lo : hi;
    if (vs.kind != JV_NONE) {
        a = as_int(vs);
        if (a < 0)
            a = a + n < lo ? lo : a + n;
        else if (a > hi)
            a = hi;
    }
    if (ve.kind != JV_NONE) {
        b = as_int(ve);
        if (b < 0)
            b = b + n < lo ? lo : b + n;
        else if (b > hi)
            b = hi;
    }
    int64_t cnt =
        st > 0 ? (b > a ? (b - a - 1) / st + 1 : 0) : (a > b ? (a - b - 1) / (-st) + 1 : 0);
    *start = a;
    *step = st;
    *count = (size_t)cnt;
    return true;
}

static bool slice_index_ok(jv v) {
    return v.kind == JV_NONE || v.kind == JV_INT || v.kind == JV_BOOL;
}

static bool eval_slice(jinja_ctx *c, jinja_scope *s, const jinja_node *n, jv *out) {
    jv obj, parts[3] = {jv_none(), jv_none(), jv_none()};
    const jinja_node *exprs[3] = {n->b, n->c, n->d};
    if (!jinja_eval(c, s, n->a, &obj)) return false;
    for (int i = 0; i < 3; i++)
        if (exprs[i] && !jinja_eval(c, s, exprs[i], &parts[i])) return false;
    c->line = n->line;
    // jinja2 subscripts slices directly (not through its getitem), so Python's errors stand.
    if (obj.kind == JV_UNDEF) return jv_undef_fail(c, obj);
    if (obj.kind == JV_DICT) return jinja_fail(c, VKT_ERR_FORMAT, "unhashable type: 'slice'");
    if (obj.kind != JV_STR && (obj.kind != JV_LIST || (obj.flags & JV_F_LAZY)))
        return jinja_fail(c, VKT_ERR_FORMAT, "'%s' object is not subscriptable", jv_type_name(obj));
    if (!slice_index_ok(parts[0]) || !slice_index_ok(parts[1]) || !slice_index_ok(parts[2]))
        return jinja_fail(c, VKT_ERR_FORMAT, "slice indices must be integers or None");
    size_t len = obj.kind == JV_LIST ? obj.u.l->n : 0, *off = NULL, count = 0;
    if (obj.kind == JV_STR && !(off = jinja_cp_offsets(c, obj.u.s.p, obj.u.s.n, &len)))
        return false;
    int64_t start = 0, step = 1;
    if (!slice_indices(c, parts[0], parts[1], parts[2], len, &start, &step, &count) ||
        !jinja_step(c, (long long)count))
        return false;
    if (obj.kind == JV_LIST) {
        if (!jv_list_new(c, count, out)) return false;
        for (size_t i = 0; i < count; i++)
            out->u.l->items[i] = obj.u.l->items[start + (int64_t)i * step];
        out->flags = obj.flags & JV_F_TUPLE;
        return true;
    }
    if (step == 1) {
        *out = jv_strn(obj.u.s.p + off[start], off[start + (int64_t)count] - off[start]);
        return true;
    }
    vkt_bytebuf b = {0};
    for (size_t i = 0; i < count; i++) {
        int64_t k = start + (int64_t)i * step;
        vkt_bytebuf_put(&b, obj.u.s.p + off[k], off[k + 1] - off[k]);
    }
    return jv_from_buf(c, &b, out);
}

static bool eval_call(jinja_ctx *c, jinja_scope *s, const jinja_node *n, jv *out) {
    jv callee;
    jinja_args a;
    if (!jinja_eval(c, s, n->a, &callee) || !eval_args(c, s, n, &a)) return false;
    switch (callee.kind) {
    case JV_FUNC: return jinja_call_func(c, callee.u.fn, &a, out);
    case JV_MACRO: return jinja_call_macro(c, callee.u.mac, &a, out);
    case JV_UNDEF: return jv_undef_fail(c, callee);
    default:
        return jinja_fail(c, VKT_ERR_FORMAT, "'%s' object is not callable", jv_type_name(callee));
    }
}

static bool eval_seq(jinja_ctx *c, jinja_scope *s, const jinja_node *n, jv *out) {
    if (!jv_list_new(c, n->args.n, out)) return false;
    for (size_t i = 0; i < n->args.n; i++)
        if (!jinja_eval(c, s, n->args.v[i], &out->u.l->items[i])) return false;
    if (n->kind == JN_TUPLE) out->flags = JV_F_TUPLE;
    return true;
}

static bool eval_dict(jinja_ctx *c, jinja_scope *s, const jinja_node *n, jv *out) {
    if (!jv_dict_new(c, n->args.n, out)) return false;
    for (size_t i = 0; i < n->args.n; i++) {
        jv k, v;
        if (!jinja_eval(c, s, n->args.v[i], &k) || !jinja_eval(c, s, n->kwvals.v[i], &v) ||
            !jv_dict_set(c, out->u.d, k, v))
            return false;
    }
    return true;
}

static bool eval_unary(jinja_ctx *c, jinja_scope *s, const jinja_node *n, jv *out) {
    jv v;
    if (!jinja_eval(c, s, n->a, &v)) return false;
    c->line = n->line;
    if (n->kind == JN_NOT) {
        *out = jv_bool(!jv_truthy(v));
        return true;
    }
    if (v.kind == JV_UNDEF) return jv_undef_fail(c, v);
    if (!jv_is_number(v))
        return jinja_fail(c, VKT_ERR_FORMAT, "bad operand type for unary %c: '%s'",
                          n->kind == JN_NEG ? '-' : '+', jv_type_name(v));
    if (n->kind == JN_POS)
        *out = v.kind == JV_BOOL ? jv_int(v.u.b) : v;
    else if (v.kind == JV_FLOAT)
        *out = jv_float(-v.u.f);
    else if (as_int(v) == INT64_MIN)
        return overflow(c);
    else
        *out = jv_int(-as_int(v));
    return true;
}

// The operands of a left-leaning chain a + b + c (or a ~ b ~ c), left to right.
#define CHAIN_MAX 32
static size_t chain_operands(const jinja_node *n, const jinja_node **ops) {
    size_t k = 0;
    const jinja_node *x = n;
    while (k < CHAIN_MAX - 1 && x->kind == n->kind && x->op == n->op) {
        ops[k++] = x->b;
        x = x->a;
    }
    ops[k++] = x;
    for (size_t i = 0; i < k / 2; i++) {
        const jinja_node *t = ops[i];
        ops[i] = ops[k - 1 - i];
        ops[k - 1 - i] = t;
    }
    return k;
}

// a ~ b ~ c and a + b + c: one string built once rather than one copy per operator. The
// operands are all evaluated first (an expression has no side effects); + falls back to
// pairwise Python addition unless every operand is a string.
static bool eval_chain(jinja_ctx *c, jinja_scope *s, const jinja_node *n, jv *out) {
    const jinja_node *ops[CHAIN_MAX];
    jv v[CHAIN_MAX];
    size_t k = chain_operands(n, ops);
    bool strings = true;
    for (size_t i = 0; i < k; i++) {
        if (!jinja_eval(c, s, ops[i], &v[i])) return false;
        strings = strings && v[i].kind == JV_STR;
    }
    c->line = n->line;
    if (n->kind == JN_BINOP && !strings) {
        *out = v[0];
        for (size_t i = 1; i < k; i++)
            if (!arith(c, JT_ADD, *out, v[i], out)) return false;
        return true;
    }
    if (strings) { // the common case: one allocation in the arena
        size_t total = 0;
        for (size_t i = 0; i < k; i++) total += v[i].u.s.n;
        char *p = jinja_ctx_alloc(c, total + 1);
        if (!p) return false;
        for (size_t i = 0, at = 0; i < k; at += v[i].u.s.n, i++)
            memcpy(p + at, v[i].u.s.p, v[i].u.s.n);
        p[total] = 0;
        *out = jv_strn(p, total);
        return true;
    }
    vkt_bytebuf buf = {0};
    for (size_t i = 0; i < k; i++)
        if (!jv_write_str(c, &buf, v[i])) {
            free(buf.p);
            return false;
        }
    return jv_from_buf(c, &buf, out);
}

static bool eval_binary(jinja_ctx *c, jinja_scope *s, const jinja_node *n, jv *out) {
    jv a, b;
    if (n->kind == JN_CONCAT || (n->kind == JN_BINOP && n->op == JT_ADD))
        return eval_chain(c, s, n, out);
    if (!jinja_eval(c, s, n->a, &a)) return false;
    if (n->kind == JN_AND || n->kind == JN_OR) {
        bool t = jv_truthy(a);
        if ((n->kind == JN_AND) != t) { // short circuit: the left operand decides
            *out = a;
            return true;
        }
        return jinja_eval(c, s, n->b, out);
    }
    if (!jinja_eval(c, s, n->b, &b)) return false;
    c->line = n->line;
    return arith(c, n->op, a, b, out);
}

static bool eval_node(jinja_ctx *c, jinja_scope *s, const jinja_node *n, jv *out) {
    jv v, key;
    jinja_args a;
    bool b;
    switch (n->kind) {
    case JN_CONST: *out = n->value; return true;
    case JN_NAME: return jinja_scope_lookup(c, s, n->name, n->name_len, out);
    case JN_LIST:
    case JN_TUPLE: return eval_seq(c, s, n, out);
    case JN_DICT: return eval_dict(c, s, n, out);
    case JN_GETATTR:
        if (!jinja_eval(c, s, n->a, &v)) return false;
        c->line = n->line;
        return jinja_getattr(c, v, n->name, n->name_len, out);
    case JN_GETITEM:
        if (!jinja_eval(c, s, n->a, &v) || !jinja_eval(c, s, n->b, &key)) return false;
        c->line = n->line;
        return jinja_getitem(c, v, key, out);
    case JN_SLICE: return eval_slice(c, s, n, out);
    case JN_CALL: return eval_call(c, s, n, out);
    case JN_FILTER:
        if (n->op < 0)
            return jinja_fail(c, VKT_ERR_UNSUPPORTED, "filter '%.*s' is not supported",
                              (int)n->name_len, n->name);
        if (!jinja_eval(c, s, n->a, &v) || !eval_args(c, s, n, &a)) return false;
        return jinja_apply_filter(c, n->op, v, &a, out);
    case JN_TEST:
        if (n->op < 0)
            return jinja_fail(c, VKT_ERR_UNSUPPORTED, "test '%.*s' is not supported",
                              (int)n->name_len, n->name);
        if (!jinja_eval(c, s, n->a, &v) || !eval_args(c, s, n, &a) ||
            !jinja_apply_test(c, n->op, v, &a, &b))
            return false;
        *out = jv_bool(b);
        return true;
    case JN_NEG:
    case JN_POS:
    case JN_NOT: return eval_unary(c, s, n, out);
    case JN_BINOP:
    case JN_AND:
    case JN_OR:
    case JN_CONCAT: return eval_binary(c, s, n, out);
    case JN_COMPARE: return eval_compare(c, s, n, out);
    case JN_COND:
        if (!jinja_eval(c, s, n->b, &v)) return false;
        if (jv_truthy(v)) return jinja_eval(c, s, n->a, out);
        if (n->c) return jinja_eval(c, s, n->c, out);
        *out = jv_undef();
        return true;
    default: return jinja_fail(c, VKT_ERR_FORMAT, "not an expression");
    }
}

bool jinja_eval(jinja_ctx *c, jinja_scope *s, const jinja_node *n, jv *out) {
    c->line = n->line;
    if (++c->depth > JINJA_MAX_EVAL_DEPTH)
        return jinja_fail(c, VKT_ERR_ARG, "expressions and calls nested more than %d deep",
                          JINJA_MAX_EVAL_DEPTH);
    bool ok = eval_node(c, s, n, out);
    c->depth--;
    return ok;
}
