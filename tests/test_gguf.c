// test_gguf.c: the GGUF reader and the control-vector writer.
//
// Files are also assembled byte by byte here from the spec (ggml docs/gguf.md), with a
// builder independent of trainer/formats/gguf.c: that is how files written by repeng (layer_count
// uint32) and by llama.cpp's generator (layer_count int32) are reproduced, and how the
// writer's bytes are checked. Malformed files must fail with a message naming the file
// and the fault; every proper prefix of a valid file must fail.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support_files.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gguf.h"

// ---------------------------------------------------------------------------------
// an independent GGUF builder

typedef struct gb {
    uint8_t b[1 << 16];
    size_t n;
} gb;

static void put(gb *g, const void *p, size_t n) {
    assert_true(g->n + n <= sizeof g->b);
    memcpy(g->b + g->n, p, n);
    g->n += n;
}
static void u8(gb *g, uint8_t v) { put(g, &v, 1); }
static void u16(gb *g, uint16_t v) {
    u8(g, v & 0xff);
    u8(g, v >> 8);
}
static void u32(gb *g, uint32_t v) {
    for (int i = 0; i < 4; i++) u8(g, (uint8_t)(v >> (8 * i)));
}
static void u64(gb *g, uint64_t v) {
    for (int i = 0; i < 8; i++) u8(g, (uint8_t)(v >> (8 * i)));
}
static void str(gb *g, const char *s) {
    u64(g, strlen(s));
    put(g, s, strlen(s));
}
static void header(gb *g, uint32_t version, uint64_t nt, uint64_t nkv) {
    put(g, "GGUF", 4);
    u32(g, version);
    u64(g, nt);
    u64(g, nkv);
}
static void kv_str(gb *g, const char *k, const char *v) {
    str(g, k);
    u32(g, 8);
    str(g, v);
}
static void kv_u32(gb *g, const char *k, uint32_t v) {
    str(g, k);
    u32(g, 4);
    u32(g, v);
}
static void kv_i32(gb *g, const char *k, int32_t v) {
    str(g, k);
    u32(g, 5);
    u32(g, (uint32_t)v);
}
static void tinfo(gb *g, const char *name, uint32_t ndims, const uint64_t *dims, uint32_t type,
                  uint64_t off) {
    str(g, name);
    u32(g, ndims);
    for (uint32_t i = 0; i < ndims; i++) u64(g, dims[i]);
    u32(g, type);
    u64(g, off);
}
static void pad_to(gb *g, size_t align) {
    while (g->n % align) u8(g, 0);
}
static void floats(gb *g, const float *v, size_t n) { put(g, v, n * 4); }

// A control vector as repeng (lc_int32 = 0) or llama.cpp's generator (1) writes it.
static void cv_file(gb *g, int lc_int32, uint32_t layer_count, int n, const int *layers, int n_embd,
                    const float *dirs) {
    g->n = 0;
    header(g, 3, (uint64_t)n, 3);
    kv_str(g, "general.architecture", "controlvector");
    kv_str(g, "controlvector.model_hint", "llama");
    if (lc_int32)
        kv_i32(g, "controlvector.layer_count", (int32_t)layer_count);
    else
        kv_u32(g, "controlvector.layer_count", layer_count);
    uint64_t stride = ((uint64_t)n_embd * 4 + 31) / 32 * 32;
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "direction.%d", layers[i]);
        uint64_t d = (uint64_t)n_embd;
        tinfo(g, name, 1, &d, 0, (uint64_t)i * stride);
    }
    pad_to(g, 32);
    for (int i = 0; i < n; i++) {
        floats(g, dirs + (size_t)i * n_embd, (size_t)n_embd);
        pad_to(g, 32);
    }
}

// ---------------------------------------------------------------------------------
// helpers

static void assert_contains(const char *msg, const char *want) {
    if (!strstr(msg, want)) fail_msg("message \"%s\" lacks \"%s\"", msg, want);
}

