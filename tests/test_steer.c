// test_steer.c: steering capture and extraction (trainer/steer/steer.h, vkt steer).
//  - capture in padded, length-sorted batches equals a plain one-prompt-at-a-time forward
//    with the hook downloading the whole residual; every captured layer also equals the
//    double-precision reference model cut after that layer (its logits = final norm +
//    head applied to the captured rows);
//  - last / response positions pick the right rows, with prompt and token indices;
//  - directions on hand-made data (rank one, sign, uncentred PCA);
//  - a planted direction: a model whose pos/neg prompts differ in one token whose
//    embedding rows are e_k +- a_k v; mean and pca recover v with the right sign;
//  - vkt steer extract / capture files read back (GGUF direction.N, safetensors);
//  - bad input: layers out of range, empty prompt files, mismatched pairs.
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
#include "support_files.h"

#include "checkpoint.h"
#include "gguf.h"
#include "model.h"
#include "model_ref.h"
#include "reference.h"
#include "safetensors.h"
#include "steer.h"
#include "support_gpu.h"
#include "support_model.h"

static vkt_model_config tiny(vkt_family f) {
    return test_config(test_preset(f), (test_shape){.vocab = 264,
                                                    .context = 24,
                                                    .layers = 3,
                                                    .width = 16,
                                                    .ffn = 24,
                                                    .heads = 4,
                                                    .kv_heads = f == VKT_FAMILY_GPT2 ? 4 : 2});
}

// A model with weights large enough that every block changes the residual (as test_model).
static vkt_model *make_model(vkt_ctx *ctx, vkt_family fam, float gain, float **params_out) {
    vkt_model_config c = tiny(fam);
    vkt_model *m = test_model_new(ctx, &c, 11);
    float *p = test_model_vivid(ctx, m, gain);
    if (params_out)
        *params_out = p;
    else
        free(p);
    return m;
}

// --- (a) capture against a plain forward and the reference -------------------------

typedef struct full_hook {
    int C, N;
    float **res; // per block: (N, C)
} full_hook;

static vkt_status download_all(void *user, vkt_model *m, int l, vkt_view resid, int N) {
    full_hook *h = user;
    return vkt_download(vkt_model_ctx(m), resid, h->res[l], (uint64_t)N * h->C * 4);
}

static const int plen[] = {1, 5, 9, 16, 3, 24, 2, 11};
#define NP 8

static void make_prompts(vkt_steer_prompt *p, int32_t *store, int V) {
    int32_t *t = store;
    for (int i = 0; i < NP; i++) {
        p[i].tokens = t, p[i].n = plen[i], p[i].response_start = plen[i] / 2;
        for (int j = 0; j < plen[i]; j++) *t++ = (int32_t)((i * 37 + j * 11 + 5) % V);
    }
}

