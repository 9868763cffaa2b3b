// offswitch_mc_device.c: the off-switch Monte Carlo on a device: priors and humans
// become the kernel's plain configs (runtime/op_offswitch_mc.h), merged moments become
// estimates with standard errors.
#include <math.h>
#include <stdlib.h>

#include "buffer.h"
#include "context.h"
#include "offswitch_mc.h"
#include "op_offswitch_mc.h"

vkt_status vkt_offswitch_mc_device_plain(struct vkt_ctx *ctx, const vkt_offswitch_config *configs,
                                         uint32_t n_configs, uint64_t samples, uint64_t seed,
                                         const vkt_offswitch_mc_progress *pg,
                                         vkt_offswitch_mc_result *out) {
    vkt_error *err = vkt_ctx_err(ctx);
    if (samples < 2)
        return vkt_fail(err, VKT_ERR_ARG, "offswitch Monte Carlo: samples=%llu, need >= 2",
                        (unsigned long long)samples);
    vkt_osmc_config *k = calloc(n_configs ? n_configs : 1, sizeof *k);
    vkt_osmc_moments *m = calloc(n_configs ? n_configs : 1, sizeof *m);
    vkt_status s = (k && m) ? VKT_OK
                            : vkt_fail(err, VKT_ERR_NOMEM,
                                       "offswitch Monte Carlo: %u configurations", n_configs);
    for (uint32_t c = 0; c < n_configs && s == VKT_OK; c++) {
        const vkt_offswitch_prior *p = &configs[c].prior;
        const vkt_offswitch_human *h = &configs[c].human;
        s = vkt_offswitch_prior_check(p, err);
        if (s == VKT_OK) s = vkt_offswitch_human_check(h, err);
        if (s != VKT_OK) {
            vkt_fail_wrap(err, "offswitch Monte Carlo: configuration %u", c);
            break;
        }
        k[c].family = (uint32_t)p->family;
        k[c].human = (uint32_t)h->kind;
        k[c].mu = p->mu, k[c].sigma = p->sigma, k[c].lo = p->lo, k[c].hi = p->hi;
        k[c].beta = h->beta, k[c].eps = h->eps;
        if (p->family == VKT_OFFSWITCH_DISCRETE || p->family == VKT_OFFSWITCH_MIXTURE) {
            k[c].n = (uint32_t)p->n;
            double cum = 0;
            for (int i = 0; i < p->n && i < VKT_OSMC_MAXP; i++) {
                cum += p->weight[i];
                k[c].cum_weight[i] = cum;
                k[c].value[i] = p->value[i];
                k[c].spread[i] = p->spread[i];
            }
        } else if (p->family == VKT_OFFSWITCH_SAMPLES) {
            if (p->n_samples > UINT32_MAX)
                s = vkt_fail(err, VKT_ERR_ARG,
                             "offswitch Monte Carlo: configuration %u has more than 2^32 samples",
                             c);
            k[c].n = (uint32_t)p->n_samples;
            k[c].samples = p->samples;
        }
    }
    if (s == VKT_OK)
        s = vkt_offswitch_mc_device_ex(ctx, k, n_configs, samples, seed, pg ? pg->fn : NULL,
                                       pg ? pg->user : NULL, m);
    for (uint32_t c = 0; c < n_configs && s == VKT_OK; c++) {
        double n = m[c].n;
        out[c].v_wait = m[c].mean_x;
        out[c].v_wait_se = sqrt(fmax(m[c].m2_x, 0) / (n - 1) / n);
        out[c].p_off = m[c].mean_y;
        out[c].p_off_se = sqrt(fmax(m[c].m2_y, 0) / (n - 1) / n);
    }
    free(k);
    free(m);
    return s;
}
