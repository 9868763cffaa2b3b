// test_effsteer_task.c: the efficiency-steering synthetic task (trainer/steer/effsteer_task.h):
// exact format on hand-checked problems (carries, 99+99), the tag table, p = 0 tags never
// and p = 1 tags always re-check, the empirical re-check rate per tag within binomial
// bounds, held-out problems never in training data, the checker (answers, re-check
// counts, malformed text), the same first token in both styles, determinism for a seed,
// the concise trace under every tag, and JSONL files the trainer's loader reads.
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

#include "dataset.h"
#include "effsteer_task.h"
#include "support_cli.h"

static void expect_str(const char *what, const char *got, const char *want) {
    if (strcmp(got, want)) fail_msg("%s:\n got  '%s'\n want '%s'", what, got, want);
}

static void expect_completion(int x, int y, unsigned mask, const char *want) {
    char buf[VKT_EFF_COMPLETION_MAX];
    size_t n = vkt_eff_completion(x, y, mask, buf, sizeof buf);
    char what[64];
    snprintf(what, sizeof what, "%d+%d mask %u", x, y, mask);
    expect_str(what, buf, want);
    assert_int_equal(n, strlen(want));
}

// ---- format ----------------------------------------------------------------------------

static void test_format_hand_checked(void **st) {
    (void)st;
    char p[VKT_EFF_PROMPT_MAX];
    assert_int_equal(vkt_eff_prompt(vkt_eff_tag_index("kq"), 47, 35, p, sizeof p), 13);
    expect_str("prompt", p, "src=kq 47+35=");
    // carry out of the ones column, both re-checks
    expect_completion(
        47, 35, 3,
        "\nones: 7+5=12 write 2 carry 1\nverify: 7+5=12 ok\ntens: 4+3+1=8 write 8 carry 0\n"
        "verify: 4+3+1=8 ok\nans=82");
    expect_completion(47, 35, 0,
                      "\nones: 7+5=12 write 2 carry 1\ntens: 4+3+1=8 write 8 carry 0\nans=82");
    // the largest problem: carries out of both columns, three-digit answer
    expect_completion(99, 99, 0,
                      "\nones: 9+9=18 write 8 carry 1\ntens: 9+9+1=19 write 9 carry 1\nans=198");
    expect_completion(
        99, 99, 3,
        "\nones: 9+9=18 write 8 carry 1\nverify: 9+9=18 ok\ntens: 9+9+1=19 write 9 carry 1\n"
        "verify: 9+9+1=19 ok\nans=198");
    // the smallest, no carry, tens re-check only
    expect_completion(
        10, 10, 2,
        "\nones: 0+0=0 write 0 carry 0\ntens: 1+1=2 write 2 carry 0\nverify: 1+1=2 ok\nans=20");
    // ones sum exactly 10, carry into a tens sum of exactly 10
    expect_completion(55, 45, 1,
                      "\nones: 5+5=10 write 0 carry 1\nverify: 5+5=10 ok\ntens: 5+4+1=10 write 0 "
                      "carry 1\nans=100");
    // carry out of the tens column only
    expect_completion(63, 52, 0,
                      "\nones: 3+2=5 write 5 carry 0\ntens: 6+5=11 write 1 carry 1\nans=115");
    // out of range operands and tags produce nothing
    assert_int_equal(vkt_eff_completion(9, 50, 0, p, sizeof p), 0);
    assert_int_equal(vkt_eff_completion(50, 100, 0, p, sizeof p), 0);
    assert_int_equal(vkt_eff_prompt(16, 50, 50, p, sizeof p), 0);
    assert_int_equal(vkt_eff_prompt(-1, 50, 50, p, sizeof p), 0);
    // every problem and mask fits the buffers, and every answer line is the sum
    for (int x = 10; x <= 99; x++)
        for (int y = 10; y <= 99; y++)
            for (unsigned m = 0; m < 4; m++) {
                char c[VKT_EFF_COMPLETION_MAX];
                size_t n = vkt_eff_completion(x, y, m, c, sizeof c);
                assert_true(n > 0 && n < sizeof c - 1);
                char tail[16];
                snprintf(tail, sizeof tail, "\nans=%d", x + y);
                assert_string_equal(c + n - strlen(tail), tail);
            }
}