static void capture_family(vkt_family fam, bool small_bindings) {
    // Small bindings: every op, the row gather included, must bind its tensors in ranges
    // (the (96, 16) residual of a 4 x 24 batch is 6144 bytes > 5120; attention needs one
    // row's q, 24 x 48 floats = 4608 bytes, in one binding).
    if (small_bindings) setenv("VKT_MAX_BINDING_BYTES", "5120", 1);
    vkt_ctx *ctx = test_ctx();
    if (small_bindings) unsetenv("VKT_MAX_BINDING_BYTES");
    float *pf;
    vkt_model *m = make_model(ctx, fam, 8.0f, &pf);
    const vkt_model_config *c = vkt_model_cfg(m);
    const int C = c->width, L = c->layers;
    vkt_steer_prompt pr[NP];
    int32_t store[128];
    make_prompts(pr, store, c->vocab);
    vkt_error err = {0};

    // Batches of 3, longest first: T = 24, 16, 8, the last batch one row short (with
    // small bindings batches of 4: T = 24, 8).
    const int bs = small_bindings ? 4 : 3;
    vkt_steer_acts all, last, resp;
    TEST_OK(ctx, vkt_steer_capture(m, pr, NP, 0, L - 1, VKT_STEER_POS_ALL, bs, &all));
    TEST_OK(ctx, vkt_steer_capture(m, pr, NP, 1, L - 1, VKT_STEER_POS_LAST, bs, &last));
    TEST_OK(ctx, vkt_steer_capture(m, pr, NP, 0, 1, VKT_STEER_POS_RESPONSE, bs, &resp));
    int64_t total = 0, rtotal = 0;
    for (int i = 0; i < NP; i++) total += plen[i], rtotal += plen[i] - plen[i] / 2;
    assert_int_equal(all.rows, total);
    assert_int_equal(last.rows, NP);
    assert_int_equal(resp.rows, rtotal);
    assert_int_equal(all.n_layers, L);
    assert_int_equal(last.first_layer, 1);
    assert_int_equal(last.n_layers, L - 1);
    assert_null(vkt_steer_acts_layer(&last, 0));
    assert_null(vkt_steer_acts_layer(&resp, 2));

    // Expected: each prompt alone, unpadded, the hook downloading every row.
    const vkt_params *ps = vkt_model_params(m);
    double *pd = malloc(ps->total * 8);
    for (uint64_t i = 0; i < ps->total; i++) pd[i] = pf[i];
    int64_t r = 0, rl = 0, rr = 0;
    for (int i = 0; i < NP; i++) {
        const int n = plen[i];
        full_hook h = {C, n, malloc((size_t)L * sizeof(float *))};
        for (int l = 0; l < L; l++) h.res[l] = malloc((size_t)n * C * 4);
        TEST_OK(ctx, vkt_model_plan(m, 1, n));
        TEST_OK(ctx, vkt_model_set_batch(m, pr[i].tokens, NULL, NULL));
        TEST_OK(ctx, vkt_model_forward(m, download_all, &h));
        char label[64];
        for (int layer = 0; layer < L; layer++) {
            const float *want = h.res[layer];
            // all: rows r .. r+n-1 in token order; fp32 with different batch shapes
            // (tolerance 1e-5 + 1e-5 |x|; in practice equal).
            snprintf(label, sizeof label, "all: prompt %d layer %d", i, layer);
            assert_true(test_close(label, vkt_steer_acts_layer(&all, layer) + (size_t)r * C, want,
                                   (uint64_t)n * C, 1e-5, 1e-5));
            if (layer >= 1) {
                snprintf(label, sizeof label, "last: prompt %d layer %d", i, layer);
                assert_true(test_close(label, vkt_steer_acts_layer(&last, layer) + (size_t)rl * C,
                                       want + (size_t)(n - 1) * C, (uint64_t)C, 1e-5, 1e-5));
            }
            if (layer <= 1) {
                int t0 = n / 2;
                snprintf(label, sizeof label, "response: prompt %d layer %d", i, layer);
                assert_true(test_close(label, vkt_steer_acts_layer(&resp, layer) + (size_t)rr * C,
                                       want + (size_t)t0 * C, (uint64_t)(n - t0) * C, 1e-5, 1e-5));
            }
        }
        for (int t = 0; t < n; t++) {
            assert_int_equal(all.prompt_index[r + t], i);
            assert_int_equal(all.token_index[r + t], t);
        }
        assert_int_equal(last.prompt_index[rl], i);
        assert_int_equal(last.token_index[rl], n - 1);
        for (int t = n / 2; t < n; t++) {
            assert_int_equal(resp.prompt_index[rr + t - n / 2], i);
            assert_int_equal(resp.token_index[rr + t - n / 2], t);
        }

        // The reference model cut after block `layer`: its logits are the final norm and
        // head of the residual at that layer, so they check the captured rows directly.
        for (int layer = 0; layer < L; layer++) {
            vkt_model_config cl = *c;
            cl.layers = layer + 1;
            vkt_params psl;
            if (vkt_params_build(&cl, &psl, &err) != VKT_OK) fail_msg("%s", err.msg);
            double *pl = malloc(psl.total * 8), *ref = malloc((size_t)n * c->vocab * 8);
            for (int t = 0; t < psl.n; t++) {
                const vkt_param *q = vkt_params_by_name(ps, psl.p[t].name);
                assert_non_null(q);
                memcpy(pl + psl.p[t].offset, pd + q->offset, q->count * 8);
            }
            int32_t tgt[32] = {0};
            double loss;
            if (vkt_model_ref_forward_backward(&cl, &psl, pl, 1, n, pr[i].tokens, tgt, NULL, 1.0,
                                               NULL, &loss, ref, NULL, &err) != VKT_OK)
                fail_msg("%s", err.msg);
            double *x = malloc((size_t)n * C * 8), *y = malloc((size_t)n * C * 8),
                   *mu = malloc((size_t)n * 8), *rs = malloc((size_t)n * 8),
                   *lg = malloc((size_t)n * c->vocab * 8);
            const float *got = vkt_steer_acts_layer(&all, layer) + (size_t)r * C;
            for (int j = 0; j < n * C; j++) x[j] = got[j];
            const vkt_param *lw = vkt_params_find(ps, VKT_P_LNF_W, -1),
                            *lb = vkt_params_find(ps, VKT_P_LNF_B, -1);
            const vkt_param *hd = vkt_params_find(ps, c->tied ? VKT_P_WTE : VKT_P_LM_HEAD, -1);
            vkt_status s =
                c->norm == VKT_NORM_LAYERNORM
                    ? vkt_ref_layernorm_fwd_f64(n, C, c->eps, x, pd + lw->offset,
                                                lb ? pd + lb->offset : NULL, y, mu, rs, &err)
                    : vkt_ref_rmsnorm_fwd_f64(n, C, c->eps, x, pd + lw->offset, y, rs, &err);
            if (s == VKT_OK)
                s = vkt_ref_matmul_f64(false, true, n, c->vocab, C, 1.0, y, pd + hd->offset, 0.0,
                                       lg, NULL, &err);
            if (s != VKT_OK) fail_msg("%s", err.msg);
            for (int j = 0; j < n * c->vocab; j++)
                if (fabs(lg[j] - ref[j]) > 2e-4 + 2e-4 * fabs(ref[j]))
                    fail_msg("prompt %d layer %d logit %d: from capture %.7g, reference %.7g", i,
                             layer, j, lg[j], ref[j]);
            free(pl), free(ref), free(x), free(y), free(mu), free(rs), free(lg);
            vkt_params_free(&psl);
        }
        for (int l = 0; l < L; l++) free(h.res[l]);
        free(h.res);
        r += n, rl += 1, rr += n - n / 2;
    }
    vkt_steer_acts_free(&all), vkt_steer_acts_free(&last), vkt_steer_acts_free(&resp);
    free(pf), free(pd);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

static void test_capture_gpt2(void **s) { capture_family(VKT_FAMILY_GPT2, false); }
static void test_capture_llama(void **s) { capture_family(VKT_FAMILY_LLAMA, false); }
static void test_capture_small_bindings(void **s) { capture_family(VKT_FAMILY_GPT2, true); }

// --- directions on hand-made rows ---------------------------------------------------

static double cosine(const float *a, const double *b, int C) {
    double ab = 0, aa = 0, bb = 0;
    for (int j = 0; j < C; j++) ab += a[j] * b[j], aa += (double)a[j] * a[j], bb += b[j] * b[j];
    return ab / sqrt(aa * bb);
}

static void test_direction_math(void **s) {
    vkt_error err = {0};
    enum { n = 6, C = 5 };
    float pos[n * C], neg[n * C], dir[C];
    double v[C] = {0.5, -0.5, 0.5, 0.5, 0};
    vkt_steer_dir_info info;
    // Rank one: d_i = a_i v with a_i in 1..6: mean = 3.5 v, pca = v (explained 1).
    for (int i = 0; i < n; i++)
        for (int j = 0; j < C; j++)
            neg[i * C + j] = (float)(0.1 * (i + j)),
                        pos[i * C + j] = neg[i * C + j] + (float)((i + 1) * v[j]);
    assert_int_equal(vkt_steer_direction(pos, neg, n, C, VKT_STEER_MEAN, dir, &info, &err), VKT_OK);
    for (int j = 0; j < C; j++) assert_true(fabs(dir[j] - 3.5 * v[j]) < 1e-5);
    assert_true(fabs(info.norm - 3.5) < 1e-5 && fabs(info.separation - 3.5) < 1e-5 &&
                fabs(info.explained - 1) < 1e-9);
    assert_int_equal(vkt_steer_direction(pos, neg, n, C, VKT_STEER_PCA, dir, &info, &err), VKT_OK);
    for (int j = 0; j < C; j++) assert_true(fabs(dir[j] - v[j]) < 1e-6);
    assert_true(fabs(info.norm - 1) < 1e-9 && fabs(info.separation - 3.5) < 1e-5 &&
                fabs(info.explained - 1) < 1e-9);
    // Swapping pos and neg flips both.
    assert_int_equal(vkt_steer_direction(neg, pos, n, C, VKT_STEER_PCA, dir, &info, &err), VKT_OK);
    for (int j = 0; j < C; j++) assert_true(fabs(dir[j] + v[j]) < 1e-6);
    assert_true(info.separation < 0 ? false : true); // separation is along the returned direction
    // Uncentred PCA: d = (3,0,..), (-2,0,..) x2, (0,1,..): D^T D = diag(17, 1): PC1 = e0 although
    // the mean difference (-1/4, 1/4) points elsewhere; the sign follows the mean (-e0).
    float p2[4 * C] = {0}, n2[4 * C] = {0};
    p2[0] = 3, p2[C] = -2, p2[2 * C] = -2, p2[3 * C + 1] = 1;
    assert_int_equal(vkt_steer_direction(p2, n2, 4, C, VKT_STEER_PCA, dir, &info, &err), VKT_OK);
    assert_true(fabs(dir[0] + 1) < 1e-6 && fabs(dir[1]) < 1e-6);
    assert_true(fabs(info.explained - 17.0 / 18.0) < 1e-9);
    // Errors: no pairs, identical rows, pairs that cancel in the mean.
    assert_int_equal(vkt_steer_direction(pos, neg, 0, C, VKT_STEER_PCA, dir, NULL, &err),
                     VKT_ERR_ARG);
    assert_int_equal(vkt_steer_direction(pos, pos, n, C, VKT_STEER_PCA, dir, NULL, &err),
                     VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "equals its negative"));
    float p3[2 * C] = {1}, n3[2 * C] = {0};
    p3[C] = -1;
    assert_int_equal(vkt_steer_direction(p3, n3, 2, C, VKT_STEER_MEAN, dir, NULL, &err),
                     VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "mean difference is zero"));
    assert_int_equal(vkt_steer_direction(p3, n3, 2, C, VKT_STEER_PCA, dir, &info, &err), VKT_OK);
    assert_true(fabs(fabs(dir[0]) - 1) < 1e-9);
}

