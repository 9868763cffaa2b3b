// cmd_selfplay_open.c: everything a `vkt selfplay` run opens before its first update: the
// checks that need no device, the run directory and its lock, the device, the model (new and
// warmed up, from --init with or without LoRA adapters, or resumed) at its --precision, the
// plans, the resumed state, the evaluation's episodes and the metrics file.
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "checkpoint.h"
#include "checkpoint_dir.h"
#include "cli.h"
#include "cli_device.h"
#include "cli_model.h"
#include "cli_out_dir.h"
#include "cli_selfplay_dir.h"
#include "cli_selfplay_model.h"
#include "cmd_selfplay.h"
#include "rl_eval.h"
#include "rl_warmup.h"
#include "train_init.h"

int sp_check(sp_run *r, vkt_error *err) {
    sp_args *a = &r->a;
    vkt_rl_sp_opts *o = &a->o;
    if (a->resume) return CLI_OK; // the run's own options, checked when they were given
    vkt_rl_mix mx;
    if (vkt_rl_mix_parse(o->game, &mx, err) != VKT_OK)
        return cli_usage_error("selfplay", "--game: %s", err->msg);
    for (int i = 0; i < mx.n; i++)
        if (mx.g[i].prompt_max == 0)
            return cli_usage_error("selfplay",
                                   "--game: %s has no compact prompt for the transformer loop "
                                   "(one-hand kuhn, tictactoe, negotiation, offswitch)",
                                   mx.g[i].spec);
    // Thinking must fit the new model's context with every game's prompt; the KL-to-uniform
    // term and format credit need few legal moves and direct answers.
    const bool explores = vkt_rl_sp_explores(o, &mx);
    o->games_target = a->games;       // the anneal's horizon
    int steps = (int)a->warmup_steps; // the library's defaults for what was not given
    double lr = a->warmup_lr;
    if (vkt_rl_sp_resolve(o, &steps, &lr, err) != VKT_OK)
        return cli_usage_error("selfplay", "--game: %s", err->msg);
    a->warmup_steps = steps, a->warmup_lr = lr;
    const bool check = (!a->init && o->think_tokens > 0) || o->kl_uniform > 0 ||
                       o->kl_uniform_end > 0 || o->format_credit > 0 || explores || o->chat;
    const int context = a->init ? 1 << 20 : SP_NEW_MODEL_CONTEXT;
    if (check && vkt_rl_sp_check(o, context, err) != VKT_OK)
        return cli_usage_error("selfplay", "%s",
                               strncmp(err->msg, "selfplay: ", 10) ? err->msg : err->msg + 10);
    return CLI_OK;
}

// The run directory (its lock into r->lock, the checkpoint to resume into r->src) and the
// device: a CLI code, printed; nothing left held on failure.
static int open_dir_device(sp_run *r) {
    const sp_args *a = &r->a;
    int rc = cli_check_out_dir("selfplay", a->out, VKT_RUNDIR_SELFPLAY, a->resume, a->overwrite);
    if (rc != CLI_OK) return rc;
    vkt_error err = {0}; // no device yet
    if (cli_sp_open_dir(a->out, a->resume, &r->lock, r->src, sizeof r->src, &err) != VKT_OK)
        return cli_fail("selfplay", "%s", err.msg);
    rc = cli_open_device("selfplay", a->device, &r->ctx);
    if (rc != CLI_OK) {
        vkt_run_unlock(r->lock);
        r->lock = -1;
    }
    return rc;
}

