// rl_sp_opts.c: a self-play run's options: defaults, auto values, checks (see rl_sp_opts.h).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "rl_prompt.h"
#include "rl_sp_internal.h"

void vkt_rl_sp_defaults(vkt_rl_sp_opts *o) {
    memset(o, 0, sizeof *o);
    o->game = "kuhn";
    o->adv = VKT_RL_ADV_AUTO;
    o->rae_alpha = VKT_RL_RAE_ALPHA;
    vkt_pg_defaults(&o->pg);
    o->ppo_epochs = 2;
    o->games_per_update = -1; // auto
    o->lr = 1e-3;
    o->beta1 = 0.9, o->beta2 = 0.95;
    o->weight_decay = 0;
    o->max_grad_norm = 1.0;
    o->max_new_tokens = 0;
    o->micro_rows = 64;
    o->think_tokens = 0;
    o->policy_samples = 64;
    o->kl_uniform = -1; // auto
    o->kl_uniform_end = 0;
    o->kl_anneal = -1;     // auto
    o->format_credit = -1; // auto
    o->games_target = 0;
    o->explore = VKT_RL_EXPLORE_AUTO;
    o->lr_warmup = -1; // auto
    o->seed = 1;
}

// games_per_update's auto value (a bad game list is left to the checks that name it).
static void resolve_games_per_update(vkt_rl_sp_opts *o) {
    if (o->games_per_update >= 0) return;
    vkt_rl_mix mx;
    vkt_error e = {0};
    const bool explores =
        vkt_rl_mix_parse(o->game, &mx, &e) == VKT_OK && vkt_rl_sp_explores(o, &mx);
    o->games_per_update = explores ? VKT_RL_GAMES_PER_UPDATE_EXPLORE : VKT_RL_GAMES_PER_UPDATE;
}

vkt_status vkt_rl_sp_resolve(vkt_rl_sp_opts *o, int *warmup_steps, double *warmup_lr,
                             vkt_error *err) {
    vkt_rl_mix mx;
    VKT_TRY(vkt_rl_mix_parse(o->game, &mx, err));
    resolve_games_per_update(o);
    int steps;
    double lr;
    vkt_rl_mix_warmup_defaults(&mx, &steps, &lr);
    if (warmup_steps && *warmup_steps < 0) *warmup_steps = steps;
    if (warmup_lr && !(*warmup_lr > 0)) *warmup_lr = lr;
    return VKT_OK;
}

bool vkt_rl_sp_group_mode(vkt_rl_adv_mode m) {
    return m == VKT_RL_ADV_GROUP || m == VKT_RL_ADV_GROUP_MEAN;
}

bool vkt_rl_sp_explores(const vkt_rl_sp_opts *o, const vkt_rl_mix *mx) {
    if (o->explore != VKT_RL_EXPLORE_AUTO) return o->explore == VKT_RL_EXPLORE_ALL;
    return mx->n == 1 && mx->g[0].offswitch &&
           (o->adv == VKT_RL_ADV_AUTO || vkt_rl_sp_group_mode(o->adv));
}

vkt_status vkt_rl_explore_parse(const char *s, int *out, vkt_error *err) {
    if (!strcmp(s, "auto"))
        *out = VKT_RL_EXPLORE_AUTO;
    else if (!strcmp(s, "sample"))
        *out = VKT_RL_EXPLORE_SAMPLE;
    else if (!strcmp(s, "all"))
        *out = VKT_RL_EXPLORE_ALL;
    else
        return vkt_fail(err, VKT_ERR_ARG, "explore '%s': auto, sample or all", s);
    return VKT_OK;
}

const char *vkt_rl_explore_name(int mode) {
    return mode == VKT_RL_EXPLORE_ALL ? "all" : mode == VKT_RL_EXPLORE_SAMPLE ? "sample" : "auto";
}

// The prompt bound of game gi in tokens of format f, thinking suffix included.
static int prompt_bound(const vkt_rl_game_info *gi, const vkt_rl_fmt *f) {
    return vkt_rl_fmt_prompt_bound(f, gi->prompt_max + (int)vkt_rl_think_suffix(f->think, NULL, 0));
}

