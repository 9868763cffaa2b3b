// offswitch_mc.c: the off-switch Monte Carlo on the CPU reference (offswitch_mc_cpu.c) or,
// with a device context, the compute shader (offswitch_mc_device.c). Both draw the same
// Philox samples (offswitch_mc.h); this file rescales what the two would overflow.
//
// Priors far from unit scale (|mu|, sigma, ... beyond 2^+-20) run in a rescaled unit: U / s
// with s a power of two near the prior's largest parameter, so the shader's floats neither
// overflow (1e39 is inf in float) nor lose the moments (pi U squared overflows double near
// 1e300); a Boltzmann human's beta is rescaled with U (pi_H depends on U / beta), the
// rational and noisy humans do not depend on scale. V(wait) and its standard error are
// multiplied back by s; P(off) has no unit. Powers of two make the rescaling exact.
#include <float.h>
#include <stdbool.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "offswitch_mc.h"

static double max_abs(double m, double x) { return fabs(x) > m ? fabs(x) : m; }

// The largest magnitude among the prior's parameters (the scale of its samples).
static double prior_magnitude(const vkt_offswitch_prior *p) {
    double m = 0;
    switch (p->family) {
    case VKT_OFFSWITCH_NORMAL: m = max_abs(max_abs(m, p->mu), p->sigma); break;
    case VKT_OFFSWITCH_UNIFORM: m = max_abs(max_abs(m, p->lo), p->hi); break;
    case VKT_OFFSWITCH_MIXTURE:
    case VKT_OFFSWITCH_DISCRETE:
        for (int k = 0; k < p->n && k < VKT_OFFSWITCH_MAX_PARTS; k++)
            m = max_abs(max_abs(m, p->value[k]),
                        p->family == VKT_OFFSWITCH_MIXTURE ? p->spread[k] : 0);
        break;
    case VKT_OFFSWITCH_SAMPLES:
        for (size_t i = 0; p->samples && i < p->n_samples; i++) m = max_abs(m, p->samples[i]);
        break;
    }
    return m;
}

// 1 for magnitudes in [2^-20, 2^20] (the usual case: nothing changes); else the power of
// two at or below m.
static double unit_for(double m) {
    if (!(m > 0) || !isfinite(m) || (m >= 0x1p-20 && m <= 0x1p20)) return 1;
    int e;
    frexp(m, &e);
    return ldexp(1.0, e - 1); // m / 2^(e-1) in [1, 2) (frexp: m = f 2^e, f in [0.5, 1))
}

// dst = src in units of s (dst's samples, if any, are malloc'd into *own).
static vkt_status rescale(const vkt_offswitch_config *src, double s, uint32_t c,
                          vkt_offswitch_config *dst, double **own, vkt_error *err) {
    *dst = *src;
    vkt_offswitch_prior *p = &dst->prior;
    p->mu /= s, p->sigma /= s, p->lo /= s, p->hi /= s;
    for (int k = 0; k < VKT_OFFSWITCH_MAX_PARTS; k++) p->value[k] /= s, p->spread[k] /= s;
    if (p->family == VKT_OFFSWITCH_SAMPLES && p->samples) {
        double *x = malloc((p->n_samples ? p->n_samples : 1) * sizeof *x);
        if (!x)
            return vkt_fail(err, VKT_ERR_NOMEM,
                            "offswitch Monte Carlo: out of memory (%zu bytes for configuration %u)",
                            (size_t)p->n_samples * sizeof *x, c);
        for (size_t i = 0; i < p->n_samples; i++) x[i] = src->prior.samples[i] / s;
        p->samples = *own = x;
    }
    if (dst->human.kind == VKT_OFFSWITCH_BOLTZMANN) {
        dst->human.beta /= s;
        // The shader holds beta as a float: a normal float keeps pi_H(U) = logistic(U / beta).
        if (!(dst->human.beta >= FLT_MIN) || !(dst->human.beta <= FLT_MAX))
            return vkt_fail(err, VKT_ERR_ARG,
                            "offswitch Monte Carlo: configuration %u: boltzmann beta=%g is out of "
                            "range for a prior "
                            "of scale %g (beta / scale = %g)",
                            c, src->human.beta, s, dst->human.beta);
    }
    return VKT_OK;
}

