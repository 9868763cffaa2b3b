// model_config_json.c: config.json as transformers reads and writes it for GPT2LMHeadModel and
// the llama family (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM).
// Reading is strict: a duplicate key or a wrongly typed field is an error naming it, a field
// vkt cannot honour (another activation, rope_scaling type or head class) is UNSUPPORTED, and
// fields that contradict each other are FORMAT errors naming the field. Defaults are the
// ones transformers' config classes use, so an absent field means what it means there.
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_config.h"

// model_type and the CausalLM class of each architecture, in vkt_arch order.
static const struct {
    const char *type, *cls;
} archs[] = {
    {"gpt2", "GPT2LMHeadModel"},   {"llama", "LlamaForCausalLM"}, {"mistral", "MistralForCausalLM"},
    {"qwen2", "Qwen2ForCausalLM"}, {"qwen3", "Qwen3ForCausalLM"},
};
#define N_ARCHS ((int)(sizeof archs / sizeof archs[0]))

static void put_rope_scaling(json_t *o, const vkt_rope_scaling *r) {
    if (r->type == VKT_ROPE_PLAIN) {
        json_object_set_new(o, "rope_scaling", json_null());
    } else if (r->type == VKT_ROPE_LINEAR) {
        json_object_set_new(
            o, "rope_scaling",
            json_pack("{s:s, s:f}", "rope_type", "linear", "factor", (double)r->factor));
    } else {
        json_object_set_new(o, "rope_scaling",
                            json_pack("{s:s, s:f, s:f, s:f, s:i}", "rope_type", "llama3", "factor",
                                      (double)r->factor, "low_freq_factor",
                                      (double)r->low_freq_factor, "high_freq_factor",
                                      (double)r->high_freq_factor,
                                      "original_max_position_embeddings", r->original_context));
    }
}

// Qwen2/Qwen3 spell a sliding window as use_sliding_window + sliding_window + max_window_layers
// (layers from max_window_layers on slide); vkt's one window for every layer is max 0.
static void put_qwen_window(json_t *o, int window) {
    json_object_set_new(o, "use_sliding_window", json_boolean(window > 0));
    json_object_set_new(o, "sliding_window", window > 0 ? json_integer(window) : json_null());
    if (window > 0) json_object_set_new(o, "max_window_layers", json_integer(0));
}

static void put_llama(json_t *o, const vkt_model_config *c) {
    json_object_set_new(o, "vocab_size", json_integer(c->vocab));
    json_object_set_new(o, "max_position_embeddings", json_integer(c->context));
    json_object_set_new(o, "hidden_size", json_integer(c->width));
    json_object_set_new(o, "intermediate_size", json_integer(c->ffn));
    json_object_set_new(o, "num_hidden_layers", json_integer(c->layers));
    json_object_set_new(o, "num_attention_heads", json_integer(c->heads));
    json_object_set_new(o, "num_key_value_heads", json_integer(c->kv_heads));
    // Qwen3's head_dim defaults to 128, not C / H: always spelled out for it.
    if (c->head_dim || c->arch == VKT_ARCH_QWEN3)
        json_object_set_new(o, "head_dim", json_integer(vkt_head_dim(c)));
    json_object_set_new(o, "hidden_act", json_string("silu"));
    json_object_set_new(o, "rms_norm_eps", json_real(c->eps));
    json_object_set_new(o, "rope_theta", json_real(c->rope_theta));
    put_rope_scaling(o, &c->rope_scaling);
    switch (c->arch) {
    case VKT_ARCH_MISTRAL:
        json_object_set_new(o, "sliding_window",
                            c->sliding_window ? json_integer(c->sliding_window) : json_null());
        break;
    case VKT_ARCH_QWEN2: put_qwen_window(o, c->sliding_window); break;
    case VKT_ARCH_QWEN3:
        json_object_set_new(o, "attention_bias", json_boolean(c->qkv_bias));
        put_qwen_window(o, c->sliding_window);
        break;
    default:
        json_object_set_new(o, "attention_bias", json_boolean(c->qkv_bias));
        json_object_set_new(o, "mlp_bias", json_boolean(c->mlp_bias));
        break;
    }
}