static void test_tag_table(void **st) {
    (void)st;
    const vkt_eff_tag *t = vkt_eff_tag_table();
    const double levels[8] = {0, .1, .2, .3, .7, .8, .9, 1};
    for (int l = 0; l < 8; l++) {
        int n = 0;
        for (int i = 0; i < VKT_EFF_TAGS; i++) n += t[i].p == levels[l];
        assert_int_equal(n, 2);
    }
    for (int i = 0; i < VKT_EFF_TAGS; i++) {
        assert_int_equal(strlen(t[i].name), 2);
        assert_int_equal(vkt_eff_tag_index(t[i].name), i);
        for (int j = 0; j < i; j++) assert_string_not_equal(t[i].name, t[j].name);
    }
    assert_int_equal(vkt_eff_tag_index("zz"), -1);
    assert_int_equal(vkt_eff_tag_index(NULL), -1);
}

// ---- sampling ----------------------------------------------------------------------------

static int popcount(unsigned m) { return (int)(m & 1u) + (int)((m >> 1) & 1u); }

static void test_recheck_rates(void **st) {
    (void)st;
    const int n = 160000;
    vkt_eff_example *ex = malloc((size_t)n * sizeof *ex);
    assert_non_null(ex);
    vkt_error err = {0};
    assert_int_equal(vkt_eff_train_examples(7, 0.1, n, ex, &err), VKT_OK);
    long checks[VKT_EFF_TAGS] = {0}, count[VKT_EFF_TAGS] = {0};
    const vkt_eff_tag *t = vkt_eff_tag_table();
    for (int i = 0; i < n; i++) {
        const vkt_eff_example *e = &ex[i];
        count[e->tag]++;
        checks[e->tag] += popcount(e->mask);
        if (t[e->tag].p == 0.0) assert_int_equal(e->mask, 0);
        if (t[e->tag].p == 1.0) assert_int_equal(e->mask, 3);
        // the example's text is its mask's trace, and the checker reads it back exactly
        vkt_eff_check r;
        vkt_eff_grade(e->completion, strlen(e->completion), e->x, e->y, &r);
        assert_true(r.exact && r.correct);
        assert_int_equal(r.mask, e->mask);
        assert_int_equal(r.rechecks, popcount(e->mask));
        assert_int_equal(r.columns, 2);
    }
    for (int k = 0; k < VKT_EFF_TAGS; k++) {
        // tags are uniform: each count within 5 sigma of n/16
        double mu = n / 16.0, sd = sqrt(n * (1 / 16.0) * (15 / 16.0));
        assert_true(fabs(count[k] - mu) < 5 * sd);
        // re-checks ~ Binomial(2 * count, p): the rate within 5 sigma (exact for p = 0, 1)
        double trials = 2.0 * count[k], p = t[k].p, rate = checks[k] / trials;
        double bound = 5 * sqrt(p * (1 - p) / trials);
        if (fabs(rate - p) > bound)
            fail_msg("tag %s: re-check rate %.4f, p %.1f, bound %.4f", t[k].name, rate, p, bound);
    }
    free(ex);
}

