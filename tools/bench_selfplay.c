// bench_selfplay.c: self-play throughput of the transformer loop (trainer/rl/rl_selfplay.h):
// rollouts (decisions/s, generated tokens/s: batched generation, one call per decision
// step) and the update (old-logprob scoring + PPO epochs of weighted-CE forward/backward
// + Adam), on the default selfplay model (GPT-2, 2 layers, width 64) after a short format
// warm-up so the answers have their trained lengths.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cli.h"
#include "rl_selfplay.h"

int bench_selfplay(vkt_ctx *ctx, const bench_opts *o, int argc, char **argv) {
    long layers = 2, width = 64, heads = 4, gpu = 128, updates = 2, warm = 60, micro = 64,
         epochs = 2;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int m = 0;
        if (0) {}
#define INT(flag, var, lo, hi)                                                                     \
    else if ((m = cli_value(argc, argv, &i, flag, &v)) != 0) {                                     \
        if (m < 0 || !cli_int("bench selfplay", flag, v, lo, hi, &var)) return CLI_USAGE;          \
    }
        INT("--layers", layers, 1, 64)
        INT("--width", width, 8, 4096)
        INT("--heads", heads, 1, 64)
        INT("--games-per-update", gpu, 1, 1 << 16)
        INT("--updates", updates, 1, 10000)
        INT("--warmup-steps", warm, 0, 100000)
        INT("--micro-rows", micro, 1, 4096)
        INT("--ppo-epochs", epochs, 1, 100)
#undef INT
        else return cli_usage_error("bench", "selfplay: unknown option '%s'", argv[i]);
    }
    vkt_model_config cfg;
    vkt_error err = {0};
    vkt_model_preset("gpt2-tiny", &cfg, &err);
    cfg.layers = (int)layers, cfg.width = (int)width, cfg.ffn = 4 * (int)width,
    cfg.heads = cfg.kv_heads = (int)heads;
    cfg.context = 128;
    if (vkt_model_config_check(&cfg, &err) != VKT_OK)
        return cli_usage_error("bench", "selfplay: %s", err.msg);
    vkt_model *m = NULL;
    if (vkt_model_create(ctx, &cfg, &m, &err) != VKT_OK)
        return cli_fail("bench", "selfplay: %s", err.msg);
    vkt_rl_sp_opts so;
    vkt_rl_sp_defaults(&so);
    so.games_per_update = (int)gpu, so.micro_rows = (int)micro, so.ppo_epochs = (int)epochs;
    vkt_rl_sp s;
    memset(&s, 0, sizeof s);
    vkt_status st = vkt_model_init(m, 1);
    if (st == VKT_OK && warm > 0)
        st = vkt_rl_warmup(m, "kuhn", NULL, (int)warm, 64, 1e-2, 1, NULL, &err);
    if (st == VKT_OK) st = vkt_rl_sp_init(&s, m, &so, &err);
    double roll = 0, score = 0, train = 0;
    long dec = 0, tok = 0, kept = 0;
    for (long u = 0; st == VKT_OK && u < updates; u++) {
        vkt_rl_sp_stats us;
        st = vkt_rl_sp_update(&s, &us, &err);
        if (st != VKT_OK) break;
        roll += us.rollout_s, score += us.score_s, train += us.train_s;
        dec += us.decisions, tok += us.gen_tokens, kept += us.kept;
    }
    int rc = CLI_OK;
    if (st != VKT_OK) {
        rc = cli_fail("bench", "selfplay: %s (%s)", err.msg, vkt_ctx_message(ctx));
    } else {
        double per = 1.0 / (double)updates;
        if (o->json)
            printf(
                "{\"op\": \"selfplay\", \"layers\": %ld, \"width\": %ld, \"games_per_update\": "
                "%ld, \"updates\": %ld, "
                "\"decisions_per_s\": %.1f, \"gen_tokens_per_s\": %.1f, \"rollout_s\": %.3f, "
                "\"score_s\": %.3f, "
                "\"train_s\": %.3f, \"update_s\": %.3f, \"kept_rows\": %.1f, \"device\": \"%s\"}\n",
                layers, width, gpu, updates, dec / roll, tok / roll, roll * per, score * per,
                train * per, (roll + score + train) * per, kept * per, vkt_ctx_profile(ctx)->name);
        else {
            printf("device: %s\n", vkt_ctx_profile(ctx)->name);
            printf("selfplay  L=%ld C=%ld, %ld games/update, %ld PPO epochs, micro-batch %ld rows, "
                   "%ld updates\n",
                   layers, width, gpu, epochs, micro, updates);
            printf("  rollout   %7.3f s/update  %8.1f decisions/s  %8.1f generated tokens/s (%.1f "
                   "decisions, %.1f tokens per update)\n",
                   roll * per, dec / roll, tok / roll, dec * per, tok * per);
            printf("  score     %7.3f s/update  (old and per-epoch logprobs, teacher forced)\n",
                   score * per);
            printf("  train     %7.3f s/update  (%.1f kept rows x %ld epochs: weighted-CE fwd/bwd "
                   "+ Adam)\n",
                   train * per, kept * per, epochs);
            printf("  total     %7.3f s/update  %8.1f games/s\n", (roll + score + train) * per,
                   gpu / ((roll + score + train) * per));
        }
    }
    vkt_rl_sp_free(&s);
    vkt_model_destroy(m);
    return rc;
}
