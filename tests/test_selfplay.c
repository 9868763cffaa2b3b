// test_selfplay.c: the transformer self-play loop (trainer/rl/rl_selfplay.h) on a tiny
// GPT-2 (1-2 layers, width 32) on the device:
//   - the format warm-up makes the sampled invalid-move rate fall (before vs after);
//   - policy extraction: the planted tabular policy comes back through the generic agent
//     path, and the batched 12-state teacher-forced extraction equals the model agent's
//     per-state probs (vkt_kuhn_policy_from_agent) and a direct score of the answers;
//   - resume: N updates straight give bit-identical parameters, moments and RL state to
//     N/2 updates, a save (checkpoint + rl_state.json), a reload into a fresh model and
//     N/2 more updates; for group, rae, and group with the entropy bonus and the KL term
//     (the reference saved beside the checkpoint and restored; without restoring it the
//     resumed run diverges, so the reference matters); also for TicTacToe (rae) and a mix of
//     Kuhn and the off-switch game (group-mean over replayed episodes);
//   - baselines keyed per game and role: one RAE update of a mix against the baselines
//     folded by hand from the same rollout.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "kuhn.h"
#include "rl_rollout.h"
#include "rl_selfplay.h"
#include "support_gpu.h"
#include "support_model.h"

static void test_warmup_invalid_falls(void **st) {
    (void)st;
    vkt_ctx *ctx = test_ctx();
    vkt_model *m = test_gpt2(ctx, 2, 64, 5);
    vkt_gen *gen;
    TEST_OK(ctx, vkt_gen_create(m, 32, 0, 0, &gen));
    double before, after, loss;
    TEST_OK(ctx, vkt_rl_invalid_rate(m, gen, "kuhn", NULL, 24, 0, 11, 8, &before));
    TEST_OK(ctx, vkt_rl_warmup(m, "kuhn", NULL, 60, 32, 1e-2, 3, &loss));
    TEST_OK(ctx, vkt_rl_invalid_rate(m, gen, "kuhn", NULL, 24, 0, 11, 8, &after));
    print_message("invalid-move rate: before %.3f, after %.3f (answer loss %.4f)\n", before, after,
                  loss);
    assert_true(before > 0.9);
    assert_true(after < 0.35);
    assert_true(loss < 0.5);
    vkt_gen_destroy(gen);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

static void test_policy_extraction(void **st) {
    (void)st;
    vkt_error err = {0};
    // The generic path returns a planted tabular policy exactly.
    vkt_game g;
    assert_int_equal(vkt_game_create(&g, "kuhn", &err), VKT_OK);
    vkt_agent planted;
    assert_int_equal(vkt_agent_create("nash:0.25", g.ops, &planted, &err), VKT_OK);
    vkt_kuhn_policy want, got;
    assert_int_equal(vkt_kuhn_policy_nash(0.25, &want, &err), VKT_OK);
    vkt_rng rng;
    vkt_rng_seed(&rng, 1);
    assert_int_equal(vkt_kuhn_policy_from_agent(&planted, 0, &rng, &got, NULL, &err), VKT_OK);
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++)
        assert_true(fabs(got.bet[i] - want.bet[i]) < 1e-12);
    vkt_agent_destroy(&planted);

    // A model with card-dependent answers (random weights, scaled up, then a short warm-up).
    vkt_ctx *ctx = test_ctx();
    vkt_model *m = test_gpt2(ctx, 1, 64, 21);
    TEST_OK(ctx, vkt_rl_warmup(m, "kuhn", NULL, 20, 16, 1e-2, 4, NULL));
    vkt_gen *gen;
    TEST_OK(ctx, vkt_gen_create(m, 24, 0, 0, &gen));
    vkt_kuhn_policy batched, per_state;
    double mass[VKT_KUHN_INFOSTATES];
    TEST_OK(ctx, vkt_rl_kuhn_policy(gen, NULL, &batched, mass));
    vkt_agent ma;
    TEST_OK(ctx, vkt_rl_model_agent(gen, NULL, &ma));
    TEST_OK(ctx, vkt_kuhn_policy_from_agent(&ma, 0, &rng, &per_state, NULL, vkt_ctx_err(ctx)));
    // Direct: score "[Bet]"/"[Check]" (or "[Call]"/"[Fold]") + <|endoftext|> by hand at "1pb".
    int i1pb = vkt_kuhn_infostate_index("1pb");
    const char *prompt = "Kuhn P0 hist pb moves [Fold] [Call] card Q\n";
    int32_t pids[64], a0[8], a1[8];
    int np = (int)strlen(prompt);
    for (int t = 0; t < np; t++) pids[t] = (unsigned char)prompt[t];
    const char *s0 = "[Fold]", *s1 = "[Call]";
    for (int t = 0; t < 6; t++) a0[t] = (unsigned char)s0[t], a1[t] = (unsigned char)s1[t];
    a0[6] = a1[6] = 256; // <|endoftext|>
    vkt_gen_prompt pr[2] = {{pids, np, 0}, {pids, np, 0}};
    const int32_t *cont[2] = {a0, a1};
    int nc[2] = {7, 7};
    float l0[7], l1[7], *lo[2] = {l0, l1};
    TEST_OK(ctx, vkt_gen_score(gen, 2, pr, cont, nc, lo));
    double s0l = 0, s1l = 0;
    for (int t = 0; t < 7; t++) s0l += l0[t], s1l += l1[t];
    double direct = 1.0 / (1.0 + exp(s0l - s1l));
    double spread = 0;
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) {
        print_message("%-4s batched %.6f per-state %.6f legal mass %.4f\n",
                      vkt_kuhn_infostate_name(i), batched.bet[i], per_state.bet[i], mass[i]);
        assert_true(fabs(batched.bet[i] - per_state.bet[i]) < 1e-5);
        assert_true(batched.bet[i] > 0 && batched.bet[i] < 1 && mass[i] > 0 && mass[i] <= 1 + 1e-6);
        spread += fabs(batched.bet[i] - batched.bet[0]);
    }
    assert_true(fabs(batched.bet[i1pb] - direct) < 1e-5);
    assert_true(spread > 0); // states are told apart (not one constant)
    vkt_agent_destroy(&ma);
    vkt_gen_destroy(gen);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

