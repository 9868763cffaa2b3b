// test_memory_rebar.c: the rebar memory mode (a discrete GPU's device-local heap mapped whole:
// uploads write it through the mapping, downloads go through the cached readback copy), forced
// on lavapipe with VKT_FORCE_REBAR=1 (the type choice on made-up tables: test_memory_type.c). Round
// trips of awkward sizes and offsets, whose uploads move no staging bytes and wait for nothing; a
// host write after a dispatch that reads the buffer, with that dispatch's frame being recorded or
// in flight (the dispatch sees the old data, the next one the new); blocks past VKT_MAX_REBAR_BYTES
// on the staging path (training steps in rebar mode: test_step_waits.c). Synchronization validation
// is on (test_ctx).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "memory_type.h"
#include "op_elementwise.h"
#include "support_gpu.h"

#define DL VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT
#define HV VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT
#define HC VK_MEMORY_PROPERTY_HOST_COHERENT_BIT
#define KiB (1ull << 10)
#define MiB (1ull << 20)

// A context forced to rebar; the variables are read when the profile is made. A device with
// no host-visible device-local type cannot be forced: the test is skipped.
static vkt_ctx *rebar_ctx(void) {
    unsetenv("VKT_DISABLE_UNIFIED");
    unsetenv("VKT_DISABLE_REBAR");
    setenv("VKT_FORCE_REBAR", "1", 1);
    vkt_ctx *ctx = test_ctx();
    unsetenv("VKT_FORCE_REBAR");
    if (vkt_ctx_profile(ctx)->memory_mode != VKT_MEMORY_REBAR) {
        test_ctx_done(ctx);
        skip();
    }
    return ctx;
}

static vkt_transfers counters(vkt_ctx *ctx) {
    vkt_transfers t;
    vkt_ctx_transfers(ctx, &t);
    return t;
}

// On lavapipe: forcing gives rebar (its one heap is small and host memory, so the size check is
// skipped); the kill switch wins; without either the device stays unified.
static void test_profile(void **state) {
    vkt_ctx *ctx = rebar_ctx();
    const vkt_profile *p = vkt_ctx_profile(ctx);
    assert_false(p->unified_memory);
    assert_true(p->rebar_forced);
    assert_true((p->memory_types[p->memory_type_device].flags & (DL | HV | HC)) == (DL | HV | HC));
    assert_string_equal(vkt_memory_mode_name(p->memory_mode), "rebar");
    test_ctx_done(ctx);

    setenv("VKT_FORCE_REBAR", "1", 1);
    setenv("VKT_DISABLE_REBAR", "1", 1);
    ctx = test_ctx();
    assert_int_equal(vkt_ctx_profile(ctx)->memory_mode, VKT_MEMORY_STAGING);
    test_ctx_done(ctx);
    unsetenv("VKT_FORCE_REBAR");
    unsetenv("VKT_DISABLE_REBAR");

    ctx = test_ctx();
    if (vkt_ctx_profile(ctx)->type == VKT_DEVICE_CPU)
        assert_int_equal(vkt_ctx_profile(ctx)->memory_mode, VKT_MEMORY_UNIFIED);
    test_ctx_done(ctx);
}

// --- round trips -----------------------------------------------------------------------

static void fill_bytes(uint8_t *p, uint64_t n, uint32_t seed) {
    uint32_t s = seed * 2654435761u + 1;
    for (uint64_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 17, s ^= s << 5;
        p[i] = (uint8_t)s;
    }
}

