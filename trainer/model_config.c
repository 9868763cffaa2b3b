// model_config.c: presets, the parameter table and config.json.
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_config.h"

const char *vkt_model_preset_names(void) { return "gpt2-tiny, llama-tiny, gpt2-124M"; }

vkt_status vkt_model_preset(const char *name, vkt_model_config *c, vkt_error *err) {
    memset(c, 0, sizeof *c);
    if (!strcmp(name, "gpt2-tiny")) {
        // Byte vocabulary (256 + special tokens, see trainer/tokenizer.h) rounded up to 8.
        *c = (vkt_model_config){VKT_FAMILY_GPT2, 264, 256, 4, 4, 4, 128, 512,
                                VKT_NORM_LAYERNORM, VKT_POS_LEARNED, VKT_MLP_GELU, true, true, 1e-5f, 0};
    } else if (!strcmp(name, "llama-tiny")) {
        // Grouped-query attention (2 kv heads for 4 heads); SwiGLU width ~ 8/3 C rounded to 32.
        *c = (vkt_model_config){VKT_FAMILY_LLAMA, 264, 256, 4, 4, 2, 128, 352,
                                VKT_NORM_RMSNORM, VKT_POS_ROPE, VKT_MLP_SWIGLU, false, false, 1e-5f, 10000.0f};
    } else if (!strcmp(name, "gpt2-124M") || !strcmp(name, "gpt2-small")) {
        *c = (vkt_model_config){VKT_FAMILY_GPT2, 50257, 1024, 12, 12, 12, 768, 3072,
                                VKT_NORM_LAYERNORM, VKT_POS_LEARNED, VKT_MLP_GELU, true, true, 1e-5f, 0};
    } else {
        return vkt_fail(err, VKT_ERR_ARG, "unknown preset '%s' (known: %s)", name, vkt_model_preset_names());
    }
    return VKT_OK;
}

void vkt_model_config_reshape(vkt_model_config *c, int layers, int width, int heads, int ffn) {
    if (layers > 0) c->layers = layers;
    if (width > 0) {
        c->width = width;
        c->ffn = c->mlp == VKT_MLP_SWIGLU ? (8 * width / 3 + 31) / 32 * 32 : 4 * width;
    }
    if (heads > 0) {
        int ratio = c->heads / c->kv_heads;
        c->heads = heads;
        c->kv_heads = c->family == VKT_FAMILY_GPT2 || heads % ratio ? heads : heads / ratio;
    }
    if (ffn > 0) c->ffn = ffn;
}

vkt_status vkt_model_config_check(const vkt_model_config *c, vkt_error *err) {
    if (c->vocab < 1 || c->context < 1 || c->layers < 1 || c->heads < 1 || c->kv_heads < 1 || c->width < 1 || c->ffn < 1)
        return vkt_fail(err, VKT_ERR_ARG,
                        "model config: sizes must be >= 1 (vocab %d, context %d, layers %d, heads %d, kv_heads %d, "
                        "width %d, ffn %d)",
                        c->vocab, c->context, c->layers, c->heads, c->kv_heads, c->width, c->ffn);
    // Sizes past any model vkt can hold are refused before a parameter table is built
    // (a fuzzed config.json with a million layers took seconds to reject later).
    double params = (double)c->layers * (4.0 * c->width * c->width + 3.0 * c->width * c->ffn) +
                    2.0 * c->vocab * c->width + (double)c->context * c->width;
    if (c->layers > 4096 || params > 1e11)
        return vkt_fail(err, VKT_ERR_ARG,
                        "model config: %d layers of width %d, ffn %d, vocab %d make about %.3g parameters: past "
                        "what vkt can hold (4096 layers, 1e11 parameters)",
                        c->layers, c->width, c->ffn, c->vocab, params);
    if (c->width % c->heads)
        return vkt_fail(err, VKT_ERR_ARG, "model config: width %d is not a multiple of heads %d", c->width, c->heads);
    if (c->heads % c->kv_heads)
        return vkt_fail(err, VKT_ERR_ARG, "model config: kv_heads %d does not divide heads %d", c->kv_heads, c->heads);
    if (c->pos == VKT_POS_ROPE && (vkt_head_dim(c) % 2 || !(c->rope_theta > 0)))
        return vkt_fail(err, VKT_ERR_ARG, "model config: RoPE needs an even head dim (%d) and theta > 0 (%g)",
                        vkt_head_dim(c), c->rope_theta);
    if (!(c->eps > 0)) return vkt_fail(err, VKT_ERR_ARG, "model config: eps %g must be > 0", c->eps);
    if (c->family == VKT_FAMILY_GPT2 &&
        (c->norm != VKT_NORM_LAYERNORM || c->pos != VKT_POS_LEARNED || c->kv_heads != c->heads || !c->bias))
        return vkt_fail(err, VKT_ERR_ARG,
                        "model config: the gpt2 family (GPT2LMHeadModel) has layernorm, learned positions, biases "
                        "and kv_heads == heads");
    if (c->family == VKT_FAMILY_LLAMA && (c->norm != VKT_NORM_RMSNORM || c->pos != VKT_POS_ROPE ||
                                          c->mlp != VKT_MLP_SWIGLU || c->bias))
        return vkt_fail(err, VKT_ERR_ARG,
                        "model config: the llama family (LlamaForCausalLM) has rmsnorm, RoPE, SwiGLU and no biases");
    return VKT_OK;
}

