// test_checkpoint_hf.c: Hugging Face model directories as transformers writes them for the
// llama family: one model.safetensors or shards + model.safetensors.index.json, tensors in
// BF16/F16/F32. The good directory reads back exactly (every value here is exact in bf16 and
// f16); each broken one fails with a message naming the file and the tensor, writing nothing.
// Host code only: no device.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "checkpoint_shards.h"
#include "support_files.h"

// A Qwen3 with attention biases and a tied head: q/k/v/o biases, q_norm/k_norm, H*D != C.
static const char *CONFIG =
    "{\"architectures\": [\"Qwen3ForCausalLM\"], \"model_type\": \"qwen3\", \"vocab_size\": 40, "
    "\"max_position_embeddings\": 32, \"hidden_size\": 16, \"num_hidden_layers\": 2, "
    "\"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"head_dim\": 8, "
    "\"intermediate_size\": 24, "
    "\"attention_bias\": true, \"tie_word_embeddings\": true, \"rms_norm_eps\": 1e-6, "
    "\"rope_theta\": 1000000.0, \"torch_dtype\": \"bfloat16\", \"eos_token_id\": [1, 2]}";

// What to break in the directory written by write_dir.
typedef struct {
    const char *omit;      // listed in the index, absent from its shard
    const char *unlisted;  // in shard 2, not in the index
    const char *extra;     // an unexpected tensor, in shard 2 and the index
    const char *bad_shape; // written with its two dimensions swapped
    const char *bad_dtype; // written as I32
    const char *nan;       // element 3 is a NaN
    const char *shard2;    // the second shard's name in the index (default model-00002-of-00002...)
    bool no_shard2;        // the second shard is not written
    bool truncate2;        // the second shard is cut in half
    bool single;           // one model.safetensors, no index
    bool with_lm_head;     // a tied copy of lm_head.weight
} faults;

static const char *SHARD1 = "model-00001-of-00002.safetensors",
                  *SHARD2 = "model-00002-of-00002.safetensors";

static float value_of(int t, int64_t j) { return (float)((t * 37 + j * 11) % 255 - 127) / 64.0f; }

static const char *dtype_of(int t) { return t % 3 == 0 ? "BF16" : t % 3 == 1 ? "F16" : "F32"; }

// f32 -> f16 for the values above (normal or zero, exact).
static uint16_t to_f16(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7fffffff) == 0) return (uint16_t)(u >> 16);
    int e = (int)((u >> 23) & 0xff) - 127 + 15;
    return (uint16_t)((u >> 16 & 0x8000) | (uint32_t)e << 10 | (u & 0x7fffff) >> 13);
}

// Appends tensor t's bytes (numel values) in dtype to data; returns its byte count.
static size_t put_values(unsigned char *data, const char *dtype, int t, int64_t numel, bool nan) {
    size_t w = !strcmp(dtype, "BF16") || !strcmp(dtype, "F16") ? 2 : 4;
    for (int64_t j = 0; j < numel; j++) {
        float x = nan && j == 3 ? NAN : value_of(t, j);
        uint32_t u;
        memcpy(&u, &x, 4);
        uint16_t h =
            !strcmp(dtype, "F16") ? (nan && j == 3 ? 0x7e00 : to_f16(x)) : (uint16_t)(u >> 16);
        if (w == 2)
            memcpy(data + 2 * j, &h, 2);
        else
            memcpy(data + 4 * j, &u, 4);
    }
    return (size_t)numel * w;
}

typedef struct {
    json_t *hdr;
    unsigned char *data;
    size_t n;
} shard;

static void shard_add(shard *s, const char *name, const char *dtype, int ndim, const int64_t *shape,
                      int t, bool nan) {
    int64_t numel = 1;
    json_t *sh = json_array();
    for (int d = 0; d < ndim; d++)
        numel *= shape[d], json_array_append_new(sh, json_integer(shape[d]));
    s->data = realloc(s->data, s->n + (size_t)numel * 4);
    size_t k = put_values(s->data + s->n, dtype, t, numel, nan);
    json_object_set_new(s->hdr, name,
                        json_pack("{s:s, s:o, s:[I, I]}", "dtype", dtype, "shape", sh,
                                  "data_offsets", (json_int_t)s->n, (json_int_t)(s->n + k)));
    s->n += k;
}

