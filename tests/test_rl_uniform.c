// test_rl_uniform.c: the action-level KL-to-uniform term (rl_uniform.h).
// Host: rows, merged states and weights of a hand-built rollout (a hash collision kept
// apart), the stats against hand values, the refusals. Device: a real Kuhn rollout's
// legal answers are the moves its prompts list; the term's rows through the model's
// weighted CE give a parameter gradient that matches a central finite difference of
// L_U (re-scored with vkt_gen_score); in the self-play loop the term moves the Kuhn
// policy towards uniform where the same updates without it do not, and it trains when
// no turn has A != 0.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "rl_batch.h"
#include "rl_rollout.h"
#include "rl_selfplay.h"
#include "rl_uniform.h"
#include "support_gpu.h"
#include "support_model.h"
#include "tokenizer.h"

// Five turns: state A (2 answers) three times, B (3 answers) once, and C, whose prompt
// differs from A's but whose key is A's (a planted hash collision), once.
static int32_t pa[3] = {1, 2, 3}, pb[2] = {4, 5}, pc[3] = {1, 2, 4};
static int off2[3] = {0, 2, 5}, off3[4] = {0, 1, 2, 4};
static int32_t ans2[5] = {10, 11, 20, 21, 22}, ans3[4] = {30, 40, 50, 51};

static void hand_rollout(vkt_rl_rollout *r, vkt_rl_turn *t) {
    memset(r, 0, sizeof *r);
    memset(t, 0, 5 * sizeof *t);
    const int order[5] = {0, 1, 0, 2, 0}; // A B A C A
    for (int k = 0; k < 5; k++) {
        const int s = order[k];
        t[k].prompt = s == 0 ? pa : s == 1 ? pb : pc;
        t[k].n_prompt = s == 1 ? 2 : 3;
        t[k].obs_key = s == 1 ? 77 : 42;
        t[k].n_legal = s == 1 ? 3 : 2;
        t[k].legal_off = s == 1 ? off3 : off2;
        t[k].legal_tok = s == 1 ? ans3 : ans2;
        t[k].game = k;
    }
    r->turns = t, r->n_turns = 5;
}

static void test_build_weights(void **st) {
    (void)st;
    vkt_rl_rollout r;
    vkt_rl_turn t[5];
    hand_rollout(&r, t);
    vkt_rl_uniform u;
    vkt_error err = {0};
    const double C = 0.1;
    assert_int_equal(vkt_rl_uniform_build(&r, C, &u, &err), VKT_OK);
    assert_int_equal(u.n_states, 3);
    assert_int_equal(u.n_rows, 7);
    assert_int_equal(u.decisions, 5);
    // States in order of first visit: A (3 visits), B (1), C (1).
    const int visits[3] = {3, 1, 1}, nl[3] = {2, 3, 2};
    for (int s = 0; s < 3; s++) assert_true(u.visits[s] == visits[s] && u.n_legal[s] == nl[s]);
    const int state[7] = {0, 0, 1, 1, 1, 2, 2};
    const int32_t *prompt[7] = {pa, pa, pb, pb, pb, pc, pc};
    const int32_t *answer[7] = {ans2, ans2 + 2, ans3, ans3 + 1, ans3 + 2, ans2, ans2 + 2};
    const int len[7] = {2, 3, 1, 1, 2, 2, 3};
    const double want[7] = {C * 3 / 10, C * 3 / 10, C / 15, C / 15, C / 15, C / 10, C / 10};
    double sum = 0;
    for (int i = 0; i < 7; i++) {
        assert_int_equal(u.rows[i].state, state[i]);
        assert_ptr_equal(u.rows[i].prompt, prompt[i]);
        assert_ptr_equal(u.rows[i].answer, answer[i]);
        assert_int_equal(u.rows[i].n_answer, len[i]);
        assert_true(fabs(u.weight[i] - want[i]) < 1e-15);
        sum += u.weight[i];
    }
    // Every decision carries total weight C / D over its answers.
    assert_true(fabs(sum - C) < 1e-15);
    vkt_rl_uniform_free(&u);
    // Refusals: no coefficient, a turn without legal answers (named).
    assert_int_equal(vkt_rl_uniform_build(&r, 0, &u, &err), VKT_ERR_ARG);
    assert_int_equal(vkt_rl_uniform_build(&r, NAN, &u, &err), VKT_ERR_ARG);
    t[3].n_legal = 0;
    assert_int_equal(vkt_rl_uniform_build(&r, C, &u, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "turn 3"));
    assert_null(u.rows);
}

