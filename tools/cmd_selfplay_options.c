// cmd_selfplay_options.c: run_options.json, the options a `vkt selfplay` checkpoint saves
// (with the warm-up's and the start's measures) and --resume reads back. Fields older runs
// lack read as their old behaviour; --precision is written only when not fp32, so an fp32
// run's file is what it was before the option existed.
#include <stdio.h>
#include <string.h>

#include "cli_selfplay_dir.h"
#include "cmd_selfplay.h"
#include "json_file.h"
#include "model.h"

const char *sp_in_dir(int k, const char *dir, const char *file) {
    static char path_buf[4][4096];
    snprintf(path_buf[k], sizeof path_buf[k], "%s/%s", dir, file);
    return path_buf[k];
}

static json_t *opts_json(const vkt_rl_sp_opts *o, int precision) {
    json_t *j = json_object();
    json_object_set_new(j, "game", json_string(o->game));
    json_object_set_new(j, "advantage", json_string(vkt_rl_adv_mode_name(o->adv)));
    json_object_set_new(j, "replays", json_integer(o->replays));
    json_object_set_new(j, "explore", json_string(vkt_rl_explore_name(o->explore)));
    json_object_set_new(j, "loss", json_string(vkt_pg_kind_name(o->pg.kind)));
    json_object_set_new(j, "norm", json_string(vkt_pg_norm_name(o->pg.norm)));
    json_object_set_new(j, "clip", json_real(o->pg.clip_eps));
    json_object_set_new(j, "ppo_epochs", json_integer(o->ppo_epochs));
    json_object_set_new(j, "games_per_update", json_integer(o->games_per_update));
    json_object_set_new(j, "lr", json_real(o->lr));
    json_object_set_new(j, "lr_warmup", json_integer(o->lr_warmup));
    json_object_set_new(j, "max_new_tokens", json_integer(o->max_new_tokens));
    json_object_set_new(j, "micro_rows", json_integer(o->micro_rows));
    json_object_set_new(j, "seed", json_integer((json_int_t)o->seed));
    json_object_set_new(j, "kl_coef", json_real(o->pg.kl_coef));
    json_object_set_new(j, "entropy_coef", json_real(o->pg.entropy_coef));
    json_object_set_new(j, "kl_uniform", json_real(o->kl_uniform));
    json_object_set_new(j, "kl_uniform_end", json_real(o->kl_uniform_end));
    json_object_set_new(j, "kl_anneal", json_real(o->kl_anneal));
    json_object_set_new(j, "format_credit", json_integer(o->format_credit));
    json_object_set_new(j, "think_tokens", json_integer(o->think_tokens));
    json_object_set_new(j, "policy_samples", json_integer(o->policy_samples));
    json_object_set_new(j, "chat", json_boolean(o->chat));
    if (precision != VKT_PREC_FP32)
        json_object_set_new(j, "precision", json_string(vkt_precision_name(precision)));
    return j;
}

static char game_buf[1024]; // the resumed run's game list (outlives its JSON)

static double num(const json_t *j, const char *key) {
    return json_number_value(json_object_get(j, key));
}

static int integer(const json_t *j, const char *key) {
    return (int)json_integer_value(json_object_get(j, key));
}