// `bytes` at `off` inside a buffer of off + bytes + 5: the upload writes the mapping (no
// staging bytes, nothing in the command stream, no wait) and leaves the bytes around it alone;
// the download comes back through readback.
static void round_trip(vkt_ctx *ctx, uint64_t bytes, uint64_t off) {
    uint64_t total = off + bytes + 5;
    uint8_t *base = malloc(total), *part = malloc(bytes), *want = malloc(total),
            *back = malloc(total);
    assert_true(base && part && want && back);
    fill_bytes(base, total, (uint32_t)bytes);
    fill_bytes(part, bytes, (uint32_t)(bytes + off + 7));
    memcpy(want, base, total);
    memcpy(want + off, part, bytes);
    vkt_buffer *b = NULL;
    TEST_OK(ctx, vkt_buffer_create(ctx, total, &b));
    vkt_transfers t0 = counters(ctx);
    TEST_OK(ctx, vkt_upload(ctx, vkt_view_all(b), base, total));
    vkt_view v = {b, off, bytes};
    TEST_OK(ctx, vkt_upload(ctx, v, part, bytes));
    vkt_transfers t1 = counters(ctx);
    if (t1.bytes_staged != t0.bytes_staged || t1.bytes_inline != t0.bytes_inline ||
        t1.host_waits != t0.host_waits)
        fail_msg("%llu bytes at %llu: uploads staged %llu, inlined %llu, waited %llu",
                 (unsigned long long)bytes, (unsigned long long)off,
                 (unsigned long long)(t1.bytes_staged - t0.bytes_staged),
                 (unsigned long long)(t1.bytes_inline - t0.bytes_inline),
                 (unsigned long long)(t1.host_waits - t0.host_waits));
    assert_int_equal(t1.bytes_up - t0.bytes_up, total + bytes);
    TEST_OK(ctx, vkt_download(ctx, vkt_view_all(b), back, total));
    vkt_transfers t2 = counters(ctx);
    assert_int_equal(t2.bytes_staged - t1.bytes_staged, total);
    if (memcmp(back, want, total))
        fail_msg("%llu bytes at %llu: contents differ", (unsigned long long)bytes,
                 (unsigned long long)off);
    memset(back, 0, bytes);
    TEST_OK(ctx, vkt_download(ctx, v, back, bytes));
    assert_memory_equal(back, part, bytes);
    vkt_buffer_destroy(ctx, b);
    free(base), free(part), free(want), free(back);
}

static void test_round_trips(void **state) {
    vkt_ctx *ctx = rebar_ctx();
    // around 4 bytes, the 4096-byte binding split the op tests force, the 256 KiB inline limit,
    // and past the 32 MiB readback buffer
    const uint64_t sizes[] = {
        1, 3, 4, 5, 4095, 4096, 4097, 8193, 256 * KiB, 256 * KiB + 4, MiB + 3, 40 * MiB + 3};
    const uint64_t offs[] = {0, 1, 3, 4096};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        for (size_t j = 0; j < 4; j++)
            if (sizes[i] < 8 * MiB || j == 1) round_trip(ctx, sizes[i], offs[j]);
    test_ctx_done(ctx);
}

// --- ordering ----------------------------------------------------------------------------

typedef enum when { RECORDING, IN_FLIGHT } when;

// x holds `old`; a copy of x into y1 is recorded (its frame still recording, or submitted and
// in flight behind 300 other dispatches); then `bytes` of `fresh` go into x at byte `off`; a
// copy into y2 follows. y1 must hold the old data, y2 the new. Small aligned writes to a buffer
// in use go into the command stream (no wait); others wait for exactly one fence.
static void ordered(vkt_ctx *ctx, uint64_t n, uint64_t off, uint64_t bytes, when w) {
    float *old = malloc(n * 4), *fresh = malloc(n * 4), *want = malloc(n * 4);
    assert_true(old && fresh && want);
    for (uint64_t i = 0; i < n; i++) old[i] = 1.0f + (float)(i % 1000) / 1000.0f;
    for (uint64_t i = 0; i < n; i++) fresh[i] = -1.0f - (float)(i % 777) / 1000.0f;
    // old and fresh share the exponent (127): a float written in part is still a normal number
    memcpy(want, old, n * 4);
    memcpy((char *)want + off, (const char *)fresh + off, bytes);
    vkt_buffer *x = test_upload(ctx, old, n), *y1 = test_upload(ctx, NULL, n),
               *y2 = test_upload(ctx, NULL, n), *z = test_upload(ctx, NULL, 4);
    TEST_OK(ctx, vkt_axpby(ctx, 1.0f, vkt_view_all(x), 0.0f, vkt_view_all(y1), n));
    if (w == IN_FLIGHT)
        for (int i = 0; i < 300; i++) TEST_OK(ctx, vkt_scale(ctx, vkt_view_all(z), 4, 1.0f));
    vkt_transfers t0 = counters(ctx);
    vkt_view v = {x, off, bytes};
    TEST_OK(ctx, vkt_upload(ctx, v, (const char *)fresh + off, bytes));
    vkt_transfers t1 = counters(ctx);
    bool inline_ok = bytes <= (256 << 10) && off % 4 == 0 && bytes % 4 == 0;
    assert_int_equal(t1.bytes_staged, t0.bytes_staged);
    assert_int_equal(t1.bytes_inline - t0.bytes_inline, inline_ok ? bytes : 0);
    assert_int_equal(t1.host_waits - t0.host_waits, inline_ok ? 0 : 1);
    TEST_OK(ctx, vkt_axpby(ctx, 1.0f, vkt_view_all(x), 0.0f, vkt_view_all(y2), n));
    float *g1 = test_download(ctx, y1, n), *g2 = test_download(ctx, y2, n);
    if (memcmp(g1, old, n * 4))
        fail_msg("n=%llu off=%llu bytes=%llu: the first copy saw the new data",
                 (unsigned long long)n, (unsigned long long)off, (unsigned long long)bytes);
    if (memcmp(g2, want, n * 4))
        fail_msg("n=%llu off=%llu bytes=%llu: the second copy missed the new data",
                 (unsigned long long)n, (unsigned long long)off, (unsigned long long)bytes);
    free(g1), free(g2), free(old), free(fresh), free(want);
    vkt_buffer_destroy(ctx, x), vkt_buffer_destroy(ctx, y1), vkt_buffer_destroy(ctx, y2);
    vkt_buffer_destroy(ctx, z);
}