vkt_status vkt_model_config_to_json_ids(const vkt_model_config *c, int bos, int eos, char **text,
                                        vkt_error *err) {
    *text = NULL;
    if ((int)c->arch < 0 || (int)c->arch >= N_ARCHS)
        return vkt_fail(err, VKT_ERR_ARG, "config.json: unknown architecture %d", (int)c->arch);
    json_t *o = json_object();
    if (!o) return vkt_fail(err, VKT_ERR_NOMEM, "config.json");
    json_object_set_new(o, "architectures", json_pack("[s]", archs[c->arch].cls));
    json_object_set_new(o, "model_type", json_string(archs[c->arch].type));
    if (c->family == VKT_FAMILY_GPT2) {
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
    } else {
        put_llama(o, c);
    }
    if (bos >= 0) json_object_set_new(o, "bos_token_id", json_integer(bos));
    if (eos >= 0) json_object_set_new(o, "eos_token_id", json_integer(eos));
    json_object_set_new(o, "tie_word_embeddings", json_boolean(c->tied));
    json_object_set_new(o, "torch_dtype", json_string("float32"));
    *text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(o);
    return *text ? VKT_OK : vkt_fail(err, VKT_ERR_NOMEM, "config.json");
}

vkt_status vkt_model_config_to_json(const vkt_model_config *c, char **text, vkt_error *err) {
    // 256: the byte tokenizer's <|endoftext|> (tokenizer.h), the presets' BOS and EOS.
    return vkt_model_config_to_json_ids(c, 256, 256, text, err);
}

// Reads an integer field, trying several Hugging Face spellings; required unless dflt >= 0.
static vkt_status get_int(json_t *o, const char *path, const char *const *keys, int dflt, int *out,
                          vkt_error *err) {
    for (int i = 0; keys[i]; i++) {
        json_t *v = json_object_get(o, keys[i]);
        if (!v || json_is_null(v)) continue;
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > (1 << 30))
            return vkt_fail(err, VKT_ERR_FORMAT, "%s: \"%s\" must be a positive integer", path,
                            keys[i]);
        *out = (int)json_integer_value(v);
        return VKT_OK;
    }
    if (dflt >= 0) {
        *out = dflt;
        return VKT_OK;
    }
    return vkt_fail(err, VKT_ERR_FORMAT, "%s: missing \"%s\"", path, keys[0]);
}

static vkt_status get_int1(json_t *o, const char *path, const char *key, int dflt, int *out,
                           vkt_error *err) {
    const char *keys[] = {key, NULL};
    return get_int(o, path, keys, dflt, out, err);
}

// A positive finite number, dflt when absent or null; any other type is an error naming key.
static vkt_status get_real(json_t *o, const char *path, const char *key, double dflt, float *out,
                           vkt_error *err) {
    json_t *v = json_object_get(o, key);
    double x = !v || json_is_null(v) ? dflt : json_number_value(v);
    if (v && !json_is_null(v) && !json_is_number(v))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: \"%s\" must be a number", path, key);
    if (!(x > 0) || !(x <= 3.4e38))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: \"%s\" is %g; it must be a positive float", path,
                        key, x);
    *out = (float)x;
    return VKT_OK;
}

// A boolean, dflt when absent or null ("yes", 1 and "true" are errors, not false).
static vkt_status get_bool(json_t *o, const char *path, const char *key, bool dflt, bool *out,
                           vkt_error *err) {
    json_t *v = json_object_get(o, key);
    if (v && !json_is_null(v) && !json_is_boolean(v))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: \"%s\" must be true or false", path, key);
    *out = v && !json_is_null(v) ? json_is_true(v) : dflt;
    return VKT_OK;
}

// A string or absent/null (*out NULL).
static vkt_status get_str(json_t *o, const char *path, const char *key, const char **out,
                          vkt_error *err) {
    json_t *v = json_object_get(o, key);
    *out = json_string_value(v);
    if (v && !json_is_null(v) && !json_is_string(v))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: \"%s\" must be a string", path, key);
    return VKT_OK;
}

