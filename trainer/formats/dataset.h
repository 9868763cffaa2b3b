// dataset.h: training data as token batches with per-token weights, tokenized by the
// model's tokenizer (tok.h; the byte tokenizer unless the model has a tokenizer.json).
//   text:  the file's tokens; every next token is a target (weight 1).
//   jsonl: one {"prompt": ..., "completion": ...} per line; an example is
//          prompt + completion + the tokenizer's first EOS id (<|endoftext|> for bytes),
//          and only completion tokens (and the end token) are targets; prompt targets and
//          padding (vkt_tok_pad_id) get weight 0.
// Special tokens' text: the byte tokenizer reads "<|endoftext|>" in data as plain bytes;
// a tokenizer.json reads its added tokens as their ids (as transformers does). A jsonl
// prompt gets the post-processor's specials (a BOS where the tokenizer adds one, as
// TRL tokenizes prompts); completions and text files get none.
// The last val_fraction of the file (text) or of the lines (jsonl) is the validation
// split. Batches are drawn with the caller's RNG, so a seed fixes the data order.
#ifndef VKT_DATASET_H
#define VKT_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rng.h"
#include "status.h"
#include "tok.h"

typedef enum { VKT_DATA_TEXT = 0, VKT_DATA_JSONL } vkt_data_format;

typedef struct vkt_example {
    size_t start, len; // token range in vkt_dataset.tokens
    size_t prompt_len; // tokens that are prompt (not trained on)
} vkt_example;

typedef struct vkt_dataset {
    vkt_data_format format;
    int32_t *tokens;
    size_t n_tokens;
    size_t train_tokens; // text: tokens [0, train_tokens) train, the rest validation
    vkt_example *ex;     // jsonl examples: [0, train_ex) train, the rest validation
    size_t n_ex, train_ex;
    int32_t pad; // padding id (never a target)
} vkt_dataset;

// Parses "text" or "jsonl".
vkt_status vkt_data_format_parse(const char *s, vkt_data_format *out, vkt_error *err);
// Encode flags for text data under tok (see the top: special tokens' text parsed by a
// tokenizer.json, plain bytes for the byte tokenizer); vkt eval reads its text the same way.
unsigned vkt_dataset_text_flags(const vkt_tok *tok);
// Tokenizes with tok; vkt_dataset_load uses the byte tokenizer.
vkt_status vkt_dataset_load_tok(const char *path, vkt_data_format fmt, double val_fraction,
                                vkt_tok *tok, vkt_dataset *out, vkt_error *err);
vkt_status vkt_dataset_load(const char *path, vkt_data_format fmt, double val_fraction,
                            vkt_dataset *out, vkt_error *err);
void vkt_dataset_free(vkt_dataset *d);

// A random training batch of B rows of T tokens: tokens, targets (B*T) and weights (B*T).
// Text rows are windows of T+1 consecutive tokens at random offsets; jsonl rows are
// random examples, cut to T+1 tokens and padded.
void vkt_dataset_train_batch(const vkt_dataset *d, int B, int T, vkt_rng *rng, int32_t *tokens,
                             int32_t *targets, float *weights);
// Validation batch number `index` (deterministic: consecutive windows or examples);
// returns false when index is past the validation split. Rows past its end get weight 0.
bool vkt_dataset_val_batch(const vkt_dataset *d, size_t index, int B, int T, int32_t *tokens,
                           int32_t *targets, float *weights);
// Checks the data against a context of T tokens: a jsonl example whose prompt fills the
// context (T tokens or more) trains no token. Counts them per split (either pointer may be
// NULL; the caller warns about a non-zero count) and fails, naming path, when every
// training example, or every example of a non-empty validation split, is so.
vkt_status vkt_dataset_check_context(const vkt_dataset *d, const char *path, int T,
                                     size_t *masked_train, size_t *masked_val, vkt_error *err);
// Number of validation batches of B x T.
size_t vkt_dataset_val_batches(const vkt_dataset *d, int B, int T);

#endif
