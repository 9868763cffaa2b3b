// test_rl_prompt.c: the compact role-conditioned prompts (Kuhn: exact text and length in
// every information state; TicTacToe, Negotiation, Offswitch: exact text), answers parsed
// back by the protocol, each game's prompt-length bound against random play, the generic
// prompt for Kuhn matches, snprintf semantics, the warm-up's random moves (negotiation:
// the kind of move first), and the random-play warm-up data (one line per decision,
// legal completions, ~uniform moves, loadable as `--format jsonl` data).
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataset.h"
#include "kuhn.h"
#include "negotiation.h"
#include "offswitch_game.h"
#include "protocol.h"
#include "rl_prompt.h"

static void test_kuhn_prompts(void **st) {
    (void)st;
    static const struct {
        int c0, c1;
        const char *hist, *want;
    } cases[] = {
        {2, 0, "", "Kuhn P0 hist - moves [Check] [Bet] card K\n"},
        {2, 0, "p", "Kuhn P1 hist p moves [Check] [Bet] card J\n"},
        {1, 0, "b", "Kuhn P1 hist b moves [Fold] [Call] card J\n"},
        {1, 2, "pb", "Kuhn P0 hist pb moves [Fold] [Call] card Q\n"},
    };
    vkt_game g;
    assert_int_equal(vkt_game_create(&g, "kuhn", NULL), VKT_OK);
    assert_int_equal(vkt_game_reset(&g, 1, NULL), VKT_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(vkt_kuhn_set_hand(&g, cases[i].c0, cases[i].c1, cases[i].hist, NULL),
                         VKT_OK);
        char buf[256];
        int p = vkt_game_current_player(&g);
        size_t n = vkt_rl_prompt(&g, p, buf, sizeof buf);
        assert_string_equal(buf, cases[i].want);
        assert_int_equal(n, strlen(cases[i].want));
        assert_true(n >= 42 && n <= 44); // tokens = bytes: the length the docs state
        // Truncation: snprintf semantics.
        char small[10];
        assert_int_equal(vkt_rl_prompt(&g, p, small, sizeof small), n);
        assert_int_equal(strlen(small), 9);
        // Every legal answer parses back to its action; other texts are invalid.
        int acts[VKT_GAME_MAX_LEGAL], na = vkt_game_legal_actions(&g, acts);
        for (int k = 0; k < na; k++) {
            char ans[64];
            int a = -1;
            assert_int_equal(vkt_rl_answer(&g, acts[k], ans, sizeof ans, NULL), VKT_OK);
            assert_non_null(strstr(buf, ans)); // the prompt lists the answer verbatim
            assert_int_equal(vkt_protocol_parse(&g, ans, strlen(ans), &a, NULL), VKT_OK);
            assert_int_equal(a, acts[k]);
        }
        int a;
        const char *bad =
            cases[i].hist[strlen(cases[i].hist) ? strlen(cases[i].hist) - 1 : 0] == 'b' ? "[Bet]"
                                                                                        : "[Call]";
        assert_int_not_equal(vkt_protocol_parse(&g, bad, strlen(bad), &a, NULL), VKT_OK);
    }
}

static void test_generic_prompt(void **st) {
    (void)st;
    // Kuhn matches have no compact form: "<Game> P<seat>\n" + the protocol observation + "\n".
    vkt_game g;
    assert_int_equal(vkt_game_create(&g, "kuhn:rounds=3", NULL), VKT_OK);
    assert_int_equal(vkt_game_reset(&g, 3, NULL), VKT_OK);
    char obs[8192], buf[8192];
    size_t no = vkt_protocol_observation(&g, 0, obs, sizeof obs);
    size_t n = vkt_rl_prompt(&g, 0, buf, sizeof buf);
    assert_int_equal(n, strlen("Kuhn P0\n") + no + 1);
    assert_int_equal(strlen(buf), n);
    assert_memory_equal(buf, "Kuhn P0\n", 8);
    assert_memory_equal(buf + 8, obs, no);
    assert_int_equal(buf[n - 1], '\n');
    assert_true(n > 300);
    assert_int_equal(vkt_rl_prompt_max(&g), 0); // no bound for the protocol form
    // Every truncation length keeps the return value and NUL-terminates.
    for (size_t cap = 1; cap < 40; cap++) {
        char b[64];
        memset(b, 'x', sizeof b);
        assert_int_equal(vkt_rl_prompt(&g, 0, b, cap), n);
        assert_true(strlen(b) < cap);
    }
}