static void shard_write(shard *s, const char *file, bool truncate) {
    char *h = json_dumps(s->hdr, JSON_COMPACT);
    size_t hn = (strlen(h) + 7) / 8 * 8, total = 8 + hn + s->n;
    unsigned char *b = calloc(1, total);
    uint64_t len = hn;
    memcpy(b, &len, 8);
    memset(b + 8, ' ', hn);
    memcpy(b + 8, h, strlen(h));
    if (s->n) memcpy(b + 8 + hn, s->data, s->n);
    test_write_bytes(test_path(file), b, truncate ? total / 2 : total);
    free(b), free(h), free(s->data);
    json_decref(s->hdr);
}

// Writes config.json and the tensors of ps (first half in shard 1), broken as f says.
static void write_dir(const vkt_params *ps, const faults *f) {
    const char *files[] = {"model.safetensors", "model.safetensors.index.json", SHARD1, SHARD2,
                           "config.json"};
    for (int i = 0; i < 5; i++) unlink(test_path(files[i]));
    test_write_bytes(test_path("config.json"), CONFIG, strlen(CONFIG));
    shard s[2] = {{json_object(), NULL, 0}, {json_object(), NULL, 0}};
    json_t *map = json_object();
    const char *s2 = f->shard2 ? f->shard2 : SHARD2;
    for (int i = 0; i < ps->n; i++) {
        const vkt_param *p = &ps->p[i];
        int k = f->single ? 0 : i >= ps->n / 2;
        json_object_set_new(map, p->name, json_string(k ? s2 : SHARD1));
        if (f->omit && !strcmp(f->omit, p->name)) continue;
        int64_t shape[2] = {p->shape[0], p->shape[1]};
        if (f->bad_shape && !strcmp(f->bad_shape, p->name))
            shape[0] = p->shape[1], shape[1] = p->shape[0];
        const char *dt = f->bad_dtype && !strcmp(f->bad_dtype, p->name) ? "I32" : dtype_of(i);
        shard_add(&s[k], p->name, dt, p->ndim, shape, i, f->nan && !strcmp(f->nan, p->name));
    }
    int64_t inv[1] = {4}, emb[2] = {40, 16};
    shard_add(&s[f->single ? 0 : 1], "model.layers.0.self_attn.rotary_emb.inv_freq", "F32", 1, inv,
              99, false);
    json_object_set_new(map, "model.layers.0.self_attn.rotary_emb.inv_freq", json_string(s2));
    if (f->with_lm_head) {
        shard_add(&s[0], "lm_head.weight", "BF16", 2, emb, 0, false);
        json_object_set_new(map, "lm_head.weight", json_string(SHARD1));
    }
    shard *last = &s[f->single ? 0 : 1];
    if (f->unlisted) shard_add(last, f->unlisted, "F32", 1, inv, 98, false);
    if (f->extra) {
        shard_add(last, f->extra, "F32", 1, inv, 97, false);
        json_object_set_new(map, f->extra, json_string(s2));
    }
    if (f->single) {
        shard_write(&s[0], "model.safetensors", false);
        json_decref(s[1].hdr), free(s[1].data);
        json_decref(map);
        return;
    }
    shard_write(&s[0], SHARD1, false);
    if (f->no_shard2)
        json_decref(s[1].hdr), free(s[1].data);
    else
        shard_write(&s[1], SHARD2, f->truncate2);
    json_t *index =
        json_pack("{s:{s:I}, s:o}", "metadata", "total_size", (json_int_t)1234, "weight_map", map);
    char *text = json_dumps(index, JSON_INDENT(2));
    test_write_bytes(test_path("model.safetensors.index.json"), text, strlen(text));
    free(text);
    json_decref(index);
}

