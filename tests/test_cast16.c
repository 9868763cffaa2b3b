// test_cast16.c: vkt_cast16 (fp32 -> bf16 / fp16, packed two to a word) and vkt_widen16
// against vkt_ref_cast16 / vkt_ref_widen16, bit for bit: special values (signed zeros,
// infinities, NaNs, 65504 / 65520, fp16 and fp32 subnormals, rounding ties), a spread of
// random values, awkward counts (1, 2, 3, odd, a binding split), views at odd float
// offsets; every one of the 65536 16-bit patterns widened; bad calls.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "half.h"
#include "op_cast.h"
#include "reference.h"
#include "support_gpu.h"

static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

// The values that exercise every branch of the rounding.
static const uint32_t SPECIAL[] = {
    0x00000000u, 0x80000000u, 0x3f800000u,
    0xbf800000u, // +-0, +-1
    0x7f800000u, 0xff800000u, 0x7fc00000u,
    0xffc00001u,                           // +-inf, quiet NaNs
    0x7f800001u, 0x7fa00000u, 0xff800001u, // signalling NaNs (payload low / high)
    0x477fe000u, 0x477fefffu, 0x477ff000u,
    0xc77ff000u,                           // 65504, just below 65520, +-65520
    0x49742400u, 0x7f7fffffu, 0x7f7f8000u, // 1e6, FLT_MAX, its bf16 tie (to inf)
    0x33800000u, 0x33000000u, 0x33000001u,
    0x33c00000u, // 2^-24, 2^-25 (tie to 0), above, 1.5 ulp
    0x38800000u, 0xb8800000u, 0x38000000u,
    0x387fc000u,                           // fp16 smallest normal, subnormal 2^-15, near 2^-14
    0x387ff000u, 0x38800fffu, 0x38801000u, // rounds up to normal, normal ties
    0x00000001u, 0x807fffffu, 0x00800000u, // fp32 subnormals, FLT_MIN
    0x3f808000u, 0x3f818000u, 0x3f808001u, // bf16 ties (even down, even up), above
    0x3f801000u, 0x3f803000u, 0x3f800fffu, // fp16 ties and below
};
#define NSPECIAL (sizeof SPECIAL / sizeof *SPECIAL)

// n inputs: the specials first, then values spread over magnitudes 2^-30 .. 2^20.
static float *make_src(uint64_t n, uint64_t seed) {
    float *x = malloc(n * 4), *e = malloc(n * 4);
    assert_true(x && e);
    test_fill_uniform(x, n, seed, -1, 1);
    test_fill_uniform(e, n, seed ^ 0x77, -30, 20.999f);
    for (uint64_t i = 0; i < n; i++)
        x[i] = i < NSPECIAL ? from_bits(SPECIAL[i]) : x[i] * exp2f(floorf(e[i]));
    free(e);
    return x;
}

// Casts n values at float offset soff into words at word offset doff (guard words around,
// which must keep their pattern) and compares every bit with the reference; then widens
// them back and compares with vkt_ref_widen16.
static void check_cast(vkt_ctx *ctx, vkt_dtype16 dt, uint64_t n, uint64_t soff, uint64_t doff,
                       uint64_t seed) {
    const uint64_t words = (n + 1) / 2, G = 3, nw = doff + words + G;
    float *src = make_src(n + soff, seed);
    uint16_t *want = calloc(2 * words, 2);
    float *back = malloc(n * 4);
    assert_true(want && back);
    assert_int_equal(vkt_ref_cast16(dt, n, src + soff, want, NULL), VKT_OK);
    uint32_t *init = malloc(nw * 4);
    for (uint64_t i = 0; i < nw; i++) init[i] = 0xa5a5a5a5u;
    vkt_buffer *bs = test_upload(ctx, src, n + soff),
               *bd = test_upload(ctx, (const float *)init, nw);
    vkt_buffer *bf = test_upload(ctx, NULL, n + 1);
    vkt_view vs = vkt_view_f32(vkt_view_all(bs), soff, n),
             vd = vkt_view_f32(vkt_view_all(bd), doff, words);
    TEST_OK(ctx, vkt_cast16(ctx, dt, vs, vd, n));
    uint32_t *got = (uint32_t *)test_download(ctx, bd, nw);
    for (uint64_t i = 0; i < nw; i++) {
        uint32_t w = i < doff || i >= doff + words ? 0xa5a5a5a5u
                                                   : (uint32_t)want[2 * (i - doff)] |
                                                         (uint32_t)want[2 * (i - doff) + 1] << 16;
        if (got[i] != w) {
            uint64_t e = 2 * (i - doff);
            fail_msg("cast16 %s n=%llu word %llu: got 0x%08x want 0x%08x (inputs 0x%08x 0x%08x)",
                     vkt_dtype16_name(dt), (unsigned long long)n, (unsigned long long)i, got[i], w,
                     i < doff || e >= n ? 0 : *(uint32_t *)&src[soff + e],
                     i < doff || e + 1 >= n ? 0 : *(uint32_t *)&src[soff + e + 1]);
        }
    }
    // widen back into floats at the source offset
    vkt_view vf = vkt_view_f32(vkt_view_all(bf), 1, n);
    TEST_OK(ctx, vkt_widen16(ctx, dt, vd, vf, n));
    float *wide = test_download(ctx, bf, n + 1);
    assert_int_equal(vkt_ref_widen16(dt, n, want, back, NULL), VKT_OK);
    if (memcmp(wide + 1, back, n * 4))
        fail_msg("widen16 %s n=%llu differs", vkt_dtype16_name(dt), (unsigned long long)n);
    free(wide), free(got), free(init), free(src), free(want), free(back);
    vkt_buffer_destroy(ctx, bs), vkt_buffer_destroy(ctx, bd), vkt_buffer_destroy(ctx, bf);
}

