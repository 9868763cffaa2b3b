// support_gpu.h: what GPU tests share: a context with the validation layer on (when
// installed), random data, and tolerance checks that say where they failed.
#ifndef VKT_SUPPORT_GPU_H
#define VKT_SUPPORT_GPU_H

#include <stdbool.h>
#include <stdint.h>

#include "buffer.h"
#include "context.h"

// Creates the test context (validation forced on when the layer exists); fails the test
// on error. Call test_ctx_done() at the end: it fails the test if validation spoke.
vkt_ctx *test_ctx(void);
void test_ctx_done(vkt_ctx *ctx);

// Deterministic uniform floats in [lo, hi) from a seed.
void test_fill_uniform(float *x, uint64_t n, uint64_t seed, float lo, float hi);

// A buffer holding host data (NULL: zeros) of n floats.
vkt_buffer *test_upload(vkt_ctx *ctx, const float *host, uint64_t n);
// Downloads n floats into a malloc'd array.
float *test_download(vkt_ctx *ctx, vkt_buffer *b, uint64_t n);

// Checks |got - want| <= atol + rtol*|want| element-wise; on failure prints the worst
// element with its index and the label, and returns false.
bool test_close(const char *label, const float *got, const float *want, uint64_t n, double atol,
                double rtol);

// Fails the current cmocka test with the context's message when s != VKT_OK (a pure call
// reports there too when given vkt_ctx_err(ctx) as its error).
#define TEST_OK(ctx, expr)                                                                         \
    do {                                                                                           \
        vkt_status test_s_ = (expr);                                                               \
        if (test_s_ != VKT_OK) fail_msg("%s: %s", #expr, vkt_ctx_message(ctx));                    \
    } while (0)

// Seconds on the monotonic clock (for timings that tests print).
double test_now_s(void);

#endif
