// test_rl_loss.c: policy-gradient weights against the plain reference loss: hand-computed
// values, the reference gradient against central finite differences of the reference
// value, and w == -dLoss/dlogp for PPO-clip and REINFORCE, both normalisations, with and
// without the KL term; the entropy coefficients and the entropy term of the value; option
// and batch validation.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "rl_loss.h"

static void test_hand_values(void **st) {
    (void)st;
    vkt_pg_opts o;
    vkt_pg_defaults(&o);
    o.max_len = 4;
    int start[] = {0, 1};
    double A = 2, old = -1, now = -1 + log(1.5), w; // rho = 1.5 > 1.2
    vkt_pg_batch b = {.B = 1, .start = start, .adv = &A, .logp_old = &old};
    // A > 0, rho above the range: max(-3, -2.4) = -2.4 (clipped, flat): loss -2.4/4, w 0.
    assert_true(fabs(vkt_pg_loss_ref(&o, &b, &now, NULL) - (-0.6)) < 1e-12);
    vkt_pg_stats s;
    assert_int_equal(vkt_pg_weights(&o, &b, &now, &w, &s, NULL), VKT_OK);
    assert_true(w == 0 && s.clip_frac == 1);
    // A < 0: max(3, 2.4) = 3 (unclipped): loss 3/4, w = A rho / 4 = -0.75.
    A = -2;
    assert_true(fabs(vkt_pg_loss_ref(&o, &b, &now, NULL) - 0.75) < 1e-12);
    assert_int_equal(vkt_pg_weights(&o, &b, &now, &w, &s, NULL), VKT_OK);
    assert_true(fabs(w - (-0.75)) < 1e-12 && s.clip_frac == 0 && fabs(s.mean_ratio - 1.5) < 1e-12);
    // REINFORCE: loss -A logp / max_len = -(-2)(-0.5)/4 = -0.25; w = A/4 = -0.5.
    o.kind = VKT_PG_REINFORCE;
    now = -0.5;
    assert_true(fabs(vkt_pg_loss_ref(&o, &b, &now, NULL) - (-0.25)) < 1e-12);
    assert_int_equal(vkt_pg_weights(&o, &b, &now, &w, NULL, NULL), VKT_OK);
    assert_true(fabs(w - (-0.5)) < 1e-12);
    // token-mean over 3 tokens of two sequences: n = 1/3 whatever max_len is.
    o.norm = VKT_PG_NORM_TOKEN_MEAN;
    int st2[] = {0, 2, 3};
    double adv2[] = {1, -1}, now2[] = {-1, -2, -3}, w2[3];
    vkt_pg_batch b2 = {.B = 2, .start = st2, .adv = adv2};
    // loss = (1*1 + 1*2 + (-1)*3)/3 = 0
    assert_true(fabs(vkt_pg_loss_ref(&o, &b2, now2, NULL)) < 1e-12);
    assert_int_equal(vkt_pg_weights(&o, &b2, now2, w2, NULL, NULL), VKT_OK);
    assert_true(fabs(w2[0] - 1.0 / 3) < 1e-12 && fabs(w2[2] + 1.0 / 3) < 1e-12);
    // seq-sum-maxlen with max_len 5: n = 1/(2*5).
    o.norm = VKT_PG_NORM_SEQ_SUM_MAXLEN;
    o.max_len = 5;
    assert_int_equal(vkt_pg_weights(&o, &b2, now2, w2, NULL, NULL), VKT_OK);
    assert_true(fabs(w2[1] - 0.1) < 1e-12 && fabs(w2[2] + 0.1) < 1e-12);
}

// Deltas logp_new - logp_old chosen away from the clip boundaries log(0.8), log(1.2)
// (finite differences are only meaningful where the loss is smooth).
static const double deltas[] = {-0.5, -0.1, 0.05, 0.3, 0.12, -0.3, 0.0, 0.4, -0.15};

