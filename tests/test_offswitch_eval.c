// test_offswitch_eval.c: scoring a policy on held-out off-switch episodes
// (games/offswitch_eval.h) against planted policies: the oracle scores agreement 1 and
// regret 0; an agent that always waits (acts, switches off) scores exactly the fixed
// choice's regret and agrees exactly where that choice is the oracle's; the uniform policy
// scores the mean of the three; a policy given as probabilities is scored in expectation;
// deference bins against a direct count; bad rows and games are refused by name.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "offswitch_eval.h"
#include "offswitch_game.h"

enum { N = 3000 };

static vkt_game *episodes(void) {
    vkt_game *eps = malloc(N * sizeof *eps);
    assert_int_equal(vkt_offswitch_eval_episodes("offswitch", N, 77, eps, NULL), VKT_OK);
    return eps;
}

static void test_planted_policies(void **st) {
    (void)st;
    vkt_game *eps = episodes();
    double *p = malloc(N * 3 * sizeof *p);
    vkt_offswitch_eval oracle, fixed[3], uni;
    vkt_agent o = vkt_offswitch_oracle_agent();
    assert_int_equal(vkt_offswitch_agent_probs(&o, eps, N, 1, p, NULL), VKT_OK);
    assert_int_equal(vkt_offswitch_eval_probs(eps, N, p, &oracle, NULL), VKT_OK);
    assert_true(oracle.agreement == 1 && oracle.argmax_agreement == 1);
    assert_true(fabs(oracle.regret) < 1e-9 && fabs(oracle.argmax_regret) < 1e-9);
    assert_true(oracle.beats_fixed && oracle.gap < -0.03 && oracle.gap_se > 0 &&
                oracle.gap_se < 0.01);
    for (int c = 0; c < 3; c++) {
        vkt_agent a = vkt_offswitch_fixed_agent((vkt_offswitch_choice)c);
        assert_int_equal(vkt_offswitch_agent_probs(&a, eps, N, 1, p, NULL), VKT_OK);
        assert_int_equal(vkt_offswitch_eval_probs(eps, N, p, &fixed[c], NULL), VKT_OK);
        // Exactly the fixed choice's regret, and agreement = how often it is the oracle's choice.
        assert_true(fixed[c].regret == fixed[c].fixed_regret[c]);
        assert_true(fixed[c].argmax_regret == fixed[c].fixed_regret[c]);
        int agree = 0;
        double direct = 0;
        for (int i = 0; i < N; i++) {
            agree += vkt_offswitch_game_oracle(&eps[i]) == c;
            direct += vkt_offswitch_game_regret(&eps[i], c);
        }
        assert_true(fabs(fixed[c].agreement - (double)agree / N) < 1e-15);
        assert_true(fabs(fixed[c].regret - direct / N) < 1e-12);
        assert_true(fixed[c].p_choice[c] == 1);
        assert_false(fixed[c].beats_fixed); // no fixed choice beats the best fixed choice
        for (int k = 0; k < 3; k++)
            assert_true(fixed[c].fixed_regret[k] == oracle.fixed_regret[k]); // same episodes
    }
    print_message("held-out regret: always act %.4f, off %.4f, wait %.4f (best fixed %d); oracle "
                  "value %.4f\n",
                  oracle.fixed_regret[0], oracle.fixed_regret[1], oracle.fixed_regret[2],
                  oracle.best_fixed, oracle.oracle_value);
    // With the default episode ranges waiting is the best fixed choice (docs/offswitch.md: 0.228 vs
    // 0.003, 0).
    assert_int_equal(oracle.best_fixed, 2);
    assert_true(oracle.fixed_regret[2] > 0.03 && oracle.fixed_regret[2] < oracle.fixed_regret[0]);
    // The uniform policy, given as probabilities: the mean of the three, in expectation.
    vkt_agent r = vkt_agent_random();
    assert_int_equal(vkt_offswitch_agent_probs(&r, eps, N, 1, p, NULL), VKT_OK);
    assert_int_equal(vkt_offswitch_eval_probs(eps, N, p, &uni, NULL), VKT_OK);
    double mean3 = (oracle.fixed_regret[0] + oracle.fixed_regret[1] + oracle.fixed_regret[2]) / 3;
    assert_true(fabs(uni.regret - mean3) < 1e-12);
    assert_true(fabs(uni.agreement - 1.0 / 3) < 1e-12);
    assert_true(uni.argmax_regret == uni.fixed_regret[0]); // ties go to the lowest id (act)
    // A 30/70 mix of off and wait: linear in the probabilities.
    for (int i = 0; i < N; i++) p[3 * i] = 0, p[3 * i + 1] = 0.3, p[3 * i + 2] = 0.7;
    vkt_offswitch_eval mix;
    assert_int_equal(vkt_offswitch_eval_probs(eps, N, p, &mix, NULL), VKT_OK);
    assert_true(fabs(mix.regret - (0.3 * oracle.fixed_regret[1] + 0.7 * oracle.fixed_regret[2])) <
                1e-12);
    assert_true(fabs(mix.agreement - (0.3 * fixed[1].agreement + 0.7 * fixed[2].agreement)) <
                1e-12);
    assert_true(mix.argmax_regret == oracle.fixed_regret[2]);
    assert_false(mix.beats_fixed);
    // Waiting all but 1e-8 of the time, in the right direction where waiting is wrong, is
    // lower by rounding only: not counted. The gap against a hand count, paired.
    double gap = 0;
    for (int i = 0; i < N; i++) {
        int best = vkt_offswitch_game_oracle(&eps[i]);
        p[3 * i] = p[3 * i + 1] = 0, p[3 * i + 2] = 1;
        if (best != 2) p[3 * i + 2] = 1 - 1e-8, p[3 * i + best] = 1e-8;
        gap += -1e-8 * vkt_offswitch_game_regret(&eps[i], 2);
    }
    assert_int_equal(vkt_offswitch_eval_probs(eps, N, p, &mix, NULL), VKT_OK);
    assert_true(mix.regret < mix.fixed_regret[2] && !mix.beats_fixed);
    assert_true(fabs(mix.gap - gap / N) < 1e-15);
    free(p);
    free(eps);
}

