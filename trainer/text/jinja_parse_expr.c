// jinja_parse_expr.c: expressions, with jinja2's grammar and precedence (low to high):
//
//   a if c else b | or | and | not | == != < <= > >= in, not in | + - | ~ | * / // % | **
//   | unary - + | primary with postfix .attr [index] [a:b:c] (call) and the filter / test
//   chain: x|f(args) and x is [not] t(args)
//
// Filters and tests are looked up here; one the engine lacks fails with its name and line
// when the template reaches it.
#include <string.h>

#include "jinja_internal.h"

static jinja_node *parse_or(jinja_parser *p);
static jinja_node *parse_unary(jinja_parser *p, bool with_filter);

static const jinja_tok *next_tok(jinja_parser *p) {
    const jinja_tok *t = jinja_p_cur(p);
    if (t->kind != JT_EOF) p->pos++;
    return t;
}

static bool enter(jinja_parser *p) {
    if (++p->depth > JINJA_MAX_PARSE_DEPTH)
        return jinja_p_fail(p, VKT_ERR_FORMAT, jinja_p_cur(p)->line,
                            "expression nested too deeply");
    return true;
}

// Call arguments after '(' : positional, then name=value keywords.
static bool parse_call_args(jinja_parser *p, jinja_node *n) {
    if (!jinja_p_expect(p, JT_LPAREN, "'('")) return false;
    size_t nkw = 0, cap = 0;
    bool need_comma = false;
    while (jinja_p_cur(p)->kind != JT_RPAREN) {
        if (need_comma) {
            if (!jinja_p_expect(p, JT_COMMA, "','")) return false;
            if (jinja_p_cur(p)->kind == JT_RPAREN) break; // trailing comma
        }
        const jinja_tok *t = jinja_p_cur(p);
        if (t->kind == JT_MUL || t->kind == JT_POW)
            return jinja_p_fail(p, VKT_ERR_UNSUPPORTED, t->line,
                                "*args and **kwargs are not supported");
        if (t->kind == JT_NAME && jinja_p_peek(p, 1)->kind == JT_ASSIGN) {
            p->pos += 2;
            jinja_node *v = jinja_p_expression(p, true);
            if (!v) return false;
            if (nkw == cap) {
                cap = cap ? cap * 2 : 4;
                const char **names = jinja_alloc(p->arena, cap * sizeof *names);
                size_t *lens = jinja_alloc(p->arena, cap * sizeof *lens);
                if (!names || !lens)
                    return jinja_p_fail(p, VKT_ERR_NOMEM, t->line, "out of memory");
                if (nkw) {
                    memcpy(names, n->kwnames, nkw * sizeof *names);
                    memcpy(lens, n->kwname_lens, nkw * sizeof *lens);
                }
                n->kwnames = names;
                n->kwname_lens = lens;
            }
            n->kwnames[nkw] = t->p;
            n->kwname_lens[nkw++] = t->n;
            if (!jinja_p_push(p, &n->kwvals, v)) return false;
        } else {
            if (nkw)
                return jinja_p_fail(p, VKT_ERR_FORMAT, t->line,
                                    "positional argument after keyword");
            jinja_node *v = jinja_p_expression(p, true);
            if (!v || !jinja_p_push(p, &n->args, v)) return false;
        }
        need_comma = true;
    }
    return jinja_p_expect(p, JT_RPAREN, "')'");
}

static jinja_node *parse_list(jinja_parser *p) {
    jinja_node *n = jinja_p_node(p, JN_LIST, next_tok(p)->line);
    if (!n) return NULL;
    while (jinja_p_cur(p)->kind != JT_RBRACKET) {
        if (n->args.n && !jinja_p_expect(p, JT_COMMA, "','")) return NULL;
        if (jinja_p_cur(p)->kind == JT_RBRACKET) break;
        jinja_node *v = jinja_p_expression(p, true);
        if (!v || !jinja_p_push(p, &n->args, v)) return NULL;
    }
    return jinja_p_expect(p, JT_RBRACKET, "']'") ? n : NULL;
}

