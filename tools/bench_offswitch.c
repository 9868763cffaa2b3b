// bench_offswitch.c: off-switch Monte Carlo throughput on the device (normal prior,
// Boltzmann human), the figure tools/bench_offswitch_numpy.py is compared with.
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "cli.h"
#include "offswitch_mc.h"

static const cli_cmd CMD = {
    .name = "bench offswitch",
    .usage = "usage: vkt bench offswitch [--samples N] [common options]\n",
    .about = "Off-switch Monte Carlo samples/s on the device (normal prior, Boltzmann human).\n",
};

int bench_offswitch(bench_env *env, int argc, char **argv) {
    uint64_t samples = 20000000;
    const cli_opt table[] = {
        {"--samples", CLI_OPT_U64, &samples, .metavar = "N", .help = "samples per run (>= 2)"},
        BENCH_COMMON_OPTS(env),
    };
    int rc = cli_parse(&CMD, table, argc, argv);
    if (rc != CLI_OK) return rc;
    if (samples < 2) return cli_usage_error(CMD.name, "--samples must be >= 2");
    vkt_ctx *ctx;
    if ((rc = bench_device(env, &ctx)) != CLI_OK) return rc;
    const bench_opts *o = &env->o;
    vkt_offswitch_config cfg;
    memset(&cfg, 0, sizeof cfg);
    vkt_error *err = vkt_ctx_err(ctx);
    if (vkt_offswitch_prior_parse("normal:mu=0.3,sigma=1.2", &cfg.prior, err) != VKT_OK ||
        vkt_offswitch_human_parse("boltzmann:beta=0.5", &cfg.human, err) != VKT_OK)
        return cli_fail("bench", "offswitch: %s", vkt_ctx_message(ctx));
    vkt_offswitch_mc_result r;
    // Warm-up (pipeline creation), then the median of timed runs.
    if (vkt_offswitch_mc_device_run(ctx, &cfg, 1, 1024, 1, &r) != VKT_OK)
        return cli_fail("bench", "offswitch: %s", vkt_ctx_message(ctx));
    double best[64];
    int n = 0;
    double start = cli_now_s();
    while (n < 64 && (n < o->reps || cli_now_s() - start < o->min_s)) {
        double t0 = cli_now_s();
        if (vkt_offswitch_mc_device_run(ctx, &cfg, 1, samples, 7 + (uint64_t)n, &r) != VKT_OK)
            return cli_fail("bench", "offswitch: %s", vkt_ctx_message(ctx));
        best[n++] = cli_now_s() - t0;
    }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && best[j] < best[j - 1]; j--) {
            double t = best[j];
            best[j] = best[j - 1], best[j - 1] = t;
        }
    double s = n % 2 ? best[n / 2] : 0.5 * (best[n / 2 - 1] + best[n / 2]);
    if (o->json)
        printf("{\"op\": \"offswitch_mc\", \"samples\": %llu, \"ms\": %.3f, \"samples_per_s\": "
               "%.4g, \"v_wait\": %.6f, "
               "\"se\": %.2g, \"device\": \"%s\"}\n",
               (unsigned long long)samples, s * 1e3, (double)samples / s, r.v_wait, r.v_wait_se,
               vkt_ctx_profile(ctx)->name);
    else
        printf("%-18s %-22s %-18llu %10.3f ms %9.3g samples/s  (V(wait) %.5f +- %.5f)\n",
               "offswitch_mc", "normal + boltzmann", (unsigned long long)samples, s * 1e3,
               (double)samples / s, r.v_wait, r.v_wait_se);
    fflush(stdout);
    return CLI_OK;
}