// Per game of the mix: its share of an update, advantage and replays; the answer and
// generation budgets.
static vkt_status resolve_mix(vkt_rl_sp *s, const vkt_rl_sp_opts *o, const vkt_rl_fmt *f,
                              int context, vkt_error *err) {
    VKT_TRY(vkt_rl_mix_parse(o->game, &s->mix, err));
    const vkt_rl_mix *mx = &s->mix;
    if (o->games_per_update < mx->n)
        return vkt_fail(err, VKT_ERR_ARG,
                        "selfplay: games_per_update %d is less than the %d games of '%s'",
                        o->games_per_update, mx->n, o->game);
    s->kuhn = -1;
    const int think = o->think_tokens, boxed = think > 0 ? VKT_RL_BOXED_EXTRA : 0;
    // kl_uniform auto: on for one-hand Kuhn alone with direct answers (docs/selfplay.md).
    const bool kuhn_alone = mx->n == 1 && mx->g[0].kuhn_exact && think == 0;
    // Exploring every answer: no sampled answer is ever penalised for its format, so the KL-to-
    // uniform rows keep the legal answers' mass (docs/selfplay.md), and the lr ramps up.
    s->explore = vkt_rl_sp_explores(o, mx);
    s->kl_uniform = o->kl_uniform >= 0 ? o->kl_uniform
                    : kuhn_alone       ? VKT_RL_KL_UNIFORM_KUHN
                    : s->explore       ? VKT_RL_KL_UNIFORM_EXPLORE
                                       : 0;
    // The anneal by default only where C is Kuhn's auto value (measured there).
    s->kl_anneal = o->games_target <= 0              ? 0
                   : o->kl_anneal >= 0               ? o->kl_anneal
                   : kuhn_alone && o->kl_uniform < 0 ? VKT_RL_KL_ANNEAL_KUHN
                                                     : 0;
    if (s->kl_anneal > 0 && o->kl_uniform_end > s->kl_uniform)
        return vkt_fail(err, VKT_ERR_ARG,
                        "selfplay: kl_uniform_end %g exceeds kl_uniform %g: the anneal only decays",
                        o->kl_uniform_end, s->kl_uniform);
    s->format_credit = o->format_credit >= 0 ? o->format_credit > 0 : kuhn_alone;
    if (s->format_credit && think > 0)
        return vkt_fail(err, VKT_ERR_ARG,
                        "selfplay: format_credit with think_tokens %d: it is for direct answers, "
                        "which a thinking policy does not give",
                        think);
    s->lr_warmup = o->lr_warmup >= 0 ? o->lr_warmup : s->explore ? VKT_RL_LR_WARMUP_EXPLORE : 0;
    s->answer_tokens = o->max_new_tokens;
    for (int i = 0; i < mx->n; i++)
        if (o->max_new_tokens == 0 && mx->g[i].max_new_tokens + boxed > s->answer_tokens)
            s->answer_tokens = mx->g[i].max_new_tokens + boxed;
    s->max_new_tokens = think + s->answer_tokens;
    for (int i = 0; i < mx->n; i++) {
        const vkt_rl_game_info *gi = &mx->g[i];
        s->share[i] = vkt_rl_mix_share(mx, o->games_per_update, i);
        s->adv[i] = o->adv == VKT_RL_ADV_AUTO ? gi->adv : o->adv;
        s->replays[i] = o->replays > 0                    ? o->replays
                        : s->explore                      ? gi->max_legal
                        : vkt_rl_sp_group_mode(s->adv[i]) ? gi->replays
                                                          : 1;
        if (s->explore &&
            (!gi->offswitch || !vkt_rl_sp_group_mode(s->adv[i]) || s->replays[i] % gi->max_legal))
            return vkt_fail(err, VKT_ERR_ARG,
                            "selfplay: explore all: %s: every answer is explored for one-decision "
                            "games (offswitch) "
                            "under a group advantage (group, group-mean), with replays a multiple "
                            "of the %d legal "
                            "answers (here advantage %s, replays %d)",
                            gi->spec, gi->max_legal, vkt_rl_adv_mode_name(s->adv[i]),
                            s->replays[i]);
        if (s->share[i] % s->replays[i])
            return vkt_fail(
                err, VKT_ERR_ARG,
                "selfplay: %s gets %d of the %d games per update, not a multiple of its %d replays",
                gi->spec, s->share[i], o->games_per_update, s->replays[i]);
        if (gi->prompt_max == 0)
            return vkt_fail(err, VKT_ERR_ARG,
                            "selfplay: game '%s' has no compact prompt (trainer/rl/rl_prompt.h)",
                            gi->spec);
        if (think > 0 && gi->offswitch)
            return vkt_fail(
                err, VKT_ERR_ARG,
                "selfplay: game '%s': think_tokens %d: its evaluation scores answers "
                "teacher-forced "
                "(rl_offswitch.h), which thinking would bypass; thinking is not supported for it",
                gi->spec, think);
        if (think == 0 && prompt_bound(gi, f) + s->max_new_tokens > context)
            return vkt_fail(err, VKT_ERR_ARG,
                            "selfplay: game '%s': prompts of up to %d tokens + %d answer tokens "
                            "exceed the model's "
                            "context of %d",
                            gi->spec, prompt_bound(gi, f), s->max_new_tokens, context);
        if (think > 0 && prompt_bound(gi, f) + s->max_new_tokens > context)
            return vkt_fail(
                err, VKT_ERR_ARG,
                "selfplay: game '%s': think_tokens %d: prompts of up to %d tokens (thinking suffix "
                "included) + %d thinking + %d answer tokens exceed the model's context of %d",
                gi->spec, think, prompt_bound(gi, f), think, s->answer_tokens, context);
        if ((s->kl_uniform > 0 || s->format_credit) &&
            (gi->max_legal < 1 || gi->max_legal > VKT_RL_LEGAL_MAX))
            return vkt_fail(
                err, VKT_ERR_ARG,
                "selfplay: game '%s': %s needs every legal answer at each state, and this game "
                "has too many legal moves (kuhn, tictactoe and offswitch have few)",
                gi->spec, s->kl_uniform > 0 ? "kl_uniform" : "format_credit");
        if (gi->kuhn_exact) s->kuhn = i;
    }
    return VKT_OK;
}