typedef struct {
    vkt_params *ps;
    int cap;
    vkt_error *err;
} builder;

static vkt_status add(builder *b, vkt_param_kind kind, int layer, const char *name, int64_t d0, int64_t d1,
                      bool decay) {
    vkt_params *ps = b->ps;
    if (ps->n == b->cap) {
        int cap = b->cap ? 2 * b->cap : 64;
        vkt_param *p = realloc(ps->p, (size_t)cap * sizeof *p);
        if (!p) return vkt_fail(b->err, VKT_ERR_NOMEM, "parameter table");
        ps->p = p;
        b->cap = cap;
    }
    vkt_param *p = &ps->p[ps->n++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->kind = kind;
    p->layer = layer;
    p->ndim = d1 > 0 ? 2 : 1;
    p->shape[0] = d0;
    p->shape[1] = d1 > 0 ? d1 : 0;
    p->count = (uint64_t)d0 * (uint64_t)(d1 > 0 ? d1 : 1);
    // 64-float alignment keeps every tensor's start aligned for any binding rule.
    p->offset = ps->total;
    ps->total += (p->count + 63) / 64 * 64;
    p->decay = decay;
    return VKT_OK;
}

vkt_status vkt_params_build(const vkt_model_config *c, vkt_params *out, vkt_error *err) {
    memset(out, 0, sizeof *out);
    VKT_TRY(vkt_model_config_check(c, err));
    builder b = {out, 0, err};
    const int64_t C = c->width, F = c->ffn, V = c->vocab, D = vkt_head_dim(c);
    const int64_t KV = (int64_t)c->kv_heads * D;
    char n[96];
    vkt_status s = VKT_OK;
#define ADD(kind, layer, d0, d1, decay, ...)                       \
    do {                                                           \
        snprintf(n, sizeof n, __VA_ARGS__);                        \
        if (s == VKT_OK) s = add(&b, kind, layer, n, d0, d1, decay); \
    } while (0)
    if (c->family == VKT_FAMILY_GPT2) {
        ADD(VKT_P_WTE, -1, V, C, true, "transformer.wte.weight");
        ADD(VKT_P_WPE, -1, c->context, C, true, "transformer.wpe.weight");
        for (int l = 0; l < c->layers; l++) {
            ADD(VKT_P_LN1_W, l, C, 0, false, "transformer.h.%d.ln_1.weight", l);
            ADD(VKT_P_LN1_B, l, C, 0, false, "transformer.h.%d.ln_1.bias", l);
            ADD(VKT_P_QKV_W, l, C, 3 * C, true, "transformer.h.%d.attn.c_attn.weight", l);
            ADD(VKT_P_QKV_B, l, 3 * C, 0, false, "transformer.h.%d.attn.c_attn.bias", l);
            ADD(VKT_P_ATTN_OUT_W, l, C, C, true, "transformer.h.%d.attn.c_proj.weight", l);
            ADD(VKT_P_ATTN_OUT_B, l, C, 0, false, "transformer.h.%d.attn.c_proj.bias", l);
            ADD(VKT_P_LN2_W, l, C, 0, false, "transformer.h.%d.ln_2.weight", l);
            ADD(VKT_P_LN2_B, l, C, 0, false, "transformer.h.%d.ln_2.bias", l);
            ADD(VKT_P_FC_W, l, C, F, true, "transformer.h.%d.mlp.c_fc.weight", l);
            ADD(VKT_P_FC_B, l, F, 0, false, "transformer.h.%d.mlp.c_fc.bias", l);
            ADD(VKT_P_PROJ_W, l, F, C, true, "transformer.h.%d.mlp.c_proj.weight", l);
            ADD(VKT_P_PROJ_B, l, C, 0, false, "transformer.h.%d.mlp.c_proj.bias", l);
        }
        ADD(VKT_P_LNF_W, -1, C, 0, false, "transformer.ln_f.weight");
        ADD(VKT_P_LNF_B, -1, C, 0, false, "transformer.ln_f.bias");
        if (!c->tied) ADD(VKT_P_LM_HEAD, -1, V, C, true, "lm_head.weight");
    } else {
        ADD(VKT_P_WTE, -1, V, C, true, "model.embed_tokens.weight");
        for (int l = 0; l < c->layers; l++) {
            ADD(VKT_P_LN1_W, l, C, 0, false, "model.layers.%d.input_layernorm.weight", l);
            ADD(VKT_P_Q_W, l, C, C, true, "model.layers.%d.self_attn.q_proj.weight", l);
            ADD(VKT_P_K_W, l, KV, C, true, "model.layers.%d.self_attn.k_proj.weight", l);
            ADD(VKT_P_V_W, l, KV, C, true, "model.layers.%d.self_attn.v_proj.weight", l);
            ADD(VKT_P_ATTN_OUT_W, l, C, C, true, "model.layers.%d.self_attn.o_proj.weight", l);
            ADD(VKT_P_LN2_W, l, C, 0, false, "model.layers.%d.post_attention_layernorm.weight", l);
            ADD(VKT_P_FC_W, l, F, C, true, "model.layers.%d.mlp.gate_proj.weight", l);
            ADD(VKT_P_UP_W, l, F, C, true, "model.layers.%d.mlp.up_proj.weight", l);
            ADD(VKT_P_PROJ_W, l, C, F, true, "model.layers.%d.mlp.down_proj.weight", l);
        }
        ADD(VKT_P_LNF_W, -1, C, 0, false, "model.norm.weight");
        if (!c->tied) ADD(VKT_P_LM_HEAD, -1, V, C, true, "lm_head.weight");
    }
#undef ADD
    if (s != VKT_OK) vkt_params_free(out);
    return s;
}

void vkt_params_free(vkt_params *ps) {
    free(ps->p);
    memset(ps, 0, sizeof *ps);
}

const vkt_param *vkt_params_find(const vkt_params *ps, vkt_param_kind kind, int layer) {
    for (int i = 0; i < ps->n; i++)
        if (ps->p[i].kind == kind && ps->p[i].layer == layer) return &ps->p[i];
    return NULL;
}

const vkt_param *vkt_params_by_name(const vkt_params *ps, const char *name) {
    for (int i = 0; i < ps->n; i++)
        if (!strcmp(ps->p[i].name, name)) return &ps->p[i];
    return NULL;
}

vkt_status vkt_model_config_to_json(const vkt_model_config *c, char **text, vkt_error *err) {
    json_t *o = json_object();
    if (!o) return vkt_fail(err, VKT_ERR_NOMEM, "config.json");
    if (c->family == VKT_FAMILY_GPT2) {
        json_object_set_new(o, "architectures", json_pack("[s]", "GPT2LMHeadModel"));
        json_object_set_new(o, "model_type", json_string("gpt2"));
        json_object_set_new(o, "vocab_size", json_integer(c->vocab));
        json_object_set_new(o, "n_positions", json_integer(c->context));
        json_object_set_new(o, "n_ctx", json_integer(c->context));
        json_object_set_new(o, "n_embd", json_integer(c->width));
        json_object_set_new(o, "n_layer", json_integer(c->layers));
        json_object_set_new(o, "n_head", json_integer(c->heads));
        json_object_set_new(o, "n_inner", json_integer(c->ffn));
        json_object_set_new(o, "activation_function", json_string("gelu_new"));
        json_object_set_new(o, "layer_norm_epsilon", json_real(c->eps));
        json_object_set_new(o, "resid_pdrop", json_real(0));
        json_object_set_new(o, "embd_pdrop", json_real(0));
        json_object_set_new(o, "attn_pdrop", json_real(0));
        json_object_set_new(o, "bos_token_id", json_integer(256));
        json_object_set_new(o, "eos_token_id", json_integer(256));
    } else {
        json_object_set_new(o, "architectures", json_pack("[s]", "LlamaForCausalLM"));
        json_object_set_new(o, "model_type", json_string("llama"));
        json_object_set_new(o, "vocab_size", json_integer(c->vocab));
        json_object_set_new(o, "max_position_embeddings", json_integer(c->context));
        json_object_set_new(o, "hidden_size", json_integer(c->width));
        json_object_set_new(o, "intermediate_size", json_integer(c->ffn));
        json_object_set_new(o, "num_hidden_layers", json_integer(c->layers));
        json_object_set_new(o, "num_attention_heads", json_integer(c->heads));
        json_object_set_new(o, "num_key_value_heads", json_integer(c->kv_heads));
        json_object_set_new(o, "hidden_act", json_string("silu"));
        json_object_set_new(o, "rms_norm_eps", json_real(c->eps));
        json_object_set_new(o, "rope_theta", json_real(c->rope_theta));
        json_object_set_new(o, "attention_bias", json_false());
        json_object_set_new(o, "mlp_bias", json_false());
        json_object_set_new(o, "bos_token_id", json_integer(256));
        json_object_set_new(o, "eos_token_id", json_integer(256));
    }
    json_object_set_new(o, "tie_word_embeddings", json_boolean(c->tied));
    json_object_set_new(o, "torch_dtype", json_string("float32"));
    *text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(o);
    return *text ? VKT_OK : vkt_fail(err, VKT_ERR_NOMEM, "config.json");
}

// Reads an integer field, trying several Hugging Face spellings; required unless dflt >= 0.
static vkt_status get_int(json_t *o, const char *path, const char *const *keys, int dflt, int *out, vkt_error *err) {
    for (int i = 0; keys[i]; i++) {
        json_t *v = json_object_get(o, keys[i]);
        if (!v || json_is_null(v)) continue;
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > (1 << 30))
            return vkt_fail(err, VKT_ERR_FORMAT, "%s: \"%s\" must be a positive integer", path, keys[i]);
        *out = (int)json_integer_value(v);
        return VKT_OK;
    }
    if (dflt >= 0) {
        *out = dflt;
        return VKT_OK;
    }
    return vkt_fail(err, VKT_ERR_FORMAT, "%s: missing \"%s\"", path, keys[0]);
}