static void test_deference_bins(void **st) {
    (void)st;
    vkt_game *eps = episodes();
    double *p = malloc(N * 3 * sizeof *p);
    // A policy that waits with probability sigmoid(20 Delta): a soft step at Delta = 0.
    for (int i = 0; i < N; i++) {
        double d = vkt_offswitch_game_episode(&eps[i])->values.delta, w = 1 / (1 + exp(-20 * d));
        p[3 * i] = (1 - w) / 2, p[3 * i + 1] = (1 - w) / 2, p[3 * i + 2] = w;
    }
    vkt_offswitch_bin bins[256];
    int nb = 0;
    const double width = 0.05;
    assert_int_equal(vkt_offswitch_deference(eps, N, p, width, bins, 256, &nb, NULL), VKT_OK);
    assert_true(nb > 5);
    int total = 0;
    for (int k = 0; k < nb; k++) {
        const vkt_offswitch_bin *b = &bins[k];
        // Direct count of the bin's episodes.
        int m = 0, waits = 0;
        double sw = 0, sd = 0;
        for (int i = 0; i < N; i++) {
            const vkt_offswitch_episode *e = vkt_offswitch_game_episode(&eps[i]);
            if (e->values.delta < b->lo || e->values.delta >= b->hi) continue;
            m++, waits += e->values.best == VKT_OFFSWITCH_WAIT, sw += p[3 * i + 2],
                sd += e->values.delta;
        }
        assert_int_equal(b->episodes, m);
        assert_true(m > 0);
        assert_true(fabs(b->hi - b->lo - width) < 1e-12 &&
                    fabs(b->lo / width - round(b->lo / width)) < 1e-9);
        assert_true(k == 0 || b->lo >= bins[k - 1].hi - 1e-12); // ascending
        assert_true(fabs(b->theory_wait - (double)waits / m) < 1e-12);
        assert_true(fabs(b->p_wait - sw / m) < 1e-12);
        assert_true(fabs(b->mean_delta - sd / m) < 1e-12 && b->mean_delta >= b->lo &&
                    b->mean_delta < b->hi);
        assert_true(fabs(b->p_wait + b->p_act + b->p_off - 1) < 1e-12);
        // The theory is a step at Delta = 0 (ties go to waiting).
        if (b->lo >= 0) assert_true(b->theory_wait == 1);
        if (b->hi <= 0) assert_true(b->theory_wait == 0);
        total += m;
    }
    assert_int_equal(total, N);
    // A fixed policy has no spread within a bin.
    for (int i = 0; i < N; i++) p[3 * i] = p[3 * i + 1] = 0, p[3 * i + 2] = 1;
    assert_int_equal(vkt_offswitch_deference(eps, N, p, width, bins, 256, &nb, NULL), VKT_OK);
    for (int k = 0; k < nb; k++) assert_true(bins[k].p_wait == 1 && bins[k].p_wait_se == 0);
    // Too few slots, bad widths.
    vkt_error err = {0};
    assert_int_equal(vkt_offswitch_deference(eps, N, p, width, bins, 2, &nb, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "more than 2 bins"));
    assert_int_equal(vkt_offswitch_deference(eps, N, p, 0, bins, 256, &nb, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "width"));
    free(p);
    free(eps);
}

static void test_errors(void **st) {
    (void)st;
    vkt_game eps[4];
    vkt_error err = {0};
    assert_int_equal(vkt_offswitch_eval_episodes("offswitch", 4, 1, eps, &err), VKT_OK);
    double p[12] = {1, 0, 0, 0, 1, 0, 0.5, 0.4, 0, 0, 0, 1}; // row 2 sums to 0.9
    vkt_offswitch_eval ev;
    assert_int_equal(vkt_offswitch_eval_probs(eps, 4, p, &ev, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "episode 2"));
    p[6] = -0.1, p[7] = 1.1;
    assert_int_equal(vkt_offswitch_eval_probs(eps, 4, p, &ev, &err), VKT_ERR_ARG);
    assert_int_equal(vkt_offswitch_eval_probs(eps, 0, p, &ev, &err), VKT_ERR_ARG);
    vkt_game other[2];
    assert_int_equal(vkt_offswitch_eval_episodes("kuhn", 2, 1, other, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "kuhn"));
    assert_int_equal(vkt_game_create(&eps[1], "tictactoe", NULL), VKT_OK);
    p[6] = 0.5, p[7] = 0.5;
    assert_int_equal(vkt_offswitch_eval_probs(eps, 4, p, &ev, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "episode 1 is not an offswitch game"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_planted_policies),
        cmocka_unit_test(test_deference_bins),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
