// test_effsteer_exp.c: the efficiency-steering experiment's measurements
// (trainer/steer/effsteer_exp.h) and `vkt steer efficiency`, on a tiny random model.
//  - directions: trace / last-token means and |h| equal a plain double-precision average
//    of per-prompt captures (every position, one prompt at a time), PC1 equals
//    vkt_steer_direction on those pairs;
//  - measure: the statistics equal vkt_generate + vkt_eff_grade done by hand with the same
//    seed; an all-zero edit changes nothing; a strong edit changes the samples and is
//    removed afterwards;
//  - the CLI: a short run writes every file, the JSON summary has the keys, the
//    saved efficiency.gguf holds the best edit at the best layer; bad flags exit 2.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checkpoint.h"
#include "effsteer_exp.h"
#include "gguf.h"
#include "support_cli.h"
#include "support_files.h"
#include "support_gpu.h"
#include "support_model.h"

// 3 blocks of width 16; context 160 holds a prompt and 128 new tokens.
static vkt_model *tiny_model(vkt_ctx *ctx) {
    vkt_model_config c = test_config("gpt2-tiny", (test_shape){.context = 160});
    vkt_model_config_reshape(&c, 3, 16, 4, 32);
    vkt_model *m = test_model_new(ctx, &c, 5);
    // Larger weights than the init, so the blocks change the residual and samples vary.
    free(test_model_scale(ctx, m, 6.0f));
    return m;
}

