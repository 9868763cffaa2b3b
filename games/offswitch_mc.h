// offswitch_mc.h: Monte Carlo estimates of the off-switch game's V(wait) and P(off | wait),
// for many (prior, human) configurations at once (a whole sweep grid in one call).
//
// The sampling scheme is fixed so that every device draws the same samples:
//   key     = (seed & 0xffffffff, seed >> 32)
//   counter = (i & 0xffffffff, i >> 32, c, 0)      sample i of configuration c
//   w[0..3] = Philox4x32-10(counter, key)            (philox.h)
//   u(w)    = (w + 0.5) / 2^32                       in (0, 1)
//   z       = sqrt(-2 ln u(w0)) cos(2 pi u(w1))      Box-Muller, cosine branch only
//   NORMAL   U = mu + sigma z
//   UNIFORM  U = lo + (hi - lo) u(w0)
//   MIXTURE  k = first k with u(w2) < weight[0] + ... + weight[k] (else n - 1);
//            U = value[k] + spread[k] z
//   DISCRETE k as for MIXTURE; U = value[k]
//   SAMPLES  k = (w2 * n_samples) >> 32 (64-bit product); U = samples[k]
//   (w3 is unused: reserved for H's coin when a game needs it)
// Each sample contributes x = pi_H(U) U and y = 1 - pi_H(U) (H's choice is averaged out
// exactly, a Rao-Blackwellised estimate). Reductions keep (count, mean, M2) per block of
// consecutive samples and merge blocks with Chan's formula in double, so sums stay
// accurate at 1e9 samples and the standard error never comes from sum-of-squares
// cancellation. A float shader reproduces the integers exactly and the values to float
// rounding.
#ifndef VKT_OFFSWITCH_MC_H
#define VKT_OFFSWITCH_MC_H

#include <stdint.h>

#include "offswitch.h"
#include "status.h"

struct vkt_ctx; // runtime's device context (opaque here)

// One configuration: a prior and a human. Plain data (a SAMPLES prior points at its data).
typedef struct vkt_offswitch_config {
    vkt_offswitch_prior prior;
    vkt_offswitch_human human;
} vkt_offswitch_config;

typedef struct vkt_offswitch_mc_result {
    double v_wait;    // mean of pi_H(U) U
    double v_wait_se; // its standard error, sd / sqrt(samples)
    double p_off;     // mean of 1 - pi_H(U)
    double p_off_se;
} vkt_offswitch_mc_result;

// A long estimate's progress: fn(user, done, total), samples done over every configuration,
// called from the estimating thread after each block of 4096 samples on the CPU reference,
// and on a device after each range of blocks (up to 1024 a configuration; a run of fewer than
// 131072 samples a configuration reports only its end). The caller decides what to print, and how
// often.
typedef struct vkt_offswitch_mc_progress {
    void (*fn)(void *user, uint64_t done, uint64_t total);
    void *user;
} vkt_offswitch_mc_progress;

// Estimates every configuration with `samples` (>= 2) samples each from `seed` on the CPU;
// out has n_configs entries. Priors far from unit scale (beyond 2^+-20) run in a rescaled
// unit (offswitch_mc.c), so 1e300 neither overflows nor loses the moments.
vkt_status vkt_offswitch_mc(const vkt_offswitch_config *configs, uint32_t n_configs,
                            uint64_t samples, uint64_t seed, vkt_offswitch_mc_result *out,
                            vkt_error *err);
// The same, reporting progress to pg (may be NULL); the results are the same bits.
vkt_status vkt_offswitch_mc_ex(const vkt_offswitch_config *configs, uint32_t n_configs,
                               uint64_t samples, uint64_t seed, const vkt_offswitch_mc_progress *pg,
                               vkt_offswitch_mc_result *out, vkt_error *err);

// The CPU reference of the same estimate (plain loop, one thread, no rescaling); _ex reports
// progress.
vkt_status vkt_offswitch_mc_cpu(const vkt_offswitch_config *configs, uint32_t n_configs,
                                uint64_t samples, uint64_t seed, vkt_offswitch_mc_result *out,
                                vkt_error *err);
vkt_status vkt_offswitch_mc_cpu_ex(const vkt_offswitch_config *configs, uint32_t n_configs,
                                   uint64_t samples, uint64_t seed,
                                   const vkt_offswitch_mc_progress *pg,
                                   vkt_offswitch_mc_result *out, vkt_error *err);

// vkt_offswitch_mc(_ex) on a device (shaders/offswitch_mc.comp through
// runtime/op_offswitch_mc.h), drawing the same samples, rescaled the same way (the shader
// holds floats); reports into ctx (vkt_ctx_message).
vkt_status vkt_offswitch_mc_device_run(struct vkt_ctx *ctx, const vkt_offswitch_config *configs,
                                       uint32_t n_configs, uint64_t samples, uint64_t seed,
                                       vkt_offswitch_mc_result *out);
vkt_status vkt_offswitch_mc_device_run_ex(struct vkt_ctx *ctx, const vkt_offswitch_config *configs,
                                          uint32_t n_configs, uint64_t samples, uint64_t seed,
                                          const vkt_offswitch_mc_progress *pg,
                                          vkt_offswitch_mc_result *out);
// The device run without the rescaling (what the two above call): priors of ordinary scale.
vkt_status vkt_offswitch_mc_device_plain(struct vkt_ctx *ctx, const vkt_offswitch_config *configs,
                                         uint32_t n_configs, uint64_t samples, uint64_t seed,
                                         const vkt_offswitch_mc_progress *pg,
                                         vkt_offswitch_mc_result *out);

// Sample i of configuration c (the value of U), as defined above: for tests and for
// checking a device's samples one by one.
double vkt_offswitch_mc_sample(const vkt_offswitch_prior *p, uint32_t c, uint64_t i, uint64_t seed);

#endif