static void test_cast_counts(void **state) {
    vkt_ctx *ctx = test_ctx();
    static const uint64_t ns[] = {1, 2, 3, 37, 38, 1001, 4096};
    for (int d = 0; d < 2; d++)
        for (int i = 0; i < (int)(sizeof ns / sizeof *ns); i++)
            check_cast(ctx, d ? VKT_F16 : VKT_BF16,
                       ns[i] < NSPECIAL && ns[i] > 3 ? NSPECIAL + ns[i] : ns[i], (uint64_t)i % 3,
                       (uint64_t)(i + d) % 2, 40 + (uint64_t)(i * 2 + d));
    test_ctx_done(ctx);
}

// A 4 KiB binding: a few thousand values cut into several dispatches.
static void test_cast_split(void **state) {
    setenv("VKT_MAX_BINDING_BYTES", "4096", 1);
    vkt_ctx *ctx = test_ctx();
    check_cast(ctx, VKT_BF16, 5001, 1, 1, 80);
    check_cast(ctx, VKT_F16, 4099, 0, 2, 81);
    test_ctx_done(ctx);
    unsetenv("VKT_MAX_BINDING_BYTES");
}

// Every 16-bit pattern, both formats: the widening is exact and keeps NaN payloads.
static void test_widen_all(void **state) {
    vkt_ctx *ctx = test_ctx();
    const uint64_t n = 65536;
    uint16_t *h = malloc(n * 2);
    float *want = malloc(n * 4);
    assert_true(h && want);
    for (uint64_t i = 0; i < n; i++) h[i] = (uint16_t)i;
    vkt_buffer *bh = test_upload(ctx, (const float *)h, n / 2), *bf = test_upload(ctx, NULL, n);
    for (int d = 0; d < 2; d++) {
        vkt_dtype16 dt = d ? VKT_F16 : VKT_BF16;
        assert_int_equal(vkt_ref_widen16(dt, n, h, want, NULL), VKT_OK);
        TEST_OK(ctx, vkt_widen16(ctx, dt, vkt_view_all(bh), vkt_view_all(bf), n));
        float *got = test_download(ctx, bf, n);
        for (uint64_t i = 0; i < n; i++)
            if (memcmp(&got[i], &want[i], 4))
                fail_msg("widen16 %s 0x%04x: got %a want %a", vkt_dtype16_name(dt), (unsigned)i,
                         got[i], want[i]);
        free(got);
    }
    vkt_buffer_destroy(ctx, bh), vkt_buffer_destroy(ctx, bf);
    free(h), free(want);
    test_ctx_done(ctx);
}

// Bad calls name the input at fault and write nothing.
static void test_cast_bad_calls(void **state) {
    vkt_ctx *ctx = test_ctx();
    float h[16];
    for (int i = 0; i < 16; i++) h[i] = (float)i;
    vkt_buffer *a = test_upload(ctx, h, 16), *b = test_upload(ctx, h, 16);
    vkt_view va = vkt_view_all(a), vb = vkt_view_all(b), none = {0};
    assert_int_equal(vkt_cast16(ctx, VKT_BF16, va, (vkt_view){b, 2, 32}, 8), VKT_ERR_ARG);
    assert_non_null(
        strstr(vkt_ctx_message(ctx), "cast16: dst's offset of 2 bytes is not a multiple of 4"));
    assert_int_equal(vkt_cast16(ctx, (vkt_dtype16)7, va, vb, 8), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "dtype 7"));
    assert_int_equal(vkt_cast16(ctx, VKT_F16, va, vb, 17), VKT_ERR_ARG);
    assert_non_null(
        strstr(vkt_ctx_message(ctx), "src view of 64 bytes is too small for 17 floats"));
    assert_int_equal(vkt_cast16(ctx, VKT_F16, va, vkt_view_f32(vb, 0, 4), 9), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx),
                           "dst view of 16 bytes is too small for 9 f16 values (5 words)"));
    assert_int_equal(vkt_cast16(ctx, VKT_F16, none, vb, 2), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "src is a NULL view"));
    assert_int_equal(vkt_widen16(ctx, VKT_BF16, (vkt_view){a, 6, 32}, vb, 4), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "widen16: src's offset of 6 bytes"));
    assert_int_equal(vkt_widen16(ctx, VKT_BF16, va, vkt_view_f32(vb, 0, 3), 4), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "dst view of 12 bytes is too small for 4 floats"));
    float *got = test_download(ctx, b, 16);
    assert_memory_equal(got, h, sizeof h);
    free(got);
    uint16_t o[2];
    assert_int_equal(vkt_ref_cast16((vkt_dtype16)2, 1, h, o, NULL), VKT_ERR_ARG);
    assert_int_equal(vkt_ref_cast16(VKT_BF16, 1, NULL, o, NULL), VKT_ERR_ARG);
    assert_int_equal(vkt_ref_widen16(VKT_F16, 1, o, NULL, NULL), VKT_ERR_ARG);
    vkt_buffer_destroy(ctx, a), vkt_buffer_destroy(ctx, b);
    test_ctx_done(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cast_counts),
        cmocka_unit_test(test_cast_split),
        cmocka_unit_test(test_widen_all),
        cmocka_unit_test(test_cast_bad_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
