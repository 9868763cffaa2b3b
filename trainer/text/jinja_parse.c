// jinja_parse.c: tokens to a statement tree. The tags chat templates use: if / elif /
// else, for (with `if` filter and `else`), set (plain, tuple, namespace attribute and
// block form), macro, print, break / continue (loopcontrols) and transformers'
// generation block. Jinja2 tags outside that set fail here with their name and line.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jinja_internal.h"

typedef struct stmt_parser {
    jinja_parser p;
    int loop_depth; // for blocks around the current statement (break / continue need one)
} stmt_parser;

static bool subparse(stmt_parser *sp, const char *const *ends, jinja_nodes *body);

// --- helpers shared with jinja_parse_expr.c ------------------------------------------------
const jinja_tok *jinja_p_cur(jinja_parser *p) { return &p->toks->v[p->pos]; }

const jinja_tok *jinja_p_peek(jinja_parser *p, size_t ahead) {
    size_t i = p->pos + ahead;
    return &p->toks->v[i < p->toks->n ? i : p->toks->n - 1];
}

bool jinja_p_is_name(const jinja_tok *t, const char *name) {
    size_t n = strlen(name);
    return t->kind == JT_NAME && t->n == n && memcmp(t->p, name, n) == 0;
}

const char *jinja_p_describe(jinja_parser *p, const jinja_tok *t) {
    static const char *const names[] = {
        [JT_EOF] = "end of template",
        [JT_TEXT] = "template data",
        [JT_VAR_BEGIN] = "'{{'",
        [JT_VAR_END] = "'}}'",
        [JT_BLOCK_BEGIN] = "'{%'",
        [JT_BLOCK_END] = "'%}'",
        [JT_STRING] = "string",
        [JT_INT] = "integer",
        [JT_FLOAT] = "float",
        [JT_ADD] = "'+'",
        [JT_SUB] = "'-'",
        [JT_DIV] = "'/'",
        [JT_FLOORDIV] = "'//'",
        [JT_MUL] = "'*'",
        [JT_MOD] = "'%'",
        [JT_POW] = "'**'",
        [JT_TILDE] = "'~'",
        [JT_LBRACKET] = "'['",
        [JT_RBRACKET] = "']'",
        [JT_LPAREN] = "'('",
        [JT_RPAREN] = "')'",
        [JT_LBRACE] = "'{'",
        [JT_RBRACE] = "'}'",
        [JT_EQ] = "'=='",
        [JT_NE] = "'!='",
        [JT_GT] = "'>'",
        [JT_GTEQ] = "'>='",
        [JT_LT] = "'<'",
        [JT_LTEQ] = "'<='",
        [JT_ASSIGN] = "'='",
        [JT_DOT] = "'.'",
        [JT_COLON] = "':'",
        [JT_PIPE] = "'|'",
        [JT_COMMA] = "','",
        [JT_SEMICOLON] = "';'",
    };
    if (t->kind != JT_NAME) return names[t->kind] ? names[t->kind] : "token";
    size_t n = t->n > 60 ? 60 : t->n;
    char *s = jinja_alloc(p->arena, n + 3);
    if (!s) return "name";
    s[0] = '\'';
    memcpy(s + 1, t->p, n);
    s[n + 1] = '\'';
    s[n + 2] = 0;
    return s;
}

bool jinja_p_fail(jinja_parser *p, vkt_status st, int line, const char *fmt, ...) {
    if (p->failed) return false;
    p->failed = true;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p->status = st;
    vkt_fail(p->err, st, "%s line %d: %s", p->name, line, msg);
    return false;
}

bool jinja_p_expect(jinja_parser *p, jinja_tok_kind k, const char *what) {
    const jinja_tok *t = jinja_p_cur(p);
    if (t->kind == k) {
        p->pos++;
        return true;
    }
    return jinja_p_fail(p, VKT_ERR_FORMAT, t->line, "expected %s, got %s", what,
                        jinja_p_describe(p, t));
}

