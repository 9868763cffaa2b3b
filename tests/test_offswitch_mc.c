// test_offswitch_mc.c: the off-switch Monte Carlo (CPU reference) and its RNG.
// Philox4x32-10 against Random123's published known answers; estimates against the
// exact values within 4 standard errors for every prior family and human model.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "offswitch.h"
#include "offswitch_mc.h"
#include "philox.h"

// Random123 tests/kat_vectors, the three "philox4x32 10" lines: counter[4] key[2] -> out[4].
static void test_philox_kat(void **state) {
    const uint32_t kat[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d,
         0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09,
         0x94fdcceb, 0x5001e420, 0x24126ea1},
    };
    for (int t = 0; t < 3; t++) {
        vkt_philox4 c = {{kat[t][0], kat[t][1], kat[t][2], kat[t][3]}};
        vkt_philox4 r = vkt_philox4x32_10(c, kat[t][4], kat[t][5]);
        for (int j = 0; j < 4; j++) assert_int_equal(r.v[j], kat[t][6 + j]);
    }
    assert_true(vkt_philox_u01(0) > 0 && vkt_philox_u01(0xffffffffu) < 1);
}

static char samples_path[64];

static void parse(const char *ps, const char *hs, vkt_offswitch_config *c) {
    vkt_error err = {0};
    if (vkt_offswitch_prior_parse(ps, &c->prior, &err) != VKT_OK) fail_msg("%s", err.msg);
    if (vkt_offswitch_human_parse(hs, &c->human, &err) != VKT_OK) fail_msg("%s", err.msg);
}

// Every family x every human in one call; |MC - exact| <= 4 SE for V(wait) and P(off).
static void test_mc_agrees_with_exact(void **state) {
    FILE *f = fopen(samples_path, "w");
    assert_non_null(f);
    for (int i = 0; i < 200; i++) fprintf(f, "%.17g\n", sin(i * 0.7) * 1.3 + 0.1);
    fclose(f);
    char sspec[96];
    snprintf(sspec, sizeof sspec, "samples:%s", samples_path);
    const char *priors[] = {"normal:mu=0.3,sigma=1.2",
                            "uniform:lo=-1,hi=0.6",
                            "discrete:-1@0.3;0.5@0.5;2@0.2",
                            "mixture:0.3*normal(mu=-1,sigma=0.5)+0.7*normal(mu=1,sigma=0.2)",
                            sspec,
                            "normal:mu=-0.25,sigma=0.6"};
    const char *humans[] = {"rational", "boltzmann:beta=0.5", "noisy:eps=0.1",
                            "boltzmann:beta=0.05"};
    enum { NP = 6, NH = 4, N = NP * NH };
    vkt_offswitch_config cfg[N];
    for (int i = 0; i < NP; i++)
        for (int j = 0; j < NH; j++) parse(priors[i], humans[j], &cfg[i * NH + j]);
    vkt_offswitch_mc_result r[N];
    vkt_error err = {0};
    const uint64_t samples = 200000;
    if (vkt_offswitch_mc(cfg, N, samples, 42, r, &err) != VKT_OK) fail_msg("%s", err.msg);
    for (int c = 0; c < N; c++) {
        vkt_offswitch_values v;
        if (vkt_offswitch_exact(&cfg[c].prior, &cfg[c].human, &v, &err) != VKT_OK)
            fail_msg("%s", err.msg);
        double zw = fabs(r[c].v_wait - v.v_wait) / r[c].v_wait_se,
               zo = fabs(r[c].p_off - v.p_off) / r[c].p_off_se;
        if (!(zw <= 4) || !(zo <= 4))
            fail_msg("%s / %s: MC v_wait %.6f +- %.6f vs %.6f; p_off %.6f +- %.6f vs %.6f",
                     priors[c / NH], humans[c % NH], r[c].v_wait, r[c].v_wait_se, v.v_wait,
                     r[c].p_off, r[c].p_off_se, v.p_off);
        assert_true(r[c].v_wait_se > 0 && r[c].v_wait_se < 0.01);
    }
    // The standard error is sd/sqrt(n): for a normal prior and rational H the exact
    // variance of pi_H(U) U = U+ is E[U^2 1{U>=0}] - E[U+]^2.
    double mu = 0.3, s = 1.2, t = mu / s, Phi = 0.5 * erfc(-t / sqrt(2.0)),
           phi = exp(-0.5 * t * t) / sqrt(2 * M_PI);
    double m1 = mu * Phi + s * phi, m2 = (mu * mu + s * s) * Phi + mu * s * phi;
    double se = sqrt((m2 - m1 * m1) / samples);
    assert_true(fabs(r[0].v_wait_se / se - 1) < 0.02);
    for (int c = 0; c < N; c++) vkt_offswitch_prior_free(&cfg[c].prior);
    unlink(samples_path);
}