static jinja_node *parse_dict(jinja_parser *p) {
    jinja_node *n = jinja_p_node(p, JN_DICT, next_tok(p)->line);
    if (!n) return NULL;
    while (jinja_p_cur(p)->kind != JT_RBRACE) {
        if (n->args.n && !jinja_p_expect(p, JT_COMMA, "','")) return NULL;
        if (jinja_p_cur(p)->kind == JT_RBRACE) break;
        jinja_node *k = jinja_p_expression(p, true);
        if (!k || !jinja_p_expect(p, JT_COLON, "':'")) return NULL;
        jinja_node *v = jinja_p_expression(p, true);
        if (!v || !jinja_p_push(p, &n->args, k) || !jinja_p_push(p, &n->kwvals, v)) return NULL;
    }
    return jinja_p_expect(p, JT_RBRACE, "'}'") ? n : NULL;
}

static jinja_node *parse_primary(jinja_parser *p) {
    const jinja_tok *t = jinja_p_cur(p);
    jinja_node *n;
    switch (t->kind) {
    case JT_NAME:
        p->pos++;
        n = jinja_p_node(p, JN_CONST, t->line);
        if (!n) return NULL;
        if (jinja_p_is_name(t, "true") || jinja_p_is_name(t, "True"))
            n->value = jv_bool(true);
        else if (jinja_p_is_name(t, "false") || jinja_p_is_name(t, "False"))
            n->value = jv_bool(false);
        else if (jinja_p_is_name(t, "none") || jinja_p_is_name(t, "None"))
            n->value = jv_none();
        else {
            n->kind = JN_NAME;
            n->name = t->p;
            n->name_len = t->n;
        }
        return n;
    case JT_STRING: {
        // Adjacent string literals join, as in Python.
        size_t len = 0, i = p->pos;
        for (; p->toks->v[i].kind == JT_STRING; i++) len += p->toks->v[i].n;
        char *s = jinja_alloc(p->arena, len + 1);
        n = jinja_p_node(p, JN_CONST, t->line);
        if (!s || !n) return NULL;
        size_t k = 0;
        for (; p->pos < i; p->pos++) {
            memcpy(s + k, p->toks->v[p->pos].p, p->toks->v[p->pos].n);
            k += p->toks->v[p->pos].n;
        }
        s[k] = 0;
        n->value = jv_strn(s, k);
        return n;
    }
    case JT_INT:
    case JT_FLOAT:
        p->pos++;
        n = jinja_p_node(p, JN_CONST, t->line);
        if (n) n->value = t->kind == JT_INT ? jv_int(t->i) : jv_float(t->f);
        return n;
    case JT_LPAREN:
        p->pos++;
        n = jinja_p_tuple(p, true, NULL, true);
        return n && jinja_p_expect(p, JT_RPAREN, "')'") ? n : NULL;
    case JT_LBRACKET: return parse_list(p);
    case JT_LBRACE: return parse_dict(p);
    default:
        jinja_p_fail(p, VKT_ERR_FORMAT, t->line, "unexpected %s", jinja_p_describe(p, t));
        return NULL;
    }
}

// One subscript inside [ ]: an expression or a slice a:b:c (each part optional).
static jinja_node *parse_subscribed(jinja_parser *p, jinja_node *obj, int line) {
    jinja_node *start = NULL;
    if (jinja_p_cur(p)->kind != JT_COLON) {
        start = jinja_p_expression(p, true);
        if (!start) return NULL;
        if (jinja_p_cur(p)->kind != JT_COLON) {
            jinja_node *n = jinja_p_node(p, JN_GETITEM, line);
            if (n) n->a = obj, n->b = start;
            return n;
        }
    }
    p->pos++; // ':'
    jinja_node *n = jinja_p_node(p, JN_SLICE, line);
    if (!n) return NULL;
    n->a = obj;
    n->b = start;
    jinja_tok_kind k = jinja_p_cur(p)->kind;
    if (k != JT_RBRACKET && k != JT_COMMA && k != JT_COLON && !(n->c = jinja_p_expression(p, true)))
        return NULL;
    if (jinja_p_cur(p)->kind == JT_COLON) {
        p->pos++;
        k = jinja_p_cur(p)->kind;
        if (k != JT_RBRACKET && k != JT_COMMA && !(n->d = jinja_p_expression(p, true))) return NULL;
    }
    return n;
}

