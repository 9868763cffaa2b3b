// test_selfplay_cli.c: `vkt selfplay` on the other games end to end through the binary
// ctest names in VKT_BIN (skipped when it is not set), with a 1-layer width-32 model and a
// few warm-up steps (the keys and files, not learning): the --json summary per game
// (TicTacToe's per-seat rates and vs_minimax, a mix's per_game objects beside Kuhn's
// exploitability, the off-switch game's regrets), the metrics lines, the deference CSV and
// its figure when /usr/bin/python3 has matplotlib, bad --game values, --kl-uniform's
// metrics and options, and --explore all on the off-switch game.
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

#include "support_cli.h"
#include "support_files.h"

static int skip_without_bin(void **state) {
    if (!test_cli_available()) return -1;
    return 0;
}

static const char *small = "--layers 1 --width 32 --heads 2 --warmup-steps 3 --warmup-rows 16";

// Runs selfplay with --json into dir; returns the parsed summary.
static json_t *run_json(const char *game, const char *extra, const char *dir) {
    char args[1024];
    snprintf(args, sizeof args, "selfplay --game %s %s %s --out %s --json", game, small, extra,
             dir);
    return test_cli_json(args);
}

static json_t *path(json_t *o, const char *a, const char *b, const char *c) {
    json_t *v = json_object_get(o, a);
    if (v && b) v = json_object_get(v, b);
    if (v && c) v = json_object_get(v, c);
    if (!v) fail_msg("JSON: %s.%s.%s missing", a, b ? b : "", c ? c : "");
    return v;
}

// The run's metrics.jsonl, one JSON object per line, as an array (every line must parse).
static json_t *metrics_lines(void) {
    FILE *f = fopen(test_path("metrics.jsonl"), "r");
    assert_non_null(f);
    json_t *all = json_array();
    char line[16384];
    while (fgets(line, sizeof line, f)) {
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        if (!o) fail_msg("metrics.jsonl: %s", je.text);
        json_array_append_new(all, o);
    }
    fclose(f);
    return all;
}

static void check_rates(json_t *e, int games) {
    assert_int_equal(json_integer_value(path(e, "games", NULL, NULL)), games);
    double w = json_number_value(path(e, "win", NULL, NULL)),
           d = json_number_value(path(e, "draw", NULL, NULL));
    double l = json_number_value(path(e, "loss", NULL, NULL));
    assert_true(fabs(w + d + l - 1) < 1e-9);
    for (int k = 0; k < 2; k++) {
        json_t *s = path(e, k ? "seat1" : "seat0", NULL, NULL);
        assert_int_equal(json_integer_value(path(s, "games", NULL, NULL)), games / 2);
    }
    path(e, "invalid_per_move", NULL, NULL);
}

static void test_tictactoe_and_mix(void **st) {
    (void)st;
    const char *dir = test_dir();
    json_t *j = run_json("tictactoe", "--games 0 --eval-games 6", dir);
    assert_string_equal(json_string_value(path(j, "game", NULL, NULL)), "tictactoe");
    assert_int_equal(json_integer_value(path(j, "games", NULL, NULL)), 0);
    check_rates(path(j, "vs_random", NULL, NULL), 6);
    check_rates(path(j, "vs_minimax", NULL, NULL), 6);
    assert_null(json_object_get(j, "exploitability")); // Kuhn-only
    json_decref(j);
    // A mix: per-game objects, Kuhn's exact analysis beside them; two updates of 4 + 4 games
    // (a new run in the same --out: --overwrite, else exit 2).
    j = run_json("kuhn,tictactoe",
                 "--games 16 --games-per-update 8 --eval-every 1 --eval-games 4 --overwrite", dir);
    check_rates(path(j, "per_game", "kuhn", "vs_nash"), 4);
    check_rates(path(j, "per_game", "tictactoe", "vs_minimax"), 4);
    assert_true(json_is_number(path(j, "exploitability", NULL, NULL)));
    assert_int_equal(json_integer_value(path(j, "updates", NULL, NULL)), 2);
    json_decref(j);
    json_t *lines = metrics_lines(), *o;
    size_t k;
    int updates = 0, evals = 0;
    json_array_foreach(lines, k, o) {
        if (json_object_get(o, "update")) {
            updates++;
            assert_int_equal(json_integer_value(path(o, "per_game", "kuhn", "games")), 4);
            assert_int_equal(json_integer_value(path(o, "per_game", "tictactoe", "games")), 4);
        } else {
            evals++;
            path(o, "per_game", "tictactoe", "vs_random");
        }
    }
    json_decref(lines);
    assert_int_equal(updates, 2);
    assert_int_equal(evals, 3);
}