static void test_stats_by_hand(void **st) {
    (void)st;
    vkt_rl_rollout r;
    vkt_rl_turn t[5];
    hand_rollout(&r, t);
    vkt_rl_uniform u;
    const double C = 0.5;
    assert_int_equal(vkt_rl_uniform_build(&r, C, &u, NULL), VKT_OK);
    // Answer probabilities: A .6, .2 (tokens split); B .3, .3, .1; C .45, .45.
    float a0[2] = {(float)log(0.6), 0}, a1[3] = {(float)log(0.5), (float)log(0.4), 0};
    float b0[1] = {(float)log(0.3)}, b1[1] = {(float)log(0.3)},
          b2[2] = {(float)log(0.2), (float)log(0.5)};
    float c0[2] = {(float)log(0.9), (float)log(0.5)}, c1[3] = {(float)log(0.45), 0, 0};
    const float *lp[7] = {a0, a1, b0, b1, b2, c0, c1};
    double kl, mass, value;
    vkt_rl_uniform_stats(&u, lp, &kl, &mass, &value);
    // Per state: KL(U || p / m) = mean_a log((1/n) / (p_a / m)); weights = visits / D.
    const double klA = 0.5 * (log(0.5 / 0.75) + log(0.5 / 0.25)),
                 klB = (2 * log((1 / 3.) / (0.3 / 0.7)) + log((1 / 3.) / (0.1 / 0.7))) / 3, klC = 0;
    const double ceA = -(log(0.6) + log(0.2)) / 2, ceB = -(2 * log(0.3) + log(0.1)) / 3,
                 ceC = -log(0.45);
    const double wk = (3 * klA + klB + klC) / 5, wm = (3 * 0.8 + 0.7 + 0.9) / 5,
                 wv = C * (3 * ceA + ceB + ceC) / 5;
    print_message("kl %.6f (hand %.6f), mass %.6f (%.6f), value %.6f (%.6f)\n", kl, wk, mass, wm,
                  value, wv);
    assert_true(fabs(kl - wk) < 1e-6 && fabs(mass - wm) < 1e-6 && fabs(value - wv) < 1e-6);
    vkt_rl_uniform_free(&u);
}

// L_U at the model's current parameters (rows scored teacher forced).
static double term_value(vkt_ctx *ctx, vkt_gen *g, const vkt_rl_uniform *u) {
    vkt_gen_prompt *p = malloc((size_t)u->n_rows * sizeof *p);
    const int32_t **cont = malloc((size_t)u->n_rows * sizeof *cont);
    int *nc = malloc((size_t)u->n_rows * sizeof *nc);
    float **lp = malloc((size_t)u->n_rows * sizeof *lp),
          *buf = malloc((size_t)u->n_rows * 16 * sizeof *buf);
    for (int i = 0; i < u->n_rows; i++) {
        p[i] = (vkt_gen_prompt){u->rows[i].prompt, u->rows[i].n_prompt, 0};
        cont[i] = u->rows[i].answer, nc[i] = u->rows[i].n_answer, lp[i] = buf + 16 * i;
    }
    TEST_OK(ctx, vkt_gen_score(g, u->n_rows, p, cont, nc, lp));
    double kl, mass, value;
    vkt_rl_uniform_stats(u, (const float *const *)lp, &kl, &mass, &value);
    free(p), free(cont), free(nc), free(lp), free(buf);
    return value;
}

