// test_offswitch_game.c: the off-switch game as a text game: the oracle, regrets, the
// game's chance against the exact values, determinism, the text protocol.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "offswitch_game.h"
#include "protocol.h"

// Through the registry when offswitch is listed there, else the same steps by hand.
static void make_game(vkt_game *g, const char *options) {
    vkt_error err = {0};
    if (vkt_game_find("offswitch")) {
        char spec[256];
        snprintf(spec, sizeof spec, "offswitch%s%s", options ? ":" : "", options ? options : "");
        if (vkt_game_create(g, spec, &err) != VKT_OK) fail_msg("%s", err.msg);
        return;
    }
    memset(g, 0, sizeof *g);
    g->ops = &vkt_offswitch_game_ops;
    g->invalid_rule = VKT_INVALID_EVAL;
    g->forfeited_by = -1;
    g->ops->defaults(g->state);
    char buf[256];
    snprintf(buf, sizeof buf, "%s", options ? options : "");
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        char *eq = strchr(tok, '=');
        if (eq) *eq++ = 0;
        if (vkt_game_set_option(g, tok, eq, &err) != VKT_OK) fail_msg("%s", err.msg);
    }
}

static void reset(vkt_game *g, uint64_t seed) {
    vkt_error err = {0};
    if (vkt_game_reset(g, seed, &err) != VKT_OK) fail_msg("%s", err.msg);
}

static double play(vkt_game *g, int action) {
    vkt_error err = {0};
    if (vkt_game_apply(g, action, &err) != VKT_OK) fail_msg("%s", err.msg);
    assert_true(vkt_game_is_terminal(g));
    double r[VKT_GAME_MAX_PLAYERS];
    vkt_game_returns(g, r);
    return r[0];
}

// The oracle's regret is 0 in every episode, and no choice beats it.
static void test_oracle_regret_zero(void **state) {
    vkt_game g;
    make_game(&g, "rational=0.3,noisy=0.2");
    vkt_agent oracle = vkt_offswitch_oracle_agent();
    vkt_rng rng;
    vkt_rng_seed(&rng, 1);
    int seen[3] = {0};
    for (uint64_t seed = 0; seed < 3000; seed++) {
        reset(&g, seed);
        int a;
        vkt_error err = {0};
        if (vkt_agent_act(&oracle, &g, 0, &rng, &a, &err) != VKT_OK) fail_msg("%s", err.msg);
        assert_int_equal(a, vkt_offswitch_game_oracle(&g));
        assert_true(vkt_offswitch_game_regret(&g, a) == 0);
        for (int b = 0; b < 3; b++)
            assert_true(vkt_offswitch_game_regret(&g, b) >= -VKT_OFFSWITCH_TIE);
        seen[a]++;
    }
    // With the default ranges every choice is the best one in some episodes.
    for (int a = 0; a < 3; a++) assert_true(seen[a] > 100);
    assert_true(isnan(vkt_offswitch_game_regret(&g, 3)));
}

// The fixed agents (vkt arena --p0 always-act|always-off|always-wait) make their one
// choice, through the spec registry too, and their probabilities say so.
static void test_fixed_agents(void **state) {
    vkt_game g;
    make_game(&g, NULL);
    const char *spec[3] = {"always-act", "always-off", "always-wait"};
    const vkt_offswitch_choice want[3] = {VKT_OFFSWITCH_ACT, VKT_OFFSWITCH_OFF, VKT_OFFSWITCH_WAIT};
    vkt_rng rng;
    vkt_rng_seed(&rng, 2);
    for (int c = 0; c < 3; c++) {
        vkt_agent a;
        vkt_error err = {0};
        if (vkt_agent_create(spec[c], &vkt_offswitch_game_ops, &a, &err) != VKT_OK)
            fail_msg("%s", err.msg);
        assert_string_equal(a.name, spec[c]);
        double regret = 0;
        for (uint64_t seed = 0; seed < 500; seed++) {
            reset(&g, seed);
            int act, acts[3] = {0, 1, 2};
            double p[3];
            if (vkt_agent_act(&a, &g, 0, &rng, &act, &err) != VKT_OK) fail_msg("%s", err.msg);
            assert_int_equal(act, (int)want[c]);
            if (a.probs(a.self, &g, 0, acts, 3, p, &err) != VKT_OK) fail_msg("%s", err.msg);
            for (int k = 0; k < 3; k++) assert_true(p[k] == (k == (int)want[c]));
            regret += vkt_offswitch_game_regret(&g, act);
        }
        // Each fixed choice is wrong in some episodes of the default ranges.
        assert_true(regret > 0);
        vkt_agent_destroy(&a);
    }
    vkt_agent bad;
    vkt_error err = {0};
    assert_int_equal(vkt_agent_create("always-dance", &vkt_offswitch_game_ops, &bad, &err),
                     VKT_ERR_ARG);
}

