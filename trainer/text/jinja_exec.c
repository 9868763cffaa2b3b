// jinja_exec.c: runs the statement tree. Scoping is jinja2's: each for-loop iteration and
// each macro call gets a fresh scope (a {% set %} there does not leak out; namespace()
// objects carry values out), while if blocks share their enclosing scope. Names resolve
// through the scopes, then the render's variables, then the built-in globals.
#include <stdlib.h>
#include <string.h>

#include "jinja_internal.h"

struct jinja_scope {
    jinja_scope *parent;
    size_t n, cap;
    const char **names;
    size_t *lens;
    jv *vals;
    bool captured; // a macro defined here keeps it: a loop must not reuse it
};

typedef enum { EX_OK, EX_BREAK, EX_CONTINUE, EX_ERR } ex_result;

static ex_result exec_body(jinja_ctx *c, jinja_scope *s, const jinja_nodes *body);

static jinja_scope *scope_new(jinja_ctx *c, jinja_scope *parent) {
    jinja_scope *s = jinja_ctx_alloc(c, sizeof *s);
    if (s) {
        memset(s, 0, sizeof *s);
        s->parent = parent;
    }
    return s;
}

static bool scope_set(jinja_ctx *c, jinja_scope *s, const char *name, size_t n, jv v) {
    for (size_t i = 0; i < s->n; i++)
        if (s->lens[i] == n && memcmp(s->names[i], name, n) == 0) {
            s->vals[i] = v;
            return true;
        }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        const char **names = jinja_ctx_alloc(c, cap * sizeof *names);
        size_t *lens = jinja_ctx_alloc(c, cap * sizeof *lens);
        jv *vals = jinja_ctx_alloc(c, cap * sizeof *vals);
        if (!names || !lens || !vals) return false;
        if (s->n) {
            memcpy(names, s->names, s->n * sizeof *names);
            memcpy(lens, s->lens, s->n * sizeof *lens);
            memcpy(vals, s->vals, s->n * sizeof *vals);
        }
        s->names = names;
        s->lens = lens;
        s->vals = vals;
        s->cap = cap;
    }
    s->names[s->n] = name;
    s->lens[s->n] = n;
    s->vals[s->n++] = v;
    return true;
}

bool jinja_scope_lookup(jinja_ctx *c, jinja_scope *s, const char *name, size_t n, jv *out) {
    for (; s; s = s->parent)
        for (size_t i = 0; i < s->n; i++)
            if (s->lens[i] == n && memcmp(s->names[i], name, n) == 0) {
                *out = s->vals[i];
                return true;
            }
    if (!jinja_global(c, name, n, out)) return false;
    if (out->kind == JV_UNDEF) {
        out->u.s.p = name; // remembered for "'x' is undefined"
        out->u.s.n = n;
    }
    return true;
}

static bool emit(jinja_ctx *c, const char *p, size_t n) {
    vkt_bytebuf_put(c->out, p, n);
    if (c->out->oom) return jinja_fail(c, VKT_ERR_NOMEM, "out of memory");
    if (c->out->n > JINJA_MAX_OUTPUT)
        return jinja_fail(c, VKT_ERR_ARG, "output longer than %zu MiB", JINJA_MAX_OUTPUT >> 20);
    return true;
}

// Binds v to the targets of n: one name, or a tuple unpacked from an iterable.
static bool assign(jinja_ctx *c, jinja_scope *s, const jinja_node *n, jv v) {
    if (!n->target_tuple) return scope_set(c, s, n->targets[0], n->target_lens[0], v);
    jv_list *items;
    if (!jinja_iter(c, v, &items)) return false;
    if (items->n != n->ntargets)
        return jinja_fail(c, VKT_ERR_FORMAT, "%s values to unpack (expected %zu, got %zu)",
                          items->n > n->ntargets ? "too many" : "not enough", n->ntargets,
                          items->n);
    for (size_t i = 0; i < n->ntargets; i++)
        if (!scope_set(c, s, n->targets[i], n->target_lens[i], items->items[i])) return false;
    return true;
}

// Runs body with c->out redirected, and returns what it printed as a string.
static bool capture(jinja_ctx *c, jinja_scope *s, const jinja_nodes *body, jv *out) {
    vkt_bytebuf buf = {0}, *saved = c->out;
    c->out = &buf;
    ex_result r = exec_body(c, s, body);
    c->out = saved;
    if (r == EX_ERR) {
        free(buf.p);
        return false;
    }
    return jv_from_buf(c, &buf, out);
}

