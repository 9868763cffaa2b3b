// test_negotiation.c: SimpleNegotiation: conservation, the trade rules, scoring, and
// every documented invalid move rejected by the protocol (and scored by the rule).
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "agent.h"
#include "arena.h"
#include "negotiation.h"
#include "protocol.h"

static void check_invariants(const vkt_negotiation *s) {
    for (int r = 0; r < 2; r++) {
        assert_int_equal(s->inv[0][r] + s->inv[1][r], 2 * VKT_NEG_START);
        assert_true(s->inv[0][r] >= 0 && s->inv[1][r] >= 0);
    }
}

static void play(vkt_game *g, const char *text) {
    int a;
    bool invalid;
    vkt_error err = {0};
    assert_int_equal(vkt_protocol_step(g, text, strlen(text), &a, &invalid, &err), VKT_OK);
    if (invalid) fail_msg("'%s' was rejected: %s", text, err.msg);
}

static void test_conservation(void **st) {
    const char *specs[] = {"negotiation", "negotiation:random_values,turns=20"};
    const char *agents[][2] = {
        {"random", "random"}, {"greedy", "greedy"}, {"greedy", "random"}, {"random", "greedy"}};
    for (int sp = 0; sp < 2; sp++)
        for (int ag = 0; ag < 4; ag++) {
            vkt_game g;
            assert_int_equal(vkt_game_create(&g, specs[sp], NULL), VKT_OK);
            vkt_agent a[2];
            for (int p = 0; p < 2; p++)
                assert_int_equal(vkt_agent_create(agents[ag][p], &vkt_negotiation_ops, &a[p], NULL),
                                 VKT_OK);
            vkt_rng rng;
            vkt_rng_seed(&rng, 3);
            int trades = 0;
            for (int seed = 0; seed < 300; seed++) {
                vkt_game_reset(&g, (uint64_t)seed, NULL);
                const vkt_negotiation *s = vkt_negotiation_state(&g);
                int turns = 0;
                while (!vkt_game_is_terminal(&g)) {
                    int p = vkt_game_current_player(&g), act;
                    assert_int_equal(vkt_agent_act(&a[p], &g, p, &rng, &act, NULL), VKT_OK);
                    assert_int_equal(vkt_game_apply(&g, act, NULL), VKT_OK);
                    check_invariants(s);
                    turns++;
                }
                assert_int_equal(turns, s->max_turns);
                trades += s->trades;
                double r[2];
                vkt_game_returns(&g, r);
                int g0 = vkt_negotiation_gain(s, 0), g1 = vkt_negotiation_gain(s, 1);
                assert_true(r[0] == (g0 > g1) - (g0 < g1) && r[1] == -r[0]);
            }
            if (ag == 1)
                assert_true(trades > 0); // two greedy players with opposite tastes do trade
        }
}

static void test_trade_rules(void **st) {
    vkt_game g;
    vkt_game_create(&g, "negotiation", NULL);
    vkt_game_reset(&g, 1, NULL);
    const vkt_negotiation *s = vkt_negotiation_state(&g);
    assert_int_equal(s->values[0][VKT_NEG_WOOD], 5);
    assert_int_equal(s->values[0][VKT_NEG_GOLD], 15);
    assert_int_equal(s->values[1][VKT_NEG_WOOD], 15);
    assert_int_equal(s->values[1][VKT_NEG_GOLD], 5);
    play(&g, "I propose [Offer: 3 Wood -> 2 Gold]"); // p0 gives 3 Wood for 2 Gold
    assert_true(s->pending >= 0);
    play(&g, "\\boxed{\\text{Accept}}");
    assert_int_equal(s->inv[0][VKT_NEG_WOOD], 7);
    assert_int_equal(s->inv[0][VKT_NEG_GOLD], 12);
    assert_int_equal(s->inv[1][VKT_NEG_WOOD], 13);
    assert_int_equal(s->inv[1][VKT_NEG_GOLD], 8);
    assert_int_equal(s->trades, 1);
    assert_int_equal(vkt_negotiation_gain(s, 0), -15 + 30);
    assert_int_equal(vkt_negotiation_gain(s, 1), 45 - 10);
    // A counter-offer denies the pending one; an offer lapses after one turn.
    play(&g, "[offer:  1 gold ->  1 wood]"); // p0, case and spaces normalised
    play(&g, "[Offer: 2 Wood -> 1 Gold]");   // p1 counters
    play(&g, "[Deny]");                      // p0 denies
    int a;
    vkt_error err = {0};
    assert_int_equal(vkt_protocol_parse(&g, "[Accept]", 8, &a, &err),
                     VKT_ERR_FORMAT); // nothing pending
    play(&g, "[Deny]");               // p1 passes
    for (int i = 0; i < 4; i++) play(&g, "[Deny]");
    assert_true(vkt_game_is_terminal(&g));
    double r[2];
    vkt_game_returns(&g, r);
    assert_true(r[0] == -1 && r[1] == 1); // gains 15 vs 35
}