// "architectures" (optional) names the head class; vkt builds only the CausalLM one.
static vkt_status check_architectures(json_t *o, const char *path, vkt_arch arch, vkt_error *err) {
    json_t *a = json_object_get(o, "architectures");
    if (!a || json_is_null(a)) return VKT_OK;
    if (!json_is_array(a))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: \"architectures\" must be a list of strings",
                        path);
    for (size_t i = 0; i < json_array_size(a); i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (!s)
            return vkt_fail(err, VKT_ERR_FORMAT, "%s: \"architectures\" must be a list of strings",
                            path);
        if (strcmp(s, archs[arch].cls))
            return vkt_fail(err, VKT_ERR_UNSUPPORTED,
                            "%s: architectures \"%s\" (vkt builds %s for model_type \"%s\")", path,
                            s, archs[arch].cls, archs[arch].type);
    }
    return VKT_OK;
}

// "rope_scaling": null, {"rope_type"|"type": "default"|"linear"|"llama3", ...}.
static vkt_status get_rope_scaling(json_t *o, const char *path, vkt_rope_scaling *r,
                                   vkt_error *err) {
    memset(r, 0, sizeof *r);
    json_t *rs = json_object_get(o, "rope_scaling");
    if (!rs || json_is_null(rs)) return VKT_OK;
    if (!json_is_object(rs))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: \"rope_scaling\" must be an object or null",
                        path);
    char where[4200];
    snprintf(where, sizeof where, "%s: rope_scaling", path);
    const char *type = NULL;
    VKT_TRY(get_str(rs, where, "rope_type", &type, err));
    if (!type) VKT_TRY(get_str(rs, where, "type", &type, err));
    if (!type)
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: \"rope_scaling\" has no \"rope_type\"", path);
    if (!strcmp(type, "default")) return VKT_OK;
    if (!strcmp(type, "linear")) {
        r->type = VKT_ROPE_LINEAR;
        return get_real(rs, where, "factor", -1, &r->factor, err);
    }
    if (strcmp(type, "llama3"))
        return vkt_fail(err, VKT_ERR_UNSUPPORTED,
                        "%s: rope_scaling type \"%s\" (vkt has default, linear and llama3)", path,
                        type);
    r->type = VKT_ROPE_LLAMA3;
    VKT_TRY(get_real(rs, where, "factor", -1, &r->factor, err));
    VKT_TRY(get_real(rs, where, "low_freq_factor", -1, &r->low_freq_factor, err));
    VKT_TRY(get_real(rs, where, "high_freq_factor", -1, &r->high_freq_factor, err));
    VKT_TRY(get_int1(rs, where, "original_max_position_embeddings", -1, &r->original_context, err));
    if (!(r->high_freq_factor > r->low_freq_factor))
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "%s: \"high_freq_factor\" %g must exceed \"low_freq_factor\" %g", where,
                        r->high_freq_factor, r->low_freq_factor);
    return VKT_OK;
}

// The sliding window: Mistral's "sliding_window" (null: none; absent: MistralConfig's 4096);
// Qwen's only when use_sliding_window, and then on layers max_window_layers (28) and up.
static vkt_status get_window(json_t *o, const char *path, vkt_model_config *c, vkt_error *err) {
    json_t *v = json_object_get(o, "sliding_window");
    if (c->arch == VKT_ARCH_MISTRAL) {
        if (v && json_is_null(v)) return VKT_OK;
        return get_int1(o, path, "sliding_window", 4096, &c->sliding_window, err);
    }
    bool use = false;
    int window = 0, from = 0;
    VKT_TRY(get_bool(o, path, "use_sliding_window", false, &use, err));
    if (!use) return VKT_OK;
    VKT_TRY(get_int1(o, path, "sliding_window", 0, &window, err));
    json_t *m = json_object_get(o, "max_window_layers");
    if (m && !json_is_null(m) && (!json_is_integer(m) || json_integer_value(m) < 0))
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "%s: \"max_window_layers\" must be a non-negative integer", path);
    json_int_t mw = m && !json_is_null(m) ? json_integer_value(m) : 28;
    if (mw >= c->layers) return VKT_OK; // no layer slides
    from = (int)mw;
    if (from > 0)
        return vkt_fail(err, VKT_ERR_UNSUPPORTED,
                        "%s: use_sliding_window with max_window_layers %d of %d layers (a window "
                        "on some layers "
                        "only) is not supported",
                        path, from, c->layers);
    c->sliding_window = window;
    return VKT_OK;
}