static void load_cfg(vkt_model_config *c, vkt_params *ps) {
    vkt_error err = {0};
    if (vkt_model_config_from_json(CONFIG, "config.json", c, &err) != VKT_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(vkt_params_build(c, ps, &err), VKT_OK);
}

// What the good directory holds, in ps's layout (alignment gaps zero).
static float *expected(const vkt_params *ps) {
    float *x = calloc(ps->total, sizeof *x);
    for (int i = 0; i < ps->n; i++)
        for (uint64_t j = 0; j < ps->p[i].count; j++)
            x[ps->p[i].offset + j] = value_of(i, (int64_t)j);
    return x;
}

static void expect_good(const faults *f) {
    vkt_model_config c, c2;
    vkt_params ps;
    load_cfg(&c, &ps);
    write_dir(&ps, f);
    vkt_error err = {0};
    if (vkt_checkpoint_config(test_dir(), &c2, &err) != VKT_OK) fail_msg("%s", err.msg);
    assert_memory_equal(&c, &c2, sizeof c);
    float *got = malloc(ps.total * sizeof *got), *want = expected(&ps);
    for (uint64_t i = 0; i < ps.total; i++) got[i] = 42.0f;
    if (vkt_checkpoint_read_params(test_dir(), &c, &ps, got, &err) != VKT_OK)
        fail_msg("%s", err.msg);
    assert_memory_equal(got, want, ps.total * sizeof *got);
    free(got), free(want);
    vkt_params_free(&ps);
}

static void test_sharded_reads_back(void **state) {
    (void)state;
    faults f = {0};
    expect_good(&f);
    f.with_lm_head = true; // a tied copy is ignored
    expect_good(&f);
    faults one = {.single = true};
    expect_good(&one);
}

// The raw view: dtype, shape and the bytes as written, from the shard that holds them.
static void test_raw_tensor(void **state) {
    (void)state;
    vkt_model_config c;
    vkt_params ps;
    load_cfg(&c, &ps);
    faults f = {0};
    write_dir(&ps, &f);
    vkt_ckpt *h;
    vkt_error err = {0};
    if (vkt_checkpoint_open(test_dir(), &h, &err) != VKT_OK) fail_msg("%s", err.msg);
    assert_int_equal(vkt_checkpoint_count(h), ps.n + 1); // + rotary_emb.inv_freq
    assert_non_null(strstr(vkt_checkpoint_path(h), "model.safetensors.index.json"));
    for (int i = 0; i < ps.n; i++) {
        vkt_ckpt_tensor t;
        assert_int_equal(vkt_checkpoint_tensor(h, ps.p[i].name, &t, &err), VKT_OK);
        assert_string_equal(t.name, ps.p[i].name);
        assert_string_equal(vkt_st_dtype_name(t.dtype), dtype_of(i));
        assert_non_null(strstr(t.file, i >= ps.n / 2 ? SHARD2 : SHARD1));
        assert_int_equal(t.ndim, ps.p[i].ndim);
        assert_int_equal(t.numel, (int64_t)ps.p[i].count);
        unsigned char want[4096];
        size_t n = put_values(want, dtype_of(i), i, t.numel, false);
        assert_int_equal(t.nbytes, n);
        assert_memory_equal(t.bytes, want, n);
    }
    vkt_ckpt_tensor t;
    assert_int_equal(vkt_checkpoint_tensor(h, "model.nope", &t, &err), VKT_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "model.nope"));
    vkt_checkpoint_close(h);
    vkt_params_free(&ps);
}

// f breaks the directory: the read fails naming file and tensor, and params keeps its 42s.
static void expect_bad(const faults *f, const char *file, const char *tensor) {
    vkt_model_config c;
    vkt_params ps;
    load_cfg(&c, &ps);
    write_dir(&ps, f);
    float *out = malloc(ps.total * sizeof *out);
    for (uint64_t i = 0; i < ps.total; i++) out[i] = 42.0f;
    vkt_error err = {0};
    if (vkt_checkpoint_read_params(test_dir(), &c, &ps, out, &err) == VKT_OK)
        fail_msg("a broken directory was read (expected an error naming '%s' and '%s')", file,
                 tensor);
    if (!strstr(err.msg, file) || !strstr(err.msg, tensor))
        fail_msg("message '%s' should name '%s' and '%s'", err.msg, file, tensor);
    for (uint64_t i = 0; i < ps.total; i++) assert_true(out[i] == 42.0f);
    free(out);
    vkt_params_free(&ps);
}