jinja_node *jinja_p_node(jinja_parser *p, jinja_node_kind k, int line) {
    jinja_node *n = jinja_alloc(p->arena, sizeof *n);
    if (!n) {
        jinja_p_fail(p, VKT_ERR_NOMEM, line, "out of memory");
        return NULL;
    }
    memset(n, 0, sizeof *n);
    n->kind = k;
    n->line = line;
    return n;
}

bool jinja_p_push(jinja_parser *p, jinja_nodes *list, jinja_node *n) {
    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 4;
        jinja_node **v = jinja_alloc(p->arena, cap * sizeof *v);
        if (!v) return jinja_p_fail(p, VKT_ERR_NOMEM, n->line, "out of memory");
        if (list->n) memcpy(v, list->v, list->n * sizeof *v);
        list->v = v;
        list->cap = cap;
    }
    list->v[list->n++] = n;
    return true;
}

// --- statements ----------------------------------------------------------------------------
static bool is_one_of(const jinja_tok *t, const char *const *names) {
    for (; names && *names; names++)
        if (jinja_p_is_name(t, *names)) return true;
    return false;
}

// After a tag's header: '%}', the body up to one of ends, the end name (dropped if asked).
static bool parse_body(stmt_parser *sp, const char *const *ends, jinja_nodes *body, bool drop) {
    jinja_parser *p = &sp->p;
    if (jinja_p_cur(p)->kind == JT_COLON) p->pos++;
    if (!jinja_p_expect(p, JT_BLOCK_END, "'%}'") || !subparse(sp, ends, body)) return false;
    if (drop) p->pos++;
    return true;
}

static bool can_assign(jinja_parser *p, const jinja_tok *t) {
    static const char *const consts[] = {"true", "false", "none", "True", "False", "None", NULL};
    if (t->kind != JT_NAME)
        return jinja_p_fail(p, VKT_ERR_FORMAT, t->line, "expected a name to assign to, got %s",
                            jinja_p_describe(p, t));
    if (is_one_of(t, consts))
        return jinja_p_fail(p, VKT_ERR_FORMAT, t->line, "can't assign to %s",
                            jinja_p_describe(p, t));
    return true;
}

static bool add_target(jinja_parser *p, jinja_node *n, const jinja_tok *t) {
    if (!can_assign(p, t)) return false;
    const char **names = jinja_alloc(p->arena, (n->ntargets + 1) * sizeof *names);
    size_t *lens = jinja_alloc(p->arena, (n->ntargets + 1) * sizeof *lens);
    if (!names || !lens) return jinja_p_fail(p, VKT_ERR_NOMEM, t->line, "out of memory");
    if (n->ntargets) { // target lists are short: copying keeps the node simple
        memcpy(names, n->targets, n->ntargets * sizeof *names);
        memcpy(lens, n->target_lens, n->ntargets * sizeof *lens);
    }
    names[n->ntargets] = t->p;
    lens[n->ntargets++] = t->n;
    n->targets = names;
    n->target_lens = lens;
    p->pos++;
    return true;
}

// Assignment targets: `x`, `a, b` or `(a, b)`.
static bool parse_targets(jinja_parser *p, jinja_node *n) {
    bool paren = jinja_p_cur(p)->kind == JT_LPAREN;
    if (paren) p->pos++;
    for (;;) {
        if (!add_target(p, n, jinja_p_cur(p))) return false;
        if (jinja_p_cur(p)->kind != JT_COMMA) break;
        n->target_tuple = true;
        p->pos++;
        if (paren && jinja_p_cur(p)->kind == JT_RPAREN) break;
    }
    return !paren || jinja_p_expect(p, JT_RPAREN, "')'");
}

