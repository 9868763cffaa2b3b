// test_select.c: best-of-N selection against hand-computed cases: answer extraction
// (group or whole match, last match, empty matches, anchors, a bad pattern), the three
// rules with their tie-breaks, samples without an answer, N = 1, the Borda weights by
// rank, and the accuracy-vs-N harness.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "select.h"

// ---- extraction ----------------------------------------------------------------------

static void expect_answer_n(const char *pattern, const char *text, size_t len, const char *want) {
    vkt_answer_re *re;
    vkt_error err = {0};
    if (vkt_answer_re_compile(pattern, &re, &err) != VKT_OK) fail_msg("%s", err.msg);
    size_t a = 0, n = 0;
    bool ok = vkt_answer_extract(re, text, len, &a, &n);
    vkt_answer_re_free(re);
    if (!want) {
        if (ok)
            fail_msg("/%s/ on '%s': got '%.*s', expected no answer", pattern, text, (int)n,
                     text + a);
        return;
    }
    if (!ok) fail_msg("/%s/ on '%s': no answer, expected '%s'", pattern, text, want);
    if (n != strlen(want) || memcmp(text + a, want, n))
        fail_msg("/%s/ on '%s': got '%.*s', expected '%s'", pattern, text, (int)n, text + a, want);
}

static void expect_answer(const char *pattern, const char *text, const char *want) {
    expect_answer_n(pattern, text, strlen(text), want);
}

static void test_extract(void **st) {
    (void)st;
    // whole match (no group), the last one
    expect_answer("[0-9]+", "12+34=46", "46");
    expect_answer("-?[0-9]+", "x = 3, then x = -5.", "-5");
    expect_answer("[0-9]+", "no digits", NULL);
    expect_answer("[0-9]+", "", NULL);
    // group 1 is the answer, of the last match
    expect_answer("answer: ([0-9]+)", "answer: 3, no wait, answer: 7 done", "7");
    expect_answer("\\\\boxed\\{([^}]*)\\}", "\\boxed{1} so \\boxed{42}.", "42");
    expect_answer("=([0-9]+)$", "1+1=2", "2");
    // matches do not overlap: left to right, each search resumes after the previous match
    expect_answer("[0-9][0-9]", "12345", "34");
    // empty answers are skipped: [0-9]* matches "" after the digits, the answer stays 46
    expect_answer("[0-9]*", "46 ", "46");
    expect_answer("[0-9]*", "abc", NULL);
    // a group that did not take part in the last match: the previous answer stands
    expect_answer("a(b)?", "ab a", "b");
    expect_answer("a(b)?", "a a", NULL);
    // ^ anchors at the start of the text only, never where a later search resumes
    expect_answer("^([0-9]+)", "12 34", "12");
#ifdef REG_STARTEND
    // a word start sees the text before where a search resumes: "2" follows "1", no match
    expect_answer("\\<[0-9]", "12", "1");
    // a NUL byte is an ordinary byte (generated text may hold one)
    expect_answer_n("[0-9]", "7\0009", 3, "9");
#endif
    // only len bytes are searched
    expect_answer_n("[0-9]+", "12+34", 3, "12");
}

static void test_bad_regex(void **st) {
    (void)st;
    vkt_answer_re *re = (vkt_answer_re *)1;
    vkt_error err = {0};
    assert_int_equal(vkt_answer_re_compile("([0-9]+", &re, &err), VKT_ERR_ARG);
    assert_null(re);
    assert_non_null(strstr(err.msg, "answer regex '([0-9]+'"));
    assert_true(strlen(err.msg) > strlen("answer regex '([0-9]+': ")); // regerror's reason follows
    assert_int_equal(vkt_answer_re_compile("[z-a]", &re, &err), VKT_ERR_ARG);
    assert_int_equal(vkt_answer_re_compile(NULL, &re, &err), VKT_ERR_ARG);
    vkt_answer_re_free(NULL);
}

