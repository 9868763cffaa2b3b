// test_transfers.c: the context's transfer counters (runtime/buffer.h vkt_ctx_transfers):
// uploads and downloads count their bytes, a download waits for the device once it has work
// to finish (a fence), on the mapped path and through staging (VKT_DISABLE_UNIFIED=1).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "buffer.h"
#include "context.h"
#include "op_elementwise.h"
#include "profile.h"
#include "support_gpu.h"

static void counts(bool staged) {
    if (staged)
        setenv("VKT_DISABLE_UNIFIED", "1", 1);
    else
        unsetenv("VKT_DISABLE_UNIFIED"); // the mapped case, even when the caller set it
    vkt_ctx *ctx = test_ctx();
    unsetenv("VKT_DISABLE_UNIFIED");
    assert_int_equal(vkt_ctx_profile(ctx)->unified_memory, !staged);
    enum { N = 1000 };
    float x[N];
    for (int i = 0; i < N; i++) x[i] = (float)i;
    vkt_buffer *b = test_upload(ctx, x, N);
    vkt_transfers t0, t1;
    vkt_ctx_transfers(ctx, &t0);
    assert_true(t0.bytes_up >= N * 4);
    assert_int_equal(vkt_upload(ctx, vkt_view_all(b), x, 100 * 4), VKT_OK);
    assert_int_equal(vkt_scale(ctx, vkt_view_all(b), N, 2.0f),
                     VKT_OK); // work the download waits for
    float y[N];
    assert_int_equal(vkt_download(ctx, vkt_view_all(b), y, N * 4), VKT_OK);
    vkt_ctx_transfers(ctx, &t1);
    assert_int_equal(t1.bytes_up - t0.bytes_up, 100 * 4);
    assert_int_equal(t1.bytes_down - t0.bytes_down, N * 4);
    assert_true(t1.host_waits > t0.host_waits);
    assert_true(y[N - 1] == 2.0f * (float)(N - 1));
    vkt_buffer_destroy(ctx, b);
    test_ctx_done(ctx);
}

static void mapped(void **st) {
    (void)st;
    counts(false);
}

static void staged(void **st) {
    (void)st;
    counts(true);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(mapped), cmocka_unit_test(staged)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