// Plays `spec` from seed with the given actions (NULL-terminated answer texts) and checks
// the prompt of the player then to move.
static void check_prompt(const char *spec, uint64_t seed, const char *const *moves,
                         const char *want) {
    vkt_game g;
    vkt_error err = {0};
    assert_int_equal(vkt_game_create(&g, spec, &err), VKT_OK);
    assert_int_equal(vkt_game_reset(&g, seed, &err), VKT_OK);
    for (int i = 0; moves && moves[i]; i++) {
        int a = -1;
        if (vkt_protocol_parse(&g, moves[i], strlen(moves[i]), &a, &err) != VKT_OK)
            fail_msg("%s: %s", moves[i], err.msg);
        assert_int_equal(vkt_game_apply(&g, a, &err), VKT_OK);
    }
    char buf[512], small[8];
    size_t n = vkt_rl_prompt(&g, vkt_game_current_player(&g), buf, sizeof buf);
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
    assert_true(n <= vkt_rl_prompt_max(&g));
    assert_int_equal(vkt_rl_prompt(&g, vkt_game_current_player(&g), small, sizeof small), n);
    assert_int_equal(strlen(small), sizeof small - 1);
}

static void test_compact_prompts(void **st) {
    (void)st;
    check_prompt("tictactoe", 1, NULL, "TicTacToe P0 X board 012|345|678\n");
    const char *ttt[] = {"[4]", "[0]", "[8]", NULL};
    check_prompt("tictactoe", 1, ttt, "TicTacToe P1 O board O12|3X5|67X\n");
    check_prompt("negotiation", 1, NULL,
                 "Negotiation P0 turn 1/10 values W5 G15 you W10 G10 opp W10 G10 offer none\n");
    const char *neg[] = {"[Offer: 3 Wood -> 2 Gold]", NULL};
    check_prompt(
        "negotiation", 1, neg,
        "Negotiation P1 turn 2/10 values W15 G5 you W10 G10 opp W10 G10 offer +3 Wood -2 Gold\n");
    const char *neg2[] = {"[Offer: 3 Wood -> 2 Gold]", "[Accept]", "[Offer: 4 Gold -> 1 Wood]",
                          NULL};
    check_prompt(
        "negotiation:turns=12", 1, neg2,
        "Negotiation P1 turn 4/12 values W15 G5 you W13 G8 opp W7 G12 offer +4 Gold -1 Wood\n");
    // Off-switch: the episode's numbers as the game's text states them.
    vkt_game g;
    assert_int_equal(vkt_game_create(&g, "offswitch", NULL), VKT_OK);
    for (uint64_t seed = 1; seed < 200; seed++) {
        assert_int_equal(vkt_game_reset(&g, seed, NULL), VKT_OK);
        const vkt_offswitch_episode *e = vkt_offswitch_game_episode(&g);
        char want[256], buf[256];
        double h = e->human.kind == VKT_OFFSWITCH_BOLTZMANN ? e->human.beta
                   : e->human.kind == VKT_OFFSWITCH_NOISY   ? e->human.eps
                                                            : 0;
        snprintf(want, sizeof want,
                 "Offswitch P0 mean %.2f spread %.2f %s %.2f moves [act] [off] [wait]\n",
                 e->prior.mu, e->prior.sigma,
                 e->human.kind == VKT_OFFSWITCH_NOISY ? "error" : "noise", h);
        vkt_rl_prompt(&g, 0, buf, sizeof buf);
        assert_string_equal(buf, want);
        assert_null(strstr(buf, "-0.00"));
    }
    assert_int_equal(vkt_game_reset(&g, 3, NULL), VKT_OK);
    char buf[256], d[4096];
    vkt_rl_prompt(&g, 0, buf, sizeof buf);
    vkt_protocol_observation(&g, 0, d, sizeof d);
    print_message("%s%s", buf, strstr(d, "Your estimate of the action's value:"));
}

// Random play never exceeds the stated bound, and the bound is reached where the docs say.
static void test_prompt_bounds(void **st) {
    (void)st;
    static const struct {
        const char *spec;
        size_t max;
    } cases[] = {
        {"kuhn", 44},        {"tictactoe", 33},
        {"negotiation", 89}, {"negotiation:random_values,turns=50", 89},
        {"offswitch", 72},   {"offswitch:mu=-100:5,noisy=0.5,rational=0.2", 74},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        vkt_game g;
        assert_int_equal(vkt_game_create(&g, cases[c].spec, NULL), VKT_OK);
        size_t bound = vkt_rl_prompt_max(&g), longest = 0;
        assert_int_equal(bound, cases[c].max);
        vkt_rng rng;
        vkt_rng_seed(&rng, 5);
        for (uint64_t k = 0; k < 3000; k++) {
            assert_int_equal(vkt_game_reset(&g, vkt_rng_derive(9, k), NULL), VKT_OK);
            while (!vkt_game_is_terminal(&g)) {
                char buf[512];
                size_t n = vkt_rl_prompt(&g, vkt_game_current_player(&g), buf, sizeof buf);
                assert_true(n <= bound);
                if (n > longest) longest = n;
                int a = vkt_rl_random_action(&g, &rng);
                char ans[128];
                int back = -1;
                assert_int_equal(vkt_rl_answer(&g, a, ans, sizeof ans, NULL), VKT_OK);
                assert_int_equal(vkt_protocol_parse(&g, ans, strlen(ans), &back, NULL), VKT_OK);
                assert_int_equal(back, a);
                assert_int_equal(vkt_game_apply(&g, a, NULL), VKT_OK);
            }
        }
        print_message("%-40s bound %zu, longest seen in 3000 random games %zu\n", cases[c].spec,
                      bound, longest);
        assert_true(longest + 12 >= bound); // a bound, not a guess far above
    }
}