static void test_rule_names(void **st) {
    (void)st;
    vkt_select_rule r;
    vkt_error err = {0};
    for (int i = 0; i < VKT_SELECT_RULES; i++) {
        assert_int_equal(vkt_select_rule_parse(vkt_select_rule_name((vkt_select_rule)i), &r, &err),
                         VKT_OK);
        assert_int_equal(r, i);
    }
    assert_string_equal(vkt_select_rule_name(VKT_SELECT_SELF_CERTAINTY), "self-certainty");
    assert_int_equal(vkt_select_rule_parse("vote", &r, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "'vote'"));
}

// ---- rules ----------------------------------------------------------------------------

// samples from answer strings (NULL = no answer) and certainties
static void mk(vkt_select_sample *s, int n, const char *const *ans, const double *sc) {
    for (int i = 0; i < n; i++)
        s[i] = (vkt_select_sample){ans[i], ans[i] ? strlen(ans[i]) : 0, sc[i]};
}

// Selects and checks the chosen sample and answer (NULL: none).
static void expect_pick(const vkt_select_sample *s, int n, vkt_select_rule rule, double p,
                        int chosen, const char *answer) {
    vkt_selection sel;
    vkt_error err = {0};
    if (vkt_select(s, n, rule, p, &sel, &err) != VKT_OK) fail_msg("%s", err.msg);
    if (sel.chosen != chosen)
        fail_msg("%s: chose sample %d, expected %d", vkt_select_rule_name(rule), sel.chosen,
                 chosen);
    if (!answer)
        assert_int_equal(sel.answer, -1);
    else {
        assert_true(sel.answer >= 0);
        const vkt_select_sample *w = &s[sel.cand[sel.answer].first];
        if (w->answer_len != strlen(answer) || memcmp(w->answer, answer, w->answer_len))
            fail_msg("%s: answer '%.*s', expected '%s'", vkt_select_rule_name(rule),
                     (int)w->answer_len, w->answer, answer);
        assert_int_equal(s[sel.chosen].answer_len, w->answer_len);
        assert_memory_equal(s[sel.chosen].answer, answer, w->answer_len);
    }
    vkt_selection_free(&sel);
}

static void test_self_certainty(void **st) {
    (void)st;
    vkt_select_sample s[5];
    // the most certain sample has no answer: skipped; B (2.0, index 2) ties A (2.0, index 3):
    // lowest index
    const char *a1[] = {"A", NULL, "B", "A"};
    double c1[] = {1.0, 5.0, 2.0, 2.0};
    mk(s, 4, a1, c1);
    expect_pick(s, 4, VKT_SELECT_SELF_CERTAINTY, 0.5, 2, "B");
    // NaN ranks below every number
    const char *a2[] = {"A", "B"};
    double c2[] = {NAN, -3.0};
    mk(s, 2, a2, c2);
    expect_pick(s, 2, VKT_SELECT_SELF_CERTAINTY, 0.5, 1, "B");
    // nobody answered: no answer, the most certain sample represents
    const char *a3[] = {NULL, NULL, NULL};
    double c3[] = {1.0, 3.0, 2.0};
    mk(s, 3, a3, c3);
    for (int r = 0; r < VKT_SELECT_RULES; r++) expect_pick(s, 3, (vkt_select_rule)r, 0.5, 1, NULL);
}