static jinja_node *parse_subscript(jinja_parser *p, jinja_node *obj) {
    const jinja_tok *t = next_tok(p);
    if (t->kind == JT_DOT) {
        const jinja_tok *a = next_tok(p);
        jinja_node *n;
        if (a->kind == JT_NAME) {
            n = jinja_p_node(p, JN_GETATTR, t->line);
            if (n) n->a = obj, n->name = a->p, n->name_len = a->n;
            return n;
        }
        if (a->kind != JT_INT) {
            jinja_p_fail(p, VKT_ERR_FORMAT, a->line, "expected name or number after '.'");
            return NULL;
        }
        jinja_node *k = jinja_p_node(p, JN_CONST, a->line);
        n = jinja_p_node(p, JN_GETITEM, t->line);
        if (!k || !n) return NULL;
        k->value = jv_int(a->i);
        n->a = obj;
        n->b = k;
        return n;
    }
    if (jinja_p_cur(p)->kind == JT_RBRACKET) { // x[]: jinja2 reads the key as ()
        jinja_node *n = jinja_p_node(p, JN_GETITEM, t->line),
                   *key = jinja_p_node(p, JN_TUPLE, t->line);
        if (!n || !key) return NULL;
        n->a = obj;
        n->b = key;
        p->pos++;
        return n;
    }
    jinja_node *n = parse_subscribed(p, obj, t->line);
    if (!n) return NULL;
    if (jinja_p_cur(p)->kind == JT_COMMA) { // x[a, b]: the key is the tuple (a, b)
        jinja_node *key = jinja_p_node(p, JN_TUPLE, t->line);
        if (!key || n->kind != JN_GETITEM || !jinja_p_push(p, &key->args, n->b)) {
            if (key)
                jinja_p_fail(p, VKT_ERR_UNSUPPORTED, t->line,
                             "slices inside a tuple subscript are not supported");
            return NULL;
        }
        while (jinja_p_cur(p)->kind == JT_COMMA) {
            p->pos++;
            if (jinja_p_cur(p)->kind == JT_RBRACKET) break;
            jinja_node *x = jinja_p_expression(p, true);
            if (!x || !jinja_p_push(p, &key->args, x)) return NULL;
        }
        n->b = key;
    }
    return jinja_p_expect(p, JT_RBRACKET, "']'") ? n : NULL;
}

static jinja_node *parse_call(jinja_parser *p, jinja_node *callee) {
    jinja_node *n = jinja_p_node(p, JN_CALL, jinja_p_cur(p)->line);
    if (!n) return NULL;
    n->a = callee;
    return parse_call_args(p, n) ? n : NULL;
}

static jinja_node *parse_postfix(jinja_parser *p, jinja_node *n) {
    for (;;) {
        jinja_tok_kind k = jinja_p_cur(p)->kind;
        if (k == JT_DOT || k == JT_LBRACKET)
            n = parse_subscript(p, n);
        else if (k == JT_LPAREN)
            n = parse_call(p, n);
        else
            return n;
        if (!n) return NULL;
    }
}