static void test_heldout(void **st) {
    (void)st;
    vkt_error err = {0};
    assert_int_equal(vkt_eff_heldout_count(0.0), 0);
    assert_int_equal(vkt_eff_heldout_count(1.0), VKT_EFF_PROBLEMS);
    const int h = vkt_eff_heldout_count(0.1);
    assert_true(h > 700 && h < 920); // ~810 of 8100
    // monotone: a smaller fraction holds out a subset
    for (int x = 10; x <= 99; x++)
        for (int y = 10; y <= 99; y++)
            if (vkt_eff_is_heldout(x, y, 0.05)) assert_true(vkt_eff_is_heldout(x, y, 0.1));
    // the held-out list: every held-out problem under all 16 tags, concise, in order
    int n = 0;
    assert_int_equal(vkt_eff_heldout_examples(0.1, NULL, 0, &n, &err), VKT_OK);
    assert_int_equal(n, h * VKT_EFF_TAGS);
    vkt_eff_example *ho = malloc((size_t)n * sizeof *ho);
    assert_int_equal(vkt_eff_heldout_examples(0.1, ho, n - 1, &n, &err), VKT_ERR_ARG);
    assert_int_equal(vkt_eff_heldout_examples(0.1, ho, n, &n, &err), VKT_OK);
    for (int i = 0; i < n; i++) {
        assert_true(vkt_eff_is_heldout(ho[i].x, ho[i].y, 0.1));
        assert_int_equal(ho[i].tag, i % VKT_EFF_TAGS);
        assert_int_equal(ho[i].mask, 0);
        assert_int_equal(ho[i].gold, ho[i].x + ho[i].y);
    }
    free(ho);
    // training data never holds a held-out problem, under any tag or seed
    const int m = 50000;
    vkt_eff_example *ex = malloc((size_t)m * sizeof *ex);
    for (uint64_t seed = 0; seed < 3; seed++) {
        assert_int_equal(vkt_eff_train_examples(seed, 0.1, m, ex, &err), VKT_OK);
        for (int i = 0; i < m; i++) {
            assert_false(vkt_eff_is_heldout(ex[i].x, ex[i].y, 0.1));
            char want[VKT_EFF_PROMPT_MAX];
            vkt_eff_prompt(ex[i].tag, ex[i].x, ex[i].y, want, sizeof want);
            assert_string_equal(ex[i].prompt, want);
        }
    }
    // bad fractions
    assert_int_equal(vkt_eff_train_examples(0, 1.0, 10, ex, &err), VKT_ERR_ARG);
    assert_int_equal(vkt_eff_train_examples(0, -0.1, 10, ex, &err), VKT_ERR_ARG);
    assert_int_equal(vkt_eff_train_examples(0, NAN, 10, ex, &err), VKT_ERR_ARG);
    free(ex);
}

static void test_determinism(void **st) {
    (void)st;
    const int n = 2000;
    vkt_eff_example *a = calloc(n, sizeof *a), *b = calloc(n, sizeof *b), *c = calloc(n, sizeof *c);
    vkt_error err = {0};
    assert_int_equal(vkt_eff_train_examples(42, 0.1, n, a, &err), VKT_OK);
    assert_int_equal(vkt_eff_train_examples(42, 0.1, n, b, &err), VKT_OK);
    assert_int_equal(vkt_eff_train_examples(43, 0.1, n, c, &err), VKT_OK);
    assert_memory_equal(a, b, (size_t)n * sizeof *a);
    int same = 0;
    for (int i = 0; i < n; i++) same += !strcmp(a[i].prompt, c[i].prompt);
    assert_true(same < n / 10);
    // the first example of seed 42 is pinned, so a change to the sampler is noticed
    expect_str("seed 42 prompt 0", a[0].prompt, "src=fy 82+39=");
    expect_str("seed 42 completion 0", a[0].completion,
               "\nones: 2+9=11 write 1 carry 1\ntens: 8+3+1=12 write 2 carry 1\nans=121");
    free(a), free(b), free(c);
}

// ---- style and the first token -------------------------------------------------------------

static void test_same_first_token(void **st) {
    (void)st;
    for (int x = 10; x <= 99; x++)
        for (int y = 10; y <= 99; y++) {
            char c0[VKT_EFF_COMPLETION_MAX], c[VKT_EFF_COMPLETION_MAX];
            vkt_eff_completion(x, y, 0, c0, sizeof c0);
            assert_memory_equal(c0, "\nones: ", 7);
            const size_t first_line = (size_t)(strchr(c0 + 1, '\n') - c0);
            for (unsigned m = 1; m < 4; m++) {
                vkt_eff_completion(x, y, m, c, sizeof c);
                // byte-level tokens: the styles agree on the whole first column line
                assert_memory_equal(c, c0, first_line + 1);
            }
        }
}

static void test_concise_under_tags(void **st) {
    (void)st;
    char prompts[VKT_EFF_TAGS][VKT_EFF_PROMPT_MAX], comp[VKT_EFF_COMPLETION_MAX];
    vkt_error err = {0};
    assert_int_equal(vkt_eff_concise_under_tags(47, 35, prompts, comp, &err), VKT_OK);
    expect_str("concise", comp,
               "\nones: 7+5=12 write 2 carry 1\ntens: 4+3+1=8 write 8 carry 0\nans=82");
    const vkt_eff_tag *t = vkt_eff_tag_table();
    for (int k = 0; k < VKT_EFF_TAGS; k++) {
        char want[VKT_EFF_PROMPT_MAX];
        snprintf(want, sizeof want, "src=%s 47+35=", t[k].name);
        expect_str("prompt", prompts[k], want);
    }
    assert_int_equal(vkt_eff_concise_under_tags(100, 35, prompts, comp, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "100"));
}