static void test_majority(void **st) {
    (void)st;
    vkt_select_sample s[5];
    vkt_selection sel;
    vkt_error err = {0};
    // A and B have 2 votes each; A's voters are more certain (3.5 vs 2): A, represented by sample 0
    const char *a1[] = {"A", "B", "B", "A", "C"};
    double c1[] = {3.0, 1.0, 1.0, 0.5, 9.0};
    mk(s, 5, a1, c1);
    expect_pick(s, 5, VKT_SELECT_MAJORITY, 0.5, 0, "A");
    assert_int_equal(vkt_select(s, 5, VKT_SELECT_MAJORITY, 0.5, &sel, &err), VKT_OK);
    assert_int_equal(sel.n_cand, 3);
    assert_int_equal(sel.cand[0].count, 2), assert_int_equal(sel.cand[1].count, 2),
        assert_int_equal(sel.cand[2].count, 1);
    assert_int_equal(sel.cand[0].first, 0), assert_int_equal(sel.cand[1].first, 1),
        assert_int_equal(sel.cand[2].first, 4);
    assert_true(fabs(sel.cand[0].certainty_sum - 3.5) < 1e-15);
    assert_true(fabs(sel.cand[1].certainty_sum - 2.0) < 1e-15);
    int want_cand[] = {0, 1, 1, 0, 2};
    for (int i = 0; i < 5; i++) assert_int_equal(sel.sample_cand[i], want_cand[i]);
    vkt_selection_free(&sel);
    // count and certainty tie: the answer that occurs first (B at 0); its most certain voter is 3
    const char *a2[] = {"B", "A", "A", "B"};
    double c2[] = {1.0, 1.5, 0.5, 1.0};
    mk(s, 4, a2, c2);
    expect_pick(s, 4, VKT_SELECT_MAJORITY, 0.5, 0, "B");
    double c2b[] = {0.5, 1.5, 0.5, 1.5};
    mk(s, 4, a2, c2b);
    expect_pick(s, 4, VKT_SELECT_MAJORITY, 0.5, 3, "B");
    // samples without an answer do not vote, even when they are many
    const char *a3[] = {NULL, NULL, "X", NULL};
    double c3[] = {9.0, 8.0, 0.1, 7.0};
    mk(s, 4, a3, c3);
    for (int r = 0; r < VKT_SELECT_RULES; r++) expect_pick(s, 4, (vkt_select_rule)r, 0.5, 2, "X");
    // answers compare as bytes: "7" and "07" differ
    const char *a4[] = {"07", "7", "7"};
    double c4[] = {5.0, 1.0, 1.0};
    mk(s, 3, a4, c4);
    expect_pick(s, 3, VKT_SELECT_MAJORITY, 0.5, 1, "7");
}

