// rl_selfplay.c: the transformer self-play loop (see rl_selfplay.h).
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checkpoint.h"
#include "context.h"
#include "json_file.h"
#include "kuhn.h"
#include "protocol.h"
#include "rl_batch.h"
#include "rl_prompt.h"
#include "rl_rollout.h"
#include "rl_selfplay.h"
#include "rl_uniform.h"
#include "schedule.h"
#include "tokenizer.h"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// A device failure's message lives in the context.
static vkt_status dev_fail(vkt_model *m, vkt_error *err, const char *what) {
    return vkt_fail(err, VKT_ERR_VULKAN, "selfplay: %s: %s", what, vkt_ctx_message(vkt_model_ctx(m)));
}

void vkt_rl_sp_defaults(vkt_rl_sp_opts *o) {
    memset(o, 0, sizeof *o);
    o->game = "kuhn";
    o->adv = VKT_RL_ADV_AUTO;
    o->rae_alpha = VKT_RL_RAE_ALPHA;
    vkt_pg_defaults(&o->pg);
    o->ppo_epochs = 2;
    o->games_per_update = 128;
    o->lr = 1e-3;
    o->beta1 = 0.9, o->beta2 = 0.95;
    o->weight_decay = 0;
    o->max_grad_norm = 1.0;
    o->max_new_tokens = 0;
    o->micro_rows = 64;
    o->think_tokens = 0;
    o->policy_samples = 64;
    o->kl_uniform = -1;  // auto
    o->kl_uniform_end = 0;
    o->kl_anneal = -1;   // auto
    o->format_credit = -1;  // auto
    o->games_target = 0;
    o->explore = VKT_RL_EXPLORE_AUTO;
    o->lr_warmup = -1;   // auto
    o->seed = 1;
}

// The KL reference: a second model of the same configuration holding a copy of m's
// parameters, with its own scoring plan. A copy rather than swapping parameters in and
// out of m: the policy's buffers are never overwritten (a failure mid-scoring cannot leave
// it holding the reference), and no parameter upload per update; the cost is one more
// parameter set (and its unused gradient buffer) and a KV cache, small at this scale.
static vkt_status make_ref(vkt_rl_sp *s, int seqs, vkt_error *err) {
    vkt_model *m = s->m;
    const vkt_params *ps = vkt_model_params(m);
    float *h = malloc(ps->total * sizeof *h);
    if (!h) return vkt_fail(err, VKT_ERR_NOMEM, "selfplay: reference parameters");
    vkt_status st = vkt_model_get_params(m, h) == VKT_OK ? VKT_OK : dev_fail(m, err, "reading the parameters");
    if (st == VKT_OK) st = vkt_model_create(vkt_model_ctx(m), vkt_model_cfg(m), &s->ref, err);
    if (st == VKT_OK && vkt_model_set_params(s->ref, h) != VKT_OK) st = dev_fail(m, err, "reference parameters");
    if (st == VKT_OK && vkt_gen_create(s->ref, seqs, s->gen_len, 0, &s->ref_gen) != VKT_OK)
        st = dev_fail(m, err, "reference scoring plan");
    free(h);
    return st;
}

static bool group_mode(vkt_rl_adv_mode m) { return m == VKT_RL_ADV_GROUP || m == VKT_RL_ADV_GROUP_MEAN; }

bool vkt_rl_sp_explores(const vkt_rl_sp_opts *o, const vkt_rl_mix *mx) {
    if (o->explore != VKT_RL_EXPLORE_AUTO) return o->explore == VKT_RL_EXPLORE_ALL;
    return mx->n == 1 && mx->g[0].offswitch && (o->adv == VKT_RL_ADV_AUTO || group_mode(o->adv));
}