// name(.name)* as jinja2 reads filter and test names (a dotted one is never a builtin).
static bool dotted_name(jinja_parser *p, const char **name, size_t *len, int *line) {
    const jinja_tok *t = jinja_p_cur(p);
    if (t->kind != JT_NAME)
        return jinja_p_fail(p, VKT_ERR_FORMAT, t->line, "expected a name, got %s",
                            jinja_p_describe(p, t));
    p->pos++;
    *name = t->p;
    *len = t->n;
    *line = t->line;
    while (jinja_p_cur(p)->kind == JT_DOT) {
        const jinja_tok *part = jinja_p_peek(p, 1);
        if (part->kind != JT_NAME)
            return jinja_p_fail(p, VKT_ERR_FORMAT, part->line, "expected a name after '.'");
        char *joined = jinja_alloc(p->arena, *len + part->n + 2);
        if (!joined) return jinja_p_fail(p, VKT_ERR_NOMEM, t->line, "out of memory");
        memcpy(joined, *name, *len);
        joined[*len] = '.';
        memcpy(joined + *len + 1, part->p, part->n);
        *len += part->n + 1;
        joined[*len] = 0;
        *name = joined;
        p->pos += 2;
    }
    return true;
}

static jinja_node *parse_filter(jinja_parser *p, jinja_node *arg) {
    p->pos++; // '|'
    const char *name;
    size_t len;
    int line;
    if (!dotted_name(p, &name, &len, &line)) return NULL;
    // An unsupported filter fails when it runs, not here: jinja2 3 also accepts unknown
    // filters in branches that never run, and templates keep such branches for tools.
    int id = jinja_filter_id(name, len);
    jinja_node *n = jinja_p_node(p, JN_FILTER, line);
    if (!n) return NULL;
    n->a = arg;
    n->op = id;
    n->name = name;
    n->name_len = len;
    if (jinja_p_cur(p)->kind == JT_LPAREN && !parse_call_args(p, n)) return NULL;
    return n;
}

static jinja_node *parse_test(jinja_parser *p, jinja_node *arg) {
    int line = next_tok(p)->line; // 'is'
    bool negated = false;
    if (jinja_p_is_name(jinja_p_cur(p), "not")) {
        p->pos++;
        negated = true;
    }
    const char *name;
    size_t len;
    int nline;
    if (!dotted_name(p, &name, &len, &nline)) return NULL;
    int id = jinja_test_id(name, len); // -1 fails when it runs, as for filters
    (void)nline;
    jinja_node *n = jinja_p_node(p, JN_TEST, line);
    if (!n) return NULL;
    n->a = arg;
    n->op = id;
    n->name = name;
    n->name_len = len;
    const jinja_tok *t = jinja_p_cur(p);
    if (t->kind == JT_LPAREN) {
        if (!parse_call_args(p, n)) return NULL;
    } else if ((t->kind == JT_NAME || t->kind == JT_STRING || t->kind == JT_INT ||
                t->kind == JT_FLOAT || t->kind == JT_LBRACKET || t->kind == JT_LBRACE) &&
               !jinja_p_is_name(t, "else") && !jinja_p_is_name(t, "or") &&
               !jinja_p_is_name(t, "and")) {
        // `x is divisibleby 3`: one argument without parentheses.
        if (jinja_p_is_name(t, "is")) {
            jinja_p_fail(p, VKT_ERR_FORMAT, t->line, "you cannot chain multiple tests with is");
            return NULL;
        }
        jinja_node *a = parse_primary(p);
        if (!a || !(a = parse_postfix(p, a)) || !jinja_p_push(p, &n->args, a)) return NULL;
    }
    if (!negated) return n;
    jinja_node *nt = jinja_p_node(p, JN_NOT, line);
    if (nt) nt->a = n;
    return nt;
}

static jinja_node *parse_filter_expr(jinja_parser *p, jinja_node *n) {
    for (;;) {
        const jinja_tok *t = jinja_p_cur(p);
        if (t->kind == JT_PIPE)
            n = parse_filter(p, n);
        else if (jinja_p_is_name(t, "is"))
            n = parse_test(p, n);
        else if (t->kind == JT_LPAREN)
            n = parse_call(p, n);
        else
            return n;
        if (!n) return NULL;
    }
}

