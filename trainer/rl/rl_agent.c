// rl_agent.c: a model as a game agent (see rl_agent.h).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "protocol.h"
#include "rl_agent.h"
#include "rl_prompt.h"
#include "rl_sp_internal.h"

// agent.h's callbacks report into the caller's vkt_error (the games module is pure), while
// the plan reports into its context: the one place where a device failure crosses over.
// err may be that context's own channel (a caller holding ctx passes vkt_ctx_err(ctx)):
// then the message is already there and only gets the prefix.
static vkt_status device_failed(vkt_gen *gen, vkt_status st, vkt_error *err, const char *what) {
    vkt_error *dev = vkt_ctx_err(vkt_gen_ctx(gen));
    if (err == dev) return vkt_fail_wrap(err, "%s", what);
    return vkt_fail(err, st, "%s: %s", what, dev->msg);
}

// Scores the answers of every legal action at state g for player; p[k] normalised.
static vkt_status score_actions(vkt_gen *gen, const vkt_rl_fmt *f, const vkt_game *g, int player,
                                const int *acts, int n, double *p, double *mass, vkt_error *err) {
    int32_t *pids = NULL, ans[VKT_GAME_MAX_LEGAL][VKT_RL_ANSWER_MAX];
    int np = 0, na[VKT_GAME_MAX_LEGAL];
    VKT_TRY(vkt_rl_prompt_tokens(g, player, f, &pids, &np, err));
    vkt_gen_prompt pr[VKT_GAME_MAX_LEGAL];
    const int32_t *cont[VKT_GAME_MAX_LEGAL];
    float lp[VKT_GAME_MAX_LEGAL][VKT_RL_ANSWER_MAX];
    float *lpo[VKT_GAME_MAX_LEGAL];
    vkt_status s = VKT_OK;
    for (int k = 0; k < n && s == VKT_OK; k++) {
        s = vkt_rl_answer_tokens(g, acts[k], f, ans[k], VKT_RL_ANSWER_MAX, &na[k], err);
        pr[k] = (vkt_gen_prompt){pids, np, 0}, cont[k] = ans[k], lpo[k] = lp[k];
    }
    if (s == VKT_OK && (s = vkt_gen_score(gen, n, pr, cont, na, lpo)) != VKT_OK)
        s = device_failed(gen, s, err, "selfplay: scoring the legal answers failed");
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

// --- the agent ------------------------------------------------------------------------

typedef struct model_agent {
    vkt_gen *gen;
    vkt_rl_fmt f; // the format it was trained in (rl_fmt.h; its text owned by the caller)
} model_agent;

static vkt_status ma_act(void *self, const vkt_game *g, int player, vkt_rng *rng, int *action,
                         vkt_error *err) {
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
    if (s != VKT_OK) return device_failed(a->gen, s, err, "model agent: generate failed");
    size_t at, len;
    vkt_rl_fmt_answer_span(&a->f, r.text, r.text_len, &at, &len);
    if (vkt_protocol_parse(g, r.text + at, len, action, NULL) != VKT_OK)
        *action = VKT_ACTION_INVALID;
    vkt_gen_result_free(&r);
    return VKT_OK;
}

static vkt_status ma_probs(void *self, const vkt_game *g, int player, const int *acts, int n,
                           double *p, vkt_error *err) {
    model_agent *a = self;
    return score_actions(a->gen, &a->f, g, player, acts, n, p, NULL, err);
}

static void ma_destroy(void *self) { free(self); }

vkt_status vkt_rl_model_agent(vkt_gen *gen, const vkt_rl_fmt *f, vkt_agent *out) {
    vkt_error *err = vkt_ctx_err(vkt_gen_ctx(gen));
    const int think = f ? f->think : 0;
    if (think < 0 || think > VKT_RL_THINK_MAX)
        return vkt_fail(err, VKT_ERR_ARG, "model agent: think tokens %d outside 0..%d", think,
                        VKT_RL_THINK_MAX);
    model_agent *a = malloc(sizeof *a);
    if (!a) return vkt_fail(err, VKT_ERR_NOMEM, "model agent");
    a->gen = gen;
    a->f = f ? *f : (vkt_rl_fmt){0};
    // A thinking model's action probabilities are not one teacher-forced answer: without
    // probs, callers (kuhn_policy.h) sample it.
    *out = (vkt_agent){a, "model", ma_act, think > 0 ? NULL : ma_probs, ma_destroy};
    return VKT_OK;
}