// The model: resumed (with the run's options), from --init, or new.
static vkt_status open_model(sp_run *r) {
    sp_args *a = &r->a;
    vkt_error *err = vkt_ctx_err(r->ctx);
    if (a->resume) {
        VKT_TRY(sp_options_read(r, err));
        VKT_TRY(cli_sp_resume_model(r->ctx, r->src, a->o.seed, &r->m, r->base, sizeof r->base,
                                    &r->lora_base));
        if (r->base[0]) a->init = r->base; // the base the adapters' config names
        vkt_status st = cli_sp_tokenizer(r->src, vkt_model_cfg(r->m), &r->run_tok, err);
        a->o.tok = r->run_tok;
        r->tok_dir = r->run_tok ? a->out : NULL; // the top of DIR links the newest checkpoint's
        return st;
    }
    if (a->init) {
        VKT_TRY(a->lora_rank > 0 ? cli_sp_open_lora(r->ctx, a->init, (int)a->lora_rank,
                                                    a->lora_alpha, a->o.seed, &r->m, &r->lora_base)
                                 : vkt_checkpoint_load_model(r->ctx, a->init, &r->m));
        if (a->o.tok && !a->json) {
            char what[512];
            vkt_train_describe_init(r->m, a->init, what, sizeof what);
            fprintf(stderr, "# %s\n", what);
        }
        return VKT_OK;
    }
    return cli_sp_new_model(r->ctx, a->preset, (int)a->layers, (int)a->width, (int)a->heads,
                            SP_NEW_MODEL_CONTEXT, a->o.seed, &r->m);
}

// --precision: the model refuses what it cannot train (frozen weights, LoRA adapters), which is
// bad usage, said with the model's reason.
static vkt_status set_precision(sp_run *r) {
    vkt_status st = vkt_model_set_precision(r->m, r->a.precision);
    if (st == VKT_ERR_UNSUPPORTED || st == VKT_ERR_ARG)
        r->reported = cli_usage_error("selfplay", "--precision %s: %s",
                                      vkt_precision_name(r->a.precision), vkt_ctx_message(r->ctx));
    return st;
}

// Says what a model from --init and its plans take on the device, and refuses (printed)
// when the device's heap or VKT_DEVICE_MEMORY cannot hold it.
static int reserve_plans(sp_run *r) {
    uint64_t plans = 0;
    if (vkt_rl_sp_plan_bytes(r->m, &r->a.o, &plans) != VKT_OK)
        return cli_fail("selfplay", "%s", vkt_ctx_message(r->ctx));
    const vkt_lora *l = vkt_model_lora(r->m);
    const uint64_t weights =
        vkt_model_weight_bytes(vkt_model_params(r->m), vkt_model_get_opts(r->m));
    cli_model cm = {.m = r->m, .bytes = weights + (l ? vkt_lora_count(l) * 16 : 0)};
    return cli_model_reserve("selfplay", r->ctx, &cm, plans, "generation and training plans");
}

// The format warm-up of a new model (or one from --init given --warmup-steps), between two
// measures of its invalid-move rate; then the plans again (the warm-up re-planned the model).
static vkt_status warm_up(sp_run *r) {
    const sp_args *a = &r->a;
    const vkt_rl_sp_opts *o = &a->o;
    vkt_rl_sp *s = &r->s;
    double t0 = cli_now_s();
    VKT_TRY(vkt_rl_invalid_rate(r->m, s->gen, o->game, &s->fmt, SP_INV_GAMES, 1000000000LL,
                                r->eval_seed, s->max_new_tokens, &r->inv_before));
    if (!a->json) {
        const vkt_model_config *c = vkt_model_cfg(r->m);
        printf("# model: %d layers, width %d, %d heads (%llu parameters); warm-up: %ld steps x %ld "
               "rows, lr %g\n",
               c->layers, c->width, c->heads, (unsigned long long)vkt_model_params(r->m)->total,
               a->warmup_steps, a->warmup_rows, a->warmup_lr);
        printf("  invalid-move rate before warm-up: %.1f%% (%d self-play games, sampled)\n",
               100 * r->inv_before, SP_INV_GAMES);
        fflush(stdout);
    }
    VKT_TRY(vkt_rl_warmup(r->m, o->game, &s->fmt, (int)a->warmup_steps, (int)a->warmup_rows,
                          a->warmup_lr, o->seed, &r->warm_loss));
    VKT_TRY(vkt_rl_invalid_rate(r->m, s->gen, o->game, &s->fmt, SP_INV_GAMES, 1000000000LL,
                                r->eval_seed, s->max_new_tokens, &r->inv_after));
    if (!a->json) {
        printf("  invalid-move rate after warm-up:  %.1f%% (answer loss %.4f nats/token, %.0fs)\n",
               100 * r->inv_after, r->warm_loss, cli_now_s() - t0);
        fflush(stdout);
    }
    vkt_rl_sp_free(s);
    return vkt_rl_sp_init(s, r->m, o);
}

