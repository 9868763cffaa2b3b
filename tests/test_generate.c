// test_generate.c: KV-cached batched generation (trainer/model/generate.h) against the
// double-precision reference model recomputing whole sequences; batch invariance of
// seeded sampling; greedy and top-k = 1; steering edits (scale 0 is the identity, a real
// edit matches the reference's residual edit; control-vector layer numbering); the
// teacher-forced eval NLL against the reference; and overfitting a short text, after
// which greedy generation reproduces it.
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

#include "generate.h"
#include "model.h"
#include "model_ref.h"
#include "support_gpu.h"
#include "support_model.h"

static vkt_model_config tiny(vkt_family f, int vocab) {
    return test_config(test_preset(f), (test_shape){.vocab = vocab,
                                                    .context = 24,
                                                    .layers = 2,
                                                    .width = 16,
                                                    .ffn = 24,
                                                    .heads = 4,
                                                    .kv_heads = f == VKT_FAMILY_GPT2 ? 4 : 2});
}

// A random model with weights large enough that its distributions are far from uniform;
// pd (may be NULL) receives the same parameters in double.
static vkt_model *make_model(vkt_ctx *ctx, const vkt_model_config *c, uint64_t seed, double **pd) {
    vkt_model *m = test_model_new(ctx, c, seed);
    const vkt_params *ps = vkt_model_params(m);
    float *pf = test_model_vivid(ctx, m, 6.0f);
    if (pd) {
        *pd = malloc(ps->total * 8);
        for (uint64_t i = 0; i < ps->total; i++) (*pd)[i] = pf[i];
    }
    free(pf);
    return m;
}

// Logits seen by the sampler, per (sample, step).
#define MAXS 8
#define MAXT 16
typedef struct {
    int V;
    float *z; // (MAXS, MAXT, V)
} seen;
static void keep_logits(void *user, int sample, int step, float *logits, int V) {
    seen *s = user;
    if (sample < MAXS && step < MAXT)
        memcpy(s->z + ((size_t)sample * MAXT + step) * V, logits, (size_t)V * 4);
}

// Reference logits (T, V) of one sequence, with an optional residual edit.
static double *ref_logits(const vkt_model_config *c, const vkt_params *ps, const double *pd,
                          const int32_t *tok, int T, const double *const *edit) {
    double *lg = malloc((size_t)T * c->vocab * 8), loss;
    int32_t *tgt = calloc((size_t)T, sizeof *tgt);
    vkt_error err = {0};
    if (vkt_model_ref_forward_backward(c, ps, pd, 1, T, tok, tgt, NULL, 1.0, edit, &loss, lg, NULL,
                                       &err) != VKT_OK)
        fail_msg("%s", err.msg);
    free(tgt);
    return lg;
}

// Prompts of different lengths (1 .. 9), ids below V.
static const int plen[5] = {5, 1, 9, 3, 7};
static int32_t prompt_ids[5][9];
static void make_prompts(vkt_gen_prompt *p, int V) {
    for (int i = 0; i < 5; i++) {
        for (int t = 0; t < plen[i]; t++) prompt_ids[i][t] = (int32_t)((i * 11 + t * 7 + 3) % V);
        p[i] = (vkt_gen_prompt){prompt_ids[i], plen[i], (uint64_t)i};
    }
}

