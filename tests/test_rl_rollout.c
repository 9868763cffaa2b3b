// test_rl_rollout.c: batched self-play rollouts with a tiny random GPT-2 on the device.
// A logits hook constrains the answer to a prefix of "[Check] [Bet] [Fold] [Call]" with
// <|endoftext|> competing at every step (probability from the model's logits, bounded
// to ~3-8%), so the protocol sees every kind of answer: no move (invalid), a legal move,
// a move that is illegal here (invalid). Checks: a batch of games (also with fewer
// generation slots than games) gives the same transcripts, actions and returns as one
// game at a time; SPIRAL's training rewards on invalid moves; the prompts; max_turns;
// a mix's blocks and the replayed deals of group advantages; exploring every answer;
// format credit's choosing tokens.
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
#include "rl_prompt.h"
#include "rl_rollout.h"
#include "support_gpu.h"
#include "support_model.h"
#include "tokenizer.h"

static const char answer[] = "[Check] [Bet] [Fold] [Call]";

static void constrain(void *user, int sample, int step, float *z, int V) {
    (void)user, (void)sample;
    int c = step < (int)sizeof answer - 1 ? (unsigned char)answer[step] : VKT_TOK_EOT;
    float d = z[VKT_TOK_EOT] - z[c];
    for (int j = 0; j < V; j++)
        if (j != c && j != VKT_TOK_EOT) z[j] = -1e9f;
    z[c] = 0;
    if (c != VKT_TOK_EOT) z[VKT_TOK_EOT] = -3.0f + 0.5f * tanhf(d);
}

// The same over "[Check]", then <|endoftext|> for certain: a legal answer where checking is.
static void constrain_check(void *user, int sample, int step, float *z, int V) {
    if (step < 7) {
        constrain(user, sample, step, z, V);
        return;
    }
    for (int j = 0; j < V; j++) z[j] = j == VKT_TOK_EOT ? 0 : -1e9f;
}

static vkt_model *tiny_model(vkt_ctx *ctx) {
    vkt_model_config c = test_config("gpt2-tiny", (test_shape){.vocab = 264,
                                                               .context = 80,
                                                               .layers = 2,
                                                               .width = 16,
                                                               .ffn = 24,
                                                               .heads = 4,
                                                               .kv_heads = 4});
    vkt_model *m = test_model_new(ctx, &c, 5);
    free(test_model_scale(ctx, m, 8.0f)); // far from uniform
    return m;
}

static void opts_for(vkt_rl_rollout_opts *o, int n, int64_t base) {
    vkt_rl_rollout_defaults(o);
    o->n_games = n, o->game_base = base, o->seed = 11;
    o->gen.max_new_tokens = (int)sizeof answer; // the whole string, then <|endoftext|>
    o->gen.on_logits = constrain;
}

// The turns of game g (in order).
static int game_turns(const vkt_rl_rollout *r, int g, const vkt_rl_turn **out) {
    int n = 0;
    for (int i = 0; i < r->n_turns; i++)
        if (r->turns[i].game == g) out[n++] = &r->turns[i];
    return n;
}