static void directions_match_plain_average(void **state) {
    (void)state;
    vkt_ctx *ctx = test_ctx();
    vkt_model *m = tiny_model(ctx);
    const int L = 3, C = 16, n = 2;
    const int xs[2] = {47, 99}, ys[2] = {35, 10};
    vkt_eff_dirs d;
    TEST_OK(ctx, vkt_eff_directions(m, xs, ys, n, &d));
    assert_int_equal(d.L, L);
    assert_int_equal(d.C, C);

    // Expected, in double: capture every position of each prompt alone.
    double *tr = calloc((size_t)L * C, sizeof *tr), *la = calloc((size_t)L * C, sizeof *la);
    double *de =
        calloc((size_t)L * C, sizeof *de); // decision rows: a newline before "tens:" / "ans="
    int64_t dcount = 0;
    double hn[3] = {0};
    int64_t hcount = 0, tcount = 0;
    float *pos[3], *neg[3]; // paired (problem, token) means per layer, for PC1
    for (int l = 0; l < L; l++) pos[l] = calloc(256 * C, 4), neg[l] = calloc(256 * C, 4);
    int q = 0;
    for (int i = 0; i < n; i++) {
        char prompts[VKT_EFF_TAGS][VKT_EFF_PROMPT_MAX], comp[VKT_EFF_COMPLETION_MAX];
        assert_int_equal(vkt_eff_concise_under_tags(xs[i], ys[i], prompts, comp, vkt_ctx_err(ctx)),
                         VKT_OK);
        const int lc = (int)strlen(comp), lp = 13;
        vkt_steer_acts a[VKT_EFF_TAGS];
        for (int t = 0; t < VKT_EFF_TAGS; t++) {
            int32_t tok[160];
            assert_int_equal((int)strlen(prompts[t]), lp);
            for (int k = 0; k < lp; k++) tok[k] = (unsigned char)prompts[t][k];
            for (int k = 0; k < lc; k++) tok[lp + k] = (unsigned char)comp[k];
            vkt_steer_prompt sp = {tok, lp + lc, 0};
            TEST_OK(ctx, vkt_steer_capture(m, &sp, 1, 0, L - 1, VKT_STEER_POS_ALL, 1, &a[t]));
        }
        for (int l = 0; l < L; l++)
            for (int j = lp - 1; j < lp + lc; j++) {
                for (int c = 0; c < C; c++) {
                    double v = 0, k = 0;
                    for (int t = 0; t < VKT_EFF_TAGS; t++) {
                        const double h = vkt_steer_acts_layer(&a[t], l)[(size_t)j * C + c];
                        if (vkt_eff_tag_table()[t].p >= 0.5)
                            v += h / 8;
                        else
                            k += h / 8;
                    }
                    if (j == lp - 1)
                        la[(size_t)l * C + c] += (v - k) / n;
                    else {
                        const char *at = comp + (j - lp);
                        if (j > lp && at[0] == '\n' &&
                            (!strncmp(at + 1, "tens:", 5) || !strncmp(at + 1, "ans=", 4))) {
                            de[(size_t)l * C + c] += v - k;
                            if (l == 0 && c == 0) dcount++;
                        }
                        tr[(size_t)l * C + c] += v - k;
                        pos[l][(size_t)(q + j - lp) * C + c] = (float)v,
                                                          neg[l][(size_t)(q + j - lp) * C + c] =
                                                              (float)k;
                    }
                }
                if (j >= lp)
                    for (int t = 0; t < VKT_EFF_TAGS; t++) {
                        double ss = 0;
                        for (int c = 0; c < C; c++) {
                            const double h = vkt_steer_acts_layer(&a[t], l)[(size_t)j * C + c];
                            ss += h * h;
                        }
                        hn[l] += sqrt(ss);
                        if (l == 0) hcount++;
                    }
            }
        q += lc, tcount += lc;
        for (int t = 0; t < VKT_EFF_TAGS; t++) vkt_steer_acts_free(&a[t]);
    }
    assert_int_equal(dcount, 2 * n); // two columns, two decisions per problem
    for (int l = 0; l < L; l++) {
        double scale = 0;
        for (int c = 0; c < C; c++) scale = fmax(scale, fabs(tr[(size_t)l * C + c] / tcount));
        assert_true(scale > 1e-3); // the tags do change the residual: the test can fail
        for (int c = 0; c < C; c++) {
            assert_float_equal(d.trace[(size_t)l * C + c], tr[(size_t)l * C + c] / tcount,
                               1e-4 * (1 + scale));
            assert_float_equal(d.last[(size_t)l * C + c], la[(size_t)l * C + c],
                               1e-4 * (1 + scale));
            assert_float_equal(d.decision[(size_t)l * C + c], de[(size_t)l * C + c] / dcount,
                               1e-4 * (1 + scale));
        }
        assert_float_equal(d.h_norm[l], hn[l] / hcount, 1e-4 * d.h_norm[l]);
        float want[16];
        assert_int_equal(
            vkt_steer_direction(pos[l], neg[l], q, C, VKT_STEER_PCA, want, NULL, vkt_ctx_err(ctx)),
            VKT_OK);
        for (int c = 0; c < C; c++) assert_float_equal(d.pc1[(size_t)l * C + c], want[c], 2e-3);
        free(pos[l]), free(neg[l]);
    }
    vkt_eff_dirs_free(&d);
    assert_int_equal(vkt_eff_directions(m, xs, ys, 0, &d), VKT_ERR_ARG);
    const int bad[1] = {100};
    assert_int_equal(vkt_eff_directions(m, bad, ys, 1, &d), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "100"));
    free(tr), free(la), free(de);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

