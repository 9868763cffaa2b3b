// op_offswitch_mc.h: the off-switch game's Monte Carlo as a device kernel
// (shaders/offswitch_mc.comp). Plain data in, merged moments out; games/offswitch_mc.c
// turns priors and humans into these configs and moments into estimates.
#ifndef VKT_OP_OFFSWITCH_MC_H
#define VKT_OP_OFFSWITCH_MC_H

#include <stdint.h>

#include "context.h"

#define VKT_OSMC_MAXP 32

typedef struct vkt_osmc_config {
    uint32_t family; // 0 normal, 1 uniform, 2 discrete, 3 mixture, 4 samples
    uint32_t human;  // 0 rational, 1 boltzmann, 2 noisy
    uint32_t n;      // parts (discrete, mixture) or number of samples (samples)
    double mu, sigma, lo, hi, beta, eps;
    double cum_weight[VKT_OSMC_MAXP]; // cumulative part weights
    double value[VKT_OSMC_MAXP], spread[VKT_OSMC_MAXP];
    const double *samples; // family 4: n values
} vkt_osmc_config;

// Count, mean and sum of squared deviations of x = pi_H(U) U and y = 1 - pi_H(U).
typedef struct vkt_osmc_moments {
    double n, mean_x, m2_x, mean_y, m2_y;
} vkt_osmc_moments;

// Runs `samples` samples of each configuration from `seed` on the device; out has n
// entries. Per-workgroup moments are merged on the host in double.
vkt_status vkt_offswitch_mc_device(vkt_ctx *ctx, const vkt_osmc_config *cfgs, uint32_t n,
                                   uint64_t samples, uint64_t seed, vkt_osmc_moments *out);
// The same with progress: fn(user, done, total) in samples over every configuration. A run of
// 32 blocks or more (131072 samples and up) is then dispatched in ranges of at least 16 blocks,
// at most 1024 ranges per chunk of configurations, waiting after each; the blocks and their
// merge order are the same, and so are the result's bits.
typedef void (*vkt_osmc_progress_fn)(void *user, uint64_t done, uint64_t total);
vkt_status vkt_offswitch_mc_device_ex(vkt_ctx *ctx, const vkt_osmc_config *cfgs, uint32_t n,
                                      uint64_t samples, uint64_t seed, vkt_osmc_progress_fn fn,
                                      void *user, vkt_osmc_moments *out);

#endif
