// test_rl_tabular.c: the tabular self-play control: determinism for a seed, the averaged
// policies' definitions after two updates, a hand-checked first REINFORCE step, and the
// acceptance run (averaged exploitability < 0.10 within 150k games, 3 seeds, RAE and
// group advantages; ~1 s in all).
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "rl_tabular.h"

static void test_deterministic(void **st) {
    (void)st;
    vkt_rl_tabular_opts o;
    vkt_rl_tabular_defaults(&o);
    vkt_rl_tabular a, b, c;
    assert_int_equal(vkt_rl_tabular_init(&a, &o, NULL), VKT_OK);
    assert_int_equal(vkt_rl_tabular_init(&b, &o, NULL), VKT_OK);
    o.seed = 2;
    assert_int_equal(vkt_rl_tabular_init(&c, &o, NULL), VKT_OK);
    for (int u = 0; u < 20; u++) {
        assert_int_equal(vkt_rl_tabular_update(&a, NULL, NULL), VKT_OK);
        assert_int_equal(vkt_rl_tabular_update(&b, NULL, NULL), VKT_OK);
        assert_int_equal(vkt_rl_tabular_update(&c, NULL, NULL), VKT_OK);
    }
    assert_memory_equal(a.z, b.z, sizeof a.z);
    assert_memory_not_equal(a.z, c.z, sizeof a.z);
    assert_int_equal((int)a.games, 20 * 128);
    vkt_rl_tabular_free(&a), vkt_rl_tabular_free(&b), vkt_rl_tabular_free(&c);
}

static void test_average_definitions(void **st) {
    (void)st;
    vkt_rl_tabular_opts o;
    vkt_rl_tabular_defaults(&o);
    o.lr = 0.3; // move far in one update so the check is not trivial
    vkt_rl_tabular t;
    assert_int_equal(vkt_rl_tabular_init(&t, &o, NULL), VKT_OK);
    vkt_kuhn_policy p0, p1, avg, reach;
    vkt_rl_tabular_avg_policy(&t, false, &avg); // before any update: the latest (uniform)
    assert_true(fabs(avg.bet[5] - 0.5) < 1e-15);
    vkt_rl_tabular_policy(&t, &p0);
    assert_int_equal(vkt_rl_tabular_update(&t, NULL, NULL), VKT_OK);
    vkt_rl_tabular_policy(&t, &p1);
    assert_int_equal(vkt_rl_tabular_update(&t, NULL, NULL), VKT_OK);
    vkt_rl_tabular_avg_policy(&t, false, &avg);
    vkt_rl_tabular_avg_policy(&t, true, &reach);
    int moved = 0;
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) {
        // games-weighted: both updates had 128 games, so the plain mean of p0 and p1
        assert_true(fabs(avg.bet[i] - 0.5 * (p0.bet[i] + p1.bet[i])) < 1e-12);
        moved += fabs(p1.bet[i] - 0.5) > 0.05;
        // reach-weighted: player 0's "cpb" weighted by its own pass probability at "c"
        int card = i / 4;
        double r0 = i % 4 == 3 ? 1 - p0.bet[card * 4] : 1,
               r1 = i % 4 == 3 ? 1 - p1.bet[card * 4] : 1;
        double want = (r0 * p0.bet[i] + r1 * p1.bet[i]) / (r0 + r1);
        assert_true(fabs(reach.bet[i] - want) < 1e-12);
    }
    assert_true(moved >= 6);
    vkt_rl_tabular_free(&t);
}

// One REINFORCE step, no baseline, one epoch, no clipping, from uniform logits: Adam's
// first step moves every logit with a nonzero gradient by exactly lr * sign(-grad)
// (m/sqrt(v) = g/|g| after bias correction), so each state's P(bet) moves by the sign
// of the summed weights of its bets minus its passes. Recompute that sign from the games.
static void test_first_step_direction(void **st) {
    (void)st;
    vkt_rl_tabular_opts o;
    vkt_rl_tabular_defaults(&o);
    o.adv = VKT_RL_ADV_NONE, o.pg.kind = VKT_PG_REINFORCE, o.ppo_epochs = 1, o.max_grad_norm = 0;
    o.lr = 0.1, o.games_per_update = 64;
    vkt_rl_tabular t;
    assert_int_equal(vkt_rl_tabular_init(&t, &o, NULL), VKT_OK);
    vkt_rl_tabular_stats s;
    assert_int_equal(vkt_rl_tabular_update(&t, &s, NULL), VKT_OK);
    // The kept decisions are still in the buffers (compacted): dL/dz_bet = sum w (p - [a = bet]).
    double g[VKT_KUHN_INFOSTATES] = {0};
    for (int k = 0; k < s.kept; k++) g[t.info[k]] += t.w[k] * (0.5 - (t.act[k] == 1));
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) {
        if (g[i] == 0) continue;
        double want = g[i] < 0 ? 0.1 : -0.1; // bet logit moves by -lr sign(g)
        assert_true(fabs(t.z[i][1] - want) < 1e-6);
        assert_true(fabs(t.z[i][0] + want) < 1e-6); // the pass logit's gradient is -g
    }
    assert_true(s.decisions >= 2 * 64 && s.decisions <= 3 * 64);
    vkt_rl_tabular_free(&t);
}

static double run_avg_expl(vkt_rl_adv_mode adv, int games_per_update, uint64_t seed,
                           double *latest) {
    vkt_rl_tabular_opts o;
    vkt_rl_tabular_defaults(&o);
    o.adv = adv, o.seed = seed, o.games_per_update = games_per_update;
    vkt_rl_tabular t;
    assert_int_equal(vkt_rl_tabular_init(&t, &o, NULL), VKT_OK);
    while (t.games < 150000) assert_int_equal(vkt_rl_tabular_update(&t, NULL, NULL), VKT_OK);
    vkt_kuhn_policy pi;
    vkt_rl_tabular_policy(&t, &pi);
    *latest = vkt_kuhn_exploitability(&pi);
    vkt_rl_tabular_avg_policy(&t, false, &pi);
    vkt_rl_tabular_free(&t);
    return vkt_kuhn_exploitability(&pi);
}

static void test_acceptance(void **st) {
    (void)st;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        double lat, e = run_avg_expl(VKT_RL_ADV_RAE, 128, seed, &lat);
        print_message("rae   seed %d: averaged %.4f latest %.4f\n", (int)seed, e, lat);
        assert_true(e < 0.10);
        e = run_avg_expl(VKT_RL_ADV_GROUP, 256, seed, &lat);
        print_message("group seed %d: averaged %.4f latest %.4f\n", (int)seed, e, lat);
        assert_true(e < 0.10);
    }
}

static void test_errors(void **st) {
    (void)st;
    vkt_rl_tabular_opts o;
    vkt_rl_tabular_defaults(&o);
    vkt_rl_tabular t;
    vkt_error err = {0};
    o.games_per_update = 0;
    assert_int_equal(vkt_rl_tabular_init(&t, &o, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "games_per_update"));
    vkt_rl_tabular_defaults(&o);
    o.pg.kl_coef = 0.1;
    assert_int_equal(vkt_rl_tabular_init(&t, &o, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "kl"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_average_definitions),
        cmocka_unit_test(test_first_step_direction),
        cmocka_unit_test(test_acceptance),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