static void test_write_after_read(void **state) {
    setenv("VKT_MAX_BINDING_BYTES", "4096", 1); // the copies split into several dispatches
    vkt_ctx *ctx = rebar_ctx();
    unsetenv("VKT_MAX_BINDING_BYTES");
    assert_int_equal(vkt_ctx_profile(ctx)->max_binding_bytes, 4096);
    const uint64_t big = (256 << 10) / 4 + 1; // past the inline limit
    for (int w = RECORDING; w <= IN_FLIGHT; w++) {
        ordered(ctx, 1, 0, 4, (when)w);             // inline
        ordered(ctx, 1, 0, 3, (when)w);             // unaligned: waits
        ordered(ctx, 1025, 4093, 7, (when)w);       // across the 4096-byte split, unaligned
        ordered(ctx, 1025, 0, 4100, (when)w);       // all of it, inline
        ordered(ctx, big, 4, big * 4 - 4, (when)w); // large: waits for the one frame
    }
    test_ctx_done(ctx);
}

// Past VKT_MAX_REBAR_BYTES a block falls back to the staging path; both kinds of block serve.
static void test_fallback(void **state) {
    setenv("VKT_MAX_REBAR_BYTES", "256M", 1);
    vkt_ctx *ctx = rebar_ctx();
    vkt_buffer *a = NULL, *b = NULL;
    TEST_OK(ctx, vkt_buffer_create(ctx, 4097, &a));      // a 256 MiB rebar block
    TEST_OK(ctx, vkt_buffer_create(ctx, 300 * MiB, &b)); // its own block: over the cap
    unsetenv("VKT_MAX_REBAR_BYTES");
    assert_int_equal(vkt_ctx_memory_blocks(ctx), 2);
    uint8_t h[4097], back[4097];
    fill_bytes(h, sizeof h, 5);
    vkt_transfers t0 = counters(ctx);
    TEST_OK(ctx, vkt_upload(ctx, vkt_view_all(a), h, sizeof h));
    vkt_transfers t1 = counters(ctx);
    assert_int_equal(t1.bytes_staged, t0.bytes_staged);
    vkt_view v = {b, 300 * MiB - 4097, 4097};
    TEST_OK(ctx, vkt_upload(ctx, v, h, sizeof h));
    vkt_transfers t2 = counters(ctx);
    assert_int_equal(t2.bytes_staged - t1.bytes_staged, sizeof h);
    TEST_OK(ctx, vkt_download(ctx, v, back, sizeof back));
    assert_memory_equal(back, h, sizeof h);
    memset(back, 0, sizeof back);
    TEST_OK(ctx, vkt_download(ctx, vkt_view_all(a), back, sizeof back));
    assert_memory_equal(back, h, sizeof h);
    vkt_buffer_destroy(ctx, b);
    vkt_buffer_destroy(ctx, a);
    test_ctx_done(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_write_after_read),
        cmocka_unit_test(test_fallback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
