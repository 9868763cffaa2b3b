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

#include "checkpoint_shards.h"
#include "model.h"
#include "tok.h"

// Reads DIR/config.json.
vkt_status vkt_checkpoint_config(const char *dir, vkt_model_config *cfg, vkt_error *err);
// Reads DIR/model.safetensors, or the shards DIR/model.safetensors.index.json lists
// (checkpoint_shards.h), into host floats laid out by ps (ps->total floats), converting one
// tensor at a time; every tensor is checked before any is written. Accepts F32/F16/BF16 and
// the names transformers writes (with or without the "transformer." prefix; ignores its
// attention-mask and rotary_emb.inv_freq buffers; a tied lm_head may be absent or present).
// A non-finite value is refused (finite.h), naming the tensor and index, unless allow_nonfinite.
vkt_status vkt_checkpoint_read_params(const char *dir, const vkt_model_config *cfg,
                                      const vkt_params *ps, float *params, vkt_error *err);
vkt_status vkt_checkpoint_read_params_opt(const char *dir, const vkt_model_config *cfg,
                                          const vkt_params *ps, float *params, bool allow_nonfinite,
                                          vkt_error *err);
// Checks an open checkpoint against a parameter table before anything is read: every
// parameter's tensor present (its name, or GPT-2's without "transformer."), of its shape and
// a float dtype, finite (unless allow_nonfinite), and no tensor the model does not have.
vkt_status vkt_checkpoint_validate(const vkt_ckpt *h, const vkt_model_config *cfg,
                                   const vkt_params *ps, bool allow_nonfinite, vkt_error *err);
// The tensor that holds parameter p.
vkt_status vkt_checkpoint_param_tensor(const vkt_ckpt *h, const vkt_model_config *cfg,
                                       const vkt_param *p, vkt_ckpt_tensor *t, vkt_error *err);

// Loading for a use: how the weights sit on the device.
#define VKT_WEIGHTS_AUTO (-1)
typedef struct vkt_load_opts {
    int weights; // VKT_W32, VKT_W16_BF16, VKT_W16_F16, or VKT_WEIGHTS_AUTO: the checkpoint's
                 // 16-bit type for a frozen llama-family model, else fp32
    bool frozen; // no gradients (inference, LoRA base); 16-bit weights imply it
    bool allow_nonfinite;
} vkt_load_opts;
// The model options lo resolves to for DIR (auto looks at DIR's weight tensors' dtype).
vkt_status vkt_checkpoint_model_opts(const char *dir, const vkt_model_config *cfg,
                                     const vkt_load_opts *lo, vkt_model_opts *mo, vkt_error *err);
// Creates a model on ctx from DIR as lo says, tensor by tensor from the mapped files: a
// 16-bit tensor into a model of the same 16-bit type is uploaded as it is (no float copy).
vkt_status vkt_checkpoint_load_model_as(vkt_ctx *ctx, const char *dir, const vkt_load_opts *lo,
                                        vkt_model **out);

// Creates DIR if needed and writes config.json and model.safetensors from host floats.
vkt_status vkt_checkpoint_write_params(const char *dir, const vkt_model_config *cfg,
                                       const vkt_params *ps, const float *params, vkt_error *err);
// Optimizer moments: write / read (both arrays ps->total floats).
vkt_status vkt_checkpoint_write_optim(const char *dir, const vkt_params *ps, const float *m1,
                                      const float *m2, vkt_error *err);
vkt_status vkt_checkpoint_read_optim(const char *dir, const vkt_params *ps, float *m1, float *m2,
                                     vkt_error *err);

// Creates a model on ctx from DIR (config + parameters).
vkt_status vkt_checkpoint_load_model(vkt_ctx *ctx, const char *dir, vkt_model **out);
vkt_status vkt_checkpoint_load_model_opt(vkt_ctx *ctx, const char *dir, bool allow_nonfinite,
                                         vkt_model **out);
// Writes config.json, model.safetensors (and optimizer.safetensors when with_optim).
vkt_status vkt_checkpoint_save_model(vkt_model *m, const char *dir, bool with_optim);

// DIR's tokenizer (tok.h: DIR/tokenizer.json, else the byte tokenizer). A tokenizer.json
// with more ids than the model's vocabulary is refused, naming both sizes and DIR.
// cfg: the model's config (NULL: read DIR/config.json).
vkt_status vkt_checkpoint_tokenizer(const char *dir, const vkt_model_config *cfg, vkt_tok **out,
                                    vkt_error *err);
// Copies SRC/tokenizer.json (required) and SRC/tokenizer_config.json,
// special_tokens_map.json, generation_config.json (those present; absent ones are removed
// from DIR) into DIR, each through a temporary file and a rename.
vkt_status vkt_checkpoint_copy_tokenizer(const char *src, const char *dir, vkt_error *err);
// Removes those files from DIR (a model trained with the byte tokenizer).
vkt_status vkt_checkpoint_remove_tokenizer(const char *dir, vkt_error *err);

#endif
