// shape_check.c: see shape_check.h. Messages name the op and the input at fault.
#include "shape_check.h"

#include <math.h>

size_t vkt_strided_extent(int rows, int stride, int width) {
    if (rows <= 0 || width <= 0) return 0;
    return (size_t)(rows - 1) * (size_t)stride + (size_t)width;
}

vkt_status vkt_check_positive(const char *op, const char *name, long long value, vkt_error *err) {
    if (value <= 0) return vkt_fail(err, VKT_ERR_ARG, "%s: %s=%lld must be > 0", op, name, value);
    return VKT_OK;
}

vkt_status vkt_check_count(const char *op, size_t n, vkt_error *err) {
    if (n == 0) return vkt_fail(err, VKT_ERR_ARG, "%s: n=0 must be > 0", op);
    return VKT_OK;
}

vkt_status vkt_check_rows(const char *op, int N, int C, vkt_error *err) {
    VKT_TRY(vkt_check_positive(op, "N", N, err));
    return vkt_check_positive(op, "C", C, err);
}

vkt_status vkt_check_ids(const char *op, const char *name, size_t n, const int32_t *ids, int limit,
                         vkt_error *err) {
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= limit)
            return vkt_fail(err, VKT_ERR_ARG, "%s: %s[%zu]=%d is outside [0, %d)", op, name, i,
                            (int)ids[i], limit);
    }
    return VKT_OK;
}

vkt_status vkt_check_matmul(bool transA, bool transB, int M, int N, int K, vkt_error *err) {
    (void)transA;
    (void)transB;
    VKT_TRY(vkt_check_positive("matmul", "M", M, err));
    VKT_TRY(vkt_check_positive("matmul", "N", N, err));
    return vkt_check_positive("matmul", "K", K, err);
}

vkt_status vkt_check_embedding(int N, int C, int V, int Tmax, bool has_wpe, vkt_error *err) {
    VKT_TRY(vkt_check_positive("embedding", "N", N, err));
    VKT_TRY(vkt_check_positive("embedding", "C", C, err));
    VKT_TRY(vkt_check_positive("embedding", "V", V, err));
    if (has_wpe) VKT_TRY(vkt_check_positive("embedding", "Tmax", Tmax, err));
    return VKT_OK;
}

vkt_status vkt_check_norm(const char *op, int N, int C, double eps, vkt_error *err) {
    VKT_TRY(vkt_check_rows(op, N, C, err));
    if (!(eps >= 0) || !isfinite(eps))
        return vkt_fail(err, VKT_ERR_ARG, "%s: eps=%g must be finite and >= 0", op, eps);
    return VKT_OK;
}

static vkt_status check_stride(const char *op, const char *name, int stride, int min,
                               vkt_error *err) {
    if (stride < min)
        return vkt_fail(err, VKT_ERR_ARG, "%s: %s=%d must be >= %d (the row width)", op, name,
                        stride, min);
    return VKT_OK;
}

vkt_status vkt_check_swiglu(int N, int F, int gate_stride, int up_stride, int out_stride,
                            vkt_error *err) {
    VKT_TRY(vkt_check_positive("swiglu", "N", N, err));
    VKT_TRY(vkt_check_positive("swiglu", "F", F, err));
    VKT_TRY(check_stride("swiglu", "gate_stride", gate_stride, F, err));
    VKT_TRY(check_stride("swiglu", "up_stride", up_stride, F, err));
    return check_stride("swiglu", "out_stride", out_stride, F, err);
}

// H*D as a checked int: strides are ints, so a row wider than INT_MAX cannot be addressed.
static vkt_status row_width(const char *op, const char *name, int heads, int D, int *width,
                            vkt_error *err) {
    long long w = (long long)heads * D;
    if (w > 0x7fffffff)
        return vkt_fail(err, VKT_ERR_ARG, "%s: %s*D=%lld is too large", op, name, w);
    *width = (int)w;
    return VKT_OK;
}

