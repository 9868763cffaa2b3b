// test_rl_advantage.c: RAE arithmetic (baseline read before the update, per game and
// role), no-RAE, and per-state group advantages (leave-one-out mean, population sd,
// singletons and constant groups dropped), group-mean (the same without sd), all against
// hand-computed numbers.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "rl_advantage.h"

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-12)

static void test_rae_sequence(void **st) {
    (void)st;
    vkt_rae r;
    vkt_rae_init(&r, VKT_RL_RAE_ALPHA);
    double A;
    // Role 0 of game 0 sees returns 1, -1, 2:
    //   A1 = 1 - 0 = 1,             b = 0.05*1 = 0.05
    //   A2 = -1 - 0.05 = -1.05,     b = 0.95*0.05 + 0.05*(-1) = -0.0025
    //   A3 = 2 - (-0.0025) = 2.0025, b = 0.95*(-0.0025) + 0.05*2 = 0.097625
    assert_int_equal(vkt_rae_advantage(&r, 0, 0, 1, &A, NULL), VKT_OK);
    NEAR(A, 1.0);
    NEAR(r.b[0][0], 0.05);
    assert_int_equal(vkt_rae_advantage(&r, 0, 0, -1, &A, NULL), VKT_OK);
    NEAR(A, -1.05);
    NEAR(r.b[0][0], -0.0025);
    // Another role and another game keep their own baselines (still 0).
    assert_int_equal(vkt_rae_advantage(&r, 0, 1, -1, &A, NULL), VKT_OK);
    NEAR(A, -1.0);
    NEAR(r.b[0][1], -0.05);
    assert_int_equal(vkt_rae_advantage(&r, 3, 0, 0.5, &A, NULL), VKT_OK);
    NEAR(A, 0.5);
    assert_int_equal(vkt_rae_advantage(&r, 0, 0, 2, &A, NULL), VKT_OK);
    NEAR(A, 2.0025);
    NEAR(r.b[0][0], 0.097625);
    assert_int_equal((int)r.updates[0][0], 3);
    // A return equal to the baseline gives A = 0 exactly (dropped).
    vkt_rae_init(&r, 0.5);
    assert_int_equal(vkt_rae_advantage(&r, 0, 0, 2, &A, NULL), VKT_OK); // A 2, b 1
    assert_int_equal(vkt_rae_advantage(&r, 0, 0, 1, &A, NULL), VKT_OK);
    assert_true(A == 0.0);
    vkt_error err = {0};
    assert_int_equal(vkt_rae_advantage(&r, VKT_RL_MAX_GAMES, 0, 1, &A, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "game"));
    assert_int_equal(vkt_rae_advantage(&r, 0, 2, 1, &A, NULL), VKT_ERR_ARG);
}

static void test_group(void **st) {
    (void)st;
    // Group 7: returns 1, -1, 2 -> mean 2/3, population var ((1/3)^2+(5/3)^2+(4/3)^2)/3
    // = 14/9, sd = sqrt(14)/3. Leave-one-out: A = (1 - 0.5)/sd, (-1 - 1.5)/sd, (2 - 0)/sd.
    // Group 3 is a singleton (A 0); group 9 has equal returns (A 0); group 5: 0.1 x 3 (A 0
    // although the floating mean of the others differs from 0.1 in the last bit).
    const uint64_t key[] = {7, 3, 9, 7, 9, 7, 5, 5, 5};
    const double R[] = {1, 5, 1, -1, 1, 2, 0.1, 0.1, 0.1};
    double A[9];
    assert_int_equal(vkt_rl_group_advantages(9, key, R, A, NULL), VKT_OK);
    const double sd = sqrt(14.0) / 3 + VKT_RL_GROUP_EPS;
    NEAR(A[0], 0.5 / sd);
    NEAR(A[3], -2.5 / sd);
    NEAR(A[5], 2.0 / sd);
    assert_true(A[1] == 0 && A[2] == 0 && A[4] == 0 && A[6] == 0 && A[7] == 0 && A[8] == 0);
    bool keep[9];
    assert_int_equal(vkt_rl_adv_keep(9, A, keep), 3);
    assert_true(keep[0] && keep[3] && keep[5] && !keep[1]);
    // Two samples: A = +-(R1 - R2)/(|R1 - R2|/2) = +-2 (population sd of two is half the gap).
    const uint64_t k2[] = {1, 1};
    const double R2[] = {3, -1};
    assert_int_equal(vkt_rl_group_advantages(2, k2, R2, A, NULL), VKT_OK);
    assert_true(fabs(A[0] - 4.0 / (2.0 + VKT_RL_GROUP_EPS)) < 1e-12 &&
                fabs(A[1] + 4.0 / (2.0 + VKT_RL_GROUP_EPS)) < 1e-12);
    assert_int_equal(vkt_rl_group_advantages(0, NULL, NULL, NULL, NULL), VKT_OK);
    assert_int_equal(vkt_rl_group_advantages(-1, NULL, NULL, NULL, NULL), VKT_ERR_ARG);
}

static void test_group_mean(void **st) {
    (void)st;
    // The groups of test_group without the division: A = R_i - mean of the others.
    const uint64_t key[] = {7, 3, 9, 7, 9, 7, 5, 5, 5};
    const double R[] = {1, 5, 1, -1, 1, 2, 0.1, 0.1, 0.1};
    double A[9];
    assert_int_equal(vkt_rl_group_mean_advantages(9, key, R, A, NULL), VKT_OK);
    NEAR(A[0], 0.5);
    NEAR(A[3], -2.5);
    NEAR(A[5], 2.0);
    assert_true(A[1] == 0 && A[2] == 0 && A[4] == 0 && A[6] == 0 && A[7] == 0 && A[8] == 0);
    // Stakes are kept: scaling the returns scales the advantages (group would not change).
    const uint64_t k2[] = {1, 1};
    const double small[] = {0.03, -0.01};
    assert_int_equal(vkt_rl_group_mean_advantages(2, k2, small, A, NULL), VKT_OK);
    NEAR(A[0], 0.04);
    NEAR(A[1], -0.04);
    assert_int_equal(vkt_rl_group_mean_advantages(-1, NULL, NULL, NULL, NULL), VKT_ERR_ARG);
}

static void test_parse(void **st) {
    (void)st;
    vkt_rl_adv_mode m;
    assert_int_equal(vkt_rl_adv_mode_parse("group", &m, NULL), VKT_OK);
    assert_int_equal(m, VKT_RL_ADV_GROUP);
    assert_int_equal(vkt_rl_adv_mode_parse("none", &m, NULL), VKT_OK);
    assert_string_equal(vkt_rl_adv_mode_name(m), "none");
    assert_int_equal(vkt_rl_adv_mode_parse("group-mean", &m, NULL), VKT_OK);
    assert_int_equal(m, VKT_RL_ADV_GROUP_MEAN);
    assert_string_equal(vkt_rl_adv_mode_name(m), "group-mean");
    assert_int_equal(vkt_rl_adv_mode_parse("auto", &m, NULL), VKT_OK);
    assert_string_equal(vkt_rl_adv_mode_name(m), "auto");
    vkt_error err = {0};
    assert_int_equal(vkt_rl_adv_mode_parse("grpo", &m, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "grpo"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rae_sequence),
        cmocka_unit_test(test_group),
        cmocka_unit_test(test_group_mean),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