static jinja_node *parse_for(stmt_parser *sp, int line) {
    jinja_parser *p = &sp->p;
    jinja_node *n = jinja_p_node(p, JN_FOR, line);
    if (!n || !parse_targets(p, n)) return NULL;
    if (!jinja_p_is_name(jinja_p_cur(p), "in")) {
        jinja_p_expect(p, JT_EOF, "'in'");
        return NULL;
    }
    p->pos++;
    if (!(n->a = jinja_p_tuple(p, false, "recursive", false))) return NULL;
    if (jinja_p_is_name(jinja_p_cur(p), "if")) {
        p->pos++;
        if (!(n->b = jinja_p_expression(p, true))) return NULL;
    }
    if (jinja_p_is_name(jinja_p_cur(p), "recursive")) {
        jinja_p_fail(p, VKT_ERR_UNSUPPORTED, line, "recursive for loops are not supported");
        return NULL;
    }
    static const char *const ends[] = {"endfor", "else", NULL}, *const endfor[] = {"endfor", NULL};
    sp->loop_depth++;
    bool ok = parse_body(sp, ends, &n->body, false);
    sp->loop_depth--;
    if (!ok) return NULL;
    if (jinja_p_is_name(jinja_p_cur(p), "else")) {
        p->pos++;
        if (!parse_body(sp, endfor, &n->orelse, true)) return NULL;
    } else {
        p->pos++;
    }
    return n;
}

static jinja_node *parse_if(stmt_parser *sp, int line) {
    jinja_parser *p = &sp->p;
    static const char *const ends[] = {"endif", "elif", "else", NULL}, *const endif[] = {"endif",
                                                                                         NULL};
    jinja_node *top = jinja_p_node(p, JN_IF, line), *n = top;
    if (!top) return NULL;
    for (;;) {
        if (!(n->a = jinja_p_tuple(p, false, NULL, false))) return NULL;
        if (!parse_body(sp, ends, &n->body, false)) return NULL;
        const jinja_tok *t = jinja_p_cur(p);
        p->pos++;
        if (jinja_p_is_name(t, "elif")) {
            jinja_node *e = jinja_p_node(p, JN_IF, t->line);
            if (!e || !jinja_p_push(p, &n->orelse, e)) return NULL;
            n = e;
            continue;
        }
        if (jinja_p_is_name(t, "else") && !parse_body(sp, endif, &n->orelse, true)) return NULL;
        return top;
    }
}

static jinja_node *parse_set(stmt_parser *sp, int line) {
    jinja_parser *p = &sp->p;
    jinja_node *n;
    if (jinja_p_cur(p)->kind == JT_NAME && jinja_p_peek(p, 1)->kind == JT_DOT) {
        const jinja_tok *ns = jinja_p_cur(p), *attr = jinja_p_peek(p, 2);
        if (attr->kind != JT_NAME) {
            jinja_p_fail(p, VKT_ERR_FORMAT, attr->line, "expected an attribute name after '.'");
            return NULL;
        }
        p->pos += 3;
        if (!(n = jinja_p_node(p, JN_SET_NS, line))) return NULL;
        n->targets = jinja_alloc(p->arena, sizeof *n->targets);
        n->target_lens = jinja_alloc(p->arena, sizeof *n->target_lens);
        if (!n->targets || !n->target_lens) return NULL;
        n->targets[0] = ns->p;
        n->target_lens[0] = ns->n;
        n->ntargets = 1;
        n->name = attr->p;
        n->name_len = attr->n;
        if (!jinja_p_expect(p, JT_ASSIGN, "'='")) return NULL;
        return (n->a = jinja_p_tuple(p, true, NULL, false)) ? n : NULL;
    }
    if (!(n = jinja_p_node(p, JN_SET, line)) || !parse_targets(p, n)) return NULL;
    if (jinja_p_cur(p)->kind == JT_ASSIGN) {
        p->pos++;
        return (n->a = jinja_p_tuple(p, true, NULL, false)) ? n : NULL;
    }
    if (jinja_p_cur(p)->kind == JT_PIPE) {
        jinja_p_fail(p, VKT_ERR_UNSUPPORTED, line,
                     "filters on {%% set %%} blocks are not supported");
        return NULL;
    }
    if (n->target_tuple) {
        jinja_p_fail(p, VKT_ERR_FORMAT, line, "a {%% set %%} block assigns one name");
        return NULL;
    }
    static const char *const ends[] = {"endset", NULL};
    n->kind = JN_SET_BLOCK;
    return parse_body(sp, ends, &n->body, true) ? n : NULL;
}

