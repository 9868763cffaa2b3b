// test_safetensors.c: the .safetensors reader and writer.
//
// Reference values that do not come from vkt: the byte images of the safetensors
// library's own serialization tests (safetensors/src/tensor.rs: test_serialization,
// test_serialization_forced_alignement, test_empty), files assembled byte by byte from
// the format's spec, and IEEE 754 half/bfloat16 values computed by hand or by the
// closed formula (-1)^s (1 + m/1024) 2^(e-15) (subnormals m 2^-24), checked on all 65536
// half bit patterns. Every bad input must fail with a message naming the file and the
// fault, and a failed write must leave the previous file byte-identical.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support_files.h"

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "safetensors.h"

// ---------------------------------------------------------------------------------
// helpers

static int count_files(void) {
    DIR *d = opendir(test_dir());
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

// A file image: 8-byte LE length, the header text (padded with spaces to a multiple of
// 8 when pad is set), then data.
static uint8_t *image(const char *header, int pad, const void *data, size_t ndata, size_t *n) {
    size_t h = strlen(header), hp = pad ? (h + 7) / 8 * 8 : h;
    uint8_t *b = malloc(8 + hp + ndata + 1);
    assert_non_null(b);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)hp >> (8 * i));
    memcpy(b + 8, header, h);
    memset(b + 8 + h, ' ', hp - h);
    if (ndata) memcpy(b + 8 + hp, data, ndata);
    *n = 8 + hp + ndata;
    return b;
}

static void assert_contains(const char *msg, const char *want) {
    if (!strstr(msg, want)) fail_msg("message \"%s\" lacks \"%s\"", msg, want);
}

// ---------------------------------------------------------------------------------
// round trip and the library's byte layout