static void test_gradient_through_model(void **st) {
    (void)st;
    vkt_ctx *ctx = test_ctx();
    vkt_model *m = test_gpt2(ctx, 1, 64, 5);
    TEST_OK(ctx, vkt_rl_warmup(m, "kuhn", NULL, 30, 16, 1e-2, 3, NULL)); // some legal mass, not all
    vkt_gen *g;
    TEST_OK(ctx, vkt_gen_create(m, 24, 0, 0, &g));
    vkt_rl_rollout_opts ro;
    vkt_rl_rollout_defaults(&ro);
    ro.n_games = 16, ro.seed = 11, ro.legal_answers = true, ro.gen.max_new_tokens = 8;
    vkt_rl_rollout r;
    TEST_OK(ctx, vkt_rl_rollout_run(m, g, &ro, &r));
    // Every turn's legal answers are the moves its prompt lists, each + <|endoftext|>.
    for (int k = 0; k < r.n_turns; k++) {
        const vkt_rl_turn *t = &r.turns[k];
        char prompt[128], ans[32];
        for (int i = 0; i < t->n_prompt; i++) prompt[i] = (char)t->prompt[i];
        prompt[t->n_prompt] = 0;
        assert_int_equal(t->n_legal, 2);
        const char *moves = strstr(prompt, "moves ");
        assert_non_null(moves);
        for (int a = 0; a < 2; a++) {
            int n = t->legal_off[a + 1] - t->legal_off[a];
            for (int i = 0; i < n - 1; i++) ans[i] = (char)t->legal_tok[t->legal_off[a] + i];
            ans[n - 1] = 0;
            assert_int_equal(t->legal_tok[t->legal_off[a + 1] - 1], VKT_TOK_EOT);
            assert_non_null(strstr(moves, ans));
        }
    }
    const double C = 0.7;
    vkt_rl_uniform u;
    TEST_OK(ctx, vkt_rl_uniform_build(&r, C, &u, vkt_ctx_err(ctx)));
    print_message("%d turns -> %d states, %d rows\n", r.n_turns, u.n_states, u.n_rows);
    assert_true(u.n_states >= 3 && u.n_states <= 12 && u.n_rows == 2 * u.n_states);
    // Rows and constant weights, then the model's weighted-CE backward.
    enum { T = 52 };
    const int B = u.n_rows;
    vkt_rl_seq *seqs = malloc((size_t)B * sizeof *seqs);
    int *start = malloc(((size_t)B + 1) * sizeof *start);
    double *w = malloc((size_t)B * 16 * sizeof *w);
    start[0] = 0;
    for (int i = 0; i < B; i++) {
        seqs[i] = (vkt_rl_seq){u.rows[i].prompt, u.rows[i].n_prompt, u.rows[i].answer,
                               u.rows[i].n_answer};
        start[i + 1] = start[i] + u.rows[i].n_answer;
        for (int j = start[i]; j < start[i + 1]; j++) w[j] = u.weight[i];
    }
    int32_t *tok = malloc((size_t)B * T * sizeof *tok), *tgt = malloc((size_t)B * T * sizeof *tgt);
    float *wt = malloc((size_t)B * T * sizeof *wt);
    TEST_OK(ctx, vkt_rl_pack(seqs, B, w, start, B, T, tok, tgt, wt, vkt_ctx_err(ctx)));
    TEST_OK(ctx, vkt_model_plan(m, B, T));
    TEST_OK(ctx, vkt_model_zero_grads(m));
    TEST_OK(ctx, vkt_model_set_batch(m, tok, tgt, wt));
    TEST_OK(ctx, vkt_model_forward(m, NULL, NULL));
    TEST_OK(ctx, vkt_model_backward(m, 1.0f));
    const vkt_params *ps = vkt_model_params(m);
    float *p0 = malloc(ps->total * 4), *p = malloc(ps->total * 4), *gr = malloc(ps->total * 4);
    TEST_OK(ctx, vkt_model_get_params(m, p0));
    TEST_OK(ctx, vkt_model_get_grads(m, gr));
    double gn = 0;
    for (uint64_t i = 0; i < ps->total; i++) gn += (double)gr[i] * gr[i];
    gn = sqrt(gn);
    assert_true(gn > 0);
    // Along u = g / |g| the directional derivative of L_U is |g|.
    const double hs[2] = {1e-3, 3e-4};
    for (int k = 0; k < 2; k++) {
        double L[2];
        for (int sgn = 0; sgn < 2; sgn++) {
            double h = sgn ? -hs[k] : hs[k];
            for (uint64_t i = 0; i < ps->total; i++) p[i] = p0[i] + (float)(h * gr[i] / gn);
            TEST_OK(ctx, vkt_model_set_params(m, p));
            L[sgn] = term_value(ctx, g, &u);
        }
        double fd = (L[0] - L[1]) / (2 * hs[k]);
        print_message("h %.0e: finite difference of L_U %.6f, |grad| %.6f\n", hs[k], fd, gn);
        assert_true(fabs(fd - gn) < 0.01 * gn);
    }
    free(p0), free(p), free(gr), free(seqs), free(start), free(w), free(tok), free(tgt), free(wt);
    vkt_rl_uniform_free(&u);
    vkt_rl_rollout_free(&r);
    vkt_gen_destroy(g);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

// Mean over the 12 information states of |P(bet) - 1/2|.
static double off_uniform(vkt_rl_sp *s) {
    vkt_kuhn_policy pi;
    TEST_OK(vkt_model_ctx(s->m), vkt_rl_kuhn_policy(s->gen, NULL, &pi, NULL));
    double d = 0;
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) d += fabs(pi.bet[i] - 0.5) / VKT_KUHN_INFOSTATES;
    return d;
}