// A positive finite number, dflt when absent or null; any other type is an error naming key.
static vkt_status get_real(json_t *o, const char *path, const char *key, double dflt, float *out, vkt_error *err) {
    json_t *v = json_object_get(o, key);
    double x = !v || json_is_null(v) ? dflt : json_number_value(v);
    if (v && !json_is_null(v) && !json_is_number(v))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: \"%s\" must be a number", path, key);
    if (!(x > 0) || !(x <= 3.4e38))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: \"%s\" is %g; it must be a positive float", path, key, x);
    *out = (float)x;
    return VKT_OK;
}

// A boolean, dflt when absent or null ("yes", 1 and "true" are errors, not false).
static vkt_status get_bool(json_t *o, const char *path, const char *key, bool dflt, bool *out, vkt_error *err) {
    json_t *v = json_object_get(o, key);
    if (v && !json_is_null(v) && !json_is_boolean(v))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: \"%s\" must be true or false", path, key);
    *out = v && !json_is_null(v) ? json_is_true(v) : dflt;
    return VKT_OK;
}

// A string or absent/null (*out NULL).
static vkt_status get_str(json_t *o, const char *path, const char *key, const char **out, vkt_error *err) {
    json_t *v = json_object_get(o, key);
    *out = json_string_value(v);
    if (v && !json_is_null(v) && !json_is_string(v))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: \"%s\" must be a string", path, key);
    return VKT_OK;
}

