// rl_tabular.c: self-play PPO / REINFORCE on a 12 x 2 table of Kuhn logits (see rl_tabular.h).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kuhn.h"
#include "rl_tabular.h"

void vkt_rl_tabular_defaults(vkt_rl_tabular_opts *o) {
    memset(o, 0, sizeof *o);
    o->adv = VKT_RL_ADV_RAE;
    o->rae_alpha = VKT_RL_RAE_ALPHA;
    vkt_pg_defaults(&o->pg);
    o->ppo_epochs = 2;
    o->games_per_update = 128;
    o->lr = 0.01;
    o->beta1 = 0.9, o->beta2 = 0.95, o->adam_eps = 1e-8;
    o->max_grad_norm = 1.0;
    o->seed = 1;
}

void vkt_rl_tabular_free(vkt_rl_tabular *t) {
    free(t->info), free(t->act), free(t->player), free(t->game), free(t->ret), free(t->adv);
    free(t->logp_old), free(t->logp_new), free(t->w), free(t->advk), free(t->startk);
    t->info = t->act = t->player = t->game = t->startk = NULL;
    t->ret = t->adv = t->logp_old = t->logp_new = t->w = t->advk = NULL;
}

vkt_status vkt_rl_tabular_init(vkt_rl_tabular *t, const vkt_rl_tabular_opts *o, vkt_error *err) {
    memset(t, 0, sizeof *t);
    if (o->games_per_update < 1 || o->games_per_update > 1 << 20)
        return vkt_fail(err, VKT_ERR_ARG, "tabular: games_per_update %d must be in 1..%d",
                        o->games_per_update, 1 << 20);
    if (o->ppo_epochs < 1)
        return vkt_fail(err, VKT_ERR_ARG, "tabular: ppo_epochs %d must be >= 1", o->ppo_epochs);
    if (!(o->lr > 0)) return vkt_fail(err, VKT_ERR_ARG, "tabular: lr %g must be > 0", o->lr);
    if (!(o->beta1 >= 0 && o->beta1 < 1 && o->beta2 >= 0 && o->beta2 < 1))
        return vkt_fail(err, VKT_ERR_ARG, "tabular: Adam betas (%g, %g) must be in [0, 1)",
                        o->beta1, o->beta2);
    if (!(o->rae_alpha >= 0 && o->rae_alpha < 1))
        return vkt_fail(err, VKT_ERR_ARG, "tabular: rae_alpha %g must be in [0, 1)", o->rae_alpha);
    if (!(o->entropy_coef >= 0))
        return vkt_fail(err, VKT_ERR_ARG, "tabular: entropy_coef %g must be >= 0", o->entropy_coef);
    if (o->pg.kl_coef != 0)
        return vkt_fail(err, VKT_ERR_ARG,
                        "tabular: kl_coef is not supported by the tabular control");
    if (o->adv != VKT_RL_ADV_RAE && o->adv != VKT_RL_ADV_NONE && o->adv != VKT_RL_ADV_GROUP)
        return vkt_fail(err, VKT_ERR_ARG,
                        "tabular: advantage %s: the tabular control takes rae, none or group",
                        vkt_rl_adv_mode_name(o->adv));
    t->o = *o;
    t->o.pg.max_len = 1;
    vkt_rae_init(&t->rae, o->rae_alpha);
    vkt_rng_seed(&t->rng, vkt_rng_derive(o->seed, 0x7ab1e));
    int cap = t->cap = 3 * o->games_per_update;
    t->info = malloc(cap * sizeof(int)), t->act = malloc(cap * sizeof(int));
    t->player = malloc(cap * sizeof(int)), t->game = malloc(cap * sizeof(int));
    t->startk = malloc((cap + 1) * sizeof(int));
    t->ret = malloc(cap * sizeof(double)), t->adv = malloc(cap * sizeof(double));
    t->logp_old = malloc(cap * sizeof(double)), t->logp_new = malloc(cap * sizeof(double));
    t->w = malloc(cap * sizeof(double)), t->advk = malloc(cap * sizeof(double));
    if (!t->info || !t->act || !t->player || !t->game || !t->startk || !t->ret || !t->adv ||
        !t->logp_old || !t->logp_new || !t->w || !t->advk) {
        vkt_rl_tabular_free(t);
        return vkt_fail(err, VKT_ERR_NOMEM, "tabular: buffers for %d decisions", cap);
    }
    return VKT_OK;
}

