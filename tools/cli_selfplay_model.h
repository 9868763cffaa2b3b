// cli_selfplay_model.h: the model a `vkt selfplay` run trains: a new one, or one from a
// checkpoint: a pretrained base with fresh LoRA adapters, or a resumed run's model (its
// weights and AdamW moments, or its adapters over the base they were trained on, checked
// file by file: trainer/model/lora_resume.h). Each reports into ctx (vkt_ctx_message).
#ifndef VKT_CLI_SELFPLAY_MODEL_H
#define VKT_CLI_SELFPLAY_MODEL_H

#include <jansson.h>
#include <stddef.h>

#include "model.h"

// A new model for self-play (the preset, or a custom gpt2 of 2 layers, width 64, without one;
// layers, width, heads > 0 override its shape) of `context` tokens, initialised from seed.
// On failure *m may be set: the caller closes it.
vkt_status cli_sp_new_model(vkt_ctx *ctx, const char *preset, int layers, int width, int heads,
                            int context, uint64_t seed, vkt_model **m);
// init frozen (16-bit where its checkpoint is) with fresh adapters of `rank` on every
// projection (alpha, seeded from seed), and *base_id the base's identity.
vkt_status cli_sp_open_lora(vkt_ctx *ctx, const char *init, int rank, double alpha, uint64_t seed,
                            vkt_model **m, json_t **base_id);
// The model saved in src with its moments. A LoRA run's base directory goes to base[n] (""
// otherwise) and its identity to *base_id (NULL otherwise): vkt_train_load_resumable
// (train_init.h), as `vkt train --resume` loads it.
vkt_status cli_sp_resume_model(vkt_ctx *ctx, const char *src, uint64_t seed, vkt_model **m,
                               char *base, size_t n, json_t **base_id);

#endif
