// test_generate_cli.c: `vkt eval` and `vkt generate` end to end through the binary named
// by VKT_BIN (skipped when it is not set), on a tiny random checkpoint written here:
// eval's NLL against the double reference model, generate's JSON against the library,
// control-vector flags (scale 0 is the identity), best-of-N selection (the CLI's choice
// against the library's rules on its own JSON, determinism for a seed, gold answers and
// the accuracy curve), exit codes for bad usage.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "support_cli.h"
#include <jansson.h>

#include "checkpoint.h"
#include "generate.h"
#include "gguf.h"
#include "model_ref.h"
#include "select.h"
#include "support_gpu.h"
#include "support_model.h"

static char dir[] = "/tmp/vkt_gen_cli_XXXXXX";
static char ckpt[4200], data[4200], cvf[4200], gold2[4200], gold3[4200];
static double want_nll;
static int64_t want_tokens;
static int32_t greedy_hello[6];

// $VKT_BIN args: exit code; *out = stdout, or stderr when errors is true.
static int run_cmd(const char *args, char **out, bool errors) {
    return errors ? test_cli(args, NULL, NULL, out) : test_cli(args, NULL, out, NULL);
}

static int run(const char *args, char **out) { return run_cmd(args, out, false); }

// A tiny random GPT-2 checkpoint, a text, a control vector; the reference NLL of the text
// and the library's greedy continuation of "hello".
static int setup(void **state) {
    if (!test_cli_available()) return -1;
    if (!mkdtemp(dir)) return -1;
    snprintf(ckpt, sizeof ckpt, "%s/ckpt", dir);
    snprintf(data, sizeof data, "%s/text.txt", dir);
    snprintf(cvf, sizeof cvf, "%s/cv.gguf", dir);
    snprintf(gold2, sizeof gold2, "%s/gold2.txt", dir);
    snprintf(gold3, sizeof gold3, "%s/gold3.txt", dir);
    vkt_ctx *ctx = test_ctx();
    vkt_model_config c = test_config(
        "gpt2-tiny",
        (test_shape){
            .context = 16, .layers = 2, .width = 16, .ffn = 32, .heads = 2, .kv_heads = 2});
    vkt_error err = {0};
    vkt_model *m = test_model_new(ctx, &c, 21);
    const vkt_params *ps = vkt_model_params(m);
    float *pf = test_model_scale(ctx, m, 5.0f);
    double *pd = malloc(ps->total * 8);
    for (uint64_t i = 0; i < ps->total; i++) pd[i] = pf[i];
    TEST_OK(ctx, vkt_checkpoint_save_model(m, ckpt, false));

    const char *text = "Eval windows of sixteen bytes, the last one shorter.";
    const int n = (int)strlen(text);
    FILE *f = fopen(data, "wb");
    fwrite(text, 1, (size_t)n, f);
    fclose(f);
    double sum = 0;
    want_tokens = 0;
    for (int a = 0; a < n; a += 16) {
        int T = n - a < 16 ? n - a : 16;
        int32_t tok[16], tgt[16];
        double w[16], loss;
        for (int t = 0; t < T; t++)
            tok[t] = (unsigned char)text[a + t],
            tgt[t] = t + 1 < T ? (unsigned char)text[a + t + 1] : 0, w[t] = t + 1 < T;
        if (vkt_model_ref_forward_backward(&c, ps, pd, 1, T, tok, tgt, w, 1.0, NULL, &loss, NULL,
                                           NULL, &err) != VKT_OK)
            fail_msg("%s", err.msg);
        sum += loss, want_tokens += T - 1;
    }
    want_nll = sum / (double)want_tokens;

    vkt_gen *g;
    TEST_OK(ctx, vkt_gen_create(m, 1, 0, 0, &g));
    int32_t hello[5] = {'h', 'e', 'l', 'l', 'o'};
    vkt_gen_prompt p = {hello, 5, 0};
    vkt_gen_opts o;
    vkt_gen_defaults(&o);
    o.greedy = true, o.max_new_tokens = 6;
    vkt_gen_result r;
    TEST_OK(ctx, vkt_generate(g, &p, 1, &o, &r));
    assert_int_equal(r.n, 6);
    memcpy(greedy_hello, r.tokens, sizeof greedy_hello);
    vkt_gen_result_free(&r);
    vkt_gen_destroy(g);

    float dirs[2 * 16];
    test_fill_uniform(dirs, 2 * 16, 5, -3.0f, 3.0f);
    int layers[2] = {1, 2};
    if (vkt_control_vector_write(cvf, "gpt2", 2, 16, 2, layers, dirs, &err) != VKT_OK)
        fail_msg("%s", err.msg);
    free(pf), free(pd);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
    return 0;
}

