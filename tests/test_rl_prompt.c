// test_rl_prompt.c: the compact role-conditioned Kuhn prompt (exact text and length in
// every information state), answers parsed back by the protocol, the generic prompt for
// other games, snprintf semantics, and the random-play warm-up data (one line per
// decision, legal completions, ~uniform moves, loadable as `--format jsonl` data).
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataset.h"
#include "kuhn.h"
#include "protocol.h"
#include "rl_prompt.h"

static void test_kuhn_prompts(void **st) {
    (void)st;
    static const struct { int c0, c1; const char *hist, *want; } cases[] = {
        {2, 0, "", "Kuhn P0 card K hist - moves [Check] [Bet]\n"},
        {2, 0, "p", "Kuhn P1 card J hist p moves [Check] [Bet]\n"},
        {1, 0, "b", "Kuhn P1 card J hist b moves [Fold] [Call]\n"},
        {1, 2, "pb", "Kuhn P0 card Q hist pb moves [Fold] [Call]\n"},
    };
    vkt_game g;
    assert_int_equal(vkt_game_create(&g, "kuhn", NULL), VKT_OK);
    assert_int_equal(vkt_game_reset(&g, 1, NULL), VKT_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(vkt_kuhn_set_hand(&g, cases[i].c0, cases[i].c1, cases[i].hist, NULL), VKT_OK);
        char buf[256];
        int p = vkt_game_current_player(&g);
        size_t n = vkt_rl_prompt(&g, p, buf, sizeof buf);
        assert_string_equal(buf, cases[i].want);
        assert_int_equal(n, strlen(cases[i].want));
        assert_true(n >= 42 && n <= 44);  // tokens = bytes: the length the docs state
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
            assert_non_null(strstr(buf, ans));  // the prompt lists the answer verbatim
            assert_int_equal(vkt_protocol_parse(&g, ans, strlen(ans), &a, NULL), VKT_OK);
            assert_int_equal(a, acts[k]);
        }
        int a;
        const char *bad = cases[i].hist[strlen(cases[i].hist) ? strlen(cases[i].hist) - 1 : 0] == 'b' ? "[Bet]" : "[Call]";
        assert_int_not_equal(vkt_protocol_parse(&g, bad, strlen(bad), &a, NULL), VKT_OK);
    }
}

static void test_generic_prompt(void **st) {
    (void)st;
    vkt_game g;
    assert_int_equal(vkt_game_create(&g, "tictactoe", NULL), VKT_OK);
    assert_int_equal(vkt_game_reset(&g, 3, NULL), VKT_OK);
    char obs[8192], buf[8192];
    size_t no = vkt_protocol_observation(&g, 0, obs, sizeof obs);
    size_t n = vkt_rl_prompt(&g, 0, buf, sizeof buf);
    assert_int_equal(n, strlen("Tictactoe P0\n") + no + 1);
    assert_int_equal(strlen(buf), n);
    assert_memory_equal(buf, "Tictactoe P0\n", 13);
    assert_memory_equal(buf + 13, obs, no);
    assert_int_equal(buf[n - 1], '\n');
    // Kuhn matches use the generic form too.
    assert_int_equal(vkt_game_create(&g, "kuhn:rounds=3", NULL), VKT_OK);
    assert_int_equal(vkt_game_reset(&g, 3, NULL), VKT_OK);
    n = vkt_rl_prompt(&g, 0, buf, sizeof buf);
    assert_memory_equal(buf, "Kuhn P0\n", 8);
    assert_true(n > 300);
    // Every truncation length keeps the return value and NUL-terminates.
    for (size_t cap = 1; cap < 40; cap++) {
        char b[64];
        memset(b, 'x', sizeof b);
        assert_int_equal(vkt_rl_prompt(&g, 0, b, cap), n);
        assert_true(strlen(b) < cap);
    }
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
        assert_non_null(strstr(p, c));  // the completion is one of the listed moves
        bets += !strcmp(c, "[Bet]") || !strcmp(c, "[Call]");
        first_p0 += strstr(p, "hist -") != NULL && !strncmp(p, "Kuhn P0", 7);
        json_decref(o);
        n++;
    }
    fclose(f);
    assert_int_equal(n, lines);
    assert_int_equal(first_p0, 2000);  // every hand starts with player 0
    double frac = (double)bets / n;    // uniform over two moves: 0.5 +- ~4 sd (sd ~ 0.007)
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
        cmocka_unit_test(test_warmup_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
