// offswitch_eval.c: a policy on held-out off-switch episodes (see offswitch_eval.h).
#include "offswitch_eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "offswitch_game.h"

vkt_status vkt_offswitch_eval_episodes(const char *spec, int n, uint64_t seed, vkt_game *out,
                                       vkt_error *err) {
    if (n < 1) return vkt_fail(err, VKT_ERR_ARG, "offswitch eval: %d episodes (>= 1)", n);
    for (int i = 0; i < n; i++) {
        VKT_TRY(vkt_game_create(&out[i], spec, err));
        if (!vkt_offswitch_game_episode(&out[i]))
            return vkt_fail(err, VKT_ERR_ARG, "offswitch eval: '%s' is not an offswitch game",
                            spec);
        VKT_TRY(vkt_game_reset(&out[i], vkt_rng_derive(seed, (uint64_t)i), err));
    }
    return VKT_OK;
}

// Each row a distribution over the three choices.
static vkt_status check_rows(const vkt_game *eps, int n, const double *p, vkt_error *err) {
    if (n < 1) return vkt_fail(err, VKT_ERR_ARG, "offswitch eval: %d episodes (>= 1)", n);
    for (int i = 0; i < n; i++) {
        if (!vkt_offswitch_game_episode(&eps[i]))
            return vkt_fail(err, VKT_ERR_ARG, "offswitch eval: episode %d is not an offswitch game",
                            i);
        const double *r = p + 3 * i;
        if (!(r[0] >= 0 && r[1] >= 0 && r[2] >= 0) || !(fabs(r[0] + r[1] + r[2] - 1) < 1e-6))
            return vkt_fail(
                err, VKT_ERR_ARG,
                "offswitch eval: episode %d: probabilities (%g, %g, %g) are not a distribution", i,
                r[0], r[1], r[2]);
    }
    return VKT_OK;
}

static int argmax3(const double *r) {
    return r[1] > r[0] ? (r[2] > r[1] ? 2 : 1) : (r[2] > r[0] ? 2 : 0);
}

vkt_status vkt_offswitch_eval_probs(const vkt_game *eps, int n, const double *p,
                                    vkt_offswitch_eval *out, vkt_error *err) {
    memset(out, 0, sizeof *out);
    VKT_TRY(check_rows(eps, n, p, err));
    for (int i = 0; i < n; i++) {
        const vkt_offswitch_episode *e = vkt_offswitch_game_episode(&eps[i]);
        const double *r = p + 3 * i;
        int best = (int)e->values.best, top = argmax3(r);
        double reg[3];
        for (int a = 0; a < 3; a++) {
            reg[a] = vkt_offswitch_regret(&e->values, (vkt_offswitch_choice)a);
            out->fixed_regret[a] += reg[a];
            out->regret += r[a] * reg[a];
            out->p_choice[a] += r[a];
        }
        out->agreement += r[best];
        out->argmax_agreement += top == best;
        out->argmax_regret += reg[top];
        out->oracle_value += vkt_offswitch_value_of(&e->values, e->values.best);
    }
    out->episodes = n;
    out->agreement /= n, out->regret /= n, out->argmax_agreement /= n, out->argmax_regret /= n,
        out->oracle_value /= n;
    for (int a = 0; a < 3; a++) out->fixed_regret[a] /= n, out->p_choice[a] /= n;
    out->best_fixed = out->fixed_regret[1] < out->fixed_regret[0] ? 1 : 0;
    if (out->fixed_regret[2] < out->fixed_regret[out->best_fixed]) out->best_fixed = 2;
    // The paired gap to the best fixed choice, episode by episode (second pass: its mean is known).
    double ss = 0;
    for (int i = 0; i < n; i++) {
        const vkt_offswitch_episode *e = vkt_offswitch_game_episode(&eps[i]);
        double d = -vkt_offswitch_regret(&e->values, (vkt_offswitch_choice)out->best_fixed);
        for (int a = 0; a < 3; a++)
            d += p[3 * i + a] * vkt_offswitch_regret(&e->values, (vkt_offswitch_choice)a);
        out->gap += d;
        ss += d * d;
    }
    out->gap /= n;
    double var = n > 1 ? (ss / n - out->gap * out->gap) * n / (n - 1) : 0;
    out->gap_se = var > 0 ? sqrt(var / n) : 0;
    out->beats_fixed = out->gap < -fmax(2 * out->gap_se, 1e-4);
    return VKT_OK;
}

