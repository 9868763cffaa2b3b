// test_kuhn.c: the Kuhn engine against OpenSpiel's rules and reference numbers
// (value of the Nash family -1/18; NashConv of uniform 11/12, always-pass 2, Nash 0),
// tabular policies, extraction from agents, and arena statistics.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "arena.h"
#include "kuhn.h"
#include "kuhn_policy.h"
#include "protocol.h"

static const double alphas[] = {0.0, 1.0 / 12, 1.0 / 9, 1.0 / 6, 0.25, 0.3, 1.0 / 3};

static void test_nash_family_value(void **st) {
    for (size_t i = 0; i < sizeof alphas / sizeof alphas[0]; i++) {
        vkt_kuhn_policy pi;
        assert_int_equal(vkt_kuhn_policy_nash(alphas[i], &pi, NULL), VKT_OK);
        double v = vkt_kuhn_value(&pi, &pi);
        assert_true(fabs(v - (-1.0 / 18.0)) < 1e-12);
        // Nash: neither player gains by deviating, so NashConv is 0.
        assert_true(fabs(vkt_kuhn_nash_conv(&pi)) < 1e-12);
        assert_true(fabs(vkt_kuhn_best_response(&pi, 0, NULL) - (-1.0 / 18.0)) < 1e-12);
        assert_true(fabs(vkt_kuhn_best_response(&pi, 1, NULL) - (1.0 / 18.0)) < 1e-12);
    }
    vkt_kuhn_policy pi;
    vkt_error err = {0};
    assert_int_equal(vkt_kuhn_policy_nash(0.34, &pi, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "alpha"));
    assert_int_equal(vkt_kuhn_policy_nash(-0.01, &pi, NULL), VKT_ERR_ARG);
}

static void test_nash_conv_reference(void **st) {
    vkt_kuhn_policy pi;
    vkt_kuhn_policy_const(&pi, 0.5);
    assert_true(fabs(vkt_kuhn_nash_conv(&pi) - 11.0 / 12.0) < 1e-12);
    assert_true(fabs(vkt_kuhn_exploitability(&pi) - 11.0 / 24.0) < 1e-12);
    vkt_kuhn_policy_const(&pi, 0.0);
    assert_true(fabs(vkt_kuhn_nash_conv(&pi) - 2.0) < 1e-12);
    // Uniform against itself: player 0's value is 1/8 (OpenSpiel's policy_value_test).
    vkt_kuhn_policy_const(&pi, 0.5);
    assert_true(fabs(vkt_kuhn_value(&pi, &pi) - 1.0 / 8.0) < 1e-12);
}

static void test_specs(void **st) {
    vkt_kuhn_policy a, b;
    assert_int_equal(vkt_kuhn_policy_from_spec("nash:1/6", &a, NULL), VKT_OK);
    assert_int_equal(vkt_kuhn_policy_from_spec("nash", &b, NULL), VKT_OK);
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) assert_true(fabs(a.bet[i] - b.bet[i]) < 1e-15);
    assert_int_equal(vkt_kuhn_policy_from_spec("always-bet", &a, NULL), VKT_OK);
    assert_true(a.bet[0] == 1.0 && a.bet[11] == 1.0);
    vkt_error err = {0};
    assert_int_equal(vkt_kuhn_policy_from_spec("nash:x", &a, &err), VKT_ERR_ARG);
    assert_int_not_equal(vkt_kuhn_policy_from_spec("/nonexistent/policy.json", &a, &err), VKT_OK);
    assert_non_null(strstr(err.msg, "/nonexistent/policy.json"));
    // Index layout matches the documented names.
    assert_string_equal(vkt_kuhn_infostate_name(3), "0pb");
    assert_int_equal(vkt_kuhn_infostate_index("2b"), 10);
    assert_int_equal(vkt_kuhn_infostate_player(vkt_kuhn_infostate_index("1pb")), 0);
    assert_int_equal(vkt_kuhn_infostate_player(vkt_kuhn_infostate_index("1p")), 1);
    assert_int_equal(vkt_kuhn_infostate_index("3"), -1);
}

