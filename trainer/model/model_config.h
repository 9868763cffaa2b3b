// model_config.h: a decoder-only transformer described by a config, its presets, and
// the parameter table: every tensor's Hugging Face name, shape and place in the single
// parameter buffer. Tensors keep Hugging Face layouts (GPT-2 Conv1D weights (in, out),
// Llama Linear weights (out, in)), so checkpoints are plain copies and the matmul
// transposes absorb the difference.
#ifndef VKT_MODEL_CONFIG_H
#define VKT_MODEL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

typedef enum { VKT_FAMILY_GPT2 = 0, VKT_FAMILY_LLAMA } vkt_family;
typedef enum { VKT_NORM_LAYERNORM = 0, VKT_NORM_RMSNORM } vkt_norm_kind;
typedef enum { VKT_POS_LEARNED = 0, VKT_POS_ROPE } vkt_pos_kind;
typedef enum { VKT_MLP_GELU = 0, VKT_MLP_SWIGLU } vkt_mlp_kind;
// The Hugging Face architecture a config came from (config.json "model_type"); the llama
// family's members share tensor names and differ in the fields below.
typedef enum {
    VKT_ARCH_GPT2 = 0,
    VKT_ARCH_LLAMA,
    VKT_ARCH_MISTRAL,
    VKT_ARCH_QWEN2,
    VKT_ARCH_QWEN3
} vkt_arch;
// config.json "rope_scaling": none, "linear" (positions / factor) or "llama3" (Llama 3.1's
// per-frequency smoothing between low_freq_factor and high_freq_factor).
typedef enum { VKT_ROPE_PLAIN = 0, VKT_ROPE_LINEAR, VKT_ROPE_LLAMA3 } vkt_rope_type;
typedef struct vkt_rope_scaling {
    vkt_rope_type type;
    float factor;                            // linear, llama3
    float low_freq_factor, high_freq_factor; // llama3
    int original_context;                    // llama3: original_max_position_embeddings
} vkt_rope_scaling;

typedef struct vkt_model_config {
    vkt_family family; // decides tensor names: gpt2 -> GPT2LMHeadModel, llama -> LlamaForCausalLM
    int vocab;         // V
    int context;       // T max
    int layers;        // L
    int heads;         // H
    int kv_heads;      // KVH, divides H (== H for GPT-2)
    int width;         // C
    int ffn;           // F
    vkt_norm_kind norm;
    vkt_pos_kind pos;
    vkt_mlp_kind mlp;
    bool tied; // lm_head shares the token embedding
    bool bias; // linear layers and norms have biases (GPT-2)
    float eps; // norm epsilon
    float rope_theta;
    // Pretrained-architecture fields (zero for the presets: derived or absent).
    vkt_arch arch;      // GPT2 for the gpt2 family, LLAMA (or a member) for the llama family
    int head_dim;       // D; 0 means width / heads (Qwen3 sets H * D != C)
    bool qkv_bias;      // q/k/v_proj biases (Qwen2; Llama attention_bias)
    bool o_bias;        // o_proj bias (Llama attention_bias)
    bool mlp_bias;      // gate/up/down_proj biases (Llama mlp_bias)
    bool qk_norm;       // per-head RMSNorm q_norm / k_norm before RoPE (Qwen3)
    int sliding_window; // Mistral: attention span in tokens; 0 for none
    vkt_rope_scaling rope_scaling;
} vkt_model_config;