// The JSON of a --best-of run on the prompts "hello" and "ab"; fails on a non-zero exit.
static json_t *best_of_json(const char *extra) {
    char args[8400], *out;
    snprintf(args, sizeof args,
             "generate --ckpt '%s' --prompt hello --prompt ab --max-new-tokens 8 --json %s", ckpt,
             extra);
    int rc = run(args, &out);
    if (rc != 0) fail_msg("exit %d: %s", rc, out);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    if (!j) fail_msg("not JSON (%s): %s", je.text, out);
    free(out);
    return j;
}

// A JSON answer (string or null) as a select sample's answer.
static vkt_select_sample sample_of(json_t *answer, json_t *certainty) {
    vkt_select_sample s = {NULL, 0, json_number_value(certainty)};
    if (json_is_string(answer))
        s.answer = json_string_value(answer), s.answer_len = json_string_length(answer);
    return s;
}

static int n_answers_seen, n_no_answer_seen; // over every check_best_of: the test sees both kinds

// Every prompt of a best-of JSON: the answers are what the library extracts from the
// texts, and the CLI's choice, ranks and votes are what vkt_select makes of them.
static void check_best_of(json_t *j, int N, vkt_select_rule rule, const char *regex) {
    json_t *samples = json_object_get(j, "samples"), *prompts = json_object_get(j, "prompts");
    assert_int_equal(json_array_size(samples), 2 * N);
    assert_int_equal(json_array_size(prompts), 2);
    json_t *bo = json_object_get(j, "best_of");
    assert_int_equal(json_integer_value(json_object_get(bo, "n")), N);
    assert_string_equal(json_string_value(json_object_get(bo, "rule")), vkt_select_rule_name(rule));
    assert_string_equal(json_string_value(json_object_get(bo, "answer_regex")), regex);
    vkt_answer_re *re;
    vkt_error err = {0};
    assert_int_equal(vkt_answer_re_compile(regex, &re, &err), VKT_OK);
    for (int i = 0; i < 2; i++) {
        json_t *p = json_array_get(prompts, (size_t)i);
        json_t *answers = json_object_get(p, "answers"),
               *cert = json_object_get(p, "mean_self_certainty");
        assert_int_equal(json_array_size(answers), N);
        vkt_select_sample s[16];
        for (int k = 0; k < N; k++) {
            json_t *smp = json_array_get(samples, (size_t)(i * N + k));
            const char *text = json_string_value(json_object_get(smp, "text"));
            size_t a, n;
            json_t *got = json_array_get(answers, (size_t)k);
            if (vkt_answer_extract(re, text, json_string_length(json_object_get(smp, "text")), &a,
                                   &n)) {
                assert_true(json_is_string(got));
                assert_int_equal(json_string_length(got), n);
                assert_memory_equal(json_string_value(got), text + a, n);
            } else
                assert_true(json_is_null(got));
            assert_true(json_equal(got, json_object_get(smp, "answer")));
            assert_true(fabs(json_number_value(json_array_get(cert, (size_t)k)) -
                             json_number_value(json_object_get(smp, "mean_self_certainty"))) <
                        1e-12);
            s[k] = sample_of(got, json_array_get(cert, (size_t)k));
            if (s[k].answer)
                n_answers_seen++;
            else
                n_no_answer_seen++;
        }
        vkt_selection sel;
        assert_int_equal(vkt_select(s, N, rule, 0.5, &sel, &err), VKT_OK);
        assert_int_equal(json_integer_value(json_object_get(p, "sample")), sel.chosen);
        json_t *ans = json_object_get(p, "answer");
        if (sel.answer < 0)
            assert_true(json_is_null(ans));
        else
            assert_true(
                json_equal(ans, json_array_get(answers, (size_t)sel.cand[sel.answer].first)));
        json_t *votes = json_object_get(p, "votes");
        assert_int_equal(json_array_size(votes), sel.n_cand);
        for (int c = 0; c < sel.n_cand; c++) {
            json_t *v = json_array_get(votes, (size_t)c);
            assert_int_equal(json_integer_value(json_object_get(v, "count")), sel.cand[c].count);
            assert_true(fabs(json_number_value(json_object_get(v, "borda")) - sel.cand[c].borda) <
                        1e-5 * sel.cand[c].borda);
        }
        for (int k = 0; k < N; k++)
            assert_int_equal(
                json_integer_value(json_array_get(json_object_get(p, "rank"), (size_t)k)),
                sel.rank[k]);
        vkt_selection_free(&sel);
    }
    vkt_answer_re_free(re);
}

