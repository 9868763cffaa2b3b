// test_selfplay_think.c: thinking before a \boxed{} answer (`vkt selfplay --think-tokens N`):
//   - the format: the prompt suffix (exact text, snprintf semantics, think 0 unchanged),
//     boxed answers that parse back, each game's boxed answer within its budget + 8;
//   - the length checks: Kuhn fits the 128-token context up to N = 40, negotiation not at
//     all, offswitch is refused, policy_samples is checked only when thinking;
//   - the warm-up data in the thinking format (suffixed prompts, \boxed{} completions);
//   - on the device (tiny GPT-2, 1 layer, width 32): a Kuhn run at N = 4: responses of an
//     untrained model run to exactly N + the answer budget; after the warm-up the answers
//     are mostly immediate \boxed{} moves that parse to the actions played; updates train,
//     and a resumed run (the sampled policy average included) is bit-identical;
//   - sampled extraction on a planted policy: a model fitted to answer \boxed{Bet} with
//     state-dependent probabilities; the sampled policy agrees with the teacher-forced one
//     within sampling error, and disagrees with it once the states are shuffled;
//   - the CLI: --think-tokens / --policy-samples in the JSON summary and run_options.json,
//     kept by --resume, and refused where they cannot work (exit 2 before a device).
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>

#include "kuhn.h"
#include "protocol.h"
#include "rl_batch.h"
#include "rl_mix.h"
#include "rl_prompt.h"
#include "rl_rollout.h"
#include "rl_selfplay.h"
#include "support_cli.h"
#include "support_files.h"
#include "support_gpu.h"
#include "support_model.h"
#include "tokenizer.h"

static const char *hists[4] = {"", "p", "b", "pb"};

// Kuhn information state i (kuhn_policy.h's index) dealt into g; returns the player to move.
static int kuhn_state(vkt_game *g, int i) {
    int card = i / 4, player = vkt_kuhn_infostate_player(i), other = (card + 1) % 3;
    assert_int_equal(vkt_game_create(g, "kuhn", NULL), VKT_OK);
    assert_int_equal(vkt_game_reset(g, 0, NULL), VKT_OK);
    assert_int_equal(vkt_kuhn_set_hand(g, player == 0 ? card : other, player == 0 ? other : card,
                                       hists[i % 4], NULL),
                     VKT_OK);
    return player;
}

// --- the format (no device) ------------------------------------------------------------

