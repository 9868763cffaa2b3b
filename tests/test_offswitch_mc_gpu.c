// test_offswitch_mc_gpu.c: the off-switch Monte Carlo kernel (shaders/offswitch_mc.comp)
// against its CPU reference (same Philox samples, so the estimates agree to float
// rounding) and against the exact values (within 4 standard errors), for every prior
// family and human model, many configurations in one dispatch.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "offswitch.h"
#include "offswitch_mc.h"
#include "support_gpu.h"

static const char *priors[] = {
    "normal:mu=0.3,sigma=1.2", "uniform:lo=-1,hi=0.5", "discrete:-1@0.3;0.5@0.5;2@0.2",
    "mixture:0.4*normal(mu=-1,sigma=0.5)+0.6*normal(mu=0.8,sigma=0.3)", NULL};
static const char *humans[] = {"rational", "boltzmann:beta=0.5", "noisy:eps=0.1"};
static double sample_values[7] = {-1.5, -0.2, 0.1, 0.4, 0.9, 1.3, -0.7};

// Every prior x human, plus a samples-file prior, as one batch.
static int make_configs(vkt_offswitch_config *cfg) {
    int n = 0;
    vkt_error err = {0};
    for (int p = 0; p <= 4; p++)
        for (int h = 0; h < 3; h++) {
            memset(&cfg[n], 0, sizeof cfg[n]);
            if (priors[p]) {
                if (vkt_offswitch_prior_parse(priors[p], &cfg[n].prior, &err) != VKT_OK)
                    fail_msg("%s", err.msg);
            } else {
                cfg[n].prior.family = VKT_OFFSWITCH_SAMPLES;
                cfg[n].prior.samples = sample_values;
                cfg[n].prior.n_samples = 7;
            }
            if (vkt_offswitch_human_parse(humans[h], &cfg[n].human, &err) != VKT_OK)
                fail_msg("%s", err.msg);
            n++;
        }
    return n;
}

static void test_device_matches_cpu(void **state) {
    vkt_ctx *ctx = test_ctx();
    vkt_offswitch_config cfg[15];
    int n = make_configs(cfg);
    vkt_offswitch_mc_result gpu[15], cpu[15], again[15];
    const uint64_t samples = 200003, seed = 0x1234567890abcdefull;
    TEST_OK(ctx, vkt_offswitch_mc_device_run(ctx, cfg, (uint32_t)n, samples, seed, gpu));
    TEST_OK(ctx, vkt_offswitch_mc_cpu(cfg, (uint32_t)n, samples, seed, cpu, vkt_ctx_err(ctx)));
    TEST_OK(ctx, vkt_offswitch_mc_device_run(ctx, cfg, (uint32_t)n, samples, seed, again));
    for (int c = 0; c < n; c++) {
        // Same samples: differences are float rounding of U (and rare part/sign flips
        // at boundaries), far below the standard error.
        double tol = 1e-5 + 0.02 * cpu[c].v_wait_se;
        if (fabs(gpu[c].v_wait - cpu[c].v_wait) > tol ||
            fabs(gpu[c].p_off - cpu[c].p_off) > 1e-5 + 0.02 * cpu[c].p_off_se)
            fail_msg("config %d: device v_wait %.8f p_off %.8f vs CPU %.8f %.8f", c, gpu[c].v_wait,
                     gpu[c].p_off, cpu[c].v_wait, cpu[c].p_off);
        assert_true(fabs(gpu[c].v_wait_se - cpu[c].v_wait_se) <= 1e-3 * cpu[c].v_wait_se + 1e-9);
        // Reproducible: the same seed gives the same bits.
        assert_memory_equal(&gpu[c], &again[c], sizeof gpu[c]);
    }
    test_ctx_done(ctx);
}

static void test_device_matches_exact(void **state) {
    vkt_ctx *ctx = test_ctx();
    vkt_offswitch_config cfg[15];
    int n = make_configs(cfg);
    vkt_offswitch_mc_result r[15];
    TEST_OK(ctx, vkt_offswitch_mc_device_run(ctx, cfg, (uint32_t)n, 2000000, 7, r));
    for (int c = 0; c < n; c++) {
        vkt_offswitch_values v;
        TEST_OK(ctx, vkt_offswitch_exact(&cfg[c].prior, &cfg[c].human, &v, vkt_ctx_err(ctx)));
        double z = fabs(r[c].v_wait - v.v_wait) / fmax(r[c].v_wait_se, 1e-12);
        double zo = fabs(r[c].p_off - v.p_off) / fmax(r[c].p_off_se, 1e-12);
        if (z > 4 || zo > 4)
            fail_msg("config %d: MC v_wait %.6f +- %.6f vs exact %.6f (z=%.2f); p_off %.6f vs %.6f "
                     "(z=%.2f)",
                     c, r[c].v_wait, r[c].v_wait_se, v.v_wait, z, r[c].p_off, v.p_off, zo);
    }
    test_ctx_done(ctx);
}

// Priors beyond float range through vkt_offswitch_mc_device_run (floats in the shader):
// rescaled, they agree with the exact values at 1e30, 1e39 and 1e300.
static void test_device_extreme_scales(void **state) {
    vkt_ctx *ctx = test_ctx();
    const char *priors[] = {"normal:mu=1e30,sigma=1e30", "normal:mu=1e39,sigma=1e39",
                            "normal:mu=1e300,sigma=1e300"};
    vkt_offswitch_config cfg[3];
    vkt_error err = {0};
    for (int c = 0; c < 3; c++) {
        if (vkt_offswitch_prior_parse(priors[c], &cfg[c].prior, &err) != VKT_OK)
            fail_msg("%s", err.msg);
        if (vkt_offswitch_human_parse("rational", &cfg[c].human, &err) != VKT_OK)
            fail_msg("%s", err.msg);
    }
    vkt_offswitch_mc_result r[3];
    TEST_OK(ctx, vkt_offswitch_mc_device_run(ctx, cfg, 3, 200000, 7, r));
    for (int c = 0; c < 3; c++) {
        vkt_offswitch_values v;
        if (vkt_offswitch_exact(&cfg[c].prior, &cfg[c].human, &v, &err) != VKT_OK)
            fail_msg("%s", err.msg);
        double z = fabs(r[c].v_wait - v.v_wait) / r[c].v_wait_se,
               zo = fabs(r[c].p_off - v.p_off) / r[c].p_off_se;
        if (!(z <= 4 && zo <= 4))
            fail_msg("%s: MC v_wait %g +- %g vs exact %g; p_off %.6f +- %.6f vs %.6f", priors[c],
                     r[c].v_wait, r[c].v_wait_se, v.v_wait, r[c].p_off, r[c].p_off_se, v.p_off);
    }
    test_ctx_done(ctx);
}

static void test_bad_calls(void **state) {
    vkt_ctx *ctx = test_ctx();
    vkt_offswitch_config cfg[15];
    make_configs(cfg);
    vkt_offswitch_mc_result r[1];
    assert_int_equal(vkt_offswitch_mc_device_run(ctx, cfg, 1, 1, 7, r), VKT_ERR_ARG);
    cfg[0].prior.sigma = -1;
    assert_int_not_equal(vkt_offswitch_mc_device_run(ctx, cfg, 1, 100, 7, r), VKT_OK);
    assert_non_null(strstr(vkt_ctx_message(ctx), "configuration 0"));
    test_ctx_done(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_device_matches_cpu),
        cmocka_unit_test(test_device_matches_exact),
        cmocka_unit_test(test_bad_calls),
        cmocka_unit_test(test_device_extreme_scales),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