// Parses img through a fresh exact-size copy (so ASan catches any overread) and expects a
// failure whose message names the input and contains fault.
static void expect_bad(const uint8_t *img, size_t n, const char *fault) {
    uint8_t *copy = malloc(n ? n : 1);
    memcpy(copy, img, n);
    vkt_gguf g;
    vkt_error err = {0};
    vkt_status s = vkt_gguf_parse_memory(&g, copy, n, "bad.gguf", &err);
    if (s == VKT_OK) fail_msg("accepted a file that should fail with \"%s\"", fault);
    assert_contains(err.msg, "bad.gguf");
    assert_contains(err.msg, fault);
    assert_null(g.kv);
    free(copy);
}

// Parses through the control-vector loader; expects a failure naming fault.
static void expect_bad_cv(const gb *g, const char *fault) {
    vkt_control_vector cv;
    vkt_error err = {0};
    const char *p = test_path("badcv.gguf");
    test_write_bytes(p, g->b, g->n);
    vkt_status s = vkt_control_vector_load(&cv, p, &err);
    if (s == VKT_OK) fail_msg("control vector accepted (want \"%s\")", fault);
    assert_contains(err.msg, p);
    assert_contains(err.msg, fault);
    unlink(p);
}

// ---------------------------------------------------------------------------------
// tests

static void test_write_read_round_trip(void **state) {
    (void)state;
    enum { N = 3, E = 7 }; // 7 floats = 28 bytes: each tensor needs 4 bytes of padding
    int layers[N] = {5, 1, 3};
    float dirs[N * E];
    for (int i = 0; i < N * E; i++) dirs[i] = (float)(i - 10) / 7.0f;
    dirs[3] = -0.0f;
    vkt_error err = {0};
    const char *p = test_path("rt.gguf");
    assert_int_equal(vkt_control_vector_write(p, "gpt2-tiny", 6, E, N, layers, dirs, &err), VKT_OK);

    vkt_control_vector cv;
    if (vkt_control_vector_load(&cv, p, &err) != VKT_OK) fail_msg("%s", err.msg);
    assert_string_equal(cv.model_hint, "gpt2-tiny");
    assert_int_equal(cv.layer_count, 6);
    assert_int_equal(cv.n_embd, E);
    assert_int_equal(cv.max_layer, 5);
    for (int i = 0; i < N; i++) {
        const float *v = vkt_control_vector_layer(&cv, layers[i]);
        assert_non_null(v);
        assert_memory_equal(v, dirs + i * E, E * sizeof(float)); // bit-exact
    }
    assert_null(vkt_control_vector_layer(&cv, 2));
    assert_null(vkt_control_vector_layer(&cv, 4));
    assert_null(vkt_control_vector_layer(&cv, 0));
    assert_null(vkt_control_vector_layer(&cv, 6));
    vkt_control_vector_free(&cv);

    // Layout: the writer's bytes equal the spec-built file (layers sorted, uint32 count).
    gb *want = calloc(1, sizeof *want);
    int sorted[N] = {1, 3, 5};
    float sdirs[N * E];
    memcpy(sdirs, dirs + 1 * E, E * 4);
    memcpy(sdirs + E, dirs + 2 * E, E * 4);
    memcpy(sdirs + 2 * E, dirs, E * 4);
    want->n = 0;
    header(want, 3, N, 3);
    kv_str(want, "general.architecture", "controlvector");
    kv_str(want, "controlvector.model_hint", "gpt2-tiny");
    kv_u32(want, "controlvector.layer_count", 6);
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "direction.%d", sorted[i]);
        uint64_t d = E;
        tinfo(want, name, 1, &d, 0, (uint64_t)i * 32);
    }
    pad_to(want, 32);
    for (int i = 0; i < N; i++) {
        floats(want, sdirs + i * E, E);
        pad_to(want, 32);
    }
    size_t n;
    uint8_t *got = test_read_all(p, &n);
    assert_int_equal(n, want->n);
    assert_memory_equal(got, want->b, n);

    // Generic view: alignment, offsets, data start.
    vkt_gguf g;
    assert_int_equal(vkt_gguf_parse_memory(&g, got, n, "rt", &err), VKT_OK);
    assert_int_equal(g.version, 3);
    assert_int_equal(g.alignment, 32);
    assert_int_equal(g.n_tensors, 3);
    assert_int_equal((size_t)(g.data - got) % 32, 0);
    assert_int_equal(g.data_size, 3 * 32);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(g.tensors[i].offset % 32, 0);
        assert_int_equal(g.tensors[i].nbytes, E * 4);
    }
    const vkt_gguf_kv *kv = vkt_gguf_find_kv(&g, "controlvector.layer_count");
    assert_int_equal(kv->type, VKT_GGUF_UINT32);
    assert_int_equal(kv->u, 6);
    assert_non_null(vkt_gguf_find_tensor(&g, "direction.5"));
    vkt_gguf_close(&g);
    free(got);
    free(want);
}

