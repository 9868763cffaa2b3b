// test_rl_batch.c: the policy-gradient weights trained through the real model on the
// device. Logprobs from vkt_gen_score, PPO-clip weights (vkt_pg_weights), rows from
// vkt_rl_pack, then the model's weighted-CE forward/backward: (1) the model's weighted
// loss equals -sum w_i logp_i (the rows align response tokens with their weights);
// (2) the parameter gradient matches a central finite difference of the reference PPO
// loss (vkt_pg_loss_ref on logprobs re-scored after moving the parameters along the
// gradient direction), tolerance 0.5% (float32 device, h = 1e-3 and 3e-4).
// The same with the exact entropy bonus (vkt_model_set_entropy with vkt_pg_entropy_coefs):
// the model's loss is -sum w logp - sum c H, its entropy sum matches H computed on the
// host from the downloaded logits, and the finite difference is of the reference loss
// including -X sum n_i H_i, H re-computed from the logits at the moved parameters.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "generate.h"
#include "model.h"
#include "rl_batch.h"
#include "rl_loss.h"
#include "rng.h"
#include "support_gpu.h"
#include "support_model.h"
#include "tokenizer.h"

enum { NS = 3, B = 3, T = 16, MAXLEN = 6 };
static const int np[NS] = {5, 9, 3}, nr[NS] = {4, 1, 6};
static int32_t prm[NS][9], rsp[NS][6];

// Logprobs of every response token under the model's current parameters.
static void score(vkt_ctx *ctx, vkt_gen *g, double *out) {
    vkt_gen_prompt p[NS];
    const int32_t *cont[NS];
    float lp[NS][6];
    float *lpo[NS];
    for (int s = 0; s < NS; s++)
        p[s] = (vkt_gen_prompt){prm[s], np[s], 0}, cont[s] = rsp[s], lpo[s] = lp[s];
    TEST_OK(ctx, vkt_gen_score(g, NS, p, cont, nr, lpo));
    for (int s = 0, k = 0; s < NS; s++)
        for (int j = 0; j < nr[s]; j++) out[k++] = lp[s][j];
}

// H (double) at each response token's position, from the logits of a forward of the
// packed rows (row s holds sequence s; token j of its response is the target at P - 1 + j).
static void entropies(vkt_ctx *ctx, vkt_model *m, int V, double *H) {
    float *lg = malloc((size_t)B * T * V * 4);
    TEST_OK(ctx, vkt_download(ctx, vkt_model_logits(m), lg, (uint64_t)B * T * V * 4));
    for (int s = 0, k = 0; s < NS; s++)
        for (int j = 0; j < nr[s]; j++, k++) {
            const float *x = lg + ((size_t)s * T + np[s] - 1 + j) * V;
            double mx = -INFINITY, sum = 0, h = 0;
            for (int v = 0; v < V; v++) mx = x[v] > mx ? x[v] : mx;
            for (int v = 0; v < V; v++) sum += exp(x[v] - mx);
            for (int v = 0; v < V; v++) {
                double lp = x[v] - mx - log(sum);
                h -= exp(lp) * lp;
            }
            H[k] = h;
        }
    free(lg);
}

