// rl_loss.c: PPO-clip / REINFORCE (+ optional k3 KL) as per-token CE weights, and the
// plain reference of the loss value and gradient (see rl_loss.h).
#include <math.h>
#include <string.h>

#include "rl_loss.h"

void vkt_pg_defaults(vkt_pg_opts *o) {
    memset(o, 0, sizeof *o);
    o->kind = VKT_PG_PPO;
    o->norm = VKT_PG_NORM_SEQ_SUM_MAXLEN;
    o->clip_eps = 0.2;
    o->max_len = 1;
}

vkt_status vkt_pg_kind_parse(const char *s, vkt_pg_kind *out, vkt_error *err) {
    if (!strcmp(s, "ppo"))
        *out = VKT_PG_PPO;
    else if (!strcmp(s, "reinforce"))
        *out = VKT_PG_REINFORCE;
    else
        return vkt_fail(err, VKT_ERR_ARG, "loss '%s': expected ppo or reinforce", s);
    return VKT_OK;
}

vkt_status vkt_pg_norm_parse(const char *s, vkt_pg_norm *out, vkt_error *err) {
    if (!strcmp(s, "seq-sum-maxlen"))
        *out = VKT_PG_NORM_SEQ_SUM_MAXLEN;
    else if (!strcmp(s, "token-mean"))
        *out = VKT_PG_NORM_TOKEN_MEAN;
    else
        return vkt_fail(err, VKT_ERR_ARG, "norm '%s': expected seq-sum-maxlen or token-mean", s);
    return VKT_OK;
}

const char *vkt_pg_kind_name(vkt_pg_kind k) { return k == VKT_PG_PPO ? "ppo" : "reinforce"; }
const char *vkt_pg_norm_name(vkt_pg_norm n) {
    return n == VKT_PG_NORM_SEQ_SUM_MAXLEN ? "seq-sum-maxlen" : "token-mean";
}

vkt_status vkt_pg_check(const vkt_pg_opts *o, const vkt_pg_batch *b, vkt_error *err) {
    if (o->kind != VKT_PG_PPO && o->kind != VKT_PG_REINFORCE)
        return vkt_fail(err, VKT_ERR_ARG, "pg: unknown loss kind %d", (int)o->kind);
    if (o->norm != VKT_PG_NORM_SEQ_SUM_MAXLEN && o->norm != VKT_PG_NORM_TOKEN_MEAN)
        return vkt_fail(err, VKT_ERR_ARG, "pg: unknown normalisation %d", (int)o->norm);
    if (o->kind == VKT_PG_PPO && !(o->clip_eps > 0 && o->clip_eps < 1))
        return vkt_fail(err, VKT_ERR_ARG, "pg: clip epsilon %g must be in (0, 1)", o->clip_eps);
    if (!(o->kl_coef >= 0))
        return vkt_fail(err, VKT_ERR_ARG, "pg: kl_coef %g must be >= 0", o->kl_coef);
    if (!(o->entropy_coef >= 0) || !isfinite(o->entropy_coef))
        return vkt_fail(err, VKT_ERR_ARG, "pg: entropy_coef %g must be finite and >= 0",
                        o->entropy_coef);
    if (b->B < 1) return vkt_fail(err, VKT_ERR_ARG, "pg: batch of %d sequences (need >= 1)", b->B);
    if (!b->start || !b->adv) return vkt_fail(err, VKT_ERR_ARG, "pg: start and adv are required");
    if (b->start[0] != 0)
        return vkt_fail(err, VKT_ERR_ARG, "pg: start[0] = %d, must be 0", b->start[0]);
    int longest = 0;
    for (int s = 0; s < b->B; s++) {
        int len = b->start[s + 1] - b->start[s];
        if (len < 0) return vkt_fail(err, VKT_ERR_ARG, "pg: sequence %d has length %d", s, len);
        if (len > longest) longest = len;
    }
    if (b->start[b->B] < 1) return vkt_fail(err, VKT_ERR_ARG, "pg: batch has no tokens");
    if (o->norm == VKT_PG_NORM_SEQ_SUM_MAXLEN && o->max_len < longest)
        return vkt_fail(err, VKT_ERR_ARG,
                        "pg: max_len %d is shorter than the longest sequence (%d tokens)",
                        o->max_len, longest);
    if (o->kind == VKT_PG_PPO && !b->logp_old)
        return vkt_fail(err, VKT_ERR_ARG, "pg: ppo needs logp_old");
    if (o->kl_coef > 0 && !b->logp_ref)
        return vkt_fail(err, VKT_ERR_ARG, "pg: kl_coef %g needs logp_ref", o->kl_coef);
    return VKT_OK;
}