static void test_round_trip_bit_exact(void **state) {
    (void)state;
    // Awkward values: signed zero, infinities, a NaN payload, subnormals, extremes.
    uint32_t pat[] = {0x00000000u, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc12345u, 0x00000001u,
                      0x807fffffu, 0x7f7fffffu, 0x3f800000u, 0xc0490fdbu, 0x3eaaaaabu, 0x12345678u};
    float a[12], b[24], c = 42.5f;
    memcpy(a, pat, sizeof a);
    for (int i = 0; i < 24; i++) b[i] = (float)i * 0.37f - 3.0f;
    int64_t sa[2] = {3, 4}, sb[3] = {2, 3, 4}, sz[2] = {0, 5};
    vkt_st_entry e[4] = {
        {"z.last", 2, sa, a},
        {"transformer.h.0.attn.c_attn.weight", 3, sb, b},
        {"scalar", 0, NULL, &c},
        {"empty", 2, sz, NULL},
    };
    const char *meta[] = {"format", "pt", "vkt", "test \"quoted\"\n"};
    vkt_error err = {0};
    const char *p = test_path("rt.safetensors");
    assert_int_equal(vkt_safetensors_write(p, e, 4, meta, 2, &err), VKT_OK);
    assert_int_equal(count_files(), 1); // no temporary left behind

    vkt_safetensors st;
    if (vkt_safetensors_open(&st, p, &err) != VKT_OK) fail_msg("%s", err.msg);
    assert_int_equal(st.n_tensors, 4);
    // Sorted by name on disk, so the offset order is the name order.
    assert_string_equal(st.tensors[0].name, "empty");
    assert_string_equal(st.tensors[1].name, "scalar");
    assert_string_equal(st.tensors[2].name, "transformer.h.0.attn.c_attn.weight");
    assert_string_equal(st.tensors[3].name, "z.last");
    assert_string_equal(vkt_safetensors_meta(&st, "format"), "pt");
    assert_string_equal(vkt_safetensors_meta(&st, "vkt"), "test \"quoted\"\n");
    assert_null(vkt_safetensors_meta(&st, "nope"));

    const vkt_st_tensor *t = vkt_safetensors_find(&st, "transformer.h.0.attn.c_attn.weight");
    assert_non_null(t);
    assert_int_equal(t->dtype, VKT_ST_F32);
    assert_int_equal(t->ndim, 3);
    assert_int_equal(t->shape[0], 2);
    assert_int_equal(t->shape[2], 4);
    assert_int_equal(t->numel, 24);
    float got[24];
    assert_int_equal(vkt_safetensors_read_f32(&st, t->name, got, 24, &err), VKT_OK);
    assert_memory_equal(got, b, sizeof b);
    assert_int_equal(vkt_safetensors_read_f32(&st, "z.last", got, 12, &err), VKT_OK);
    assert_memory_equal(got, a, sizeof a); // bit-exact, NaN payload included
    assert_int_equal(vkt_safetensors_read_f32(&st, "scalar", got, 1, &err), VKT_OK);
    assert_true(got[0] == 42.5f);
    t = vkt_safetensors_find(&st, "scalar");
    assert_int_equal(t->ndim, 0);
    assert_int_equal(t->numel, 1);
    t = vkt_safetensors_find(&st, "empty");
    assert_int_equal(t->numel, 0);
    assert_int_equal(t->begin, t->end);
    // wrong element count and missing tensor
    assert_int_equal(vkt_safetensors_read_f32(&st, "z.last", got, 11, &err), VKT_ERR_ARG);
    assert_contains(err.msg, "z.last");
    assert_int_equal(vkt_safetensors_read_f32(&st, "missing", got, 1, &err), VKT_ERR_FORMAT);
    assert_contains(err.msg, "missing");
    assert_contains(err.msg, p);
    vkt_safetensors_close(&st);
    vkt_safetensors_close(&st); // closing twice is harmless

    // Writing the same tensors in another order gives the same bytes (deterministic).
    vkt_st_entry r[4] = {e[3], e[1], e[0], e[2]};
    const char *meta_r[] = {"vkt", "test \"quoted\"\n", "format", "pt"};
    const char *p2 = test_path("rt2.safetensors");
    assert_int_equal(vkt_safetensors_write(p2, r, 4, meta_r, 2, &err), VKT_OK);
    size_t n1, n2;
    uint8_t *b1 = test_read_all(p, &n1), *b2 = test_read_all(p2, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(b1, b2, n1);
    free(b1);
    free(b2);
}

// The exact bytes the safetensors library's tests expect (tensor.rs).
static void test_library_byte_layout(void **state) {
    (void)state;
    float v[6] = {0, 1, 2, 3, 4, 5};
    vkt_error err = {0};
    size_t n;

    // test_serialization: "attn.0" [1,2,3] F32 -> header 64 bytes, no padding needed
    int64_t s3[3] = {1, 2, 3};
    vkt_st_entry e = {"attn.0", 3, s3, v};
    assert_int_equal(vkt_safetensors_write(test_path("a.safetensors"), &e, 1, NULL, 0, &err),
                     VKT_OK);
    uint8_t *got = test_read_all(test_path("a.safetensors"), &n);
    const char *h1 = "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}";
    assert_int_equal(strlen(h1), 64);
    assert_int_equal(n, 8 + 64 + 24);
    assert_int_equal(got[0], 64);
    for (int i = 1; i < 8; i++) assert_int_equal(got[i], 0);
    assert_memory_equal(got + 8, h1, 64);
    static const uint8_t data[24] = {0, 0, 0,  0,  0, 0, 128, 63, 0, 0, 0,   64,
                                     0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64};
    assert_memory_equal(got + 72, data, 24);
    free(got);

    // test_serialization_forced_alignement: "attn0" [1,1,2,3] -> 65 bytes + 7 spaces = 72
    int64_t s4[4] = {1, 1, 2, 3};
    vkt_st_entry e2 = {"attn0", 4, s4, v};
    assert_int_equal(vkt_safetensors_write(test_path("b.safetensors"), &e2, 1, NULL, 0, &err),
                     VKT_OK);
    got = test_read_all(test_path("b.safetensors"), &n);
    const char *h2 =
        "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       ";
    assert_int_equal(strlen(h2), 72);
    assert_int_equal(n, 8 + 72 + 24);
    assert_int_equal(got[0], 72);
    assert_memory_equal(got + 8, h2, 72);
    assert_memory_equal(got + 80, data, 24);
    free(got);

    // test_empty: no tensors -> "{}" + 6 spaces; with {"framework": "pt"} -> 40 bytes
    assert_int_equal(vkt_safetensors_write(test_path("c.safetensors"), NULL, 0, NULL, 0, &err),
                     VKT_OK);
    got = test_read_all(test_path("c.safetensors"), &n);
    static const uint8_t empty[16] = {8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32};
    assert_int_equal(n, 16);
    assert_memory_equal(got, empty, 16);
    free(got);
    const char *meta[] = {"framework", "pt"};
    assert_int_equal(vkt_safetensors_write(test_path("d.safetensors"), NULL, 0, meta, 1, &err),
                     VKT_OK);
    got = test_read_all(test_path("d.safetensors"), &n);
    const char *h3 = "{\"__metadata__\":{\"framework\":\"pt\"}}     ";
    assert_int_equal(n, 8 + 40);
    assert_int_equal(got[0], 40);
    assert_memory_equal(got + 8, h3, 40);
    free(got);

    // and the library's own test image (an I32 tensor) parses
    vkt_safetensors st;
    static const uint8_t lib[] =
        "<\0\0\0\0\0\0\0{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}"
        "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
    assert_int_equal(vkt_safetensors_parse_memory(&st, lib, sizeof lib - 1, "lib", &err), VKT_OK);
    assert_int_equal(st.tensors[0].dtype, VKT_ST_I32);
    float f4[4];
    assert_int_equal(vkt_safetensors_read_f32(&st, "test", f4, 4, &err), VKT_ERR_UNSUPPORTED);
    assert_contains(err.msg, "lib");
    assert_contains(err.msg, "test");
    assert_contains(err.msg, "unsupported dtype I32");
    vkt_safetensors_close(&st);
}

// ---------------------------------------------------------------------------------
// conversions

// The closed formula for an IEEE half, independent of the bit-twiddling in the reader.
static double half_formula(uint16_t h) {
    int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    double v;
    if (e == 31)
        v = m ? NAN : INFINITY;
    else if (e == 0)
        v = ldexp(m, -24);
    else
        v = ldexp(1.0 + m / 1024.0, e - 15);
    return s ? -v : v;
}

static void test_half_conversions(void **state) {
    (void)state;
    for (uint32_t h = 0; h < 65536; h++) {
        float got = vkt_f16_to_f32((uint16_t)h);
        double want = half_formula((uint16_t)h);
        if (isnan(want)) {
            if (!isnan(got)) fail_msg("f16 0x%04x: want NaN, got %g", h, got);
        } else if ((double)got != want || !signbit(got) != !signbit(want)) {
            fail_msg("f16 0x%04x: want %.9g, got %.9g", h, want, got);
        }
    }
    // Hand-computed values
    assert_true(vkt_f16_to_f32(0x3c00) == 1.0f);
    assert_true(vkt_f16_to_f32(0xc000) == -2.0f);
    assert_true(vkt_f16_to_f32(0x7bff) == 65504.0f);
    assert_true(vkt_f16_to_f32(0x0001) == 0x1p-24f);
    assert_true(vkt_f16_to_f32(0x0400) == 0x1p-14f);
    assert_true(vkt_f16_to_f32(0x3555) == 0.333251953125f);
    assert_true(vkt_bf16_to_f32(0x3f80) == 1.0f);
    assert_true(vkt_bf16_to_f32(0x4049) == 3.140625f);
    assert_true(vkt_bf16_to_f32(0xc2f7) == -123.5f);
    assert_true(isinf(vkt_bf16_to_f32(0xff80)) && vkt_bf16_to_f32(0xff80) < 0);
    assert_true(vkt_bf16_to_f32(0x0001) == 0x1p-133f);
}

// A file as the Python library would write it for mixed dtypes (F64, then BF16/F16 ...
// the library sorts by descending dtype alignment, then name), built byte by byte.
static void test_reads_python_layout(void **state) {
    (void)state;
    uint8_t data[16 + 8 + 8 + 4];
    double d[2] = {0.1, -1e300};
    uint16_t bf[4] = {0x3f80, 0x4049, 0xc2f7, 0x0000};
    uint16_t hf[4] = {0x3c00, 0xc000, 0x3555, 0x8000};
    int32_t i32 = -7;
    memcpy(data, d, 16);
    memcpy(data + 16, bf, 8);
    memcpy(data + 24, hf, 8);
    memcpy(data + 32, &i32, 4);
    const char *hdr = "{\"__metadata__\":{\"format\":\"pt\"},\"d\":{\"dtype\":\"F64\",\"shape\":[2]"
                      ",\"data_offsets\":[0,16]},"
                      "\"bf\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[16,24]},"
                      "\"hf\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[24,32]},"
                      "\"i\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[32,36]}}";
    size_t n;
    uint8_t *img = image(hdr, 1, data, sizeof data, &n);
    const char *p = test_path("py.safetensors");
    test_write_bytes(p, img, n);
    free(img);
    vkt_safetensors st;
    vkt_error err = {0};
    if (vkt_safetensors_open(&st, p, &err) != VKT_OK) fail_msg("%s", err.msg);
    assert_int_equal(st.n_tensors, 4);
    assert_string_equal(vkt_safetensors_meta(&st, "format"), "pt");
    float f[4];
    assert_int_equal(vkt_safetensors_read_f32(&st, "d", f, 2, &err), VKT_OK);
    assert_true(f[0] == 0.1f);            // double rounded to nearest float
    assert_true(isinf(f[1]) && f[1] < 0); // overflow -> -inf
    assert_int_equal(vkt_safetensors_read_f32(&st, "bf", f, 4, &err), VKT_OK);
    assert_true(f[0] == 1.0f && f[1] == 3.140625f && f[2] == -123.5f && f[3] == 0.0f);
    assert_int_equal(vkt_safetensors_read_f32(&st, "hf", f, 4, &err), VKT_OK);
    assert_true(f[0] == 1.0f && f[1] == -2.0f && f[2] == 0.333251953125f);
    assert_true(f[3] == 0.0f && signbit(f[3]));
    const vkt_st_tensor *t = vkt_safetensors_find(&st, "i");
    assert_int_equal(t->ndim, 0);
    int32_t iv;
    memcpy(&iv, vkt_safetensors_bytes(&st, t), 4);
    assert_int_equal(iv, -7);
    assert_int_equal(vkt_safetensors_read_f32(&st, "i", f, 1, &err), VKT_ERR_UNSUPPORTED);
    assert_contains(err.msg, p);
    assert_contains(err.msg, "'i'");
    assert_contains(err.msg, "unsupported dtype");
    vkt_safetensors_close(&st);

    // An empty tensor of an unsupported dtype is still refused (not a silent success).
    img = image("{\"e\":{\"dtype\":\"U32\",\"shape\":[0],\"data_offsets\":[0,0]}}", 1, NULL, 0, &n);
    assert_int_equal(vkt_safetensors_parse_memory(&st, img, n, "empty_u32", &err), VKT_OK);
    assert_int_equal(vkt_safetensors_read_f32(&st, "e", f, 0, &err), VKT_ERR_UNSUPPORTED);
    assert_contains(err.msg, "unsupported dtype U32");
    vkt_safetensors_close(&st);
    free(img);
}

// ---------------------------------------------------------------------------------
// bad inputs: each fails through both entry points, naming the file and the fault

typedef struct bad_case {
    const char *what;
    const char *header; // NULL: raw bytes below
    size_t ndata;
    const char *fault; // substring of the message
} bad_case;

#define T1 "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}"

static const bad_case bad_cases[] = {
    {"not JSON", "{\"a\": ", 8, "not valid JSON"},
    {"not an object", "[1, 2]", 0, "not a JSON object"},
    {"trailing garbage", "{} x", 0, "not valid JSON"},
    {"unknown dtype", "{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
     "unknown dtype \"F33\""},
    {"dtype missing", "{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "dtype"},
    {"entry not object", "{\"a\":3}", 0, "not an object"},
    {"negative shape", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8,
     "shape entry 0"},
    {"fractional shape", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1, 2.5],\"data_offsets\":[0,8]}}", 8,
     "shape entry 1"},
    {"string shape", "{\"a\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", 8,
     "shape entry 0"},
    {"shape not array", "{\"a\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", 8,
     "shape"},
    {"too many dims",
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,2],\"data_offsets\":[0,8]}}", 8,
     "dimensions"},
    {"absurd shape",
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8,
     "absurd"},
    {"F64 bytes overflow",
     "{\"a\":{\"dtype\":\"F64\",\"shape\":[2147483648,2147483648],\"data_offsets\":[0,0]}}", 0,
     "absurd"},
    {"offsets not 2-array", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,9]}}", 8,
     "data_offsets"},
    {"offsets missing", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "data_offsets"},
    {"negative offset", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", 8,
     "non-negative"},
    {"begin > end", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8,
     "begin > end"},
    {"end past data", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8,
     "past the end of the data section"},
    {"length != shape", "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
     "need 12"},
    {"F16 length", "{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "need 4"},
    {"overlap", "{" T1 ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12,
     "overlaps"},
    {"gap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "gap"},
    {"trailing bytes", "{" T1 "}", 12, "trailing"},
    {"duplicate name", "{" T1 "," T1 "}", 8, "duplicate"},
    {"metadata not object", "{\"__metadata__\":[1]," T1 "}", 8,
     "\"__metadata__\" is not an object"},
    {"metadata value not string", "{\"__metadata__\":{\"k\":1}," T1 "}", 8,
     "metadata value of \"k\" is not a string"},
};

static void expect_bad(const uint8_t *img, size_t n, const char *name, const char *fault) {
    vkt_safetensors st;
    vkt_error err = {0};
    const char *p = test_path(name);
    test_write_bytes(p, img, n);
    vkt_status s = vkt_safetensors_open(&st, p, &err);
    if (s == VKT_OK) fail_msg("%s: accepted (want \"%s\")", name, fault);
    assert_contains(err.msg, p);
    assert_contains(err.msg, fault);
    assert_int_equal(st.n_tensors, 0);
    vkt_safetensors_close(&st);
    err.msg[0] = 0;
    s = vkt_safetensors_parse_memory(&st, img, n, name, &err);
    assert_int_not_equal(s, VKT_OK);
    assert_contains(err.msg, name);
    assert_contains(err.msg, fault);
    unlink(p);
}

static void test_bad_inputs(void **state) {
    (void)state;
    uint8_t zeros[16] = {0};
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        size_t n;
        uint8_t *img = image(bad_cases[i].header, 1, zeros, bad_cases[i].ndata, &n);
        char name[64];
        snprintf(name, sizeof name, "bad%02zu.safetensors", i);
        expect_bad(img, n, name, bad_cases[i].fault);
        free(img);
    }
    // The file-level cases.
    vkt_safetensors st;
    vkt_error err = {0};
    assert_int_equal(vkt_safetensors_open(&st, test_path("missing.safetensors"), &err), VKT_ERR_IO);
    assert_contains(err.msg, "missing.safetensors");
    assert_contains(err.msg, "cannot open");
    assert_int_equal(vkt_safetensors_open(&st, test_dir(), &err), VKT_ERR_IO);
    assert_contains(err.msg, "not a regular file");
    expect_bad((const uint8_t *)"\x08\0\0", 3, "short.safetensors", "shorter than the 8-byte");
    expect_bad((const uint8_t *)"", 0, "empty.safetensors", "shorter than the 8-byte");
    uint8_t past[16] = {9, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '};
    expect_bad(past, sizeof past, "past.safetensors", "runs past the end of the file");
    uint8_t huge[16] = {0, 0, 0, 0, 0, 0, 0, 0x80, '{', '}'};
    expect_bad(huge, sizeof huge, "huge.safetensors", "100 MB");
    uint8_t big[16] = {0x01, 0xe1, 0xf5, 0x05, 0, 0, 0, 0, '{', '}'}; // 100000001
    expect_bad(big, sizeof big, "big.safetensors", "100 MB");

    // Every proper prefix of a valid file is refused (a truncated checkpoint never loads).
    float v[6] = {1, 2, 3, 4, 5, 6};
    int64_t s2[2] = {2, 3};
    vkt_st_entry e[2] = {{"w", 2, s2, v}, {"b", 1, s2, v}};
    const char *p = test_path("ok.safetensors");
    assert_int_equal(vkt_safetensors_write(p, e, 2, NULL, 0, &err), VKT_OK);
    size_t n;
    uint8_t *img = test_read_all(p, &n);
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *pre = malloc(cut + 1); // exact-size copy so ASan sees overreads
        memcpy(pre, img, cut);
        assert_int_not_equal(vkt_safetensors_parse_memory(&st, pre, cut, "prefix", &err), VKT_OK);
        assert_contains(err.msg, "prefix");
        free(pre);
    }
    assert_int_equal(vkt_safetensors_parse_memory(&st, img, n, "whole", &err), VKT_OK);
    vkt_safetensors_close(&st);
    free(img);
}

