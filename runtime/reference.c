// reference.c: compiles reference_impl.h twice, once per precision (see reference.h).
#include "reference.h"

#include <math.h>
#include <stdlib.h>

#include "shape_check.h"

static const double REF_PI = 3.14159265358979323846;

// A required pointer argument: NULL is a caller error that names the argument.
static vkt_status need(const char *op, const char *name, const void *p, vkt_error *err) {
    if (!p) return vkt_fail(err, VKT_ERR_ARG, "%s: %s is NULL", op, name);
    return VKT_OK;
}

#define REF_CAT2(a, b) a##b
#define REF_CAT(a, b) REF_CAT2(a, b)
#define FN(name) REF_CAT(name, SUF)

#define REAL float
#define SUF
#include "reference_impl.h"
#undef REAL
#undef SUF

#define REAL double
#define SUF _f64
#include "reference_impl.h"
#undef REAL
#undef SUF

vkt_status vkt_ref_matmul_w16(vkt_dtype16 dt, bool transA, bool transB, int M, int N, int K,
                              float alpha, const float *A, const uint16_t *B, float beta,
                              float *C, const float *bias, vkt_error *err) {
    VKT_TRY(vkt_check_matmul(transA, transB, M, N, K, err));
    if (dt != VKT_BF16 && dt != VKT_F16)
        return vkt_fail(err, VKT_ERR_ARG, "matmul_w16: dtype %d is neither VKT_BF16 nor VKT_F16", (int)dt);
    VKT_TRY(need("matmul_w16", "A", A, err));
    VKT_TRY(need("matmul_w16", "B", B, err));
    VKT_TRY(need("matmul_w16", "C", C, err));
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < N; n++) {
            double acc = 0;
            for (int k = 0; k < K; k++) {
                double a = transA ? A[(size_t)k * M + m] : A[(size_t)m * K + k];
                uint16_t h = transB ? B[(size_t)n * K + k] : B[(size_t)k * N + n];
                acc += a * (double)vkt_half_to_f32(dt, h);
            }
            double c = (double)alpha * acc;
            if (beta != 0) c += (double)beta * C[(size_t)m * N + n]; // beta == 0 never reads C
            if (bias) c += bias[n];
            C[(size_t)m * N + n] = (float)c;
        }
    }
    return VKT_OK;
}

vkt_status vkt_ref_clip_factor(double norm, double max_norm, double *factor, vkt_error *err) {
    if (!(norm >= 0))
        return vkt_fail(err, VKT_ERR_ARG, "clip_factor: norm=%g must be >= 0", norm);
    if (!(max_norm > 0))
        return vkt_fail(err, VKT_ERR_ARG, "clip_factor: max_norm=%g must be > 0", max_norm);
    if (!factor) return vkt_fail(err, VKT_ERR_ARG, "clip_factor: factor is NULL");
    double f = max_norm / (norm + 1e-6);
    *factor = f < 1.0 ? f : 1.0;
    return VKT_OK;
}