static void test_think_format(void **st) {
    (void)st;
    vkt_game g;
    int p = kuhn_state(&g, 8); // K, first to act
    char buf[256], base[256];
    size_t n = vkt_rl_prompt_think(&g, p, 8, buf, sizeof buf);
    assert_string_equal(buf,
                        "Kuhn P0 hist - moves [Check] [Bet] card K think<=8 then \\boxed{move}\n");
    assert_int_equal(n, strlen(buf));
    assert_int_equal(vkt_rl_think_suffix(8, NULL, 0), 27);
    assert_int_equal(vkt_rl_think_suffix(0, NULL, 0), 0);
    // think 0 is the plain prompt; every Kuhn state: base without its newline + suffix + newline.
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) {
        p = kuhn_state(&g, i);
        size_t nb = vkt_rl_prompt(&g, p, base, sizeof base);
        assert_int_equal(vkt_rl_prompt_think(&g, p, 0, buf, sizeof buf), nb);
        assert_string_equal(buf, base);
        for (int think = 1; think <= 40; think += 13) {
            char want[256], suf[64];
            size_t ns = vkt_rl_think_suffix(think, suf, sizeof suf);
            snprintf(want, sizeof want, "%.*s%s\n", (int)nb - 1, base, suf);
            n = vkt_rl_prompt_think(&g, p, think, buf, sizeof buf);
            assert_string_equal(buf, want);
            assert_int_equal(n, nb + ns);
            // snprintf semantics: every capacity gives the full length and a prefix of the text.
            for (size_t cap = 1; cap <= n + 1; cap++) {
                char small[256];
                memset(small, 'x', sizeof small);
                assert_int_equal(vkt_rl_prompt_think(&g, p, think, small, cap), n);
                assert_int_equal(strlen(small), cap - 1);
                assert_memory_equal(small, want, cap - 1);
            }
            // The answers: \boxed{Text} + <|endoftext|>, parsed back to their action.
            for (int a = 0; a < 2; a++) {
                char ans[64], plain[64];
                int got = -1, ids[32], na = 0;
                assert_int_equal(vkt_rl_answer_think(&g, a, think, ans, sizeof ans, NULL), VKT_OK);
                assert_int_equal(vkt_rl_answer(&g, a, plain, sizeof plain, NULL), VKT_OK);
                assert_memory_equal(ans, "\\boxed{", 7);
                assert_non_null(strstr(want, plain)); // the moves list names it
                assert_int_equal(strlen(ans), strlen(plain) + 6);
                assert_int_equal(vkt_protocol_parse(&g, ans, strlen(ans), &got, NULL), VKT_OK);
                assert_int_equal(got, a);
                assert_int_equal(
                    vkt_rl_answer_tokens(&g, a, &(vkt_rl_fmt){.think = think}, ids, 32, &na, NULL),
                    VKT_OK);
                assert_int_equal(na, (int)strlen(ans) + 1);
                assert_int_equal(ids[na - 1], VKT_TOK_EOT);
            }
        }
    }
    // Every game's boxed answers fit its answer budget + VKT_RL_BOXED_EXTRA (random play).
    vkt_rl_mix mx;
    assert_int_equal(vkt_rl_mix_parse("kuhn,tictactoe,negotiation,offswitch", &mx, NULL), VKT_OK);
    for (int k = 0; k < mx.n; k++) {
        vkt_rng rng;
        vkt_rng_seed(&rng, 5);
        int longest = 0;
        for (int game = 0; game < 200; game++) {
            assert_int_equal(vkt_game_create(&g, mx.g[k].spec, NULL), VKT_OK);
            assert_int_equal(vkt_game_reset(&g, (uint64_t)game, NULL), VKT_OK);
            while (!vkt_game_is_terminal(&g)) {
                int acts[VKT_GAME_MAX_LEGAL], nl = vkt_game_legal_actions(&g, acts), ids[64], na;
                for (int j = 0; j < nl; j++) {
                    assert_int_equal(vkt_rl_answer_tokens(&g, acts[j], &(vkt_rl_fmt){.think = 3},
                                                          ids, 64, &na, NULL),
                                     VKT_OK);
                    if (na > longest) longest = na;
                }
                assert_int_equal(vkt_game_apply(&g, vkt_rl_random_action(&g, &rng), NULL), VKT_OK);
            }
        }
        print_message("%s: longest boxed answer %d tokens, budget %d + %d\n", mx.g[k].name, longest,
                      mx.g[k].max_new_tokens, VKT_RL_BOXED_EXTRA);
        assert_true(longest <= mx.g[k].max_new_tokens + VKT_RL_BOXED_EXTRA);
        assert_true(longest > mx.g[k].max_new_tokens - 8); // the bound is not loose by a whole step
    }
}

static void test_think_checks(void **st) {
    (void)st;
    vkt_error err = {0};
    vkt_rl_sp_opts o;
    vkt_rl_sp_defaults(&o);
    assert_int_equal(o.think_tokens, 0);
    assert_int_equal(o.policy_samples, 64);
    // Kuhn: 44 + 26 + 2 prompt tokens + N thinking + 16 answer tokens <= 128: N <= 40.
    o.think_tokens = 40;
    assert_int_equal(vkt_rl_sp_check(&o, 128, &err), VKT_OK);
    o.think_tokens = 41;
    assert_int_equal(vkt_rl_sp_check(&o, 128, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "'kuhn': think_tokens 41"));
    assert_non_null(strstr(err.msg, "context of 128"));
    // Negotiation's 89-token prompts leave no room for thinking and a 40-token boxed offer.
    o.game = "negotiation", o.think_tokens = 1;
    assert_int_equal(vkt_rl_sp_check(&o, 128, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "'negotiation'"));
    assert_int_equal(vkt_rl_sp_check(&o, 256, &err), VKT_OK);
    o.game = "tictactoe,offswitch";
    assert_int_equal(vkt_rl_sp_check(&o, 256, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "'offswitch'"));
    o.game = "kuhn", o.think_tokens = -1;
    assert_int_equal(vkt_rl_sp_check(&o, 128, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "think_tokens -1"));
    o.think_tokens = 4, o.policy_samples = 0;
    assert_int_equal(vkt_rl_sp_check(&o, 128, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "policy_samples 0"));
    o.think_tokens = 0; // not used without thinking
    assert_int_equal(vkt_rl_sp_check(&o, 128, &err), VKT_OK);
}