// Every logit the sampler saw equals the reference recomputing prompt + generated tokens.
static void check_against_ref(const vkt_model_config *c, const vkt_params *ps, const double *pd,
                              const vkt_gen_prompt *p, const vkt_gen_result *r, int n,
                              const seen *sn, const double *const *edit) {
    const int V = c->vocab;
    for (int i = 0; i < n; i++) {
        assert_true(r[i].n >= 1);
        int T = p[i].n + r[i].n - 1;
        int32_t *seq = malloc((size_t)T * sizeof *seq);
        memcpy(seq, p[i].ids, (size_t)p[i].n * 4);
        memcpy(seq + p[i].n, r[i].tokens, (size_t)(r[i].n - 1) * 4);
        double *lg = ref_logits(c, ps, pd, seq, T, edit);
        for (int t = 0; t < r[i].n && t < MAXT; t++) {
            const float *got = sn->z + ((size_t)i * MAXT + t) * V;
            const double *want = lg + (size_t)(p[i].n - 1 + t) * V;
            // fp32 through two layers against double: the tolerance of test_model.c.
            for (int j = 0; j < V; j++)
                if (fabs(got[j] - want[j]) > 2e-4 + 2e-4 * fabs(want[j]))
                    fail_msg("sample %d step %d logit %d: %.7g vs reference %.7g", i, t, j, got[j],
                             want[j]);
            // The reported logprob is log softmax of those logits at the sampled token.
            double mx = -INFINITY, sum = 0;
            for (int j = 0; j < V; j++) mx = fmax(mx, want[j]);
            for (int j = 0; j < V; j++) sum += exp(want[j] - mx);
            double lp = want[r[i].tokens[t]] - mx - log(sum);
            if (fabs(r[i].logprob[t] - lp) > 1e-3)
                fail_msg("sample %d step %d logprob %.6g vs %.6g", i, t, r[i].logprob[t], lp);
        }
        free(seq), free(lg);
    }
}

// (a) KV-cached logits = full recompute, prompts of different lengths in one batch, a
// plan smaller than the batch (slots reused) and than the longest prompt (chunked prefill).
static void kv_vs_recompute(vkt_family fam) {
    vkt_ctx *ctx = test_ctx();
    vkt_model_config c = tiny(fam, 37);
    double *pd;
    vkt_model *m = make_model(ctx, &c, 3, &pd);
    vkt_gen *g;
    TEST_OK(ctx, vkt_gen_create(m, 3, 0, 8, &g));
    vkt_gen_prompt p[5];
    make_prompts(p, c.vocab);
    seen sn = {c.vocab, calloc((size_t)MAXS * MAXT * c.vocab, 4)};
    vkt_gen_opts o;
    vkt_gen_defaults(&o);
    o.max_new_tokens = 10, o.seed = 7, o.on_logits = keep_logits, o.user = &sn;
    vkt_gen_result r[5];
    TEST_OK(ctx, vkt_generate(g, p, 5, &o, r));
    check_against_ref(&c, vkt_model_params(m), pd, p, r, 5, &sn, NULL);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(r[i].n, 10);
        assert_int_equal(r[i].finish, VKT_FINISH_LENGTH);
        // statistics are in range and their means are the means
        double a = 0;
        for (int t = 0; t < r[i].n; t++) {
            assert_true(r[i].logprob[t] <= 0 && r[i].entropy[t] >= 0 &&
                        r[i].entropy[t] <= log(c.vocab) + 1e-4);
            assert_true(r[i].self_certainty[t] >= -1e-5);
            a += r[i].entropy[t];
        }
        assert_true(fabs(a / r[i].n - r[i].mean_entropy) < 1e-6);
        vkt_gen_result_free(&r[i]);
    }
    // A sequence that reaches the plan's length stops with "context".
    vkt_gen *g2;
    TEST_OK(ctx, vkt_gen_create(m, 1, 12, 0, &g2));
    o.max_new_tokens = 50, o.on_logits = NULL;
    TEST_OK(ctx, vkt_generate(g2, &p[2], 1, &o, r));
    assert_int_equal(r[0].finish, VKT_FINISH_CONTEXT);
    assert_int_equal(r[0].n, 12 - 9 + 1);
    vkt_gen_result_free(&r[0]);
    vkt_gen_destroy(g2);
    free(sn.z), free(pd);
    vkt_gen_destroy(g);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}
static void test_kv_cache_gpt2(void **s) { kv_vs_recompute(VKT_FAMILY_GPT2); }
static void test_kv_cache_llama(void **s) { kv_vs_recompute(VKT_FAMILY_LLAMA); }

