// train.h: the training loop behind `vkt train`: batches from a dataset, forward,
// weighted loss, backward, gradient accumulation, clipping, AdamW with warmup + cosine,
// periodic validation, DIR/metrics.jsonl, checkpoints, resume. The same seed on the same
// device gives the same weights, and a resumed run gives the same weights as an
// uninterrupted one.
#ifndef VKT_TRAIN_H
#define VKT_TRAIN_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "context.h"
#include "dataset.h"
#include "model_config.h"

typedef struct vkt_train_progress {
    int step, steps; // steps done, total
    double loss;     // this step's mean training loss (nats/token)
    double val_loss; // last validation loss (NaN before the first)
    double lr, grad_norm;
    double tokens_per_s, elapsed_s, eta_s;
    bool evaluated;    // val_loss was computed at this step
    double loss_scale; // fp16: the dynamic loss scale after this step (loss_scale.h); else 1
} vkt_train_progress;

typedef struct vkt_train_opts {
    const char *data; // training file
    vkt_data_format format;
    const char *out;       // checkpoint directory
    vkt_model_config cfg;  // used when not resuming
    const char *tokenizer; // a directory with tokenizer.json for a new model (NULL: bytes);
                           // cfg.vocab becomes its vocabulary rounded up to 8, and its
                           // files are copied into every checkpoint. A resumed run uses
                           // the checkpoint's tokenizer.
    const char *init;      // a pretrained checkpoint to start from (its config, tokenizer and
                           // weights; cfg and tokenizer ignored); NULL: a new model from cfg
    int lora_rank;         // with init, > 0: train LoRA adapters of this rank (lora.h) on the
                           // frozen base instead of the weights; checkpoints hold the adapter
                           // in PEFT's format (adapter_config.json, adapter_model.safetensors)
    float lora_alpha, lora_dropout;
    unsigned lora_targets; // VKT_LORA_* bits
    bool merge;            // LoRA: also write DIR/merged, the base with the adapters merged
    const char *adapter;   // with init: continue training this PEFT adapter (its rank, alpha and
                           // targets; fresh AdamW moments) instead of fresh ones
    int precision;         // VKT_PREC_* (model.h); fp16 scales the loss dynamically
    uint64_t
        device_memory; // > 0: the bytes a run from init must fit in, instead of the device's heap
    int steps;         // total steps; <= 0: 1000, or with resume the saved total
    int batch, seq, accum, warmup;
    double lr, min_lr, weight_decay, max_grad_norm, val_fraction;
    int eval_every, val_batches, save_every;
    uint64_t seed;
    bool resume;
    int keep_last;      // complete checkpoints kept in DIR (>= 1, default 1): --resume falls
                        // back to the newest one that matches its manifest
    unsigned given;     // VKT_TRAIN_GIVEN_* bits: options the user set explicitly
    bool allow_change;  // a resumed run may change what the refused options fix
    int skip_nonfinite; // steps with a non-finite loss skipped (no update) before the run
                        // fails; 0 (default): the first one fails it
    volatile sig_atomic_t *stop; // set (e.g. by SIGINT) to save and stop after the current step
    // Called after every step (from the training thread).
    void (*progress)(void *user, const vkt_train_progress *p);
    // Called with what the user should know: a changed option honoured, a checkpoint skipped,
    // leftovers removed, metrics cut back. NULL: not told.
    void (*notice)(void *user, const char *msg);
    void *user;
} vkt_train_opts;

// A resumed run takes every option from trainer_state.json except those given explicitly.
// A given option that differs from the saved one is
//   honoured and recorded (trainer_state.json "changes", and a notice): steps (any value
//     > 0 counts as given), lr, min_lr, warmup, weight_decay, max_grad_norm;
//   refused (VKT_ERR_ARG) unless allow_change, then honoured and recorded: batch, seq, accum,
//     seed, format, val_fraction, and data whose content differs from the checkpoint's
//     (data NULL on resume: the saved path; a file changed in place is refused too).
// A given seq longer than the model's context is refused; the default is capped quietly.
enum {
    VKT_TRAIN_GIVEN_LR = 1u << 0,
    VKT_TRAIN_GIVEN_MIN_LR = 1u << 1,
    VKT_TRAIN_GIVEN_WARMUP = 1u << 2,
    VKT_TRAIN_GIVEN_WEIGHT_DECAY = 1u << 3,
    VKT_TRAIN_GIVEN_CLIP = 1u << 4,
    VKT_TRAIN_GIVEN_BATCH = 1u << 5,
    VKT_TRAIN_GIVEN_SEQ = 1u << 6,
    VKT_TRAIN_GIVEN_ACCUM = 1u << 7,
    VKT_TRAIN_GIVEN_SEED = 1u << 8,
    VKT_TRAIN_GIVEN_FORMAT = 1u << 9,
    VKT_TRAIN_GIVEN_VAL_FRACTION = 1u << 10,
};

typedef struct vkt_train_result {
    int steps_done;
    int start_step; // the step it started (resumed) from
    double final_loss, final_val_loss;
    bool interrupted;
    int skipped_nonfinite; // steps skipped for a non-finite loss (--skip-nonfinite)
    int skipped_overflow;  // fp16: steps skipped because their scaled gradients overflowed
    int saved_step;        // the step of the newest checkpoint written or resumed from
    size_t masked_train;   // jsonl examples that train no token (prompt fills the context)
} vkt_train_result;

// Defaults: 1000 steps, batch 8, seq 128 (capped by the context), lr 1e-3, warmup 100,
// min_lr lr/10, weight decay 0.1, clip 1.0, val 10%, eval every 100 steps, seed 1, keep 1.
// A fresh run replaces any checkpoint in DIR (callers ask the user first: vkt_ckpt_dir_kind);
// both remove what interrupted saves left there, and a resumed run cuts DIR/metrics.jsonl
// back to its checkpoint's step before appending.
void vkt_train_defaults(vkt_train_opts *o);
vkt_status vkt_train_run(vkt_ctx *ctx, const vkt_train_opts *o, vkt_train_result *res);

#endif
