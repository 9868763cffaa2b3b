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
    int step, steps;          // steps done, total
    double loss;              // this step's mean training loss (nats/token)
    double val_loss;          // last validation loss (NaN before the first)
    double lr, grad_norm;
    double tokens_per_s, elapsed_s, eta_s;
    bool evaluated;           // val_loss was computed at this step
} vkt_train_progress;

typedef struct vkt_train_opts {
    const char *data;         // training file
    vkt_data_format format;
    const char *out;          // checkpoint directory
    vkt_model_config cfg;     // used when not resuming
    const char *tokenizer;    // a directory with tokenizer.json for a new model (NULL: bytes);
                              // cfg.vocab becomes its vocabulary rounded up to 8, and its
                              // files are copied into every checkpoint. A resumed run uses
                              // the checkpoint's tokenizer.
    int steps;                // total steps; <= 0: 1000, or with resume the saved total
    int batch, seq, accum, warmup;
    double lr, min_lr, weight_decay, max_grad_norm, val_fraction;
    int eval_every, val_batches, save_every;
    uint64_t seed;
    bool resume;
    volatile sig_atomic_t *stop;      // set (e.g. by SIGINT) to save and stop after the current step
    // Called after every step (from the training thread).
    void (*progress)(void *user, const vkt_train_progress *p);
    void *user;
} vkt_train_opts;

typedef struct vkt_train_result {
    int steps_done;
    double final_loss, final_val_loss;
    bool interrupted;
} vkt_train_result;

// Defaults: 1000 steps, batch 8, seq 128 (capped by the context), lr 1e-3, warmup 100,
// min_lr lr/10, weight decay 0.1, clip 1.0, val 10%, eval every 100 steps, seed 1.
void vkt_train_defaults(vkt_train_opts *o);
vkt_status vkt_train_run(vkt_ctx *ctx, const vkt_train_opts *o, vkt_train_result *res, vkt_error *err);

#endif