// n_i: the same for every token under both normalisations.
static double norm_factor(const vkt_pg_opts *o, const vkt_pg_batch *b) {
    return o->norm == VKT_PG_NORM_SEQ_SUM_MAXLEN ? 1.0 / ((double)b->B * o->max_len)
                                                 : 1.0 / b->start[b->B];
}

static double clampd(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

vkt_status vkt_pg_weights(const vkt_pg_opts *o, const vkt_pg_batch *b, const double *logp_new,
                          double *w, vkt_pg_stats *stats, vkt_error *err) {
    VKT_TRY(vkt_pg_check(o, b, err));
    const double n = norm_factor(o, b);
    int N = b->start[b->B], clipped = 0;
    double sum_ratio = 0, kl_old = 0, kl_ref = 0, ent = 0;
    for (int s = 0; s < b->B; s++) {
        for (int i = b->start[s]; i < b->start[s + 1]; i++) {
            const double A = b->adv_tok ? b->adv_tok[i] : b->adv[s];
            double wi;
            if (o->kind == VKT_PG_REINFORCE) {
                wi = A;
                sum_ratio += 1;
            } else {
                double d = b->logp_old[i] - logp_new[i];
                double rho = exp(-d);
                double c = clampd(rho, 1 - o->clip_eps, 1 + o->clip_eps);
                bool active = -A * rho >= -A * c;
                wi = active ? A * rho : 0;
                clipped += !active;
                sum_ratio += rho;
                kl_old += exp(d) - d - 1;
            }
            if (o->kl_coef > 0) {
                double d = b->logp_ref[i] - logp_new[i];
                wi += -o->kl_coef * (1 - exp(d));
                kl_ref += exp(d) - d - 1;
            }
            w[i] = n * wi;
            if (b->entropy) ent += b->entropy[i];
        }
    }
    if (stats) {
        stats->loss = vkt_pg_loss_ref(o, b, logp_new, NULL);
        stats->tokens = N;
        stats->clip_frac = (double)clipped / N;
        stats->mean_ratio = sum_ratio / N;
        stats->approx_kl_old = kl_old / N;
        stats->kl_ref = kl_ref / N;
        stats->entropy = ent / N;
    }
    return VKT_OK;
}

vkt_status vkt_pg_entropy_coefs(const vkt_pg_opts *o, const vkt_pg_batch *b, double *c,
                                vkt_error *err) {
    VKT_TRY(vkt_pg_check(o, b, err));
    const double n = norm_factor(o, b);
    for (int i = 0; i < b->start[b->B]; i++) c[i] = o->entropy_coef * n;
    return VKT_OK;
}

double vkt_pg_loss_ref(const vkt_pg_opts *o, const vkt_pg_batch *b, const double *logp_new,
                       double *grad) {
    const double n = norm_factor(o, b);
    double loss = 0;
    for (int s = 0; s < b->B; s++) {
        for (int i = b->start[s]; i < b->start[s + 1]; i++) {
            const double A = b->adv_tok ? b->adv_tok[i] : b->adv[s];
            double l, g;
            if (o->kind == VKT_PG_REINFORCE) {
                l = -A * logp_new[i];
                g = -A;
            } else {
                double rho = exp(logp_new[i] - b->logp_old[i]);
                double unclipped = -A * rho;
                double clipped = -A * clampd(rho, 1 - o->clip_eps, 1 + o->clip_eps);
                l = unclipped >= clipped ? unclipped : clipped;
                g = unclipped >= clipped ? -A * rho
                                         : 0; // d(-A rho)/dlogp = -A rho; the clipped term is flat
            }
            if (o->kl_coef > 0) {
                double d = b->logp_ref[i] - logp_new[i];
                l += o->kl_coef * (exp(d) - d - 1);
                g += o->kl_coef * (1 - exp(d));
            }
            if (o->entropy_coef != 0 && b->entropy) l -= o->entropy_coef * b->entropy[i];
            loss += n * l;
            if (grad) grad[i] = n * g;
        }
    }
    return loss;
}
