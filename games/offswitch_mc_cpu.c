// offswitch_mc_cpu.c: the CPU reference of the off-switch Monte Carlo. It follows the
// sampling scheme of offswitch_mc.h word for word, so a device implementation can be
// checked against it sample by sample.
#include <math.h>

#include "offswitch_mc.h"
#include "philox.h"

#define TWO_PI 6.28318530717958647692
#define BLOCK 4096 // samples per (count, mean, M2) block, like one workgroup's share

// Index of the part picked by uniform u from cumulative weights (last part on rounding).
static int pick_part(const vkt_offswitch_prior *p, double u) {
    double cum = 0;
    for (int k = 0; k < p->n - 1; k++) {
        cum += p->weight[k];
        if (u < cum) return k;
    }
    return p->n - 1;
}

double vkt_offswitch_mc_sample(const vkt_offswitch_prior *p, uint32_t c, uint64_t i,
                               uint64_t seed) {
    vkt_philox4 ctr = {{(uint32_t)i, (uint32_t)(i >> 32), c, 0}};
    vkt_philox4 w = vkt_philox4x32_10(ctr, (uint32_t)seed, (uint32_t)(seed >> 32));
    double u0 = vkt_philox_u01(w.v[0]), u1 = vkt_philox_u01(w.v[1]), u2 = vkt_philox_u01(w.v[2]);
    switch (p->family) {
    case VKT_OFFSWITCH_NORMAL: return p->mu + p->sigma * sqrt(-2 * log(u0)) * cos(TWO_PI * u1);
    case VKT_OFFSWITCH_UNIFORM: return p->lo + (p->hi - p->lo) * u0;
    case VKT_OFFSWITCH_MIXTURE: {
        int k = pick_part(p, u2);
        return p->value[k] + p->spread[k] * sqrt(-2 * log(u0)) * cos(TWO_PI * u1);
    }
    case VKT_OFFSWITCH_DISCRETE: return p->value[pick_part(p, u2)];
    case VKT_OFFSWITCH_SAMPLES: return p->samples[((uint64_t)w.v[2] * p->n_samples) >> 32];
    }
    return NAN;
}

// Running (count, mean, M2) of one quantity; merged by Chan et al.'s pairwise formula.
typedef struct moments {
    double n, mean, m2;
} moments;

static void moments_add(moments *m, double x) {
    m->n += 1;
    double d = x - m->mean;
    m->mean += d / m->n;
    m->m2 += d * (x - m->mean);
}

static void moments_merge(moments *a, const moments *b) {
    if (b->n == 0) return;
    double n = a->n + b->n, d = b->mean - a->mean;
    a->mean += d * (b->n / n);
    a->m2 += b->m2 + d * d * (a->n * b->n / n);
    a->n = n;
}

static double std_error(const moments *m) { return sqrt(fmax(m->m2, 0) / (m->n - 1) / m->n); }

vkt_status vkt_offswitch_mc_cpu(const vkt_offswitch_config *configs, uint32_t n_configs,
                                uint64_t samples, uint64_t seed, vkt_offswitch_mc_result *out,
                                vkt_error *err) {
    return vkt_offswitch_mc_cpu_ex(configs, n_configs, samples, seed, NULL, out, err);
}

vkt_status vkt_offswitch_mc_cpu_ex(const vkt_offswitch_config *configs, uint32_t n_configs,
                                   uint64_t samples, uint64_t seed,
                                   const vkt_offswitch_mc_progress *pg,
                                   vkt_offswitch_mc_result *out, vkt_error *err) {
    if (samples < 2)
        return vkt_fail(err, VKT_ERR_ARG, "offswitch Monte Carlo: samples=%llu, need >= 2",
                        (unsigned long long)samples);
    for (uint32_t c = 0; c < n_configs; c++) {
        vkt_status st = vkt_offswitch_prior_check(&configs[c].prior, err);
        if (st == VKT_OK) st = vkt_offswitch_human_check(&configs[c].human, err);
        if (st != VKT_OK) return vkt_fail_wrap(err, "offswitch Monte Carlo: configuration %u", c);
        if (configs[c].prior.family == VKT_OFFSWITCH_SAMPLES &&
            configs[c].prior.n_samples > UINT32_MAX)
            return vkt_fail(err, VKT_ERR_ARG,
                            "offswitch Monte Carlo: configuration %u has more than 2^32 samples",
                            c);
    }
    for (uint32_t c = 0; c < n_configs; c++) {
        const vkt_offswitch_prior *p = &configs[c].prior;
        const vkt_offswitch_human *h = &configs[c].human;
        moments tx = {0, 0, 0}, ty = {0, 0, 0};
        for (uint64_t start = 0; start < samples; start += BLOCK) {
            uint64_t end = samples - start < BLOCK ? samples : start + BLOCK;
            moments bx = {0, 0, 0}, by = {0, 0, 0};
            for (uint64_t i = start; i < end; i++) {
                double u = vkt_offswitch_mc_sample(p, c, i, seed);
                double pi = vkt_offswitch_pi(h, u);
                moments_add(&bx, pi * u);
                moments_add(&by, 1 - pi);
            }
            moments_merge(&tx, &bx);
            moments_merge(&ty, &by);
            if (pg && pg->fn)
                pg->fn(pg->user, (uint64_t)c * samples + end, (uint64_t)n_configs * samples);
        }
        out[c].v_wait = tx.mean;
        out[c].v_wait_se = std_error(&tx);
        out[c].p_off = ty.mean;
        out[c].p_off_se = std_error(&ty);
    }
    return VKT_OK;
}