static void test_layer_count_uint32_and_int32(void **state) {
    (void)state;
    gb *g = calloc(1, sizeof *g);
    int layers[2] = {2, 4};
    float dirs[2 * 16];
    for (int i = 0; i < 32; i++) dirs[i] = sinf((float)i);
    for (int type = 0; type < 2; type++) {
        cv_file(g, type, 24, 2, layers, 16, dirs);
        const char *p = test_path(type ? "int32.gguf" : "uint32.gguf");
        test_write_bytes(p, g->b, g->n);
        vkt_control_vector cv;
        vkt_error err = {0};
        if (vkt_control_vector_load(&cv, p, &err) != VKT_OK) fail_msg("%s", err.msg);
        assert_int_equal(cv.layer_count, 24);
        assert_string_equal(cv.model_hint, "llama");
        assert_int_equal(cv.n_embd, 16);
        assert_memory_equal(vkt_control_vector_layer(&cv, 4), dirs + 16, 64);
        vkt_control_vector_free(&cv);
    }
    // A negative int32 count is refused.
    cv_file(g, 1, (uint32_t)-3, 2, layers, 16, dirs);
    expect_bad_cv(g, "layer_count is out of range");
    free(g);
}

// Every value type, nested arrays, a non-default alignment: the reader must skip each
// exactly, or the tensor that follows would be misread.
static void test_all_kv_types(void **state) {
    (void)state;
    gb *g = calloc(1, sizeof *g);
    header(g, 3, 1, 16);
    str(g, "u8");
    u32(g, 0);
    u8(g, 200);
    str(g, "i8");
    u32(g, 1);
    u8(g, 0xfe);
    str(g, "u16");
    u32(g, 2);
    u16(g, 60000);
    str(g, "i16");
    u32(g, 3);
    u16(g, (uint16_t)-300);
    kv_u32(g, "u32", 4000000000u);
    kv_i32(g, "i32", -123456);
    float f = 1.5f;
    str(g, "f32");
    u32(g, 6);
    put(g, &f, 4);
    str(g, "bool");
    u32(g, 7);
    u8(g, 1);
    kv_str(g, "str", "h\xc3\xa9llo");
    str(g, "u64");
    u32(g, 10);
    u64(g, UINT64_C(1) << 40);
    str(g, "i64");
    u32(g, 11);
    u64(g, (uint64_t)INT64_C(-5000000000));
    double d = -2.25;
    str(g, "f64");
    u32(g, 12);
    put(g, &d, 8);
    str(g, "arr_f32");
    u32(g, 9);
    u32(g, 6);
    u64(g, 3);
    for (int i = 0; i < 3; i++) put(g, &f, 4);
    str(g, "arr_str");
    u32(g, 9);
    u32(g, 8);
    u64(g, 2);
    str(g, "ab");
    str(g, "");
    // array of 2 arrays: [u16 x 3], [string x 1]
    str(g, "arr_arr");
    u32(g, 9);
    u32(g, 9);
    u64(g, 2);
    u32(g, 2);
    u64(g, 3);
    u16(g, 1);
    u16(g, 2);
    u16(g, 3);
    u32(g, 8);
    u64(g, 1);
    str(g, "xyz");
    kv_u32(g, "general.alignment", 64);
    uint64_t dims[2] = {3, 2};
    tinfo(g, "t", 2, dims, 0, 0);
    pad_to(g, 64);
    float t[6] = {1, 2, 3, 4, 5, 6};
    floats(g, t, 6);
    pad_to(g, 64);

    vkt_gguf m;
    vkt_error err = {0};
    if (vkt_gguf_parse_memory(&m, g->b, g->n, "types", &err) != VKT_OK) fail_msg("%s", err.msg);
    assert_int_equal(m.n_kv, 16);
    assert_int_equal(m.alignment, 64);
    assert_int_equal(vkt_gguf_find_kv(&m, "u8")->u, 200);
    assert_int_equal(vkt_gguf_find_kv(&m, "i8")->i, -2);
    assert_int_equal(vkt_gguf_find_kv(&m, "u16")->u, 60000);
    assert_int_equal(vkt_gguf_find_kv(&m, "i16")->i, -300);
    assert_int_equal(vkt_gguf_find_kv(&m, "u32")->u, 4000000000u);
    assert_int_equal(vkt_gguf_find_kv(&m, "i32")->i, -123456);
    assert_true(vkt_gguf_find_kv(&m, "f32")->f == 1.5);
    assert_int_equal(vkt_gguf_find_kv(&m, "bool")->u, 1);
    assert_string_equal(vkt_gguf_find_kv(&m, "str")->str, "h\xc3\xa9llo");
    assert_int_equal(vkt_gguf_find_kv(&m, "u64")->u, UINT64_C(1) << 40);
    assert_true(vkt_gguf_find_kv(&m, "i64")->i == INT64_C(-5000000000));
    assert_true(vkt_gguf_find_kv(&m, "f64")->f == -2.25);
    const vkt_gguf_kv *a = vkt_gguf_find_kv(&m, "arr_arr");
    assert_int_equal(a->type, VKT_GGUF_ARRAY);
    assert_int_equal(a->arr_type, VKT_GGUF_ARRAY);
    assert_int_equal(a->arr_n, 2);
    assert_int_equal(vkt_gguf_find_kv(&m, "arr_str")->arr_n, 2);
    const vkt_gguf_tensor *tt = vkt_gguf_find_tensor(&m, "t");
    assert_non_null(tt);
    assert_int_equal(tt->n_dims, 2);
    assert_int_equal(tt->dims[0], 3);
    assert_int_equal(tt->nbytes, 24);
    assert_int_equal((size_t)(m.data - g->b) % 64, 0);
    assert_memory_equal(vkt_gguf_tensor_data(&m, tt), t, 24);
    vkt_gguf_close(&m);

    // the same file is not a control vector: clear errors, not crashes
    expect_bad_cv(g, "'t' is not direction.N");
    free(g);
}