static jinja_node *parse_macro(stmt_parser *sp, int line) {
    jinja_parser *p = &sp->p;
    jinja_node *n = jinja_p_node(p, JN_MACRO, line);
    const jinja_tok *t = jinja_p_cur(p);
    if (!n || !can_assign(p, t)) return NULL;
    n->name = t->p;
    n->name_len = t->n;
    p->pos++;
    if (!jinja_p_expect(p, JT_LPAREN, "'('")) return NULL;
    while (jinja_p_cur(p)->kind != JT_RPAREN) {
        if (n->ntargets && !jinja_p_expect(p, JT_COMMA, "','")) return NULL;
        if (!add_target(p, n, jinja_p_cur(p))) return NULL;
        if (jinja_p_cur(p)->kind == JT_ASSIGN) {
            p->pos++;
            jinja_node *d = jinja_p_expression(p, true);
            if (!d || !jinja_p_push(p, &n->kwvals, d)) return NULL;
        } else if (n->kwvals.n) {
            jinja_p_fail(p, VKT_ERR_FORMAT, line, "non-default argument follows default argument");
            return NULL;
        }
    }
    p->pos++;
    static const char *const ends[] = {"endmacro", NULL};
    int saved = sp->loop_depth;
    sp->loop_depth = 0; // a loop around the definition does not reach into the body
    bool ok = parse_body(sp, ends, &n->body, true);
    sp->loop_depth = saved;
    return ok ? n : NULL;
}

// {% print a, b %} prints each expression (a block with no test holds the outputs).
static jinja_node *parse_print(stmt_parser *sp, int line) {
    jinja_parser *p = &sp->p;
    jinja_node *n = jinja_p_node(p, JN_IF, line);
    while (n && jinja_p_cur(p)->kind != JT_BLOCK_END) {
        if (n->body.n && !jinja_p_expect(p, JT_COMMA, "','")) return NULL;
        jinja_node *o = jinja_p_node(p, JN_OUTPUT, line);
        if (!o || !(o->a = jinja_p_expression(p, true)) || !jinja_p_push(p, &n->body, o))
            return NULL;
    }
    return n;
}

static jinja_node *parse_statement(stmt_parser *sp) {
    jinja_parser *p = &sp->p;
    const jinja_tok *t = jinja_p_cur(p);
    if (t->kind != JT_NAME) {
        jinja_p_fail(p, VKT_ERR_FORMAT, t->line, "tag name expected, got %s",
                     jinja_p_describe(p, t));
        return NULL;
    }
    p->pos++;
    if (++p->depth > JINJA_MAX_PARSE_DEPTH) {
        jinja_p_fail(p, VKT_ERR_FORMAT, t->line, "blocks nested too deeply");
        return NULL;
    }
    jinja_node *n = NULL;
    static const char *const unsupported[] = {"block", "extends", "include",    "import",
                                              "from",  "with",    "autoescape", "filter",
                                              "call",  "do",      "trans",      NULL};
    static const char *const endgen[] = {"endgeneration", NULL};
    if (jinja_p_is_name(t, "for"))
        n = parse_for(sp, t->line);
    else if (jinja_p_is_name(t, "if"))
        n = parse_if(sp, t->line);
    else if (jinja_p_is_name(t, "set"))
        n = parse_set(sp, t->line);
    else if (jinja_p_is_name(t, "macro"))
        n = parse_macro(sp, t->line);
    else if (jinja_p_is_name(t, "print"))
        n = parse_print(sp, t->line);
    else if (jinja_p_is_name(t, "break") || jinja_p_is_name(t, "continue")) {
        if (sp->loop_depth == 0)
            jinja_p_fail(p, VKT_ERR_FORMAT, t->line, "'%.*s' outside a for loop", (int)t->n, t->p);
        else
            n = jinja_p_node(p, jinja_p_is_name(t, "break") ? JN_BREAK : JN_CONTINUE, t->line);
    } else if (jinja_p_is_name(t, "generation")) {
        // transformers' {% generation %} marks assistant text; rendering keeps the body.
        if ((n = jinja_p_node(p, JN_IF, t->line)) && !parse_body(sp, endgen, &n->body, true))
            n = NULL;
    } else if (is_one_of(t, unsupported)) {
        jinja_p_fail(p, VKT_ERR_UNSUPPORTED, t->line, "tag '%.*s' is not supported", (int)t->n,
                     t->p);
    } else {
        jinja_p_fail(p, VKT_ERR_FORMAT, t->line, "unknown or unexpected tag '%.*s'", (int)t->n,
                     t->p);
    }
    p->depth--;
    return n;
}