static void test_parse(void **s) {
    vkt_error err = {0};
    int a, b;
    // A model of 4 blocks: layers 0..3 to capture, 1..3 for directions (no direction.0).
    assert_int_equal(vkt_steer_parse_layers("2-3", 4, 0, &a, &b, &err), VKT_OK);
    assert_true(a == 2 && b == 3);
    assert_int_equal(vkt_steer_parse_layers("0", 4, 0, &a, &b, &err), VKT_OK);
    assert_true(a == 0 && b == 0);
    assert_int_equal(vkt_steer_parse_layers("3", 4, 1, &a, &b, &err), VKT_OK);
    assert_true(a == 3 && b == 3);
    const char *bad[] = {"0-4", "3-5", "4", "3-2", "x", "1-", "-1", "1-2x", "", "1--2"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (vkt_steer_parse_layers(bad[i], 4, 0, &a, &b, &err) != VKT_ERR_ARG)
            fail_msg("'%s' accepted", bad[i]);
    assert_int_equal(vkt_steer_parse_layers("0-2", 4, 1, &a, &b, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "numbered 1..3"));
    assert_non_null(strstr(err.msg, "no direction.0"));
    vkt_steer_pos p;
    vkt_steer_method mm;
    assert_int_equal(vkt_steer_pos_parse("response", &p, &err), VKT_OK);
    assert_int_equal(p, VKT_STEER_POS_RESPONSE);
    assert_int_equal(vkt_steer_pos_parse("first", &p, &err), VKT_ERR_ARG);
    assert_int_equal(vkt_steer_method_parse("pca", &mm, &err), VKT_OK);
    assert_int_equal(vkt_steer_method_parse("umap", &mm, &err), VKT_ERR_ARG);

    // Prompt files: CRLF, empty lines skipped, escapes, special tokens, boundaries.
    const char *text = "ab\r\n\n<|user|>x\\ny\nq<|assistant|>rs\n";
    vkt_steer_prompts P;
    assert_int_equal(vkt_steer_prompts_parse(text, strlen(text), "t.txt", NULL, &P, &err), VKT_OK);
    assert_int_equal(P.n, 3);
    assert_int_equal(P.p[0].n, 2);
    assert_int_equal(P.line[1], 3);
    assert_int_equal(P.p[1].n, 4);
    assert_int_equal(P.p[1].tokens[0], 259);
    assert_int_equal(P.p[1].tokens[2], '\n');
    assert_int_equal(P.p[2].n, 4);
    assert_int_equal(P.p[2].tokens[1], 260);
    vkt_steer_prompts_free(&P);
    const char *resp = "q<|assistant|>rs\nhello: world\n";
    assert_int_equal(
        vkt_steer_prompts_parse(resp, strlen(resp), "r.txt", "<|assistant|>", &P, &err),
        VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "r.txt:2"));
    assert_int_equal(vkt_steer_prompts_parse(resp, 17, "r.txt", "<|assistant|>", &P, &err), VKT_OK);
    assert_int_equal(P.p[0].response_start, 2);
    assert_int_equal(P.p[0].n, 4);
    vkt_steer_prompts_free(&P);
    assert_int_equal(vkt_steer_prompts_parse("x:", 2, "e.txt", ":", &P, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "nothing after"));
    assert_int_equal(vkt_steer_prompts_parse("", 0, "e.txt", NULL, &P, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "no prompts"));
    assert_int_equal(vkt_steer_prompts_parse("\n\r\n\n", 4, "e.txt", NULL, &P, &err), VKT_ERR_ARG);
    assert_int_equal(vkt_steer_prompts_read("/nonexistent/p.txt", NULL, &P, &err), VKT_ERR_IO);
}