// ---------------------------------------------------------------------------------
// failed writes overwrite nothing

static void test_failed_write_keeps_old_file(void **state) {
    (void)state;
    float v[4] = {1, 2, 3, 4};
    int64_t s4[1] = {4};
    vkt_st_entry good = {"w", 1, s4, v};
    vkt_error err = {0};
    const char *p = test_path("keep.safetensors");
    assert_int_equal(vkt_safetensors_write(p, &good, 1, NULL, 0, &err), VKT_OK);
    size_t n0;
    uint8_t *before = test_read_all(p, &n0);

    // Invalid requests: refused before a byte is written.
    vkt_st_entry dup[2] = {good, good};
    assert_int_equal(vkt_safetensors_write(p, dup, 2, NULL, 0, &err), VKT_ERR_ARG);
    assert_contains(err.msg, "appears twice");
    int64_t neg[1] = {-1};
    vkt_st_entry badshape = {"w", 1, neg, v};
    assert_int_equal(vkt_safetensors_write(p, &badshape, 1, NULL, 0, &err), VKT_ERR_ARG);
    vkt_st_entry reserved = {"__metadata__", 1, s4, v};
    assert_int_equal(vkt_safetensors_write(p, &reserved, 1, NULL, 0, &err), VKT_ERR_ARG);
    vkt_st_entry notutf8 = {"w\xff", 1, s4, v};
    assert_int_equal(vkt_safetensors_write(p, &notutf8, 1, NULL, 0, &err), VKT_ERR_ARG);
    const char *dupmeta[] = {"k", "1", "k", "2"};
    assert_int_equal(vkt_safetensors_write(p, &good, 1, dupmeta, 2, &err), VKT_ERR_ARG);
    // A directory that does not exist.
    assert_int_equal(
        vkt_safetensors_write(test_path("no/such/dir.safetensors"), &good, 1, NULL, 0, &err),
        VKT_ERR_IO);
    assert_contains(err.msg, "no/such/dir.safetensors");

    // A write that fails half-way (file size limit -> EFBIG): the old file survives.
    enum { BIG = 1 << 16 };
    float *big = calloc(BIG, sizeof *big);
    assert_non_null(big);
    int64_t sb[1] = {BIG};
    vkt_st_entry large = {"w", 1, sb, big};
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    lim = old;
    lim.rlim_cur = 4096;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    vkt_status s = vkt_safetensors_write(p, &large, 1, NULL, 0, &err);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, prev);
    assert_int_equal(s, VKT_ERR_IO);
    assert_contains(err.msg, p);
    free(big);

    size_t n1;
    uint8_t *after = test_read_all(p, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    free(before);
    free(after);
    assert_int_equal(count_files(), 1); // no temporary left behind
    unlink(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_bit_exact, test_dir_setup,
                                        test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_library_byte_layout, test_dir_setup,
                                        test_dir_teardown),
        cmocka_unit_test(test_half_conversions),
        cmocka_unit_test_setup_teardown(test_reads_python_layout, test_dir_setup,
                                        test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_bad_inputs, test_dir_setup, test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_failed_write_keeps_old_file, test_dir_setup,
                                        test_dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