static jinja_node *parse_unary(jinja_parser *p, bool with_filter) {
    if (!enter(p)) return NULL;
    const jinja_tok *t = jinja_p_cur(p);
    jinja_node *n;
    if (t->kind == JT_SUB || t->kind == JT_ADD) {
        p->pos++;
        jinja_node *x = parse_unary(p, false);
        n = x ? jinja_p_node(p, t->kind == JT_SUB ? JN_NEG : JN_POS, t->line) : NULL;
        if (n) n->a = x;
    } else {
        n = parse_primary(p);
    }
    if (n) n = parse_postfix(p, n);
    if (n && with_filter) n = parse_filter_expr(p, n);
    p->depth--;
    return n;
}

static jinja_node *binop(jinja_parser *p, jinja_node_kind kind, int op, int line, jinja_node *a,
                         jinja_node *b) {
    if (!a || !b) return NULL;
    jinja_node *n = jinja_p_node(p, kind, line);
    if (n) n->op = op, n->a = a, n->b = b;
    return n;
}

static jinja_node *parse_pow(jinja_parser *p) {
    jinja_node *n = parse_unary(p, true);
    while (n && jinja_p_cur(p)->kind == JT_POW) {
        int line = next_tok(p)->line;
        n = binop(p, JN_BINOP, JT_POW, line, n, parse_unary(p, true));
    }
    return n;
}

static jinja_node *parse_math2(jinja_parser *p) {
    jinja_node *n = parse_pow(p);
    for (;;) {
        jinja_tok_kind k = jinja_p_cur(p)->kind;
        if (!n || (k != JT_MUL && k != JT_DIV && k != JT_FLOORDIV && k != JT_MOD)) return n;
        int line = next_tok(p)->line;
        n = binop(p, JN_BINOP, (int)k, line, n, parse_pow(p));
    }
}

static jinja_node *parse_concat(jinja_parser *p) {
    jinja_node *n = parse_math2(p);
    while (n && jinja_p_cur(p)->kind == JT_TILDE) {
        int line = next_tok(p)->line;
        n = binop(p, JN_CONCAT, JT_TILDE, line, n, parse_math2(p));
    }
    return n;
}

static jinja_node *parse_math1(jinja_parser *p) {
    jinja_node *n = parse_concat(p);
    for (;;) {
        jinja_tok_kind k = jinja_p_cur(p)->kind;
        if (!n || (k != JT_ADD && k != JT_SUB)) return n;
        int line = next_tok(p)->line;
        n = binop(p, JN_BINOP, (int)k, line, n, parse_concat(p));
    }
}

static bool push_cmp(jinja_parser *p, jinja_node *n, int op, jinja_node *operand) {
    if (!operand) return false;
    if (n->args.n == n->args.cap || !n->cmp_ops) {
        // cmp_ops grows with args; jinja_p_push doubles args from 4.
        size_t cap = n->args.cap ? n->args.cap * 2 : 4;
        int *ops = jinja_alloc(p->arena, cap * sizeof *ops);
        if (!ops) return jinja_p_fail(p, VKT_ERR_NOMEM, n->line, "out of memory");
        if (n->args.n) memcpy(ops, n->cmp_ops, n->args.n * sizeof *ops);
        n->cmp_ops = ops;
    }
    n->cmp_ops[n->args.n] = op;
    return jinja_p_push(p, &n->args, operand);
}

static jinja_node *parse_compare(jinja_parser *p) {
    jinja_node *first = parse_math1(p);
    if (!first) return NULL;
    jinja_node *n = NULL;
    for (;;) {
        const jinja_tok *t = jinja_p_cur(p);
        int op;
        if (t->kind == JT_EQ || t->kind == JT_NE || t->kind == JT_LT || t->kind == JT_LTEQ ||
            t->kind == JT_GT || t->kind == JT_GTEQ) {
            op = (int)t->kind;
            p->pos++;
        } else if (jinja_p_is_name(t, "in")) {
            op = JT_NAME;
            p->pos++;
        } else if (jinja_p_is_name(t, "not") && jinja_p_is_name(jinja_p_peek(p, 1), "in")) {
            op = -JT_NAME;
            p->pos += 2;
        } else {
            return n ? n : first;
        }
        if (!n) {
            n = jinja_p_node(p, JN_COMPARE, t->line);
            if (!n) return NULL;
            n->a = first;
        }
        if (!push_cmp(p, n, op, parse_math1(p))) return NULL;
    }
}

