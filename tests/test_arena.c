// test_arena.c: the games CLI end to end (vkt arena, vkt kuhn exploitability,
// vkt play through a pipe), using the binary ctest names in VKT_BIN. Skipped when
// VKT_BIN is not set (the test binary run by hand).
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

#include "checkpoint.h"
#include "support_cli.h"
#include "support_gpu.h"
#include "support_model.h"

// $VKT_BIN args (stdin from `input` when given): exit code and stdout.
static int run(const char *args, const char *input, char **out) {
    return test_cli(args, input, out, NULL);
}

static int skip_without_bin(void **st) {
    if (!test_cli_available()) return -1;
    return 0;
}

static double num(json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    if (!v) fail_msg("JSON key %s missing", key);
    return json_number_value(v);
}

static void test_exploitability_cli(void **st) {
    if (skip_without_bin(st)) {
        skip();
    }
    static const struct {
        const char *policy;
        double nash_conv;
    } cases[] = {
        {"random", 11.0 / 12},
        {"always-pass", 2.0},
        {"nash", 0.0},
        {"nash:0.3", 0.0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char args[256], *out;
        snprintf(args, sizeof args, "kuhn exploitability --policy %s --json", cases[i].policy);
        assert_int_equal(run(args, NULL, &out), 0);
        json_t *o = json_loads(out, 0, NULL);
        assert_non_null(o);
        assert_true(fabs(num(o, "nash_conv") - cases[i].nash_conv) < 1e-12);
        assert_true(fabs(num(o, "exploitability") - cases[i].nash_conv / 2) < 1e-12);
        if (!strncmp(cases[i].policy, "nash", 4))
            assert_true(fabs(num(o, "value") + 1.0 / 18) < 1e-12);
        json_decref(o);
        free(out);
    }
    char *out;
    assert_int_equal(run("kuhn exploitability --policy /nonexistent.json", NULL, &out), 1);
    free(out);
    assert_int_equal(run("kuhn exploitability --policy nash:0.5", NULL, &out), 2);
    free(out);
    assert_int_equal(run("kuhn exploitability", NULL, &out), 2);
    free(out);
}

static void test_arena_cli(void **st) {
    if (skip_without_bin(st)) {
        skip();
    }
    char *out;
    assert_int_equal(
        run("arena --game kuhn --p0 nash --p1 nash --games 50000 --seed 3 --json", NULL, &out), 0);
    json_t *o = json_loads(out, 0, NULL);
    assert_non_null(o);
    assert_int_equal((int)num(o, "games"), 50000);
    double m = num(o, "p0_mean_return"), ci = num(o, "p0_return_ci95");
    // Within 3.3 standard errors (99.9%) of -1/18; the 95%-coverage check over 20
    // seeds is in test_kuhn.
    assert_true(fabs(m + 1.0 / 18) < 3.3 / 1.96 * ci);
    assert_true(fabs(num(o, "p0_win_rate") + num(o, "p1_win_rate") + num(o, "draw_rate") - 1) <
                1e-9);
    json_decref(o);
    free(out);
    assert_int_equal(
        run("arena --game tictactoe --p0 random --p1 minimax --games 500 --json", NULL, &out), 0);
    o = json_loads(out, 0, NULL);
    assert_true(num(o, "p0_win_rate") == 0.0);
    json_decref(o);
    free(out);
    assert_int_equal(
        run("arena --game kuhn:rounds=3 --p0 random --p1 always-bet --games 10", NULL, &out), 0);
    free(out);
    assert_int_equal(run("arena --game kuhn --p0 minimax --p1 nash --games 10", NULL, &out), 2);
    free(out);
    assert_int_equal(run("arena --game chess --p0 random --p1 random --games 10", NULL, &out), 2);
    free(out);
    assert_int_equal(run("arena --game negotiation --p0 greedy --p1 random --games 0", NULL, &out),
                     2);
    free(out);
    assert_int_equal(run("arena --help", NULL, &out), 0);
    assert_non_null(strstr(out, "usage: vkt arena"));
    free(out);
}

static void test_play_cli(void **st) {
    if (skip_without_bin(st)) {
        skip();
    }
    char *out;
    // Illegal input is answered with the legal moves and the game goes on to its end.
    const char *moves = "hello\n4\n4\n0\n1\n2\n3\n5\n6\n7\n8\n";
    assert_int_equal(run("play --game tictactoe --opponent minimax --seed 1", moves, &out), 0);
    assert_non_null(strstr(out, "'hello' is not a legal move. Available Moves: [0]"));
    assert_non_null(strstr(out, "'4' is not a legal move."));
    assert_non_null(strstr(out, "Result: "));
    assert_null(strstr(out, "Result: you win")); // minimax never loses
    free(out);
    assert_int_equal(run("play --game kuhn --seat 1 --seed 2", "x\ncall\ncheck\nbet\nfold\n", &out),
                     0);
    assert_non_null(strstr(out, "Result: "));
    free(out);
    // Input that ends before the game does is a failed run.
    assert_int_equal(run("play --game negotiation --seed 2", "[Deny]\n", &out), 1);
    free(out);
    assert_int_equal(run("play --game tictactoe --seat 2", NULL, &out), 2);
    free(out);
}

// A checkpoint as a player (ckpt:DIR): an untrained tiny model plays (mostly invalid
// moves, which lose under the evaluation rule) and the arena still counts every game.
static void test_ckpt_player(void **st) {
    vkt_ctx *ctx = test_ctx();
    vkt_model *m = test_gpt2(ctx, 1, 64, 3);
    char dir[] = "/tmp/vkt-arena-ckpt-XXXXXX";
    assert_non_null(mkdtemp(dir));
    TEST_OK(ctx, vkt_checkpoint_save_model(m, dir, false));
    vkt_model_destroy(m);
    test_ctx_done(ctx);
    char args[256], *out;
    snprintf(args, sizeof args,
             "arena --game kuhn --p0 ckpt:%s --p1 random --games 12 --seed 2 --json", dir);
    assert_int_equal(run(args, NULL, &out), 0);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    if (!j) fail_msg("not JSON: %s", out);
    assert_int_equal(json_integer_value(json_object_get(j, "games")), 12);
    json_decref(j);
    free(out);
    snprintf(args, sizeof args, "arena --game kuhn --p0 ckpt:%s/missing --p1 random --games 2",
             dir);
    assert_int_equal(run(args, NULL, &out), 1);
    free(out);
    snprintf(args, sizeof args, "rm -rf '%s'", dir);
    assert_int_equal(system(args), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exploitability_cli),
        cmocka_unit_test(test_arena_cli),
        cmocka_unit_test(test_play_cli),
        cmocka_unit_test(test_ckpt_player),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
