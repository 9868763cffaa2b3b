#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <time.h>

#include <cmocka.h>

#include "support_gpu.h"

vkt_ctx *test_ctx(void) {
    vkt_ctx_options o = vkt_ctx_default_options();
    o.validation = true;
    vkt_ctx *ctx = NULL;
    vkt_error err = {0};
    if (vkt_ctx_create(&o, &ctx, &err) != VKT_OK) fail_msg("creating a context: %s", err.msg);
    return ctx;
}

void test_ctx_done(vkt_ctx *ctx) {
    vkt_sync(ctx);
    int n = vkt_ctx_validation_messages(ctx);
    vkt_ctx_destroy(ctx);
    if (n != 0) fail_msg("%d validation message(s): see stderr", n);
}

void test_fill_uniform(float *x, uint64_t n, uint64_t seed, float lo, float hi) {
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (uint64_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        x[i] = lo + (hi - lo) * (float)((s >> 40) * (1.0 / 16777216.0));
    }
}

vkt_buffer *test_upload(vkt_ctx *ctx, const float *host, uint64_t n) {
    vkt_buffer *b = NULL;
    TEST_OK(ctx, vkt_buffer_create(ctx, n * 4, &b));
    if (host)
        TEST_OK(ctx, vkt_upload(ctx, vkt_view_all(b), host, n * 4));
    else {
        float *z = calloc(n, 4);
        TEST_OK(ctx, vkt_upload(ctx, vkt_view_all(b), z, n * 4));
        free(z);
    }
    return b;
}

float *test_download(vkt_ctx *ctx, vkt_buffer *b, uint64_t n) {
    float *h = malloc(n * 4);
    assert_non_null(h);
    TEST_OK(ctx, vkt_download(ctx, vkt_view_all(b), h, n * 4));
    return h;
}

bool test_close(const char *label, const float *got, const float *want, uint64_t n, double atol,
                double rtol) {
    uint64_t worst = 0, bad = 0;
    double worst_excess = -1;
    for (uint64_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]),
               tol = atol + rtol * fabs((double)want[i]);
        if (!(d <= tol)) {
            bad++;
            double ex = isnan(d) ? INFINITY : d - tol;
            if (ex > worst_excess) worst_excess = ex, worst = i;
        }
    }
    if (bad) {
        fprintf(stderr,
                "%s: %llu of %llu elements outside atol %g + rtol %g; worst at %llu: got %.9g want "
                "%.9g\n",
                label, (unsigned long long)bad, (unsigned long long)n, atol, rtol,
                (unsigned long long)worst, got[worst], want[worst]);
        return false;
    }
    return true;
}

double test_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