static void test_broken_shards(void **state) {
    (void)state;
    const char *q = "model.layers.1.self_attn.q_proj.bias",
               *kn = "model.layers.1.self_attn.k_norm.weight";
    expect_bad(&(faults){.omit = q}, SHARD2, q);
    expect_bad(&(faults){.unlisted = "model.layers.1.mlp.extra"}, SHARD2,
               "model.layers.1.mlp.extra");
    expect_bad(&(faults){.extra = "model.layers.1.mlp.gate_proj.bias"}, SHARD2,
               "model.layers.1.mlp.gate_proj.bias");
    expect_bad(&(faults){.bad_shape = "model.layers.1.self_attn.q_proj.weight"}, SHARD2,
               "model.layers.1.self_attn.q_proj.weight");
    expect_bad(&(faults){.bad_dtype = kn}, SHARD2, kn);
    expect_bad(&(faults){.bad_dtype = kn}, SHARD2, "I32");
    expect_bad(&(faults){.nan = kn}, SHARD2, kn);
    expect_bad(&(faults){.no_shard2 = true}, SHARD2, "model.layers.");
    expect_bad(&(faults){.truncate2 = true}, SHARD2, "model.layers.");
    expect_bad(&(faults){.shard2 = "../model-2.safetensors"}, "../model-2.safetensors",
               "model.layers.1.");
    expect_bad(&(faults){.shard2 = "sub/model-2.safetensors"}, "sub/model-2.safetensors",
               "model.layers.1.");
    expect_bad(&(faults){.single = true, .bad_dtype = kn}, "model.safetensors", kn);
    expect_bad(&(faults){.single = true, .extra = "model.layers.7.mlp.up_proj.weight"},
               "model.safetensors", "model.layers.7.mlp.up_proj.weight");
    // A tensor the model needs that neither the index nor any shard has.
    vkt_model_config c;
    vkt_params ps;
    load_cfg(&c, &ps);
    write_dir(&ps, &(faults){0});
    c.layers = 3;
    vkt_params_free(&ps);
    assert_int_equal(vkt_params_build(&c, &ps, &(vkt_error){0}), VKT_OK);
    float *out = calloc(ps.total, sizeof *out);
    vkt_error err = {0};
    assert_int_equal(vkt_checkpoint_read_params(test_dir(), &c, &ps, out, &err), VKT_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "model.safetensors.index.json"));
    assert_non_null(strstr(err.msg, "model.layers.2.input_layernorm.weight"));
    free(out);
    vkt_params_free(&ps);
    // Neither file: the message names model.safetensors.
    unlink(test_path("model.safetensors.index.json"));
    vkt_ckpt *h;
    assert_int_equal(vkt_checkpoint_open(test_dir(), &h, &err), VKT_ERR_IO);
    assert_non_null(strstr(err.msg, "model.safetensors"));
}

static void test_bad_index(void **state) {
    (void)state;
    vkt_model_config c;
    vkt_params ps;
    load_cfg(&c, &ps);
    write_dir(&ps, &(faults){0});
    const char *bad[] = {"{\"weight_map\": 3}", "[1]", "{\"weight_map\": {\"a\": 1}}",
                         "{\"weight_map\": {\"a\": \"x\", \"a\": \"y\"}}",
                         "{\"weight_map\": {\"a\": \"\"}}"};
    for (int i = 0; i < 5; i++) {
        test_write_bytes(test_path("model.safetensors.index.json"), bad[i], strlen(bad[i]));
        vkt_ckpt *h;
        vkt_error err = {0};
        assert_int_equal(vkt_checkpoint_open(test_dir(), &h, &err), VKT_ERR_FORMAT);
        if (!strstr(err.msg, "model.safetensors.index.json")) fail_msg("%s", err.msg);
    }
    vkt_params_free(&ps);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sharded_reads_back, test_dir_setup, test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_raw_tensor, test_dir_setup, test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_broken_shards, test_dir_setup, test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_bad_index, test_dir_setup, test_dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