// Same seed, same numbers; another seed, other numbers; sample i depends on (seed, c, i) only.
static void test_mc_deterministic(void **state) {
    vkt_offswitch_config cfg[2];
    parse("normal:mu=0,sigma=1", "boltzmann:beta=1", &cfg[0]);
    parse("uniform:lo=-1,hi=1", "rational", &cfg[1]);
    vkt_offswitch_mc_result a[2], b[2], c[2];
    assert_int_equal(vkt_offswitch_mc_cpu(cfg, 2, 10000, 7, a, NULL), VKT_OK);
    assert_int_equal(vkt_offswitch_mc_cpu(cfg, 2, 10000, 7, b, NULL), VKT_OK);
    assert_int_equal(vkt_offswitch_mc_cpu(cfg, 2, 10000, 8, c, NULL), VKT_OK);
    assert_memory_equal(a, b, sizeof a);
    assert_true(a[0].v_wait != c[0].v_wait);
    // The first sample of configuration 1 from the documented scheme, recomputed by hand.
    vkt_philox4 ctr = {{0, 0, 1, 0}};
    vkt_philox4 w = vkt_philox4x32_10(ctr, 7, 0);
    assert_true(vkt_offswitch_mc_sample(&cfg[1].prior, 1, 0, 7) == -1 + 2 * vkt_philox_u01(w.v[0]));
    ctr = (vkt_philox4){{5, 0, 0, 0}};
    w = vkt_philox4x32_10(ctr, 7, 0);
    double z = sqrt(-2 * log(vkt_philox_u01(w.v[0]))) * cos(2 * M_PI * vkt_philox_u01(w.v[1]));
    assert_true(fabs(vkt_offswitch_mc_sample(&cfg[0].prior, 0, 5, 7) - z) < 1e-15);
    // The high word of the index and of the seed reach the counter and the key.
    assert_true(vkt_offswitch_mc_sample(&cfg[0].prior, 0, 5, 7) !=
                vkt_offswitch_mc_sample(&cfg[0].prior, 0, 5 + (1ull << 32), 7));
    assert_true(vkt_offswitch_mc_sample(&cfg[0].prior, 0, 5, 7) !=
                vkt_offswitch_mc_sample(&cfg[0].prior, 0, 5, 7 + (1ull << 32)));
}

// Priors far beyond float (and near double's) range: the estimate runs in a rescaled unit
// and agrees with the exact values (issue 22: 1e39 gave P(off) 0.499 against 0.1587).
static void test_mc_extreme_scales(void **state) {
    const char *priors[] = {"normal:mu=1e30,sigma=1e30",       "normal:mu=1e300,sigma=1e300",
                            "normal:mu=-1e300,sigma=3e300",    "uniform:lo=-1e30,hi=3e30",
                            "discrete:-1e300@0.25;2e300@0.75", "normal:mu=1e-30,sigma=1e-30"};
    const char *humans[] = {"rational", "noisy:eps=0.1"};
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 2; j++) {
            vkt_offswitch_config cfg;
            parse(priors[i], humans[j], &cfg);
            vkt_offswitch_values ex;
            vkt_offswitch_mc_result r;
            vkt_error err = {0};
            if (vkt_offswitch_exact(&cfg.prior, &cfg.human, &ex, &err) != VKT_OK)
                fail_msg("%s", err.msg);
            if (vkt_offswitch_mc(&cfg, 1, 100000, 3, &r, &err) != VKT_OK) fail_msg("%s", err.msg);
            double tol = 4 * r.v_wait_se + 1e-12 * fabs(ex.v_wait);
            if (!(isfinite(r.v_wait_se) && r.v_wait_se > 0 && fabs(r.v_wait - ex.v_wait) <= tol))
                fail_msg("%s %s: V(wait) MC %g +- %g, exact %g", priors[i], humans[j], r.v_wait,
                         r.v_wait_se, ex.v_wait);
            if (!(fabs(r.p_off - ex.p_off) <= 4 * r.p_off_se + 1e-12))
                fail_msg("%s %s: P(off) MC %g +- %g, exact %g", priors[i], humans[j], r.p_off,
                         r.p_off_se, ex.p_off);
        }
    // A Boltzmann human is rescaled with U: beta = sigma / 10 at two scales gives one P(off).
    vkt_offswitch_config a, b;
    parse("normal:mu=1,sigma=1", "boltzmann:beta=0.1", &a);
    parse("normal:mu=1e300,sigma=1e300", "boltzmann:beta=1e299", &b);
    vkt_offswitch_mc_result ra, rb;
    assert_int_equal(vkt_offswitch_mc(&a, 1, 20000, 5, &ra, NULL), VKT_OK);
    assert_int_equal(vkt_offswitch_mc(&b, 1, 20000, 5, &rb, NULL), VKT_OK);
    assert_true(fabs(ra.p_off - rb.p_off) < 1e-9);
    assert_true(fabs(rb.v_wait / 1e300 - ra.v_wait) < 1e-9);
}

static void test_mc_errors(void **state) {
    vkt_offswitch_config cfg[1];
    parse("normal:mu=0,sigma=1", "rational", &cfg[0]);
    vkt_offswitch_mc_result r[1];
    vkt_error err = {0};
    assert_int_equal(vkt_offswitch_mc(cfg, 1, 1, 0, r, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "samples=1"));
    cfg[0].prior.sigma = -1;
    assert_int_equal(vkt_offswitch_mc(cfg, 1, 100, 0, r, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "configuration 0"));
}

int main(void) {
    snprintf(samples_path, sizeof samples_path, "/tmp/vkt_offswitch_mc_%d.txt", (int)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_philox_kat),        cmocka_unit_test(test_mc_agrees_with_exact),
        cmocka_unit_test(test_mc_deterministic),  cmocka_unit_test(test_mc_errors),
        cmocka_unit_test(test_mc_extreme_scales),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