static void test_think_warmup_data(void **st) {
    (void)st;
    FILE *f = tmpfile(), *f0 = tmpfile();
    assert_non_null(f);
    assert_non_null(f0);
    int64_t lines = 0, lines0 = 0;
    assert_int_equal(vkt_rl_warmup_write_think(f, "kuhn", 4, 200, 9, &lines, NULL), VKT_OK);
    assert_int_equal(vkt_rl_warmup_write(f0, "kuhn", 200, 9, &lines0, NULL), VKT_OK);
    assert_int_equal(lines, lines0); // the same games and moves, in the other format
    rewind(f), rewind(f0);
    char line[1024], line0[1024];
    int64_t n = 0;
    while (fgets(line, sizeof line, f)) {
        assert_non_null(fgets(line0, sizeof line0, f0));
        json_error_t je;
        json_t *j = json_loads(line, 0, &je), *j0 = json_loads(line0, 0, &je);
        assert_non_null(j);
        assert_non_null(j0);
        const char *pr = json_string_value(json_object_get(j, "prompt"));
        const char *co = json_string_value(json_object_get(j, "completion"));
        const char *pr0 = json_string_value(json_object_get(j0, "prompt"));
        const char *co0 = json_string_value(json_object_get(j0, "completion"));
        // prompt = the plain prompt with the suffix before its newline; completion = \boxed{Move}.
        char want[256];
        snprintf(want, sizeof want, "%.*s think<=4 then \\boxed{move}\n", (int)strlen(pr0) - 1,
                 pr0);
        assert_string_equal(pr, want);
        snprintf(want, sizeof want, "\\boxed{%.*s}", (int)strlen(co0) - 2, co0 + 1);
        assert_string_equal(co, want);
        json_decref(j), json_decref(j0);
        n++;
    }
    assert_int_equal(n, lines);
    fclose(f), fclose(f0);
}

// --- on the device ------------------------------------------------------------------------

// A response's text (byte tokens; <|endoftext|> ends it).
static size_t resp_text(const vkt_rl_turn *t, char *out, size_t cap) {
    size_t n = 0;
    for (int j = 0; j < t->n_resp && t->resp[j] < 256 && n + 1 < cap; j++)
        out[n++] = (char)t->resp[j];
    out[n] = 0;
    return n;
}

typedef struct rollout_facts {
    int turns, invalid, longest, at_cap, boxed_first, valid;
} rollout_facts;

// One Kuhn rollout at think 4 with the run's budget; checks every turn's prompt suffix and
// that each valid response's move is the action played.
static rollout_facts think_rollout(vkt_ctx *ctx, vkt_model *m, const vkt_rl_sp *s, int64_t base) {
    vkt_rl_rollout_opts ro;
    vkt_rl_rollout_defaults(&ro);
    ro.game = "kuhn", ro.n_games = 24, ro.game_base = base, ro.seed = 13,
    ro.fmt = &(vkt_rl_fmt){.think = 4};
    ro.gen.max_new_tokens = s->max_new_tokens, ro.gen.temperature = 1.0;
    vkt_rl_rollout r;
    TEST_OK(ctx, vkt_rl_rollout_run(m, s->gen, &ro, &r));
    rollout_facts f = {0};
    const char *suffix = " think<=4 then \\boxed{move}\n";
    const int ns = (int)strlen(suffix);
    for (int k = 0; k < r.n_turns; k++) {
        const vkt_rl_turn *t = &r.turns[k];
        assert_true(t->n_prompt > ns);
        for (int j = 0; j < ns; j++)
            assert_int_equal(t->prompt[t->n_prompt - ns + j], (unsigned char)suffix[j]);
        assert_true(t->n_resp >= 1 && t->n_resp <= s->max_new_tokens);
        if (t->n_resp > f.longest) f.longest = t->n_resp;
        f.at_cap += t->n_resp == s->max_new_tokens;
        f.turns++;
        if (t->action == VKT_ACTION_INVALID) {
            f.invalid++;
            continue;
        }
        char text[256], move[64];
        size_t n = resp_text(t, text, sizeof text);
        assert_true(vkt_protocol_extract(text, n, move, sizeof move));
        bool aggressive = !strcmp(move, "Bet") || !strcmp(move, "Call");
        assert_true(aggressive || !strcmp(move, "Check") || !strcmp(move, "Fold"));
        assert_int_equal(aggressive, t->action == VKT_KUHN_BET);
        f.valid++;
        f.boxed_first += strncmp(text, "\\boxed{", 7) == 0;
    }
    vkt_rl_rollout_free(&r);
    return f;
}

