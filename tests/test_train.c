// test_train.c: checkpoints (bit-exact round trip, Hugging Face names, every bad-input
// case fails with the file and the fault and changes nothing) and the training loop
// (loss falls; same seed, same weights; an interrupted and resumed run equals an
// uninterrupted one bit for bit).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <cmocka.h>

#include "checkpoint.h"
#include "safetensors.h"
#include "support_gpu.h"
#include "train.h"

static vkt_model_config tiny(const char *preset) {
    vkt_model_config c;
    vkt_error err;
    assert_int_equal(vkt_model_preset(preset, &c, &err), VKT_OK);
    c.context = 32, c.layers = 2, c.width = 32, c.ffn = 64, c.heads = 2,
    c.kv_heads = c.family == VKT_FAMILY_GPT2 ? 2 : 1;
    return c;
}

static char *tmpdir(void) {
    char *d = malloc(64);
    snprintf(d, 64, "/tmp/vkt-train-XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static void rmrf(const char *d) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
    assert_int_equal(system(cmd), 0);
}

static void test_roundtrip(void **s) {
    vkt_ctx *ctx = test_ctx();
    const char *presets[] = {"gpt2-tiny", "llama-tiny"};
    for (int f = 0; f < 2; f++) {
        vkt_model_config c = tiny(presets[f]);
        vkt_model *m, *m2;
        vkt_error err = {0};
        assert_int_equal(vkt_model_create(ctx, &c, &m), VKT_OK);
        TEST_OK(ctx, vkt_model_init(m, 11));
        char *dir = tmpdir();
        TEST_OK(ctx, vkt_checkpoint_save_model(m, dir, true));
        TEST_OK(ctx, vkt_checkpoint_load_model(ctx, dir, &m2));
        const vkt_params *ps = vkt_model_params(m);
        float *a = malloc(ps->total * 4), *b = malloc(ps->total * 4);
        TEST_OK(ctx, vkt_model_get_params(m, a));
        TEST_OK(ctx, vkt_model_get_params(m2, b));
        assert_memory_equal(a, b, ps->total * 4);
        assert_memory_equal(vkt_model_cfg(m), vkt_model_cfg(m2), sizeof c);
        // The file uses Hugging Face names and layouts.
        char path[256];
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
        vkt_safetensors st;
        assert_int_equal(vkt_safetensors_open(&st, path, &err), VKT_OK);
        if (f == 0) {
            const vkt_st_tensor *t =
                vkt_safetensors_find(&st, "transformer.h.1.attn.c_attn.weight");
            assert_non_null(t);
            assert_true(t->shape[0] == c.width && t->shape[1] == 3 * c.width); // Conv1D (in, out)
            assert_null(vkt_safetensors_find(&st, "lm_head.weight"));          // tied
        } else {
            const vkt_st_tensor *t =
                vkt_safetensors_find(&st, "model.layers.0.self_attn.k_proj.weight");
            assert_non_null(t);
            assert_true(t->shape[0] == c.kv_heads * (c.width / c.heads) &&
                        t->shape[1] == c.width); // (out, in)
            assert_non_null(vkt_safetensors_find(&st, "lm_head.weight"));
        }
        vkt_safetensors_close(&st);
        free(a), free(b);
        vkt_model_destroy(m), vkt_model_destroy(m2);
        rmrf(dir);
        free(dir);
    }
    test_ctx_done(ctx);
}

// Writes bytes to DIR/name.
static void put(const char *dir, const char *name, const void *data, size_t n) {
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fwrite(data, 1, n, f);
    fclose(f);
}

static char *slurp(const char *dir, const char *name, size_t *n) {
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc(*n + 1);
    assert_int_equal(fread(b, 1, *n, f), *n);
    fclose(f);
    b[*n] = 0;
    return b;
}

// Each bad checkpoint fails with a message naming the file and the fault, and the
// caller's parameter array is left as it was.
static void expect_bad(const char *dir, const vkt_model_config *c, const vkt_params *ps,
                       const char *file, const char *fault) {
    float *out = malloc(ps->total * 4);
    for (uint64_t i = 0; i < ps->total; i++) out[i] = 42.0f;
    vkt_error err = {0};
    vkt_model_config cfg;
    vkt_status s = vkt_checkpoint_config(dir, &cfg, &err);
    if (s == VKT_OK) s = vkt_checkpoint_read_params(dir, c, ps, out, &err);
    assert_int_not_equal(s, VKT_OK);
    if (!strstr(err.msg, file) || !strstr(err.msg, fault))
        fail_msg("message '%s' should name '%s' and '%s'", err.msg, file, fault);
    for (uint64_t i = 0; i < ps->total; i++) assert_true(out[i] == 42.0f);
    free(out);
}

static void test_bad_checkpoints(void **s) {
    vkt_ctx *ctx = test_ctx();
    vkt_model_config c = tiny("gpt2-tiny");
    vkt_model *m;
    vkt_error err = {0};
    assert_int_equal(vkt_model_create(ctx, &c, &m), VKT_OK);
    TEST_OK(ctx, vkt_model_init(m, 3));
    char *dir = tmpdir();
    assert_int_equal(vkt_checkpoint_save_model(m, dir, false), VKT_OK);
    const vkt_params *ps = vkt_model_params(m);
    size_t n, nc;
    char *good = slurp(dir, "model.safetensors", &n), *cfg = slurp(dir, "config.json", &nc);

    put(dir, "model.safetensors", good, n / 2);
    expect_bad(dir, &c, ps, "model.safetensors", ""); // truncated
    char hdr[16];
    memcpy(hdr, good, 8);
    uint64_t big = 1ull << 40;
    memcpy(hdr, &big, 8);
    memcpy(hdr + 8, good + 8, 8);
    put(dir, "model.safetensors", hdr, 16);
    expect_bad(dir, &c, ps, "model.safetensors", "header"); // header length past the end
    char *bad = malloc(n);
    memcpy(bad, good, n);
    char *dt = strstr(bad + 8, "\"F32\"");
    assert_non_null(dt);
    memcpy(dt, "\"X32\"", 5);
    put(dir, "model.safetensors", bad, n);
    expect_bad(dir, &c, ps, "model.safetensors", "X32"); // unknown dtype
    memcpy(bad, good, n);
    char *name = strstr(bad + 8, "transformer.ln_f.bias");
    assert_non_null(name);
    memcpy(name, "transformer.ln_x", 16);
    put(dir, "model.safetensors", bad, n);
    expect_bad(dir, &c, ps, "model.safetensors", "missing tensor 'transformer.ln_f.bias'");
    put(dir, "model.safetensors", good, n);
    // Shape that disagrees with config.json: claim a wider model.
    vkt_model_config wide = c;
    wide.width = 64, wide.ffn = 128;
    vkt_params pw;
    assert_int_equal(vkt_params_build(&wide, &pw, &err), VKT_OK);
    expect_bad(dir, &wide, &pw, "model.safetensors", "config.json implies");
    vkt_params_free(&pw);
    // config.json faults: unknown model_type, missing file.
    put(dir, "config.json", "{\"model_type\": \"mamba\"}", 23);
    expect_bad(dir, &c, ps, "config.json", "unknown model_type");
    char p[256];
    snprintf(p, sizeof p, "%s/config.json", dir);
    unlink(p);
    expect_bad(dir, &c, ps, "config.json", "No such file");
    put(dir, "config.json", cfg, nc);
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    unlink(p);
    expect_bad(dir, &c, ps, "model.safetensors", "No such file");
    free(good), free(cfg), free(bad);
    vkt_model_destroy(m);
    rmrf(dir);
    free(dir);
    test_ctx_done(ctx);
}

static uint16_t to_bf16(float f) {
    uint32_t b;
    memcpy(&b, &f, 4);
    return (uint16_t)((b + 0x7FFFu + ((b >> 16) & 1u)) >> 16); // round to nearest even
}

// A checkpoint as the Hugging Face hub serves GPT-2: names without the "transformer."
// prefix (GPT2Model's state dict), BF16 storage, the attention-mask buffers
// "h.N.attn.bias", and the tied lm_head stored as well. It must load, converted to f32.
static void test_hf_style_checkpoint(void **s) {
    vkt_ctx *ctx = test_ctx();
    vkt_model_config c = tiny("gpt2-tiny");
    vkt_model *m;
    vkt_error err = {0};
    assert_int_equal(vkt_model_create(ctx, &c, &m), VKT_OK);
    TEST_OK(ctx, vkt_model_init(m, 21));
    const vkt_params *ps = vkt_model_params(m);
    float *p = malloc(ps->total * 4), *got = malloc(ps->total * 4), *want = calloc(ps->total, 4);
    TEST_OK(ctx, vkt_model_get_params(m, p));
    char *dir = tmpdir();
    assert_int_equal(vkt_checkpoint_save_model(m, dir, false), VKT_OK); // config.json

    json_t *hdr = json_object();
    uint64_t off = 0;
    const vkt_param *wte = vkt_params_find(ps, VKT_P_WTE, -1);
    for (int i = 0; i <= ps->n + 1; i++) {
        const char *name;
        int64_t shape[4] = {0};
        int nd;
        uint64_t count;
        char buf[128];
        if (i < ps->n) {
            name = ps->p[i].name + (strncmp(ps->p[i].name, "transformer.", 12) ? 0 : 12);
            nd = ps->p[i].ndim, shape[0] = ps->p[i].shape[0], shape[1] = ps->p[i].shape[1],
            count = ps->p[i].count;
        } else if (i == ps->n) {
            name = "lm_head.weight", nd = 2, shape[0] = wte->shape[0], shape[1] = wte->shape[1],
            count = wte->count;
        } else {
            snprintf(buf, sizeof buf, "h.0.attn.bias");
            name = buf, nd = 4, shape[0] = shape[1] = 1, shape[2] = shape[3] = 4, count = 16;
        }
        json_t *sh = json_array();
        for (int d = 0; d < nd; d++) json_array_append_new(sh, json_integer(shape[d]));
        json_object_set_new(hdr, name,
                            json_pack("{s:s, s:o, s:[I, I]}", "dtype", "BF16", "shape", sh,
                                      "data_offsets", (json_int_t)off,
                                      (json_int_t)(off + 2 * count)));
        off += 2 * count;
    }
    char *hj = json_dumps(hdr, JSON_COMPACT);
    size_t hl = strlen(hj), pad = (8 - hl % 8) % 8;
    char path[256];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    FILE *f = fopen(path, "wb");
    uint64_t hlen = hl + pad;
    fwrite(&hlen, 8, 1, f);
    fwrite(hj, 1, hl, f);
    for (size_t i = 0; i < pad; i++) fputc(' ', f);
    for (int i = 0; i <= ps->n + 1; i++) {
        const float *src = i < ps->n ? p + ps->p[i].offset : i == ps->n ? p + wte->offset : NULL;
        uint64_t count = i < ps->n ? ps->p[i].count : i == ps->n ? wte->count : 16;
        for (uint64_t j = 0; j < count; j++) {
            uint16_t h = src ? to_bf16(src[j]) : 0x3F80; // mask buffer: ones
            fwrite(&h, 2, 1, f);
            if (i < ps->n) {
                uint32_t b = (uint32_t)h << 16;
                memcpy(&want[ps->p[i].offset + j], &b, 4);
            }
        }
    }
    fclose(f);
    free(hj);
    json_decref(hdr);
    memset(got, 0, ps->total * 4);
    if (vkt_checkpoint_read_params(dir, &c, ps, got, &err) != VKT_OK) fail_msg("%s", err.msg);
    assert_memory_equal(got, want, ps->total * 4);
    free(p), free(got), free(want);
    vkt_model_destroy(m);
    rmrf(dir);
    free(dir);
    test_ctx_done(ctx);
}

static char *write_text(void) {
    static char path[64];
    snprintf(path, sizeof path, "/tmp/vkt-train-text-XXXXXX");
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    for (int i = 0; i < 400; i++) fputs(i % 3 ? "abc def " : "ghi jkl ", f);
    fclose(f);
    return path;
}

typedef struct {
    volatile sig_atomic_t *flag;
    int at;
    double first, last;
} watch;

static void on_step(void *user, const vkt_train_progress *p) {
    watch *w = user;
    if (p->step == 1) w->first = p->loss;
    w->last = p->loss;
    if (w->at && p->step == w->at) *w->flag = 1;
}

static float *run(vkt_ctx *ctx, const char *data, const char *dir, const char *preset, int stop_at,
                  bool resume, watch *w, vkt_status *status) {
    vkt_train_opts o;
    vkt_train_defaults(&o);
    o.data = data, o.out = dir, o.cfg = tiny(preset);
    o.steps = 8, o.batch = 2, o.seq = 16, o.warmup = 2, o.lr = 3e-3, o.eval_every = 4,
    o.val_batches = 2, o.accum = 2;
    o.seed = 5, o.resume = resume;
    static volatile sig_atomic_t flag;
    flag = 0;
    w->flag = &flag, w->at = stop_at;
    o.stop = &flag, o.progress = on_step, o.user = w;
    vkt_train_result r;
    *status = vkt_train_run(ctx, &o, &r);
    if (*status != VKT_OK && *status != VKT_ERR_INTERRUPTED) fail_msg("%s", vkt_ctx_message(ctx));
    vkt_model *m;
    TEST_OK(ctx, vkt_checkpoint_load_model(ctx, dir, &m));
    float *p = malloc(vkt_model_params(m)->total * 4);
    TEST_OK(ctx, vkt_model_get_params(m, p));
    vkt_model_destroy(m);
    return p;
}

static void check_resume(const char *preset) {
    vkt_ctx *ctx = test_ctx();
    const char *data = write_text();
    char *a = tmpdir(), *b = tmpdir();
    watch w = {0};
    vkt_status s;
    float *full = run(ctx, data, a, preset, 0, false, &w, &s);
    assert_int_equal(s, VKT_OK);
    assert_true(w.last < w.first); // it learns
    float *part = run(ctx, data, b, preset, 3, false, &w, &s);
    assert_int_equal(s, VKT_ERR_INTERRUPTED);
    free(part);
    float *resumed = run(ctx, data, b, preset, 0, true, &w, &s);
    assert_int_equal(s, VKT_OK);
    vkt_model_config c = tiny(preset);
    vkt_params ps;
    vkt_error err;
    assert_int_equal(vkt_params_build(&c, &ps, &err), VKT_OK);
    assert_memory_equal(full, resumed, ps.total * 4);
    // The same seed again gives the same weights.
    char *a2 = tmpdir();
    float *again = run(ctx, data, a2, preset, 0, false, &w, &s);
    assert_memory_equal(full, again, ps.total * 4);
    vkt_params_free(&ps);
    free(full), free(resumed), free(again);
    rmrf(a), rmrf(b), rmrf(a2);
    free(a), free(b), free(a2);
    unlink(data);
    test_ctx_done(ctx);
}

static void test_resume_gpt2(void **s) { check_resume("gpt2-tiny"); }
static void test_resume_llama(void **s) { check_resume("llama-tiny"); }

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),           cmocka_unit_test(test_bad_checkpoints),
        cmocka_unit_test(test_hf_style_checkpoint), cmocka_unit_test(test_resume_gpt2),
        cmocka_unit_test(test_resume_llama),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