// log softmax of the row's two logits.
static void log_probs(const double *z, double *lp) {
    double mx = z[0] > z[1] ? z[0] : z[1];
    double lse = mx + log(exp(z[0] - mx) + exp(z[1] - mx));
    lp[0] = z[0] - lse, lp[1] = z[1] - lse;
}

void vkt_rl_tabular_policy(const vkt_rl_tabular *t, vkt_kuhn_policy *pi) {
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) {
        double lp[2];
        log_probs(t->z[i], lp);
        pi->bet[i] = exp(lp[1]);
    }
}

// Own reach probability of information state i under pi: only player 0's "cpb" states
// need player 0's earlier pass; chance is the same for every state and cancels.
static double own_reach(const vkt_kuhn_policy *pi, int i) {
    int card = i / 4, h = i % 4;
    return h == 3 ? 1.0 - pi->bet[card * 4] : 1.0;
}

void vkt_rl_tabular_avg_policy(const vkt_rl_tabular *t, bool reach_weighted, vkt_kuhn_policy *pi) {
    vkt_kuhn_policy latest;
    vkt_rl_tabular_policy(t, &latest);
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) {
        double num = reach_weighted ? t->reach_num[i] : t->avg_num[i];
        double den = reach_weighted ? t->reach_den[i] : t->avg_den;
        pi->bet[i] = den > 0 ? num / den : latest.bet[i];
    }
}

// Plays one hand of Kuhn with the current table, appending its decisions.
static vkt_status play_game(vkt_rl_tabular *t, int gi, int *nd, double *r, vkt_error *err) {
    vkt_game g;
    VKT_TRY(vkt_game_create(&g, "kuhn", err));
    VKT_TRY(vkt_game_reset(&g, vkt_rng_derive(t->o.seed, (uint64_t)t->games + (uint64_t)gi), err));
    while (!vkt_game_is_terminal(&g)) {
        char name[8];
        vkt_kuhn_info_state(&g, name);
        int i = vkt_kuhn_infostate_index(name);
        if (i < 0 || *nd >= t->cap)
            return vkt_fail(err, VKT_ERR_ARG, "tabular: unexpected state '%s'", name);
        double lp[2];
        log_probs(t->z[i], lp);
        int a = vkt_rng_uniform(&t->rng) < exp(lp[1]) ? VKT_KUHN_BET : VKT_KUHN_PASS;
        int d = (*nd)++;
        t->info[d] = i, t->act[d] = a, t->player[d] = vkt_game_current_player(&g), t->game[d] = gi;
        t->logp_old[d] = lp[a];
        VKT_TRY(vkt_game_apply(&g, a, err));
    }
    vkt_game_returns(&g, r);
    return VKT_OK;
}