static void test_offswitch(void **st) {
    (void)st;
    const char *dir = test_dir();
    json_t *j = run_json(
        "offswitch", "--explore sample --games 16 --games-per-update 16 --eval-episodes 40", dir);
    assert_int_equal(json_integer_value(path(j, "episodes", NULL, NULL)), 40);
    double wait = json_number_value(path(j, "fixed_regret", "wait", NULL));
    assert_true(wait > 0 && wait < json_number_value(path(j, "fixed_regret", "act", NULL)));
    assert_string_equal(json_string_value(path(j, "best_fixed", NULL, NULL)), "wait");
    double r = json_number_value(path(j, "regret", NULL, NULL)),
           a = json_number_value(path(j, "agreement", NULL, NULL));
    assert_true(r >= 0 && a >= 0 && a <= 1);
    assert_true(json_is_boolean(path(j, "beats_fixed", NULL, NULL)));
    double pc = 0;
    for (int k = 0; k < 3; k++)
        pc += json_number_value(path(j, "p_choice",
                                     k == 0   ? "act"
                                     : k == 1 ? "off"
                                              : "wait",
                                     NULL));
    assert_true(fabs(pc - 1) < 1e-6);
    const char *csv = json_string_value(path(j, "deference_csv", NULL, NULL));
    FILE *f = fopen(csv, "r");
    assert_non_null(f);
    char line[1024];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(
        line, "delta_lo,delta_hi,episodes,mean_delta,theory_p_wait,model_p_wait,model_p_wait_se,"
              "model_p_act,model_p_off\n");
    int episodes = 0;
    while (fgets(line, sizeof line, f)) {
        double lo, hi;
        int n;
        assert_int_equal(sscanf(line, "%lf,%lf,%d,", &lo, &hi, &n), 3);
        assert_true(fabs(hi - lo - 0.025) < 1e-9 && n > 0);
        episodes += n;
    }
    fclose(f);
    assert_int_equal(episodes, 40);
    if (system("/usr/bin/python3 -c 'import matplotlib' 2>/dev/null") == 0) {
        f = fopen(json_string_value(path(j, "deference_png", NULL, NULL)), "rb");
        assert_non_null(f);
        unsigned char sig[8];
        assert_int_equal(fread(sig, 1, 8, f), 8);
        assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
        fclose(f);
    } else {
        print_message("no matplotlib: the figure is not tested\n");
    }
    json_decref(j);
}

static void test_bad_games(void **st) {
    (void)st;
    char *err = NULL;
    assert_int_equal(test_cli("selfplay --game kuhn,chess --games 1", NULL, NULL, &err), 2);
    assert_non_null(strstr(err, "'chess' is not a game"));
    free(err);
    assert_int_equal(test_cli("selfplay --game kuhn:rounds=3 --games 1", NULL, NULL, &err), 2);
    assert_non_null(strstr(err, "kuhn:rounds=3 has no compact prompt"));
    free(err);
    char *out = NULL;
    assert_int_equal(test_cli("selfplay --help", NULL, &out, NULL), 0);
    assert_non_null(strstr(out, "--eval-episodes"));
    assert_non_null(strstr(out, "kuhn,tictactoe,negotiation"));
    assert_non_null(strstr(out, "--kl-uniform"));
    free(out);
    // The KL-to-uniform term needs every legal answer: refused for negotiation's ~400.
    assert_int_equal(
        test_cli("selfplay --game negotiation --kl-uniform 0.1 --games 1", NULL, NULL, &err), 2);
    assert_non_null(strstr(err, "too many legal moves"));
    free(err);
    assert_int_equal(test_cli("selfplay --kl-uniform -1 --games 1", NULL, NULL, &err), 2);
    free(err);
    assert_int_equal(test_cli("selfplay --kl-anneal 2 --games 1", NULL, NULL, &err), 2);
    free(err);
    // Refused before a device opens: the anneal only decays.
    assert_int_equal(test_cli("selfplay --kl-uniform-end 0.5 --games 1", NULL, NULL, &err), 2);
    assert_non_null(strstr(err, "exceeds kl_uniform 0.05"));
    free(err);
    assert_int_equal(test_cli("selfplay --format-credit maybe --games 1", NULL, NULL, &err), 2);
    assert_non_null(strstr(err, "auto, on or off"));
    free(err);
    // Format credit needs every legal answer too.
    assert_int_equal(
        test_cli("selfplay --game negotiation --format-credit on --games 1", NULL, NULL, &err), 2);
    assert_non_null(strstr(err, "format_credit needs every legal answer"));
    free(err);
}