// --- (b) the planted direction ------------------------------------------------------

// Pairs (pos, neg) differ only in their last byte: '@'+k against 'a'+k, whose embedding
// rows are e_k +- (a_k v + b_k u); prefixes are digits. K = 4 token pairs. u is a
// distractor orthogonal to v with zero mean over the pairs (b = +-0.5, sum a_k b_k = 0):
// it leaves the mean difference alone and is the *second* principal axis of the
// uncentred differences (sum a^2 = 4.86 against sum b^2 = 1), so both methods must find v
// while about 1/6 of the difference energy lies elsewhere. Only the last token differs, so
// any other captured position would give no difference at all.
#define PK 4
#define NPAIR 12
static const double amp[PK] = {0.6, 0.9, 1.2, 1.5}, distract[PK] = {0.5, -0.5, -0.5, 0.5};

static void planted_uv(double *v, double *u, int C) {
    double nn = 0, uv = 0, un = 0;
    for (int j = 0; j < C; j++) v[j] = sin(1.7 * j + 0.3), nn += v[j] * v[j];
    for (int j = 0; j < C; j++) v[j] /= sqrt(nn);
    for (int j = 0; j < C; j++) u[j] = cos(0.9 * j + 1.1), uv += u[j] * v[j];
    for (int j = 0; j < C; j++) u[j] -= uv * v[j], un += u[j] * u[j];
    for (int j = 0; j < C; j++) u[j] /= sqrt(un);
}