static void test_malformed(void **state) {
    (void)state;
    gb *g = calloc(1, sizeof *g);
    gb *v = calloc(1, sizeof *v);
    int layers[3] = {1, 2, 3};
    float dirs[3 * 8] = {0};
    cv_file(v, 0, 3, 3, layers, 7, dirs); // 28 bytes: 4 of padding after each

    // Every proper prefix of a valid file is refused; the whole file is accepted.
    for (size_t cut = 0; cut < v->n; cut++) {
        uint8_t *pre = malloc(cut ? cut : 1);
        memcpy(pre, v->b, cut);
        vkt_gguf m;
        vkt_error err = {0};
        if (vkt_gguf_parse_memory(&m, pre, cut, "prefix", &err) == VKT_OK)
            fail_msg("prefix of %zu of %zu bytes accepted", cut, v->n);
        assert_contains(err.msg, "prefix");
        free(pre);
    }
    vkt_gguf m;
    vkt_error err = {0};
    assert_int_equal(vkt_gguf_parse_memory(&m, v->b, v->n, "whole", &err), VKT_OK);
    vkt_gguf_close(&m);
    expect_bad(v->b, 10, "truncated");

    *g = *v;
    memcpy(g->b, "GGUG", 4);
    expect_bad(g->b, g->n, "bad magic");
    for (uint32_t ver = 0; ver < 6; ver++) {
        if (ver == 2 || ver == 3) continue;
        *g = *v;
        memcpy(g->b + 4, &ver, 4);
        expect_bad(g->b, g->n, "unsupported GGUF version");
    }
    *g = *v;
    g->b[4] = 0;
    g->b[7] = 3; // version 3 written big-endian
    expect_bad(g->b, g->n, "big-endian");

    // absurd counts
    g->n = 0;
    header(g, 3, 2000000, 0);
    expect_bad(g->b, g->n, "tensor count 2000000 is absurd");
    g->n = 0;
    header(g, 3, 0, 100); // 100 KVs cannot fit in 0 bytes
    expect_bad(g->b, g->n, "KV count 100 is absurd");
    g->n = 0;
    header(g, 3, UINT64_MAX, 0);
    expect_bad(g->b, g->n, "absurd");

    // string length past the end
    g->n = 0;
    header(g, 3, 0, 1);
    u64(g, UINT64_C(1) << 62);
    put(g, "general.x", 9);
    u32(g, 4);
    u32(g, 0);
    expect_bad(g->b, g->n, "runs past the end");
    g->n = 0;
    header(g, 3, 0, 1);
    str(g, "k");
    u32(g, 8);
    u64(g, 1000);
    put(g, "short", 5);
    expect_bad(g->b, g->n, "runs past the end");
    // unknown value type, array of absurd length, arrays nested too deep, NUL in a key
    g->n = 0;
    header(g, 3, 0, 1);
    str(g, "k");
    u32(g, 13);
    u32(g, 0);
    expect_bad(g->b, g->n, "unknown value type 13");
    g->n = 0;
    header(g, 3, 0, 1);
    str(g, "k");
    u32(g, 9);
    u32(g, 10);
    u64(g, UINT64_C(1) << 61);
    u64(g, 0);
    expect_bad(g->b, g->n, "runs past the end");
    g->n = 0;
    header(g, 3, 0, 1);
    str(g, "k");
    u32(g, 9);
    for (int i = 0; i < 20; i++) {
        u32(g, 9);
        u64(g, 1);
    }
    u32(g, 0);
    u64(g, 0);
    expect_bad(g->b, g->n, "nested deeper");
    g->n = 0;
    header(g, 3, 0, 1);
    u64(g, 3);
    put(g, "a\0b", 3);
    u32(g, 4);
    u32(g, 0);
    expect_bad(g->b, g->n, "NUL");
    // duplicate key; bad alignment values
    g->n = 0;
    header(g, 3, 0, 2);
    kv_u32(g, "k", 1);
    kv_u32(g, "k", 2);
    expect_bad(g->b, g->n, "'k' appears twice");
    g->n = 0;
    header(g, 3, 0, 1);
    kv_u32(g, "general.alignment", 48);
    expect_bad(g->b, g->n, "power of two");
    g->n = 0;
    header(g, 3, 0, 1);
    kv_i32(g, "general.alignment", 32);
    expect_bad(g->b, g->n, "power of two");

    // tensor infos: n_dims > 4, offsets misaligned / out of range / overlapping, duplicates
    uint64_t dims5[5] = {1, 1, 1, 1, 8}, d8 = 8;
    float zeros[16] = {0};
    g->n = 0;
    header(g, 3, 1, 0);
    tinfo(g, "direction.1", 5, dims5, 0, 0);
    pad_to(g, 32);
    floats(g, zeros, 8);
    pad_to(g, 32);
    expect_bad(g->b, g->n, "n_dims 5 > 4");
    g->n = 0;
    header(g, 3, 1, 0);
    tinfo(g, "direction.1", 1, &d8, 0, 4);
    pad_to(g, 32);
    floats(g, zeros, 16);
    pad_to(g, 32);
    expect_bad(g->b, g->n, "not a multiple of the alignment");
    g->n = 0;
    header(g, 3, 1, 0);
    tinfo(g, "direction.1", 1, &d8, 0, 1024);
    pad_to(g, 32);
    floats(g, zeros, 8);
    pad_to(g, 32);
    expect_bad(g->b, g->n, "run past the end of the data section");
    g->n = 0;
    header(g, 3, 1, 0);
    uint64_t huge = UINT64_C(1) << 40;
    tinfo(g, "direction.1", 1, &huge, 0, 0);
    pad_to(g, 32);
    floats(g, zeros, 8);
    expect_bad(g->b, g->n, "run past the end of the data section");
    g->n = 0;
    header(g, 3, 2, 0);
    tinfo(g, "direction.1", 1, &d8, 0, 0);
    tinfo(g, "direction.2", 1, &d8, 0, 0);
    pad_to(g, 32);
    floats(g, zeros, 16);
    pad_to(g, 32);
    expect_bad(g->b, g->n, "overlaps");
    g->n = 0;
    header(g, 3, 2, 0);
    tinfo(g, "direction.1", 1, &d8, 0, 0);
    tinfo(g, "direction.1", 1, &d8, 0, 32);
    pad_to(g, 32);
    floats(g, zeros, 16);
    pad_to(g, 32);
    expect_bad(g->b, g->n, "'direction.1' appears twice");
    g->n = 0;
    header(g, 3, 1, 0);
    tinfo(g, "x", 1, &d8, 99, 0);
    pad_to(g, 32);
    floats(g, zeros, 8);
    pad_to(g, 32);
    expect_bad(g->b, g->n, "unknown ggml type 99");
    free(g);
    free(v);
}