static void test_batch_equals_sequential(void **st) {
    (void)st;
    vkt_ctx *ctx = test_ctx();
    vkt_model *m = tiny_model(ctx);
    enum { G = 24 };
    vkt_gen *gb, *g1;
    TEST_OK(ctx, vkt_gen_create(m, 8, 0, 0, &gb)); // fewer slots than games: prompts queue
    TEST_OK(ctx, vkt_gen_create(m, 1, 0, 0, &g1));
    vkt_rl_rollout_opts o;
    opts_for(&o, G, 100);
    vkt_rl_rollout rb;
    TEST_OK(ctx, vkt_rl_rollout_run(m, gb, &o, &rb));
    int kinds[4] = {0}, longest = 0; // invalid as no move / illegal, legal pass / bet
    for (int g = 0; g < G; g++) {
        vkt_rl_rollout_opts o1;
        opts_for(&o1, 1, 100 + g);
        vkt_rl_rollout r1;
        TEST_OK(ctx, vkt_rl_rollout_run(m, g1, &o1, &r1));
        const vkt_rl_turn *tb[64], *t1[64];
        int nb = game_turns(&rb, g, tb), n1 = game_turns(&r1, 0, t1);
        assert_int_equal(nb, n1);
        if (nb > longest) longest = nb;
        for (int i = 0; i < nb; i++) {
            assert_int_equal(tb[i]->player, t1[i]->player);
            assert_int_equal(tb[i]->step, i);
            assert_int_equal(tb[i]->n_prompt, t1[i]->n_prompt);
            assert_memory_equal(tb[i]->prompt, t1[i]->prompt, (size_t)tb[i]->n_prompt * 4);
            assert_int_equal(tb[i]->n_resp, t1[i]->n_resp);
            assert_memory_equal(tb[i]->resp, t1[i]->resp, (size_t)tb[i]->n_resp * 4);
            assert_int_equal(tb[i]->action, t1[i]->action);
            assert_true(tb[i]->obs_key == t1[i]->obs_key);
            if (!test_close("logp", tb[i]->logp, t1[i]->logp, (uint64_t)tb[i]->n_resp, 1e-5, 1e-5))
                fail();
            if (tb[i]->action >= 0)
                kinds[2 + tb[i]->action]++;
            else
                kinds[tb[i]->n_resp < 7 ? 0 : 1]++;
        }
        for (int p = 0; p < 2; p++) assert_true(rb.returns[g * 2 + p] == r1.returns[p]);
        assert_int_equal(rb.forfeited_by[g], r1.forfeited_by[0]);
        // Returns: SPIRAL's training rule after an invalid move, chips otherwise.
        const double *R = rb.returns + g * 2;
        int f = rb.forfeited_by[g];
        if (f >= 0) {
            assert_true(R[f] == -1.5 && R[1 - f] == 0.5);
            assert_int_equal(tb[nb - 1]->action, VKT_ACTION_INVALID);
            assert_int_equal(tb[nb - 1]->player, f);
        } else {
            assert_true(R[0] + R[1] == 0 && (fabs(R[0]) == 1 || fabs(R[0]) == 2));
        }
        vkt_rl_rollout_free(&r1);
    }
    print_message(
        "answers: %d empty-invalid, %d illegal, %d pass, %d bet; longest game %d turns, %d steps\n",
        kinds[0], kinds[1], kinds[2], kinds[3], longest, rb.steps);
    // The seeds exercise every path (fixed seed: deterministic).
    assert_true(kinds[0] > 0 && kinds[1] > 0 && kinds[2] > 0 && kinds[3] > 0 && longest >= 2);
    assert_int_equal(rb.steps, longest); // one generation call per decision step
    // Prompts: the first turn of every game is player 0's opening in the compact format.
    for (int g = 0; g < G; g++) {
        const vkt_rl_turn *t[64];
        game_turns(&rb, g, t);
        char text[128];
        size_t n = 0;
        TEST_OK(ctx, vkt_tokenizer_decode(t[0]->prompt, (size_t)t[0]->n_prompt, 0, text,
                                          sizeof text, &n, NULL));
        assert_memory_equal(text, "Kuhn P0 hist - moves [Check] [Bet] card ", 40);
        assert_int_equal(n, 42);
    }
    // max_turns = 1: games that needed a second decision are cut with returns 0.
    vkt_rl_rollout rc;
    o.max_turns = 1;
    TEST_OK(ctx, vkt_rl_rollout_run(m, gb, &o, &rc));
    int cut = 0;
    for (int g = 0; g < G; g++) {
        if (rc.truncated[g]) {
            cut++;
            assert_true(rc.returns[g * 2] == 0 && rc.returns[g * 2 + 1] == 0);
        }
        // cut exactly when the first move was legal (a Kuhn hand needs >= 2 decisions)
        const vkt_rl_turn *t[64];
        game_turns(&rb, g, t);
        assert_int_equal(rc.truncated[g], t[0]->action >= 0);
    }
    assert_true(cut > 0 && rc.steps == 1);
    vkt_rl_rollout_free(&rc);
    vkt_rl_rollout_free(&rb);
    opts_for(&o, 0, 0);
    assert_int_equal(vkt_rl_rollout_run(m, gb, &o, &rc), VKT_ERR_ARG);
    vkt_rl_rollout_free(&rc);
    vkt_gen_destroy(gb);
    vkt_gen_destroy(g1);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

// A mix of K Kuhn games and OS off-switch games in groups of R replays, answering freely
// (the model's own, mostly invalid, text) in up to 6 tokens.
static void kuhn_offswitch_opts(vkt_rl_rollout_opts *o, int K, int OS, int R, int64_t base) {
    opts_for(o, K + OS, base);
    o->gen.on_logits = NULL;
    o->gen.max_new_tokens = 6;
    o->n_specs = 2;
    o->specs[0] = "kuhn", o->count[0] = K, o->spec_replays[0] = 1;
    o->specs[1] = "offswitch", o->count[1] = OS, o->spec_replays[1] = R;
}

// A mix runs its blocks side by side in one batch: the Kuhn block is the Kuhn-only
// rollout of the same ids; with replays r the off-switch block deals every episode r
// times (same prompt, own sampling stream); counts that do not add up are refused.
static void test_mix_and_replays(void **st) {
    (void)st;
    vkt_ctx *ctx = test_ctx();
    vkt_model *m = tiny_model(ctx);
    vkt_gen *gen;
    TEST_OK(ctx, vkt_gen_create(m, 8, 0, 0, &gen));
    enum { K = 6, OS = 8, R = 4 };
    vkt_rl_rollout_opts o, ok;
    kuhn_offswitch_opts(&o, K, OS, R, 200);
    ok = o;
    ok.n_specs = 0, ok.n_games = K; // the Kuhn block alone, same ids
    vkt_rl_rollout rm, rk;
    TEST_OK(ctx, vkt_rl_rollout_run(m, gen, &o, &rm));
    TEST_OK(ctx, vkt_rl_rollout_run(m, gen, &ok, &rk));
    for (int g = 0; g < K + OS; g++) assert_int_equal(rm.spec[g], g < K ? 0 : 1);
    for (int g = 0; g < K; g++) {
        const vkt_rl_turn *a[64], *b[64];
        int na = game_turns(&rm, g, a), nb = game_turns(&rk, g, b);
        assert_int_equal(na, nb);
        for (int i = 0; i < na; i++) {
            assert_int_equal(a[i]->n_prompt, b[i]->n_prompt);
            assert_memory_equal(a[i]->prompt, b[i]->prompt, (size_t)a[i]->n_prompt * 4);
            assert_int_equal(a[i]->n_resp, b[i]->n_resp);
            assert_memory_equal(a[i]->resp, b[i]->resp, (size_t)a[i]->n_resp * 4);
        }
        assert_true(rm.returns[g * 2] == rk.returns[g * 2] &&
                    rm.returns[g * 2 + 1] == rk.returns[g * 2 + 1]);
    }
    // Off-switch: one decision each; groups of R share the episode, groups differ.
    int differ = 0;
    for (int g = K; g < K + OS; g++) {
        const vkt_rl_turn *t[4];
        assert_int_equal(game_turns(&rm, g, t), 1);
        const vkt_rl_turn *first[4];
        game_turns(&rm, K + (g - K) / R * R, first);
        assert_true(t[0]->obs_key == first[0]->obs_key);
        assert_int_equal(t[0]->n_prompt, first[0]->n_prompt);
        assert_memory_equal(t[0]->prompt, first[0]->prompt, (size_t)t[0]->n_prompt * 4);
        differ += t[0]->n_resp != first[0]->n_resp ||
                  memcmp(t[0]->resp, first[0]->resp, (size_t)t[0]->n_resp * 4) != 0; // own streams
        char text[128];
        size_t n = 0;
        TEST_OK(ctx, vkt_tokenizer_decode(t[0]->prompt, (size_t)t[0]->n_prompt, 0, text,
                                          sizeof text, &n, NULL));
        assert_memory_equal(text, "Offswitch P0 mean ", 18);
    }
    const vkt_rl_turn *g0[4], *g1[4];
    game_turns(&rm, K, g0), game_turns(&rm, K + R, g1);
    assert_true(g0[0]->obs_key != g1[0]->obs_key);
    assert_true(differ > 0);
    print_message(
        "off-switch replays: %d of %d samples answered differently from their group's first\n",
        differ, OS);
    vkt_rl_rollout_free(&rm), vkt_rl_rollout_free(&rk);
    // Blocks that do not hold n_games games, or a bad replay count, are refused.
    o.count[1] = OS - 1;
    assert_int_equal(vkt_rl_rollout_run(m, gen, &o, &rm), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "not n_games"));
    vkt_rl_rollout_free(&rm);
    o.count[1] = OS, o.spec_replays[1] = -2;
    assert_int_equal(vkt_rl_rollout_run(m, gen, &o, &rm), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "offswitch"));
    vkt_rl_rollout_free(&rm);
    vkt_gen_destroy(gen);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