// tok: per-token advantages (adv_tok), as for an explored answer: A on a sequence's first
// token, |A| on the rest.
static void check_case(vkt_pg_kind kind, vkt_pg_norm norm, double kl, bool tok) {
    enum { B = 4, N = 9 };
    int start[B + 1] = {0, 2, 3, 6, 9};
    double adv[B] = {1.5, -0.7, 0.3, -2.0};
    double old[N], ref[N], now[N], grad[N], w[N], fd[N], at[N];
    for (int sq = 0; sq < B; sq++)
        for (int i = start[sq]; i < start[sq + 1]; i++)
            at[i] = !tok || i == start[sq] ? adv[sq] : fabs(adv[sq]);
    for (int i = 0; i < N; i++) {
        old[i] = -0.2 - 0.31 * i;
        ref[i] = old[i] + 0.07 * ((i % 3) - 1);
        now[i] = old[i] + deltas[i];
    }
    vkt_pg_opts o;
    vkt_pg_defaults(&o);
    o.kind = kind, o.norm = norm, o.kl_coef = kl, o.max_len = 6;
    vkt_pg_batch b = {.B = B,
                      .start = start,
                      .adv = adv,
                      .adv_tok = tok ? at : NULL,
                      .logp_old = old,
                      .logp_ref = ref};
    double L = vkt_pg_loss_ref(&o, &b, now, grad);
    vkt_pg_stats s;
    assert_int_equal(vkt_pg_weights(&o, &b, now, w, &s, NULL), VKT_OK);
    assert_true(fabs(s.loss - L) < 1e-15);
    assert_int_equal(s.tokens, N);
    const double h = 1e-6;
    for (int i = 0; i < N; i++) {
        double keep = now[i];
        now[i] = keep + h;
        double lp = vkt_pg_loss_ref(&o, &b, now, NULL);
        now[i] = keep - h;
        double lm = vkt_pg_loss_ref(&o, &b, now, NULL);
        now[i] = keep;
        fd[i] = (lp - lm) / (2 * h);
        // tolerance: central difference error O(h^2) plus rounding ~1e-16/h
        if (fabs(grad[i] - fd[i]) > 1e-8)
            fail_msg("%s/%s kl %g token %d: grad %.12g fd %.12g", vkt_pg_kind_name(kind),
                     vkt_pg_norm_name(norm), kl, i, grad[i], fd[i]);
        if (fabs(w[i] + grad[i]) > 1e-15)
            fail_msg("token %d: w %.17g != -grad %.17g", i, w[i], -grad[i]);
        // REINFORCE without KL: w_i = n A_i exactly (the per-token advantage is the one used).
        const double n = norm == VKT_PG_NORM_SEQ_SUM_MAXLEN ? 1.0 / (B * 6) : 1.0 / N;
        if (kind == VKT_PG_REINFORCE && kl == 0 && fabs(w[i] - n * at[i]) > 1e-15)
            fail_msg("token %d: w %.17g != n A_i %.17g", i, w[i], n * at[i]);
    }
    if (kind == VKT_PG_PPO) {
        // Count the clipped tokens directly from the deltas and advantages.
        int clipped = 0;
        for (int sq = 0; sq < B; sq++)
            for (int i = start[sq]; i < start[sq + 1]; i++) {
                double rho = exp(deltas[i]);
                clipped += (at[i] > 0 && rho > 1.2) || (at[i] < 0 && rho < 0.8);
            }
        assert_true(clipped > 0 && clipped < N); // the case exercises both branches
        assert_true(fabs(s.clip_frac - (double)clipped / N) < 1e-15);
    }
}

static void test_fd_all_cases(void **st) {
    (void)st;
    for (int k = 0; k < 2; k++)
        for (int n = 0; n < 2; n++)
            for (int kl = 0; kl < 2; kl++)
                for (int tok = 0; tok < 2; tok++)
                    check_case((vkt_pg_kind)k, (vkt_pg_norm)n, kl ? 0.05 : 0.0, tok);
}

// At the old policy (rho = 1 everywhere) PPO's gradient equals REINFORCE's: w = n A.
static void test_ppo_at_old_policy(void **st) {
    (void)st;
    int start[] = {0, 2, 5};
    double adv[] = {0.8, -1.1}, old[] = {-0.1, -2, -0.7, -0.3, -1.5}, wp[5], wr[5];
    vkt_pg_opts o;
    vkt_pg_defaults(&o);
    o.max_len = 3;
    vkt_pg_batch b = {.B = 2, .start = start, .adv = adv, .logp_old = old};
    assert_int_equal(vkt_pg_weights(&o, &b, old, wp, NULL, NULL), VKT_OK);
    o.kind = VKT_PG_REINFORCE;
    assert_int_equal(vkt_pg_weights(&o, &b, old, wr, NULL, NULL), VKT_OK);
    for (int i = 0; i < 5; i++) assert_true(fabs(wp[i] - wr[i]) < 1e-15);
    assert_true(fabs(wr[0] - 0.8 / 6) < 1e-15 && fabs(wr[4] + 1.1 / 6) < 1e-15);
}

