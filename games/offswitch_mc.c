// offswitch_mc.c: picks where the off-switch Monte Carlo runs: the CPU reference without
// a device context, the compute shader (offswitch_mc_device.c) with one. Both draw the
// same Philox samples (offswitch_mc.h).
#include "offswitch_mc.h"

vkt_status vkt_offswitch_mc(struct vkt_ctx *ctx, const vkt_offswitch_config *configs, uint32_t n_configs,
                            uint64_t samples, uint64_t seed, vkt_offswitch_mc_result *out, vkt_error *err) {
    if (!ctx) return vkt_offswitch_mc_cpu(configs, n_configs, samples, seed, out, err);
    return vkt_offswitch_mc_device_run(ctx, configs, n_configs, samples, seed, out, err);
}