// Fields that contradict each other, named as config.json spells them.
static vkt_status check_heads(const char *path, const vkt_model_config *c, vkt_error *err) {
    if (c->heads % c->kv_heads)
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "%s: \"num_key_value_heads\" %d does not divide \"num_attention_heads\" %d",
                        path, c->kv_heads, c->heads);
    if (!c->head_dim && c->width % c->heads)
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "%s: \"hidden_size\" %d is not a multiple of \"num_attention_heads\" %d "
                        "(and no \"head_dim\")",
                        path, c->width, c->heads);
    if (c->head_dim % 2)
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: \"head_dim\" %d is odd (RoPE rotates pairs)",
                        path, c->head_dim);
    if (!c->head_dim && (c->width / c->heads) % 2)
        return vkt_fail(
            err, VKT_ERR_FORMAT,
            "%s: \"hidden_size\" / \"num_attention_heads\" = %d is odd (RoPE rotates pairs)", path,
            c->width / c->heads);
    return VKT_OK;
}

static vkt_status read_gpt2(json_t *o, const char *path, vkt_model_config *c, vkt_error *err) {
    c->family = VKT_FAMILY_GPT2;
    c->arch = VKT_ARCH_GPT2;
    c->norm = VKT_NORM_LAYERNORM;
    c->pos = VKT_POS_LEARNED;
    c->mlp = VKT_MLP_GELU;
    c->bias = true;
    const char *kc[] = {"n_positions", "n_ctx", NULL}, *act = NULL;
    VKT_TRY(get_int1(o, path, "vocab_size", -1, &c->vocab, err));
    VKT_TRY(get_int(o, path, kc, -1, &c->context, err));
    VKT_TRY(get_int1(o, path, "n_embd", -1, &c->width, err));
    VKT_TRY(get_int1(o, path, "n_layer", -1, &c->layers, err));
    VKT_TRY(get_int1(o, path, "n_head", -1, &c->heads, err));
    // null n_inner means 4C (get_int caps n_embd at 2^30: 4C is computed in 64 bits)
    if (4 * (int64_t)c->width > (1 << 30))
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "%s: \"n_embd\" %d is too large (its 4x MLP width overflows)", path,
                        c->width);
    VKT_TRY(get_int1(o, path, "n_inner", 4 * c->width, &c->ffn, err));
    c->kv_heads = c->heads;
    VKT_TRY(get_real(o, path, "layer_norm_epsilon", 1e-5, &c->eps, err));
    VKT_TRY(get_bool(o, path, "tie_word_embeddings", true, &c->tied, err));
    VKT_TRY(get_str(o, path, "activation_function", &act, err));
    if (act && strcmp(act, "gelu_new") && strcmp(act, "gelu_pytorch_tanh"))
        return vkt_fail(err, VKT_ERR_UNSUPPORTED,
                        "%s: activation_function \"%s\" (vkt has gelu_new, the tanh GELU)", path,
                        act);
    return VKT_OK;
}