static void measure_matches_generate(void **state) {
    (void)state;
    vkt_ctx *ctx = test_ctx();
    vkt_model *m = tiny_model(ctx);
    vkt_gen *g = NULL;
    TEST_OK(ctx, vkt_gen_create(m, 8, 160, 0, &g));
    enum { N = 6 };
    const vkt_eff_item it[N] = {{0, 47, 35}, {15, 47, 35}, {3, 10, 10},
                                {9, 99, 99}, {12, 55, 45}, {6, 63, 52}};
    vkt_eff_stats st, st0, st2, st3;
    vkt_eff_check ck[N];
    TEST_OK(ctx, vkt_eff_measure(g, it, N, NULL, 1.0, 7, 40, &st, ck));
    assert_int_equal(st.n, N);

    // By hand: the same prompts on streams 0..N-1, seed 7, then the checker.
    vkt_gen_prompt pr[N];
    int32_t ids[N][32];
    for (int i = 0; i < N; i++) {
        char p[32];
        size_t len = vkt_eff_prompt(it[i].tag, it[i].x, it[i].y, p, sizeof p);
        for (size_t k = 0; k < len; k++) ids[i][k] = (unsigned char)p[k];
        pr[i] = (vkt_gen_prompt){ids[i], (int)len, (uint64_t)i};
    }
    vkt_gen_opts o;
    vkt_gen_defaults(&o);
    o.max_new_tokens = 40, o.seed = 7;
    vkt_gen_result res[N];
    TEST_OK(ctx, vkt_generate(g, pr, N, &o, res));
    double tok = 0, lp = 0;
    int verbose = 0, correct = 0, rechecks = 0;
    for (int i = 0; i < N; i++) {
        vkt_eff_check c;
        vkt_eff_grade(res[i].text, res[i].text_len, it[i].x, it[i].y, &c);
        assert_int_equal(c.rechecks, ck[i].rechecks);
        assert_int_equal(c.correct, ck[i].correct);
        tok += res[i].n, lp += res[i].mean_logprob, verbose += c.verbose, correct += c.correct,
            rechecks += c.rechecks;
    }
    assert_float_equal(st.mean_tokens, tok / N, 1e-12);
    assert_float_equal(st.verbose_frac, (double)verbose / N, 1e-12);
    assert_float_equal(st.accuracy, (double)correct / N, 1e-12);
    assert_float_equal(st.recheck_rate, rechecks / (2.0 * N), 1e-12);
    assert_float_equal(st.mean_logprob, lp / N, 1e-9);
    assert_true(st.sd_tokens >= 0);

    // A zero edit is the identity; a strong edit changes the samples and is removed after.
    float *dirs = calloc(3 * 16, sizeof *dirs);
    TEST_OK(ctx, vkt_eff_measure(g, it, N, dirs, 1.0, 7, 40, &st0, NULL));
    assert_memory_equal(&st0, &st, sizeof st);
    for (int c = 0; c < 16; c++) dirs[16 + c] = (c % 2 ? 40.0f : -40.0f);
    TEST_OK(ctx, vkt_eff_measure(g, it, N, dirs, 1.0, 7, 40, &st2, NULL));
    vkt_gen_result res2[N];
    TEST_OK(ctx, vkt_generate(g, pr, N, &o, res2));
    int differ = 0;
    for (int i = 0; i < N; i++) {
        assert_int_equal(res2[i].n, res[i].n); // the edit is gone: the same samples again
        assert_memory_equal(res2[i].tokens, res[i].tokens, (size_t)res[i].n * 4);
        vkt_gen_result_free(&res[i]), vkt_gen_result_free(&res2[i]);
    }
    differ = st2.mean_logprob != st.mean_logprob; // (a random model's samples all run to 40 tokens)
    assert_true(differ);
    // Greedy twice: identical.
    TEST_OK(ctx, vkt_eff_measure(g, it, N, NULL, 0.0, 1, 40, &st2, NULL));
    TEST_OK(ctx, vkt_eff_measure(g, it, N, NULL, 0.0, 2, 40, &st3, NULL));
    assert_memory_equal(&st2, &st3, sizeof st2);
    // Bad items name themselves.
    const vkt_eff_item bad[1] = {{16, 47, 35}};
    assert_int_equal(vkt_eff_measure(g, bad, 1, NULL, 1.0, 7, 40, &st2, NULL), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "tag 16"));
    free(dirs);
    vkt_gen_destroy(g);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

static double json_num(const char *s, const char *key) {
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = strstr(s, k);
    if (!p) fail_msg("summary lacks %s: %s", key, s);
    return strtod(p + strlen(k), NULL);
}

