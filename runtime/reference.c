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

static vkt_status check_dtype(const char *op, vkt_dtype16 dt, vkt_error *err) {
    if (dt != VKT_BF16 && dt != VKT_F16)
        return vkt_fail(err, VKT_ERR_ARG, "%s: dtype %d is neither VKT_BF16 nor VKT_F16", op,
                        (int)dt);
    return VKT_OK;
}

// Element i of an operand that holds floats or, when h16, dt values.
static double elem16(vkt_dtype16 dt, bool h16, const void *x, size_t i) {
    return h16 ? (double)vkt_half_to_f32(dt, ((const uint16_t *)x)[i])
               : (double)((const float *)x)[i];
}

vkt_status vkt_ref_matmul16(vkt_dtype16 dt, bool a16, bool b16, bool transA, bool transB, int M,
                            int N, int K, float alpha, const void *A, const void *B, float beta,
                            float *C, const float *bias, vkt_error *err) {
    VKT_TRY(vkt_check_matmul(transA, transB, M, N, K, err));
    VKT_TRY(check_dtype("matmul16", dt, err));
    VKT_TRY(need("matmul16", "A", A, err));
    VKT_TRY(need("matmul16", "B", B, err));
    VKT_TRY(need("matmul16", "C", C, err));
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < N; n++) {
            double acc = 0;
            for (int k = 0; k < K; k++) {
                size_t ia = transA ? (size_t)k * M + m : (size_t)m * K + k;
                size_t ib = transB ? (size_t)n * K + k : (size_t)k * N + n;
                acc += elem16(dt, a16, A, ia) * elem16(dt, b16, B, ib);
            }
            double c = (double)alpha * acc;
            if (beta != 0) c += (double)beta * C[(size_t)m * N + n]; // beta == 0 never reads C
            if (bias) c += bias[n];
            C[(size_t)m * N + n] = (float)c;
        }
    }
    return VKT_OK;
}

vkt_status vkt_ref_matmul_w16(vkt_dtype16 dt, bool transA, bool transB, int M, int N, int K,
                              float alpha, const float *A, const uint16_t *B, float beta, float *C,
                              const float *bias, vkt_error *err) {
    VKT_TRY(vkt_check_matmul(transA, transB, M, N, K, err));
    VKT_TRY(check_dtype("matmul_w16", dt, err));
    VKT_TRY(need("matmul_w16", "A", A, err));
    VKT_TRY(need("matmul_w16", "B", B, err));
    VKT_TRY(need("matmul_w16", "C", C, err));
    return vkt_ref_matmul16(dt, false, true, transA, transB, M, N, K, alpha, A, B, beta, C, bias,
                            err);
}

vkt_status vkt_ref_cast16(vkt_dtype16 dt, size_t n, const float *src, uint16_t *dst,
                          vkt_error *err) {
    VKT_TRY(check_dtype("cast16", dt, err));
    VKT_TRY(need("cast16", "src", src, err));
    VKT_TRY(need("cast16", "dst", dst, err));
    for (size_t i = 0; i < n; i++) dst[i] = vkt_f32_to_half(dt, src[i]);
    return VKT_OK;
}

vkt_status vkt_ref_widen16(vkt_dtype16 dt, size_t n, const uint16_t *src, float *dst,
                           vkt_error *err) {
    VKT_TRY(check_dtype("widen16", dt, err));
    VKT_TRY(need("widen16", "src", src, err));
    VKT_TRY(need("widen16", "dst", dst, err));
    for (size_t i = 0; i < n; i++) dst[i] = vkt_half_to_f32(dt, src[i]);
    return VKT_OK;
}

vkt_status vkt_ref_clip_factor(double norm, double max_norm, double *factor, vkt_error *err) {
    if (!(norm >= 0)) return vkt_fail(err, VKT_ERR_ARG, "clip_factor: norm=%g must be >= 0", norm);
    if (!(max_norm > 0))
        return vkt_fail(err, VKT_ERR_ARG, "clip_factor: max_norm=%g must be > 0", max_norm);
    if (!factor) return vkt_fail(err, VKT_ERR_ARG, "clip_factor: factor is NULL");
    double f = max_norm / (norm + 1e-6);
    *factor = f < 1.0 ? f : 1.0;
    return VKT_OK;
}
