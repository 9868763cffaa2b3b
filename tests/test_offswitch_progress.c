// test_offswitch_progress.c: the off-switch Monte Carlo's progress hook. The CPU reference
// reports samples done after each block, rising to the total over every configuration, with
// the same result bits as without the hook; `vkt offswitch` prints no progress line on a
// short run (the first comes after 2 s) and its printed result is unchanged.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "offswitch_mc.h"
#include "support_cli.h"
#include "support_gpu.h"

typedef struct seen {
    int calls;
    uint64_t last, total;
    int backwards;
} seen;

static void record(void *user, uint64_t done, uint64_t total) {
    seen *s = user;
    if (done < s->last) s->backwards++;
    s->calls++, s->last = done, s->total = total;
}

static void test_cpu_progress(void **state) {
    (void)state;
    vkt_offswitch_config cfg[2];
    memset(cfg, 0, sizeof cfg);
    for (int c = 0; c < 2; c++) {
        cfg[c].prior.family = VKT_OFFSWITCH_NORMAL, cfg[c].prior.mu = 0.1 * c,
        cfg[c].prior.sigma = 1;
        cfg[c].human.kind = VKT_OFFSWITCH_RATIONAL;
    }
    vkt_offswitch_mc_result a[2], b[2];
    vkt_error err = {0};
    seen s = {0};
    vkt_offswitch_mc_progress pg = {record, &s};
    assert_int_equal(vkt_offswitch_mc_ex(cfg, 2, 10000, 3, &pg, a, &err), VKT_OK);
    assert_int_equal(vkt_offswitch_mc(cfg, 2, 10000, 3, b, &err), VKT_OK);
    assert_memory_equal(a, b, sizeof a); // the hook changes nothing
    assert_int_equal(s.calls, 2 * 3);    // 3 blocks of 4096 per configuration
    assert_int_equal(s.backwards, 0);
    assert_true(s.last == 20000 && s.total == 20000);
}

// On a device, a run of 32 blocks or more is dispatched in ranges of blocks with a report after
// each: samples done rise to the total, and the result has the bits of the one-dispatch run.
static void test_device_progress(void **state) {
    (void)state;
    vkt_ctx *ctx = test_ctx();
    vkt_offswitch_config cfg[2];
    memset(cfg, 0, sizeof cfg);
    for (int c = 0; c < 2; c++) {
        cfg[c].prior.family = VKT_OFFSWITCH_NORMAL, cfg[c].prior.mu = 0.2 * c - 0.1,
        cfg[c].prior.sigma = 1.5;
        cfg[c].human.kind = VKT_OFFSWITCH_BOLTZMANN, cfg[c].human.beta = 0.7;
    }
    vkt_offswitch_mc_result a[2], b[2];
    seen s = {0};
    vkt_offswitch_mc_progress pg = {record, &s};
    const uint64_t n = 1000003; // 245 blocks of 4096, the last one short
    TEST_OK(ctx, vkt_offswitch_mc_device_run_ex(ctx, cfg, 2, n, 5, &pg, a));
    TEST_OK(ctx, vkt_offswitch_mc_device_run(ctx, cfg, 2, n, 5, b));
    assert_memory_equal(a, b, sizeof a);
    assert_true(s.calls >= 15); // 15 ranges (14 of 17 blocks, one of 7), each reported, and the end
    assert_int_equal(s.backwards, 0);
    assert_true(s.last == 2 * n && s.total == 2 * n);
    test_ctx_done(ctx);
}

static void test_cli_short_run_quiet(void **state) {
    (void)state;
    if (!test_cli_available()) return;
    char *out = NULL, *err = NULL;
    assert_int_equal(
        test_cli("offswitch --prior normal:mu=0.1,sigma=1 --human rational --samples 20000 --cpu",
                 NULL, &out, &err),
        0);
    if (strstr(err, "Monte Carlo")) fail_msg("%s", err);
    assert_non_null(strstr(out, "MC V(wait)"));
    free(out), free(err);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpu_progress),
        cmocka_unit_test(test_device_progress),
        cmocka_unit_test(test_cli_short_run_quiet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