// --kl-uniform: every update line reports the term (rows, KL, legal mass) and the run's
// options keep its coefficient for --resume.
static void test_kl_uniform(void **st) {
    (void)st;
    const char *dir = test_dir();
    // --kl-anneal 1: the coefficient decays from the start, 0.25 then 0.125 at half the games.
    json_t *j =
        run_json("kuhn",
                 "--games 48 --games-per-update 24 --kl-uniform 0.25 --kl-anneal 1 --eval-every 2 "
                 "--eval-games 4",
                 dir);
    assert_int_equal(json_integer_value(path(j, "updates", NULL, NULL)), 2);
    assert_true(json_number_value(path(j, "kl_anneal", NULL, NULL)) == 1);
    assert_true(json_is_true(path(j, "format_credit", NULL, NULL))); // auto: on for kuhn
    json_decref(j);
    json_t *lines = metrics_lines(), *o;
    size_t k;
    int updates = 0;
    json_array_foreach(lines, k, o) {
        if (json_object_get(o, "update")) {
            updates++;
            assert_true(json_number_value(path(o, "kl_uniform_coef", NULL, NULL)) ==
                        0.25 / updates);
            int rows = (int)json_integer_value(path(o, "uniform_rows", NULL, NULL));
            assert_true(rows >= 2 && rows <= 24 && rows % 2 == 0); // two answers per Kuhn state
            assert_true(json_number_value(path(o, "kl_uniform", NULL, NULL)) > 0);
            double mass = json_number_value(path(o, "legal_mass", NULL, NULL));
            assert_true(mass > 0 && mass <= 1 + 1e-6);
            // Format credit: the sampled legal answers are among the valid decisions (this tiny
            // run's are mostly invalid; test_rl_rollout checks the marks).
            const json_int_t ft = json_integer_value(path(o, "format_turns", NULL, NULL));
            assert_true(ft >= 0 && ft <= json_integer_value(path(o, "decisions", NULL, NULL)) -
                                             json_integer_value(path(o, "invalid", NULL, NULL)));
            assert_true(json_integer_value(path(o, "invalid_clamped", NULL, NULL)) <=
                        json_integer_value(path(o, "invalid", NULL, NULL)));
        }
    }
    json_decref(lines);
    assert_int_equal(updates, 2);
    json_error_t je;
    json_t *ro = json_load_file(test_path("run_options.json"), 0, &je);
    assert_non_null(ro);
    assert_true(json_number_value(path(ro, "kl_uniform", NULL, NULL)) == 0.25);
    assert_true(json_number_value(path(ro, "kl_anneal", NULL, NULL)) == 1);
    assert_int_equal(json_integer_value(path(ro, "format_credit", NULL, NULL)),
                     -1); // auto, resolved again
    json_decref(ro);
}

// The off-switch game alone explores every answer by default (--explore auto): every update
// explores the 3 answers of 8 episodes
// (no invalid move can be played, so the summary's invalid_rate is null and the final
// policy's sampled answers are reported); the options keep it (and --lr-warmup) for --resume.
static void test_offswitch_explore(void **st) {
    (void)st;
    const char *dir = test_dir();
    const char *args =
        "--lr-warmup 2 --games 48 --games-per-update 24 --eval-episodes 30 --no-plot"; // auto: all
    json_t *j = run_json("offswitch", args, dir);
    assert_string_equal(json_string_value(path(j, "explore", NULL, NULL)), "all");
    assert_true(json_is_null(path(j, "invalid_rate", NULL, NULL)));
    double inv = json_number_value(path(j, "invalid_final", NULL, NULL));
    assert_true(inv >= 0 && inv <= 1);
    assert_int_equal(json_integer_value(path(j, "updates", NULL, NULL)), 2);
    assert_int_equal(json_integer_value(path(j, "lr_warmup", NULL, NULL)), 2);
    assert_true(json_number_value(path(j, "kl_uniform", NULL, NULL)) ==
                0.01); // its auto value here
    json_decref(j);
    json_t *lines = metrics_lines(), *o;
    size_t k;
    int updates = 0;
    json_array_foreach(lines, k, o) {
        if (json_object_get(o, "update")) {
            updates++;
            assert_int_equal(json_integer_value(path(o, "decisions", NULL, NULL)), 24);
            assert_int_equal(json_integer_value(path(o, "uniform_rows", NULL, NULL)),
                             24); // 8 episodes x 3
            assert_int_equal(json_integer_value(path(o, "invalid", NULL, NULL)), 0);
            assert_true(json_integer_value(path(o, "kept", NULL, NULL)) > 0); // act pays U, off 0
        }
    }
    json_decref(lines);
    assert_int_equal(updates, 2);
    json_error_t je;
    json_t *ro = json_load_file(test_path("run_options.json"), 0, &je);
    assert_non_null(ro);
    assert_string_equal(json_string_value(path(ro, "explore", NULL, NULL)), "auto");
    assert_int_equal(json_integer_value(path(ro, "lr_warmup", NULL, NULL)), 2);
    json_decref(ro);
    char resume[1024];
    snprintf(resume, sizeof resume, "selfplay --resume --games 72 --out %s --json --no-plot", dir);
    j = test_cli_json(resume);
    assert_string_equal(json_string_value(path(j, "explore", NULL, NULL)), "all");
    assert_int_equal(json_integer_value(path(j, "updates", NULL, NULL)), 3);
    json_decref(j);
    char *err = NULL;
    assert_int_equal(test_cli("selfplay --explore maybe --games 1", NULL, NULL, &err), 2);
    assert_non_null(strstr(err, "sample or all"));
    free(err);
    assert_int_equal(test_cli("selfplay --game kuhn --explore all --games 1", NULL, NULL, &err), 2);
    assert_non_null(strstr(err, "explore all"));
    free(err);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_games),
        cmocka_unit_test_setup_teardown(test_tictactoe_and_mix, test_dir_setup, test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_offswitch, test_dir_setup, test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_kl_uniform, test_dir_setup, test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_offswitch_explore, test_dir_setup, test_dir_teardown),
    };
    return cmocka_run_group_tests(tests, skip_without_bin, NULL);
}