vkt_status vkt_check_rope(int B, int T, int H, int D, int row_stride, double theta,
                          vkt_error *err) {
    VKT_TRY(vkt_check_positive("rope", "B", B, err));
    VKT_TRY(vkt_check_positive("rope", "T", T, err));
    VKT_TRY(vkt_check_positive("rope", "H", H, err));
    VKT_TRY(vkt_check_positive("rope", "D", D, err));
    if (D % 2 != 0)
        return vkt_fail(err, VKT_ERR_ARG, "rope: D=%d must be even (pairs i, i+D/2)", D);
    int width = 0;
    VKT_TRY(row_width("rope", "H", H, D, &width, err));
    VKT_TRY(check_stride("rope", "row_stride", row_stride, width, err));
    if (!(theta > 0) || !isfinite(theta))
        return vkt_fail(err, VKT_ERR_ARG, "rope: theta=%g must be finite and > 0", theta);
    return VKT_OK;
}

vkt_status vkt_check_attention(int B, int T, int H, int KVH, int D, double scale, int q_stride,
                               int k_stride, int v_stride, vkt_error *err) {
    VKT_TRY(vkt_check_positive("attention", "B", B, err));
    VKT_TRY(vkt_check_positive("attention", "T", T, err));
    VKT_TRY(vkt_check_positive("attention", "H", H, err));
    VKT_TRY(vkt_check_positive("attention", "KVH", KVH, err));
    VKT_TRY(vkt_check_positive("attention", "D", D, err));
    if (H % KVH != 0)
        return vkt_fail(err, VKT_ERR_ARG, "attention: KVH=%d must divide H=%d", KVH, H);
    if (!isfinite(scale))
        return vkt_fail(err, VKT_ERR_ARG, "attention: scale=%g must be finite", scale);
    int qw = 0, kvw = 0;
    VKT_TRY(row_width("attention", "H", H, D, &qw, err));
    VKT_TRY(row_width("attention", "KVH", KVH, D, &kvw, err));
    VKT_TRY(check_stride("attention", "q_stride", q_stride, qw, err));
    VKT_TRY(check_stride("attention", "k_stride", k_stride, kvw, err));
    return check_stride("attention", "v_stride", v_stride, kvw, err);
}

vkt_status vkt_check_softmax(int R, int L, bool causal, vkt_error *err) {
    VKT_TRY(vkt_check_positive("softmax", "R", R, err));
    VKT_TRY(vkt_check_positive("softmax", "L", L, err));
    if (causal && R % L != 0)
        return vkt_fail(err, VKT_ERR_ARG, "softmax: causal needs R=%d to be a multiple of L=%d", R,
                        L);
    return VKT_OK;
}

vkt_status vkt_check_cross_entropy(int N, int V, double grad_scale, vkt_error *err) {
    VKT_TRY(vkt_check_positive("cross_entropy", "N", N, err));
    VKT_TRY(vkt_check_positive("cross_entropy", "V", V, err));
    if (!isfinite(grad_scale))
        return vkt_fail(err, VKT_ERR_ARG, "cross_entropy: grad_scale=%g must be finite",
                        grad_scale);
    return VKT_OK;
}

vkt_status vkt_check_adamw(size_t n, double lr, double beta1, double beta2, double eps,
                           double weight_decay, int t, vkt_error *err) {
    VKT_TRY(vkt_check_count("adamw", n, err));
    if (t < 1) return vkt_fail(err, VKT_ERR_ARG, "adamw: t=%d must be >= 1 (1-based step)", t);
    if (!(beta1 >= 0 && beta1 < 1))
        return vkt_fail(err, VKT_ERR_ARG, "adamw: beta1=%g must be in [0, 1)", beta1);
    if (!(beta2 >= 0 && beta2 < 1))
        return vkt_fail(err, VKT_ERR_ARG, "adamw: beta2=%g must be in [0, 1)", beta2);
    if (!(eps >= 0) || !isfinite(eps))
        return vkt_fail(err, VKT_ERR_ARG, "adamw: eps=%g must be finite and >= 0", eps);
    if (!isfinite(lr)) return vkt_fail(err, VKT_ERR_ARG, "adamw: lr=%g must be finite", lr);
    if (!isfinite(weight_decay))
        return vkt_fail(err, VKT_ERR_ARG, "adamw: weight_decay=%g must be finite", weight_decay);
    return VKT_OK;
}