static void test_borda_weights(void **st) {
    (void)st;
    vkt_select_sample s[9];
    vkt_selection sel;
    vkt_error err = {0};
    // N = 4: ranks by certainty 1 (s1), 2 (s2), 3 (s3), 4 (s0); weights 2, sqrt 3, sqrt 2, 1
    const char *a1[] = {"A", "B", "A", NULL};
    double c1[] = {0.1, 0.4, 0.3, 0.2};
    mk(s, 4, a1, c1);
    assert_int_equal(vkt_select(s, 4, VKT_SELECT_BORDA, 0.5, &sel, &err), VKT_OK);
    int want_rank[] = {4, 1, 2, 3};
    double want_w[] = {1.0, 2.0, sqrt(3.0), sqrt(2.0)};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(sel.rank[i], want_rank[i]);
        assert_true(fabs(sel.weight[i] - want_w[i]) < 1e-15);
    }
    // A: s0 (1) + s2 (sqrt 3) = 2.732 > B: s1 (2); the unanswered s3 (sqrt 2) votes for nobody
    assert_true(fabs(sel.cand[0].borda - (1.0 + sqrt(3.0))) < 1e-15);
    assert_true(fabs(sel.cand[1].borda - 2.0) < 1e-15);
    assert_int_equal(sel.cand[sel.answer].first, 0);
    assert_int_equal(sel.chosen, 2); // A's most certain voter
    vkt_selection_free(&sel);
    expect_pick(s, 4, VKT_SELECT_SELF_CERTAINTY, 0.5, 1, "B");

    // N = 5, where the rules disagree: majority B (3 votes), Borda A: A gets sqrt 5 + 2 =
    // 4.236 (ranks 1, 2), B gets sqrt 3 + sqrt 2 + 1 = 4.146 (ranks 3, 4, 5)
    const char *a2[] = {"A", "A", "B", "B", "B"};
    double c2[] = {5.0, 4.0, 1.0, 2.0, 3.0};
    mk(s, 5, a2, c2);
    expect_pick(s, 5, VKT_SELECT_MAJORITY, 0.5, 4, "B");
    expect_pick(s, 5, VKT_SELECT_BORDA, 0.5, 0, "A");
    expect_pick(s, 5, VKT_SELECT_SELF_CERTAINTY, 0.5, 0, "A");
    // p = 0: every weight is 1, Borda is majority; p = 1: weights 5..1: A 9, B 6
    expect_pick(s, 5, VKT_SELECT_BORDA, 0.0, 4, "B");
    expect_pick(s, 5, VKT_SELECT_BORDA, 1.0, 0, "A");

    // Borda tie at p = 1 (weights 4, 3, 2, 1): A ranks 1 and 4 = 5, B ranks 2 and 3 = 5;
    // certainty sums 8 + 1 = 9 and 5 + 4 = 9 tie too: B occurs first (index 0)
    const char *a3[] = {"B", "A", "B", "A"};
    double c3[] = {5.0, 8.0, 4.0, 1.0};
    mk(s, 4, a3, c3);
    expect_pick(s, 4, VKT_SELECT_BORDA, 1.0, 0, "B");
    double c3b[] = {5.0, 8.0, 4.0, 1.5}; // A's voters now more certain (9.5): A
    mk(s, 4, a3, c3b);
    expect_pick(s, 4, VKT_SELECT_BORDA, 1.0, 1, "A");

    // Borda tie at p = 0.5, N = 9: A at rank 1 gets sqrt 9 = 3; B at ranks 6 and 9 gets
    // sqrt 4 + sqrt 1 = 3; A's certainty (9) beats B's (4 + 1)
    const char *a4[] = {"A", NULL, NULL, NULL, NULL, "B", NULL, NULL, "B"};
    double c4[] = {9, 8, 7, 6, 5, 4, 3, 2, 1};
    mk(s, 9, a4, c4);
    assert_int_equal(vkt_select(s, 9, VKT_SELECT_BORDA, 0.5, &sel, &err), VKT_OK);
    assert_true(sel.cand[0].borda == 3.0 && sel.cand[1].borda == 3.0);
    assert_int_equal(sel.answer, 0);
    assert_int_equal(sel.chosen, 0);
    vkt_selection_free(&sel);
}

static void test_one_sample(void **st) {
    (void)st;
    vkt_select_sample s[1];
    vkt_selection sel;
    vkt_error err = {0};
    const char *a[] = {"X"};
    double c[] = {-2.0};
    mk(s, 1, a, c);
    for (int r = 0; r < VKT_SELECT_RULES; r++) {
        assert_int_equal(vkt_select(s, 1, (vkt_select_rule)r, 0.5, &sel, &err), VKT_OK);
        assert_int_equal(sel.chosen, 0);
        assert_int_equal(sel.answer, 0);
        assert_int_equal(sel.rank[0], 1);
        assert_true(sel.weight[0] == 1.0);
        vkt_selection_free(&sel);
    }
    const char *none[] = {NULL};
    mk(s, 1, none, c);
    for (int r = 0; r < VKT_SELECT_RULES; r++) expect_pick(s, 1, (vkt_select_rule)r, 0.5, 0, NULL);
}

static void test_select_errors(void **st) {
    (void)st;
    vkt_select_sample s[1] = {{"A", 1, 0.0}};
    vkt_selection sel;
    vkt_error err = {0};
    assert_int_equal(vkt_select(s, 0, VKT_SELECT_BORDA, 0.5, &sel, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "n = 0"));
    assert_int_equal(vkt_select(s, 1, (vkt_select_rule)7, 0.5, &sel, &err), VKT_ERR_ARG);
    assert_int_equal(vkt_select(s, 1, VKT_SELECT_BORDA, -1.0, &sel, &err), VKT_ERR_ARG);
    assert_int_equal(vkt_select(s, 1, VKT_SELECT_BORDA, NAN, &sel, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "Borda power"));
    vkt_selection_free(&sel); // zeroed on failure: freeing is harmless
}

// ---- accuracy against N ---------------------------------------------------------------