// The options' ranges (no game, no device).
static vkt_status check_ranges(const vkt_rl_sp_opts *o, vkt_error *err) {
    if (o->games_per_update < 1 || o->games_per_update > 1 << 16)
        return vkt_fail(err, VKT_ERR_ARG, "selfplay: games_per_update %d must be in 1..%d",
                        o->games_per_update, 1 << 16);
    if (o->ppo_epochs < 1)
        return vkt_fail(err, VKT_ERR_ARG, "selfplay: ppo_epochs %d must be >= 1", o->ppo_epochs);
    if (!(o->lr > 0)) return vkt_fail(err, VKT_ERR_ARG, "selfplay: lr %g must be > 0", o->lr);
    if (o->explore < VKT_RL_EXPLORE_AUTO || o->explore > VKT_RL_EXPLORE_ALL)
        return vkt_fail(err, VKT_ERR_ARG, "selfplay: explore %d is not a mode", o->explore);
    if (o->max_new_tokens < 0 || o->micro_rows < 1 || o->replays < 0)
        return vkt_fail(
            err, VKT_ERR_ARG,
            "selfplay: max_new_tokens %d, replays %d must be >= 0 and micro_rows %d >= 1",
            o->max_new_tokens, o->replays, o->micro_rows);
    if (!(o->pg.kl_coef >= 0) || !isfinite(o->pg.kl_coef))
        return vkt_fail(err, VKT_ERR_ARG, "selfplay: kl_coef %g must be finite and >= 0",
                        o->pg.kl_coef);
    if (!(o->pg.entropy_coef >= 0) || !isfinite(o->pg.entropy_coef))
        return vkt_fail(err, VKT_ERR_ARG, "selfplay: entropy_coef %g must be finite and >= 0",
                        o->pg.entropy_coef);
    if (o->think_tokens < 0 || o->think_tokens > VKT_RL_THINK_MAX)
        return vkt_fail(err, VKT_ERR_ARG, "selfplay: think_tokens %d must be in 0..%d",
                        o->think_tokens, VKT_RL_THINK_MAX);
    if (!isfinite(o->kl_uniform))
        return vkt_fail(err, VKT_ERR_ARG,
                        "selfplay: kl_uniform %g must be finite (>= 0, or < 0 for auto)",
                        o->kl_uniform);
    if (!(o->kl_uniform_end >= 0) || !isfinite(o->kl_uniform_end) || !(o->kl_anneal <= 1) ||
        o->games_target < 0)
        return vkt_fail(
            err, VKT_ERR_ARG,
            "selfplay: kl_uniform_end %g must be finite and >= 0, kl_anneal %g <= 1 (< 0: auto), "
            "games_target %lld >= 0",
            o->kl_uniform_end, o->kl_anneal, (long long)o->games_target);
    if (o->kl_uniform > 0 && o->think_tokens > 0)
        return vkt_fail(err, VKT_ERR_ARG,
                        "selfplay: kl_uniform %g with think_tokens %d: the term is over immediate "
                        "answers, which "
                        "a thinking policy does not give",
                        o->kl_uniform, o->think_tokens);
    if (o->think_tokens > 0 && (o->policy_samples < 1 || o->policy_samples > 1 << 16))
        return vkt_fail(err, VKT_ERR_ARG,
                        "selfplay: policy_samples %d must be in 1..%d (think_tokens %d)",
                        o->policy_samples, 1 << 16, o->think_tokens);
    return VKT_OK;
}