// ---- checker --------------------------------------------------------------------------------

static vkt_eff_check check(const char *s) {
    vkt_eff_check r;
    vkt_eff_check_text(s, strlen(s), &r);
    return r;
}

static void expect_none(const char *s) {
    vkt_eff_check r = check(s);
    if (r.has_answer) fail_msg("'%s': answer %d, expected none", s, r.answer);
}

static void test_checker(void **st) {
    (void)st;
    const char *v =
        "\nones: 7+5=12 write 2 carry 1\nverify: 7+5=12 ok\ntens: 4+3+1=8 write 8 carry 0\n"
        "verify: 4+3+1=8 ok\nans=82";
    vkt_eff_check r = check(v);
    assert_true(r.has_answer && r.verbose);
    assert_int_equal(r.answer, 82);
    assert_int_equal(r.rechecks, 2);
    assert_int_equal(r.columns, 2);
    // graded: exact, correct, mask 3; with the end token and text after it ignored
    char buf[256];
    snprintf(buf, sizeof buf, "%s<|endoftext|>ans=99\nverify: x", v);
    vkt_eff_grade(buf, strlen(buf), 47, 35, &r);
    assert_true(r.exact && r.correct && r.has_answer);
    assert_int_equal(r.mask, 3);
    assert_int_equal(r.rechecks, 2);
    // the same trace graded against another problem: answer read, not correct, not exact
    vkt_eff_grade(v, strlen(v), 47, 36, &r);
    assert_true(r.has_answer && !r.correct && !r.exact);
    // concise
    r = check("\nones: 7+5=12 write 2 carry 1\ntens: 4+3+1=8 write 8 carry 0\nans=82");
    assert_true(r.has_answer && !r.verbose);
    assert_int_equal(r.rechecks, 0);
    // a wrong answer is still an answer; re-checks count even in a trace that is off-format
    r = check("\nones: 7+5=13 write 3 carry 1\nverify: 7+5=13 ok\nverify: again\nans=83");
    assert_true(r.has_answer && r.verbose);
    assert_int_equal(r.answer, 83);
    assert_int_equal(r.rechecks, 2);
    vkt_eff_grade("\nans=82", 7, 47, 35, &r); // right answer, no scratchpad: correct, not exact
    assert_true(r.correct && !r.exact);
    // the first answer line ends the trace: later lines are not read
    r = check("\nans=82\nans=83\nverify: late");
    assert_int_equal(r.answer, 82);
    assert_int_equal(r.rechecks, 0);
    r = check("ans=0");
    assert_true(r.has_answer);
    assert_int_equal(r.answer, 0);
    r = check("ans=1234");
    assert_int_equal(r.answer, 1234);
    // malformed: no answer
    expect_none("");
    expect_none(
        "\nones: 7+5=12 write 2 carry 1\ntens: 4+3+1=8 write 8 carry 0\n"); // cut before the answer
    expect_none("\nans=");
    expect_none("\nans=8x");
    expect_none("\nans=82 ");
    expect_none("\nans= 82");
    expect_none("\nans=12345");
    expect_none("\n ans=82");
    expect_none("\nxans=82");
    expect_none("\nans=-82");
    expect_none("\nans<|endoftext|>=82");
    expect_none("\nans=x\nans=82"); // the first answer line is malformed: no answer
    // a re-check line must start the line
    r = check("\nones: 7+5=12 write 2 carry 1 verify: 7+5=12 ok\nans=82");
    assert_int_equal(r.rechecks, 0);
    // NULL text
    vkt_eff_check_text(NULL, 0, &r);
    assert_false(r.has_answer);
}

// ---- files ----------------------------------------------------------------------------------

