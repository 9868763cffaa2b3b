// test_tictactoe.c: the TicTacToe engine against OpenSpiel's facts (5478 reachable
// states, perfect play draws) and the minimax opponent against random play.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "arena.h"
#include "protocol.h"
#include "tictactoe.h"

// Distinct positions reachable from the empty board through the generic interface
// (clone + apply), terminals included; a position is its board (the mover follows).
static int count_states(const vkt_game *g, uint8_t *seen) {
    const vkt_tictactoe *s = vkt_tictactoe_state(g);
    int code = 0;
    for (int i = 0; i < 9; i++) code = code * 3 + (s->board[i] + 1);
    if (seen[code]) return 0;
    seen[code] = 1;
    int n = 1, acts[VKT_GAME_MAX_LEGAL];
    int k = vkt_game_legal_actions(g, acts);
    for (int i = 0; i < k; i++) {
        vkt_game child;
        vkt_game_clone(&child, g);
        assert_int_equal(vkt_game_apply(&child, acts[i], NULL), VKT_OK);
        n += count_states(&child, seen);
    }
    return n;
}

static void test_reachable_states(void **st) {
    vkt_game g;
    assert_int_equal(vkt_game_create(&g, "tictactoe", NULL), VKT_OK);
    assert_int_equal(vkt_game_reset(&g, 0, NULL), VKT_OK);
    uint8_t *seen = calloc(19683, 1);
    assert_int_equal(count_states(&g, seen), 5478);
    free(seen);
}

static void test_solved_value(void **st) { assert_int_equal(vkt_tictactoe_solved_value(), 0); }

static void test_rules(void **st) {
    vkt_game g;
    vkt_game_create(&g, "tictactoe", NULL);
    vkt_game_reset(&g, 0, NULL);
    int moves[] = {0, 3, 1, 4};
    for (int i = 0; i < 4; i++) assert_int_equal(vkt_game_apply(&g, moves[i], NULL), VKT_OK);
    vkt_error err = {0};
    vkt_game before;
    vkt_game_clone(&before, &g);
    assert_int_equal(vkt_game_apply(&g, 3, &err), VKT_ERR_ARG); // taken
    assert_non_null(strstr(err.msg, "cell 3"));
    assert_int_equal(vkt_game_apply(&g, 9, &err), VKT_ERR_ARG);
    assert_memory_equal(&before, &g, sizeof g);            // a rejected move changes nothing
    assert_int_equal(vkt_game_apply(&g, 2, NULL), VKT_OK); // top row
    assert_true(vkt_game_is_terminal(&g));
    double r[2];
    vkt_game_returns(&g, r);
    assert_true(r[0] == 1 && r[1] == -1);
    assert_int_equal(vkt_game_apply(&g, 5, &err), VKT_ERR_ARG);
    // A full board with no line is a draw.
    vkt_game_reset(&g, 0, NULL);
    int draw[] = {0, 1, 2, 4, 3, 5, 7, 6, 8};
    for (int i = 0; i < 9; i++) {
        assert_false(vkt_game_is_terminal(&g));
        assert_int_equal(vkt_game_apply(&g, draw[i], NULL), VKT_OK);
    }
    assert_true(vkt_game_is_terminal(&g));
    vkt_game_returns(&g, r);
    assert_true(r[0] == 0 && r[1] == 0);
}

// The exact observation text documented in docs/games.md.
static void test_observation_text(void **st) {
    vkt_game g;
    vkt_game_create(&g, "tictactoe", NULL);
    vkt_game_reset(&g, 0, NULL);
    vkt_game_apply(&g, 4, NULL);
    char obs[2048];
    size_t n = vkt_protocol_observation(&g, 1, obs, sizeof obs);
    const char *want = "You are Player 1 (O) in a game of Tic Tac Toe against Player 0 (X).\n"
                       "Rules: the board has 9 cells numbered 0 to 8, row by row. Players take "
                       "turns marking an empty cell; "
                       "Player 0 (X) moves first. Three of your marks in a row, column or diagonal "
                       "wins; a full board with no "
                       "line is a draw.\n"
                       "Give your move as the cell number in brackets, e.g. [4].\n"
                       "Moves so far: Player 0 (X) [4].\n"
                       "Current board:\n"
                       " 0 | 1 | 2 \n"
                       "---+---+---\n"
                       " 3 | X | 5 \n"
                       "---+---+---\n"
                       " 6 | 7 | 8 \n"
                       "Available Moves: [0], [1], [2], [3], [5], [6], [7], [8]\n";
    assert_string_equal(obs, want);
    assert_int_equal(n, strlen(want));
    // snprintf semantics: a short buffer gets a NUL-terminated prefix and the full length.
    char small[16];
    assert_int_equal(vkt_protocol_observation(&g, 1, small, sizeof small), strlen(want));
    assert_int_equal(strlen(small), 15);
    assert_memory_equal(small, want, 15);
}

static void test_minimax_never_loses(void **st) {
    vkt_game g;
    vkt_game_create(&g, "tictactoe", NULL);
    vkt_agent mm, rnd = vkt_agent_random();
    assert_int_equal(vkt_agent_create("minimax", &vkt_tictactoe_ops, &mm, NULL), VKT_OK);
    vkt_arena_result res;
    vkt_agent *a[2] = {&mm, &rnd};
    assert_int_equal(vkt_arena_run(&g, a, 3000, 1, &res, NULL), VKT_OK);
    assert_int_equal(res.wins[1], 0);
    assert_true(res.wins[0] > 2500); // random rarely holds a draw against X
    vkt_agent *b[2] = {&rnd, &mm};
    assert_int_equal(vkt_arena_run(&g, b, 3000, 2, &res, NULL), VKT_OK);
    assert_int_equal(res.wins[0], 0);
    vkt_agent *c[2] = {&mm, &mm};
    assert_int_equal(vkt_arena_run(&g, c, 300, 3, &res, NULL), VKT_OK);
    assert_int_equal(res.draws, 300);
    // Ties are broken at random: perfect play opens in more than one cell.
    vkt_rng rng;
    vkt_rng_seed(&rng, 4);
    int seen[9] = {0}, distinct = 0;
    vkt_game_reset(&g, 0, NULL);
    for (int i = 0; i < 200; i++) {
        int act;
        vkt_agent_act(&mm, &g, 0, &rng, &act, NULL);
        distinct += !seen[act]++;
    }
    assert_true(distinct > 1);
    vkt_error err = {0};
    vkt_agent_destroy(&mm);
    vkt_agent bad;
    assert_int_equal(vkt_agent_create("nash", &vkt_tictactoe_ops, &bad, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "minimax"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reachable_states),
        cmocka_unit_test(test_solved_value),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_observation_text),
        cmocka_unit_test(test_minimax_never_loses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