static void test_json(void **st) {
    vkt_kuhn_policy pi, back;
    vkt_kuhn_policy_nash(0.2, &pi, NULL);
    char path[] = "/tmp/vkt_kuhn_policy_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(vkt_kuhn_policy_save(path, &pi, NULL), VKT_OK);
    assert_int_equal(vkt_kuhn_policy_load(path, &back, NULL), VKT_OK);
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) assert_true(pi.bet[i] == back.bet[i]);
    remove(path);
    const char *ok =
        "{\"0\":0.1,\"0p\":[0.5,0.5],\"0b\":0,\"0pb\":0,\"1\":0,\"1p\":0,\"1b\":0.3,\"1pb\":0.4,"
        "\"2\":0.3,\"2p\":1,\"2b\":1,\"2pb\":1}";
    assert_int_equal(vkt_kuhn_policy_from_json(ok, &pi, NULL), VKT_OK);
    assert_true(pi.bet[1] == 0.5 && pi.bet[7] == 0.4);
    vkt_error err = {0};
    assert_int_equal(vkt_kuhn_policy_from_json("{\"0\":0.1}", &pi, &err), VKT_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "missing"));
    assert_int_equal(vkt_kuhn_policy_from_json(
                         "{\"0\":1.5,\"0p\":0,\"0b\":0,\"0pb\":0,\"1\":0,\"1p\":0,\"1b\":0,"
                         "\"1pb\":0,\"2\":0,\"2p\":0,\"2b\":0,\"2pb\":0}",
                         &pi, &err),
                     VKT_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "\"0\""));
    assert_int_equal(vkt_kuhn_policy_from_json("{\"5pb\":0}", &pi, &err), VKT_ERR_FORMAT);
    assert_int_equal(vkt_kuhn_policy_from_json("[1,2", &pi, &err), VKT_ERR_FORMAT);
}

// Every terminal history for every deal pays what OpenSpiel pays.
static void test_engine_payoffs(void **st) {
    static const struct {
        const char *hist;
        int sign_high, amount_fixed;
    } cases[] = {
        {"pp", 1, 0}, {"bb", 2, 0}, {"pbb", 2, 0}, {"bp", 0, 1}, {"pbp", 0, -1},
    };
    for (int c0 = 0; c0 < 3; c0++)
        for (int c1 = 0; c1 < 3; c1++) {
            if (c0 == c1) continue;
            for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
                vkt_game g;
                assert_int_equal(vkt_game_create(&g, "kuhn", NULL), VKT_OK);
                assert_int_equal(vkt_game_reset(&g, 7, NULL), VKT_OK);
                assert_int_equal(vkt_kuhn_set_hand(&g, c0, c1, "", NULL), VKT_OK);
                for (const char *h = cases[k].hist; *h; h++) {
                    assert_false(vkt_game_is_terminal(&g));
                    assert_int_equal(vkt_game_current_player(&g), (int)(h - cases[k].hist) % 2);
                    assert_int_equal(
                        vkt_game_apply(&g, *h == 'b' ? VKT_KUHN_BET : VKT_KUHN_PASS, NULL), VKT_OK);
                }
                assert_true(vkt_game_is_terminal(&g));
                double r[2];
                vkt_game_returns(&g, r);
                double want = cases[k].sign_high ? cases[k].sign_high * (c0 > c1 ? 1 : -1)
                                                 : cases[k].amount_fixed;
                assert_true(r[0] == want && r[1] == -want);
            }
        }
    vkt_game g;
    vkt_game_create(&g, "kuhn", NULL);
    vkt_game_reset(&g, 1, NULL);
    vkt_error err = {0};
    assert_int_equal(vkt_game_apply(&g, 2, &err), VKT_ERR_ARG);
    assert_int_equal(vkt_kuhn_set_hand(&g, 1, 1, "", &err), VKT_ERR_ARG);
    assert_int_equal(vkt_kuhn_set_hand(&g, 0, 1, "bb", &err), VKT_ERR_ARG);
}