static void test_control_vector_faults(void **state) {
    (void)state;
    gb *g = calloc(1, sizeof *g);
    float z[16] = {0};
    uint64_t d8 = 8, d4 = 4, d22[2] = {4, 2};
    // F16 direction (llama.cpp needs F32)
    g->n = 0;
    header(g, 3, 1, 0);
    tinfo(g, "direction.1", 1, &d8, 1, 0);
    pad_to(g, 32);
    floats(g, z, 4);
    pad_to(g, 32);
    expect_bad_cv(g, "must be F32");
    // direction.0, a bad name, 2-D, lengths that differ, another architecture
    const char *names[] = {"direction.0", "direction.x", "direction.01", "dir.1", "direction.-1"};
    for (int i = 0; i < 5; i++) {
        g->n = 0;
        header(g, 3, 1, 0);
        tinfo(g, names[i], 1, &d8, 0, 0);
        pad_to(g, 32);
        floats(g, z, 8);
        pad_to(g, 32);
        expect_bad_cv(g, "is not direction.N");
    }
    g->n = 0;
    header(g, 3, 1, 0);
    tinfo(g, "direction.1", 2, d22, 0, 0);
    pad_to(g, 32);
    floats(g, z, 8);
    pad_to(g, 32);
    expect_bad_cv(g, "has 2 dims");
    g->n = 0;
    header(g, 3, 2, 0);
    tinfo(g, "direction.1", 1, &d8, 0, 0);
    tinfo(g, "direction.2", 1, &d4, 0, 32);
    pad_to(g, 32);
    floats(g, z, 16);
    expect_bad_cv(g, "others have");
    g->n = 0;
    header(g, 3, 1, 1);
    kv_str(g, "general.architecture", "llama");
    tinfo(g, "direction.1", 1, &d8, 0, 0);
    pad_to(g, 32);
    floats(g, z, 8);
    pad_to(g, 32);
    expect_bad_cv(g, "not 'controlvector'");
    g->n = 0;
    header(g, 3, 0, 1);
    kv_str(g, "general.architecture", "controlvector");
    expect_bad_cv(g, "no direction tensors");
    g->n = 0;
    header(g, 3, 1, 1);
    kv_u32(g, "controlvector.model_hint", 3);
    tinfo(g, "direction.1", 1, &d8, 0, 0);
    pad_to(g, 32);
    floats(g, z, 8);
    pad_to(g, 32);
    expect_bad_cv(g, "model_hint is a uint32");
    // Missing keys are fine: hint "", layer_count -1.
    g->n = 0;
    header(g, 3, 1, 0);
    tinfo(g, "direction.7", 1, &d8, 0, 0);
    pad_to(g, 32);
    z[3] = 2.5f;
    floats(g, z, 8);
    pad_to(g, 32);
    test_write_bytes(test_path("bare.gguf"), g->b, g->n);
    vkt_control_vector cv;
    vkt_error err = {0};
    if (vkt_control_vector_load(&cv, test_path("bare.gguf"), &err) != VKT_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(cv.layer_count, -1);
    assert_string_equal(cv.model_hint, "");
    assert_int_equal(cv.max_layer, 7);
    assert_true(vkt_control_vector_layer(&cv, 7)[3] == 2.5f);
    vkt_control_vector_free(&cv);
    // Missing file
    assert_int_equal(vkt_control_vector_load(&cv, test_path("none.gguf"), &err), VKT_ERR_IO);
    assert_contains(err.msg, "none.gguf");
    free(g);
}

static void test_writer_refuses_and_keeps_old_file(void **state) {
    (void)state;
    float d[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    int l1[1] = {1};
    vkt_error err = {0};
    const char *p = test_path("keep.gguf");
    assert_int_equal(vkt_control_vector_write(p, "m", 1, 8, 1, l1, d, &err), VKT_OK);
    size_t n0;
    uint8_t *before = test_read_all(p, &n0);
    int l0[1] = {0}, ldup[2] = {2, 2};
    float d16[16] = {0};
    assert_int_equal(vkt_control_vector_write(p, "m", 1, 8, 1, l0, d, &err), VKT_ERR_ARG);
    assert_contains(err.msg, "layer 0");
    assert_int_equal(vkt_control_vector_write(p, "m", 1, 8, 2, ldup, d16, &err), VKT_ERR_ARG);
    assert_contains(err.msg, "twice");
    d[5] = NAN;
    assert_int_equal(vkt_control_vector_write(p, "m", 1, 8, 1, l1, d, &err), VKT_ERR_ARG);
    assert_contains(err.msg, "non-finite");
    assert_int_equal(vkt_control_vector_write(p, "m", 1, 0, 1, l1, d, &err), VKT_ERR_ARG);
    assert_int_equal(
        vkt_control_vector_write(test_path("no/dir.gguf"), "m", 1, 8, 1, l1, d16, &err),
        VKT_ERR_IO);
    size_t n1;
    uint8_t *after = test_read_all(p, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    free(before);
    free(after);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_read_round_trip, test_dir_setup,
                                        test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_layer_count_uint32_and_int32, test_dir_setup,
                                        test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_all_kv_types, test_dir_setup, test_dir_teardown),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test_setup_teardown(test_control_vector_faults, test_dir_setup,
                                        test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_writer_refuses_and_keeps_old_file, test_dir_setup,
                                        test_dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
