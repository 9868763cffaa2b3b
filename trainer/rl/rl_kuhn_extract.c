// rl_kuhn_extract.c: the model's Kuhn policy, teacher forced or sampled (see rl_kuhn_extract.h).
#include <math.h>
#include <stdlib.h>

#include "context.h"
#include "kuhn.h"
#include "protocol.h"
#include "rl_kuhn_extract.h"
#include "rl_prompt.h"
#include "rl_sp_internal.h"

// Kuhn's information state i as a one-hand game with `player` to move (the opponent's
// card, unseen, is another card).
static vkt_status kuhn_state(int i, vkt_game *g, int *player, vkt_error *err) {
    static const char *hist[4] = {"", "p", "b", "pb"};
    int card = i / 4, other = (card + 1) % 3;
    *player = vkt_kuhn_infostate_player(i);
    VKT_TRY(vkt_game_create(g, "kuhn", err));
    VKT_TRY(vkt_game_reset(g, 0, err));
    VKT_TRY(vkt_kuhn_set_hand(g, *player == 0 ? card : other, *player == 0 ? other : card,
                              hist[i % 4], err));
    if (vkt_game_current_player(g) != *player)
        return vkt_fail(err, VKT_ERR_ARG, "selfplay: state %s: player %d is not to move",
                        vkt_kuhn_infostate_name(i), *player);
    return VKT_OK;
}

vkt_status vkt_rl_kuhn_policy(vkt_gen *gen, const vkt_rl_fmt *f, vkt_kuhn_policy *pi,
                              double *raw_mass) {
    vkt_error *err = vkt_ctx_err(vkt_gen_ctx(gen));
    enum { NQ = 2 * VKT_KUHN_INFOSTATES, NA = 24 }; // "\boxed{Check}" + <|endoftext|> = 14
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
            int q = 2 * i + a; // a = 0 pass, 1 bet (Kuhn's action ids)
            s = vkt_rl_answer_tokens(&g, a, f, ans[q], NA, &na[q], err);
            if (s == VKT_OK) {
                pr[q] = (vkt_gen_prompt){pids[i], np[i], 0}, cont[q] = ans[q], lpo[q] = lp[q];
            }
        }
    }
    if (s == VKT_OK && vkt_gen_score(gen, NQ, pr, cont, na, lpo) != VKT_OK)
        s = vkt_fail_wrap(err, "selfplay: policy extraction: score failed");
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

vkt_status vkt_rl_kuhn_policy_sampled(vkt_gen *gen, const vkt_rl_fmt *f, int max_new_tokens,
                                      int samples, uint64_t seed, vkt_kuhn_policy *pi,
                                      double *invalid) {
    vkt_error *err = vkt_ctx_err(vkt_gen_ctx(gen));
    const int think = f ? f->think : 0;
    if (samples < 1 || samples > 1 << 16 || max_new_tokens < 1 || think < 0)
        return vkt_fail(
            err, VKT_ERR_ARG,
            "selfplay: sampled extraction: samples %d must be in 1..%d, max_new_tokens %d >= 1, "
            "think %d >= 0",
            samples, 1 << 16, max_new_tokens, think);
    const int NQ = VKT_KUHN_INFOSTATES * samples;
    vkt_game g[VKT_KUHN_INFOSTATES];
    int32_t *pids[VKT_KUHN_INFOSTATES] = {0};
    int np[VKT_KUHN_INFOSTATES];
    vkt_gen_prompt *pr = malloc((size_t)NQ * sizeof *pr);
    vkt_gen_result *res = calloc((size_t)NQ, sizeof *res);
    vkt_status s =
        pr && res ? VKT_OK : vkt_fail(err, VKT_ERR_NOMEM, "selfplay: %d extraction samples", NQ);
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
        s = vkt_fail_wrap(err, "selfplay: sampled extraction: generate failed");
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

vkt_status vkt_rl_sp_kuhn_policy(const vkt_rl_sp *s, vkt_kuhn_policy *pi, double *invalid) {
    vkt_error *err = vkt_ctx_err(vkt_model_ctx(s->m));
    if (s->o.think_tokens == 0) {
        double mass[VKT_KUHN_INFOSTATES];
        VKT_TRY(vkt_rl_kuhn_policy(s->gen, &s->fmt, pi, mass));
        for (int i = 0; invalid && i < VKT_KUHN_INFOSTATES; i++) invalid[i] = 1 - mass[i];
    } else {
        uint64_t seed = vkt_rng_derive(vkt_rng_derive(s->o.seed, 0x5a3b1e), (uint64_t)s->updates);
        VKT_TRY(vkt_rl_kuhn_policy_sampled(s->gen, &s->fmt, s->max_new_tokens, s->o.policy_samples,
                                           seed, pi, invalid));
    }
    // Exploitability and the average are meaningless on a NaN policy: refuse, naming the update.
    if (vkt_kuhn_policy_check_finite(pi, err) != VKT_OK)
        return vkt_fail_wrap(err, "selfplay: after update %d", s->updates);
    return VKT_OK;
}