// (b) one call with every prompt = each prompt alone (same streams); (c) greedy twice,
// top-k = 1 = greedy.
static void test_batch_invariance_and_greedy(void **state) {
    vkt_ctx *ctx = test_ctx();
    vkt_model_config c = tiny(VKT_FAMILY_LLAMA, 37);
    vkt_model *m = make_model(ctx, &c, 4, NULL);
    vkt_gen *g;
    TEST_OK(ctx, vkt_gen_create(m, 5, 0, 0, &g));
    vkt_gen_prompt p[5];
    make_prompts(p, c.vocab);
    vkt_gen_opts o;
    vkt_gen_defaults(&o);
    o.max_new_tokens = 12, o.seed = 99, o.temperature = 1.3, o.top_p = 0.95;
    vkt_gen_result all[5], one;
    TEST_OK(ctx, vkt_generate(g, p, 5, &o, all));
    for (int i = 0; i < 5; i++) {
        TEST_OK(ctx, vkt_generate(g, &p[i], 1, &o, &one));
        assert_int_equal(one.n, all[i].n);
        assert_memory_equal(one.tokens, all[i].tokens, (size_t)one.n * 4);
        for (int t = 0; t < one.n; t++)
            assert_true(fabs(one.logprob[t] - all[i].logprob[t]) < 1e-5);
        vkt_gen_result_free(&one);
    }
    // Different streams give different samples.
    assert_true(memcmp(all[0].tokens, all[1].tokens, 12 * 4) != 0 ||
                memcmp(all[2].tokens, all[3].tokens, 12 * 4) != 0);
    for (int i = 0; i < 5; i++) vkt_gen_result_free(&all[i]);

    vkt_gen_result g1[5], g2[5], k1[5];
    o.greedy = true;
    TEST_OK(ctx, vkt_generate(g, p, 5, &o, g1));
    o.seed = 12345;
    TEST_OK(ctx, vkt_generate(g, p, 5, &o, g2));
    o.greedy = false, o.top_k = 1, o.top_p = 1.0, o.temperature = 0.7;
    TEST_OK(ctx, vkt_generate(g, p, 5, &o, k1));
    for (int i = 0; i < 5; i++) {
        assert_memory_equal(g1[i].tokens, g2[i].tokens, 12 * 4);
        assert_memory_equal(g1[i].tokens, k1[i].tokens, 12 * 4);
        // greedy picks the most probable token: its logprob is the largest, so >= -log V
        for (int t = 0; t < 12; t++) assert_true(g1[i].logprob[t] >= -log((double)c.vocab) - 1e-5);
        vkt_gen_result_free(&g1[i]), vkt_gen_result_free(&g2[i]), vkt_gen_result_free(&k1[i]);
    }
    vkt_gen_destroy(g);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

// Stop strings: text cut (or kept) at the first match, tokens keep what was sampled.
static void test_stop_strings(void **state) {
    vkt_ctx *ctx = test_ctx();
    vkt_model_config c = tiny(VKT_FAMILY_GPT2, 37);
    vkt_model *m = make_model(ctx, &c, 5, NULL);
    vkt_gen *g;
    TEST_OK(ctx, vkt_gen_create(m, 2, 0, 0, &g));
    vkt_gen_prompt p[5];
    make_prompts(p, c.vocab);
    vkt_gen_opts o;
    vkt_gen_defaults(&o);
    o.max_new_tokens = 12, o.greedy = true;
    vkt_gen_result full, cut, kept;
    TEST_OK(ctx, vkt_generate(g, &p[0], 1, &o, &full));
    assert_int_equal(full.n, 12);
    assert_int_equal(full.text_len, 12);
    // Stop at the bytes of two generated tokens (not NUL: stop strings are C strings).
    int t0 = 1;
    while (t0 < 9 && (full.tokens[t0] == 0 || full.tokens[t0 + 1] == 0)) t0++;
    assert_true(t0 < 9);
    char stop[3] = {(char)full.tokens[t0], (char)full.tokens[t0 + 1], 0};
    const char *stops[2] = {"\x7f\x7f", stop};
    o.stop = stops, o.n_stop = 2;
    TEST_OK(ctx, vkt_generate(g, &p[0], 1, &o, &cut));
    o.include_stop = true;
    TEST_OK(ctx, vkt_generate(g, &p[0], 1, &o, &kept));
    assert_int_equal(cut.finish, VKT_FINISH_STOP);
    assert_int_equal(cut.stop_index, 1);
    // The first place the stop string ends (it may occur before tokens t0, t0 + 1).
    size_t end = 0;
    for (size_t e = 2; e <= (size_t)t0 + 2 && !end; e++)
        if (!memcmp(full.text + e - 2, stop, 2)) end = e;
    assert_int_equal(cut.n, (int)end);
    assert_int_equal(cut.text_len, end - 2);
    assert_int_equal(kept.text_len, end);
    assert_memory_equal(kept.text, full.text, end);
    vkt_gen_result_free(&full), vkt_gen_result_free(&cut), vkt_gen_result_free(&kept);
    vkt_gen_destroy(g);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

// (d) control vectors: scale 0 is the identity; a real edit equals the reference's.
static void test_steering_edit(void **state) {
    vkt_ctx *ctx = test_ctx();
    vkt_model_config c = tiny(VKT_FAMILY_GPT2, 37);
    double *pd;
    vkt_model *m = make_model(ctx, &c, 6, &pd);
    vkt_gen *g;
    TEST_OK(ctx, vkt_gen_create(m, 5, 0, 0, &g));
    vkt_gen_prompt p[5];
    make_prompts(p, c.vocab);
    const int C = c.width, L = c.layers;

    // A control-vector file with direction.1 and direction.2, written and read back.
    float dirs_file[2 * 16];
    test_fill_uniform(dirs_file, 2 * 16, 11, -1.0f, 1.0f);
    char path[] = "/tmp/vkt_test_cv_XXXXXX";
    int fdsc = mkstemp(path);
    assert_true(fdsc >= 0);
    close(fdsc);
    vkt_error err = {0};
    int layers_in_file[2] = {1, 2};
    if (vkt_control_vector_write(path, "test", 2, C, 2, layers_in_file, dirs_file, &err) != VKT_OK)
        fail_msg("%s", err.msg);
    vkt_control_vector cv[2];
    if (vkt_control_vector_load(&cv[0], path, &err) != VKT_OK) fail_msg("%s", err.msg);
    if (vkt_control_vector_load(&cv[1], path, &err) != VKT_OK) fail_msg("%s", err.msg);
    unlink(path);
    float *dirs = malloc((size_t)L * C * 4);
    // Scaled and summed: 0.5 + 0.25 of the same file. direction.N edits 0-based block N
    // (llama.cpp), so with 2 blocks only direction.1 lands (at block 1); block 0 is never
    // edited and direction.2 names a block the model does not have.
    float sc[2] = {0.5f, 0.25f};
    if (vkt_gen_edit_from_control_vectors(cv, sc, 2, 0, 0, L, C, dirs, &err) != VKT_OK)
        fail_msg("%s", err.msg);
    for (int j = 0; j < C; j++) {
        assert_true(dirs[j] == 0.0f);
        assert_true(fabsf(dirs[C + j] - 0.75f * dirs_file[j]) < 1e-6f);
    }
    // The range [2, 2] keeps only direction.2: nothing lands.
    if (vkt_gen_edit_from_control_vectors(cv, sc, 2, 2, 2, L, C, dirs, &err) != VKT_OK)
        fail_msg("%s", err.msg);
    for (int j = 0; j < 2 * C; j++) assert_true(dirs[j] == 0.0f);
    // Width mismatch is refused.
    assert_int_equal(vkt_gen_edit_from_control_vectors(cv, sc, 2, 0, 0, L, C + 1, dirs, &err),
                     VKT_ERR_ARG);

    seen s0 = {c.vocab, calloc((size_t)MAXS * MAXT * c.vocab, 4)}, s1 = s0;
    s1.z = calloc((size_t)MAXS * MAXT * c.vocab, 4);
    vkt_gen_opts o;
    vkt_gen_defaults(&o);
    o.max_new_tokens = 6, o.seed = 3, o.on_logits = keep_logits, o.user = &s0;
    vkt_gen_result base[5], zero[5], edited[5];
    TEST_OK(ctx, vkt_generate(g, p, 5, &o, base));
    float zs[2] = {0.0f, 0.0f};
    if (vkt_gen_edit_from_control_vectors(cv, zs, 2, 0, 0, L, C, dirs, &err) != VKT_OK)
        fail_msg("%s", err.msg);
    TEST_OK(ctx, vkt_gen_set_edit(g, dirs));
    o.user = &s1;
    TEST_OK(ctx, vkt_generate(g, p, 5, &o, zero));
    for (int i = 0; i < 5; i++) {
        assert_int_equal(base[i].n, zero[i].n);
        assert_memory_equal(base[i].tokens, zero[i].tokens, (size_t)base[i].n * 4);
        assert_memory_equal(base[i].logprob, zero[i].logprob, (size_t)base[i].n * 4);
    }
    assert_memory_equal(s0.z, s1.z, (size_t)MAXS * MAXT * c.vocab * 4);

    // All layers, scale 2: the reference with resid_edit at block 1 (block 0's is zero).
    float s2[1] = {2.0f};
    if (vkt_gen_edit_from_control_vectors(cv, s2, 1, 0, 0, L, C, dirs, &err) != VKT_OK)
        fail_msg("%s", err.msg);
    TEST_OK(ctx, vkt_gen_set_edit(g, dirs));
    TEST_OK(ctx, vkt_generate(g, p, 5, &o, edited));
    double e0[16], e1[16];
    for (int j = 0; j < C; j++) e0[j] = dirs[j], e1[j] = dirs[C + j];
    const double *edit[2] = {e0, e1};
    check_against_ref(&c, vkt_model_params(m), pd, p, edited, 5, &s1, edit);
    // and the edit changed something
    bool changed = false;
    for (int i = 0; i < 5; i++) changed |= fabs(edited[i].logprob[0] - base[i].logprob[0]) > 1e-3;
    assert_true(changed);
    for (int i = 0; i < 5; i++)
        vkt_gen_result_free(&base[i]), vkt_gen_result_free(&zero[i]),
            vkt_gen_result_free(&edited[i]);
    vkt_control_vector_free(&cv[0]), vkt_control_vector_free(&cv[1]);
    free(dirs), free(s0.z), free(s1.z), free(pd);
    vkt_gen_destroy(g);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

// (f) eval NLL = the reference's mean CE over windows; scoring by continuation.
static void eval_vs_ref(vkt_family fam) {
    vkt_ctx *ctx = test_ctx();
    vkt_model_config c = tiny(fam, 264);
    c.context = 16;
    double *pd;
    vkt_model *m = make_model(ctx, &c, 8, &pd);
    const vkt_params *ps = vkt_model_params(m);
    unsigned char text[50];
    for (int i = 0; i < 50; i++) text[i] = (unsigned char)((i * 97 + 13) % 251);
    // Windows 16, 16, 16, 2: the reference, one window at a time.
    double sum = 0;
    int64_t count = 0;
    for (int a = 0; a < 50; a += 16) {
        int T = 50 - a < 16 ? 50 - a : 16;
        int32_t tok[16], tgt[16];
        double w[16], loss;
        for (int t = 0; t < T; t++)
            tok[t] = text[a + t], tgt[t] = t + 1 < T ? text[a + t + 1] : 0, w[t] = t + 1 < T;
        vkt_error err = {0};
        if (vkt_model_ref_forward_backward(&c, ps, pd, 1, T, tok, tgt, w, 1.0, NULL, &loss, NULL,
                                           NULL, &err) != VKT_OK)
            fail_msg("%s", err.msg);
        sum += loss, count += T - 1;
    }
    double want = sum / (double)count;
    // Two plans: everything in one forward, and 2 slots x 20 rows (waves and chunks).
    int plans[2][2] = {{4, 0}, {2, 20}};
    for (int k = 0; k < 2; k++) {
        vkt_gen *g;
        TEST_OK(ctx, vkt_gen_create(m, plans[k][0], 0, plans[k][1], &g));
        double nll;
        int64_t n;
        TEST_OK(ctx, vkt_gen_eval_text(g, text, 50, &nll, &n));
        assert_int_equal(n, count);
        if (fabs(nll - want) > 1e-5 * fabs(want))
            fail_msg("plan %d: eval nll %.9g vs reference %.9g", k, nll, want);
        vkt_gen_destroy(g);
    }
    free(pd);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}
static void test_eval_gpt2(void **s) { eval_vs_ref(VKT_FAMILY_GPT2); }
static void test_eval_llama(void **s) { eval_vs_ref(VKT_FAMILY_LLAMA); }

// (e) overfit a fixed text with the model API; greedy generation from its first bytes
// reproduces it.
static void test_overfit_then_generate(void **state) {
    static const char text[] =
        "The quick brown fox jumps over the lazy dog; vkt learns this line by heart.";
    const int n = (int)strlen(text), T = n - 1, B = 4;
    vkt_ctx *ctx = test_ctx();
    vkt_model_config c = test_config(
        "gpt2-tiny", (test_shape){.context = 128, .layers = 2, .width = 64, .ffn = 256});
    vkt_model *m = test_model_new(ctx, &c, 1);
    TEST_OK(ctx, vkt_model_plan(m, B, T));
    int32_t tok[4 * 128], tgt[4 * 128];
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            tok[b * T + t] = (unsigned char)text[t], tgt[b * T + t] = (unsigned char)text[t + 1];
    TEST_OK(ctx, vkt_model_set_batch(m, tok, tgt, NULL));
    vkt_optim o = {3e-3f, 0.9f, 0.95f, 1e-8f, 0.0f, 1.0f, 1.0f};
    double loss = 1e9, wsum;
    int step;
    for (step = 1; step <= 400; step++) {
        TEST_OK(ctx, vkt_model_forward(m, NULL, NULL));
        TEST_OK(ctx, vkt_model_backward(m, 1.0f / (B * T)));
        TEST_OK(ctx, vkt_model_adamw(m, &o, step, NULL));
        if (step % 10 == 0) {
            TEST_OK(ctx, vkt_model_read_loss(m, &loss, &wsum));
            loss /= wsum;
            if (loss < 0.05) break;
        }
    }
    printf("overfit: loss %.4f after %d steps\n", loss, step);
    assert_true(loss < 0.05);
    vkt_gen *g;
    TEST_OK(ctx, vkt_gen_create(m, 1, 0, 0, &g));
    int32_t prompt[4];
    for (int t = 0; t < 4; t++) prompt[t] = (unsigned char)text[t];
    vkt_gen_prompt p = {prompt, 4, 0};
    vkt_gen_opts go;
    vkt_gen_defaults(&go);
    go.greedy = true, go.max_new_tokens = n - 4;
    vkt_gen_result r;
    TEST_OK(ctx, vkt_generate(g, &p, 1, &go, &r));
    printf("generated: \"%s\"\n", r.text);
    assert_int_equal(r.text_len, (size_t)(n - 4));
    assert_memory_equal(r.text, text + 4, (size_t)(n - 4));
    vkt_gen_result_free(&r);
    vkt_gen_destroy(g);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

// The hook sees every new row once per block, labelled with its sequence and position;
// scoring returns the same logprobs as generation reported for the sampled tokens.
typedef struct {
    int calls, rows_seen[2][24];
} capture;
static vkt_status count_rows(void *user, vkt_gen *g, int layer, vkt_view resid, int rows,
                             const int32_t *seq, const int32_t *pos) {
    capture *c = user;
    c->calls++;
    for (int r = 0; r < rows; r++)
        if (seq[r] >= 0 && seq[r] < 2 && pos[r] >= 0 && pos[r] < 24) c->rows_seen[seq[r]][pos[r]]++;
    return VKT_OK;
}
static void test_hook_and_score(void **state) {
    vkt_ctx *ctx = test_ctx();
    vkt_model_config c = tiny(VKT_FAMILY_LLAMA, 37);
    vkt_model *m = make_model(ctx, &c, 12, NULL);
    vkt_gen *g;
    TEST_OK(ctx, vkt_gen_create(m, 2, 0, 6, &g)); // 6 rows: the 9-token prompt takes two forwards
    vkt_gen_prompt p[5];
    make_prompts(p, c.vocab);
    vkt_gen_opts o;
    vkt_gen_defaults(&o);
    o.max_new_tokens = 5, o.seed = 1;
    vkt_gen_result r[2];
    TEST_OK(ctx, vkt_generate(g, p + 1, 2, &o, r)); // prompts of 1 and 9 tokens
    capture cap = {0};
    vkt_gen_set_hook(g, count_rows, &cap);
    const int32_t *cont[2] = {r[0].tokens, r[1].tokens};
    int nc[2] = {r[0].n, r[1].n};
    float lp0[5], lp1[5];
    float *out[2] = {lp0, lp1};
    TEST_OK(ctx, vkt_gen_score(g, 2, p + 1, cont, nc, out));
    vkt_gen_set_hook(g, NULL, NULL);
    for (int i = 0; i < 2; i++) {
        int total = p[1 + i].n + nc[i];
        for (int t = 0; t < 24; t++)
            assert_int_equal(cap.rows_seen[i][t], t < total ? c.layers : 0);
        for (int t = 0; t < nc[i]; t++)
            if (fabs(out[i][t] - r[i].logprob[t]) > 1e-4)
                fail_msg("sequence %d token %d: scored %.6g, generation said %.6g", i, t, out[i][t],
                         r[i].logprob[t]);
        vkt_gen_result_free(&r[i]);
    }
    vkt_gen_destroy(g);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

// Bad calls: nothing generated, a message naming the fault.
static void test_bad_calls(void **state) {
    vkt_ctx *ctx = test_ctx();
    vkt_model_config c = tiny(VKT_FAMILY_GPT2, 37);
    vkt_model *m = make_model(ctx, &c, 9, NULL);
    vkt_gen *g = NULL;
    assert_int_equal(vkt_gen_create(m, 0, 0, 0, &g), VKT_ERR_ARG);
    assert_int_equal(vkt_gen_create(m, 2, 25, 0, &g), VKT_ERR_ARG);
    assert_int_equal(vkt_gen_create(m, 4, 0, 3, &g), VKT_ERR_ARG);
    TEST_OK(ctx, vkt_gen_create(m, 2, 0, 0, &g));
    int32_t bad[2] = {1, 37};
    vkt_gen_prompt p = {bad, 2, 0};
    vkt_gen_opts o;
    vkt_gen_defaults(&o);
    vkt_gen_result r;
    assert_int_equal(vkt_generate(g, &p, 1, &o, &r), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "vocabulary"));
    p.n = 0;
    assert_int_equal(vkt_generate(g, &p, 1, &o, &r), VKT_ERR_ARG);
    // max_new_tokens 0: an empty result
    bad[1] = 2, p.n = 2, o.max_new_tokens = 0;
    TEST_OK(ctx, vkt_generate(g, &p, 1, &o, &r));
    assert_int_equal(r.n, 0);
    assert_int_equal(r.text_len, 0);
    vkt_gen_result_free(&r);
    vkt_gen_destroy(g);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kv_cache_gpt2),
        cmocka_unit_test(test_kv_cache_llama),
        cmocka_unit_test(test_batch_invariance_and_greedy),
        cmocka_unit_test(test_stop_strings),
        cmocka_unit_test(test_steering_edit),
        cmocka_unit_test(test_eval_gpt2),
        cmocka_unit_test(test_eval_llama),
        cmocka_unit_test(test_hook_and_score),
        cmocka_unit_test(test_bad_calls),
        cmocka_unit_test(test_overfit_then_generate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
