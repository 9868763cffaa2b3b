// checkpoint.h: a model directory that Hugging Face transformers opens.
//   DIR/config.json          GPT2LMHeadModel or LlamaForCausalLM config
//   DIR/model.safetensors    parameters by their Hugging Face names and layouts (F32)
//   DIR/optimizer.safetensors  AdamW moments ("exp_avg.<name>", "exp_avg_sq.<name>")
//   DIR/trainer_state.json   step, seeds, data RNG state, hyperparameters (for --resume)
//   DIR/tokenizer.json       a Hugging Face tokenizer (with tokenizer_config.json,
//                            special_tokens_map.json, generation_config.json when it has
//                            them); without it the model uses the byte tokenizer
// Every file is written to a temporary name and renamed (a training run's checkpoints are
// published whole: checkpoint_dir.h). Loading validates everything
// and fails with one message naming the file and the fault, changing nothing.
#ifndef VKT_CHECKPOINT_H
#define VKT_CHECKPOINT_H

#include <stdbool.h>

#include "model.h"
#include "tok.h"

// Reads DIR/config.json.
vkt_status vkt_checkpoint_config(const char *dir, vkt_model_config *cfg, vkt_error *err);
// Reads DIR/model.safetensors into host floats laid out by ps (ps->total floats). Accepts
// F32/F16/BF16 and the names transformers writes (with or without the "transformer."
// prefix; ignores its attention-mask buffers; a tied lm_head may be absent or present).
// A non-finite value is refused (finite.h), naming the tensor and index, unless allow_nonfinite.
vkt_status vkt_checkpoint_read_params(const char *dir, const vkt_model_config *cfg, const vkt_params *ps,
                                      float *params, vkt_error *err);
vkt_status vkt_checkpoint_read_params_opt(const char *dir, const vkt_model_config *cfg, const vkt_params *ps,
                                          float *params, bool allow_nonfinite, vkt_error *err);
// Creates DIR if needed and writes config.json and model.safetensors from host floats.
vkt_status vkt_checkpoint_write_params(const char *dir, const vkt_model_config *cfg, const vkt_params *ps,
                                       const float *params, vkt_error *err);
// Optimizer moments: write / read (both arrays ps->total floats).
vkt_status vkt_checkpoint_write_optim(const char *dir, const vkt_params *ps, const float *m1, const float *m2,
                                      vkt_error *err);
vkt_status vkt_checkpoint_read_optim(const char *dir, const vkt_params *ps, float *m1, float *m2, vkt_error *err);

// Creates a model on ctx from DIR (config + parameters).
vkt_status vkt_checkpoint_load_model(vkt_ctx *ctx, const char *dir, vkt_model **out, vkt_error *err);
vkt_status vkt_checkpoint_load_model_opt(vkt_ctx *ctx, const char *dir, bool allow_nonfinite, vkt_model **out,
                                         vkt_error *err);
// Writes config.json, model.safetensors (and optimizer.safetensors when with_optim).
vkt_status vkt_checkpoint_save_model(vkt_model *m, const char *dir, bool with_optim, vkt_error *err);


// DIR's tokenizer (tok.h: DIR/tokenizer.json, else the byte tokenizer). A tokenizer.json
// with more ids than the model's vocabulary is refused, naming both sizes and DIR.
// cfg: the model's config (NULL: read DIR/config.json).
vkt_status vkt_checkpoint_tokenizer(const char *dir, const vkt_model_config *cfg, vkt_tok **out, vkt_error *err);
// Copies SRC/tokenizer.json (required) and SRC/tokenizer_config.json,
// special_tokens_map.json, generation_config.json (those present; absent ones are removed
// from DIR) into DIR, each through a temporary file and a rename.
vkt_status vkt_checkpoint_copy_tokenizer(const char *src, const char *dir, vkt_error *err);
// Removes those files from DIR (a model trained with the byte tokenizer).
vkt_status vkt_checkpoint_remove_tokenizer(const char *dir, vkt_error *err);

#endif