// Entropy: c_i = X n_i under both normalisations; the value gains -X sum n_i H_i and the
// weights (and grad) do not change.
static void test_entropy_term(void **st) {
    (void)st;
    vkt_pg_opts o;
    vkt_pg_defaults(&o);
    o.max_len = 4, o.entropy_coef = 0.3;
    int start[] = {0, 2, 5};
    double adv[] = {1.5, -0.5}, old[5] = {-1, -0.5, -2, -0.1, -0.7},
           now[5] = {-0.9, -0.6, -2.1, -0.1, -0.5};
    double H[5] = {0.7, 0.1, 1.2, 0.05, 0.4}, c[5], w0[5], w1[5], g0[5], g1[5];
    vkt_pg_batch b = {.B = 2, .start = start, .adv = adv, .logp_old = old};
    for (int norm = 0; norm < 2; norm++) {
        o.norm = norm ? VKT_PG_NORM_TOKEN_MEAN : VKT_PG_NORM_SEQ_SUM_MAXLEN;
        double n = norm ? 1.0 / 5 : 1.0 / (2 * 4);
        assert_int_equal(vkt_pg_entropy_coefs(&o, &b, c, NULL), VKT_OK);
        for (int i = 0; i < 5; i++) assert_true(fabs(c[i] - 0.3 * n) < 1e-15);
        b.entropy = NULL;
        double l0 = vkt_pg_loss_ref(&o, &b, now, g0);
        assert_int_equal(vkt_pg_weights(&o, &b, now, w0, NULL, NULL), VKT_OK);
        b.entropy = H;
        double l1 = vkt_pg_loss_ref(&o, &b, now, g1);
        vkt_pg_stats s;
        assert_int_equal(vkt_pg_weights(&o, &b, now, w1, &s, NULL), VKT_OK);
        assert_true(fabs(l1 - (l0 - 0.3 * n * (0.7 + 0.1 + 1.2 + 0.05 + 0.4))) < 1e-14);
        assert_memory_equal(w0, w1, sizeof w0);
        assert_memory_equal(g0, g1, sizeof g0);
        assert_true(fabs(s.entropy - 2.45 / 5) < 1e-15 && fabs(s.loss - l1) < 1e-15);
    }
    vkt_error err = {0};
    o.entropy_coef = -0.1;
    assert_int_equal(vkt_pg_entropy_coefs(&o, &b, c, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "entropy_coef"));
    o.entropy_coef = NAN;
    assert_int_equal(vkt_pg_weights(&o, &b, now, w0, NULL, &err), VKT_ERR_ARG);
}

static void test_errors(void **st) {
    (void)st;
    vkt_pg_opts o;
    vkt_pg_defaults(&o);
    int start[] = {0, 3};
    double adv = 1, lp[3] = {-1, -1, -1}, w[3];
    vkt_pg_batch b = {.B = 1, .start = start, .adv = &adv, .logp_old = lp};
    vkt_error err = {0};
    o.max_len = 2; // shorter than the 3-token sequence
    assert_int_equal(vkt_pg_weights(&o, &b, lp, w, NULL, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "max_len"));
    o.max_len = 3;
    b.logp_old = NULL;
    assert_int_equal(vkt_pg_weights(&o, &b, lp, w, NULL, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "logp_old"));
    o.kind = VKT_PG_REINFORCE;
    assert_int_equal(vkt_pg_weights(&o, &b, lp, w, NULL, &err), VKT_OK);
    o.kl_coef = 0.1;
    assert_int_equal(vkt_pg_weights(&o, &b, lp, w, NULL, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "logp_ref"));
    o.kl_coef = 0;
    b.B = 0;
    assert_int_equal(vkt_pg_weights(&o, &b, lp, w, NULL, &err), VKT_ERR_ARG);
    b.B = 1;
    o.kind = VKT_PG_PPO, o.clip_eps = 1.5;
    b.logp_old = lp;
    assert_int_equal(vkt_pg_weights(&o, &b, lp, w, NULL, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "clip"));
    vkt_pg_kind k;
    vkt_pg_norm n;
    assert_int_equal(vkt_pg_kind_parse("reinforce", &k, NULL), VKT_OK);
    assert_int_equal(vkt_pg_norm_parse("token-mean", &n, NULL), VKT_OK);
    assert_int_equal(n, VKT_PG_NORM_TOKEN_MEAN);
    assert_int_equal(vkt_pg_norm_parse("mean", &n, &err), VKT_ERR_ARG);
    assert_int_equal(vkt_pg_kind_parse("grpo", &k, &err), VKT_ERR_ARG);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_values),
        cmocka_unit_test(test_fd_all_cases),
        cmocka_unit_test(test_ppo_at_old_policy),
        cmocka_unit_test(test_entropy_term),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