vkt_status vkt_rl_tabular_update(vkt_rl_tabular *t, vkt_rl_tabular_stats *stats, vkt_error *err) {
    const int G = t->o.games_per_update;
    // The policy that plays this update's games enters the averages.
    vkt_kuhn_policy pi;
    vkt_rl_tabular_policy(t, &pi);
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) {
        double reach = own_reach(&pi, i);
        t->avg_num[i] += G * pi.bet[i];
        t->reach_num[i] += G * reach * pi.bet[i];
        t->reach_den[i] += G * reach;
    }
    t->avg_den += G;

    // 1. rollouts; returns by game and seat.
    int nd = 0, first = 0;
    double ret_sum0 = 0;
    for (int gi = 0; gi < G; gi++) {
        double r[2];
        VKT_TRY(play_game(t, gi, &nd, r, err));
        ret_sum0 += r[0];
        // 2a. RAE/none: every decision of seat p in this game gets that seat's A.
        double A[2] = {r[0], r[1]};
        if (t->o.adv == VKT_RL_ADV_RAE)
            for (int p = 0; p < 2; p++) VKT_TRY(vkt_rae_advantage(&t->rae, 0, p, r[p], &A[p], err));
        for (int d = first; d < nd; d++) t->ret[d] = r[t->player[d]], t->adv[d] = A[t->player[d]];
        first = nd;
    }
    t->games += G;
    // 2b. group: the information state is the observation.
    if (t->o.adv == VKT_RL_ADV_GROUP) {
        uint64_t *key = malloc((size_t)nd * sizeof *key);
        if (!key) return vkt_fail(err, VKT_ERR_NOMEM, "tabular: group keys");
        for (int d = 0; d < nd; d++) key[d] = (uint64_t)t->info[d];
        vkt_status s = vkt_rl_group_advantages(nd, key, t->ret, t->adv, err);
        free(key);
        VKT_TRY(s);
    }
    // 3. keep A != 0, compacted in place (each decision is one 1-token sequence).
    int K = 0;
    for (int d = 0; d < nd; d++) {
        if (t->adv[d] == 0) continue;
        t->info[K] = t->info[d], t->act[K] = t->act[d], t->logp_old[K] = t->logp_old[d],
        t->advk[K] = t->adv[d];
        K++;
    }
    for (int k = 0; k <= K; k++) t->startk[k] = k;
    vkt_rl_tabular_stats st = {.decisions = nd, .kept = K, .mean_return_p0 = ret_sum0 / G};
    t->updates++;
    if (K == 0) {
        if (stats) *stats = st;
        return VKT_OK;
    }
    vkt_pg_batch b = {.B = K, .start = t->startk, .adv = t->advk, .logp_old = t->logp_old};
    const double n = 1.0 / K; // both normalisations: K one-token sequences, max_len 1
    for (int e = 0; e < t->o.ppo_epochs; e++) {
        for (int k = 0; k < K; k++) {
            double lp[2];
            log_probs(t->z[t->info[k]], lp);
            t->logp_new[k] = lp[t->act[k]];
        }
        VKT_TRY(vkt_pg_weights(&t->o.pg, &b, t->logp_new, t->w, &st.pg, err));
        double gz[VKT_KUHN_INFOSTATES][2] = {{0}};
        for (int k = 0; k < K; k++) {
            const int i = t->info[k];
            double lp[2];
            log_probs(t->z[i], lp);
            for (int j = 0; j < 2; j++) gz[i][j] += t->w[k] * (exp(lp[j]) - (j == t->act[k]));
            if (t->o.entropy_coef > 0) { // loss -c n H: dH/dz_j = -p_j (log p_j + H)
                double H = -(exp(lp[0]) * lp[0] + exp(lp[1]) * lp[1]);
                for (int j = 0; j < 2; j++)
                    gz[i][j] += t->o.entropy_coef * n * exp(lp[j]) * (lp[j] + H);
            }
        }
        double norm = 0;
        for (int i = 0; i < VKT_KUHN_INFOSTATES; i++)
            norm += gz[i][0] * gz[i][0] + gz[i][1] * gz[i][1];
        norm = sqrt(norm);
        st.grad_norm = norm;
        double scale =
            t->o.max_grad_norm > 0 && norm > t->o.max_grad_norm ? t->o.max_grad_norm / norm : 1.0;
        t->step++;
        const double b1 = t->o.beta1, b2 = t->o.beta2;
        const double c1 = 1 - pow(b1, t->step), c2 = 1 - pow(b2, t->step);
        for (int i = 0; i < VKT_KUHN_INFOSTATES; i++)
            for (int j = 0; j < 2; j++) {
                double g = gz[i][j] * scale;
                t->m[i][j] = b1 * t->m[i][j] + (1 - b1) * g;
                t->v[i][j] = b2 * t->v[i][j] + (1 - b2) * g * g;
                t->z[i][j] -= t->o.lr * (t->m[i][j] / c1) / (sqrt(t->v[i][j] / c2) + t->o.adam_eps);
            }
    }
    if (stats) *stats = st;
    return VKT_OK;
}