// Each documented invalid move is rejected by the parser, ends the game under the
// protocol, and is scored by the invalid rule (evaluation and training settings).
static void test_invalid_moves(void **st) {
    static const struct {
        const char *setup;
        const char *move;
    } cases[] = {
        {NULL, "[Accept]"},                          // no offer at all
        {"[Offer: 3 Wood -> 2 Gold]", "[Accept]"},   // own offer, after the opponent denied it
        {NULL, "[Offer: 11 Wood -> 2 Gold]"},        // offering what you lack
        {NULL, "[Offer: 3 Wood -> 11 Gold]"},        // asking for what the opponent lacks
        {NULL, "[Offer: 0 Wood -> 2 Gold]"},         // zero amount
        {NULL, "[Offer: -1 Wood -> 2 Gold]"},        // negative amount
        {NULL, "[Offer: 3 Wood -> 2 Wood]"},         // one resource on both sides
        {NULL, "[Offer: 3 Wood, 1 Gold -> 2 Gold]"}, // several resources on a side
        {NULL, "[Offer: 3 Stone -> 2 Gold]"},        // unknown resource
        {NULL, "[Offer: 3 Wood 2 Gold]"},            // no arrow
        {NULL, "[Offer: 3 Wood ->]"},                // empty side
        {NULL, "[Offer 3 Wood -> 2 Gold]"},          // no colon
        {NULL, "[Offer: 3.5 Wood -> 2 Gold]"},       // not an integer
        {NULL, "[Offer: 03 Wood -> 2 Gold]"},        // not canonical
        {NULL, "I accept."},                         // no bracketed move
        {NULL, "[Accept it]"},                       // extra words inside
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        for (int rule = 0; rule < 2; rule++) {
            vkt_game g;
            vkt_game_create(&g, "negotiation", NULL);
            vkt_game_set_invalid_rule(&g, rule ? VKT_INVALID_TRAINING : VKT_INVALID_EVAL);
            vkt_game_reset(&g, 2, NULL);
            if (cases[k].setup) {
                play(&g, cases[k].setup); // player 0 offers,
                play(&g, "[Deny]");       // player 1 denies: nothing is addressed to player 0
            }
            int mover = vkt_game_current_player(&g);
            const char *m = cases[k].move;
            int a;
            bool invalid;
            vkt_error err = {0};
            assert_int_equal(vkt_protocol_step(&g, m, strlen(m), &a, &invalid, &err), VKT_OK);
            if (!invalid) fail_msg("case %zu '%s' was accepted as action %d", k, m, a);
            assert_int_equal(a, VKT_ACTION_INVALID);
            assert_true(strlen(err.msg) > 0);
            assert_true(vkt_game_is_terminal(&g));
            double r[2];
            vkt_game_returns(&g, r);
            assert_true(r[mover] == (rule ? -1.5 : -1.0));
            assert_true(r[1 - mover] == (rule ? 0.5 : 1.0));
        }
    }
}

static void test_random_values(void **st) {
    vkt_game g, h;
    assert_int_equal(vkt_game_create(&g, "negotiation:random_values", NULL), VKT_OK);
    vkt_game_clone(&h, &g);
    int differ = 0;
    for (int seed = 0; seed < 50; seed++) {
        vkt_game_reset(&g, (uint64_t)seed, NULL);
        vkt_game_reset(&h, (uint64_t)seed, NULL);
        const vkt_negotiation *a = vkt_negotiation_state(&g), *b = vkt_negotiation_state(&h);
        assert_memory_equal(a->values, b->values, sizeof a->values); // same seed, same values
        for (int p = 0; p < 2; p++)
            for (int r = 0; r < 2; r++) assert_true(a->values[p][r] >= 5 && a->values[p][r] <= 25);
        differ += a->values[0][0] != 5 || a->values[0][1] != 15;
    }
    assert_true(differ > 40);
    vkt_error err = {0};
    assert_int_equal(vkt_game_create(&g, "negotiation:turns=1", &err), VKT_ERR_ARG);
    assert_int_equal(vkt_game_create(&g, "negotiation:random_values=maybe", &err), VKT_ERR_ARG);
    // The observation shows the player's own values and the moves hint.
    vkt_game_create(&g, "negotiation", NULL);
    vkt_game_reset(&g, 0, NULL);
    char obs[8192];
    vkt_protocol_observation(&g, 0, obs, sizeof obs);
    assert_non_null(strstr(obs, "You value Wood at 5 and Gold at 15"));
    assert_non_null(strstr(
        obs,
        "Available Moves: [Deny], [Offer: X Wood -> Y Gold] with 1 <= X <= 10 and 1 <= Y <= 10"));
    assert_null(strstr(obs, "Available Moves: [Accept]"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conservation),
        cmocka_unit_test(test_trade_rules),
        cmocka_unit_test(test_invalid_moves),
        cmocka_unit_test(test_random_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