static void test_best_of(void **state) {
    char extra[8400];
    // the JSON's choice is the library's, for every rule; a seed reproduces it exactly
    const char *rules[] = {"self-certainty", "majority", "borda"};
    for (int r = 0; r < 3; r++) {
        snprintf(extra, sizeof extra,
                 "--best-of 4 --select %s --answer-regex '[a-z]+' --seed 3 --temperature 1.5",
                 rules[r]);
        json_t *a = best_of_json(extra), *b = best_of_json(extra);
        check_best_of(a, 4, (vkt_select_rule)r, "[a-z]+");
        json_object_del(a, "seconds"), json_object_del(a, "tokens_per_s");
        json_object_del(b, "seconds"), json_object_del(b, "tokens_per_s");
        char *sa = json_dumps(a, JSON_SORT_KEYS), *sb = json_dumps(b, JSON_SORT_KEYS);
        assert_string_equal(sa, sb);
        free(sa), free(sb);
        json_decref(a), json_decref(b);
    }
    // a pattern with a group; N = 1; -n agreeing with --best-of
    json_t *one = best_of_json("--best-of 1 -n 1 --select borda --answer-regex '([a-z])' --seed 2");
    check_best_of(one, 1, VKT_SELECT_BORDA, "([a-z])");
    json_decref(one);
    print_message("best-of samples checked: %d with an answer, %d without\n", n_answers_seen,
                  n_no_answer_seen);
    assert_true(n_answers_seen > 0 && n_no_answer_seen > 0);

    // text output: the chosen answers, one a line, as in the JSON
    char args[8400], *out;
    snprintf(extra, sizeof extra,
             "--best-of 4 --select majority --answer-regex '[a-z]+' --seed 3 --temperature 1.5");
    json_t *j = best_of_json(extra);
    snprintf(args, sizeof args,
             "generate --ckpt '%s' --prompt hello --prompt ab --max-new-tokens 8 %s", ckpt, extra);
    assert_int_equal(run(args, &out), 0);
    char want[256] = "";
    for (int i = 0; i < 2; i++) {
        json_t *ans =
            json_object_get(json_array_get(json_object_get(j, "prompts"), (size_t)i), "answer");
        strcat(want, json_is_string(ans) ? json_string_value(ans) : "");
        strcat(want, "\n");
    }
    assert_string_equal(out, want);
    free(out);

    // gold answers: "hello"'s is its chosen answer, "ab"'s is one nobody writes
    json_t *ans0 = json_object_get(json_array_get(json_object_get(j, "prompts"), 0), "answer");
    FILE *f = fopen(gold2, "w");
    fprintf(f, "%s\n###\n", json_is_string(ans0) ? json_string_value(ans0) : "###");
    fclose(f);
    f = fopen(gold3, "w");
    fprintf(f, "a\nb\nc\n");
    fclose(f);
    snprintf(args, sizeof args, "%s --gold '%s'", extra, gold2);
    json_t *g = best_of_json(args);
    json_t *p0 = json_array_get(json_object_get(g, "prompts"), 0),
           *p1 = json_array_get(json_object_get(g, "prompts"), 1);
    assert_true(json_is_true(json_object_get(p0, "correct")) == json_is_string(ans0));
    assert_true(json_is_false(json_object_get(p1, "correct")));
    assert_string_equal(json_string_value(json_object_get(p1, "gold")), "###");
    double acc = json_number_value(json_object_get(g, "accuracy"));
    assert_true(fabs(acc - (json_is_string(ans0) ? 0.5 : 0.0)) < 1e-12);
    // the curve: every rule at N = 1, 2, 4, in [0, 1]; at N = 4 majority's is the accuracy
    json_t *curve = json_object_get(g, "accuracy_curve");
    assert_int_equal(json_array_size(curve), 9);
    for (size_t k = 0; k < 9; k++) {
        json_t *e = json_array_get(curve, k);
        int N = (int)json_integer_value(json_object_get(e, "N"));
        double a = json_number_value(json_object_get(e, "accuracy"));
        assert_int_equal(N, 1 << (k % 3));
        assert_string_equal(json_string_value(json_object_get(e, "rule")), rules[k / 3]);
        assert_int_equal(json_integer_value(json_object_get(e, "groups")), 2 * (4 / N));
        assert_true(a >= 0 && a <= 0.5); // prompt "ab" is never right
        if (k == 5) assert_true(fabs(a - acc) < 1e-6);
    }

    // tools/best_of_n_plot.py turns the sampled and greedy JSON into a table and a figure
    snprintf(args, sizeof args, "--best-of 1 --greedy --answer-regex '[a-z]+' --gold '%s'", gold2);
    json_t *gr = best_of_json(args);
    const char *tools = getenv("VKT_TOOLS_DIR");
    if (tools && system("/usr/bin/python3 -c 'import matplotlib' 2>/dev/null") == 0) {
        char sp[4300], gp[4300], png[4300], cmd[20000];
        snprintf(sp, sizeof sp, "%s/sampled.json", dir),
            snprintf(gp, sizeof gp, "%s/greedy.json", dir);
        snprintf(png, sizeof png, "%s/acc.png", dir);
        assert_int_equal(json_dump_file(g, sp, 0), 0);
        assert_int_equal(json_dump_file(gr, gp, 0), 0);
        snprintf(cmd, sizeof cmd,
                 "/usr/bin/python3 '%s/best_of_n_plot.py' --sampled '%s' --greedy '%s' --out '%s'",
                 tools, sp, gp, png);
        FILE *pp = popen(cmd, "r");
        char table[4096] = "";
        size_t n = fread(table, 1, sizeof table - 1, pp);
        table[n] = 0;
        assert_int_equal(pclose(pp), 0);
        assert_non_null(strstr(table, "| N | self-certainty | majority | borda | greedy |"));
        assert_non_null(strstr(table, "| 4 | "));
        assert_int_equal(access(png, R_OK), 0);
    } else
        print_message("no matplotlib or VKT_TOOLS_DIR: best_of_n_plot.py not tested\n");
    json_decref(gr), json_decref(g), json_decref(j);

    // bad usage: exit 2 with a message that names the fault
    struct {
        const char *extra, *msg;
    } bad[] = {
        {"--best-of 4 --answer-regex '([0-9]+'", "--answer-regex"},
        {"--best-of 4", "--answer-regex"},
        {"--best-of 4 --answer-regex x --select vote", "'vote'"},
        {"-n 3 --best-of 4 --answer-regex x", "disagree"},
        {"--select borda", "--best-of"},
        {"--answer-regex x", "--best-of"},
        {"--best-of 0 --answer-regex x", "--best-of"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        snprintf(args, sizeof args, "generate --ckpt '%s' --prompt x %s", ckpt, bad[k].extra);
        assert_int_equal(run_cmd(args, &out, true), 2);
        if (!strstr(out, bad[k].msg))
            fail_msg("'%s': message '%s' does not name '%s'", bad[k].extra, out, bad[k].msg);
        free(out);
    }
    snprintf(args, sizeof args,
             "generate --ckpt '%s' --prompt x --best-of 2 --answer-regex x --gold '%s'", ckpt,
             gold3);
    assert_int_equal(run_cmd(args, &out, true), 2);
    assert_non_null(strstr(out, "3 answers for 1 prompts"));
    free(out);
}

static int teardown(void **state) {
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_eval_json(void **state) {
    char args[8400], *out;
    snprintf(args, sizeof args, "eval --ckpt '%s' --data '%s' --json --batch 2", ckpt, data);
    assert_int_equal(run(args, &out), 0);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    if (!j) fail_msg("not JSON: %s", out);
    double nll = json_number_value(json_object_get(j, "nll"));
    assert_int_equal(json_integer_value(json_object_get(j, "tokens")), want_tokens);
    if (fabs(nll - want_nll) > 1e-5 * want_nll)
        fail_msg("eval nll %.9g vs reference %.9g", nll, want_nll);
    json_decref(j);
    free(out);
}

// The JSON of `generate --json` (two prompts, n samples); checks every sample's keys.
static json_t *generate_json(const char *extra) {
    char args[8400], *out;
    snprintf(args, sizeof args,
             "generate --ckpt '%s' --prompt hello --prompt 'a<|user|>b' -n 2 --max-new-tokens 6 "
             "--json %s",
             ckpt, extra);
    int rc = run(args, &out);
    if (rc != 0) fail_msg("exit %d: %s", rc, out);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    if (!j) fail_msg("not JSON (%s): %s", je.text, out);
    free(out);
    json_t *s = json_object_get(j, "samples");
    assert_int_equal(json_array_size(s), 4);
    const char *keys[] = {"prompt",       "text",         "tokens",
                          "logprob",      "entropy",      "self_certainty",
                          "mean_logprob", "mean_entropy", "mean_self_certainty",
                          "finish"};
    for (size_t i = 0; i < 4; i++) {
        json_t *x = json_array_get(s, i);
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
            if (!json_object_get(x, keys[k])) fail_msg("sample %zu has no \"%s\"", i, keys[k]);
        assert_int_equal(json_array_size(json_object_get(x, "tokens")), 6);
        assert_int_equal(json_array_size(json_object_get(x, "logprob")), 6);
    }
    assert_true(json_number_value(json_object_get(j, "tokens_per_s")) > 0);
    return j;
}

static void test_generate_json(void **state) {
    json_t *j = generate_json("--greedy");
    json_t *s = json_object_get(j, "samples");
    // greedy: both samples of a prompt agree, and match the library
    for (int i = 0; i < 6; i++) {
        json_int_t a = json_integer_value(
            json_array_get(json_object_get(json_array_get(s, 0), "tokens"), (size_t)i));
        json_int_t b = json_integer_value(
            json_array_get(json_object_get(json_array_get(s, 1), "tokens"), (size_t)i));
        assert_int_equal(a, greedy_hello[i]);
        assert_int_equal(b, greedy_hello[i]);
    }
    assert_string_equal(json_string_value(json_object_get(json_array_get(s, 2), "prompt")),
                        "a<|user|>b");
    // The byte tokenizer: a byte per token, special tokens' names parsed.
    json_t *pt = json_object_get(json_array_get(s, 2), "prompt_tokens");
    assert_int_equal(json_array_size(pt), 3);
    assert_int_equal(json_integer_value(json_array_get(pt, 0)), 'a');
    assert_int_equal(json_integer_value(json_array_get(pt, 1)), 259);
    assert_int_equal(json_integer_value(json_array_get(pt, 2)), 'b');
    json_decref(j);

    // sampling: a seed reproduces itself
    json_t *a = generate_json("--seed 5 --temperature 1.5 --top-k 50"),
           *b = generate_json("--seed 5 --temperature 1.5 --top-k 50");
    char *sa = json_dumps(json_object_get(a, "samples"), JSON_SORT_KEYS),
         *sb = json_dumps(json_object_get(b, "samples"), JSON_SORT_KEYS);
    assert_string_equal(sa, sb);
    free(sa), free(sb);
    json_decref(a), json_decref(b);
}

static void test_control_vector_flags(void **state) {
    char extra[8400];
    json_t *base = generate_json("--greedy");
    snprintf(extra, sizeof extra, "--greedy --control-vector-scaled '%s:0'", cvf);
    json_t *zero = generate_json(extra);
    snprintf(extra, sizeof extra,
             "--greedy --control-vector-scaled '%s:1.5' --control-vector '%s' "
             "--control-vector-layer-range 1 2",
             cvf, cvf);
    json_t *edit = generate_json(extra);
    char *sb = json_dumps(json_object_get(base, "samples"), JSON_SORT_KEYS);
    char *sz = json_dumps(json_object_get(zero, "samples"), JSON_SORT_KEYS);
    char *se = json_dumps(json_object_get(edit, "samples"), JSON_SORT_KEYS);
    assert_string_equal(sb, sz);     // scale 0: the unedited output, exactly
    assert_string_not_equal(sb, se); // a real edit changes it
    free(sb), free(sz), free(se);
    json_decref(base), json_decref(zero), json_decref(edit);
}

static void test_bad_usage(void **state) {
    char args[8400], *out;
    assert_int_equal(run("generate --prompt hi", &out), 2), free(out);
    snprintf(args, sizeof args, "generate --ckpt '%s'", ckpt);
    assert_int_equal(run(args, &out), 2), free(out);
    snprintf(args, sizeof args, "generate --ckpt '%s' --prompt x --control-vector-layer-range 3 1",
             ckpt);
    assert_int_equal(run(args, &out), 2), free(out);
    snprintf(args, sizeof args, "generate --ckpt '%s' --prompt x --bogus", ckpt);
    assert_int_equal(run(args, &out), 2), free(out);
    snprintf(args, sizeof args, "generate --ckpt '%s/none' --prompt x", dir);
    assert_int_equal(run(args, &out), 1), free(out);
    snprintf(args, sizeof args, "generate --ckpt '%s' --prompt x --control-vector '%s'", ckpt,
             data);
    assert_int_equal(run(args, &out), 1), free(out); // not a GGUF file
    assert_int_equal(run("eval --data /dev/null", &out), 2), free(out);
    snprintf(args, sizeof args, "eval --ckpt '%s' --data '%s/missing.txt'", ckpt, dir);
    assert_int_equal(run(args, &out), 1), free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eval_json),
        cmocka_unit_test(test_generate_json),
        cmocka_unit_test(test_control_vector_flags),
        cmocka_unit_test(test_best_of),
        cmocka_unit_test(test_bad_usage),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