vkt_status vkt_rl_explore_parse(const char *s, int *out, vkt_error *err) {
    if (!strcmp(s, "auto")) *out = VKT_RL_EXPLORE_AUTO;
    else if (!strcmp(s, "sample")) *out = VKT_RL_EXPLORE_SAMPLE;
    else if (!strcmp(s, "all")) *out = VKT_RL_EXPLORE_ALL;
    else return vkt_fail(err, VKT_ERR_ARG, "explore '%s': auto, sample or all", s);
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
static vkt_status resolve_mix(vkt_rl_sp *s, const vkt_rl_sp_opts *o, const vkt_rl_fmt *f, int context,
                              vkt_error *err) {
    VKT_TRY(vkt_rl_mix_parse(o->game, &s->mix, err));
    const vkt_rl_mix *mx = &s->mix;
    if (o->games_per_update < mx->n)
        return vkt_fail(err, VKT_ERR_ARG, "selfplay: games_per_update %d is less than the %d games of '%s'",
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
    s->kl_anneal = o->games_target <= 0 ? 0
                   : o->kl_anneal >= 0  ? o->kl_anneal
                   : kuhn_alone && o->kl_uniform < 0 ? VKT_RL_KL_ANNEAL_KUHN
                                                    : 0;
    if (s->kl_anneal > 0 && o->kl_uniform_end > s->kl_uniform)
        return vkt_fail(err, VKT_ERR_ARG, "selfplay: kl_uniform_end %g exceeds kl_uniform %g: the anneal only decays",
                        o->kl_uniform_end, s->kl_uniform);
    s->format_credit = o->format_credit >= 0 ? o->format_credit > 0 : kuhn_alone;
    if (s->format_credit && think > 0)
        return vkt_fail(err, VKT_ERR_ARG, "selfplay: format_credit with think_tokens %d: it is for direct answers, "
                        "which a thinking policy does not give", think);
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
        s->replays[i] = o->replays > 0 ? o->replays : s->explore ? gi->max_legal : group_mode(s->adv[i]) ? gi->replays : 1;
        if (s->explore && (!gi->offswitch || !group_mode(s->adv[i]) || s->replays[i] % gi->max_legal))
            return vkt_fail(err, VKT_ERR_ARG,
                            "selfplay: explore all: %s: every answer is explored for one-decision games (offswitch) "
                            "under a group advantage (group, group-mean), with replays a multiple of the %d legal "
                            "answers (here advantage %s, replays %d)",
                            gi->spec, gi->max_legal, vkt_rl_adv_mode_name(s->adv[i]), s->replays[i]);
        if (s->share[i] % s->replays[i])
            return vkt_fail(err, VKT_ERR_ARG,
                            "selfplay: %s gets %d of the %d games per update, not a multiple of its %d replays",
                            gi->spec, s->share[i], o->games_per_update, s->replays[i]);
        if (gi->prompt_max == 0)
            return vkt_fail(err, VKT_ERR_ARG, "selfplay: game '%s' has no compact prompt (trainer/rl/rl_prompt.h)", gi->spec);
        if (think > 0 && gi->offswitch)
            return vkt_fail(err, VKT_ERR_ARG,
                            "selfplay: game '%s': think_tokens %d: its evaluation scores answers teacher-forced "
                            "(rl_offswitch.h), which thinking would bypass; thinking is not supported for it",
                            gi->spec, think);
        if (think == 0 && prompt_bound(gi, f) + s->max_new_tokens > context)
            return vkt_fail(err, VKT_ERR_ARG,
                            "selfplay: game '%s': prompts of up to %d tokens + %d answer tokens exceed the model's "
                            "context of %d",
                            gi->spec, prompt_bound(gi, f), s->max_new_tokens, context);
        if (think > 0 && prompt_bound(gi, f) + s->max_new_tokens > context)
            return vkt_fail(err, VKT_ERR_ARG,
                            "selfplay: game '%s': think_tokens %d: prompts of up to %d tokens (thinking suffix "
                            "included) + %d thinking + %d answer tokens exceed the model's context of %d",
                            gi->spec, think, prompt_bound(gi, f), think, s->answer_tokens, context);
        if ((s->kl_uniform > 0 || s->format_credit) && (gi->max_legal < 1 || gi->max_legal > VKT_RL_LEGAL_MAX))
            return vkt_fail(err, VKT_ERR_ARG,
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
        return vkt_fail(err, VKT_ERR_ARG, "selfplay: games_per_update %d must be in 1..%d", o->games_per_update, 1 << 16);
    if (o->ppo_epochs < 1) return vkt_fail(err, VKT_ERR_ARG, "selfplay: ppo_epochs %d must be >= 1", o->ppo_epochs);
    if (!(o->lr > 0)) return vkt_fail(err, VKT_ERR_ARG, "selfplay: lr %g must be > 0", o->lr);
    if (o->explore < VKT_RL_EXPLORE_AUTO || o->explore > VKT_RL_EXPLORE_ALL)
        return vkt_fail(err, VKT_ERR_ARG, "selfplay: explore %d is not a mode", o->explore);
    if (o->max_new_tokens < 0 || o->micro_rows < 1 || o->replays < 0)
        return vkt_fail(err, VKT_ERR_ARG, "selfplay: max_new_tokens %d, replays %d must be >= 0 and micro_rows %d >= 1",
                        o->max_new_tokens, o->replays, o->micro_rows);
    if (!(o->pg.kl_coef >= 0) || !isfinite(o->pg.kl_coef))
        return vkt_fail(err, VKT_ERR_ARG, "selfplay: kl_coef %g must be finite and >= 0", o->pg.kl_coef);
    if (!(o->pg.entropy_coef >= 0) || !isfinite(o->pg.entropy_coef))
        return vkt_fail(err, VKT_ERR_ARG, "selfplay: entropy_coef %g must be finite and >= 0", o->pg.entropy_coef);
    if (o->think_tokens < 0 || o->think_tokens > VKT_RL_THINK_MAX)
        return vkt_fail(err, VKT_ERR_ARG, "selfplay: think_tokens %d must be in 0..%d", o->think_tokens, VKT_RL_THINK_MAX);
    if (!isfinite(o->kl_uniform))
        return vkt_fail(err, VKT_ERR_ARG, "selfplay: kl_uniform %g must be finite (>= 0, or < 0 for auto)",
                        o->kl_uniform);
    if (!(o->kl_uniform_end >= 0) || !isfinite(o->kl_uniform_end) || !(o->kl_anneal <= 1) || o->games_target < 0)
        return vkt_fail(err, VKT_ERR_ARG,
                        "selfplay: kl_uniform_end %g must be finite and >= 0, kl_anneal %g <= 1 (< 0: auto), "
                        "games_target %lld >= 0",
                        o->kl_uniform_end, o->kl_anneal, (long long)o->games_target);
    if (o->kl_uniform > 0 && o->think_tokens > 0)
        return vkt_fail(err, VKT_ERR_ARG,
                        "selfplay: kl_uniform %g with think_tokens %d: the term is over immediate answers, which "
                        "a thinking policy does not give",
                        o->kl_uniform, o->think_tokens);
    if (o->think_tokens > 0 && (o->policy_samples < 1 || o->policy_samples > 1 << 16))
        return vkt_fail(err, VKT_ERR_ARG, "selfplay: policy_samples %d must be in 1..%d (think_tokens %d)",
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

vkt_status vkt_rl_sp_check(const vkt_rl_sp_opts *o, int context, vkt_error *err) {
    VKT_TRY(check_ranges(o, err));
    vkt_rl_sp *scratch = malloc(sizeof *scratch);
    if (!scratch) return vkt_fail(err, VKT_ERR_NOMEM, "selfplay: option check");
    vkt_status st = make_fmt(o, &scratch->fmt, err);
    if (st == VKT_OK) st = resolve_mix(scratch, o, &scratch->fmt, context, err);
    vkt_rl_fmt_free(&scratch->fmt);
    free(scratch);
    return st;
}

// Everything of vkt_rl_sp_init that allocates nothing on the device: the format, the mix,
// and the plans' shapes (s->planned_T, s->gen_len, s->o.micro_rows; *seqs in flight).
static vkt_status resolve(vkt_rl_sp *s, vkt_model *m, const vkt_rl_sp_opts *o, int *seqs, vkt_error *err) {
    memset(s, 0, sizeof *s);
    VKT_TRY(check_ranges(o, err));
    const int context = vkt_model_cfg(m)->context;
    VKT_TRY(make_fmt(o, &s->fmt, err));
    VKT_TRY(resolve_mix(s, o, &s->fmt, context, err));
    s->o = *o;
    s->o.pg.max_len = s->max_new_tokens;
    s->m = m;
    *seqs = o->games_per_update < 256 ? o->games_per_update : 256;
    if (*seqs < 24) *seqs = 24;  // the 12-state extraction scores 24 sequences at once
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
    while (s->o.micro_rows > 1 && (uint64_t)s->o.micro_rows * (uint64_t)T * V * 4 > VKT_RL_LOGITS_BYTES)
        s->o.micro_rows /= 2;
    return VKT_OK;
}

vkt_status vkt_rl_sp_plan_bytes(vkt_model *m, const vkt_rl_sp_opts *o, uint64_t *bytes, vkt_error *err) {
    *bytes = 0;
    vkt_rl_sp *s = malloc(sizeof *s);
    if (!s) return vkt_fail(err, VKT_ERR_NOMEM, "selfplay: plan");
    int seqs = 0;
    vkt_status st = resolve(s, m, o, &seqs, err);
    if (st == VKT_OK) {
        const uint64_t gen = vkt_gen_bytes(m, seqs, s->gen_len, 0);
        *bytes = gen + vkt_model_plan_bytes(m, s->o.micro_rows, s->planned_T);
        // The KL reference: a second fp32 model with gradients and moments, and its own plan.
        if (o->pg.kl_coef > 0) *bytes += vkt_model_params(m)->total * 16 + gen;
    }
    vkt_rl_fmt_free(&s->fmt);
    free(s);
    return st;
}

vkt_status vkt_rl_sp_init(vkt_rl_sp *s, vkt_model *m, const vkt_rl_sp_opts *o, vkt_error *err) {
    int seqs = 0;
    VKT_TRY(resolve(s, m, o, &seqs, err));
    vkt_rae_init(&s->rae, o->rae_alpha);
    if (vkt_gen_create(m, seqs, s->gen_len, 0, &s->gen) != VKT_OK) return dev_fail(m, err, "generation plan");
    if (vkt_model_zero_grads(m) != VKT_OK) return dev_fail(m, err, "zero gradients");
    if (o->pg.kl_coef > 0) VKT_TRY(make_ref(s, seqs, err));
    if (vkt_model_plan(m, s->o.micro_rows, s->planned_T) != VKT_OK) return dev_fail(m, err, "plan");
    return VKT_OK;
}

void vkt_rl_sp_free(vkt_rl_sp *s) {
    vkt_gen_destroy(s->gen);
    vkt_gen_destroy(s->ref_gen);
    vkt_model_destroy(s->ref);
    vkt_rl_fmt_free(&s->fmt);
    s->gen = s->ref_gen = NULL;
    s->ref = NULL;
}

void vkt_rl_sp_avg_policy(const vkt_rl_sp *s, const vkt_kuhn_policy *latest, vkt_kuhn_policy *avg) {
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) avg->bet[i] = s->avg_den > 0 ? s->avg_num[i] / s->avg_den : latest->bet[i];
}

enum { MAX_ANSWER = 256 };

// The answer of a legal action as ids: "[Text]" (think > 0: "\boxed{Text}") then the answer's end.
static vkt_status answer_ids(const vkt_game *g, int action, const vkt_rl_fmt *f, int32_t *ids, int *n,
                             vkt_error *err) {
    return vkt_rl_answer_tokens(g, action, f, ids, MAX_ANSWER, n, err);
}

// --- policy extraction ----------------------------------------------------------------

// Scores the answers of every legal action at state g for player; p[k] normalised.
static vkt_status score_actions(vkt_gen *gen, const vkt_rl_fmt *f, const vkt_game *g, int player, const int *acts,
                                int n, double *p, double *mass, vkt_error *err) {
    int32_t *pids = NULL, ans[VKT_GAME_MAX_LEGAL][MAX_ANSWER];
    int np = 0, na[VKT_GAME_MAX_LEGAL];
    VKT_TRY(vkt_rl_prompt_tokens(g, player, f, &pids, &np, err));
    vkt_gen_prompt pr[VKT_GAME_MAX_LEGAL];
    const int32_t *cont[VKT_GAME_MAX_LEGAL];
    float lp[VKT_GAME_MAX_LEGAL][MAX_ANSWER];
    float *lpo[VKT_GAME_MAX_LEGAL];
    vkt_status s = VKT_OK;
    for (int k = 0; k < n && s == VKT_OK; k++) {
        s = answer_ids(g, acts[k], f, ans[k], &na[k], err);
        pr[k] = (vkt_gen_prompt){pids, np, 0}, cont[k] = ans[k], lpo[k] = lp[k];
    }
    if (s == VKT_OK && vkt_gen_score(gen, n, pr, cont, na, lpo) != VKT_OK)
        s = vkt_fail(err, VKT_ERR_VULKAN, "selfplay: scoring the legal answers failed");
    free(pids);
    if (s != VKT_OK) return s;
    double tot = 0, mx = -INFINITY, l[VKT_GAME_MAX_LEGAL];
    for (int k = 0; k < n; k++) {
        l[k] = 0;
        for (int t = 0; t < na[k]; t++) l[k] += lp[k][t];
        if (l[k] > mx) mx = l[k];
    }
    for (int k = 0; k < n; k++) tot += exp(l[k] - mx);
    for (int k = 0; k < n; k++) p[k] = exp(l[k] - mx) / tot;
    if (mass) *mass = exp(mx) * tot;
    return VKT_OK;
}

// Kuhn's information state i as a one-hand game with `player` to move (the opponent's
// card, unseen, is another card).
static vkt_status kuhn_state(int i, vkt_game *g, int *player, vkt_error *err) {
    static const char *hist[4] = {"", "p", "b", "pb"};
    int card = i / 4, other = (card + 1) % 3;
    *player = vkt_kuhn_infostate_player(i);
    VKT_TRY(vkt_game_create(g, "kuhn", err));
    VKT_TRY(vkt_game_reset(g, 0, err));
    VKT_TRY(vkt_kuhn_set_hand(g, *player == 0 ? card : other, *player == 0 ? other : card, hist[i % 4], err));
    if (vkt_game_current_player(g) != *player)
        return vkt_fail(err, VKT_ERR_ARG, "selfplay: state %s: player %d is not to move", vkt_kuhn_infostate_name(i),
                        *player);
    return VKT_OK;
}

vkt_status vkt_rl_kuhn_policy(vkt_gen *gen, vkt_kuhn_policy *pi, double *raw_mass, vkt_error *err) {
    return vkt_rl_kuhn_policy_fmt(gen, NULL, pi, raw_mass, err);
}

vkt_status vkt_rl_kuhn_policy_fmt(vkt_gen *gen, const vkt_rl_fmt *f, vkt_kuhn_policy *pi, double *raw_mass,
                                  vkt_error *err) {
    enum { NQ = 2 * VKT_KUHN_INFOSTATES, NA = 24 };  // "\boxed{Check}" + <|endoftext|> = 14
    int32_t *pids[VKT_KUHN_INFOSTATES] = {0}, ans[NQ][NA];
    int np[VKT_KUHN_INFOSTATES], na[NQ];
    vkt_gen_prompt pr[NQ];
    const int32_t *cont[NQ];
    float lp[NQ][NA], *lpo[NQ];
    vkt_status s = VKT_OK;
    for (int i = 0; i < VKT_KUHN_INFOSTATES && s == VKT_OK; i++) {
        vkt_game g;
        int player;
        s = kuhn_state(i, &g, &player, err);
        if (s == VKT_OK) s = vkt_rl_prompt_tokens(&g, player, f, &pids[i], &np[i], err);
        for (int a = 0; a < 2 && s == VKT_OK; a++) {
            int q = 2 * i + a;  // a = 0 pass, 1 bet (Kuhn's action ids)
            s = vkt_rl_answer_tokens(&g, a, f, ans[q], NA, &na[q], err);
            if (s == VKT_OK) {
                pr[q] = (vkt_gen_prompt){pids[i], np[i], 0}, cont[q] = ans[q], lpo[q] = lp[q];
            }
        }
    }
    if (s == VKT_OK && vkt_gen_score(gen, NQ, pr, cont, na, lpo) != VKT_OK)
        s = vkt_fail(err, VKT_ERR_VULKAN, "selfplay: policy extraction: score failed");
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) free(pids[i]);
    if (s != VKT_OK) return s;
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) {
        double l[2];
        for (int a = 0; a < 2; a++) {
            l[a] = 0;
            for (int t = 0; t < na[2 * i + a]; t++) l[a] += lp[2 * i + a][t];
        }
        double mx = l[0] > l[1] ? l[0] : l[1], e0 = exp(l[0] - mx), e1 = exp(l[1] - mx);
        pi->bet[i] = e1 / (e0 + e1);
        if (raw_mass) raw_mass[i] = exp(mx) * (e0 + e1);
    }
    return VKT_OK;
}

vkt_status vkt_rl_kuhn_policy_sampled(vkt_gen *gen, const vkt_rl_fmt *f, int max_new_tokens, int samples, uint64_t seed,
                                      vkt_kuhn_policy *pi, double *invalid, vkt_error *err) {
    const int think = f ? f->think : 0;
    if (samples < 1 || samples > 1 << 16 || max_new_tokens < 1 || think < 0)
        return vkt_fail(err, VKT_ERR_ARG,
                        "selfplay: sampled extraction: samples %d must be in 1..%d, max_new_tokens %d >= 1, "
                        "think %d >= 0",
                        samples, 1 << 16, max_new_tokens, think);
    const int NQ = VKT_KUHN_INFOSTATES * samples;
    vkt_game g[VKT_KUHN_INFOSTATES];
    int32_t *pids[VKT_KUHN_INFOSTATES] = {0};
    int np[VKT_KUHN_INFOSTATES];
    vkt_gen_prompt *pr = malloc((size_t)NQ * sizeof *pr);
    vkt_gen_result *res = calloc((size_t)NQ, sizeof *res);
    vkt_status s = pr && res ? VKT_OK : vkt_fail(err, VKT_ERR_NOMEM, "selfplay: %d extraction samples", NQ);
    for (int i = 0; i < VKT_KUHN_INFOSTATES && s == VKT_OK; i++) {
        int player;
        s = kuhn_state(i, &g[i], &player, err);
        if (s == VKT_OK) s = vkt_rl_prompt_tokens(&g[i], player, f, &pids[i], &np[i], err);
        for (int k = 0; k < samples && s == VKT_OK; k++) {
            int q = i * samples + k;
            pr[q] = (vkt_gen_prompt){pids[i], np[i], (uint64_t)q};
        }
    }
    vkt_gen_opts go;
    vkt_gen_defaults(&go);
    go.max_new_tokens = max_new_tokens, go.temperature = 1.0, go.seed = seed;
    vkt_rl_fmt_gen_opts(f, &go);
    if (s == VKT_OK && vkt_generate(gen, pr, NQ, &go, res) != VKT_OK)
        s = vkt_fail(err, VKT_ERR_VULKAN, "selfplay: sampled extraction: generate failed");
    for (int i = 0; i < VKT_KUHN_INFOSTATES && s == VKT_OK; i++) {
        int bets = 0, valid = 0;
        for (int k = 0; k < samples; k++) {
            const vkt_gen_result *r = &res[i * samples + k];
            int a;
            size_t at, len;
            vkt_rl_fmt_answer_span(f, r->text, r->text_len, &at, &len);
            if (vkt_protocol_parse(&g[i], r->text + at, len, &a, NULL) != VKT_OK) continue;
            valid++;
            bets += a == VKT_KUHN_BET;
        }
        pi->bet[i] = valid ? (double)bets / valid : 0.5;
        if (invalid) invalid[i] = (double)(samples - valid) / samples;
    }
    for (int q = 0; res && q < NQ; q++) vkt_gen_result_free(&res[q]);
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) free(pids[i]);
    free(pr), free(res);
    return s;
}

vkt_status vkt_rl_sp_kuhn_policy(const vkt_rl_sp *s, vkt_kuhn_policy *pi, double *invalid, vkt_error *err) {
    if (s->o.think_tokens == 0) {
        double mass[VKT_KUHN_INFOSTATES];
        VKT_TRY(vkt_rl_kuhn_policy_fmt(s->gen, &s->fmt, pi, mass, err));
        for (int i = 0; invalid && i < VKT_KUHN_INFOSTATES; i++) invalid[i] = 1 - mass[i];
    } else {
        uint64_t seed = vkt_rng_derive(vkt_rng_derive(s->o.seed, 0x5a3b1e), (uint64_t)s->updates);
        VKT_TRY(vkt_rl_kuhn_policy_sampled(s->gen, &s->fmt, s->max_new_tokens, s->o.policy_samples, seed,
                                           pi, invalid, err));
    }
    // Exploitability and the average are meaningless on a NaN policy: refuse, naming the update.
    if (vkt_kuhn_policy_check_finite(pi, err) != VKT_OK)
        return vkt_fail_wrap(err, "selfplay: after update %d", s->updates);
    return VKT_OK;
}

// --- the model as an agent -----------------------------------------------------------

typedef struct model_agent {
    vkt_gen *gen;
    vkt_rl_fmt f;  // the format it was trained in (rl_fmt.h; its text owned by the caller)
} model_agent;

static vkt_status ma_act(void *self, const vkt_game *g, int player, vkt_rng *rng, int *action, vkt_error *err) {
    model_agent *a = self;
    int32_t *ids = NULL;
    int n = 0;
    VKT_TRY(vkt_rl_prompt_tokens(g, player, &a->f, &ids, &n, err));
    vkt_gen_opts o;
    vkt_gen_defaults(&o);
    // The longest answer of any game (negotiation's offers), boxed and after thinking.
    o.max_new_tokens = 32 + (a->f.think > 0 ? a->f.think + VKT_RL_BOXED_EXTRA : 0);
    vkt_rl_fmt_gen_opts(&a->f, &o);
    o.seed = vkt_rng_u64(rng);
    vkt_gen_prompt p = {ids, n, 0};
    vkt_gen_result r;
    memset(&r, 0, sizeof r);
    vkt_status s = vkt_generate(a->gen, &p, 1, &o, &r);
    free(ids);
    if (s != VKT_OK) return vkt_fail(err, VKT_ERR_VULKAN, "model agent: generate failed");
    size_t at, len;
    vkt_rl_fmt_answer_span(&a->f, r.text, r.text_len, &at, &len);
    if (vkt_protocol_parse(g, r.text + at, len, action, NULL) != VKT_OK) *action = VKT_ACTION_INVALID;
    vkt_gen_result_free(&r);
    return VKT_OK;
}

static vkt_status ma_probs(void *self, const vkt_game *g, int player, const int *acts, int n, double *p,
                           vkt_error *err) {
    model_agent *a = self;
    return score_actions(a->gen, &a->f, g, player, acts, n, p, NULL, err);
}

static void ma_destroy(void *self) { free(self); }

vkt_status vkt_rl_model_agent_fmt(vkt_gen *gen, const vkt_rl_fmt *f, vkt_agent *out, vkt_error *err) {
    const int think = f ? f->think : 0;
    if (think < 0 || think > VKT_RL_THINK_MAX)
        return vkt_fail(err, VKT_ERR_ARG, "model agent: think tokens %d outside 0..%d", think, VKT_RL_THINK_MAX);
    model_agent *a = malloc(sizeof *a);
    if (!a) return vkt_fail(err, VKT_ERR_NOMEM, "model agent");
    a->gen = gen;
    a->f = f ? *f : (vkt_rl_fmt){0};
    // A thinking model's action probabilities are not one teacher-forced answer: without
    // probs, callers (kuhn_policy.h) sample it.
    *out = (vkt_agent){a, "model", ma_act, think > 0 ? NULL : ma_probs, ma_destroy};
    return VKT_OK;
}

vkt_status vkt_rl_model_agent(vkt_gen *gen, vkt_agent *out, vkt_error *err) {
    return vkt_rl_model_agent_fmt(gen, NULL, out, err);
}

// --- invalid rate, evaluation ---------------------------------------------------------

static void gen_opts(vkt_gen_opts *g, int max_new_tokens) {
    vkt_gen_defaults(g);
    g->max_new_tokens = max_new_tokens;
    g->temperature = 1.0;
}

// The rollout's blocks for G games of a mix (replays: per game, NULL for none).
static void mix_blocks(const vkt_rl_mix *mx, int G, const int *replays, vkt_rl_rollout_opts *ro) {
    ro->n_specs = mx->n;
    for (int i = 0; i < mx->n; i++) {
        ro->specs[i] = mx->g[i].spec;
        ro->count[i] = vkt_rl_mix_share(mx, G, i);
        ro->spec_replays[i] = replays ? replays[i] : 1;
    }
}

vkt_status vkt_rl_invalid_rate(vkt_model *m, vkt_gen *gen, const char *game, int games, int64_t game_base,
                               uint64_t seed, int max_new_tokens, double *rate, vkt_error *err) {
    return vkt_rl_invalid_rate_fmt(m, gen, game, NULL, games, game_base, seed, max_new_tokens, rate, err);
}

vkt_status vkt_rl_invalid_rate_fmt(vkt_model *m, vkt_gen *gen, const char *game, const vkt_rl_fmt *f, int games,
                                     int64_t game_base, uint64_t seed, int max_new_tokens, double *rate,
                                     vkt_error *err) {
    vkt_rl_mix mx;
    VKT_TRY(vkt_rl_mix_parse(game, &mx, err));
    if (games < mx.n) return vkt_fail(err, VKT_ERR_ARG, "invalid rate: %d games for the %d games of '%s'", games, mx.n, game);
    vkt_rl_rollout_opts ro;
    vkt_rl_rollout_defaults(&ro);
    ro.game = game, ro.n_games = games, ro.game_base = game_base, ro.seed = seed, ro.fmt = f;
    if (mx.n > 1) mix_blocks(&mx, games, NULL, &ro);
    else ro.game = mx.g[0].spec;
    gen_opts(&ro.gen, max_new_tokens);
    vkt_rl_rollout r;
    vkt_status s = vkt_rl_rollout_run(m, gen, &ro, &r, err);
    if (s == VKT_OK) *rate = r.n_turns ? (double)r.invalid / r.n_turns : 0;
    vkt_rl_rollout_free(&r);
    return s;
}

vkt_status vkt_rl_eval_vs(vkt_model *m, vkt_gen *gen, const char *game, const char *opponent, int games,
                          uint64_t seed, int max_new_tokens, vkt_rl_eval *out, vkt_error *err) {
    return vkt_rl_eval_vs_fmt(m, gen, game, NULL, opponent, games, seed, max_new_tokens, out, err);
}

vkt_status vkt_rl_eval_vs_fmt(vkt_model *m, vkt_gen *gen, const char *game, const vkt_rl_fmt *f, const char *opponent,
                                int games, uint64_t seed, int max_new_tokens, vkt_rl_eval *out, vkt_error *err) {
    memset(out, 0, sizeof *out);
    if (games < 1) return vkt_fail(err, VKT_ERR_ARG, "eval: games %d must be >= 1", games);
    vkt_game probe;
    VKT_TRY(vkt_game_create(&probe, game, err));
    if (vkt_game_num_players(&probe) != 2)
        return vkt_fail(err, VKT_ERR_ARG, "eval: %s is not a two-player game (offswitch is scored against its oracle)", game);
    vkt_game *gs = malloc((size_t)games * sizeof *gs);
    vkt_rng *rng = malloc((size_t)games * sizeof *rng);
    int *turn = calloc((size_t)games, sizeof *turn), *wait = malloc((size_t)games * sizeof *wait);
    int32_t **ids = calloc((size_t)games, sizeof *ids);
    vkt_gen_prompt *pr = malloc((size_t)games * sizeof *pr);
    vkt_gen_result *res = calloc((size_t)games, sizeof *res);
    vkt_agent opp = {0};
    vkt_status s = VKT_OK;
    if (!gs || !rng || !turn || !wait || !ids || !pr || !res) s = vkt_fail(err, VKT_ERR_NOMEM, "eval: %d games", games);
    for (int g = 0; s == VKT_OK && g < games; g++) {
        s = vkt_game_create(&gs[g], game, err);
        if (s == VKT_OK) s = vkt_game_reset(&gs[g], vkt_rng_derive(seed, (uint64_t)g), err);
        vkt_rng_seed(&rng[g], vkt_rng_derive(seed ^ 0x0bb0e17ull, (uint64_t)g));
    }
    if (s == VKT_OK) s = vkt_agent_create(opponent, gs[0].ops, &opp, err);
    vkt_gen_opts go;
    gen_opts(&go, max_new_tokens);
    go.seed = vkt_rng_derive(seed, 0xe7a1);
    vkt_rl_fmt_gen_opts(f, &go);
    while (s == VKT_OK) {
        int n = 0;
        for (int g = 0; g < games && s == VKT_OK; g++) {
            // The opponent moves until it is the model's turn (seat g % 2) or the game ends.
            while (s == VKT_OK && !vkt_game_is_terminal(&gs[g]) && vkt_game_current_player(&gs[g]) != g % 2) {
                int p = vkt_game_current_player(&gs[g]), a;
                s = vkt_agent_act(&opp, &gs[g], p, &rng[g], &a, err);
                if (s != VKT_OK) break;
                if (a == VKT_ACTION_INVALID) vkt_game_forfeit(&gs[g], p);
                else s = vkt_game_apply(&gs[g], a, err);
            }
            if (s == VKT_OK && !vkt_game_is_terminal(&gs[g]) && turn[g] < 200) {
                int np = 0;
                free(ids[g]);
                ids[g] = NULL;
                s = vkt_rl_prompt_tokens(&gs[g], g % 2, f, &ids[g], &np, err);
                pr[n] = (vkt_gen_prompt){ids[g], np, ((uint64_t)g << 16) | (uint64_t)turn[g]};
                wait[n++] = g;
            }
        }
        if (s != VKT_OK || n == 0) break;
        if (vkt_generate(gen, pr, n, &go, res) != VKT_OK) {
            s = dev_fail(m, err, "eval: generate");
            break;
        }
        for (int k = 0; k < n; k++) {
            int g = wait[k], a;
            bool invalid = false;
            size_t at, len;
            vkt_rl_fmt_answer_span(f, res[k].text, res[k].text_len, &at, &len);
            if (s == VKT_OK) s = vkt_protocol_step(&gs[g], res[k].text + at, len, &a, &invalid, NULL);
            if (s == VKT_OK && invalid) out->invalid += 1, out->seat_invalid[g % 2] += 1;
            out->decisions++;
            turn[g]++;
            vkt_gen_result_free(&res[k]);
        }
    }
    for (int g = 0; s == VKT_OK && g < games; g++) {
        double r[VKT_GAME_MAX_PLAYERS] = {0};
        if (vkt_game_is_terminal(&gs[g])) vkt_game_returns(&gs[g], r);
        const int seat = g % 2;
        double mine = r[seat];
        out->mean_return += mine;
        out->seat_games[seat]++;
        if (mine > 0) out->win += 1, out->seat_win[seat] += 1;
        else if (mine < 0) out->loss += 1, out->seat_loss[seat] += 1;
        else out->draw += 1, out->seat_draw[seat] += 1;
    }
    if (s == VKT_OK) {
        out->games = games;
        out->win /= games, out->draw /= games, out->loss /= games, out->invalid /= games, out->mean_return /= games;
        for (int k = 0; k < 2; k++) {
            double n = out->seat_games[k] ? out->seat_games[k] : 1;
            out->seat_win[k] /= n, out->seat_draw[k] /= n, out->seat_loss[k] /= n, out->seat_invalid[k] /= n;
        }
    }
    if (opp.act) vkt_agent_destroy(&opp);
    for (int g = 0; ids && g < games; g++) free(ids[g]);
    free(gs), free(rng), free(turn), free(wait), free(ids), free(pr), free(res);
    return s;
}

// --- warm-up -------------------------------------------------------------------------

typedef struct example {
    int32_t *prompt;  // owned by the state's first row
    bool owns;
    int np;
    int32_t ans[MAX_ANSWER];
    int na;
    double f;         // the row's share of its state (1, or 1/n when every legal answer is a row)
} example;

// The next decision of random legal play (games restart when over) into rows ex[0..):
// one row with the sampled answer, or with `expand` one row per legal answer, each at
// 1/n (the random policy's whole distribution at this state instead of one sample of
// it). *used = 0 when the rows do not fit in `room` (nothing is drawn or played then).
static vkt_status next_example(vkt_game *g, bool *fresh, int64_t *game_no, uint64_t seed, vkt_rng *rng, bool expand,
                               const vkt_rl_fmt *f, example *ex, int room, int *used, vkt_error *err) {
    *used = 0;
    if (*fresh || vkt_game_is_terminal(g)) {
        VKT_TRY(vkt_game_reset(g, vkt_rng_derive(seed, (uint64_t)(*game_no)++), err));
        *fresh = false;
    }
    int acts[VKT_GAME_MAX_LEGAL], n = expand ? vkt_game_legal_actions(g, acts) : 1;
    if (n > room) return VKT_OK;
    int p = vkt_game_current_player(g), a = vkt_rl_random_action(g, rng);
    VKT_TRY(vkt_rl_prompt_tokens(g, p, f, &ex[0].prompt, &ex[0].np, err));
    ex[0].owns = true;
    for (int k = 0; k < n; k++) {
        if (k) ex[k].prompt = ex[0].prompt, ex[k].np = ex[0].np, ex[k].owns = false;
        ex[k].f = 1.0 / n;
        VKT_TRY(answer_ids(g, expand ? acts[k] : a, f, ex[k].ans, &ex[k].na, err));
    }
    *used = n;
    return vkt_game_apply(g, a, err);
}

static void free_rows(example *ex, int n) {
    for (int r = 0; ex && r < n; r++) {
        if (ex[r].owns) free(ex[r].prompt);
        ex[r].prompt = NULL, ex[r].owns = false;
    }
}

vkt_status vkt_rl_warmup(vkt_model *m, const char *game, int steps, int rows, double lr, uint64_t seed, double *loss,
                         vkt_error *err) {
    return vkt_rl_warmup_fmt(m, game, NULL, steps, rows, lr, seed, loss, err);
}

// One warm-up step over rows x T packed rows, mb rows a forward (gradients accumulate: the
// weights are normalised over all rows); *loss (may be NULL) gets the summed loss.
static vkt_status warmup_step(vkt_model *m, int rows, int mb, int T, const int32_t *tok, const int32_t *tgt,
                              const float *wt, const vkt_optim *opt, int step, double *loss, vkt_error *err) {
    double sum = 0;
    for (int r0 = 0; r0 < rows; r0 += mb) {
        const size_t at = (size_t)r0 * T;
        if (vkt_model_set_batch(m, tok + at, tgt + at, wt + at) != VKT_OK || vkt_model_forward(m, NULL, NULL) != VKT_OK ||
            vkt_model_loss(m, 1.0f, true) != VKT_OK)
            return dev_fail(m, err, "warmup step");
        double ls, ws;
        if (loss && vkt_model_read_loss(m, &ls, &ws) != VKT_OK) return dev_fail(m, err, "warmup: loss");
        sum += loss ? ls : 0;
    }
    if (vkt_model_adamw(m, opt, step, NULL) != VKT_OK) return dev_fail(m, err, "warmup step");
    if (loss) *loss = sum;
    return VKT_OK;
}

vkt_status vkt_rl_warmup_fmt(vkt_model *m, const char *game, const vkt_rl_fmt *f, int steps, int rows, double lr,
                             uint64_t seed, double *loss, vkt_error *err) {
    const int think = f ? f->think : 0;
    if (steps < 0 || rows < 1 || think < 0)
        return vkt_fail(err, VKT_ERR_ARG, "warmup: steps %d, rows %d, think %d", steps, rows, think);
    vkt_rl_mix mx;
    VKT_TRY(vkt_rl_mix_parse(game, &mx, err));
    vkt_game *g = malloc((size_t)mx.n * sizeof *g);  // one running game per game of the mix
    bool fresh[VKT_RL_MAX_GAMES];
    int64_t game_no[VKT_RL_MAX_GAMES] = {0};
    if (!g) return vkt_fail(err, VKT_ERR_NOMEM, "warmup games");
    for (int i = 0; i < mx.n; i++) {
        fresh[i] = true;
        vkt_status cs = vkt_game_create(&g[i], mx.g[i].spec, err);
        if (cs != VKT_OK) {
            free(g);
            return cs;
        }
    }
    vkt_rng rng;
    vkt_rng_seed(&rng, vkt_rng_derive(seed, 0x3a7e));
    example *ex = calloc((size_t)rows, sizeof *ex);
    vkt_rl_seq *seqs = malloc((size_t)rows * sizeof *seqs);
    int *wstart = malloc((size_t)rows * sizeof *wstart);
    double *w = malloc((size_t)rows * MAX_ANSWER * sizeof *w);
    int32_t *tok = NULL, *tgt = NULL;
    float *wt = NULL;
    int planT = 0;
    vkt_status s = (ex && seqs && wstart && w) ? VKT_OK : vkt_fail(err, VKT_ERR_NOMEM, "warmup buffers");
    int mb = rows;  // rows a forward: a pretrained vocabulary's logits split the step (rl_selfplay.h)
    vkt_optim opt = {(float)lr, 0.9f, 0.95f, 1e-8f, 0.0f, 1.0f};
    int ramp = 0;  // the mix's largest ramp, at most a fifth of the steps
    for (int i = 0; i < mx.n; i++) ramp = mx.g[i].warmup_ramp > ramp ? mx.g[i].warmup_ramp : ramp;
    if (ramp > steps / 5) ramp = steps / 5;
    if (loss) *loss = NAN;
    for (int step = 1; s == VKT_OK && step <= steps; step++) {
        int needT = 1, ntok = 0, nr = 0;
        double fsum = 0;  // sum over rows of f * answer tokens: the weights' normaliser
        free_rows(ex, rows);
        for (int state = 0; nr < rows && s == VKT_OK; state++) {
            const int k = state % mx.n;
            int used = 0;
            s = next_example(&g[k], &fresh[k], &game_no[k], seed, &rng, mx.g[k].warmup_expand, f, ex + nr, rows - nr,
                             &used, err);
            if (s == VKT_OK && used == 0 && nr == 0)
                s = vkt_fail(err, VKT_ERR_ARG, "warmup: %d rows cannot hold the legal answers of one %s state", rows,
                             mx.g[k].name);
            if (s != VKT_OK || used == 0) break;
            for (int r = nr; r < nr + used; r++) {
                seqs[r] = (vkt_rl_seq){ex[r].prompt, ex[r].np, ex[r].ans, ex[r].na};
                wstart[r] = ntok, ntok += ex[r].na, fsum += ex[r].f * ex[r].na;
                if (ex[r].np + ex[r].na - 1 > needT) needT = ex[r].np + ex[r].na - 1;
            }
            nr += used;
        }
        if (s != VKT_OK) break;
        for (int r = 0; r < nr; r++)
            for (int t = 0; t < ex[r].na; t++) w[wstart[r] + t] = ex[r].f / fsum;
        if (needT > planT) {
            planT = (needT + 3) / 4 * 4;
            if (planT > vkt_model_cfg(m)->context) planT = vkt_model_cfg(m)->context;
            free(tok), free(tgt), free(wt);
            tok = malloc((size_t)rows * planT * sizeof *tok), tgt = malloc((size_t)rows * planT * sizeof *tgt);
            wt = malloc((size_t)rows * planT * sizeof *wt);
            mb = rows;
            const uint64_t V = (uint64_t)vkt_model_cfg(m)->vocab;
            while (mb % 2 == 0 && (uint64_t)mb * (uint64_t)planT * V * 4 > VKT_RL_LOGITS_BYTES) mb /= 2;
            if (!tok || !tgt || !wt) s = vkt_fail(err, VKT_ERR_NOMEM, "warmup rows");
            else if (vkt_model_plan(m, mb, planT) != VKT_OK) s = dev_fail(m, err, "warmup: plan");
        }
        opt.lr = (float)vkt_lr_at(step - 1, steps, ramp, lr, lr);  // the ramp, then constant
        if (s == VKT_OK) s = vkt_rl_pack(seqs, nr, w, wstart, rows, planT, tok, tgt, wt, err);
        double ls = 0;
        const bool last = loss && step == steps;
        if (s == VKT_OK) s = warmup_step(m, rows, mb, planT, tok, tgt, wt, &opt, step, last ? &ls : NULL, err);
        if (s == VKT_OK && last) {
            if (!isfinite(ls))
                s = vkt_fail(err, VKT_ERR_ARG, "warmup: the loss after step %d is %g, not finite: the model has "
                             "diverged (try a lower --warmup-lr)", step, ls);
            else *loss = ls;
        }
    }
    // RL starts with fresh moments.
    if (s == VKT_OK && vkt_model_reset_optim(m) != VKT_OK) s = dev_fail(m, err, "warmup: reset moments");
    free_rows(ex, rows);
    free(ex), free(seqs), free(wstart), free(w), free(tok), free(tgt), free(wt), free(g);
    return s;
}

// --- one update ----------------------------------------------------------------------

// A[k] for every turn of the rollout: per game of the mix, group / group-mean over that
// game's turns (keys are prompt hashes, which start with the game's name), rae folding
// its games in id order, seat by seat, into the (game, seat) baseline, or none (A = R).
static vkt_status advantages(vkt_rl_sp *s, const vkt_rl_rollout *r, const double *R, const uint64_t *key, double *A,
                             vkt_error *err) {
    const int N = r->n_turns, G = r->n_games;
    int *idx = malloc(((size_t)N + 1) * sizeof *idx);
    double *subR = malloc(((size_t)N + 1) * sizeof *subR), *subA = malloc(((size_t)N + 1) * sizeof *subA);
    uint64_t *subK = malloc(((size_t)N + 1) * sizeof *subK);
    double *ga = calloc((size_t)G * VKT_GAME_MAX_PLAYERS, sizeof *ga);
    vkt_status rc = idx && subR && subA && subK && ga ? VKT_OK : vkt_fail(err, VKT_ERR_NOMEM, "selfplay: advantages");
    for (int i = 0; rc == VKT_OK && i < s->mix.n; i++) {
        const vkt_rl_adv_mode mode = s->adv[i];
        if (group_mode(mode)) {
            int n = 0;
            for (int k = 0; k < N; k++)
                if (r->spec[r->turns[k].game] == i) idx[n] = k, subR[n] = R[k], subK[n] = key[k], n++;
            rc = mode == VKT_RL_ADV_GROUP ? vkt_rl_group_advantages(n, subK, subR, subA, err)
                                          : vkt_rl_group_mean_advantages(n, subK, subR, subA, err);
            for (int j = 0; rc == VKT_OK && j < n; j++) A[idx[j]] = subA[j];
        } else if (mode == VKT_RL_ADV_NONE) {
            for (int k = 0; k < N; k++)
                if (r->spec[r->turns[k].game] == i) A[k] = R[k];
        } else {
            const int np = s->mix.g[i].players;
            for (int g = 0; rc == VKT_OK && g < G; g++)
                for (int p = 0; rc == VKT_OK && r->spec[g] == i && p < np && p < VKT_RL_MAX_ROLES; p++)
                    rc = vkt_rae_advantage(&s->rae, i, p, r->returns[(size_t)g * VKT_GAME_MAX_PLAYERS + p],
                                           &ga[(size_t)g * VKT_GAME_MAX_PLAYERS + p], err);
            for (int k = 0; rc == VKT_OK && k < N; k++)
                if (r->spec[r->turns[k].game] == i)
                    A[k] = ga[(size_t)r->turns[k].game * VKT_GAME_MAX_PLAYERS + r->turns[k].player];
        }
    }
    free(idx), free(subR), free(subA), free(subK), free(ga);
    return rc;
}

double vkt_rl_sp_kl_uniform_at(const vkt_rl_sp *s, int64_t games) {
    const double T = (double)s->o.games_target, from = T * (1 - s->kl_anneal);
    if (!(s->kl_anneal > 0) || games <= from) return s->kl_uniform;
    const double t = games >= T ? 1 : (games - from) / (T - from);
    return s->kl_uniform + t * (s->o.kl_uniform_end - s->kl_uniform);
}

vkt_status vkt_rl_sp_update(vkt_rl_sp *s, vkt_rl_sp_stats *st_out, vkt_error *err) {
    const vkt_rl_sp_opts *o = &s->o;
    vkt_model *m = s->m;
    const int G = o->games_per_update;
    vkt_rl_sp_stats st;
    memset(&st, 0, sizeof st);
    double t0 = now_s();
    // 1. the policy that plays this update's Kuhn games enters the average (one-hand Kuhn only).
    if (s->kuhn >= 0) {
        vkt_kuhn_policy pi;
        const int GK = s->share[s->kuhn];
        VKT_TRY(vkt_rl_sp_kuhn_policy(s, &pi, NULL, err));
        for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) s->avg_num[i] += GK * pi.bet[i];
        s->avg_den += GK;
    }
    // 2. rollouts: every game of the mix in one batch.
    vkt_rl_rollout_opts ro;
    vkt_rl_rollout_defaults(&ro);
    ro.game = o->game, ro.n_games = G, ro.game_base = s->games, ro.seed = o->seed, ro.fmt = &s->fmt;
    const double C_uni = vkt_rl_sp_kl_uniform_at(s, s->games);  // this update's (annealed) coefficient
    ro.legal_answers = C_uni > 0;
    ro.format_credit = s->format_credit;
    mix_blocks(&s->mix, G, s->replays, &ro);
    for (int i = 0; i < s->mix.n; i++) ro.spec_explore[i] = s->explore;
    gen_opts(&ro.gen, s->max_new_tokens);
    vkt_rl_rollout r;
    if (vkt_rl_rollout_run(m, s->gen, &ro, &r, err) != VKT_OK)
        return vkt_fail_wrap(err, "selfplay: update %d: rollouts", s->updates + 1);
    const int N = r.n_turns;
    // The KL-to-uniform rows (one per state and legal answer), trained after the PG rows.
    vkt_rl_uniform u;
    memset(&u, 0, sizeof u);
    if (C_uni > 0) {
        vkt_status ub = vkt_rl_uniform_build(&r, C_uni, &u, err);
        if (ub != VKT_OK) {
            vkt_rl_rollout_free(&r);
            return ub;
        }
    }
    const int U = u.n_rows;
    double *R = malloc(((size_t)N + 1) * sizeof *R), *A = malloc(((size_t)N + 1) * sizeof *A);
    uint64_t *key = malloc(((size_t)N + 1) * sizeof *key);
    int *kept = malloc(((size_t)N + 1) * sizeof *kept), *start = malloc(((size_t)N + U + 2) * sizeof *start);
    vkt_rl_seq *seqs = malloc(((size_t)N + U + 1) * sizeof *seqs);
    double *adv = malloc(((size_t)N + 1) * sizeof *adv);
    double *atok = NULL;  // per-token advantages: A, or |A| on an explored answer's format tokens
    vkt_gen_prompt *pr = malloc(((size_t)N + U + 1) * sizeof *pr);
    const int32_t **cont = malloc(((size_t)N + U + 1) * sizeof *cont);
    int *ncont = malloc(((size_t)N + U + 1) * sizeof *ncont);
    float **lpo = malloc(((size_t)N + U + 1) * sizeof *lpo);
    float *lpf = NULL, *lrf = NULL;   // scored logprobs (policy, reference) as floats
    float **lro = NULL;
    double *lp_old = NULL, *lp_new = NULL, *lp_ref = NULL, *w = NULL, *ec = NULL;
    int32_t *tok = NULL, *tgt = NULL;
    float *wt = NULL, *ct = NULL;
    const bool use_kl = o->pg.kl_coef > 0, use_ent = o->pg.entropy_coef > 0;
    vkt_status rc = VKT_OK;
    if (!R || !A || !key || !kept || !start || !seqs || !adv || !pr || !cont || !ncont || !lpo)
        rc = vkt_fail(err, VKT_ERR_NOMEM, "selfplay: %d turns", N);
    st.games = G, st.decisions = N, st.invalid = r.invalid;
    for (int g = 0; g < G; g++) {
        vkt_rl_sp_game_stats *pg = &st.per_game[r.spec[g]];
        st.mean_return_p0 += r.returns[(size_t)g * VKT_GAME_MAX_PLAYERS] / G;
        pg->games++, pg->mean_return_p0 += r.returns[(size_t)g * VKT_GAME_MAX_PLAYERS];
    }
    for (int i = 0; i < s->mix.n; i++)
        if (st.per_game[i].games) st.per_game[i].mean_return_p0 /= st.per_game[i].games;
    int resp_tokens = 0;
    for (int k = 0; rc == VKT_OK && k < N; k++) {
        const vkt_rl_turn *t = &r.turns[k];
        R[k] = r.returns[(size_t)t->game * VKT_GAME_MAX_PLAYERS + t->player];
        key[k] = t->obs_key;
        resp_tokens += t->n_resp;
        if (!t->forced) st.gen_tokens += t->n_resp;  // explored answers are not generated
        st.sample_entropy += t->entropy_sum;
        st.per_game[r.spec[t->game]].decisions++;
        st.per_game[r.spec[t->game]].invalid += t->action == VKT_ACTION_INVALID;
    }
    if (st.gen_tokens > 0) st.sample_entropy /= st.gen_tokens;
    st.rollout_s = now_s() - t0;
    // 3. advantages, each game of the mix with its own estimator.
    if (rc == VKT_OK) rc = advantages(s, &r, R, key, A, err);
    // Kept turns and their token layout. A turn with A == 0 carries no policy gradient and
    // is dropped (SPIRAL's filter), unless a regularizer is on: the KL and entropy terms act
    // on every sampled turn, and dropping A == 0 turns would switch them off exactly where
    // the policy has collapsed (every sample of a state the same: A == 0 for all of them).
    const bool keep_zero = use_kl || use_ent;
    int K = 0, ntok = 0, needT = 1;
    if (rc == VKT_OK && !(atok = malloc(((size_t)resp_tokens + 1) * sizeof *atok)))
        rc = vkt_fail(err, VKT_ERR_NOMEM, "selfplay: %d token advantages", resp_tokens);
    for (int k = 0; rc == VKT_OK && k < N; k++) {
        const vkt_rl_turn *t = &r.turns[k];
        const int nr = t->n_resp;
        if (s->format_credit) {  // an invalid answer is never reinforced (rl_selfplay.h)
            const double a = vkt_rl_turn_advantages(t, A[k], true, NULL);
            st.format_turns += t->choice && !t->forced, st.invalid_clamped += a != A[k];
            A[k] = a;
        }
        if ((A[k] == 0 && !keep_zero) || nr == 0) continue;
        // An explored answer, or a sampled legal one under format credit: A on the tokens that
        // choose it, |A| on its format (rl_rollout.h): they carry no choice, and an answer that
        // is not finished its one way is invalid.
        vkt_rl_turn_advantages(t, A[k], false, atok + ntok);
        st.per_game[r.spec[t->game]].kept++;
        kept[K] = k, adv[K] = A[k], start[K] = ntok;
        seqs[K] = (vkt_rl_seq){t->prompt, t->n_prompt, t->resp, nr};
        pr[K] = (vkt_gen_prompt){t->prompt, t->n_prompt, 0}, cont[K] = t->resp, ncont[K] = nr;
        ntok += nr;
        if (t->n_prompt + nr - 1 > needT) needT = t->n_prompt + nr - 1;
        K++;
    }
    st.kept = K;
    // The uniform rows follow: seqs, start and the scoring arrays continue at K.
    int all = ntok;
    for (int i = 0; rc == VKT_OK && i < U; i++) {
        const vkt_rl_uniform_row *ur = &u.rows[i];
        start[K + i] = all;
        seqs[K + i] = (vkt_rl_seq){ur->prompt, ur->n_prompt, ur->answer, ur->n_answer};
        pr[K + i] = (vkt_gen_prompt){ur->prompt, ur->n_prompt, 0}, cont[K + i] = ur->answer, ncont[K + i] = ur->n_answer;
        all += ur->n_answer;
        if (ur->n_prompt + ur->n_answer - 1 > needT) needT = ur->n_prompt + ur->n_answer - 1;
    }
    start[K + U] = all;
    st.uniform_rows = U, st.kl_uniform_coef = C_uni;
    if (rc == VKT_OK && K + U > 0) {
        lpf = malloc((size_t)all * sizeof *lpf);
        lp_old = malloc((size_t)ntok * sizeof *lp_old + 1), lp_new = malloc((size_t)ntok * sizeof *lp_new + 1);
        w = malloc((size_t)all * sizeof *w);
        if (!lpf || !lp_old || !lp_new || !w) rc = vkt_fail(err, VKT_ERR_NOMEM, "selfplay: %d tokens", all);
        for (int k = 0; rc == VKT_OK && k < K + U; k++) lpo[k] = lpf + start[k];
        // The uniform rows' weights are constant: C c_s / (D n_s) on every answer token.
        for (int i = 0; rc == VKT_OK && i < U; i++)
            for (int j = start[K + i]; j < start[K + i + 1]; j++) w[j] = u.weight[i];
        if (rc == VKT_OK && use_ent && !(ec = calloc((size_t)all, sizeof *ec)))
            rc = vkt_fail(err, VKT_ERR_NOMEM, "selfplay: %d entropy coefficients", ntok);
        if (rc == VKT_OK && use_kl) {
            lrf = malloc((size_t)ntok * sizeof *lrf + 1), lp_ref = malloc((size_t)ntok * sizeof *lp_ref + 1);
            lro = malloc((size_t)K * sizeof *lro + 1);
            if (!lrf || !lp_ref || !lro) rc = vkt_fail(err, VKT_ERR_NOMEM, "selfplay: %d reference logprobs", ntok);
            for (int k = 0; rc == VKT_OK && k < K; k++) lro[k] = lrf + start[k];
        }
    }
    const int MB = o->micro_rows;
    if (rc == VKT_OK && K + U > 0 && needT > s->planned_T) {
        int T = (needT + 3) / 4 * 4;
        if (T > vkt_model_cfg(m)->context) T = vkt_model_cfg(m)->context;
        if (vkt_model_plan(m, MB, T) != VKT_OK) rc = dev_fail(m, err, "plan");
        else s->planned_T = T;
    }
    const int T = s->planned_T;
    if (rc == VKT_OK && K + U > 0) {
        tok = malloc((size_t)MB * T * sizeof *tok), tgt = malloc((size_t)MB * T * sizeof *tgt);
        wt = malloc((size_t)MB * T * sizeof *wt);
        if (use_ent) ct = malloc((size_t)MB * T * sizeof *ct);
        if (!tok || !tgt || !wt || (use_ent && !ct)) rc = vkt_fail(err, VKT_ERR_NOMEM, "selfplay: rows");
    }
    // The reference policy's logprobs of the kept responses (fixed for the update).
    if (rc == VKT_OK && K > 0 && use_kl) {
        double ts = now_s();
        if (vkt_gen_score(s->ref_gen, K, pr, cont, ncont, lro) != VKT_OK) rc = dev_fail(m, err, "reference score");
        for (int i = 0; rc == VKT_OK && i < ntok; i++) lp_ref[i] = lrf[i];
        st.score_s += now_s() - ts;
    }
    // 4. old logprobs, then the epochs.
    vkt_pg_batch b = {.B = K, .start = start, .adv = adv, .adv_tok = atok, .logp_old = lp_old,
                      .logp_ref = lp_ref};
    for (int e = 0; rc == VKT_OK && K + U > 0 && e < o->ppo_epochs; e++) {
        double ts = now_s();
        // PG rows: epoch 0, and every epoch under PPO (its ratio); uniform rows: every epoch
        // (the term's value in the objective).
        const int s0 = e == 0 || o->pg.kind == VKT_PG_PPO ? 0 : K;
        if (K + U - s0 > 0 && vkt_gen_score(s->gen, K + U - s0, pr + s0, cont + s0, ncont + s0, lpo + s0) != VKT_OK) {
            rc = dev_fail(m, err, "score");
            break;
        }
        if (s0 == 0) {
            for (int i = 0; i < ntok; i++) lp_new[i] = lpf[i];
            if (e == 0) memcpy(lp_old, lp_new, (size_t)ntok * sizeof *lp_old);
        }
        st.score_s += now_s() - ts;
        ts = now_s();
        st.loss = 0;
        if (K > 0) {
            rc = vkt_pg_weights(&o->pg, &b, lp_new, w, &st.pg, err);
            st.loss = vkt_pg_loss_ref(&o->pg, &b, lp_new, NULL);
            if (rc == VKT_OK && use_ent) rc = vkt_pg_entropy_coefs(&o->pg, &b, ec, err);
        }
        if (U > 0) {
            double kl, mass, value;
            vkt_rl_uniform_stats(&u, (const float *const *)(lpo + K), &kl, &mass, &value);
            st.loss += value;
            if (e == 0) st.kl_uniform = kl, st.legal_mass = mass;
        }
        // A diverged policy stops here, before its non-finite gradients reach the weights.
        if (rc == VKT_OK && !isfinite(st.loss))
            rc = vkt_fail(err, VKT_ERR_ARG, "selfplay: update %d, epoch %d: the loss is %g, not finite: the policy "
                          "has diverged (try a lower --lr)", s->updates + 1, e + 1, st.loss);
        double hsum = 0;  // sum of H over the trained tokens, this epoch
        int hpos = 0;
        for (int c0 = 0; rc == VKT_OK && c0 < K + U; c0 += MB) {
            int n = K + U - c0 < MB ? K + U - c0 : MB;
            // The coefficients take the weights' layout (this pack writes the same tokens).
            if (use_ent) rc = vkt_rl_pack(seqs + c0, n, ec, start + c0, MB, T, tok, tgt, ct, err);
            if (rc == VKT_OK) rc = vkt_rl_pack(seqs + c0, n, w, start + c0, MB, T, tok, tgt, wt, err);
            if (rc == VKT_OK && (vkt_model_set_batch(m, tok, tgt, wt) != VKT_OK ||
                                 (use_ent && vkt_model_set_entropy(m, ct) != VKT_OK) ||
                                 vkt_model_forward(m, NULL, NULL) != VKT_OK || vkt_model_loss(m, 1.0f, true) != VKT_OK))
                rc = dev_fail(m, err, "forward/backward");
            double hs = 0;
            int hp = 0;
            if (rc == VKT_OK && use_ent && vkt_model_read_entropy(m, &hs, &hp) != VKT_OK) rc = dev_fail(m, err, "entropy");
            hsum += hs, hpos += hp;
        }
        // The objective's entropy term, -X sum n_i H_i (ec[i] = X n_i is the same for every token).
        if (rc == VKT_OK && use_ent && K > 0) {
            st.loss -= ec[0] * hsum;
            if (e == 0) st.entropy = hpos ? hsum / hpos : 0;
        }
        const double ramp = s->updates < s->lr_warmup ? (s->updates + 1.0) / s->lr_warmup : 1.0;
        vkt_optim opt = {(float)(o->lr * ramp), (float)o->beta1, (float)o->beta2, 1e-8f, (float)o->weight_decay,
                         (float)o->max_grad_norm};
        float gn = 0;
        if (rc == VKT_OK && vkt_model_adamw(m, &opt, ++s->adam_step, &gn) != VKT_OK) rc = dev_fail(m, err, "adamw");
        st.grad_norm = gn;
        if (rc == VKT_OK && !isfinite(gn))
            rc = vkt_fail(err, VKT_ERR_ARG, "selfplay: update %d, epoch %d: the gradient norm is %g, not finite: the "
                          "policy has diverged (try a lower --lr)", s->updates + 1, e + 1, (double)gn);
        st.train_s += now_s() - ts;
    }
    if (rc == VKT_OK) {
        s->games += G, s->decisions += N, s->invalid += r.invalid, s->updates++;
        if (st_out) *st_out = st;
    }
    vkt_rl_uniform_free(&u);
    vkt_rl_rollout_free(&r);
    free(R), free(A), free(key), free(kept), free(start), free(seqs), free(adv), free(pr), free(cont), free(ncont);
    free(lpo), free(lpf), free(lp_old), free(lp_new), free(w), free(tok), free(tgt), free(wt);
    free(lrf), free(lro), free(lp_ref), free(ec), free(ct), free(atok);
    return rc;
}