// ctx NULL: the CPU reference, reporting into err; else the device, err its context's.
static vkt_status run(struct vkt_ctx *ctx, const vkt_offswitch_config *configs, uint32_t n_configs,
                      uint64_t samples, uint64_t seed, const vkt_offswitch_mc_progress *pg,
                      vkt_offswitch_mc_result *out, vkt_error *err) {
    if (!ctx) return vkt_offswitch_mc_cpu_ex(configs, n_configs, samples, seed, pg, out, err);
    return vkt_offswitch_mc_device_plain(ctx, configs, n_configs, samples, seed, pg, out);
}

// run() in the rescaled unit where a prior needs it; err is the one channel run() reports into.
static vkt_status scaled(struct vkt_ctx *ctx, const vkt_offswitch_config *configs,
                         uint32_t n_configs, uint64_t samples, uint64_t seed,
                         const vkt_offswitch_mc_progress *pg, vkt_offswitch_mc_result *out,
                         vkt_error *err) {
    bool any = false;
    for (uint32_t c = 0; c < n_configs && !any; c++)
        any = unit_for(prior_magnitude(&configs[c].prior)) != 1;
    if (!any) return run(ctx, configs, n_configs, samples, seed, pg, out, err);
    // Check first, so a bad configuration is named as the unscaled path names it.
    for (uint32_t c = 0; c < n_configs; c++) {
        vkt_status st = vkt_offswitch_prior_check(&configs[c].prior, err);
        if (st == VKT_OK) st = vkt_offswitch_human_check(&configs[c].human, err);
        if (st != VKT_OK) return vkt_fail_wrap(err, "offswitch Monte Carlo: configuration %u", c);
    }
    vkt_offswitch_config *cf = calloc(n_configs, sizeof *cf);
    double **own = calloc(n_configs, sizeof *own), *unit = calloc(n_configs, sizeof *unit);
    vkt_status s = VKT_OK;
    if (!cf || !own || !unit)
        s = vkt_fail(err, VKT_ERR_NOMEM, "offswitch Monte Carlo: out of memory (%u configurations)",
                     n_configs);
    for (uint32_t c = 0; c < n_configs && s == VKT_OK; c++) {
        unit[c] = unit_for(prior_magnitude(&configs[c].prior));
        s = rescale(&configs[c], unit[c], c, &cf[c], &own[c], err);
    }
    if (s == VKT_OK) s = run(ctx, cf, n_configs, samples, seed, pg, out, err);
    for (uint32_t c = 0; c < n_configs && s == VKT_OK; c++)
        out[c].v_wait *= unit[c], out[c].v_wait_se *= unit[c];
    for (uint32_t c = 0; own && c < n_configs; c++) free(own[c]);
    free(cf), free(own), free(unit);
    return s;
}

vkt_status vkt_offswitch_mc(const vkt_offswitch_config *configs, uint32_t n_configs,
                            uint64_t samples, uint64_t seed, vkt_offswitch_mc_result *out,
                            vkt_error *err) {
    return scaled(NULL, configs, n_configs, samples, seed, NULL, out, err);
}

vkt_status vkt_offswitch_mc_ex(const vkt_offswitch_config *configs, uint32_t n_configs,
                               uint64_t samples, uint64_t seed, const vkt_offswitch_mc_progress *pg,
                               vkt_offswitch_mc_result *out, vkt_error *err) {
    return scaled(NULL, configs, n_configs, samples, seed, pg, out, err);
}

vkt_status vkt_offswitch_mc_device_run(struct vkt_ctx *ctx, const vkt_offswitch_config *configs,
                                       uint32_t n_configs, uint64_t samples, uint64_t seed,
                                       vkt_offswitch_mc_result *out) {
    return scaled(ctx, configs, n_configs, samples, seed, NULL, out, vkt_ctx_err(ctx));
}

vkt_status vkt_offswitch_mc_device_run_ex(struct vkt_ctx *ctx, const vkt_offswitch_config *configs,
                                          uint32_t n_configs, uint64_t samples, uint64_t seed,
                                          const vkt_offswitch_mc_progress *pg,
                                          vkt_offswitch_mc_result *out) {
    return scaled(ctx, configs, n_configs, samples, seed, pg, out, vkt_ctx_err(ctx));
}