static void test_selfplay_towards_uniform(void **st) {
    (void)st;
    vkt_ctx *ctx = test_ctx();
    vkt_model *m0 = test_gpt2(ctx, 1, 64, 3);
    TEST_OK(ctx, vkt_rl_warmup(m0, "kuhn", NULL, 40, 16, 1e-2, 4, NULL));
    const vkt_params *ps = vkt_model_params(m0);
    float *p0 = malloc(ps->total * 4);
    TEST_OK(ctx, vkt_model_get_params(m0, p0));
    vkt_model_destroy(m0);
    double before = 0, after[2];
    for (int on = 0; on < 2; on++) {
        vkt_model *m = test_gpt2(ctx, 1, 64, 3);
        TEST_OK(ctx, vkt_model_set_params(m, p0));
        vkt_rl_sp_opts o;
        vkt_rl_sp_defaults(&o);
        o.games_per_update = 24, o.micro_rows = 16, o.lr = 3e-3, o.seed = 7,
        o.kl_uniform = on ? 2.0 : 0;
        // REINFORCE with no baseline and every return 0 would carry no PG gradient; here
        // group advantages do, and the comparison is the same updates with and without.
        vkt_rl_sp s;
        if (on) { // auto: on for Kuhn alone, off in a mix and with thinking
            vkt_rl_sp_opts a = o;
            a.kl_uniform = -1;
            TEST_OK(ctx, vkt_rl_sp_init(&s, m, &a));
            assert_true(s.kl_uniform == VKT_RL_KL_UNIFORM_KUHN);
            vkt_rl_sp_free(&s);
            a.game = "kuhn,tictactoe";
            TEST_OK(ctx, vkt_rl_sp_init(&s, m, &a));
            assert_true(s.kl_uniform == 0);
            vkt_rl_sp_free(&s);
        }
        TEST_OK(ctx, vkt_rl_sp_init(&s, m, &o));
        before = off_uniform(&s);
        vkt_rl_sp_stats us;
        for (int k = 0; k < 6; k++) {
            TEST_OK(ctx, vkt_rl_sp_update(&s, &us));
            if (on) {
                assert_true(us.uniform_rows >= 6 && us.uniform_rows <= 24);
                assert_true(us.kl_uniform > 0 && us.legal_mass > 0 && us.legal_mass <= 1 + 1e-6);
            } else {
                assert_true(us.uniform_rows == 0 && us.kl_uniform == 0);
            }
        }
        after[on] = off_uniform(&s);
        vkt_rl_sp_free(&s);
        vkt_model_destroy(m);
    }
    print_message("mean |P(bet) - 1/2|: %.4f after the warm-up; after 6 updates %.4f without the "
                  "term, %.4f with it\n",
                  before, after[0], after[1]);
    assert_true(after[1] < before && after[1] < after[0]);
    free(p0);
    test_ctx_done(ctx);
}