static ex_result exec_for(jinja_ctx *c, jinja_scope *s, const jinja_node *n) {
    jv seq;
    jv_list *items;
    if (!jinja_eval(c, s, n->a, &seq)) return EX_ERR;
    c->line = n->line;
    if (!jinja_iter(c, seq, &items)) return EX_ERR;
    jinja_scope *it = scope_new(c, s);
    if (!it) return EX_ERR;
    if (n->b) { // `for x in xs if cond`: the loop sees only the items that pass
        jv kept;
        if (!jv_list_new(c, items->n, &kept)) return EX_ERR;
        size_t k = 0;
        for (size_t i = 0; i < items->n; i++) {
            jv ok;
            it->n = 0;
            if (!jinja_step(c, 1) || !assign(c, it, n, items->items[i]) ||
                !jinja_eval(c, it, n->b, &ok))
                return EX_ERR;
            if (jv_truthy(ok)) kept.u.l->items[k++] = items->items[i];
        }
        kept.u.l->n = k;
        items = kept.u.l;
    }
    if (items->n == 0) return exec_body(c, s, &n->orelse);
    jv_loop *loop = jinja_ctx_alloc(c, sizeof *loop);
    if (!loop) return EX_ERR;
    loop->length = items->n;
    loop->items = items->items;
    jv lv = {.kind = JV_LOOP};
    lv.u.loop = loop;
    for (size_t i = 0; i < items->n; i++) {
        // A fresh scope per iteration: what one iteration sets, the next does not see.
        if (it->captured && !(it = scope_new(c, s))) return EX_ERR;
        it->n = 0;
        loop->index0 = i;
        c->line = n->line;
        if (!jinja_step(c, 1) || !assign(c, it, n, items->items[i]) ||
            !scope_set(c, it, "loop", 4, lv))
            return EX_ERR;
        ex_result r = exec_body(c, it, &n->body);
        if (r == EX_ERR) return EX_ERR;
        if (r == EX_BREAK) break;
    }
    return EX_OK;
}

static ex_result exec_set_ns(jinja_ctx *c, jinja_scope *s, const jinja_node *n) {
    jv ns, v;
    if (!jinja_eval(c, s, n->a, &v) ||
        !jinja_scope_lookup(c, s, n->targets[0], n->target_lens[0], &ns))
        return EX_ERR;
    c->line = n->line;
    if (ns.kind != JV_NS)
        return jinja_fail(c, VKT_ERR_FORMAT, "cannot assign attribute on non-namespace object"),
               EX_ERR;
    return jv_dict_set(c, ns.u.d, jv_strn(n->name, n->name_len), v) ? EX_OK : EX_ERR;
}

static ex_result exec_node(jinja_ctx *c, jinja_scope *s, const jinja_node *n) {
    c->line = n->line;
    jv v;
    switch (n->kind) {
    case JN_TEXT: return emit(c, n->value.u.s.p, n->value.u.s.n) ? EX_OK : EX_ERR;
    case JN_OUTPUT:
        if (!jinja_eval(c, s, n->a, &v)) return EX_ERR;
        c->line = n->line;
        if (!jv_write_str(c, c->out, v)) return EX_ERR;
        return emit(c, "", 0) ? EX_OK : EX_ERR;
    case JN_IF:
        if (!n->a) return exec_body(c, s, &n->body); // {% generation %}
        if (!jinja_eval(c, s, n->a, &v)) return EX_ERR;
        return exec_body(c, s, jv_truthy(v) ? &n->body : &n->orelse);
    case JN_FOR: return exec_for(c, s, n);
    case JN_SET:
        if (!jinja_eval(c, s, n->a, &v)) return EX_ERR;
        c->line = n->line;
        return assign(c, s, n, v) ? EX_OK : EX_ERR;
    case JN_SET_NS: return exec_set_ns(c, s, n);
    case JN_SET_BLOCK: return capture(c, s, &n->body, &v) && assign(c, s, n, v) ? EX_OK : EX_ERR;
    case JN_MACRO: {
        jv_macro *m = jinja_ctx_alloc(c, sizeof *m);
        if (!m) return EX_ERR;
        m->node = n;
        m->scope = s;
        s->captured = true;
        v = (jv){.kind = JV_MACRO};
        v.u.mac = m;
        return scope_set(c, s, n->name, n->name_len, v) ? EX_OK : EX_ERR;
    }
    case JN_BREAK: return EX_BREAK;
    case JN_CONTINUE: return EX_CONTINUE;
    default: return jinja_fail(c, VKT_ERR_FORMAT, "not a statement"), EX_ERR;
    }
}

