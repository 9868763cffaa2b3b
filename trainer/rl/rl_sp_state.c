// rl_sp_state.c: a self-play run's state file and KL reference (see rl_selfplay.h).
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "checkpoint.h"
#include "context.h"
#include "json_file.h"
#include "rl_sp_internal.h"

// Doubles as C99 hex floats: exact round trips.
static json_t *hexd(double x) {
    char b[64];
    snprintf(b, sizeof b, "%a", x);
    return json_string(b);
}

static bool gethex(json_t *o, const char *k, double *x) {
    json_t *v = json_object_get(o, k);
    if (!json_is_string(v)) return false;
    char *end;
    *x = strtod(json_string_value(v), &end);
    return *end == 0;
}

vkt_status vkt_rl_sp_save_state(const vkt_rl_sp *s, const char *path) {
    json_t *j = json_object(), *b = json_array(), *bu = json_array(), *an = json_array();
    json_object_set_new(j, "format", json_string("vkt-selfplay-state-1"));
    json_object_set_new(j, "game", json_string(s->o.game));
    json_object_set_new(j, "seed", json_integer((json_int_t)s->o.seed));
    json_object_set_new(j, "games", json_integer(s->games));
    json_object_set_new(j, "decisions", json_integer(s->decisions));
    json_object_set_new(j, "invalid", json_integer(s->invalid));
    json_object_set_new(j, "updates", json_integer(s->updates));
    json_object_set_new(j, "adam_step", json_integer(s->adam_step));
    for (int g = 0; g < VKT_RL_MAX_GAMES; g++)
        for (int r = 0; r < VKT_RL_MAX_ROLES; r++) {
            char tmp[64];
            snprintf(tmp, sizeof tmp, "%a", s->rae.b[g][r]);
            json_array_append_new(b, json_string(tmp));
            json_array_append_new(bu, json_integer(s->rae.updates[g][r]));
        }
    json_object_set_new(j, "rae_baselines", b);
    json_object_set_new(j, "rae_updates", bu);
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) {
        char tmp[64];
        snprintf(tmp, sizeof tmp, "%a", s->avg_num[i]);
        json_array_append_new(an, json_string(tmp));
    }
    json_object_set_new(j, "avg_num", an);
    json_object_set_new(j, "avg_den", hexd(s->avg_den));
    vkt_status st = vkt_json_file_write(path, j, vkt_ctx_err(vkt_model_ctx(s->m)));
    json_decref(j);
    return st;
}

vkt_status vkt_rl_sp_save_ref(const vkt_rl_sp *s, const char *dir) {
    if (!s->ref) return VKT_OK;
    return vkt_checkpoint_save_model(s->ref, dir, false); // the reference shares s->m's context
}

vkt_status vkt_rl_sp_load_ref(vkt_rl_sp *s, const char *dir) {
    vkt_error *err = vkt_ctx_err(vkt_model_ctx(s->m));
    if (!s->ref)
        return vkt_fail(err, VKT_ERR_ARG,
                        "selfplay: %s: no KL reference to load into (kl_coef is 0)", dir);
    const vkt_model_config *want = vkt_model_cfg(s->ref);
    vkt_model_config cfg;
    VKT_TRY(vkt_checkpoint_config(dir, &cfg, err));
    if (cfg.family != want->family || cfg.vocab != want->vocab || cfg.layers != want->layers ||
        cfg.width != want->width || cfg.heads != want->heads || cfg.kv_heads != want->kv_heads ||
        cfg.ffn != want->ffn || cfg.context != want->context || cfg.tied != want->tied ||
        cfg.norm != want->norm || cfg.pos != want->pos || cfg.mlp != want->mlp)
        return vkt_fail(
            err, VKT_ERR_FORMAT,
            "%s/config.json: the KL reference's configuration differs from the policy's", dir);
    const vkt_params *ps = vkt_model_params(s->ref);
    float *h = malloc(ps->total * sizeof *h);
    if (!h) return vkt_fail(err, VKT_ERR_NOMEM, "selfplay: reference parameters");
    vkt_status st = vkt_checkpoint_read_params(dir, want, ps, h, err);
    if (st == VKT_OK && vkt_model_set_params(s->ref, h) != VKT_OK)
        st = vkt_fail_wrap(err, "selfplay: reference parameters");
    free(h);
    return st;
}

vkt_status vkt_rl_sp_load_state(vkt_rl_sp *s, const char *path) {
    vkt_error *err = vkt_ctx_err(vkt_model_ctx(s->m));
    json_t *j = NULL;
    VKT_TRY(vkt_json_file_read(path, 1, &j, err));
    vkt_status st = VKT_OK;
    json_t *b = json_object_get(j, "rae_baselines"), *bu = json_object_get(j, "rae_updates");
    json_t *an = json_object_get(j, "avg_num");
    const int NB = VKT_RL_MAX_GAMES * VKT_RL_MAX_ROLES;
    vkt_rl_sp c = *s;
    if (!json_is_array(b) || json_array_size(b) != (size_t)NB || !json_is_array(bu) ||
        json_array_size(bu) != (size_t)NB || !json_is_array(an) ||
        json_array_size(an) != VKT_KUHN_INFOSTATES || !gethex(j, "avg_den", &c.avg_den) ||
        !json_is_integer(json_object_get(j, "games")) ||
        !json_is_integer(json_object_get(j, "updates")) ||
        !json_is_integer(json_object_get(j, "adam_step")))
        st = vkt_fail(err, VKT_ERR_FORMAT, "%s: not a selfplay state (missing or malformed fields)",
                      path);
    for (int k = 0; st == VKT_OK && k < NB; k++) {
        char *end;
        json_t *v = json_array_get(b, (size_t)k);
        c.rae.b[k / VKT_RL_MAX_ROLES][k % VKT_RL_MAX_ROLES] =
            json_is_string(v) ? strtod(json_string_value(v), &end) : 0;
        c.rae.updates[k / VKT_RL_MAX_ROLES][k % VKT_RL_MAX_ROLES] =
            json_integer_value(json_array_get(bu, (size_t)k));
        if (!json_is_string(v) || *end)
            st = vkt_fail(err, VKT_ERR_FORMAT, "%s: rae_baselines[%d] malformed", path, k);
    }
    for (int i = 0; st == VKT_OK && i < VKT_KUHN_INFOSTATES; i++) {
        char *end;
        json_t *v = json_array_get(an, (size_t)i);
        c.avg_num[i] = json_is_string(v) ? strtod(json_string_value(v), &end) : 0;
        if (!json_is_string(v) || *end)
            st = vkt_fail(err, VKT_ERR_FORMAT, "%s: avg_num[%d] malformed", path, i);
    }
    if (st == VKT_OK) {
        c.games = json_integer_value(json_object_get(j, "games"));
        c.decisions = json_integer_value(json_object_get(j, "decisions"));
        c.invalid = json_integer_value(json_object_get(j, "invalid"));
        c.updates = (int)json_integer_value(json_object_get(j, "updates"));
        c.adam_step = (int)json_integer_value(json_object_get(j, "adam_step"));
        *s = c;
    }
    json_decref(j);
    return st;
}