// The anneal: C until games_target (1 - F), then linear to the end value at games_target;
// auto only with Kuhn's auto C; the update at the end trains no uniform rows at C = 0.
static void test_anneal(void **st) {
    (void)st;
    vkt_rl_sp h; // the schedule alone reads the resolved fields
    memset(&h, 0, sizeof h);
    h.kl_uniform = 0.05, h.kl_anneal = 0.25, h.o.games_target = 1000, h.o.kl_uniform_end = 0.01;
    const int64_t at[] = {0, 750, 875, 1000, 1200};
    const double want[] = {0.05, 0.05, 0.03, 0.01, 0.01};
    for (int i = 0; i < 5; i++)
        assert_true(fabs(vkt_rl_sp_kl_uniform_at(&h, at[i]) - want[i]) < 1e-12);
    h.kl_anneal = 0;
    assert_true(vkt_rl_sp_kl_uniform_at(&h, 1000) == 0.05);

    vkt_ctx *ctx = test_ctx();
    vkt_model *m = test_gpt2(ctx, 1, 64, 3);
    vkt_rl_sp_opts o;
    vkt_rl_sp_defaults(&o);
    o.games_per_update = 24, o.micro_rows = 16, o.seed = 7, o.games_target = 48;
    vkt_rl_sp s;
    TEST_OK(ctx, vkt_rl_sp_init(&s, m, &o));
    assert_true(s.kl_uniform == VKT_RL_KL_UNIFORM_KUHN && s.kl_anneal == VKT_RL_KL_ANNEAL_KUHN);
    vkt_rl_sp_free(&s);
    o.kl_uniform = 0.05; // a C given: no anneal unless asked
    TEST_OK(ctx, vkt_rl_sp_init(&s, m, &o));
    assert_true(s.kl_anneal == 0);
    vkt_rl_sp_free(&s);
    o.kl_anneal = 0.5,
    o.games_target = 24; // from 12 games: the second update starts at the end, C = 0
    TEST_OK(ctx, vkt_rl_sp_init(&s, m, &o));
    vkt_rl_sp_stats us;
    TEST_OK(ctx, vkt_rl_sp_update(&s, &us));
    assert_true(us.kl_uniform_coef == 0.05 && us.uniform_rows > 0);
    TEST_OK(ctx, vkt_rl_sp_update(&s, &us));
    assert_true(us.kl_uniform_coef == 0 && us.uniform_rows == 0 && us.kl_uniform == 0);
    vkt_rl_sp_free(&s);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

// The loop refuses the term where it cannot be formed: many legal moves, thinking.
static void test_refusals(void **st) {
    (void)st;
    vkt_rl_sp_opts o;
    vkt_error err = {0};
    vkt_rl_sp_defaults(&o);
    o.kl_uniform = 0.1, o.game = "negotiation";
    assert_int_equal(vkt_rl_sp_check(&o, 128, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "negotiation"));
    vkt_rl_sp_defaults(&o);
    o.kl_uniform = 0.1, o.think_tokens = 4;
    assert_int_equal(vkt_rl_sp_check(&o, 128, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "kl_uniform"));
    vkt_rl_sp_defaults(&o);
    o.kl_uniform = NAN;
    assert_int_equal(vkt_rl_sp_check(&o, 128, &err), VKT_ERR_ARG);
    vkt_rl_sp_defaults(&o); // the anneal only decays, over a fraction of the run
    o.kl_uniform_end = 0.5, o.games_target = 100;
    assert_int_equal(vkt_rl_sp_check(&o, 128, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "kl_uniform_end 0.5 exceeds kl_uniform 0.05"));
    vkt_rl_sp_defaults(&o);
    o.kl_anneal = 1.5;
    assert_int_equal(vkt_rl_sp_check(&o, 128, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "kl_anneal 1.5"));
    // Auto (the default) never refuses: it is off where the term cannot be formed.
    vkt_rl_sp_defaults(&o);
    o.game = "negotiation";
    if (vkt_rl_sp_check(&o, 128, &err) != VKT_OK) fail_msg("%s", err.msg);
    vkt_rl_sp_defaults(&o);
    o.kl_uniform = 0.1, o.game = "kuhn,tictactoe,offswitch", o.games_per_update = 144; // 48 each
    if (vkt_rl_sp_check(&o, 128, &err) != VKT_OK) fail_msg("%s", err.msg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_weights),
        cmocka_unit_test(test_stats_by_hand),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_anneal),
        cmocka_unit_test(test_gradient_through_model),
        cmocka_unit_test(test_selfplay_towards_uniform),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