// Known episodes: a rational H (waiting is optimal; regrets from the normal closed form
// E[U+] = mu Phi(mu/s) + s phi(mu/s), computed here), and a confident R facing a noisy H.
static void test_fixed_policy_regrets(void **state) {
    vkt_game g;
    make_game(&g, "mu=0.3:0.3,sigma=1.2:1.2,rational=1");
    reset(&g, 5);
    double t = 0.25,
           eplus = 0.3 * 0.5 * erfc(-t / sqrt(2.0)) + 1.2 * exp(-t * t / 2) / sqrt(2 * M_PI);
    assert_int_equal(vkt_offswitch_game_oracle(&g), VKT_OFFSWITCH_WAIT);
    assert_true(fabs(vkt_offswitch_game_regret(&g, VKT_OFFSWITCH_ACT) - (eplus - 0.3)) < 1e-12);
    assert_true(fabs(vkt_offswitch_game_regret(&g, VKT_OFFSWITCH_OFF) - eplus) < 1e-12);

    // mu = 1, sigma = 0.05, Boltzmann beta = 1: V(wait) = E[sigmoid(U) U] ~ sigmoid(1) = 0.731
    // (the spread moves it by < 1e-3), so acting is best and waiting costs ~0.269.
    make_game(&g, "mu=1:1,sigma=0.05:0.05,beta=1:1,rational=0");
    reset(&g, 6);
    assert_int_equal(vkt_offswitch_game_oracle(&g), VKT_OFFSWITCH_ACT);
    assert_true(
        fabs(vkt_offswitch_game_regret(&g, VKT_OFFSWITCH_WAIT) - (1 - 1 / (1 + exp(-1.0)))) < 1e-3);
    assert_true(fabs(vkt_offswitch_game_regret(&g, VKT_OFFSWITCH_OFF) - 1) < 1e-12);
    make_game(&g, "mu=-1:-1,sigma=0.05:0.05,eps=0.2:0.2,rational=0,noisy=1");
    reset(&g, 7);
    assert_int_equal(vkt_offswitch_game_oracle(&g), VKT_OFFSWITCH_OFF);
    // Waiting: H allows a negative action with probability 0.2: V(wait) = 0.2 * -1.
    assert_true(fabs(vkt_offswitch_game_regret(&g, VKT_OFFSWITCH_WAIT) - 0.2) < 1e-12);
    assert_true(fabs(vkt_offswitch_game_regret(&g, VKT_OFFSWITCH_ACT) - 1) < 1e-12);
}

// The game's chance (U from the prior, H's coin) agrees with the exact values: over many
// episodes, the realised reward of a fixed policy falls short of the oracle's by its mean
// regret, within 4 standard errors (same seed = same U and coin for both: common numbers).
static void test_rewards_match_regret(void **state) {
    vkt_game g, h;
    make_game(&g, "rational=0.3,noisy=0.2");
    const int n = 20000;
    double sum[3] = {0}, sum2[3] = {0}, regret[3] = {0};
    for (int seed = 0; seed < n; seed++) {
        reset(&g, (uint64_t)seed);
        vkt_game_clone(&h, &g);
        double best = play(&h, vkt_offswitch_game_oracle(&g));
        for (int a = 0; a < 3; a++) {
            vkt_game_clone(&h, &g);
            regret[a] += vkt_offswitch_game_regret(&g, a);
            double d = best - play(&h, a);
            sum[a] += d, sum2[a] += d * d;
        }
    }
    for (int a = 0; a < 3; a++) {
        double mean = sum[a] / n, se = sqrt((sum2[a] / n - mean * mean) / (n - 1)),
               r = regret[a] / n;
        if (fabs(mean - r) > 4 * se)
            fail_msg("action %d: realised shortfall %.5f +- %.5f, regret %.5f", a, mean, se, r);
        if (a != VKT_OFFSWITCH_WAIT) assert_true(r > 0.02);
    }
}

static void test_deterministic(void **state) {
    vkt_game a, b;
    make_game(&a, NULL);
    make_game(&b, NULL);
    char ta[2048], tb[2048];
    int differ = 0;
    for (uint64_t seed = 0; seed < 50; seed++) {
        reset(&a, seed);
        reset(&b, seed);
        vkt_protocol_observation(&a, 0, ta, sizeof ta);
        vkt_protocol_observation(&b, 0, tb, sizeof tb);
        assert_string_equal(ta, tb);
        assert_true(play(&a, VKT_OFFSWITCH_WAIT) == play(&b, VKT_OFFSWITCH_WAIT));
        reset(&b, seed + 1000);
        vkt_protocol_observation(&b, 0, tb, sizeof tb);
        differ += strcmp(ta, tb) != 0;
    }
    assert_true(differ >= 45);
}