static vkt_model *planted_model(vkt_ctx *ctx, double *v) {
    float *p;
    vkt_model *m = make_model(ctx, VKT_FAMILY_GPT2, 4.0f, &p);
    const vkt_model_config *c = vkt_model_cfg(m);
    const int C = c->width;
    double u[64];
    planted_uv(v, u, C);
    const vkt_param *wte = vkt_params_find(vkt_model_params(m), VKT_P_WTE, -1);
    float e[64];
    for (int k = 0; k < PK; k++) {
        test_fill_uniform(e, (uint64_t)C, 100 + k, -0.3f, 0.3f);
        float *rp = p + wte->offset + (size_t)('@' + k) * C,
              *rn = p + wte->offset + (size_t)('a' + k) * C;
        for (int j = 0; j < C; j++) {
            double d = amp[k] * v[j] + distract[k] * u[j];
            rp[j] = e[j] + (float)d, rn[j] = e[j] - (float)d;
        }
    }
    TEST_OK(ctx, vkt_model_set_params(m, p));
    free(p);
    return m;
}

// Prompt i: (i % 5) + 2 digits, then the pair's byte. pos=true: '@'+k.
static int planted_text(int i, bool pos, char *out) {
    int n = i % 5 + 2, k = i % PK;
    for (int j = 0; j < n; j++) out[j] = (char)('0' + (i * 7 + j * 3) % 10);
    out[n] = (char)(pos ? '@' + k : 'a' + k);
    out[n + 1] = 0;
    return n + 1;
}

static void planted_directions(vkt_model *m, int first, int last, vkt_steer_method meth,
                               float *dirs, vkt_steer_dir_info *info) {
    vkt_ctx *ctx = vkt_model_ctx(m);
    vkt_steer_prompt pr[2 * NPAIR];
    int32_t tok[2 * NPAIR][8];
    for (int i = 0; i < 2 * NPAIR; i++) {
        char t[8];
        int n = planted_text(i % NPAIR, i < NPAIR, t);
        for (int j = 0; j < n; j++) tok[i][j] = (unsigned char)t[j];
        pr[i] = (vkt_steer_prompt){tok[i], n, 0};
    }
    vkt_steer_acts a;
    TEST_OK(ctx, vkt_steer_capture(m, pr, 2 * NPAIR, first, last, VKT_STEER_POS_LAST, 16, &a));
    const int C = a.C;
    for (int l = first; l <= last; l++) {
        const float *h = vkt_steer_acts_layer(&a, l);
        TEST_OK(ctx, vkt_steer_direction(h, h + (size_t)NPAIR * C, NPAIR, C, meth,
                                         dirs + (size_t)(l - first) * C, &info[l - first],
                                         vkt_ctx_err(ctx)));
    }
    vkt_steer_acts_free(&a);
}

