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

static const cli_cmd CMD = {
    .name = "bench selfplay",
    .usage = "usage: vkt bench selfplay [--layers L --width C --heads H] [--games-per-update N]\n"
             "                          [--updates U] [--warmup-steps S] [--micro-rows R]\n"
             "                          [--ppo-epochs E] [common options]\n",
    .about =
        "Self-play throughput of the transformer loop: rollout decisions/s and generated\n"
        "tokens/s, and the update's scoring and training time, after a short format warm-up.\n",
};

int bench_selfplay(bench_env *env, int argc, char **argv) {
    long layers = 2, width = 64, heads = 4, gpu = 128, updates = 2, warm = 60, micro = 64,
         epochs = 2;
    const cli_opt table[] = {
        {"--layers", CLI_OPT_LONG, &layers, 1, 64, "L", .help = "blocks"},
        {"--width", CLI_OPT_LONG, &width, 8, 4096, "C", .help = "residual width (FFN 4C)"},
        {"--heads", CLI_OPT_LONG, &heads, 1, 64, "H", .help = "attention heads"},
        {"--games-per-update", CLI_OPT_LONG, &gpu, 1, 1 << 16, "N", .help = "games per update"},
        {"--updates", CLI_OPT_LONG, &updates, 1, 10000, "U", .help = "updates timed"},
        {"--warmup-steps", CLI_OPT_LONG, &warm, 0, 100000, "S",
         .help = "format warm-up steps before them"},
        {"--micro-rows", CLI_OPT_LONG, &micro, 1, 4096, "R", .help = "rows per micro-batch"},
        {"--ppo-epochs", CLI_OPT_LONG, &epochs, 1, 100, "E", .help = "PPO epochs per update"},
        BENCH_COMMON_OPTS(env),
    };
    int rc = cli_parse(&CMD, table, argc, argv);
    if (rc != CLI_OK) return rc;
    vkt_model_config cfg;
    vkt_error err = {0};
    vkt_model_preset("gpt2-tiny", &cfg, &err);
    cfg.layers = (int)layers, cfg.width = (int)width, cfg.ffn = 4 * (int)width,
    cfg.heads = cfg.kv_heads = (int)heads;
    cfg.context = 128;
    if (vkt_model_config_check(&cfg, &err) != VKT_OK)
        return cli_usage_error(CMD.name, "%s", err.msg);
    vkt_ctx *ctx;
    if ((rc = bench_device(env, &ctx)) != CLI_OK) return rc;
    const bench_opts *o = &env->o;
    vkt_model *m = NULL;
    if (vkt_model_create(ctx, &cfg, &m) != VKT_OK)
        return cli_fail("bench", "selfplay: %s", vkt_ctx_message(ctx));
    vkt_rl_sp_opts so;
    vkt_rl_sp_defaults(&so);
    so.games_per_update = (int)gpu, so.micro_rows = (int)micro, so.ppo_epochs = (int)epochs;
    vkt_rl_sp s;
    memset(&s, 0, sizeof s);
    vkt_status st = vkt_model_init(m, 1);
    if (st == VKT_OK && warm > 0) st = vkt_rl_warmup(m, "kuhn", NULL, (int)warm, 64, 1e-2, 1, NULL);
    if (st == VKT_OK) st = vkt_rl_sp_init(&s, m, &so);
    double roll = 0, score = 0, train = 0;
    long dec = 0, tok = 0, kept = 0;
    for (long u = 0; st == VKT_OK && u < updates; u++) {
        vkt_rl_sp_stats us;
        st = vkt_rl_sp_update(&s, &us);
        if (st != VKT_OK) break;
        roll += us.rollout_s, score += us.score_s, train += us.train_s;
        dec += us.decisions, tok += us.gen_tokens, kept += us.kept;
    }
    if (st != VKT_OK) {
        rc = cli_fail("bench", "selfplay: %s", vkt_ctx_message(ctx));
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
