// test_protocol.c: move extraction and strict matching, invalid-move scoring, and a
// fixed-seed fuzz: random bytes and mutated legal strings at random states of every
// game never crash the parser and never yield an illegal action.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "kuhn.h"
#include "protocol.h"

static void expect_extract(const char *text, const char *want) {
    char out[VKT_MOVE_TEXT_MAX];
    bool ok = vkt_protocol_extract(text, strlen(text), out, sizeof out);
    if (!want) {
        if (ok) fail_msg("'%s' extracted '%s', expected nothing", text, out);
        return;
    }
    if (!ok) fail_msg("'%s' extracted nothing, expected '%s'", text, want);
    if (strcmp(out, want)) fail_msg("'%s' extracted '%s', expected '%s'", text, out, want);
}

static void test_extract(void **st) {
    expect_extract("[Bet]", "Bet");
    expect_extract("I will [Check] or maybe [Bet].", "Bet");
    expect_extract("\\boxed{Bet}", "Bet");
    expect_extract("\\boxed{ [Call] }", "Call");
    expect_extract("\\boxed{\\text{Fold}}", "Fold");
    expect_extract("\\boxed{\\text{Offer: 3 Wood} -> 2 Gold}", "Offer: 3 Wood -> 2 Gold");
    expect_extract("[Bet] but finally \\boxed{Check} [Call]", "Check"); // boxed wins over brackets
    expect_extract("\\boxed{a} then \\boxed{b{c}d}", "b{c}d");          // braces matched, last box
    expect_extract("\\boxed{Bet} \\boxed{Call", "Bet");                 // unclosed box ignored
    expect_extract("\\boxed{Call [Bet]", "Bet");                        // no complete box: brackets
    expect_extract("no move here", NULL);
    expect_extract("] [", NULL);
    expect_extract("[]", "");
    expect_extract("[a [b] c]", "b");
    char nul[] = "[Be\0t]";
    char out[64];
    assert_true(vkt_protocol_extract(nul, sizeof nul - 1, out, sizeof out));
    assert_int_equal(strlen(out), 4); // the NUL became a byte that matches nothing
    char norm[64];
    vkt_protocol_normalize("  Offer:\t3  WOOD \n-> 2 Gold ", true, norm, sizeof norm);
    assert_string_equal(norm, "offer: 3 wood -> 2 gold");
    vkt_protocol_normalize("A  B", false, norm, sizeof norm);
    assert_string_equal(norm, "A B");
}

static void test_match_kuhn(void **st) {
    vkt_game g;
    vkt_game_create(&g, "kuhn", NULL);
    vkt_game_reset(&g, 0, NULL);
    vkt_kuhn_set_hand(&g, 0, 1, "", NULL);
    int a;
    vkt_error err = {0};
    assert_int_equal(vkt_protocol_parse(&g, "[ bEt ]", 7, &a, NULL), VKT_OK);
    assert_int_equal(a, VKT_KUHN_BET);
    assert_int_equal(vkt_protocol_parse(&g, "\\boxed{check}", 13, &a, NULL), VKT_OK);
    assert_int_equal(a, VKT_KUHN_PASS);
    assert_int_equal(vkt_protocol_parse(&g, "[Call]", 6, &a, &err),
                     VKT_ERR_FORMAT); // not facing a bet
    assert_non_null(strstr(err.msg, "[Check], [Bet]"));
    assert_int_equal(a, VKT_ACTION_INVALID);
    assert_int_equal(vkt_protocol_parse(&g, "[Bet now]", 9, &a, NULL), VKT_ERR_FORMAT);
    assert_int_equal(vkt_protocol_parse(&g, "[B et]", 6, &a, NULL), VKT_ERR_FORMAT);
    assert_int_equal(vkt_protocol_parse(&g, "Bet", 3, &a, &err), VKT_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "no move"));
    // A long candidate can never be truncated into a legal one.
    char longmove[600];
    memset(longmove, ' ', sizeof longmove);
    memcpy(longmove, "[Bet", 4);
    longmove[598] = 'x';
    longmove[599] = ']';
    assert_int_equal(vkt_protocol_parse(&g, longmove, sizeof longmove, &a, NULL), VKT_ERR_FORMAT);
}

static void test_step_and_rules(void **st) {
    for (int rule = 0; rule < 2; rule++) {
        vkt_game g;
        vkt_game_create(&g, "tictactoe", NULL);
        if (rule) vkt_game_set_invalid_rule(&g, VKT_INVALID_TRAINING);
        vkt_game_reset(&g, 0, NULL);
        int a;
        bool invalid;
        vkt_error err = {0};
        assert_int_equal(vkt_protocol_step(&g, "\\boxed{4}", 9, &a, &invalid, &err), VKT_OK);
        assert_false(invalid);
        assert_int_equal(a, 4);
        assert_int_equal(vkt_protocol_step(&g, "[4]", 3, &a, &invalid, &err), VKT_OK); // taken
        assert_true(invalid);
        assert_true(vkt_game_is_terminal(&g));
        assert_int_equal(g.forfeited_by, 1);
        double r[2];
        vkt_game_returns(&g, r);
        assert_true(r[1] == (rule ? -1.5 : -1.0) && r[0] == (rule ? 0.5 : 1.0));
        assert_int_equal(vkt_protocol_step(&g, "[0]", 3, &a, &invalid, &err), VKT_ERR_ARG); // over
        char obs[2048];
        vkt_protocol_observation(&g, 0, obs, sizeof obs);
        assert_non_null(strstr(obs, "invalid move by Player 1"));
        // A reset clears the forfeit.
        vkt_game_reset(&g, 0, NULL);
        assert_false(vkt_game_is_terminal(&g));
    }
}