static void test_action_texts_and_observation(void **st) {
    vkt_game g;
    vkt_game_create(&g, "kuhn", NULL);
    vkt_game_reset(&g, 3, NULL);
    vkt_kuhn_set_hand(&g, 1, 2, "", NULL);
    char a[32], obs[4096];
    vkt_game_action_text(&g, 0, a, sizeof a, NULL);
    assert_string_equal(a, "Check");
    vkt_game_action_text(&g, 1, a, sizeof a, NULL);
    assert_string_equal(a, "Bet");
    vkt_game_apply(&g, 1, NULL);
    vkt_game_action_text(&g, 0, a, sizeof a, NULL);
    assert_string_equal(a, "Fold");
    vkt_game_action_text(&g, 1, a, sizeof a, NULL);
    assert_string_equal(a, "Call");
    char key[8];
    vkt_kuhn_info_state(&g, key);
    assert_string_equal(key, "2b");
    vkt_protocol_observation(&g, 1, obs, sizeof obs);
    assert_non_null(strstr(obs, "Your card: K\n"));
    assert_non_null(strstr(obs, "Actions this hand: opponent bet.\n"));
    assert_non_null(strstr(obs, "Available Moves: [Fold], [Call]\n"));
    assert_null(strstr(obs, "opponent's card")); // hidden before a showdown
    vkt_protocol_observation(&g, 0, obs, sizeof obs);
    assert_non_null(strstr(obs, "Your card: Q\n"));
    assert_null(strstr(obs, ": K"));
}

// A match: chips stay zero-sum, the first seat alternates, returns are the outcome.
static void test_match(void **st) {
    vkt_game g;
    assert_int_equal(vkt_game_create(&g, "kuhn:rounds=5", NULL), VKT_OK);
    vkt_agent rnd = vkt_agent_random();
    vkt_rng rng;
    vkt_rng_seed(&rng, 5);
    for (int seed = 0; seed < 200; seed++) {
        vkt_game_reset(&g, (uint64_t)seed, NULL);
        const vkt_kuhn *s = vkt_kuhn_state(&g);
        int steps = 0;
        while (!vkt_game_is_terminal(&g)) {
            int p = vkt_game_current_player(&g), a;
            if (s->hands[s->hand].nh == 0) assert_int_equal(p, s->hand % 2);
            assert_int_equal(vkt_agent_act(&rnd, &g, p, &rng, &a, NULL), VKT_OK);
            assert_int_equal(vkt_game_apply(&g, a, NULL), VKT_OK);
            assert_int_equal(s->chips[0] + s->chips[1], 0);
            steps++;
        }
        assert_true(steps >= 10 && steps <= 15);
        int total = 0;
        for (int h = 0; h < 5; h++)
            total += s->hands[h].winner == 0 ? s->hands[h].amount : -s->hands[h].amount;
        assert_int_equal(total, s->chips[0]);
        double r[2];
        vkt_game_returns(&g, r);
        assert_true(r[0] == (s->chips[0] > 0) - (s->chips[0] < 0));
        assert_true(r[1] == -r[0]);
    }
    vkt_error err = {0};
    assert_int_equal(vkt_game_create(&g, "kuhn:rounds=0", &err), VKT_ERR_ARG);
    assert_int_equal(vkt_game_create(&g, "kuhn:rounds=101", &err), VKT_ERR_ARG);
    assert_int_equal(vkt_game_create(&g, "kuhn:bogus=1", &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "bogus"));
    assert_int_equal(vkt_game_create(&g, "kuhn:rounds=3,reward=chips", NULL), VKT_OK);
}

// probs-less wrapper around an agent, so extraction has to sample.
static vkt_status act_only(void *self, const vkt_game *g, int player, vkt_rng *rng, int *action,
                           vkt_error *err) {
    vkt_agent *inner = self;
    return inner->act(inner->self, g, player, rng, action, err);
}

static void test_policy_from_agent(void **st) {
    vkt_agent nash;
    assert_int_equal(vkt_agent_create("nash:0.25", &vkt_kuhn_ops, &nash, NULL), VKT_OK);
    vkt_kuhn_policy want, got;
    vkt_kuhn_policy_nash(0.25, &want, NULL);
    vkt_rng rng;
    vkt_rng_seed(&rng, 11);
    double inv = -1;
    assert_int_equal(vkt_kuhn_policy_from_agent(&nash, 0, &rng, &got, &inv, NULL), VKT_OK);
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++)
        assert_true(fabs(got.bet[i] - want.bet[i]) < 1e-15);
    // Sampling: each estimate within 5 standard errors of the truth (n = 4000).
    vkt_agent sampled = {.self = &nash, .name = "sampled-nash", .act = act_only};
    const int n = 4000;
    assert_int_equal(vkt_kuhn_policy_from_agent(&sampled, n, &rng, &got, &inv, NULL), VKT_OK);
    assert_true(inv == 0.0);
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) {
        double p = want.bet[i], se = sqrt(p * (1 - p) / n);
        assert_true(fabs(got.bet[i] - p) <= 5 * se + 1e-12);
    }
    vkt_agent_destroy(&nash);
}