vkt_status vkt_model_config_from_json(const char *text, const char *path, vkt_model_config *c, vkt_error *err) {
    json_error_t je;
    // Duplicate keys are refused (jansson names the key): which one wins is not defined.
    json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!o) return vkt_fail(err, VKT_ERR_FORMAT, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    vkt_status s = VKT_OK;
    memset(c, 0, sizeof *c);
    const char *mt = NULL, *act = NULL;
    if (!json_is_object(o)) s = vkt_fail(err, VKT_ERR_FORMAT, "%s: not a JSON object", path);
    else if ((s = get_str(o, path, "model_type", &mt, err)) != VKT_OK) {
    } else if (!mt) s = vkt_fail(err, VKT_ERR_FORMAT, "%s: missing \"model_type\"", path);
    else if (!strcmp(mt, "gpt2")) {
        c->family = VKT_FAMILY_GPT2;
        c->norm = VKT_NORM_LAYERNORM;
        c->pos = VKT_POS_LEARNED;
        c->mlp = VKT_MLP_GELU;
        c->bias = true;
        const char *kv[] = {"vocab_size", NULL}, *kc[] = {"n_positions", "n_ctx", NULL}, *kw[] = {"n_embd", NULL},
                   *kl[] = {"n_layer", NULL}, *kh[] = {"n_head", NULL}, *kf[] = {"n_inner", NULL};
        if (s == VKT_OK) s = get_int(o, path, kv, -1, &c->vocab, err);
        if (s == VKT_OK) s = get_int(o, path, kc, -1, &c->context, err);
        if (s == VKT_OK) s = get_int(o, path, kw, -1, &c->width, err);
        if (s == VKT_OK) s = get_int(o, path, kl, -1, &c->layers, err);
        if (s == VKT_OK) s = get_int(o, path, kh, -1, &c->heads, err);
        // null n_inner means 4C (get_int caps n_embd at 2^30: 4C is computed in 64 bits)
        if (s == VKT_OK && 4 * (int64_t)c->width > (1 << 30))
            s = vkt_fail(err, VKT_ERR_FORMAT, "%s: \"n_embd\" %d is too large (its 4x MLP width overflows)", path,
                         c->width);
        if (s == VKT_OK) s = get_int(o, path, kf, 4 * c->width, &c->ffn, err);
        c->kv_heads = c->heads;
        if (s == VKT_OK) s = get_real(o, path, "layer_norm_epsilon", 1e-5, &c->eps, err);
        if (s == VKT_OK) s = get_bool(o, path, "tie_word_embeddings", true, &c->tied, err);
        if (s == VKT_OK) s = get_str(o, path, "activation_function", &act, err);
        if (s == VKT_OK && act && strcmp(act, "gelu_new") && strcmp(act, "gelu_pytorch_tanh"))
            s = vkt_fail(err, VKT_ERR_UNSUPPORTED, "%s: activation_function \"%s\" (vkt has gelu_new, the tanh GELU)",
                         path, act);
    } else if (!strcmp(mt, "llama")) {
        c->family = VKT_FAMILY_LLAMA;
        c->norm = VKT_NORM_RMSNORM;
        c->pos = VKT_POS_ROPE;
        c->mlp = VKT_MLP_SWIGLU;
        c->bias = false;
        const char *kv[] = {"vocab_size", NULL}, *kc[] = {"max_position_embeddings", NULL},
                   *kw[] = {"hidden_size", NULL}, *kl[] = {"num_hidden_layers", NULL},
                   *kh[] = {"num_attention_heads", NULL}, *kk[] = {"num_key_value_heads", NULL},
                   *kf[] = {"intermediate_size", NULL};
        if (s == VKT_OK) s = get_int(o, path, kv, -1, &c->vocab, err);
        if (s == VKT_OK) s = get_int(o, path, kc, -1, &c->context, err);
        if (s == VKT_OK) s = get_int(o, path, kw, -1, &c->width, err);
        if (s == VKT_OK) s = get_int(o, path, kl, -1, &c->layers, err);
        if (s == VKT_OK) s = get_int(o, path, kh, -1, &c->heads, err);
        if (s == VKT_OK) s = get_int(o, path, kk, c->heads, &c->kv_heads, err);
        if (s == VKT_OK) s = get_int(o, path, kf, -1, &c->ffn, err);
        if (s == VKT_OK) s = get_real(o, path, "rms_norm_eps", 1e-6, &c->eps, err);
        if (s == VKT_OK) s = get_real(o, path, "rope_theta", 10000.0, &c->rope_theta, err);
        if (s == VKT_OK) s = get_bool(o, path, "tie_word_embeddings", false, &c->tied, err);
        bool ab = false, mb = false;
        if (s == VKT_OK) s = get_bool(o, path, "attention_bias", false, &ab, err);
        if (s == VKT_OK) s = get_bool(o, path, "mlp_bias", false, &mb, err);
        if (s == VKT_OK && (ab || mb))
            s = vkt_fail(err, VKT_ERR_UNSUPPORTED, "%s: Llama with attention_bias or mlp_bias is not supported", path);
        json_t *rs = json_object_get(o, "rope_scaling");
        if (s == VKT_OK && rs && !json_is_null(rs))
            s = vkt_fail(err, VKT_ERR_UNSUPPORTED, "%s: rope_scaling is not supported", path);
        if (s == VKT_OK) s = get_str(o, path, "hidden_act", &act, err);
        if (s == VKT_OK && act && strcmp(act, "silu"))
            s = vkt_fail(err, VKT_ERR_UNSUPPORTED, "%s: hidden_act \"%s\" (vkt has silu)", path, act);
    } else {
        s = vkt_fail(err, VKT_ERR_UNSUPPORTED, "%s: unknown model_type \"%s\" (vkt reads gpt2 and llama)", path, mt);
    }
    json_decref(o);
    if (s == VKT_OK) {
        s = vkt_model_config_check(c, err);
        if (s != VKT_OK) vkt_fail_wrap(err, "%s", path);
    }
    return s;
}