static void opts(vkt_rl_sp_opts *o) {
    vkt_rl_sp_defaults(o);
    o->games_per_update = 24, o->micro_rows = 16, o->lr = 3e-3, o->seed = 7;
}

static void test_resume_equivalence(void **st) {
    (void)st;
    vkt_ctx *ctx = test_ctx();
    enum { N = 4 };
    const char *dir = "test_selfplay_resume.tmp";
    char state[256];
    snprintf(state, sizeof state, "%s/rl_state.json", dir);
    char refdir[256];
    snprintf(refdir, sizeof refdir, "%s/ref", dir);
    vkt_rl_sp_opts o;
    // Kuhn with group, rae, group + entropy + KL; TicTacToe (rae by default); a mix of
    // Kuhn and the off-switch game (group and group-mean over replayed episodes); Kuhn
    // with the KL-to-uniform term, annealed.
    for (int cfg = 0; cfg < 6; cfg++) {
        opts(&o);
        o.adv = cfg == 1 ? VKT_RL_ADV_RAE : cfg >= 3 ? VKT_RL_ADV_AUTO : VKT_RL_ADV_GROUP;
        const bool reg = cfg == 2;
        if (reg) o.pg.kl_coef = 0.5, o.pg.entropy_coef = 0.05;
        if (cfg == 3) o.game = "tictactoe", o.games_per_update = 8;
        if (cfg == 4)
            o.game = "kuhn,offswitch", o.games_per_update = 32; // 16 each: 2 episodes x 8 replays
        if (cfg == 5) // annealed over the last 3/4 of the N updates: the resumed half decays it
            o.kl_uniform = 0.3, o.kl_anneal = 0.75,
            o.games_target = (int64_t)N * o.games_per_update;
        const int context = cfg >= 3 ? 128 : 64;
        // Straight.
        vkt_model *a = test_gpt2(ctx, 1, context, 31);
        TEST_OK(ctx, vkt_rl_warmup(a, o.game, NULL, 40, 16, 1e-2, 4, NULL));
        vkt_model *b = test_gpt2(ctx, 1, context, 99);
        const vkt_params *ps = vkt_model_params(a);
        float *pa = malloc(ps->total * 4), *pb = malloc(ps->total * 4),
              *ma1 = malloc(ps->total * 4), *ma2 = malloc(ps->total * 4),
              *mb1 = malloc(ps->total * 4), *mb2 = malloc(ps->total * 4);
        TEST_OK(ctx, vkt_model_get_params(a, pa));
        TEST_OK(ctx, vkt_model_set_params(b, pa)); // b starts where a starts (moments zero in both)
        vkt_rl_sp sa, sb;
        TEST_OK(ctx, vkt_rl_sp_init(&sa, a, &o));
        vkt_rl_sp_stats us;
        int kept = 0, dropped = 0;
        for (int u = 0; u < N; u++) {
            TEST_OK(ctx, vkt_rl_sp_update(&sa, &us));
            kept += us.kept, dropped += us.decisions - us.kept;
            // With a regularizer every turn is trained (A == 0 turns carry its gradient).
            if (reg) assert_int_equal(us.kept, us.decisions);
        }
        if (cfg == 0) assert_true(dropped > 0); // group advantages: singletons and ties are A == 0
        assert_true(kept > 0);
        assert_true(us.sample_entropy > 0);
        if (reg) {
            print_message("entropy %.4f (sampling %.4f), kl to the reference %.3g\n", us.entropy,
                          us.sample_entropy, us.pg.kl_ref);
            assert_true(us.entropy > 0 && us.pg.kl_ref > 0);
        } else {
            assert_true(us.entropy == 0 && us.pg.kl_ref == 0);
        }
        // Half, save, reload into a fresh model, the other half.
        TEST_OK(ctx, vkt_rl_sp_init(&sb, b, &o));
        for (int u = 0; u < N / 2; u++) TEST_OK(ctx, vkt_rl_sp_update(&sb, &us));
        TEST_OK(ctx, vkt_checkpoint_save_model(b, dir, true));
        TEST_OK(ctx, vkt_rl_sp_save_state(&sb, state));
        TEST_OK(ctx, vkt_rl_sp_save_ref(&sb, refdir));
        vkt_rl_sp_free(&sb);
        vkt_model_destroy(b);
        vkt_model *c = NULL;
        TEST_OK(ctx, vkt_checkpoint_load_model(ctx, dir, &c));
        TEST_OK(ctx, vkt_checkpoint_read_optim(dir, ps, mb1, mb2, vkt_ctx_err(ctx)));
        TEST_OK(ctx, vkt_model_set_optim(c, mb1, mb2));
        vkt_rl_sp sc;
        TEST_OK(ctx, vkt_rl_sp_init(&sc, c, &o));
        TEST_OK(ctx, vkt_rl_sp_load_state(&sc, state));
        if (reg) {
            // The control: the same resume with the reference taken from the resumed model.
            vkt_model *d = NULL;
            TEST_OK(ctx, vkt_checkpoint_load_model(ctx, dir, &d));
            TEST_OK(ctx, vkt_model_set_optim(d, mb1, mb2));
            vkt_rl_sp sd;
            TEST_OK(ctx, vkt_rl_sp_init(&sd, d, &o));
            TEST_OK(ctx, vkt_rl_sp_load_state(&sd, state));
            for (int u = N / 2; u < N; u++) TEST_OK(ctx, vkt_rl_sp_update(&sd, &us));
            TEST_OK(ctx, vkt_model_get_params(d, pb));
            TEST_OK(ctx, vkt_model_get_params(a, pa));
            assert_true(memcmp(pa, pb, ps->total * 4) != 0);
            vkt_rl_sp_free(&sd);
            vkt_model_destroy(d);
            TEST_OK(ctx, vkt_rl_sp_load_ref(&sc, refdir));
        } else {
            assert_int_equal(vkt_rl_sp_load_ref(&sc, refdir),
                             VKT_ERR_ARG); // no reference without KL
        }
        for (int u = N / 2; u < N; u++) TEST_OK(ctx, vkt_rl_sp_update(&sc, &us));
        TEST_OK(ctx, vkt_model_get_params(a, pa));
        TEST_OK(ctx, vkt_model_get_params(c, pb));
        TEST_OK(ctx, vkt_model_get_optim(a, ma1, ma2));
        TEST_OK(ctx, vkt_model_get_optim(c, mb1, mb2));
        const char *extra = reg                ? " + entropy + kl"
                            : o.kl_uniform > 0 ? " + kl-uniform annealed"
                                               : "";
        if (o.kl_uniform > 0)
            assert_true(us.kl_uniform_coef > 0 && us.kl_uniform_coef < 0.3); // decayed
        print_message("%s, %s%s: %d updates straight vs %d + resume + %d: games %lld/%lld, adam "
                      "steps %d/%d\n",
                      o.game, vkt_rl_adv_mode_name(o.adv), extra, N, N / 2, N / 2,
                      (long long)sa.games, (long long)sc.games, sa.adam_step, sc.adam_step);
        assert_memory_equal(pa, pb, ps->total * 4);
        assert_memory_equal(ma1, mb1, ps->total * 4);
        assert_memory_equal(ma2, mb2, ps->total * 4);
        assert_true(sa.games == sc.games && sa.updates == sc.updates &&
                    sa.adam_step == sc.adam_step);
        assert_memory_equal(sa.avg_num, sc.avg_num, sizeof sa.avg_num);
        assert_memory_equal(&sa.rae, &sc.rae, sizeof sa.rae);
        assert_true(sa.avg_den == sc.avg_den && sa.invalid == sc.invalid &&
                    sa.decisions == sc.decisions);
        vkt_rl_sp_free(&sa), vkt_rl_sp_free(&sc);
        vkt_model_destroy(a), vkt_model_destroy(c);
        free(pa), free(pb), free(ma1), free(ma2), free(mb1), free(mb2);
    }
    test_ctx_done(ctx);
}