// The options (absent in older runs: the comments say what they read as).
static vkt_status opts_from_json(const json_t *j, vkt_rl_sp_opts *o, vkt_error *err) {
    const char *a = json_string_value(json_object_get(j, "advantage"));
    const char *l = json_string_value(json_object_get(j, "loss"));
    const char *n = json_string_value(json_object_get(j, "norm"));
    const char *g = json_string_value(json_object_get(j, "game"));
    if (!a || !l || !n || !json_is_integer(json_object_get(j, "ppo_epochs")))
        return vkt_fail(err, VKT_ERR_FORMAT, "run_options.json: missing fields");
    VKT_TRY(vkt_rl_adv_mode_parse(a, &o->adv, err));
    VKT_TRY(vkt_pg_kind_parse(l, &o->pg.kind, err));
    VKT_TRY(vkt_pg_norm_parse(n, &o->pg.norm, err));
    if (g) {
        snprintf(game_buf, sizeof game_buf, "%s", g);
        o->game = game_buf;
    }
    o->replays = integer(j, "replays"); // 0
    const char *ex = json_string_value(json_object_get(j, "explore"));
    o->explore = VKT_RL_EXPLORE_SAMPLE; // sample
    if (ex) VKT_TRY(vkt_rl_explore_parse(ex, &o->explore, err));
    o->pg.clip_eps = num(j, "clip");
    o->ppo_epochs = integer(j, "ppo_epochs");
    o->games_per_update = integer(j, "games_per_update");
    o->lr = num(j, "lr");
    o->lr_warmup = integer(j, "lr_warmup"); // 0 (-1: auto)
    o->max_new_tokens = integer(j, "max_new_tokens");
    o->micro_rows = integer(j, "micro_rows");
    o->seed = (uint64_t)json_integer_value(json_object_get(j, "seed"));
    o->pg.kl_coef = num(j, "kl_coef"); // 0
    o->pg.entropy_coef = num(j, "entropy_coef");
    o->kl_uniform = num(j, "kl_uniform");               // 0
    o->kl_uniform_end = num(j, "kl_uniform_end");       // 0,
    o->kl_anneal = num(j, "kl_anneal");                 // and no anneal
    o->format_credit = integer(j, "format_credit");     // off
    o->think_tokens = integer(j, "think_tokens");       // 0
    o->chat = json_is_true(json_object_get(j, "chat")); // false
    if (json_is_integer(json_object_get(j, "policy_samples")))
        o->policy_samples = integer(j, "policy_samples");
    return VKT_OK;
}

vkt_status sp_options_read(sp_run *r, vkt_error *err) {
    json_t *j = NULL;
    vkt_status st = vkt_json_file_read(sp_in_dir(0, r->src, "run_options.json"), 1, &j, err);
    if (st == VKT_OK) st = opts_from_json(j, &r->a.o, err);
    const char *prec = json_string_value(json_object_get(j, "precision")); // absent: fp32
    if (st == VKT_OK && !r->a.precision_given) {
        r->a.precision = VKT_PREC_FP32;
        if (prec) st = vkt_precision_parse(prec, &r->a.precision, err);
    }
    if (st == VKT_OK) {
        r->inv_before = num(j, "invalid_before_warmup");
        r->inv_after = num(j, "invalid_after_warmup");
        r->expl0 = num(j, "exploitability_start");
        if (json_is_integer(json_object_get(j, "response_tokens"))) // older runs lack them
            r->run_tokens = json_integer_value(json_object_get(j, "response_tokens"));
        if (json_is_integer(json_object_get(j, "response_decisions")))
            r->run_decisions = json_integer_value(json_object_get(j, "response_decisions"));
        if (!r->a.games_given && json_is_integer(json_object_get(j, "games_target")))
            r->a.games = (long)json_integer_value(json_object_get(j, "games_target"));
        r->a.o.games_target = r->a.games; // the anneal's horizon: saved unless --games
    }
    json_decref(j);
    return st;
}

// Saves the model, its moments, the RL state and the options as one checkpoint of --out.
vkt_status sp_save(sp_run *r) {
    json_t *j = opts_json(&r->a.o, r->a.precision);
    if (r->extra) json_object_update(j, r->extra);
    // the run's RL responses so far, so a resumed run reports the whole run's mean
    json_object_set_new(j, "response_tokens", json_integer(r->run_tokens));
    json_object_set_new(j, "response_decisions", json_integer(r->run_decisions));
    vkt_status st =
        cli_sp_save(&r->s, r->a.out, j, (int)r->a.keep_last, r->tok_dir, r->a.init, r->lora_base);
    json_decref(j);
    return st;
}
