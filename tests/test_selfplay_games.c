// test_selfplay_games.c: the transformer self-play loop on TicTacToe, Negotiation and the
// off-switch game with a tiny GPT-2 (2 layers, width 32, context 128) on the device:
//   - per game: a short end-to-end run: the sampled invalid-move rate before the warm-up
//     (~100%), after it (lower, below a stated bound), then RL updates whose invalid
//     rates stay below that bound; an evaluation against random and the strong opponent
//     (two-player games) or the oracle (offswitch) runs and its rates add up;
//   - offswitch: the model's batched teacher-forced choice probabilities equal the model
//     agent's per-episode probs, and group-mean advantages over replayed episodes keep turns;
//   - the loop refuses games it cannot fit: no compact prompt, prompt + answer over the
//     context, a share that is not a multiple of the replays.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "offswitch_eval.h"
#include "rl_offswitch.h"
#include "rl_selfplay.h"
#include "support_gpu.h"
#include "support_model.h"

typedef struct e2e_case {
    const char *game;
    int warmup_steps;
    double bound; // invalid-move rate after the warm-up and during RL stays below this
} e2e_case;

// Warm-up, invalid rates, `updates` RL updates, one evaluation.
static void run_e2e(const e2e_case *c, int updates, int games_per_update) {
    vkt_ctx *ctx = test_ctx();
    vkt_model *m = test_gpt2(ctx, 2, 128, 5);
    vkt_rl_sp_opts o;
    vkt_rl_sp_defaults(&o);
    o.game = c->game, o.games_per_update = games_per_update, o.micro_rows = 32, o.lr = 3e-3,
    o.seed = 3;
    o.explore =
        VKT_RL_EXPLORE_SAMPLE; // sampled answers: the invalid rate during RL is measured (offswitch
                               // explores by default: test_selfplay_cli, test_rl_rollout)
    vkt_rl_sp s;
    TEST_OK(ctx, vkt_rl_sp_init(&s, m, &o));
    double before, after, loss;
    TEST_OK(ctx, vkt_rl_invalid_rate(m, s.gen, c->game, NULL, 32, 1000000, 11, s.max_new_tokens,
                                     &before));
    // Shorter and faster than the defaults (1e-2: the format, not which cells are free).
    TEST_OK(ctx, vkt_rl_warmup(m, c->game, NULL, c->warmup_steps, 32, 1e-2, 3, &loss));
    TEST_OK(ctx, vkt_rl_invalid_rate(m, s.gen, c->game, NULL, 32, 1000000, 11, s.max_new_tokens,
                                     &after));
    vkt_rl_sp_free(&s);
    TEST_OK(ctx, vkt_rl_sp_init(&s, m, &o)); // the warm-up re-planned the model
    print_message(
        "%s: invalid-move rate before the warm-up %.3f, after %.3f (answer loss %.3f, %d steps)\n",
        c->game, before, after, loss, c->warmup_steps);
    assert_true(before > 0.9);
    assert_true(after < c->bound);
    vkt_rl_sp_stats us;
    int64_t inv = 0, dec = 0;
    for (int u = 0; u < updates; u++) {
        TEST_OK(ctx, vkt_rl_sp_update(&s, &us));
        print_message("  update %d: %d decisions, %d invalid (%.3f), %d kept\n", u + 1,
                      us.decisions, us.invalid, (double)us.invalid / us.decisions, us.kept);
        assert_true(us.kept > 0);
        assert_int_equal(us.per_game[0].games, games_per_update);
        assert_int_equal(us.per_game[0].decisions, us.decisions);
        inv += us.invalid, dec += us.decisions;
    }
    print_message("  invalid during RL %.3f (bound %.2f)\n", (double)inv / dec, c->bound);
    assert_true((double)inv / dec < c->bound);
    assert_int_equal(s.games, (int64_t)updates * games_per_update);
    if (s.mix.g[0].strong) {
        vkt_rl_eval er, es;
        TEST_OK(ctx,
                vkt_rl_eval_vs(m, s.gen, c->game, NULL, "random", 8, 21, s.max_new_tokens, &er));
        TEST_OK(ctx, vkt_rl_eval_vs(m, s.gen, c->game, NULL, s.mix.g[0].strong, 8, 22,
                                    s.max_new_tokens, &es));
        for (int k = 0; k < 2; k++) {
            assert_int_equal(er.seat_games[k], 4);
            assert_true(fabs(er.seat_win[k] + er.seat_draw[k] + er.seat_loss[k] - 1) < 1e-12);
        }
        assert_true(fabs(es.win + es.draw + es.loss - 1) < 1e-12);
        assert_true(fabs(er.win - (er.seat_win[0] + er.seat_win[1]) / 2) < 1e-12);
        print_message(
            "  vs random: win %.2f loss %.2f invalid %.2f; vs %s: loss %.2f invalid %.2f\n", er.win,
            er.loss, er.invalid, s.mix.g[0].strong, es.loss, es.invalid);
    }
    vkt_rl_sp_free(&s);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

static void test_tictactoe(void **st) {
    (void)st;
    const e2e_case c = {"tictactoe", 60, 0.45};
    run_e2e(&c, 3, 16);
}

static void test_negotiation(void **st) {
    (void)st;
    const e2e_case c = {"negotiation", 60, 0.9};
    run_e2e(&c, 2, 8);
}

static void test_offswitch(void **st) {
    (void)st;
    const e2e_case c = {"offswitch", 60, 0.45};
    run_e2e(&c, 3, 32);
    // The model's batched choice probabilities are its agent's, episode by episode.
    vkt_ctx *ctx = test_ctx();
    vkt_model *m = test_gpt2(ctx, 2, 128, 8);
    TEST_OK(ctx, vkt_rl_warmup(m, "offswitch", NULL, 20, 32, 1e-2, 4, NULL));
    vkt_gen *gen;
    TEST_OK(ctx, vkt_gen_create(m, 24, 0, 0, &gen));
    enum { N = 40 };
    vkt_game eps[N];
    double p[3 * N], mass[N], q[3 * N];
    TEST_OK(ctx, vkt_offswitch_eval_episodes("offswitch", N, 5, eps, vkt_ctx_err(ctx)));
    TEST_OK(ctx, vkt_rl_offswitch_probs(gen, NULL, eps, N, p, mass));
    vkt_agent a;
    TEST_OK(ctx, vkt_rl_model_agent(gen, NULL, &a));
    TEST_OK(ctx, vkt_offswitch_agent_probs(&a, eps, N, 1, q, vkt_ctx_err(ctx)));
    double spread = 0;
    for (int i = 0; i < 3 * N; i++) {
        assert_true(fabs(p[i] - q[i]) < 1e-5);
        spread += fabs(p[i] - p[i % 3]);
    }
    for (int i = 0; i < N; i++) assert_true(mass[i] > 0 && mass[i] <= 1 + 1e-6);
    assert_true(spread > 0); // episodes are told apart
    vkt_offswitch_eval ev;
    TEST_OK(ctx, vkt_offswitch_eval_probs(eps, N, p, &ev, vkt_ctx_err(ctx)));
    print_message("offswitch (20 warm-up steps): agreement %.3f regret %.4f, always wait %.4f\n",
                  ev.agreement, ev.regret, ev.fixed_regret[2]);
    vkt_agent_destroy(&a);
    vkt_gen_destroy(gen);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

static void test_refusals(void **st) {
    (void)st;
    vkt_ctx *ctx = test_ctx();
    vkt_model *m = test_gpt2(ctx, 2, 64, 1); // too short for Negotiation's 89-token prompts
    vkt_rl_sp s;
    vkt_rl_sp_opts o;
    vkt_rl_sp_defaults(&o);
    o.game = "negotiation";
    assert_int_equal(vkt_rl_sp_init(&s, m, &o), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "context of 64"));
    o.game = "kuhn:rounds=3";
    assert_int_equal(vkt_rl_sp_init(&s, m, &o), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "no compact prompt"));
    o.game = "kuhn,offswitch", o.games_per_update = 20; // offswitch gets 10, not a multiple of 8
    assert_int_equal(vkt_rl_sp_init(&s, m, &o), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "multiple of its 8 replays"));
    o.games_per_update = 1;
    assert_int_equal(vkt_rl_sp_init(&s, m, &o), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "less than the 2 games"));
    // Exploring every answer: one-decision games, a group advantage, replays a multiple of 3.
    static const struct {
        const char *game;
        vkt_rl_adv_mode adv;
        int replays;
    } ex[] = {{"kuhn", VKT_RL_ADV_AUTO, 0},
              {"offswitch", VKT_RL_ADV_RAE, 0},
              {"offswitch", VKT_RL_ADV_AUTO, 4}};
    for (int i = 0; i < 3; i++) {
        vkt_rl_sp_defaults(&o);
        o.game = ex[i].game, o.adv = ex[i].adv, o.replays = ex[i].replays,
        o.explore = VKT_RL_EXPLORE_ALL, o.games_per_update = 96;
        vkt_error_clear(vkt_ctx_err(ctx));
        assert_int_equal(vkt_rl_sp_check(&o, 128, vkt_ctx_err(ctx)), VKT_ERR_ARG);
        assert_non_null(strstr(vkt_ctx_message(ctx), "explore all"));
    }
    o.replays = 0; // the default: 3, every answer once
    if (vkt_rl_sp_check(&o, 128, vkt_ctx_err(ctx)) != VKT_OK) fail_msg("%s", vkt_ctx_message(ctx));
    o.games_per_update = 128;
    assert_int_equal(vkt_rl_sp_check(&o, 128, vkt_ctx_err(ctx)), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "multiple of its 3 replays"));
    vkt_rl_sp_defaults(&o);
    o.game = "kuhn,chess";
    assert_int_equal(vkt_rl_sp_init(&s, m, &o), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "chess"));
    vkt_rl_eval e;
    assert_int_equal(vkt_rl_eval_vs(m, NULL, "offswitch", NULL, "random", 4, 1, 8, &e),
                     VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "two-player"));
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_offswitch),
        cmocka_unit_test(test_tictactoe),
        cmocka_unit_test(test_negotiation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