// The text names the parameters exactly; the protocol accepts [wait], \boxed{WAIT}, and
// anything else is an invalid move that ends the game with the invalid rule's reward.
static void test_text_protocol(void **state) {
    vkt_game g;
    make_game(&g, "mu=0.3:0.3,sigma=1.2:1.2,beta=0.5:0.5,rational=0");
    reset(&g, 3);
    char obs[4096];
    vkt_protocol_observation(&g, 0, obs, sizeof obs);
    if (!strstr(obs, "of the action's value: mean 0.30, spread 1.20; the human's noise: 0.50"))
        fail_msg("observation lacks the parameters:\n%s", obs);
    assert_non_null(strstr(obs, "[act], [off], [wait]"));
    const vkt_offswitch_episode *e = vkt_offswitch_game_episode(&g);
    assert_true(e->prior.mu == 0.3 && e->prior.sigma == 1.2 && e->human.beta == 0.5);

    vkt_error err = {0};
    int action;
    bool invalid;
    const char *good = "Waiting is worth more here. \\boxed{WAIT}";
    assert_int_equal(vkt_protocol_step(&g, good, strlen(good), &action, &invalid, &err), VKT_OK);
    assert_false(invalid);
    assert_int_equal(action, VKT_OFFSWITCH_WAIT);
    assert_true(vkt_game_is_terminal(&g));
    vkt_protocol_observation(&g, 0, obs, sizeof obs);
    assert_non_null(strstr(obs, "You chose [wait]"));

    reset(&g, 3);
    const char *bad = "I will [jump] instead";
    assert_int_equal(vkt_protocol_step(&g, bad, strlen(bad), &action, &invalid, &err), VKT_OK);
    assert_true(invalid);
    assert_int_equal(action, VKT_ACTION_INVALID);
    assert_true(vkt_game_is_terminal(&g));
    double r[VKT_GAME_MAX_PLAYERS];
    vkt_game_returns(&g, r);
    assert_true(r[0] == VKT_INVALID_EVAL.offender);

    reset(&g, 3);
    const char *none = "no brackets at all";
    assert_int_equal(vkt_protocol_step(&g, none, strlen(none), &action, &invalid, &err), VKT_OK);
    assert_true(invalid);
}

static void test_options(void **state) {
    vkt_game g;
    make_game(&g, NULL);
    vkt_error err = {0};
    assert_int_equal(vkt_game_set_option(&g, "mu", "1", &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "mu=1"));
    assert_int_equal(vkt_game_set_option(&g, "sigma", "1:0.5", &err), VKT_ERR_ARG);
    assert_int_equal(vkt_game_set_option(&g, "rational", "0.8", &err), VKT_OK);
    assert_int_equal(vkt_game_set_option(&g, "noisy", "0.5", &err), VKT_ERR_ARG);
    assert_int_equal(vkt_game_set_option(&g, "temperature", "1", &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "'temperature'"));
    assert_int_equal(vkt_game_apply(&g, 5, &err) == VKT_OK, 0);
    assert_int_equal(vkt_game_set_option(&g, "reward", "mean", &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "reward=mean"));
}

// reward=expected pays V(choice) exactly; the episode and its chance stream are the
// realized game's (same prior, human, U and coin for the same seed).
static void test_expected_reward(void **state) {
    vkt_game r, e;
    make_game(&r, NULL);
    make_game(&e, "reward=expected");
    for (uint64_t seed = 1; seed <= 300; seed++)
        for (int a = 0; a < 3; a++) {
            assert_int_equal(vkt_game_reset(&r, seed, NULL), VKT_OK);
            assert_int_equal(vkt_game_reset(&e, seed, NULL), VKT_OK);
            assert_int_equal(vkt_game_apply(&r, a, NULL), VKT_OK);
            assert_int_equal(vkt_game_apply(&e, a, NULL), VKT_OK);
            const vkt_offswitch_episode *x = vkt_offswitch_game_episode(&r),
                                        *y = vkt_offswitch_game_episode(&e);
            assert_true(x->u == y->u && x->allowed == y->allowed && x->prior.mu == y->prior.mu);
            double ret;
            vkt_game_returns(&e, &ret);
            assert_true(ret == vkt_offswitch_value_of(&y->values, (vkt_offswitch_choice)a));
            vkt_game_returns(&r, &ret);
            assert_true(ret == (a == 1 ? 0 : a == 0 ? x->u : x->allowed ? x->u : 0));
        }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oracle_regret_zero),   cmocka_unit_test(test_expected_reward),
        cmocka_unit_test(test_fixed_policy_regrets), cmocka_unit_test(test_fixed_agents),
        cmocka_unit_test(test_rewards_match_regret), cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_text_protocol),        cmocka_unit_test(test_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