static void sp_opts(vkt_rl_sp_opts *o) {
    vkt_rl_sp_defaults(o);
    o->games_per_update = 16, o->micro_rows = 16, o->lr = 3e-3, o->seed = 7;
    o->think_tokens = 4, o->policy_samples = 8;
}

static void test_think_run(void **st) {
    (void)st;
    vkt_ctx *ctx = test_ctx();
    vkt_model *m = test_gpt2(ctx, 1, 128, 5);
    vkt_rl_sp_opts o;
    sp_opts(&o);
    vkt_rl_sp s;
    TEST_OK(ctx, vkt_rl_sp_init(&s, m, &o));
    // Budgets: "\boxed{Check}" + <|endoftext|> = 14 <= 8 + 8; 4 thinking tokens more.
    assert_int_equal(s.answer_tokens, 16);
    assert_int_equal(s.max_new_tokens, 20);
    assert_int_equal(s.o.pg.max_len, 20);
    assert_true(s.planned_T >= 44 + 27 + 20 - 1);
    // Untrained, the model rarely ends a response: they run to exactly the budget.
    rollout_facts f = think_rollout(ctx, m, &s, 0);
    print_message("before warm-up: %d turns, %d invalid, longest %d, %d at the cap\n", f.turns,
                  f.invalid, f.longest, f.at_cap);
    assert_int_equal(f.longest, 20);
    assert_true(f.at_cap > f.turns / 2);
    double before, after, loss;
    TEST_OK(ctx, vkt_rl_invalid_rate(m, s.gen, "kuhn", &(vkt_rl_fmt){.think = 4}, 24, 1000000, 11,
                                     s.max_new_tokens, &before));
    TEST_OK(ctx, vkt_rl_warmup(m, "kuhn", &(vkt_rl_fmt){.think = 4}, 60, 32, 1e-2, 3, &loss));
    TEST_OK(ctx, vkt_rl_invalid_rate(m, s.gen, "kuhn", &(vkt_rl_fmt){.think = 4}, 24, 1000000, 11,
                                     s.max_new_tokens, &after));
    print_message("invalid-move rate: before %.3f, after %.3f (answer loss %.4f)\n", before, after,
                  loss);
    assert_true(before > 0.9);
    assert_true(after < 0.35);
    f = think_rollout(ctx, m, &s, 100);
    print_message(
        "after warm-up: %d turns, %d invalid, %d of %d valid answers open with \\boxed{\n", f.turns,
        f.invalid, f.boxed_first, f.valid);
    assert_true(f.valid > 0 && f.boxed_first >= 0.8 * f.valid);
    // The warmed-up model as a game agent in its format (ckpt:DIR players): no teacher-forced
    // probs, and its sampled moves are legal about as often as in the rollouts above.
    vkt_agent ag;
    assert_int_equal(vkt_rl_model_agent(s.gen, &(vkt_rl_fmt){.think = -1}, &ag), VKT_ERR_ARG);
    TEST_OK(ctx, vkt_rl_model_agent(s.gen, &(vkt_rl_fmt){.think = 0}, &ag));
    assert_non_null(ag.probs);
    vkt_agent_destroy(&ag);
    int legal[2] = {0}; // the direct format's agent, then the thinking one
    for (int k = 0; k < 2; k++) {
        TEST_OK(ctx, vkt_rl_model_agent(s.gen, &(vkt_rl_fmt){.think = 4 * k}, &ag));
        if (k) assert_null(ag.probs);
        vkt_rng arng;
        vkt_rng_seed(&arng, 7);
        for (int i = 0; i < 48; i++) {
            vkt_game g;
            const int p = kuhn_state(&g, i % VKT_KUHN_INFOSTATES);
            int act;
            TEST_OK(ctx, ag.act(ag.self, &g, p, &arng, &act, vkt_ctx_err(ctx)));
            legal[k] += act != VKT_ACTION_INVALID;
        }
        vkt_agent_destroy(&ag);
    }
    print_message("agent moves legal of 48: direct format %d, thinking format %d\n", legal[0],
                  legal[1]);
    assert_true(legal[1] >= 24 && legal[1] > legal[0]); // measured: 30 and 0
    // RL updates (the warm-up re-planned the model: a fresh loop state, as the CLI does), and
    // resume: 2 updates straight == 1 + state file + a fresh model and loop + 1.
    vkt_rl_sp_free(&s);
    const vkt_params *ps = vkt_model_params(m);
    float *p0 = malloc(ps->total * 4), *pa = malloc(ps->total * 4), *pc = malloc(ps->total * 4),
          *m1 = malloc(ps->total * 4), *m2 = malloc(ps->total * 4), *c1 = malloc(ps->total * 4),
          *c2 = malloc(ps->total * 4);
    TEST_OK(ctx, vkt_model_get_params(m, p0));
    TEST_OK(ctx, vkt_rl_sp_init(&s, m, &o));
    vkt_rl_sp_stats us;
    int kept = 0;
    for (int u = 0; u < 2; u++) {
        TEST_OK(ctx, vkt_rl_sp_update(&s, &us));
        assert_true(us.gen_tokens <= us.decisions * 20 && us.gen_tokens > 0);
        kept += us.kept;
    }
    print_message("2 updates: %d kept turns, mean response %.1f tokens, avg weight %.0f\n", kept,
                  (double)us.gen_tokens / us.decisions, s.avg_den);
    assert_true(kept > 0);
    assert_true(s.avg_den == 2 * 16);
    TEST_OK(ctx, vkt_model_get_params(m, pa));
    TEST_OK(ctx, vkt_model_get_optim(m, m1, m2));
    vkt_model *b = test_gpt2(ctx, 1, 128, 99), *c = test_gpt2(ctx, 1, 128, 98);
    TEST_OK(ctx, vkt_model_set_params(b, p0));
    vkt_rl_sp sb, sc;
    TEST_OK(ctx, vkt_rl_sp_init(&sb, b, &o));
    TEST_OK(ctx, vkt_rl_sp_update(&sb, &us));
    const char *state = "test_selfplay_think_state.tmp.json";
    TEST_OK(ctx, vkt_rl_sp_save_state(&sb, state));
    TEST_OK(ctx, vkt_model_get_params(b, pc));
    TEST_OK(ctx, vkt_model_get_optim(b, c1, c2));
    TEST_OK(ctx, vkt_model_set_params(c, pc));
    TEST_OK(ctx, vkt_model_set_optim(c, c1, c2));
    TEST_OK(ctx, vkt_rl_sp_init(&sc, c, &o));
    TEST_OK(ctx, vkt_rl_sp_load_state(&sc, state));
    remove(state);
    TEST_OK(ctx, vkt_rl_sp_update(&sc, &us));
    TEST_OK(ctx, vkt_model_get_params(c, pc));
    TEST_OK(ctx, vkt_model_get_optim(c, c1, c2));
    assert_memory_equal(pa, pc, ps->total * 4);
    assert_memory_equal(m1, c1, ps->total * 4);
    assert_memory_equal(m2, c2, ps->total * 4);
    assert_memory_equal(s.avg_num, sc.avg_num, sizeof s.avg_num);
    assert_true(s.avg_den == sc.avg_den && s.games == sc.games && s.invalid == sc.invalid);
    vkt_rl_sp_free(&s), vkt_rl_sp_free(&sb), vkt_rl_sp_free(&sc);
    vkt_model_destroy(m), vkt_model_destroy(b), vkt_model_destroy(c);
    free(p0), free(pa), free(pc), free(m1), free(m2), free(c1), free(c2);
    test_ctx_done(ctx);
}