// Baselines keyed per game and role: one RAE update of a mix folds each game's returns,
// in game-id order, into its own (game, seat) baselines and touches nothing else. The
// expected baselines come from the same rollout played beforehand (same ids, seed,
// blocks and answer budget: generation is deterministic).
static void test_mix_baselines(void **st) {
    (void)st;
    vkt_ctx *ctx = test_ctx();
    vkt_model *m = test_gpt2(ctx, 1, 128, 17);
    const char *mix = "kuhn,tictactoe,offswitch";
    TEST_OK(ctx, vkt_rl_warmup(m, mix, NULL, 30, 16, 1e-2, 4, NULL));
    vkt_rl_sp_opts o;
    opts(&o);
    o.game = mix, o.adv = VKT_RL_ADV_RAE, o.games_per_update = 24;
    vkt_rl_sp s;
    TEST_OK(ctx, vkt_rl_sp_init(&s, m, &o));
    assert_int_equal(s.mix.n, 3);
    vkt_rl_rollout_opts ro;
    vkt_rl_rollout_defaults(&ro);
    ro.game = mix, ro.n_games = 24, ro.game_base = s.games, ro.seed = o.seed;
    ro.gen.max_new_tokens = s.max_new_tokens;
    ro.n_specs = s.mix.n;
    for (int i = 0; i < s.mix.n; i++) {
        ro.specs[i] = s.mix.g[i].spec, ro.count[i] = s.share[i], ro.spec_replays[i] = s.replays[i];
        assert_int_equal(s.share[i], 8);
        assert_int_equal(s.replays[i], 1); // replays only under group modes
    }
    vkt_rl_rollout r;
    TEST_OK(ctx, vkt_rl_rollout_run(m, s.gen, &ro, &r));
    vkt_rae want;
    vkt_rae_init(&want, o.rae_alpha);
    for (int g = 0; g < r.n_games; g++)
        for (int p = 0; p < s.mix.g[r.spec[g]].players; p++) {
            double A;
            assert_int_equal(vkt_rae_advantage(&want, r.spec[g], p,
                                               r.returns[g * VKT_GAME_MAX_PLAYERS + p], &A, NULL),
                             VKT_OK);
        }
    vkt_rl_sp_stats us;
    TEST_OK(ctx, vkt_rl_sp_update(&s, &us));
    assert_int_equal(us.decisions, r.n_turns);
    vkt_rl_rollout_free(&r);
    assert_memory_equal(&s.rae, &want, sizeof want);
    for (int g = 0; g < VKT_RL_MAX_GAMES; g++)
        for (int p = 0; p < VKT_RL_MAX_ROLES; p++) {
            int64_t n = g < 2 || (g == 2 && p == 0) ? 8 : 0; // offswitch has one seat
            assert_int_equal(s.rae.updates[g][p], n);
            if (!n) assert_true(s.rae.b[g][p] == 0);
        }
    print_message(
        "baselines after one update: kuhn %.4f/%.4f, tictactoe %.4f/%.4f, offswitch %.4f\n",
        s.rae.b[0][0], s.rae.b[0][1], s.rae.b[1][0], s.rae.b[1][1], s.rae.b[2][0]);
    int dec = 0;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(us.per_game[i].games, 8);
        dec += us.per_game[i].decisions;
    }
    assert_int_equal(dec, us.decisions);
    assert_int_equal(us.per_game[2].decisions, 8); // one decision per off-switch episode
    // The Kuhn average takes only the Kuhn games.
    assert_true(s.avg_den == 8 && s.kuhn == 0);
    vkt_rl_sp_free(&s);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

static void test_bad_options(void **st) {
    (void)st;
    vkt_ctx *ctx = test_ctx();
    vkt_model *m = test_gpt2(ctx, 1, 64, 1);
    vkt_rl_sp s;
    vkt_rl_sp_opts o;
    opts(&o);
    o.games_per_update = 0;
    assert_int_equal(vkt_rl_sp_init(&s, m, &o), VKT_ERR_ARG);
    opts(&o);
    o.pg.kl_coef = -0.1;
    assert_int_equal(vkt_rl_sp_init(&s, m, &o), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "kl_coef"));
    opts(&o);
    o.pg.entropy_coef = NAN;
    assert_int_equal(vkt_rl_sp_init(&s, m, &o), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "entropy_coef"));
    opts(&o);
    o.game = "nosuchgame";
    assert_int_equal(vkt_rl_sp_init(&s, m, &o), VKT_ERR_ARG);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_options),          cmocka_unit_test(test_policy_extraction),
        cmocka_unit_test(test_warmup_invalid_falls), cmocka_unit_test(test_resume_equivalence),
        cmocka_unit_test(test_mix_baselines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