static bool subparse(stmt_parser *sp, const char *const *ends, jinja_nodes *body) {
    jinja_parser *p = &sp->p;
    for (;;) {
        const jinja_tok *t = jinja_p_cur(p);
        jinja_node *n = NULL;
        switch (t->kind) {
        case JT_EOF:
            if (!ends) return true;
            return jinja_p_fail(p, VKT_ERR_FORMAT, t->line,
                                "unexpected end of template, expected '%s'", ends[0]);
        case JT_TEXT:
            p->pos++;
            if (!(n = jinja_p_node(p, JN_TEXT, t->line))) return false;
            n->value = jv_strn(t->p, t->n);
            break;
        case JT_VAR_BEGIN:
            p->pos++;
            if (!(n = jinja_p_node(p, JN_OUTPUT, t->line)) ||
                !(n->a = jinja_p_tuple(p, true, NULL, false)) ||
                !jinja_p_expect(p, JT_VAR_END, "'}}'"))
                return false;
            break;
        case JT_BLOCK_BEGIN:
            p->pos++;
            if (is_one_of(jinja_p_cur(p), ends)) return true;
            if (!(n = parse_statement(sp)) || !jinja_p_expect(p, JT_BLOCK_END, "'%}'"))
                return false;
            break;
        default:
            return jinja_p_fail(p, VKT_ERR_FORMAT, t->line, "unexpected %s",
                                jinja_p_describe(p, t));
        }
        if (!jinja_p_push(p, body, n)) return false;
    }
}

vkt_status jinja_parse(const char *src, size_t n, const char *name, jinja_tmpl **out,
                       vkt_error *err) {
    *out = NULL;
    jinja_tmpl *t = calloc(1, sizeof *t);
    size_t name_len = strlen(name);
    if (t) t->name = malloc(name_len + 1);
    if (!t || !t->name) {
        free(t);
        return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory", name);
    }
    memcpy(t->name, name, name_len + 1);
    jinja_toks toks = {0};
    vkt_status st = jinja_lex(src, n, name, &t->arena, &toks, err);
    if (st == VKT_OK) {
        stmt_parser sp = {.p = {.toks = &toks, .arena = &t->arena, .name = name, .err = err}};
        if (!subparse(&sp, NULL, &t->body) || sp.p.failed)
            st = sp.p.status != VKT_OK ? sp.p.status : VKT_ERR_FORMAT;
    }
    free(toks.v);
    if (st != VKT_OK) {
        jinja_tmpl_free(t);
        return st;
    }
    *out = t;
    return VKT_OK;
}

void jinja_tmpl_free(jinja_tmpl *t) {
    if (!t) return;
    jinja_arena_free(&t->arena);
    free(t->name);
    free(t);
}