// Nash vs Nash: the 95% CI of player 0's mean return covers -1/18. One fixed-seed
// interval misses 1 time in 20 by design, so run 20 independent arenas of 10000 hands
// and require at least 15 to cover (P(fewer) < 0.001 for Binomial(20, 0.95)), and the
// pooled mean within 3.3 standard errors.
static void test_arena_nash(void **st) {
    vkt_game g;
    vkt_game_create(&g, "kuhn", NULL);
    vkt_agent a, b;
    assert_int_equal(vkt_agent_create("nash", &vkt_kuhn_ops, &a, NULL), VKT_OK);
    assert_int_equal(vkt_agent_create("nash:0.1", &vkt_kuhn_ops, &b, NULL), VKT_OK);
    vkt_agent *seats[2] = {&a, &b};
    vkt_arena_result res;
    int covered = 0;
    double pooled = 0, se2 = 0;
    for (int k = 0; k < 20; k++) {
        assert_int_equal(vkt_arena_run(&g, seats, 10000, 100 + k, &res, NULL), VKT_OK);
        assert_int_equal(res.games, 10000);
        covered += fabs(res.mean_return[0] - (-1.0 / 18.0)) <= res.ci95[0];
        pooled += res.mean_return[0] / 20;
        se2 += pow(res.ci95[0] / 1.96, 2) / 400;
        assert_true(res.ci95[0] > 0.01 && res.ci95[0] < 0.05);
        assert_true(fabs(res.mean_return[0] + res.mean_return[1]) < 1e-12);
        assert_int_equal(res.wins[0] + res.wins[1] + res.draws, 10000);
    }
    assert_true(covered >= 15);
    assert_true(fabs(pooled - (-1.0 / 18.0)) <= 3.3 * sqrt(se2));
    // Same seed, same numbers.
    vkt_arena_result again;
    vkt_arena_run(&g, seats, 10000, 100 + 19, &again, NULL);
    assert_true(again.mean_return[0] == res.mean_return[0]);
    // Always-bet vs always-pass: player 1 always folds, player 0 wins 1 every hand.
    vkt_agent ab, ap;
    vkt_agent_create("always-bet", &vkt_kuhn_ops, &ab, NULL);
    vkt_agent_create("always-pass", &vkt_kuhn_ops, &ap, NULL);
    vkt_agent *s2[2] = {&ab, &ap};
    vkt_arena_run(&g, s2, 100, 2, &res, NULL);
    assert_true(res.mean_return[0] == 1.0 && res.wins[0] == 100);
    vkt_agent_destroy(&a);
    vkt_agent_destroy(&b);
    vkt_agent_destroy(&ab);
    vkt_agent_destroy(&ap);
}

// Monte Carlo through the engine agrees with the exact value for a non-equilibrium pair.
static void test_engine_matches_exact(void **st) {
    vkt_kuhn_policy p0, p1;
    vkt_kuhn_policy_const(&p0, 0.5);
    vkt_kuhn_policy_nash(0.2, &p1, NULL);
    double exact = vkt_kuhn_value(&p0, &p1);
    vkt_game g;
    vkt_game_create(&g, "kuhn", NULL);
    vkt_agent a = vkt_agent_random(), b;
    vkt_agent_create("nash:0.2", &vkt_kuhn_ops, &b, NULL);
    vkt_agent *seats[2] = {&a, &b};
    vkt_arena_result res;
    vkt_arena_run(&g, seats, 40000, 9, &res, NULL);
    // 99.9% band: 3.3 standard errors (ci95 is 1.96 of them).
    assert_true(fabs(res.mean_return[0] - exact) <= res.ci95[0] / 1.96 * 3.3);
    vkt_agent_destroy(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nash_family_value),
        cmocka_unit_test(test_nash_conv_reference),
        cmocka_unit_test(test_specs),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_engine_payoffs),
        cmocka_unit_test(test_action_texts_and_observation),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_policy_from_agent),
        cmocka_unit_test(test_arena_nash),
        cmocka_unit_test(test_engine_matches_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
