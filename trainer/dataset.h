// dataset.h: training data as token batches with per-token weights.
//   text:  the file's bytes are the tokens; every next byte is a target (weight 1).
//   jsonl: one {"prompt": ..., "completion": ...} per line; an example is
//          prompt + completion + <|endoftext|>, and only completion tokens (and the end
//          token) are targets; prompt targets and padding get weight 0.
// The last val_fraction of the file (text) or of the lines (jsonl) is the validation
// split. Batches are drawn with the caller's RNG, so a seed fixes the data order.
#ifndef VKT_DATASET_H
#define VKT_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rng.h"
#include "status.h"

typedef enum { VKT_DATA_TEXT = 0, VKT_DATA_JSONL } vkt_data_format;

typedef struct vkt_example {
    size_t start, len;      // token range in vkt_dataset.tokens
    size_t prompt_len;      // tokens that are prompt (not trained on)
} vkt_example;

typedef struct vkt_dataset {
    vkt_data_format format;
    int32_t *tokens;
    size_t n_tokens;
    size_t train_tokens;    // text: tokens [0, train_tokens) train, the rest validation
    vkt_example *ex;        // jsonl examples: [0, train_ex) train, the rest validation
    size_t n_ex, train_ex;
} vkt_dataset;

// Parses "text" or "jsonl".
vkt_status vkt_data_format_parse(const char *s, vkt_data_format *out, vkt_error *err);
vkt_status vkt_dataset_load(const char *path, vkt_data_format fmt, double val_fraction, vkt_dataset *out,
                            vkt_error *err);
void vkt_dataset_free(vkt_dataset *d);

// A random training batch of B rows of T tokens: tokens, targets (B*T) and weights (B*T).
// Text rows are windows of T+1 consecutive tokens at random offsets; jsonl rows are
// random examples, cut to T+1 tokens and padded.
void vkt_dataset_train_batch(const vkt_dataset *d, int B, int T, vkt_rng *rng, int32_t *tokens, int32_t *targets,
                             float *weights);
// Validation batch number `index` (deterministic: consecutive windows or examples);
// returns false when index is past the validation split. Rows past its end get weight 0.
bool vkt_dataset_val_batch(const vkt_dataset *d, size_t index, int B, int T, int32_t *tokens, int32_t *targets,
                           float *weights);
// Number of validation batches of B x T.
size_t vkt_dataset_val_batches(const vkt_dataset *d, int B, int T);

#endif