// Exploring every answer: replay j of an off-switch group plays the j-th legal answer (no
// sampling: logp 0, the answer's own tokens), on the group's one episode; its choosing
// token is the one where the answers branch; a sampled block beside it is unchanged.
static void test_explore_all(void **st) {
    (void)st;
    vkt_ctx *ctx = test_ctx();
    vkt_model *m = tiny_model(ctx);
    vkt_gen *gen;
    TEST_OK(ctx, vkt_gen_create(m, 8, 0, 0, &gen));
    enum { K = 4, OS = 9, R = 3 };
    vkt_rl_rollout_opts o, ok;
    kuhn_offswitch_opts(&o, K, OS, R, 300);
    o.spec_explore[1] = true;
    ok = o;
    ok.n_specs = 0, ok.n_games = K, ok.explore = false;
    vkt_rl_rollout rm, rk;
    TEST_OK(ctx, vkt_rl_rollout_run(m, gen, &o, &rm));
    TEST_OK(ctx, vkt_rl_rollout_run(m, gen, &ok, &rk));
    for (int g = 0; g < K; g++) { // the sampled block: as without exploration
        const vkt_rl_turn *a[64], *b[64];
        int na = game_turns(&rm, g, a), nb = game_turns(&rk, g, b);
        assert_int_equal(na, nb);
        for (int i = 0; i < na; i++) {
            assert_false(a[i]->forced);
            assert_null(a[i]->choice);
            assert_int_equal(a[i]->n_resp, b[i]->n_resp);
            assert_memory_equal(a[i]->resp, b[i]->resp, (size_t)a[i]->n_resp * 4);
        }
    }
    assert_int_equal(rm.invalid, rk.invalid); // explored answers are legal
    for (int g0 = K; g0 < K + OS; g0 += R) {
        vkt_game game;
        assert_int_equal(vkt_game_create(&game, "offswitch", vkt_ctx_err(ctx)), VKT_OK);
        assert_int_equal(vkt_game_reset(&game, 1, vkt_ctx_err(ctx)), VKT_OK);
        const vkt_rl_turn *t[R];
        for (int j = 0; j < R; j++) {
            const vkt_rl_turn *one[4];
            assert_int_equal(game_turns(&rm, g0 + j, one), 1);
            t[j] = one[0];
        }
        int acts[VKT_GAME_MAX_LEGAL];
        assert_int_equal(vkt_game_legal_actions(&game, acts), 3);
        for (int j = 0; j < R; j++) {
            assert_true(t[j]->forced);
            assert_true(t[j]->obs_key == t[0]->obs_key);
            assert_int_equal(t[j]->action, acts[j]);
            int32_t want[16];
            int n = 0;
            TEST_OK(ctx,
                    vkt_rl_answer_tokens(&game, acts[j], NULL, want, 16, &n, vkt_ctx_err(ctx)));
            assert_int_equal(t[j]->n_resp, n);
            assert_memory_equal(t[j]->resp, want, (size_t)n * 4);
            for (int i = 0; i < n; i++) assert_true(t[j]->logp[i] == 0.0f);
            // choice: offswitch's answers differ at their second token alone ('[' + a, o, w).
            for (int i = 0; i < n; i++) assert_int_equal(t[j]->choice[i], i == 1);
        }
        // Common random numbers: turning the robot off pays 0, acting pays U, waiting U or 0.
        const double act = rm.returns[(size_t)(g0 + 0) * VKT_GAME_MAX_PLAYERS];
        const double off = rm.returns[(size_t)(g0 + 1) * VKT_GAME_MAX_PLAYERS];
        const double wait = rm.returns[(size_t)(g0 + 2) * VKT_GAME_MAX_PLAYERS];
        assert_true(off == 0.0 && (wait == act || wait == 0.0));
        print_message("explored episode: act %+.3f off %+.3f wait %+.3f\n", act, off, wait);
    }
    vkt_rl_rollout_free(&rm), vkt_rl_rollout_free(&rk);
    vkt_gen_destroy(gen);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

// The per-token rule on hand-made turns: no choice marks, every token A; with them, A on
// the choosing token and |A| on the format; an invalid answer's A > 0 is 0 under format
// credit only (its A < 0 stays).
static void test_turn_advantages(void **st) {
    (void)st;
    unsigned char mark[7] = {0, 1, 0, 0, 0, 0, 0}; // "[Fold]" + <|endoftext|>: 'F' chooses
    vkt_rl_turn t;
    memset(&t, 0, sizeof t);
    t.n_resp = 7, t.action = 1;
    double tok[7];
    assert_true(vkt_rl_turn_advantages(&t, -0.75, true, tok) == -0.75);
    for (int j = 0; j < 7; j++) assert_true(tok[j] == -0.75);
    t.choice = mark;
    assert_true(vkt_rl_turn_advantages(&t, -0.75, true, tok) == -0.75);
    for (int j = 0; j < 7; j++) assert_true(tok[j] == (j == 1 ? -0.75 : 0.75));
    assert_true(vkt_rl_turn_advantages(&t, 2.0, false, tok) == 2.0);
    for (int j = 0; j < 7; j++) assert_true(tok[j] == 2.0);
    t.choice = NULL, t.action = VKT_ACTION_INVALID, t.n_resp = 3;
    assert_true(vkt_rl_turn_advantages(&t, 1.25, false, tok) == 1.25);
    assert_true(vkt_rl_turn_advantages(&t, 1.25, true, tok) == 0.0);
    for (int j = 0; j < 3; j++) assert_true(tok[j] == 0.0);
    assert_true(vkt_rl_turn_advantages(&t, -1.25, true, NULL) == -1.25);
}

// Format credit: sampling is unchanged; a sampled response that is one of the turn's legal
// answers token for token gets `choice` (Kuhn's answers part at their second token: 'C'heck
// / 'B'et, 'F'old / 'C'all); any other response has none (a cut "[Che", or "[Check]" facing
// a bet).
static void test_format_credit(void **st) {
    (void)st;
    vkt_ctx *ctx = test_ctx();
    vkt_model *m = tiny_model(ctx);
    vkt_gen *gen;
    TEST_OK(ctx, vkt_gen_create(m, 8, 0, 0, &gen));
    enum { G = 24 };
    vkt_rl_rollout_opts o, of;
    opts_for(&o, G, 40);
    o.game = "kuhn", o.gen.on_logits = constrain_check;
    of = o;
    of.format_credit = true;
    vkt_rl_rollout r, rf;
    TEST_OK(ctx, vkt_rl_rollout_run(m, gen, &o, &r));
    TEST_OK(ctx, vkt_rl_rollout_run(m, gen, &of, &rf));
    assert_int_equal(r.n_turns, rf.n_turns);
    int credited = 0, other = 0;
    for (int k = 0; k < rf.n_turns; k++) {
        const vkt_rl_turn *a = &r.turns[k], *t = &rf.turns[k];
        assert_int_equal(a->n_resp, t->n_resp);
        assert_memory_equal(a->resp, t->resp, (size_t)t->n_resp * 4);
        assert_int_equal(a->action, t->action);
        assert_null(a->choice);
        assert_false(t->forced);
        assert_int_equal(t->n_legal, 2);
        int match = -1;
        for (int i = 0; i < t->n_legal; i++)
            if (t->legal_off[i + 1] - t->legal_off[i] == t->n_resp &&
                !memcmp(t->legal_tok + t->legal_off[i], t->resp, (size_t)t->n_resp * 4))
                match = i;
        if (match < 0) {
            assert_null(t->choice);
            other++;
            continue;
        }
        assert_non_null(t->choice);
        assert_true(t->action != VKT_ACTION_INVALID);
        for (int i = 0; i < t->n_resp; i++) assert_int_equal(t->choice[i], i == 1);
        credited++;
    }
    print_message("format credit: %d legal answers credited, %d other responses\n", credited,
                  other);
    assert_true(credited > 0 && other > 0);
    vkt_rl_rollout_free(&r), vkt_rl_rollout_free(&rf);
    vkt_gen_destroy(gen);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_equals_sequential),
        cmocka_unit_test(test_mix_and_replays),
        cmocka_unit_test(test_explore_all),
        cmocka_unit_test(test_format_credit),
        cmocka_unit_test(test_turn_advantages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