static void test_accuracy(void **st) {
    (void)st;
    // 3 prompts x 4 samples. Worked out by hand:
    //  p0 (gold 1): N=1 2/4 right; N=2 {1,1} right, {2,-} wrong; N=4: self-certainty picks
    //     s2 ("2", wrong), majority "1" (2 votes), Borda "1" (sqrt 3 + 1 > 2)
    //  p1 (gold 2): N=1 1/4; N=2 {2,3}: all rules "2" (more certain), {3,3} wrong; N=4:
    //     self-certainty "2" (0.9), majority "3", Borda "3" (sqrt 3 + sqrt 2 + 1 > 2)
    //  p2 (gold 7): N=1 2/4; N=2 {8,8} wrong, {7,7} right; N=4: self-certainty "8" (0.9),
    //     majority tie 2-2 broken by certainty (8: 1.0 > 7: 0.9) "8", Borda: 8 gets 2 + 1,
    //     7 gets sqrt 3 + sqrt 2 = 3.146: "7"
    const char *ans[] = {"1", "1", "2", NULL, "2", "3", "3", "3", "8", "8", "7", "7"};
    double sc[] = {0.5, 0.1, 0.9, 0.3, 0.9, 0.1, 0.2, 0.3, 0.9, 0.1, 0.5, 0.4};
    const char *gold[] = {"1", "2", "7"};
    vkt_select_sample s[12];
    mk(s, 12, ans, sc);
    int Ns[] = {1, 2, 4};
    double acc[3 * 3];
    vkt_error err = {0};
    assert_int_equal(vkt_select_accuracy(s, 3, 4, gold, Ns, 3, 0.5, acc, &err), VKT_OK);
    double want[3][3] = {
        {5.0 / 12, 0.5, 1.0 / 3}, // self-certainty
        {5.0 / 12, 0.5, 1.0 / 3}, // majority
        {5.0 / 12, 0.5, 2.0 / 3}, // borda
    };
    for (int r = 0; r < 3; r++)
        for (int j = 0; j < 3; j++)
            if (fabs(acc[r * 3 + j] - want[r][j]) > 1e-12)
                fail_msg("%s N=%d: accuracy %g, expected %g",
                         vkt_select_rule_name((vkt_select_rule)r), Ns[j], acc[r * 3 + j],
                         want[r][j]);
    // N = 3 of 4: one group (samples 0-2) per prompt
    int N3 = 3;
    assert_int_equal(vkt_select_accuracy(s, 3, 4, gold, &N3, 1, 0.5, acc, &err), VKT_OK);
    // p0 {1,1,2}: sc "2" wrong, majority "1", Borda: ranks s2 (sqrt 3), s0 (sqrt 2), s1 (1) -> "1"
    // p1 {2,3,3}: sc "2" right; majority "3"; Borda: "2" sqrt 3 vs "3" sqrt 2 + 1 -> "3"
    // p2 {8,8,7}: sc "8"; majority "8"; Borda: "8" sqrt 3 + 1 vs "7" sqrt 2 -> "8"
    assert_true(fabs(acc[0] - 1.0 / 3) < 1e-12 && fabs(acc[1] - 1.0 / 3) < 1e-12 &&
                fabs(acc[2] - 1.0 / 3) < 1e-12);
    // errors: N out of range, no prompts
    int bad = 5;
    assert_int_equal(vkt_select_accuracy(s, 3, 4, gold, &bad, 1, 0.5, acc, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "N = 5"));
    assert_int_equal(vkt_select_accuracy(s, 0, 4, gold, Ns, 3, 0.5, acc, &err), VKT_ERR_ARG);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extract),    cmocka_unit_test(test_bad_regex),
        cmocka_unit_test(test_rule_names), cmocka_unit_test(test_self_certainty),
        cmocka_unit_test(test_majority),   cmocka_unit_test(test_borda_weights),
        cmocka_unit_test(test_one_sample), cmocka_unit_test(test_select_errors),
        cmocka_unit_test(test_accuracy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