static jinja_node *parse_not(jinja_parser *p) {
    const jinja_tok *t = jinja_p_cur(p);
    if (!jinja_p_is_name(t, "not")) return parse_compare(p);
    p->pos++;
    if (!enter(p)) return NULL;
    jinja_node *x = parse_not(p);
    p->depth--;
    jinja_node *n = x ? jinja_p_node(p, JN_NOT, t->line) : NULL;
    if (n) n->a = x;
    return n;
}

static jinja_node *parse_and(jinja_parser *p) {
    jinja_node *n = parse_not(p);
    while (n && jinja_p_is_name(jinja_p_cur(p), "and")) {
        int line = next_tok(p)->line;
        n = binop(p, JN_AND, 0, line, n, parse_not(p));
    }
    return n;
}

static jinja_node *parse_or(jinja_parser *p) {
    jinja_node *n = parse_and(p);
    while (n && jinja_p_is_name(jinja_p_cur(p), "or")) {
        int line = next_tok(p)->line;
        n = binop(p, JN_OR, 0, line, n, parse_and(p));
    }
    return n;
}

static jinja_node *parse_condexpr(jinja_parser *p) {
    jinja_node *n = parse_or(p);
    while (n && jinja_p_is_name(jinja_p_cur(p), "if")) {
        int line = next_tok(p)->line;
        jinja_node *test = parse_or(p), *orelse = NULL;
        if (!test) return NULL;
        if (jinja_p_is_name(jinja_p_cur(p), "else")) {
            p->pos++;
            if (!enter(p)) return NULL;
            orelse = parse_condexpr(p);
            p->depth--;
            if (!orelse) return NULL;
        }
        jinja_node *c = jinja_p_node(p, JN_COND, line);
        if (!c) return NULL;
        c->a = n;
        c->b = test;
        c->c = orelse;
        n = c;
    }
    return n;
}

jinja_node *jinja_p_expression(jinja_parser *p, bool with_condexpr) {
    if (!enter(p)) return NULL;
    jinja_node *n = with_condexpr ? parse_condexpr(p) : parse_or(p);
    p->depth--;
    return n;
}

static bool tuple_end(jinja_parser *p, const char *end_name) {
    const jinja_tok *t = jinja_p_cur(p);
    if (t->kind == JT_VAR_END || t->kind == JT_BLOCK_END || t->kind == JT_RPAREN) return true;
    return end_name && jinja_p_is_name(t, end_name);
}

jinja_node *jinja_p_tuple(jinja_parser *p, bool with_condexpr, const char *end_name,
                          bool explicit_parens) {
    int line = jinja_p_cur(p)->line;
    jinja_node *tuple = jinja_p_node(p, JN_TUPLE, line);
    if (!tuple) return NULL;
    bool is_tuple = false;
    for (;;) {
        if (tuple->args.n && !jinja_p_expect(p, JT_COMMA, "','")) return NULL;
        if (tuple_end(p, end_name)) break;
        jinja_node *x = jinja_p_expression(p, with_condexpr);
        if (!x || !jinja_p_push(p, &tuple->args, x)) return NULL;
        if (jinja_p_cur(p)->kind != JT_COMMA) break;
        is_tuple = true;
    }
    if (is_tuple) return tuple;
    if (tuple->args.n) return tuple->args.v[0];
    if (!explicit_parens) {
        jinja_p_fail(p, VKT_ERR_FORMAT, line, "expected an expression, got %s",
                     jinja_p_describe(p, jinja_p_cur(p)));
        return NULL;
    }
    return tuple; // ()
}