// Negotiation's warm-up moves: the kind of move first (Accept when legal, Deny, offer).
static void test_random_action_negotiation(void **st) {
    (void)st;
    vkt_game g;
    vkt_rng rng;
    vkt_rng_seed(&rng, 3);
    int kinds[2][3] = {{0}}; // [offer pending][accept, deny, offer]
    assert_int_equal(vkt_game_create(&g, "negotiation", NULL), VKT_OK);
    for (uint64_t k = 0; k < 4000; k++) {
        assert_int_equal(vkt_game_reset(&g, k, NULL), VKT_OK);
        while (!vkt_game_is_terminal(&g)) {
            int pending = vkt_game_is_legal(&g, VKT_NEG_ACCEPT);
            int a = vkt_rl_random_action(&g, &rng);
            assert_true(vkt_game_is_legal(&g, a));
            kinds[pending][a == VKT_NEG_ACCEPT ? 0 : a == VKT_NEG_DENY ? 1 : 2]++;
            assert_int_equal(vkt_game_apply(&g, a, NULL), VKT_OK);
        }
    }
    int n0 = kinds[0][1] + kinds[0][2], n1 = kinds[1][0] + kinds[1][1] + kinds[1][2];
    print_message("no offer: deny %d offer %d; offer pending: accept %d deny %d offer %d\n",
                  kinds[0][1], kinds[0][2], kinds[1][0], kinds[1][1], kinds[1][2]);
    assert_int_equal(kinds[0][0], 0);
    assert_true(fabs((double)kinds[0][1] / n0 - 0.5) < 0.02);
    for (int k = 0; k < 3; k++) assert_true(fabs((double)kinds[1][k] / n1 - 1.0 / 3) < 0.02);
    // Other games: one uniform draw over the legal actions (the same stream as before).
    assert_int_equal(vkt_game_create(&g, "tictactoe", NULL), VKT_OK);
    assert_int_equal(vkt_game_reset(&g, 1, NULL), VKT_OK);
    vkt_rng a, b;
    vkt_rng_seed(&a, 11), vkt_rng_seed(&b, 11);
    for (int i = 0; i < 50; i++)
        assert_int_equal(vkt_rl_random_action(&g, &a), (int)vkt_rng_below(&b, 9));
}

static void test_warmup_data(void **st) {
    (void)st;
    char path[] = "/tmp/vkt_warmup_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    int64_t lines = 0;
    assert_int_equal(vkt_rl_warmup_write(f, "kuhn", 2000, 7, &lines, NULL), VKT_OK);
    fclose(f);
    // One hand has 2 or 3 decisions.
    assert_true(lines >= 4000 && lines <= 6000);
    f = fopen(path, "r");
    char line[1024];
    int64_t n = 0, bets = 0, first_p0 = 0;
    while (fgets(line, sizeof line, f)) {
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        assert_non_null(o);
        const char *p = json_string_value(json_object_get(o, "prompt"));
        const char *c = json_string_value(json_object_get(o, "completion"));
        assert_non_null(p);
        assert_non_null(c);
        assert_int_equal(strncmp(p, "Kuhn P", 6), 0);
        assert_non_null(strstr(p, c)); // the completion is one of the listed moves
        bets += !strcmp(c, "[Bet]") || !strcmp(c, "[Call]");
        first_p0 += strstr(p, "hist -") != NULL && !strncmp(p, "Kuhn P0", 7);
        json_decref(o);
        n++;
    }
    fclose(f);
    assert_int_equal(n, lines);
    assert_int_equal(first_p0, 2000); // every hand starts with player 0
    double frac = (double)bets / n;   // uniform over two moves: 0.5 +- ~4 sd (sd ~ 0.007)
    assert_true(frac > 0.47 && frac < 0.53);
    // Same seed, same file; the training loader reads it.
    vkt_dataset d;
    assert_int_equal(vkt_dataset_load(path, VKT_DATA_JSONL, 0.1, &d, NULL), VKT_OK);
    assert_int_equal((int64_t)d.n_ex, lines);
    assert_true(d.ex[0].prompt_len >= 42 && d.ex[0].prompt_len <= 44);
    vkt_dataset_free(&d);
    unlink(path);
    vkt_error err = {0};
    assert_int_equal(vkt_rl_warmup_write(stdout, "chess", 1, 1, NULL, &err), VKT_ERR_ARG);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kuhn_prompts),
        cmocka_unit_test(test_generic_prompt),
        cmocka_unit_test(test_compact_prompts),
        cmocka_unit_test(test_prompt_bounds),
        cmocka_unit_test(test_random_action_negotiation),
        cmocka_unit_test(test_warmup_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
