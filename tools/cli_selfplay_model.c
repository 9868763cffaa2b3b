// cli_selfplay_model.c: the checkpointed models of `vkt selfplay` (see cli_selfplay_model.h).
#include <stdlib.h>
#include <unistd.h>

#include "checkpoint.h"
#include "cli_selfplay_model.h"
#include "context.h"
#include "lora_resume.h"
#include "train_init.h"

vkt_status cli_sp_new_model(vkt_ctx *ctx, const char *preset, int layers, int width, int heads,
                            int context, uint64_t seed, vkt_model **m, vkt_error *err) {
    vkt_model_config cfg;
    VKT_TRY(vkt_model_preset(preset ? preset : "gpt2-tiny", &cfg, err));
    if (!preset) cfg.layers = 2, cfg.width = 64, cfg.heads = 4, cfg.kv_heads = 4, cfg.ffn = 256;
    cfg.context = context;
    vkt_model_config_reshape(&cfg, layers, width, heads, 0);
    VKT_TRY(vkt_model_config_check(&cfg, err));
    vkt_status st = vkt_model_create(ctx, &cfg, m, err);
    if (st != VKT_OK || !*m)
        return err->msg[0] ? VKT_ERR_VULKAN
                           : vkt_fail(err, VKT_ERR_VULKAN, "model: %s", vkt_ctx_message(ctx));
    if (vkt_model_init(*m, seed) != VKT_OK)
        return vkt_fail(err, VKT_ERR_VULKAN, "%s", vkt_ctx_message(ctx));
    return VKT_OK;
}

vkt_status cli_sp_open_lora(vkt_ctx *ctx, const char *init, int rank, double alpha, uint64_t seed,
                            vkt_model **m, json_t **base_id, vkt_error *err) {
    vkt_train_opts to;
    vkt_train_defaults(&to);
    to.init = init, to.lora_rank = rank, to.lora_alpha = (float)alpha, to.seed = seed;
    vkt_tok *t = NULL;
    vkt_status st = vkt_train_open_init(ctx, &to, m, &t, err);
    vkt_tok_free(t);
    if (st == VKT_OK) st = vkt_lora_base_identity(init, base_id, err);
    return st;
}

vkt_status cli_sp_resume_model(vkt_ctx *ctx, const char *src, uint64_t seed, vkt_model **m,
                               char *base, size_t n, json_t **base_id, vkt_error *err) {
    base[0] = 0, *base_id = NULL;
    char path[4200];
    snprintf(path, sizeof path, "%s/adapter_config.json", src);
    if (access(path, F_OK) == 0) {
        VKT_TRY(vkt_lora_resume_base(src, base, n, err));
        vkt_train_opts to;
        vkt_train_defaults(&to);
        to.init = base, to.adapter = src, to.seed = seed;
        vkt_tok *t = NULL;
        vkt_status st = vkt_train_open_init(ctx, &to, m, &t, err);
        vkt_tok_free(t);
        if (st == VKT_OK) st = vkt_lora_load_optim(vkt_model_lora(*m), src, err);
        if (st == VKT_OK) st = vkt_lora_base_identity(base, base_id, err);
        return st;
    }
    VKT_TRY(vkt_checkpoint_load_model(ctx, src, m, err));
    const vkt_params *ps = vkt_model_params(*m);
    float *m1 = malloc(ps->total * 4), *m2 = malloc(ps->total * 4);
    vkt_status st = m1 && m2 ? vkt_checkpoint_read_optim(src, ps, m1, m2, err)
                             : vkt_fail(err, VKT_ERR_NOMEM, "moments");
    if (st == VKT_OK && vkt_model_set_optim(*m, m1, m2) != VKT_OK)
        st = vkt_fail(err, VKT_ERR_VULKAN, "%s", vkt_ctx_message(ctx));
    free(m1), free(m2);
    return st;
}
