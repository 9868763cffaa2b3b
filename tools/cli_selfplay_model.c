// cli_selfplay_model.c: the checkpointed models of `vkt selfplay` (see cli_selfplay_model.h).
#include <stdio.h>
#include <unistd.h>

#include "cli_selfplay_model.h"
#include "context.h"
#include "lora_resume.h"
#include "train_init.h"

vkt_status cli_sp_new_model(vkt_ctx *ctx, const char *preset, int layers, int width, int heads,
                            int context, uint64_t seed, vkt_model **m) {
    vkt_error *err = vkt_ctx_err(ctx);
    vkt_model_config cfg;
    VKT_TRY(vkt_model_preset(preset ? preset : "gpt2-tiny", &cfg, err));
    if (!preset) cfg.layers = 2, cfg.width = 64, cfg.heads = 4, cfg.kv_heads = 4, cfg.ffn = 256;
    cfg.context = context;
    vkt_model_config_reshape(&cfg, layers, width, heads, 0);
    VKT_TRY(vkt_model_config_check(&cfg, err));
    VKT_TRY(vkt_model_create(ctx, &cfg, m));
    return vkt_model_init(*m, seed);
}

vkt_status cli_sp_open_lora(vkt_ctx *ctx, const char *init, int rank, double alpha, uint64_t seed,
                            vkt_model **m, json_t **base_id) {
    vkt_train_opts to;
    vkt_train_defaults(&to);
    to.init = init, to.lora_rank = rank, to.lora_alpha = (float)alpha, to.seed = seed;
    vkt_tok *t = NULL;
    vkt_status st = vkt_train_open_init(ctx, &to, m, &t);
    vkt_tok_free(t);
    if (st == VKT_OK) st = vkt_lora_base_identity(init, base_id, vkt_ctx_err(ctx));
    return st;
}

vkt_status cli_sp_resume_model(vkt_ctx *ctx, const char *src, uint64_t seed, vkt_model **m,
                               char *base, size_t n, json_t **base_id) {
    base[0] = 0, *base_id = NULL;
    char path[4200];
    snprintf(path, sizeof path, "%s/adapter_config.json", src);
    // A LoRA run resumes on the base it was trained on, checked file by file.
    if (access(path, F_OK) == 0) VKT_TRY(vkt_lora_resume_base(src, base, n, vkt_ctx_err(ctx)));
    vkt_train_opts to;
    vkt_train_defaults(&to);
    to.seed = seed;
    return vkt_train_load_resumable(ctx, src, base, &to, m, NULL, base_id);
}
