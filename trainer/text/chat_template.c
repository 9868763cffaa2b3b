// chat_template.c: the public face of the template engine: a conversation and options
// become the variables transformers passes to the template, then jinja_render runs.
#include <stdlib.h>
#include <string.h>

#include "chat_template.h"
#include "jinja_internal.h"

struct vkt_chat_template {
    jinja_tmpl *t;
};

vkt_status vkt_chat_template_parse(const char *src, const char *name, vkt_chat_template **out,
                                   vkt_error *err) {
    *out = NULL;
    if (!name) name = "chat template";
    if (!src) return vkt_fail(err, VKT_ERR_ARG, "%s: no template text", name);
    vkt_chat_template *ct = calloc(1, sizeof *ct);
    if (!ct) return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory", name);
    vkt_status st = jinja_parse(src, strlen(src), name, &ct->t, err);
    if (st != VKT_OK) {
        free(ct);
        return st;
    }
    *out = ct;
    return VKT_OK;
}

static json_t *str_or_null(const char *s) {
    return s ? json_stringn_nocheck(s, strlen(s)) : json_null();
}

// The variables of transformers' render call: messages, tools=None, documents=None,
// add_generation_prompt, and the special tokens and keyword arguments that are set.
static json_t *make_vars(const vkt_chat_msg *msgs, int n, const vkt_chat_opts *o) {
    json_t *vars = json_object(), *list = json_array();
    if (!vars || !list) {
        json_decref(vars);
        json_decref(list);
        return NULL;
    }
    bool ok = json_object_set_new(vars, "messages", list) == 0;
    for (int i = 0; ok && i < n; i++) {
        json_t *m = json_object();
        ok = m && json_object_set_new(m, "role", str_or_null(msgs[i].role)) == 0 &&
             json_object_set_new(m, "content", str_or_null(msgs[i].content)) == 0;
        ok = ok && json_array_append_new(list, m) == 0;
        if (!ok) json_decref(m);
    }
    ok = ok && json_object_set_new(vars, "tools", json_null()) == 0 &&
         json_object_set_new(vars, "documents", json_null()) == 0 &&
         json_object_set_new(vars, "add_generation_prompt",
                             json_boolean(o->add_generation_prompt)) == 0;
    if (ok && o->bos_token)
        ok = json_object_set_new(vars, "bos_token", str_or_null(o->bos_token)) == 0;
    if (ok && o->eos_token)
        ok = json_object_set_new(vars, "eos_token", str_or_null(o->eos_token)) == 0;
    if (ok && o->enable_thinking >= 0)
        ok = json_object_set_new(vars, "enable_thinking", json_boolean(o->enable_thinking)) == 0;
    if (ok && o->date_string)
        ok = json_object_set_new(vars, "date_string", str_or_null(o->date_string)) == 0;
    if (!ok) {
        json_decref(vars);
        return NULL;
    }
    return vars;
}

vkt_status vkt_chat_template_render(const vkt_chat_template *t, const vkt_chat_msg *msgs, int n,
                                    const vkt_chat_opts *o, char **out, size_t *out_len,
                                    vkt_error *err) {
    *out = NULL;
    if (out_len) *out_len = 0;
    vkt_chat_opts none = {.enable_thinking = -1};
    if (!o) o = &none;
    if (n < 0 || (n > 0 && !msgs))
        return vkt_fail(err, VKT_ERR_ARG, "%s: bad message list", t->t->name);
    json_t *vars = make_vars(msgs, n, o);
    if (!vars) return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory", t->t->name);
    vkt_bytebuf b = {0};
    vkt_status st = jinja_render(t->t, vars, o->now, &b, err);
    json_decref(vars);
    if (st == VKT_OK && !b.p) {
        b.p = malloc(1);
        if (b.p)
            b.p[0] = 0;
        else
            st = vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory", t->t->name);
    }
    if (st != VKT_OK) {
        free(b.p);
        return st;
    }
    *out = b.p;
    if (out_len) *out_len = b.n;
    return VKT_OK;
}

void vkt_chat_template_free(vkt_chat_template *t) {
    if (!t) return;
    jinja_tmpl_free(t->t);
    free(t);
}