static void cli_short_run(void **state) {
    (void)state;
    if (!test_cli_available()) skip();
    vkt_ctx *ctx = test_ctx();
    vkt_model *m = tiny_model(ctx);
    const char *ck = test_path("ck");
    TEST_OK(ctx, vkt_checkpoint_save_model(m, ck, false));
    vkt_model_destroy(m);
    test_ctx_done(ctx);

    char args[1024], *so = NULL, *se = NULL;
    snprintf(args, sizeof args,
             "steer efficiency --ckpt %s --out %s/run --prompts 8 --check-problems 1 "
             "--dir-problems 2 --seeds 3 "
             "--strengths 0.5,2 --kinds decision,pc1 --no-plot --json",
             ck, test_dir());
    int rc = test_cli(args, NULL, &so, &se);
    if (rc != 0) fail_msg("exit %d: %s", rc, se);
    static const char *keys[] = {"base_tokens",           "base_accuracy",       "best_layer",
                                 "best_strength",         "best_tokens",         "best_accuracy",
                                 "reverse_tokens_change", "random_tokens_change"};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) json_num(so, keys[k]);
    // Greedy by default, and greedy decoding needs one seed whatever --seeds says.
    assert_true(json_num(so, "temperature") == 0);
    assert_true(json_num(so, "seeds") == 1);
    const int layer = (int)json_num(so, "best_layer");
    const double strength = json_num(so, "best_strength");
    assert_true(layer >= 1 && layer <= 2);
    assert_true(strength == 0.5 || strength == 2);
    const double rev = json_num(so, "reverse_strength");
    assert_true(rev == 0.5 || rev == 2);
    static const char *files[] = {"summary.json", "sweep.csv", "final.csv", "heldout_by_tag.csv",
                                  "directions.gguf"};
    char path[512];
    for (size_t k = 0; k < sizeof files / sizeof *files; k++) {
        size_t n;
        snprintf(path, sizeof path, "%s/run/%s", test_dir(), files[k]);
        free(test_read_all(path, &n));
        assert_true(n > 0);
    }
    // sweep.csv: a header, the unedited row, 2 kinds (--kinds) x 2 layers x 2 strengths, then the
    // reverse edit's strength search: unedited and 2 strengths on concise tags.
    size_t n;
    snprintf(path, sizeof path, "%s/run/sweep.csv", test_dir());
    char *csv = (char *)test_read_all(path, &n);
    int lines = 0, pc1 = 0, decision = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || csv[i - 1] == '\n')
            pc1 += !strncmp(csv + i, "sweep,pc1,", 10),
                decision += !strncmp(csv + i, "sweep,decision,", 15);
        lines += csv[i] == '\n';
    }
    assert_int_equal(lines, 1 + 1 + 2 * 2 * 2 + 1 + 2);
    assert_non_null(strstr(csv, "\nreverse_sweep,none,-1,"));
    assert_int_equal(pc1, 4), assert_int_equal(decision, 4);
    free(csv);
    // efficiency.gguf: one direction at the best layer, the edit the sweep applied; its row
    // in final.csv records the norm (|scale| = strength |h| / |v| times |v| = strength |h|).
    snprintf(path, sizeof path, "%s/run/efficiency.gguf", test_dir());
    vkt_control_vector cv;
    vkt_error err = {0};
    if (vkt_control_vector_load(&cv, path, &err) != VKT_OK) fail_msg("%s", err.msg);
    const float *v = vkt_control_vector_layer(&cv, layer);
    assert_non_null(v);
    double nv = 0;
    for (int c = 0; c < 16; c++) nv += (double)v[c] * v[c];
    assert_true(sqrt(nv) > 0);
    assert_null(vkt_control_vector_layer(&cv, layer == 1 ? 2 : 1));
    vkt_control_vector_free(&cv);
    free(so), free(se);

    // Bad flags: exit 2 with a message, nothing run.
    snprintf(args, sizeof args, "steer efficiency --ckpt %s --out %s/bad --layers 0", ck,
             test_dir());
    assert_int_equal(test_cli(args, NULL, NULL, NULL), 2);
    snprintf(args, sizeof args, "steer efficiency --ckpt %s --out %s/bad --strengths 0.1,x", ck,
             test_dir());
    assert_int_equal(test_cli(args, NULL, NULL, &se), 2);
    assert_non_null(strstr(se, "--strengths"));
    free(se);
    snprintf(args, sizeof args, "steer efficiency --ckpt %s --out %s/bad --kinds trace,mean", ck,
             test_dir());
    assert_int_equal(test_cli(args, NULL, NULL, &se), 2);
    assert_non_null(strstr(se, "--kinds"));
    free(se);
    snprintf(args, sizeof args, "steer efficiency --ckpt %s --out %s/bad --temperature -0.5", ck,
             test_dir());
    assert_int_equal(test_cli(args, NULL, NULL, &se), 2);
    assert_non_null(strstr(se, "--temperature"));
    free(se);
    assert_int_equal(test_cli("steer efficiency --prompts 8", NULL, NULL, NULL), 2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(directions_match_plain_average),
        cmocka_unit_test(measure_matches_generate),
        cmocka_unit_test_setup_teardown(cli_short_run, test_dir_setup, test_dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