// Fits m to answer at once "\boxed{<aggressive>}" with probability want[i] at state i (the
// thinking-format prompt), else the passive answer: both answers of every state are rows,
// weighted by their target probabilities (the cross-entropy of the soft target).
static void plant(vkt_ctx *ctx, vkt_model *m, const double *want, int think, int steps) {
    enum { R = 2 * VKT_KUHN_INFOSTATES, NA = 24 };
    int32_t *pids[VKT_KUHN_INFOSTATES], ans[R][NA];
    int np[VKT_KUHN_INFOSTATES], na[R], wstart[R], ntok = 0, needT = 0;
    vkt_rl_seq seqs[R];
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) {
        vkt_game g;
        int p = kuhn_state(&g, i);
        TEST_OK(ctx, vkt_rl_prompt_tokens(&g, p, &(vkt_rl_fmt){.think = think}, &pids[i], &np[i],
                                          vkt_ctx_err(ctx)));
        for (int a = 0; a < 2; a++) {
            int r = 2 * i + a;
            TEST_OK(ctx, vkt_rl_answer_tokens(&g, a, &(vkt_rl_fmt){.think = think}, ans[r], NA,
                                              &na[r], vkt_ctx_err(ctx)));
            seqs[r] = (vkt_rl_seq){pids[i], np[i], ans[r], na[r]};
            wstart[r] = ntok, ntok += na[r];
            if (np[i] + na[r] - 1 > needT) needT = np[i] + na[r] - 1;
        }
    }
    double *w = malloc((size_t)ntok * sizeof *w);
    for (int r = 0; r < R; r++) {
        double q = r % 2 ? want[r / 2] : 1 - want[r / 2];
        for (int t = 0; t < na[r]; t++) w[wstart[r] + t] = q / VKT_KUHN_INFOSTATES;
    }
    const int T = (needT + 3) / 4 * 4;
    int32_t *tok = malloc((size_t)R * T * sizeof *tok), *tgt = malloc((size_t)R * T * sizeof *tgt);
    float *wt = malloc((size_t)R * T * sizeof *wt);
    TEST_OK(ctx, vkt_rl_pack(seqs, R, w, wstart, R, T, tok, tgt, wt, vkt_ctx_err(ctx)));
    TEST_OK(ctx, vkt_model_plan(m, R, T));
    vkt_optim opt = {3e-2f, 0.9f, 0.95f, 1e-8f, 0.0f, 1.0f, 1.0f};
    for (int step = 1; step <= steps; step++) {
        TEST_OK(ctx, vkt_model_set_batch(m, tok, tgt, wt));
        TEST_OK(ctx, vkt_model_forward(m, NULL, NULL));
        TEST_OK(ctx, vkt_model_backward(m, 1.0f));
        TEST_OK(ctx, vkt_model_adamw(m, &opt, step, NULL));
    }
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) free(pids[i]);
    free(w), free(tok), free(tgt), free(wt);
}

