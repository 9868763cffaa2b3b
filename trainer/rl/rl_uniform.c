// rl_uniform.c: rows and weights of the KL-to-uniform term (see rl_uniform.h).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rl_uniform.h"

void vkt_rl_uniform_free(vkt_rl_uniform *u) {
    free(u->rows), free(u->weight), free(u->visits), free(u->n_legal);
    memset(u, 0, sizeof *u);
}

static bool same_prompt(const vkt_rl_turn *a, const vkt_rl_turn *b) {
    return a->obs_key == b->obs_key && a->n_prompt == b->n_prompt &&
           !memcmp(a->prompt, b->prompt, (size_t)a->n_prompt * sizeof *a->prompt);
}

vkt_status vkt_rl_uniform_build(const vkt_rl_rollout *r, double C, vkt_rl_uniform *u,
                                vkt_error *err) {
    memset(u, 0, sizeof *u);
    if (!(C > 0) || !isfinite(C))
        return vkt_fail(err, VKT_ERR_ARG, "kl-uniform: coefficient %g must be > 0", C);
    const int N = r->n_turns;
    for (int k = 0; k < N; k++)
        if (r->turns[k].n_legal < 1)
            return vkt_fail(err, VKT_ERR_ARG,
                            "kl-uniform: turn %d (game %d) has no legal answers recorded", k,
                            r->turns[k].game);
    // States by prompt: an open-addressing table of first turns, keyed by the prompt hash
    // (prompts compared in full, so a hash collision cannot merge two states).
    int cap = 16;
    while (cap < 2 * N) cap *= 2;
    int *slot = malloc((size_t)cap * sizeof *slot),
        *first = malloc(((size_t)N + 1) * sizeof *first);
    u->visits = calloc((size_t)N + 1, sizeof *u->visits);
    u->n_legal = malloc(((size_t)N + 1) * sizeof *u->n_legal);
    vkt_status st = VKT_OK;
    if (!slot || !first || !u->visits || !u->n_legal)
        st = vkt_fail(err, VKT_ERR_NOMEM, "kl-uniform: %d turns", N);
    if (st == VKT_OK) memset(slot, 0xff, (size_t)cap * sizeof *slot);
    int rows = 0;
    for (int k = 0; st == VKT_OK && k < N; k++) {
        const vkt_rl_turn *t = &r->turns[k];
        size_t h = (size_t)(t->obs_key ^ (t->obs_key >> 29)) & (size_t)(cap - 1);
        while (slot[h] >= 0 && !same_prompt(&r->turns[first[slot[h]]], t))
            h = (h + 1) & (size_t)(cap - 1);
        if (slot[h] < 0) {
            slot[h] = u->n_states, first[u->n_states] = k, u->n_legal[u->n_states] = t->n_legal;
            rows += t->n_legal, u->n_states++;
        }
        u->visits[slot[h]]++;
    }
    if (st == VKT_OK) {
        u->rows = malloc(((size_t)rows + 1) * sizeof *u->rows),
        u->weight = malloc(((size_t)rows + 1) * sizeof *u->weight);
        if (!u->rows || !u->weight) st = vkt_fail(err, VKT_ERR_NOMEM, "kl-uniform: %d rows", rows);
    }
    for (int s = 0; st == VKT_OK && s < u->n_states; s++) {
        const vkt_rl_turn *t = &r->turns[first[s]];
        for (int a = 0; a < t->n_legal; a++) {
            u->rows[u->n_rows] =
                (vkt_rl_uniform_row){t->prompt, t->n_prompt, t->legal_tok + t->legal_off[a],
                                     t->legal_off[a + 1] - t->legal_off[a], s};
            u->weight[u->n_rows++] = C * u->visits[s] / ((double)N * t->n_legal);
        }
    }
    u->decisions = N;
    free(slot), free(first);
    if (st != VKT_OK) vkt_rl_uniform_free(u);
    return st;
}

void vkt_rl_uniform_stats(const vkt_rl_uniform *u, const float *const *logp, double *kl,
                          double *mass, double *value) {
    double k_sum = 0, m_sum = 0, v_sum = 0;
    for (int i = 0; i < u->n_rows;) {
        const int s = u->rows[i].state, n = u->n_legal[s];
        double lp[VKT_RL_LEGAL_MAX], mx = -INFINITY, m = 0, kls = 0;
        for (int a = 0; a < n; a++) {
            lp[a] = 0;
            for (int j = 0; j < u->rows[i + a].n_answer; j++) lp[a] += logp[i + a][j];
            if (lp[a] > mx) mx = lp[a];
        }
        for (int a = 0; a < n; a++) m += exp(lp[a] - mx);
        const double log_m = mx + log(m); // log of the legal mass
        // L_U is the weighted CE of the rows themselves: sum_i weight_i * -log pi(answer_i).
        for (int a = 0; a < n; a++)
            v_sum -= u->weight[i + a] * lp[a], kls += (log(1.0 / n) - (lp[a] - log_m)) / n;
        k_sum += u->visits[s] * kls, m_sum += u->visits[s] * exp(log_m);
        i += n;
    }
    const double D = u->decisions > 0 ? u->decisions : 1;
    *kl = k_sum / D, *mass = m_sum / D, *value = v_sum;
}