// The run's text format from its options (rl_fmt.h).
static vkt_status make_fmt(const vkt_rl_sp_opts *o, vkt_rl_fmt *f, vkt_error *err) {
    *f = (vkt_rl_fmt){.think = o->think_tokens, .tok = o->tok, .chat = o->chat};
    vkt_status s = vkt_rl_fmt_prepare(f, err);
    if (s != VKT_OK) vkt_rl_fmt_free(f);
    return s;
}

vkt_status vkt_rl_sp_check(const vkt_rl_sp_opts *given, int context, vkt_error *err) {
    vkt_rl_sp_opts r = *given, *o = &r;
    resolve_games_per_update(o);
    VKT_TRY(check_ranges(o, err));
    vkt_rl_sp *scratch = malloc(sizeof *scratch);
    if (!scratch) return vkt_fail(err, VKT_ERR_NOMEM, "selfplay: option check");
    vkt_status st = make_fmt(o, &scratch->fmt, err);
    if (st == VKT_OK) st = resolve_mix(scratch, o, &scratch->fmt, context, err);
    vkt_rl_fmt_free(&scratch->fmt);
    free(scratch);
    return st;
}

vkt_status vkt_rl_sp_plan(vkt_rl_sp *s, vkt_model *m, const vkt_rl_sp_opts *given, int *seqs) {
    vkt_error *err = vkt_ctx_err(vkt_model_ctx(m));
    memset(s, 0, sizeof *s);
    vkt_rl_sp_opts r = *given, *o = &r;
    resolve_games_per_update(o);
    VKT_TRY(check_ranges(o, err));
    const int context = vkt_model_cfg(m)->context;
    VKT_TRY(make_fmt(o, &s->fmt, err));
    VKT_TRY(resolve_mix(s, o, &s->fmt, context, err));
    s->o = *o;
    s->o.pg.max_len = s->max_new_tokens;
    s->m = m;
    *seqs = o->games_per_update < 256 ? o->games_per_update : 256;
    if (*seqs < 24) *seqs = 24; // the 12-state extraction scores 24 sequences at once
    // One fixed training plan (the longest prompt + the longest answer of any game), so a
    // resumed run computes with the same shapes as an uninterrupted one.
    int T = 0;
    for (int i = 0; i < s->mix.n; i++) {
        int t = (prompt_bound(&s->mix.g[i], &s->fmt) + s->max_new_tokens - 1 + 3) / 4 * 4;
        if (t > T) T = t;
    }
    if (T > context) T = context;
    s->planned_T = T;
    // A pretrained model's context (tens of thousands) would size the caches: a game needs T + 1.
    s->gen_len = o->tok ? T + 1 < context ? T + 1 : context : 0;
    // A pretrained vocabulary makes a micro-batch's logits large (64 rows x 68 tokens x 151936
    // floats = 2.6 GB): fewer rows a micro-batch, the same update (gradients accumulate).
    const uint64_t V = (uint64_t)vkt_model_cfg(m)->vocab;
    while (s->o.micro_rows > 1 &&
           (uint64_t)s->o.micro_rows * (uint64_t)T * V * 4 > VKT_RL_LOGITS_BYTES)
        s->o.micro_rows /= 2;
    return VKT_OK;
}