static void test_planted(void **s) {
    vkt_ctx *ctx = test_ctx();
    double v[64];
    vkt_model *m = planted_model(ctx, v);
    const int C = vkt_model_cfg(m)->width, L = vkt_model_cfg(m)->layers;
    float dirs[3 * 64];
    vkt_steer_dir_info info[3];
    for (int meth = 0; meth < 2; meth++) {
        planted_directions(m, 0, L - 1, (vkt_steer_method)meth, dirs, info);
        for (int l = 0; l < L; l++) {
            double cs = cosine(dirs + (size_t)l * C, v, C);
            print_message(
                "%s layer %d: cos(dir, v) = %.4f, norm %.3f, separation %.3f, explained %.3f\n",
                meth ? "pca" : "mean", l, cs, info[l].norm, info[l].separation, info[l].explained);
            // Block 0's output carries the planted difference almost untouched; later
            // blocks mix in more of the rest, so the bound is looser there.
            if (cs < (l == 0 ? 0.95 : 0.9))
                fail_msg("%s layer %d: cos(dir, v) = %.4f", meth ? "pca" : "mean", l, cs);
            assert_true(info[l].separation > 0);
        }
        // Raw mean difference: about 2 mean(a_k) = 2.1 along v at layer 0.
        if (meth == VKT_STEER_MEAN)
            assert_true(info[0].norm > 1.5 && info[0].norm < 3.0);
        else
            assert_true(fabs(info[0].norm - 1) < 1e-6);
        // The distractor is visible: PC1 explains about 4.86 / 5.86 of the differences.
        if (meth == VKT_STEER_PCA) assert_true(info[0].explained > 0.7 && info[0].explained < 0.95);
    }
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

// --- (c, d) the CLI -----------------------------------------------------------------

static int run(const char *args, char **out, char **errout) {
    return test_cli(args, NULL, out, errout);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_steer_cli(void **s) {
    if (!test_cli_available()) skip();
    char dir[] = "/tmp/vkt-steer-XXXXXX";
    assert_non_null(mkdtemp(dir));
    vkt_ctx *ctx = test_ctx();
    double v[64];
    vkt_model *m = planted_model(ctx, v);
    const int C = vkt_model_cfg(m)->width, L = vkt_model_cfg(m)->layers;
    char ck[128], pf[128], nf[128], out[128], args[1024], buf[64];
    snprintf(ck, sizeof ck, "%s/ck", dir);
    TEST_OK(ctx, vkt_checkpoint_save_model(m, ck, false));
    vkt_error err = {0};
    snprintf(pf, sizeof pf, "%s/pos.txt", dir);
    snprintf(nf, sizeof nf, "%s/neg.txt", dir);
    char ptext[1024] = "", ntext[1024] = "";
    for (int i = 0; i < NPAIR; i++) {
        planted_text(i, true, buf), strcat(ptext, buf), strcat(ptext, "\n");
        planted_text(i, false, buf), strcat(ntext, buf),
            strcat(ntext, i == 5 ? "\n\n" : "\n"); // a blank line is skipped
    }
    write_file(pf, ptext);
    write_file(nf, ntext);

    // (c) extract -> GGUF: direction.1, direction.2 only, equal to the library's directions.
    float want[3 * 64];
    vkt_steer_dir_info info[3];
    for (int meth = 0; meth < 2; meth++) {
        planted_directions(m, 1, 2, (vkt_steer_method)meth, want, info);
        snprintf(out, sizeof out, "%s/v%d.gguf", dir, meth);
        snprintf(
            args, sizeof args,
            "steer extract --ckpt %s --pos %s --neg %s --method %s --layers 1-2 --out %s --json",
            ck, pf, nf, meth ? "pca" : "mean", out);
        char *so, *se;
        int rc = run(args, &so, &se);
        if (rc != 0) fail_msg("exit %d: %s", rc, se);
        assert_non_null(strstr(so, "\"layer\": 1"));
        assert_non_null(strstr(so, "\"separation\""));
        free(so), free(se);
        vkt_control_vector cv;
        if (vkt_control_vector_load(&cv, out, &err) != VKT_OK) fail_msg("%s", err.msg);
        assert_string_equal(cv.model_hint, "gpt2");
        assert_int_equal(cv.layer_count, 2);
        assert_int_equal(cv.n_embd, C);
        assert_int_equal(cv.max_layer, 2);
        assert_int_equal(cv.present[0], 1);
        assert_null(vkt_control_vector_layer(&cv, 3));
        for (int l = 1; l <= 2; l++) {
            const float *d = vkt_control_vector_layer(&cv, l);
            assert_non_null(d);
            snprintf(buf, sizeof buf, "direction.%d (%s)", l, meth ? "pca" : "mean");
            assert_true(test_close(buf, d, want + (size_t)(l - 1) * C, (uint64_t)C, 1e-6, 1e-5));
            assert_true(cosine(d, v, C) > 0.9);
        }
        vkt_control_vector_free(&cv);
    }

    // capture -> safetensors: layer.N (rows, C), prompt_index / token_index, metadata.
    snprintf(out, sizeof out, "%s/acts.safetensors", dir);
    snprintf(args, sizeof args,
             "steer capture --ckpt %s --prompts %s --positions all --layers 1-2 --out %s", ck, pf,
             out);
    char *se;
    int rc = run(args, NULL, &se);
    if (rc != 0) fail_msg("exit %d: %s", rc, se);
    free(se);
    vkt_safetensors st;
    if (vkt_safetensors_open(&st, out, &err) != VKT_OK) fail_msg("%s", err.msg);
    assert_int_equal(st.n_tensors, 4);
    assert_null(vkt_safetensors_find(&st, "layer.0"));
    const vkt_st_tensor *t2 = vkt_safetensors_find(&st, "layer.2"),
                        *pi = vkt_safetensors_find(&st, "prompt_index");
    assert_non_null(t2);
    assert_non_null(pi);
    int64_t rows = 0;
    for (int i = 0; i < NPAIR; i++) rows += i % 5 + 3;
    assert_int_equal(t2->shape[0], rows);
    assert_int_equal(t2->shape[1], C);
    assert_string_equal(vkt_safetensors_meta(&st, "positions"), "all");
    assert_string_equal(vkt_safetensors_meta(&st, "layers"), "1-2");
    float *idx = malloc((size_t)rows * 4);
    assert_int_equal(vkt_safetensors_read_f32(&st, "prompt_index", idx, rows, &err), VKT_OK);
    assert_true(idx[0] == 0 && idx[rows - 1] == NPAIR - 1);
    free(idx);
    vkt_safetensors_close(&st);

    // capture --generate: greedy continuations of up to 6 tokens; the response rows are the
    // sampled tokens (<|endoftext|> included), starting at each prompt's length.
    snprintf(out, sizeof out, "%s/gen.safetensors", dir);
    snprintf(args, sizeof args,
             "steer capture --ckpt %s --prompts %s --generate 6 --temperature 0 --positions "
             "response --layers 2 --out %s",
             ck, pf, out);
    rc = run(args, NULL, &se);
    if (rc != 0) fail_msg("exit %d: %s", rc, se);
    free(se);
    char gpath[160];
    snprintf(gpath, sizeof gpath, "%s.generations.jsonl", out);
    size_t glen;
    char *gtext = (char *)test_read_all(gpath, &glen);
    int64_t grows = 0;
    int glines = 0;
    for (const char *q = gtext; (q = strstr(q, "\"tokens\":")); q++) {
        const long k = strtol(q + 9, NULL, 10);
        assert_true(k >= 1 && k <= 6);
        grows += k;
        glines++;
    }
    free(gtext);
    assert_int_equal(glines, NPAIR);
    if (vkt_safetensors_open(&st, out, &err) != VKT_OK) fail_msg("%s", err.msg);
    const vkt_st_tensor *g2 = vkt_safetensors_find(&st, "layer.2");
    assert_non_null(g2);
    assert_int_equal(g2->shape[0], grows);
    assert_string_equal(vkt_safetensors_meta(&st, "generate_max_tokens"), "6");
    float *gti = malloc((size_t)grows * 4);
    assert_int_equal(vkt_safetensors_read_f32(&st, "token_index", gti, grows, &err), VKT_OK);
    assert_true(grows == 0 || gti[0] == 3); // prompt 0 has 3 tokens
    free(gti);
    vkt_safetensors_close(&st);
    snprintf(args, sizeof args,
             "steer capture --ckpt %s --prompts %s --generate 6 --boundary x --positions response "
             "--out %s/x.st",
             ck, pf, dir);
    assert_int_equal(run(args, NULL, NULL), 2);

    // (d) bad input: exit 2 and a message naming the fault.
    struct {
        const char *extra, *pos, *neg, *want;
    } bad[] = {
        {"--layers 0-2", pf, nf, "no direction.0"},
        {"--layers 2-4", pf, nf, "numbered 1..2"},
        {"--layers two", pf, nf, "expected A-B"},
        {"", "EMPTY", nf, "no prompts"},
        {"", pf, "SHORT", "paired line by line"},
        {"--method umap", pf, nf, "expected mean or pca"},
        {"", pf, pf, "equals its negative"},
    };
    char empty[128], shortf[128];
    snprintf(empty, sizeof empty, "%s/empty.txt", dir);
    snprintf(shortf, sizeof shortf, "%s/short.txt", dir);
    write_file(empty, "\n\n");
    write_file(shortf, "1a\n2b\n");
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *p = !strcmp(bad[i].pos, "EMPTY") ? empty : bad[i].pos;
        const char *n = !strcmp(bad[i].neg, "SHORT") ? shortf : bad[i].neg;
        snprintf(args, sizeof args,
                 "steer extract --ckpt %s --pos %s --neg %s %s --out %s/bad.gguf", ck, p, n,
                 bad[i].extra, dir);
        rc = run(args, NULL, &se);
        if (rc != 2 || !strstr(se, bad[i].want))
            fail_msg("'%s': exit %d, stderr '%s' (want exit 2 and '%s')", args, rc, se,
                     bad[i].want);
        free(se);
    }
    snprintf(args, sizeof args,
             "steer capture --ckpt %s --prompts %s --positions response --out %s/x.st", ck, pf,
             dir);
    rc = run(args, NULL, &se);
    if (rc != 2 || !strstr(se, "no response boundary"))
        fail_msg("response without boundary: exit %d, '%s'", rc, se);
    free(se);
    snprintf(args, sizeof args, "steer capture --ckpt %s/none --prompts %s --out %s/x.st", dir, pf,
             dir);
    rc = run(args, NULL, &se);
    if (rc != 1 || !strstr(se, "config.json"))
        fail_msg("missing checkpoint: exit %d, '%s'", rc, se);
    free(se);
    assert_int_equal(run("steer --help", NULL, NULL), 0);
    assert_int_equal(run("steer capture --help", NULL, NULL), 0);
    assert_int_equal(run("steer extract --help", NULL, NULL), 0);
    assert_int_equal(run("steer frobnicate", NULL, NULL), 2);
    assert_int_equal(run("steer extract --ckpt x --pos y", NULL, NULL), 2);

    snprintf(args, sizeof args, "rm -rf '%s'", dir);
    assert_int_equal(system(args), 0);
    (void)L;
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

// --- (d) the library's own checks -----------------------------------------------------

static void test_capture_errors(void **s) {
    vkt_ctx *ctx = test_ctx();
    vkt_model *m = make_model(ctx, VKT_FAMILY_LLAMA, 1.0f, NULL);
    const int L = vkt_model_cfg(m)->layers;
    vkt_steer_prompt pr[NP];
    int32_t store[128];
    make_prompts(pr, store, vkt_model_cfg(m)->vocab);
    vkt_steer_acts a;
    assert_int_equal(vkt_steer_capture(m, pr, NP, -1, 2, VKT_STEER_POS_LAST, 4, &a), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "out of range"));
    assert_int_equal(vkt_steer_capture(m, pr, NP, 1, L, VKT_STEER_POS_LAST, 4, &a), VKT_ERR_ARG);
    assert_int_equal(vkt_steer_capture(m, pr, NP, 3, 2, VKT_STEER_POS_LAST, 4, &a), VKT_ERR_ARG);
    assert_int_equal(vkt_steer_capture(m, pr, 0, 1, 1, VKT_STEER_POS_LAST, 4, &a), VKT_ERR_ARG);
    assert_null(a.data);
    vkt_steer_prompt bad = pr[1];
    bad.n = 0;
    assert_int_equal(vkt_steer_capture(m, &bad, 1, 1, 1, VKT_STEER_POS_LAST, 4, &a), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "empty"));
    int32_t longp[40] = {0};
    bad = (vkt_steer_prompt){longp, 25, 0};
    assert_int_equal(vkt_steer_capture(m, &bad, 1, 1, 1, VKT_STEER_POS_ALL, 4, &a), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "context 24"));
    bad = (vkt_steer_prompt){longp, 5, 5};
    assert_int_equal(vkt_steer_capture(m, &bad, 1, 1, 1, VKT_STEER_POS_RESPONSE, 4, &a),
                     VKT_ERR_ARG);
    longp[2] = 999;
    bad = (vkt_steer_prompt){longp, 5, 0};
    assert_int_equal(vkt_steer_capture(m, &bad, 1, 1, 1, VKT_STEER_POS_LAST, 4, &a), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "vocabulary"));
    // A good call still works after the refusals.
    assert_int_equal(vkt_steer_capture(m, pr, NP, 1, 1, VKT_STEER_POS_LAST, 0, &a), VKT_OK);
    assert_int_equal(a.rows, NP);
    vkt_steer_acts_free(&a);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_direction_math),
        cmocka_unit_test(test_capture_gpt2),
        cmocka_unit_test(test_capture_llama),
        cmocka_unit_test(test_capture_small_bindings),
        cmocka_unit_test(test_capture_errors),
        cmocka_unit_test(test_planted),
        cmocka_unit_test(test_steer_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