static void test_think_extraction(void **st) {
    (void)st;
    vkt_ctx *ctx = test_ctx();
    vkt_model *m = test_gpt2(ctx, 1, 128, 21);
    double want[VKT_KUHN_INFOSTATES];
    static const double by_hist[4] = {0.15, 0.85, 0.5,
                                      0.3}; // a tiny model learns the history first
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) want[i] = by_hist[i % 4] + 0.05 * (i / 4 - 1);
    plant(ctx, m, want, 4, 90);
    vkt_gen *gen;
    TEST_OK(ctx, vkt_gen_create(m, 512, 96, 4096, &gen)); // the 12 x K samples in few waves
    vkt_kuhn_policy tf, sp, tf0;
    double mass[VKT_KUHN_INFOSTATES], inv[VKT_KUHN_INFOSTATES];
    TEST_OK(ctx, vkt_rl_kuhn_policy(gen, &(vkt_rl_fmt){.think = 4}, &tf, mass));
    enum { K = 192 };
    TEST_OK(ctx, vkt_rl_kuhn_policy_sampled(gen, &(vkt_rl_fmt){.think = 4}, 20, K, 77, &sp, inv));
    double lo = 1, hi = 0, mean_mass = 0;
    int agree = 0, shuffled_off = 0;
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) {
        double p = tf.bet[i], valid = K * (1 - inv[i]);
        // Sampling error of the fraction, plus what answers other than the two immediate ones
        // (mass 1 - mass[i]) can move it among the valid answers.
        double tol = 4.5 * sqrt(fmax(p * (1 - p), 0.01) / fmax(valid, 1)) +
                     (1 - mass[i]) / fmax(1 - inv[i], 0.1) + 0.01;
        double d = fabs(sp.bet[i] - p), ds = fabs(sp.bet[i] - tf.bet[(i + 6) % 12]);
        print_message("%-4s planted %.3f teacher-forced %.3f (mass %.3f) sampled %.3f (invalid "
                      "%.3f) tol %.3f\n",
                      vkt_kuhn_infostate_name(i), want[i], p, mass[i], sp.bet[i], inv[i], tol);
        agree += d <= tol;
        shuffled_off += ds > tol;
        assert_true(inv[i] <= 1 - mass[i] + 4.5 * sqrt(0.25 / K) + 0.01);
        lo = fmin(lo, p), hi = fmax(hi, p), mean_mass += mass[i] / VKT_KUHN_INFOSTATES;
    }
    // The planting worked: immediate boxed answers, probabilities that differ by state.
    assert_true(mean_mass > 0.8);
    assert_true(hi - lo > 0.4);
    assert_int_equal(agree, VKT_KUHN_INFOSTATES);
    print_message("%d of 12 states agree; against the states shuffled, %d disagree\n", agree,
                  shuffled_off);
    assert_true(shuffled_off >= 6); // the comparison can tell states apart
    // The run's extraction: teacher forced without thinking (the same numbers as
    // vkt_rl_kuhn_policy).
    vkt_rl_sp_opts o;
    vkt_rl_sp_defaults(&o);
    o.games_per_update = 24;
    vkt_rl_sp s;
    TEST_OK(ctx, vkt_rl_sp_init(&s, m, &o));
    TEST_OK(ctx, vkt_rl_sp_kuhn_policy(&s, &tf0, inv));
    TEST_OK(ctx, vkt_rl_kuhn_policy(s.gen, NULL, &sp, mass));
    assert_memory_equal(&tf0, &sp, sizeof sp);
    for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) assert_true(inv[i] == 1 - mass[i]);
    vkt_rl_sp_free(&s);
    vkt_gen_destroy(gen);
    vkt_model_destroy(m);
    test_ctx_done(ctx);
}

