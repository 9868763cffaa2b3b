// offswitch_mc.c: picks where the off-switch Monte Carlo runs. Without a device
// context it is the CPU reference; the compute-shader path plugs in here.
#include "offswitch_mc.h"

vkt_status vkt_offswitch_mc(struct vkt_ctx *ctx, const vkt_offswitch_config *configs, uint32_t n_configs,
                            uint64_t samples, uint64_t seed, vkt_offswitch_mc_result *out, vkt_error *err) {
    if (!ctx) return vkt_offswitch_mc_cpu(configs, n_configs, samples, seed, out, err);
    return vkt_fail(err, VKT_ERR_UNSUPPORTED,
                    "offswitch Monte Carlo: the device path is not built yet (pass no device to use the CPU)");
}