// Presets: gpt2-tiny, llama-tiny, gpt2-124M (and gpt2-small as an alias).
vkt_status vkt_model_preset(const char *name, vkt_model_config *cfg, vkt_error *err);
const char *vkt_model_preset_names(void); // "gpt2-tiny, llama-tiny, gpt2-124M"
// Checks sizes and combinations (kv_heads divides heads, width = heads * head_dim, ...).
vkt_status vkt_model_config_check(const vkt_model_config *cfg, vkt_error *err);
// Overrides a config's shape; 0 keeps a field. A new width sets the FFN to 4C (gpt2) or
// 8C/3 rounded up to 32 (llama, as the preset) unless ffn is given; new heads set kv_heads
// to heads for gpt2 and keep the preset's heads/kv_heads ratio for llama when it divides.
void vkt_model_config_reshape(vkt_model_config *cfg, int layers, int width, int heads, int ffn);
static inline int vkt_head_dim(const vkt_model_config *c) {
    return c->head_dim ? c->head_dim : c->width / c->heads;
}
// Width of the attention's query rows, H * D (== C unless head_dim says otherwise).
static inline int vkt_q_width(const vkt_model_config *c) { return c->heads * vkt_head_dim(c); }

// What each parameter tensor is, for the forward code.
typedef enum {
    VKT_P_WTE = 0,
    VKT_P_WPE,
    VKT_P_LNF_W,
    VKT_P_LNF_B,
    VKT_P_LM_HEAD,
    // per layer (layer index in vkt_param.layer)
    VKT_P_LN1_W,
    VKT_P_LN1_B,
    VKT_P_QKV_W,
    VKT_P_QKV_B, // gpt2: fused c_attn (C, 3C) Conv1D
    VKT_P_Q_W,
    VKT_P_K_W,
    VKT_P_V_W, // llama: separate (out, in)
    VKT_P_ATTN_OUT_W,
    VKT_P_ATTN_OUT_B,
    VKT_P_LN2_W,
    VKT_P_LN2_B,
    VKT_P_FC_W,
    VKT_P_FC_B, // gpt2 c_fc (C, F); llama gate_proj (F, C)
    VKT_P_UP_W, // llama up_proj (F, C)
    VKT_P_PROJ_W,
    VKT_P_PROJ_B, // gpt2 mlp.c_proj (F, C); llama down_proj (C, F)
    VKT_P_Q_B,
    VKT_P_K_B,
    VKT_P_V_B,  // llama family: q/k/v_proj biases (HD), (KV), (KV)
    VKT_P_UP_B, // llama mlp_bias: up_proj bias (F)
    VKT_P_Q_NORM,
    VKT_P_K_NORM, // qwen3: self_attn.q_norm / k_norm weights (D)
    VKT_P_KINDS
} vkt_param_kind;

typedef struct vkt_param {
    char name[96]; // Hugging Face name
    vkt_param_kind kind;
    int layer; // -1 for non-layer tensors
    int ndim;
    int64_t shape[2];
    uint64_t offset; // in floats, inside the parameter buffer
    uint64_t count;  // floats
    bool decay;      // weight decay applies (matrices, not biases/gains)
} vkt_param;

// Builds the list of parameters in a fixed order; *out is malloc'd (free(out->p)).
typedef struct vkt_params {
    vkt_param *p;
    int n;
    uint64_t total; // floats in the parameter buffer
} vkt_params;
vkt_status vkt_params_build(const vkt_model_config *cfg, vkt_params *out, vkt_error *err);
void vkt_params_free(vkt_params *ps);
// The parameter of a kind (and layer), or NULL when the model has none (e.g. no biases).
const vkt_param *vkt_params_find(const vkt_params *ps, vkt_param_kind kind, int layer);
const vkt_param *vkt_params_by_name(const vkt_params *ps, const char *name);

// config.json as Hugging Face writes it for GPT2LMHeadModel / LlamaForCausalLM.
vkt_status vkt_model_config_to_json(const vkt_model_config *cfg, char **json_text, vkt_error *err);
vkt_status vkt_model_config_from_json(const char *json_text, const char *path,
                                      vkt_model_config *cfg, vkt_error *err);
// to_json with the bos_token_id / eos_token_id written as given, or left out when < 0 (a
// pretrained model's ids live in its tokenizer and generation config). to_json writes 256,
// the byte tokenizer's, for both.
vkt_status vkt_model_config_to_json_ids(const vkt_model_config *cfg, int bos, int eos,
                                        char **json_text, vkt_error *err);

#endif
