// train_init.h: starting a training run from a pretrained checkpoint (train.h's init and
// lora_* options) or from a run's own checkpoint (resuming), and writing the merged model of
// a LoRA run.
#ifndef VKT_TRAIN_INIT_H
#define VKT_TRAIN_INIT_H

#include <jansson.h>

#include "model.h"
#include "tok.h"
#include "train.h"

// The model of o->init (o->cfg set from its config.json) and its tokenizer: fp32 with
// gradients, or with o->lora_rank > 0 frozen (16-bit when the checkpoint is) with fresh
// adapters attached (vkt_model_lora), seeded from o->seed.
vkt_status vkt_train_open_init(vkt_ctx *ctx, vkt_train_opts *o, vkt_model **m, vkt_tok **tkz);
// The model of a run saved in checkpoint DIR with its optimizer state, as a resumed run
// continues it (`vkt train --resume`, `vkt selfplay --resume`). base NULL or "": a full run,
// DIR's fp32 weights with the AdamW moments of DIR/optimizer.safetensors, o->cfg set from
// them, and DIR's tokenizer. Else a LoRA run on base, which the caller has found and checked
// with vkt_lora_resume_base(DIR) (lora_resume.h): base frozen (16-bit when its checkpoint is)
// under DIR's adapters, dropout seeded from o->seed, with their moments
// (DIR/adapter_optimizer.safetensors); o->init = base, o->cfg and o->lora_* set as
// vkt_train_open_init does; the base's tokenizer; *base_id the base's identity (NULL for a
// full run). tkz may be NULL (no tokenizer wanted). On failure nothing is left open.
vkt_status vkt_train_load_resumable(vkt_ctx *ctx, const char *dir, const char *base,
                                    vkt_train_opts *o, vkt_model **m, vkt_tok **tkz,
                                    json_t **base_id);
// "MODEL: 0.6 B parameters, weights bf16 (frozen): 1.19 GiB on the device; LoRA rank 8 on 196
// modules: 10.1 M parameters" (what the run holds before its activations).
void vkt_train_describe_init(const vkt_model *m, const char *init, char *out, size_t n);
// Device bytes a run holds at a micro-batch of B x T tokens: the weights (with their training
// state), the adapters with AdamW and their rows, and the activations (vkt_model_plan_bytes).
uint64_t vkt_train_run_bytes(vkt_model *m, int B, int T);
// Tells (o->notice) what the run will hold, and refuses (VKT_ERR_ARG, saying both sizes and
// the --batch/--accum or --seq that would fit) one whose bytes at o->batch x o->seq are more
// than o->device_memory, or when that is 0, the device's largest heap.
vkt_status vkt_train_check_fits(vkt_model *m, const vkt_train_opts *o);
// Destroys a model and the adapters attached to it.
void vkt_train_close_model(vkt_model *m);
// DIR/merged: the base with the adapters merged (W + alpha/r B A, fp32), config.json and the
// base's tokenizer files; written into DIR/.merged-tmp and renamed.
vkt_status vkt_train_write_merged(vkt_model *m, const char *init, const char *dir);

#endif