// --- the CLI --------------------------------------------------------------------------------

static void test_think_cli(void **st) {
    (void)st;
    if (!test_cli_available()) skip();
    char args[1024], *out = NULL, *err = NULL;
    const char *dir = test_dir();
    const char *small =
        "--layers 1 --width 32 --heads 2 --warmup-steps 3 --warmup-rows 16 --eval-games 4";
    snprintf(args, sizeof args,
             "selfplay --think-tokens 4 --policy-samples 6 %s --games 16 --games-per-update 16 "
             "--out %s --json",
             small, dir);
    json_t *j = test_cli_json(args);
    assert_int_equal(json_integer_value(json_object_get(j, "think_tokens")), 4);
    assert_string_equal(json_string_value(json_object_get(j, "policy_extraction")), "sampled");
    assert_int_equal(json_integer_value(json_object_get(j, "policy_samples")), 6);
    double pinv = json_number_value(json_object_get(j, "policy_invalid"));
    double mrt = json_number_value(json_object_get(j, "mean_response_tokens"));
    assert_true(pinv >= 0 && pinv <= 1);
    assert_true(mrt > 0 && mrt <= 20);
    assert_int_equal(json_integer_value(json_object_get(j, "updates")), 1);
    json_decref(j);
    json_error_t je;
    j = json_load_file(test_path("run_options.json"), 0, &je);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "think_tokens")), 4);
    assert_int_equal(json_integer_value(json_object_get(j, "policy_samples")), 6);
    json_decref(j);
    // --resume takes the saved format.
    snprintf(args, sizeof args, "selfplay --resume --games 32 --out %s --json", dir);
    j = test_cli_json(args);
    assert_int_equal(json_integer_value(json_object_get(j, "think_tokens")), 4);
    assert_int_equal(json_integer_value(json_object_get(j, "policy_samples")), 6);
    assert_int_equal(json_integer_value(json_object_get(j, "updates")), 2);
    json_decref(j);
    // The run as an arena player: ckpt:DIR reads the format from DIR/run_options.json.
    snprintf(args, sizeof args,
             "arena --game kuhn --p0 ckpt:%s --p1 random --games 6 --seed 3 --json", dir);
    j = test_cli_json(args);
    assert_int_equal(json_integer_value(json_object_get(j, "games")), 6);
    json_decref(j);
    char bad[1024];
    snprintf(bad, sizeof bad, "%s/badopts", dir);
    assert_true(mkdir(bad, 0777) == 0 || errno == EEXIST);
    snprintf(args, sizeof args, "%s/run_options.json", bad);
    FILE *f = fopen(args, "w");
    assert_non_null(f);
    fputs("{\"think_tokens\": \"four\"}\n", f);
    fclose(f);
    snprintf(args, sizeof args, "arena --game kuhn --p0 ckpt:%s --p1 random --games 2", bad);
    assert_int_equal(test_cli(args, NULL, NULL, &err), 1);
    assert_non_null(strstr(err, "think_tokens"));
    free(err);
    // Without the flag: teacher forced, as before.
    snprintf(args, sizeof args, "selfplay %s --games 0 --out %s/plain --json", small, dir);
    j = test_cli_json(args);
    assert_int_equal(json_integer_value(json_object_get(j, "think_tokens")), 0);
    assert_string_equal(json_string_value(json_object_get(j, "policy_extraction")),
                        "teacher-forced");
    assert_null(json_object_get(j, "policy_samples"));
    json_decref(j);
    // Refused before a device is opened (exit 2), naming the cause.
    assert_int_equal(test_cli("selfplay --think-tokens 41 --games 1", NULL, NULL, &err), 2);
    assert_non_null(strstr(err, "think_tokens 41"));
    free(err);
    assert_int_equal(
        test_cli("selfplay --game offswitch --think-tokens 2 --games 1", NULL, NULL, &err), 2);
    assert_non_null(strstr(err, "'offswitch'"));
    free(err);
    assert_int_equal(test_cli("selfplay --think-tokens -1", NULL, NULL, &err), 2);
    free(err);
    assert_int_equal(test_cli("selfplay --policy tabular --think-tokens 2", NULL, NULL, &err), 2);
    free(err);
    assert_int_equal(test_cli("selfplay --help", NULL, &out, NULL), 0);
    assert_non_null(strstr(out, "--think-tokens N"));
    assert_non_null(strstr(out, "--policy-samples K"));
    free(out);
    // The warm-up data in the thinking format.
    snprintf(args, sizeof args, "selfplay --warmup-data %s/w.jsonl --think-tokens 3 --games 2",
             dir);
    assert_int_equal(test_cli(args, NULL, NULL, NULL), 0);
    size_t n;
    unsigned char *txt = test_read_all(test_path("w.jsonl"), &n);
    assert_non_null(
        strstr((char *)txt, "think<=3 then \\\\boxed{move}\\n\",\"completion\":\"\\\\boxed{"));
    free(txt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_think_format),
        cmocka_unit_test(test_think_checks),
        cmocka_unit_test(test_think_warmup_data),
        cmocka_unit_test(test_think_run),
        cmocka_unit_test(test_think_extraction),
        cmocka_unit_test_setup_teardown(test_think_cli, test_dir_setup, test_dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