static vkt_status read_llama(json_t *o, const char *path, vkt_arch arch, vkt_model_config *c,
                             vkt_error *err) {
    c->family = VKT_FAMILY_LLAMA;
    c->arch = arch;
    c->norm = VKT_NORM_RMSNORM;
    c->pos = VKT_POS_ROPE;
    c->mlp = VKT_MLP_SWIGLU;
    const char *act = NULL;
    VKT_TRY(get_int1(o, path, "vocab_size", -1, &c->vocab, err));
    VKT_TRY(get_int1(o, path, "max_position_embeddings", -1, &c->context, err));
    VKT_TRY(get_int1(o, path, "hidden_size", -1, &c->width, err));
    VKT_TRY(get_int1(o, path, "num_hidden_layers", -1, &c->layers, err));
    VKT_TRY(get_int1(o, path, "num_attention_heads", -1, &c->heads, err));
    VKT_TRY(get_int1(o, path, "num_key_value_heads", c->heads, &c->kv_heads, err));
    VKT_TRY(get_int1(o, path, "intermediate_size", -1, &c->ffn, err));
    // Qwen3Config's head_dim defaults to 128; the others' to hidden_size / heads (0 here).
    VKT_TRY(get_int1(o, path, "head_dim", arch == VKT_ARCH_QWEN3 ? 128 : 0, &c->head_dim, err));
    VKT_TRY(check_heads(path, c, err));
    VKT_TRY(get_real(o, path, "rms_norm_eps", 1e-6, &c->eps, err));
    VKT_TRY(get_real(o, path, "rope_theta", 10000.0, &c->rope_theta, err));
    VKT_TRY(get_rope_scaling(o, path, &c->rope_scaling, err));
    VKT_TRY(get_bool(o, path, "tie_word_embeddings", false, &c->tied, err));
    VKT_TRY(get_str(o, path, "hidden_act", &act, err));
    if (act && strcmp(act, "silu"))
        return vkt_fail(err, VKT_ERR_UNSUPPORTED, "%s: hidden_act \"%s\" (vkt has silu)", path,
                        act);
    bool ab = false, mb = false;
    if (arch == VKT_ARCH_LLAMA || arch == VKT_ARCH_QWEN3) {
        VKT_TRY(get_bool(o, path, "attention_bias", false, &ab, err));
        c->qkv_bias = c->o_bias = ab;
    }
    if (arch == VKT_ARCH_LLAMA) {
        VKT_TRY(get_bool(o, path, "mlp_bias", false, &mb, err));
        c->mlp_bias = mb;
    }
    if (arch == VKT_ARCH_QWEN2) c->qkv_bias = true; // Qwen2Attention: q/k/v biased, o_proj not
    if (arch == VKT_ARCH_QWEN3) c->qk_norm = true;
    if (arch != VKT_ARCH_LLAMA) VKT_TRY(get_window(o, path, c, err));
    return VKT_OK;
}

vkt_status vkt_model_config_from_json(const char *text, const char *path, vkt_model_config *c,
                                      vkt_error *err) {
    json_error_t je;
    // Duplicate keys are refused (jansson names the key): which one wins is not defined.
    json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!o) return vkt_fail(err, VKT_ERR_FORMAT, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    vkt_status s = VKT_OK;
    memset(c, 0, sizeof *c);
    const char *mt = NULL;
    int a = 0;
    if (!json_is_object(o))
        s = vkt_fail(err, VKT_ERR_FORMAT, "%s: not a JSON object", path);
    else if ((s = get_str(o, path, "model_type", &mt, err)) != VKT_OK) {
    } else if (!mt)
        s = vkt_fail(err, VKT_ERR_FORMAT, "%s: missing \"model_type\"", path);
    else {
        while (a < N_ARCHS && strcmp(mt, archs[a].type)) a++;
        if (a == N_ARCHS)
            s = vkt_fail(
                err, VKT_ERR_UNSUPPORTED,
                "%s: unknown model_type \"%s\" (vkt reads gpt2, llama, mistral, qwen2 and qwen3)",
                path, mt);
    }
    if (s == VKT_OK) s = check_architectures(o, path, (vkt_arch)a, err);
    if (s == VKT_OK)
        s = a == VKT_ARCH_GPT2 ? read_gpt2(o, path, c, err)
                               : read_llama(o, path, (vkt_arch)a, c, err);
    json_decref(o);
    if (s == VKT_OK) {
        s = vkt_model_config_check(c, err);
        if (s != VKT_OK) vkt_fail_wrap(err, "%s", path);
    }
    return s;
}
