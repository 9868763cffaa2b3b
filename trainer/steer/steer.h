// steer.h: steering-vector capture and extraction (docs/steering.md).
//
// Layer numbering is the one control vectors are applied with, everywhere in vkt:
// layer N (0..L-1) is the residual stream at the output of 0-based block N, what
// vkt_model_forward's hook sees for `layer` = N, and a GGUF control vector stores it as
// direction.N. llama.cpp's applier (llama_adapter_cvec: direction.il is added at the end
// of block il) and repeng (direction.i for model.layers[i], read from hidden_states[i+1])
// agree; direction.0 does not exist, so extraction writes layers 1..L-1. (llama.cpp's
// cvector-generator writes direction.(il+1) from block il: one block off from its own
// applier; see docs/steering.md "Layer numbering".)
//
// Capture runs prompts through the GPU model in right-padded batches (the causal mask
// means pad tokens never affect earlier positions) and gathers only the rows asked for
// on the device (a row gather recorded in the block hook), so one download per batch
// brings back exactly the captured rows of every captured layer.
//
// Directions (per layer, from n paired rows pos_i, neg_i):
//   mean: mean_i(pos_i) - mean_i(neg_i), NOT normalised (the raw contrastive-activation-
//         addition vector, arXiv 2312.06681: its norm is the natural unit of strength).
//   pca:  first principal component of the paired differences d_i = pos_i - neg_i,
//         uncentred (see docs/steering.md on sklearn's centring in repeng), unit norm,
//         sign so that mean_i (pos_i - neg_i) . v >= 0 (positives project higher on
//         average). Power iteration in double on the (n x C) difference matrix.
#ifndef VKT_STEER_H
#define VKT_STEER_H

#include <stdint.h>

#include "model.h"
#include "tok.h"

typedef enum vkt_steer_pos {
    VKT_STEER_POS_LAST = 0, // the last token of each prompt
    VKT_STEER_POS_ALL,      // every token of each prompt
    VKT_STEER_POS_RESPONSE, // tokens at and after each prompt's response_start
} vkt_steer_pos;

typedef enum vkt_steer_method { VKT_STEER_MEAN = 0, VKT_STEER_PCA } vkt_steer_method;

vkt_status vkt_steer_pos_parse(const char *s, vkt_steer_pos *out, vkt_error *err);
const char *vkt_steer_pos_name(vkt_steer_pos p);
vkt_status vkt_steer_method_parse(const char *s, vkt_steer_method *out, vkt_error *err);
const char *vkt_steer_method_name(vkt_steer_method m);

// "A-B" or "A" (the numbering above) checked against a model of L blocks: lo <= A <= B <= L-1
// (lo = 0 for capture, 1 for directions: there is no direction.0).
vkt_status vkt_steer_parse_layers(const char *s, int L, int lo, int *first, int *last,
                                  vkt_error *err);

typedef struct vkt_steer_prompt {
    const int32_t *tokens;
    int n;              // >= 1, <= the model's context
    int response_start; // VKT_STEER_POS_RESPONSE: first response token, in [0, n); else ignored
} vkt_steer_prompt;

// Prompts read from a text file: one prompt per line ('\n'; a trailing '\r' is dropped),
// empty lines skipped, escapes \n \t \r \\ processed (as llama.cpp's cvector-generator
// reads its prompt files), tokenized by the model's tokenizer with special tokens' text
// (<|user|>, ...) parsed and, for a tokenizer.json, its BOS where it adds one.
// With boundary != NULL each line must contain it: response_start = the number of tokens
// of the text up to and including its first occurrence (the rest is encoded on its own).
// line[i] is the 1-based line of prompt i (for messages).
typedef struct vkt_steer_prompts {
    int n;
    vkt_steer_prompt *p;
    int *line;
    int32_t *tokens; // storage for every prompt's tokens
} vkt_steer_prompts;

vkt_status vkt_steer_prompts_read_tok(vkt_tok *tok, const char *path, const char *boundary,
                                      vkt_steer_prompts *out, vkt_error *err);
// The same from memory (text of len bytes; name stands for the file in messages).
vkt_status vkt_steer_prompts_parse_tok(vkt_tok *tok, const char *text, size_t len, const char *name,
                                       const char *boundary, vkt_steer_prompts *out,
                                       vkt_error *err);
// Both with the byte tokenizer.
vkt_status vkt_steer_prompts_read(const char *path, const char *boundary, vkt_steer_prompts *out,
                                  vkt_error *err);
vkt_status vkt_steer_prompts_parse(const char *text, size_t len, const char *name,
                                   const char *boundary, vkt_steer_prompts *out, vkt_error *err);
void vkt_steer_prompts_free(vkt_steer_prompts *p);

// Captured activations: rows in prompt order, and within a prompt in position order.
typedef struct vkt_steer_acts {
    int first_layer, n_layers; // layers first_layer .. first_layer + n_layers - 1
    int C;                     // width
    int n_prompts;
    vkt_steer_pos pos;
    int64_t rows;
    float *data;           // (n_layers, rows, C)
    int32_t *prompt_index; // (rows): the prompt each row comes from (0-based)
    int32_t *token_index;  // (rows): the row's position in its prompt (0-based)
} vkt_steer_acts;

// Captures layers first..last (0 <= first <= last <= L-1) at the positions asked for.
// batch: prompts per forward (<= 0: 16). Prompts are run longest first; each batch is
// padded on the right to its longest prompt (rounded up to a multiple of 8, at most
// the context). Replans the model (its previous plan is not kept).
vkt_status vkt_steer_capture(vkt_model *m, const vkt_steer_prompt *prompts, int n_prompts,
                             int first_layer, int last_layer, vkt_steer_pos pos, int batch,
                             vkt_steer_acts *out);
void vkt_steer_acts_free(vkt_steer_acts *a);
// (rows, C) of one layer, or NULL when it was not captured.
const float *vkt_steer_acts_layer(const vkt_steer_acts *a, int layer);

typedef struct vkt_steer_dir_info {
    double norm;       // |dir| (1 for pca)
    double separation; // mean_i (pos_i - neg_i) . dir / |dir|: how far positives project above
                       // negatives
    double explained;  // pca: share of sum_i |d_i|^2 along dir (uncentred); mean: same for the mean
                       // direction
    int iterations;    // pca: power iterations used
} vkt_steer_dir_info;

// One layer's direction from n >= 1 paired rows pos (n, C), neg (n, C) into dir (C).
// info may be NULL. Fails (VKT_ERR_ARG) on n < 1, C < 1, or when every difference is 0.
vkt_status vkt_steer_direction(const float *pos, const float *neg, int n, int C,
                               vkt_steer_method method, float *dir, vkt_steer_dir_info *info,
                               vkt_error *err);

#endif