static void test_jsonl_round_trip(void **st) {
    (void)st;
    char dir[] = "/tmp/vkt_effsteer_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char train[128], held[128];
    snprintf(train, sizeof train, "%s/train.jsonl", dir);
    snprintf(held, sizeof held, "%s/heldout.jsonl", dir);
    vkt_eff_example ex[64];
    vkt_error err = {0};
    assert_int_equal(vkt_eff_train_examples(1, 0.1, 64, ex, &err), VKT_OK);
    assert_int_equal(vkt_eff_write_train_jsonl(train, ex, 64, &err), VKT_OK);
    assert_int_equal(vkt_eff_write_heldout_jsonl(held, ex, 3, &err), VKT_OK);
    // the trainer's JSONL loader reads it: prompt tokens are the prompt, the example ends
    // with <|endoftext|> appended by the loader
    vkt_dataset d;
    if (vkt_dataset_load(train, VKT_DATA_JSONL, 0.0, &d, &err) != VKT_OK) fail_msg("%s", err.msg);
    assert_int_equal(d.n_ex, 64);
    for (int i = 0; i < 64; i++) {
        size_t lp = strlen(ex[i].prompt), lc = strlen(ex[i].completion);
        assert_int_equal(d.ex[i].prompt_len, lp);
        assert_int_equal(d.ex[i].len, lp + lc + 1);
        const int32_t *tok = d.tokens + d.ex[i].start;
        for (size_t k = 0; k < lc; k++)
            assert_int_equal(tok[lp + k], (unsigned char)ex[i].completion[k]);
        assert_int_equal(tok[lp + lc], 256);
    }
    vkt_dataset_free(&d);
    FILE *f = fopen(held, "r");
    char line[512];
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    char want[512];
    snprintf(want, sizeof want, "\"gold\": %d, \"tag\": \"%s\", \"p\": %.1f}\n", ex[0].gold,
             vkt_eff_tag_table()[ex[0].tag].name, vkt_eff_tag_table()[ex[0].tag].p);
    assert_non_null(strstr(line, want));
    assert_non_null(strstr(line, "\"completion\": \"\\nones: "));
    unlink(train), unlink(held), rmdir(dir);
    assert_int_equal(vkt_eff_write_train_jsonl("/nonexistent/dir/x.jsonl", ex, 1, &err),
                     VKT_ERR_IO);
    assert_non_null(strstr(err.msg, "/nonexistent/dir/x.jsonl"));
}

// ---- the CLI (vkt steer efficiency-data) ---------------------------------------------------

static long count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long n = 0;
    int c;
    while ((c = fgetc(f)) != EOF) n += c == '\n';
    fclose(f);
    return n;
}

static void test_cli_data(void **st) {
    (void)st;
    if (!test_cli_available()) skip();
    char dir[] = "/tmp/vkt_effsteer_cli_XXXXXX", args[256], path[160];
    assert_non_null(mkdtemp(dir));
    char *out = NULL, *err = NULL;
    snprintf(args, sizeof args,
             "steer efficiency-data --out %s --examples 500 --seed 9 --heldout-frac 0.05 --json",
             dir);
    int rc = test_cli(args, NULL, &out, &err);
    if (rc != 0) fail_msg("rc %d: %s", rc, err);
    assert_non_null(strstr(out, "\"examples\": 500"));
    const int nh = vkt_eff_heldout_count(0.05) * VKT_EFF_TAGS;
    snprintf(path, sizeof path, "%s/train.jsonl", dir);
    assert_int_equal(count_lines(path), 500);
    unlink(path);
    snprintf(path, sizeof path, "%s/heldout.jsonl", dir);
    assert_int_equal(count_lines(path), nh);
    unlink(path);
    rmdir(dir);
    free(out), free(err);
    // usage errors exit 2
    assert_int_equal(test_cli("steer efficiency-data", NULL, NULL, NULL), 2);
    assert_int_equal(
        test_cli("steer efficiency-data --out /tmp/x --heldout-frac 1.5", NULL, NULL, NULL), 2);
    assert_int_equal(test_cli("steer efficiency-data --out /tmp/x --examples 0", NULL, NULL, NULL),
                     2);
    assert_int_equal(test_cli("steer efficiency-data --help", NULL, NULL, NULL), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_hand_checked), cmocka_unit_test(test_tag_table),
        cmocka_unit_test(test_recheck_rates),       cmocka_unit_test(test_heldout),
        cmocka_unit_test(test_determinism),         cmocka_unit_test(test_same_first_token),
        cmocka_unit_test(test_concise_under_tags),  cmocka_unit_test(test_checker),
        cmocka_unit_test(test_jsonl_round_trip),    cmocka_unit_test(test_cli_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