// After the model: the resumed RL state and KL reference, Kuhn's starting policy, the
// evaluation, run_options' measures and the metrics file.
static vkt_status open_state(sp_run *r) {
    const sp_args *a = &r->a;
    vkt_rl_sp *s = &r->s;
    r->kuhn = s->kuhn >= 0, r->kuhn_only = r->kuhn && s->mix.n == 1;
    r->sampled = a->o.think_tokens > 0;
    if (r->kuhn) VKT_TRY(vkt_rl_sp_kuhn_policy(s, &r->latest, r->pol_inv));
    if (a->resume) VKT_TRY(vkt_rl_sp_load_state(s, sp_in_dir(0, r->src, "rl_state.json")));
    // The KL reference is the policy the run started from, not the one it was saved with.
    if (a->resume && a->o.pg.kl_coef > 0)
        VKT_TRY(vkt_rl_sp_load_ref(s, sp_in_dir(0, r->src, "ref")));
    if (!a->resume && r->kuhn) r->expl0 = vkt_kuhn_exploitability(&r->latest);
    VKT_TRY(cli_sp_eval_init(&r->ev, s, (int)a->eval_games, (int)a->eval_episodes, r->eval_seed,
                             vkt_ctx_err(r->ctx)));
    return VKT_OK;
}

static vkt_status open_metrics(sp_run *r) {
    const sp_args *a = &r->a;
    vkt_error *err = vkt_ctx_err(r->ctx);
    char mpath[4096];
    snprintf(mpath, sizeof mpath, "%s",
             a->metrics ? a->metrics : sp_in_dir(2, a->out, "metrics.jsonl"));
    if (mkdir(a->out, 0777) != 0 && errno != EEXIST)
        return vkt_fail(err, VKT_ERR_IO, "%s: cannot create", a->out);
    if (!(r->mf = fopen(mpath, a->resume ? "a" : "w")))
        return vkt_fail(err, VKT_ERR_IO, "%s: cannot open", mpath);
    return VKT_OK;
}

vkt_status sp_open(sp_run *r) {
    const sp_args *a = &r->a;
    r->inv_before = r->inv_after = r->warm_loss = r->expl0 = r->inv_final = NAN;
    r->tty = cli_stderr_is_tty() && !a->json;
    r->extra = json_object();
    int rc = open_dir_device(r);
    if (rc != CLI_OK) {
        r->reported = rc;
        return VKT_ERR_ARG;
    }
    vkt_status st = open_model(r);
    // The run's seed (a resumed run's is in run_options.json): a resumed run evaluates on the
    // games an uninterrupted one would.
    r->eval_seed = vkt_rng_derive(a->o.seed, 0xe1a1);
    if (st == VKT_OK) st = set_precision(r);
    if (st == VKT_OK && a->init && reserve_plans(r) != CLI_OK)
        st = VKT_ERR_ARG, r->reported = CLI_FAILED;
    if (st == VKT_OK) st = vkt_rl_sp_init(&r->s, r->m, &a->o);
    if (st == VKT_OK && !a->resume && (!a->init || a->warmup_given) && a->warmup_steps > 0)
        st = warm_up(r);
    if (st == VKT_OK) st = open_state(r);
    json_object_set_new(r->extra, "invalid_before_warmup", json_real(r->inv_before));
    json_object_set_new(r->extra, "invalid_after_warmup", json_real(r->inv_after));
    json_object_set_new(r->extra, "exploitability_start", json_real(r->expl0));
    json_object_set_new(r->extra, "games_target", json_integer(a->games));
    if (st == VKT_OK) st = open_metrics(r);
    return st;
}

void sp_close(sp_run *r) {
    json_decref(r->extra);
    if (r->mf) fclose(r->mf);
    cli_sp_eval_free(&r->ev);
    vkt_rl_sp_free(&r->s);
    vkt_train_close_model(r->m);
    vkt_tok_free(r->run_tok);
    json_decref(r->lora_base);
    vkt_ctx_destroy(r->ctx);
    if (r->lock >= 0) vkt_run_unlock(r->lock);
}