static void check_through_model(double ent_coef) {
    vkt_ctx *ctx = test_ctx();
    vkt_model_config c = test_config("gpt2-tiny", (test_shape){.vocab = 264,
                                                               .context = 32,
                                                               .layers = 2,
                                                               .width = 16,
                                                               .ffn = 24,
                                                               .heads = 4,
                                                               .kv_heads = 4});
    vkt_model *m = test_model_new(ctx, &c, 9);
    const vkt_params *ps = vkt_model_params(m);
    float *p0 = test_model_scale(ctx, m, 4.0f), *p = malloc(ps->total * 4),
          *g = malloc(ps->total * 4);
    vkt_rng r;
    vkt_rng_seed(&r, 3);
    for (int s = 0; s < NS; s++) {
        for (int t = 0; t < np[s]; t++) prm[s][t] = (int32_t)vkt_rng_below(&r, 256);
        for (int t = 0; t < nr[s]; t++) rsp[s][t] = (int32_t)vkt_rng_below(&r, 256);
    }
    vkt_gen *gen;
    TEST_OK(ctx, vkt_gen_create(m, NS, 0, 0, &gen));
    enum { N = 11 };
    double lp[N], old[N], w[N];
    score(ctx, gen, lp);
    // Old policy: offsets on both sides of the clip range (rho = exp(-off)).
    static const double off[N] = {0.3, -0.05, 0.1, -0.4, 0.02, -0.25, 0.15, 0.0, 0.35, -0.1, 0.05};
    for (int i = 0; i < N; i++) old[i] = lp[i] + off[i];
    int start[NS + 1] = {0, 4, 5, 11};
    double adv[NS] = {1.3, -0.8, 0.5};
    vkt_pg_opts o;
    vkt_pg_defaults(&o);
    o.max_len = MAXLEN, o.entropy_coef = ent_coef;
    double H[N], ec[N];
    vkt_pg_batch b = {
        .B = NS, .start = start, .adv = adv, .logp_old = old, .entropy = ent_coef > 0 ? H : NULL};
    vkt_pg_stats stats;
    assert_int_equal(vkt_pg_weights(&o, &b, lp, w, &stats, NULL), VKT_OK);
    assert_true(stats.clip_frac > 0 && stats.clip_frac < 1);
    assert_int_equal(vkt_pg_entropy_coefs(&o, &b, ec, NULL), VKT_OK);
    // Pack and run the model's weighted CE.
    vkt_rl_seq seqs[NS];
    for (int s = 0; s < NS; s++) seqs[s] = (vkt_rl_seq){prm[s], np[s], rsp[s], nr[s]};
    int32_t tok[B * T], tgt[B * T];
    float wt[B * T], ct[B * T];
    // The coefficients take the weights' layout (the second pack writes the same tokens).
    assert_int_equal(vkt_rl_pack(seqs, NS, ec, start, B, T, tok, tgt, ct, NULL), VKT_OK);
    assert_int_equal(vkt_rl_pack(seqs, NS, w, start, B, T, tok, tgt, wt, NULL), VKT_OK);
    TEST_OK(ctx, vkt_model_plan(m, B, T));
    TEST_OK(ctx, vkt_model_zero_grads(m));
    TEST_OK(ctx, vkt_model_set_batch(m, tok, tgt, wt));
    if (ent_coef > 0) TEST_OK(ctx, vkt_model_set_entropy(m, ct));
    TEST_OK(ctx, vkt_model_forward(m, NULL, NULL));
    entropies(ctx, m, c.vocab, H);
    TEST_OK(ctx, vkt_model_backward(m, 1.0f));
    double lsum, wsum, hsum;
    int hpos;
    TEST_OK(ctx, vkt_model_read_loss(m, &lsum, &wsum));
    TEST_OK(ctx, vkt_model_read_entropy(m, &hsum, &hpos));
    double want = 0, wabs = 0, hwant = 0;
    for (int i = 0; i < N; i++)
        want += -w[i] * lp[i] - (ent_coef > 0 ? ec[i] * H[i] : 0), wabs += fabs(w[i]);
    for (int i = 0; i < N; i++) hwant += H[i];
    print_message("X=%g weighted CE: model %.8f host %.8f (|w| %.6f vs %.6f); entropy sum %.6f "
                  "host %.6f over %d\n",
                  ent_coef, lsum, want, wsum, wabs, hsum, hwant, hpos);
    assert_true(fabs(lsum - want) < 1e-5 + 1e-4 * fabs(want));
    assert_true(fabs(wsum - wabs) < 1e-6);
    if (ent_coef > 0) {
        assert_int_equal(hpos, N);
        assert_true(fabs(hsum - hwant) < 1e-4 * hwant);
    } else {
        assert_true(hpos == 0 && hsum == 0);
    }
    TEST_OK(ctx, vkt_model_get_grads(m, g));
    double gn = 0;
    for (uint64_t i = 0; i < ps->total; i++) gn += (double)g[i] * g[i];
    gn = sqrt(gn);
    assert_true(gn > 0);
    // Directional derivative along u = g/|g| is |g|.
    // h = 1e-2 moves some tokens across a clip boundary (measured fd 7.21 vs 7.70: the
    // loss is piecewise); from h = 3e-3 on the difference is smooth.
    const double hs[2] = {1e-3, 3e-4};
    for (int k = 0; k < 2; k++) {
        double L[2], E[2];
        for (int sgn = 0; sgn < 2; sgn++) {
            double h = sgn ? -hs[k] : hs[k];
            for (uint64_t i = 0; i < ps->total; i++) p[i] = p0[i] + (float)(h * g[i] / gn);
            TEST_OK(ctx, vkt_model_set_params(m, p));
            double lq[N];
            score(ctx, gen, lq);
            TEST_OK(ctx, vkt_model_forward(
                             m, NULL, NULL)); // the batch is still set: H at the moved parameters
            entropies(ctx, m, c.vocab, H);
            L[sgn] = vkt_pg_loss_ref(&o, &b, lq, NULL);
            E[sgn] = 0;
            for (int i = 0; i < N; i++) E[sgn] -= ec[i] * H[i];
        }
        double fd = (L[0] - L[1]) / (2 * hs[k]), fd_ent = (E[0] - E[1]) / (2 * hs[k]);
        print_message("h %.0e: finite difference %.6f (entropy part %.6f), |grad| %.6f\n", hs[k],
                      fd, fd_ent, gn);
        assert_true(fabs(fd - gn) < 0.005 * gn);
        // The entropy part is 10x the tolerance: the check catches its gradient missing.
        if (ent_coef > 0) assert_true(fabs(fd_ent) > 10 * 0.005 * gn);
    }
    if (ent_coef > 0) {
        // A non-finite coefficient is refused (naming it); set_batch clears the term.
        ct[2] = NAN;
        assert_int_equal(vkt_model_set_entropy(m, ct), VKT_ERR_ARG);
        assert_non_null(strstr(vkt_ctx_message(ctx), "coef[2]"));
        TEST_OK(ctx, vkt_model_set_batch(m, tok, tgt, wt));
        TEST_OK(ctx, vkt_model_forward(m, NULL, NULL));
        TEST_OK(ctx, vkt_model_loss(m));
        TEST_OK(ctx, vkt_model_read_entropy(m, &hsum, &hpos));
        assert_true(hpos == 0 && hsum == 0);
    }
    free(p0), free(p), free(g);
    vkt_gen_destroy(gen);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

static void test_weights_through_model(void **st) {
    (void)st;
    check_through_model(0);
}

static void test_entropy_through_model(void **st) {
    (void)st;
    check_through_model(2.0);
}

static void test_pack_layout(void **st) {
    (void)st;
    int32_t pr[] = {10, 11, 12}, rs[] = {20, 21};
    vkt_rl_seq s = {pr, 3, rs, 2};
    double w[] = {0.5, -0.25};
    int ws[] = {0};
    int32_t tok[2 * 6], tgt[2 * 6];
    float wt[2 * 6];
    assert_int_equal(vkt_rl_pack(&s, 1, w, ws, 2, 6, tok, tgt, wt, NULL), VKT_OK);
    const int32_t wt_tok[6] = {10, 11, 12, 20, 21, VKT_TOK_PAD},
                  wt_tgt[6] = {11, 12, 20, 21, VKT_TOK_PAD, VKT_TOK_PAD};
    const float wt_w[6] = {0, 0, 0.5f, -0.25f, 0, 0};
    assert_memory_equal(tok, wt_tok, sizeof wt_tok);
    assert_memory_equal(tgt, wt_tgt, sizeof wt_tgt);
    assert_memory_equal(wt, wt_w, sizeof wt_w);
    for (int t = 6; t < 12; t++) assert_true(tok[t] == VKT_TOK_PAD && wt[t] == 0); // padding row
    vkt_error err = {0};
    assert_int_equal(vkt_rl_pack(&s, 1, w, ws, 1, 3, tok, tgt, wt, &err),
                     VKT_ERR_ARG); // 4 inputs > T = 3
    assert_non_null(strstr(err.msg, "row 0"));
    assert_int_equal(vkt_rl_pack(&s, 2, w, ws, 1, 6, tok, tgt, wt, &err), VKT_ERR_ARG);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pack_layout),
        cmocka_unit_test(test_weights_through_model),
        cmocka_unit_test(test_entropy_through_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