// --- state file ----------------------------------------------------------------------

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

vkt_status vkt_rl_sp_save_state(const vkt_rl_sp *s, const char *path, vkt_error *err) {
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
    vkt_status st = vkt_json_file_write(path, j, err);
    json_decref(j);
    return st;
}

vkt_status vkt_rl_sp_save_ref(const vkt_rl_sp *s, const char *dir, vkt_error *err) {
    if (!s->ref) return VKT_OK;
    return vkt_checkpoint_save_model(s->ref, dir, false, err);
}

vkt_status vkt_rl_sp_load_ref(vkt_rl_sp *s, const char *dir, vkt_error *err) {
    if (!s->ref) return vkt_fail(err, VKT_ERR_ARG, "selfplay: %s: no KL reference to load into (kl_coef is 0)", dir);
    const vkt_model_config *want = vkt_model_cfg(s->ref);
    vkt_model_config cfg;
    VKT_TRY(vkt_checkpoint_config(dir, &cfg, err));
    if (cfg.family != want->family || cfg.vocab != want->vocab || cfg.layers != want->layers ||
        cfg.width != want->width || cfg.heads != want->heads || cfg.kv_heads != want->kv_heads || cfg.ffn != want->ffn ||
        cfg.context != want->context || cfg.tied != want->tied || cfg.norm != want->norm || cfg.pos != want->pos || cfg.mlp != want->mlp)
        return vkt_fail(err, VKT_ERR_FORMAT, "%s/config.json: the KL reference's configuration differs from the policy's",
                        dir);
    const vkt_params *ps = vkt_model_params(s->ref);
    float *h = malloc(ps->total * sizeof *h);
    if (!h) return vkt_fail(err, VKT_ERR_NOMEM, "selfplay: reference parameters");
    vkt_status st = vkt_checkpoint_read_params(dir, want, ps, h, err);
    if (st == VKT_OK && vkt_model_set_params(s->ref, h) != VKT_OK) st = dev_fail(s->m, err, "reference parameters");
    free(h);
    return st;
}