// ---- fuzz ------------------------------------------------------------------------

static const char *specs[] = {"tictactoe", "kuhn", "kuhn:rounds=3", "negotiation",
                              "negotiation:random_values"};

// A random non-terminal state of a random game.
static void random_state(vkt_game *g, vkt_rng *rng) {
    for (;;) {
        vkt_game_create(g, specs[vkt_rng_below(rng, 5)], NULL);
        vkt_game_reset(g, vkt_rng_u64(rng), NULL);
        int steps = (int)vkt_rng_below(rng, 10);
        vkt_agent rnd = vkt_agent_random();
        for (int i = 0; i < steps && !vkt_game_is_terminal(g); i++) {
            int a;
            vkt_agent_act(&rnd, g, vkt_game_current_player(g), rng, &a, NULL);
            vkt_game_apply(g, a, NULL);
        }
        if (!vkt_game_is_terminal(g)) return;
    }
}

static size_t mutate(char *buf, size_t len, size_t cap, vkt_rng *rng) {
    static const char alphabet[] =
        "[]{}\\ \t\n:->,0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    int edits = (int)vkt_rng_below(rng, 4);
    for (int e = 0; e < edits; e++) {
        size_t pos = len ? (size_t)vkt_rng_below(rng, len + 1) : 0;
        char c = vkt_rng_below(rng, 8) == 0 ? (char)vkt_rng_below(rng, 256)
                                            : alphabet[vkt_rng_below(rng, sizeof alphabet - 1)];
        switch (vkt_rng_below(rng, 4)) {
        case 0: // insert
            if (len + 1 < cap) {
                memmove(buf + pos + 1, buf + pos, len - pos);
                buf[pos] = c;
                len++;
            }
            break;
        case 1: // delete
            if (pos < len) {
                memmove(buf + pos, buf + pos + 1, len - pos - 1);
                len--;
            }
            break;
        case 2: // replace
            if (pos < len) buf[pos] = c;
            break;
        default: // flip case
            if (pos < len && ((buf[pos] | 32) >= 'a' && (buf[pos] | 32) <= 'z')) buf[pos] ^= 32;
        }
    }
    return len;
}

// An accepted move must be legal, and its text must really be in the input, compared
// after folding case and dropping whitespace, braces and \text (independently of the
// parser's own extraction).
static void squeeze(const char *in, size_t len, char *out) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '\\' && i + 5 < len && memcmp(in + i, "\\text{", 6) == 0) {
            i += 5;
            continue;
        }
        if (c == ' ' || (c >= '\t' && c <= '\r') || c == '{' || c == '}') continue;
        out[n++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    out[n] = 0;
}

static int check_one(const vkt_game *g, const char *text, size_t len) {
    int a = 12345;
    vkt_error err = {0};
    vkt_status s = vkt_protocol_parse(g, text, len, &a, &err);
    if (s != VKT_OK) {
        assert_int_equal(s, VKT_ERR_FORMAT);
        assert_int_equal(a, VKT_ACTION_INVALID);
        assert_true(strlen(err.msg) > 0);
        return 0;
    }
    assert_true(vkt_game_is_legal(g, a));
    char at[VKT_ACTION_TEXT_MAX], sa[VKT_ACTION_TEXT_MAX], sin[1024];
    vkt_game_action_text(g, a, at, sizeof at, NULL);
    squeeze(at, strlen(at), sa);
    // NULs never belong to an accepted move: look in each NUL-separated piece.
    bool found = false;
    for (size_t i = 0; i < len && !found; i += strnlen(text + i, len - i) + 1) {
        squeeze(text + i, strnlen(text + i, len - i), sin);
        found = strstr(sin, sa) != NULL;
    }
    if (!found) fail_msg("accepted '%s' not present in input '%.*s'", at, (int)len, text);
    return 1;
}

static void test_fuzz(void **st) {
    vkt_rng rng;
    vkt_rng_seed(&rng, 20240601);
    long accepted = 0, total = 0;
    char buf[512];
    vkt_game g;
    for (int it = 0; it < 60000; it++) {
        random_state(&g, &rng);
        size_t len;
        if (it % 3 == 0) { // random bytes
            len = (size_t)vkt_rng_below(&rng, 64);
            for (size_t i = 0; i < len; i++) buf[i] = (char)vkt_rng_below(&rng, 256);
        } else { // a legal move's text, wrapped, then mutated
            int acts[VKT_GAME_MAX_LEGAL];
            int n = vkt_game_legal_actions(&g, acts);
            char at[VKT_ACTION_TEXT_MAX];
            vkt_game_action_text(&g, acts[vkt_rng_below(&rng, (uint64_t)n)], at, sizeof at, NULL);
            static const char *wraps[] = {"[%s]",
                                          "\\boxed{%s}",
                                          "\\boxed{\\text{%s}}",
                                          "I think [%s] is best.",
                                          "%s",
                                          "\\boxed{[%s]}",
                                          "[%s] [%s]"};
            int w = (int)vkt_rng_below(&rng, 7);
            len = (size_t)snprintf(buf, sizeof buf, wraps[w], at, at);
            len = mutate(buf, len, sizeof buf, &rng);
        }
        accepted += check_one(&g, buf, len);
        total++;
    }
    // Both paths were exercised.
    assert_true(accepted > total / 10);
    assert_true(accepted < total);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extract),
        cmocka_unit_test(test_match_kuhn),
        cmocka_unit_test(test_step_and_rules),
        cmocka_unit_test(test_fuzz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