static ex_result exec_body(jinja_ctx *c, jinja_scope *s, const jinja_nodes *body) {
    if (++c->depth > JINJA_MAX_EVAL_DEPTH) {
        jinja_fail(c, VKT_ERR_ARG, "blocks and calls nested more than %d deep",
                   JINJA_MAX_EVAL_DEPTH);
        return EX_ERR;
    }
    ex_result r = EX_OK;
    for (size_t i = 0; i < body->n && r == EX_OK; i++) r = exec_node(c, s, body->v[i]);
    c->depth--;
    return r;
}

static bool bind_params(jinja_ctx *c, const jinja_node *m, jinja_scope *s, const jinja_args *a) {
    size_t np = m->ntargets, ndef = m->kwvals.n;
    if (a->npos > np)
        return jinja_fail(c, VKT_ERR_FORMAT, "macro '%.*s' takes not more than %zu argument(s)",
                          (int)m->name_len, m->name, np);
    jv *vals = jinja_ctx_alloc(c, (np + 1) * sizeof(jv));
    bool *set = jinja_ctx_alloc(c, np + 1);
    if (!vals || !set) return false;
    memset(set, 0, np + 1);
    for (size_t i = 0; i < a->npos; i++) vals[i] = a->pos[i], set[i] = true;
    for (size_t k = 0; k < a->nkw; k++) {
        size_t i = 0;
        while (i < np && !(m->target_lens[i] == a->kwname_lens[k] &&
                           memcmp(m->targets[i], a->kwnames[k], a->kwname_lens[k]) == 0))
            i++;
        if (i == np)
            return jinja_fail(c, VKT_ERR_FORMAT, "macro '%.*s' takes no keyword argument '%.*s'",
                              (int)m->name_len, m->name, (int)a->kwname_lens[k], a->kwnames[k]);
        if (set[i])
            return jinja_fail(c, VKT_ERR_FORMAT,
                              "macro '%.*s' got multiple values for argument '%.*s'",
                              (int)m->name_len, m->name, (int)m->target_lens[i], m->targets[i]);
        vals[i] = a->kw[k];
        set[i] = true;
    }
    for (size_t i = 0; i < np; i++) {
        // Defaults belong to the last parameters and see the ones bound before them.
        if (!set[i] && i >= np - ndef && !jinja_eval(c, s, m->kwvals.v[i - (np - ndef)], &vals[i]))
            return false;
        if (!set[i] && i < np - ndef) {
            vals[i] = jv_undef();
            vals[i].u.s.p = m->targets[i];
            vals[i].u.s.n = m->target_lens[i];
        }
        if (!scope_set(c, s, m->targets[i], m->target_lens[i], vals[i])) return false;
    }
    return true;
}

bool jinja_call_macro(jinja_ctx *c, const jv_macro *m, const jinja_args *a, jv *out) {
    jinja_scope *s = scope_new(c, m->scope);
    if (!s || !bind_params(c, m->node, s, a)) return false;
    return capture(c, s, &m->node->body, out);
}

vkt_status jinja_render(const jinja_tmpl *t, const json_t *vars, int64_t now, vkt_bytebuf *out,
                        vkt_error *err) {
    jinja_ctx c = {.out = out, .name = t->name, .line = 1, .now = now, .err = err};
    c.arena.limit = JINJA_MAX_ARENA;
    jinja_scope *globals = scope_new(&c, NULL), *root = globals ? scope_new(&c, globals) : NULL;
    if (root && vars && json_is_object(vars)) {
        const char *key;
        size_t key_len;
        json_t *val;
        json_object_keylen_foreach((json_t *)vars, key, key_len, val) {
            jv v;
            if (!jinja_from_json(&c, val, &v, 0) || !scope_set(&c, globals, key, key_len, v)) break;
        }
    }
    if (root && !c.failed) exec_body(&c, root, &t->body);
    jinja_arena_free(&c.arena);
    if (!c.failed && out->oom) return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory", t->name);
    return c.failed ? c.status : VKT_OK;
}