vkt_status vkt_rl_sp_load_state(vkt_rl_sp *s, const char *path, vkt_error *err) {
    json_t *j = NULL;
    VKT_TRY(vkt_json_file_read(path, 1, &j, err));
    vkt_status st = VKT_OK;
    json_t *b = json_object_get(j, "rae_baselines"), *bu = json_object_get(j, "rae_updates");
    json_t *an = json_object_get(j, "avg_num");
    const int NB = VKT_RL_MAX_GAMES * VKT_RL_MAX_ROLES;
    vkt_rl_sp c = *s;
    if (!json_is_array(b) || json_array_size(b) != (size_t)NB || !json_is_array(bu) || json_array_size(bu) != (size_t)NB ||
        !json_is_array(an) || json_array_size(an) != VKT_KUHN_INFOSTATES || !gethex(j, "avg_den", &c.avg_den) ||
        !json_is_integer(json_object_get(j, "games")) || !json_is_integer(json_object_get(j, "updates")) ||
        !json_is_integer(json_object_get(j, "adam_step")))
        st = vkt_fail(err, VKT_ERR_FORMAT, "%s: not a selfplay state (missing or malformed fields)", path);
    for (int k = 0; st == VKT_OK && k < NB; k++) {
        char *end;
        json_t *v = json_array_get(b, (size_t)k);
        c.rae.b[k / VKT_RL_MAX_ROLES][k % VKT_RL_MAX_ROLES] = json_is_string(v) ? strtod(json_string_value(v), &end) : 0;
        c.rae.updates[k / VKT_RL_MAX_ROLES][k % VKT_RL_MAX_ROLES] = json_integer_value(json_array_get(bu, (size_t)k));
        if (!json_is_string(v) || *end) st = vkt_fail(err, VKT_ERR_FORMAT, "%s: rae_baselines[%d] malformed", path, k);
    }
    for (int i = 0; st == VKT_OK && i < VKT_KUHN_INFOSTATES; i++) {
        char *end;
        json_t *v = json_array_get(an, (size_t)i);
        c.avg_num[i] = json_is_string(v) ? strtod(json_string_value(v), &end) : 0;
        if (!json_is_string(v) || *end) st = vkt_fail(err, VKT_ERR_FORMAT, "%s: avg_num[%d] malformed", path, i);
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
