// train_init.h: starting a training run from a pretrained checkpoint (train.h's init and
// lora_* options), and writing the merged model of a LoRA run.
#ifndef VKT_TRAIN_INIT_H
#define VKT_TRAIN_INIT_H

#include "model.h"
#include "tok.h"
#include "train.h"

// The model of o->init (o->cfg set from its config.json) and its tokenizer: fp32 with
// gradients, or with o->lora_rank > 0 frozen (16-bit when the checkpoint is) with fresh
// adapters attached (vkt_model_lora), seeded from o->seed.
vkt_status vkt_train_open_init(vkt_ctx *ctx, vkt_train_opts *o, vkt_model **m, vkt_tok **tkz,
                               vkt_error *err);
// "MODEL: 0.6 B parameters, weights bf16 (frozen): 1.19 GiB on the device; LoRA rank 8 on 196
// modules: 10.1 M parameters" (what the run holds before its activations).
void vkt_train_describe_init(const vkt_model *m, const char *init, char *out, size_t n);
// Device bytes a run holds at a micro-batch of B x T tokens: the weights (with their training
// state), the adapters with AdamW and their rows, and the activations (vkt_model_plan_bytes).
uint64_t vkt_train_run_bytes(vkt_model *m, int B, int T);
// Tells (o->notice) what the run will hold, and refuses (VKT_ERR_ARG, saying both sizes and
// the --batch/--accum or --seq that would fit) one whose bytes at o->batch x o->seq are more
// than o->device_memory, or when that is 0, the device's largest heap.
vkt_status vkt_train_check_fits(vkt_model *m, const vkt_train_opts *o, vkt_error *err);
// Destroys a model and the adapters attached to it.
void vkt_train_close_model(vkt_model *m);
// DIR/merged: the base with the adapters merged (W + alpha/r B A, fp32), config.json and the
// base's tokenizer files; written into DIR/.merged-tmp and renamed.
vkt_status vkt_train_write_merged(vkt_model *m, const char *init, const char *dir, vkt_error *err);

#endif