vkt_status vkt_offswitch_agent_probs(vkt_agent *a, const vkt_game *eps, int n, uint64_t seed,
                                     double *p, vkt_error *err) {
    static const int acts[3] = {0, 1, 2};
    for (int i = 0; i < n; i++) {
        double *r = p + 3 * i;
        if (a->probs) {
            VKT_TRY(a->probs(a->self, &eps[i], 0, acts, 3, r, err));
            continue;
        }
        vkt_rng rng;
        vkt_rng_seed(&rng, vkt_rng_derive(seed, (uint64_t)i));
        int c;
        VKT_TRY(vkt_agent_act(a, &eps[i], 0, &rng, &c, err));
        if (c < 0 || c > 2)
            return vkt_fail(err, VKT_ERR_ARG,
                            "offswitch eval: agent %s: invalid move at episode %d", a->name, i);
        r[0] = r[1] = r[2] = 0, r[c] = 1;
    }
    return VKT_OK;
}

vkt_status vkt_offswitch_deference(const vkt_game *eps, int n, const double *p, double width,
                                   vkt_offswitch_bin *bins, int cap, int *nbins, vkt_error *err) {
    *nbins = 0;
    if (!(width > 0) || !isfinite(width))
        return vkt_fail(err, VKT_ERR_ARG, "offswitch deference: bin width %g must be > 0", width);
    VKT_TRY(check_rows(eps, n, p, err));
    long kmin = 0, kmax = 0;
    for (int i = 0; i < n; i++) {
        long k = (long)floor(vkt_offswitch_game_episode(&eps[i])->values.delta / width);
        if (i == 0 || k < kmin) kmin = k;
        if (i == 0 || k > kmax) kmax = k;
    }
    if (kmax - kmin + 1 > 100000)
        return vkt_fail(err, VKT_ERR_ARG, "offswitch deference: bin width %g gives too many bins",
                        width);
    int nk = (int)(kmax - kmin + 1);
    double *acc =
        calloc((size_t)nk * 7, sizeof *acc); // count, delta, theory, wait, wait^2, act, off
    if (!acc) return vkt_fail(err, VKT_ERR_NOMEM, "offswitch deference: %d bins", nk);
    for (int i = 0; i < n; i++) {
        const vkt_offswitch_episode *e = vkt_offswitch_game_episode(&eps[i]);
        double *b = acc + 7 * ((long)floor(e->values.delta / width) - kmin);
        const double *r = p + 3 * i;
        b[0] += 1, b[1] += e->values.delta, b[2] += e->values.best == VKT_OFFSWITCH_WAIT;
        b[3] += r[2], b[4] += r[2] * r[2], b[5] += r[0], b[6] += r[1];
    }
    vkt_status s = VKT_OK;
    for (int k = 0; k < nk; k++) {
        const double *b = acc + 7 * k;
        if (b[0] == 0) continue;
        if (*nbins == cap) {
            s = vkt_fail(err, VKT_ERR_ARG, "offswitch deference: more than %d bins of width %g",
                         cap, width);
            break;
        }
        double m = b[0], mw = b[3] / m, var = b[4] / m - mw * mw;
        bins[(*nbins)++] =
            (vkt_offswitch_bin){.lo = (kmin + k) * width,
                                .hi = (kmin + k + 1) * width,
                                .episodes = (int)m,
                                .mean_delta = b[1] / m,
                                .theory_wait = b[2] / m,
                                .p_wait = mw,
                                .p_wait_se = m > 1 && var > 0 ? sqrt(var / (m - 1)) : 0,
                                .p_act = b[5] / m,
                                .p_off = b[6] / m};
    }
    free(acc);
    return s;
}
