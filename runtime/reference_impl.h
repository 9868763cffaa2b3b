// reference_impl.h: the bodies of every reference op, written once and compiled twice by
// reference.c: REAL = float with SUF empty (vkt_ref_matmul) and REAL = double with
// SUF _f64 (vkt_ref_matmul_f64). Sums are accumulated in double in both, so the float
// versions round only once per output. Contracts and shapes are in reference.h.
// No include guard on purpose; reference.c defines REAL, SUF, FN and need() first.

// a . b over D elements (each with unit stride), in double.
static double FN(dot)(const REAL *a, const REAL *b, int D) {
    double acc = 0;
    for (int d = 0; d < D; d++) acc += (double)a[d] * (double)b[d];
    return acc;
}

// ---------------------------------------------------------------------------------
// matmul

vkt_status FN(vkt_ref_matmul)(bool transA, bool transB, int M, int N, int K, REAL alpha,
                              const REAL *A, const REAL *B, REAL beta, REAL *C, const REAL *bias,
                              vkt_error *err) {
    VKT_TRY(vkt_check_matmul(transA, transB, M, N, K, err));
    VKT_TRY(need("matmul", "A", A, err));
    VKT_TRY(need("matmul", "B", B, err));
    VKT_TRY(need("matmul", "C", C, err));
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < N; n++) {
            double acc = 0;
            for (int k = 0; k < K; k++) {
                double a = transA ? A[(size_t)k * M + m] : A[(size_t)m * K + k];
                double b = transB ? B[(size_t)n * K + k] : B[(size_t)k * N + n];
                acc += a * b;
            }
            double c = (double)alpha * acc;
            // beta == 0 never reads C, so garbage or NaN there cannot leak in.
            if (beta != 0) c += (double)beta * C[(size_t)m * N + n];
            if (bias) c += bias[n];
            C[(size_t)m * N + n] = (REAL)c;
        }
    }
    return VKT_OK;
}

vkt_status FN(vkt_ref_bias_grad)(int M, int N, const REAL *dC, REAL *dbias, vkt_error *err) {
    VKT_TRY(vkt_check_positive("bias_grad", "M", M, err));
    VKT_TRY(vkt_check_positive("bias_grad", "N", N, err));
    VKT_TRY(need("bias_grad", "dC", dC, err));
    VKT_TRY(need("bias_grad", "dbias", dbias, err));
    for (int n = 0; n < N; n++) {
        double acc = 0;
        for (int m = 0; m < M; m++) acc += dC[(size_t)m * N + n];
        dbias[n] = (REAL)(dbias[n] + acc);
    }
    return VKT_OK;
}

static vkt_status FN(check_linear)(int M, int IN, int OUT, vkt_error *err) {
    VKT_TRY(vkt_check_positive("linear", "M", M, err));
    VKT_TRY(vkt_check_positive("linear", "IN", IN, err));
    return vkt_check_positive("linear", "OUT", OUT, err);
}

vkt_status FN(vkt_ref_linear_fwd)(int M, int IN, int OUT, const REAL *in, const REAL *W,
                                  const REAL *bias, REAL *out, vkt_error *err) {
    VKT_TRY(FN(check_linear)(M, IN, OUT, err));
    VKT_TRY(need("linear", "in", in, err));
    VKT_TRY(need("linear", "W", W, err));
    VKT_TRY(need("linear", "out", out, err));
    // out (M, OUT) = in (M, IN) * W^T (IN, OUT) + bias
    return FN(vkt_ref_matmul)(false, true, M, OUT, IN, 1, in, W, 0, out, bias, err);
}

vkt_status FN(vkt_ref_linear_bwd)(int M, int IN, int OUT, const REAL *dout, const REAL *in,
                                  const REAL *W, REAL *din, REAL *dW, REAL *dbias, vkt_error *err) {
    VKT_TRY(FN(check_linear)(M, IN, OUT, err));
    VKT_TRY(need("linear", "dout", dout, err));
    VKT_TRY(need("linear", "in", in, err));
    VKT_TRY(need("linear", "W", W, err));
    VKT_TRY(need("linear", "din", din, err));
    VKT_TRY(need("linear", "dW", dW, err));
    // din (M, IN) += dout (M, OUT) * W (OUT, IN)
    VKT_TRY(FN(vkt_ref_matmul)(false, false, M, IN, OUT, 1, dout, W, 1, din, NULL, err));
    // dW (OUT, IN) += dout^T (OUT, M) * in (M, IN)
    VKT_TRY(FN(vkt_ref_matmul)(true, false, OUT, IN, M, 1, dout, in, 1, dW, NULL, err));
    if (dbias) VKT_TRY(FN(vkt_ref_bias_grad)(M, OUT, dout, dbias, err));
    return VKT_OK;
}

// ---------------------------------------------------------------------------------
// embedding

static vkt_status FN(check_embedding_args)(int N, int C, int V, int Tmax, const int32_t *tok,
                                           const int32_t *pos, bool has_wpe, vkt_error *err) {
    VKT_TRY(vkt_check_embedding(N, C, V, Tmax, has_wpe, err));
    VKT_TRY(need("embedding", "tok", tok, err));
    VKT_TRY(vkt_check_ids("embedding", "tok", (size_t)N, tok, V, err));
    if (has_wpe) {
        VKT_TRY(need("embedding", "pos", pos, err));
        VKT_TRY(vkt_check_ids("embedding", "pos", (size_t)N, pos, Tmax, err));
    }
    return VKT_OK;
}

vkt_status FN(vkt_ref_embedding_fwd)(int N, int C, int V, int Tmax, const int32_t *tok,
                                     const int32_t *pos, const REAL *wte, const REAL *wpe,
                                     REAL *out, vkt_error *err) {
    VKT_TRY(need("embedding", "wte", wte, err));
    VKT_TRY(need("embedding", "out", out, err));
    VKT_TRY(FN(check_embedding_args)(N, C, V, Tmax, tok, pos, wpe != NULL, err));
    for (int i = 0; i < N; i++) {
        const REAL *te = wte + (size_t)tok[i] * C;
        const REAL *pe = wpe ? wpe + (size_t)pos[i] * C : NULL;
        REAL *o = out + (size_t)i * C;
        for (int c = 0; c < C; c++) o[c] = pe ? te[c] + pe[c] : te[c];
    }
    return VKT_OK;
}

vkt_status FN(vkt_ref_embedding_bwd)(int N, int C, int V, int Tmax, const int32_t *tok,
                                     const int32_t *pos, const REAL *dout, REAL *dwte, REAL *dwpe,
                                     vkt_error *err) {
    VKT_TRY(need("embedding", "dout", dout, err));
    VKT_TRY(need("embedding", "dwte", dwte, err));
    VKT_TRY(FN(check_embedding_args)(N, C, V, Tmax, tok, pos, dwpe != NULL, err));
    // Sequential in i: the order of additions, hence the rounding, is fixed.
    for (int i = 0; i < N; i++) {
        const REAL *d = dout + (size_t)i * C;
        REAL *te = dwte + (size_t)tok[i] * C;
        for (int c = 0; c < C; c++) te[c] += d[c];
        if (dwpe) {
            REAL *pe = dwpe + (size_t)pos[i] * C;
            for (int c = 0; c < C; c++) pe[c] += d[c];
        }
    }
    return VKT_OK;
}

// ---------------------------------------------------------------------------------
// layernorm, rmsnorm

vkt_status FN(vkt_ref_layernorm_fwd)(int N, int C, REAL eps, const REAL *in, const REAL *w,
                                     const REAL *b, REAL *out, REAL *mean, REAL *rstd,
                                     vkt_error *err) {
    VKT_TRY(vkt_check_norm("layernorm", N, C, eps, err));
    VKT_TRY(need("layernorm", "in", in, err));
    VKT_TRY(need("layernorm", "w", w, err));
    VKT_TRY(need("layernorm", "b", b, err));
    VKT_TRY(need("layernorm", "out", out, err));
    VKT_TRY(need("layernorm", "mean", mean, err));
    VKT_TRY(need("layernorm", "rstd", rstd, err));
    for (int i = 0; i < N; i++) {
        const REAL *x = in + (size_t)i * C;
        REAL *y = out + (size_t)i * C;
        double mu = 0;
        for (int c = 0; c < C; c++) mu += x[c];
        mu /= C;
        double var = 0; // two-pass: no cancellation from E[x^2] - E[x]^2
        for (int c = 0; c < C; c++) var += ((double)x[c] - mu) * ((double)x[c] - mu);
        var /= C;
        double rs = 1.0 / sqrt(var + (double)eps);
        for (int c = 0; c < C; c++) y[c] = (REAL)(((double)x[c] - mu) * rs * w[c] + b[c]);
        mean[i] = (REAL)mu;
        rstd[i] = (REAL)rs;
    }
    return VKT_OK;
}

vkt_status FN(vkt_ref_layernorm_bwd)(int N, int C, const REAL *dout, const REAL *in, const REAL *w,
                                     const REAL *mean, const REAL *rstd, REAL *din, REAL *dw,
                                     REAL *db, vkt_error *err) {
    VKT_TRY(vkt_check_rows("layernorm", N, C, err));
    VKT_TRY(need("layernorm", "dout", dout, err));
    VKT_TRY(need("layernorm", "in", in, err));
    VKT_TRY(need("layernorm", "w", w, err));
    VKT_TRY(need("layernorm", "mean", mean, err));
    VKT_TRY(need("layernorm", "rstd", rstd, err));
    VKT_TRY(need("layernorm", "din", din, err));
    VKT_TRY(need("layernorm", "dw", dw, err));
    VKT_TRY(need("layernorm", "db", db, err));
    // With xhat = (x - mean) * rstd and g = dout * w:
    // din = rstd * (g - mean(g) - xhat * mean(g * xhat)).
    for (int i = 0; i < N; i++) {
        const REAL *x = in + (size_t)i * C;
        const REAL *dy = dout + (size_t)i * C;
        REAL *dx = din + (size_t)i * C;
        double mu = mean[i], rs = rstd[i];
        double g_mean = 0, gx_mean = 0;
        for (int c = 0; c < C; c++) {
            double xhat = ((double)x[c] - mu) * rs;
            double g = (double)dy[c] * w[c];
            g_mean += g;
            gx_mean += g * xhat;
        }
        g_mean /= C;
        gx_mean /= C;
        for (int c = 0; c < C; c++) {
            double xhat = ((double)x[c] - mu) * rs;
            double g = (double)dy[c] * w[c];
            dx[c] = (REAL)(dx[c] + rs * (g - g_mean - xhat * gx_mean));
        }
    }
    // Parameter gradients summed over rows in double, added once.
    for (int c = 0; c < C; c++) {
        double sw = 0, sb = 0;
        for (int i = 0; i < N; i++) {
            double dy = dout[(size_t)i * C + c];
            sw += dy * (((double)in[(size_t)i * C + c] - mean[i]) * rstd[i]);
            sb += dy;
        }
        dw[c] = (REAL)(dw[c] + sw);
        db[c] = (REAL)(db[c] + sb);
    }
    return VKT_OK;
}

vkt_status FN(vkt_ref_rmsnorm_fwd)(int N, int C, REAL eps, const REAL *in, const REAL *w, REAL *out,
                                   REAL *rstd, vkt_error *err) {
    VKT_TRY(vkt_check_norm("rmsnorm", N, C, eps, err));
    VKT_TRY(need("rmsnorm", "in", in, err));
    VKT_TRY(need("rmsnorm", "w", w, err));
    VKT_TRY(need("rmsnorm", "out", out, err));
    VKT_TRY(need("rmsnorm", "rstd", rstd, err));
    for (int i = 0; i < N; i++) {
        const REAL *x = in + (size_t)i * C;
        REAL *y = out + (size_t)i * C;
        double ms = FN(dot)(x, x, C) / C;
        double rs = 1.0 / sqrt(ms + (double)eps);
        for (int c = 0; c < C; c++) y[c] = (REAL)((double)x[c] * rs * w[c]);
        rstd[i] = (REAL)rs;
    }
    return VKT_OK;
}

vkt_status FN(vkt_ref_rmsnorm_bwd)(int N, int C, const REAL *dout, const REAL *in, const REAL *w,
                                   const REAL *rstd, REAL *din, REAL *dw, vkt_error *err) {
    VKT_TRY(vkt_check_rows("rmsnorm", N, C, err));
    VKT_TRY(need("rmsnorm", "dout", dout, err));
    VKT_TRY(need("rmsnorm", "in", in, err));
    VKT_TRY(need("rmsnorm", "w", w, err));
    VKT_TRY(need("rmsnorm", "rstd", rstd, err));
    VKT_TRY(need("rmsnorm", "din", din, err));
    VKT_TRY(need("rmsnorm", "dw", dw, err));
    // y_c = x_c r w_c with r = (mean(x^2) + eps)^(-1/2), dr/dx_j = -r^3 x_j / C, so
    // dx_j = r (dy_j w_j - x_j r^2 mean_c(dy_c w_c x_c)).
    for (int i = 0; i < N; i++) {
        const REAL *x = in + (size_t)i * C;
        const REAL *dy = dout + (size_t)i * C;
        REAL *dx = din + (size_t)i * C;
        double rs = rstd[i];
        double gx_mean = 0;
        for (int c = 0; c < C; c++) gx_mean += (double)dy[c] * w[c] * x[c];
        gx_mean /= C;
        for (int c = 0; c < C; c++)
            dx[c] = (REAL)(dx[c] + rs * ((double)dy[c] * w[c] - (double)x[c] * rs * rs * gx_mean));
    }
    for (int c = 0; c < C; c++) {
        double sw = 0;
        for (int i = 0; i < N; i++)
            sw += (double)dout[(size_t)i * C + c] * in[(size_t)i * C + c] * rstd[i];
        dw[c] = (REAL)(dw[c] + sw);
    }
    return VKT_OK;
}

// ---------------------------------------------------------------------------------
// GELU (tanh approximation), SwiGLU

vkt_status FN(vkt_ref_gelu_fwd)(size_t n, const REAL *in, REAL *out, vkt_error *err) {
    VKT_TRY(vkt_check_count("gelu", n, err));
    VKT_TRY(need("gelu", "in", in, err));
    VKT_TRY(need("gelu", "out", out, err));
    const double k = sqrt(2.0 / REF_PI);
    for (size_t i = 0; i < n; i++) {
        double x = in[i];
        out[i] = (REAL)(0.5 * x * (1.0 + tanh(k * (x + 0.044715 * x * x * x))));
    }
    return VKT_OK;
}

vkt_status FN(vkt_ref_gelu_bwd)(size_t n, const REAL *in, const REAL *dout, REAL *din,
                                vkt_error *err) {
    VKT_TRY(vkt_check_count("gelu", n, err));
    VKT_TRY(need("gelu", "in", in, err));
    VKT_TRY(need("gelu", "dout", dout, err));
    VKT_TRY(need("gelu", "din", din, err));
    const double k = sqrt(2.0 / REF_PI);
    for (size_t i = 0; i < n; i++) {
        double x = in[i];
        double th = tanh(k * (x + 0.044715 * x * x * x));
        double du = k * (1.0 + 3.0 * 0.044715 * x * x); // d(argument of tanh)/dx
        double grad = 0.5 * (1.0 + th) + 0.5 * x * (1.0 - th * th) * du;
        din[i] = (REAL)(din[i] + grad * dout[i]);
    }
    return VKT_OK;
}

static double FN(sigmoid)(double x) { return 1.0 / (1.0 + exp(-x)); }

vkt_status FN(vkt_ref_swiglu_fwd)(int N, int F, const REAL *gate, int gate_stride, const REAL *up,
                                  int up_stride, REAL *out, int out_stride, vkt_error *err) {
    VKT_TRY(vkt_check_swiglu(N, F, gate_stride, up_stride, out_stride, err));
    VKT_TRY(need("swiglu", "gate", gate, err));
    VKT_TRY(need("swiglu", "up", up, err));
    VKT_TRY(need("swiglu", "out", out, err));
    for (int i = 0; i < N; i++) {
        for (int f = 0; f < F; f++) {
            double g = gate[(size_t)i * gate_stride + f];
            double u = up[(size_t)i * up_stride + f];
            out[(size_t)i * out_stride + f] = (REAL)(g * FN(sigmoid)(g) * u);
        }
    }
    return VKT_OK;
}

vkt_status FN(vkt_ref_swiglu_bwd)(int N, int F, const REAL *dout, int out_stride, const REAL *gate,
                                  int gate_stride, const REAL *up, int up_stride, REAL *dgate,
                                  REAL *dup, vkt_error *err) {
    VKT_TRY(vkt_check_swiglu(N, F, gate_stride, up_stride, out_stride, err));
    VKT_TRY(need("swiglu", "dout", dout, err));
    VKT_TRY(need("swiglu", "gate", gate, err));
    VKT_TRY(need("swiglu", "up", up, err));
    VKT_TRY(need("swiglu", "dgate", dgate, err));
    VKT_TRY(need("swiglu", "dup", dup, err));
    for (int i = 0; i < N; i++) {
        for (int f = 0; f < F; f++) {
            size_t gi = (size_t)i * gate_stride + f, ui = (size_t)i * up_stride + f;
            double g = gate[gi], u = up[ui], dy = dout[(size_t)i * out_stride + f];
            double s = FN(sigmoid)(g);
            // silu'(g) = s + g s (1 - s)
            dgate[gi] = (REAL)(dgate[gi] + dy * u * s * (1.0 + g * (1.0 - s)));
            dup[ui] = (REAL)(dup[ui] + dy * g * s);
        }
    }
    return VKT_OK;
}

// ---------------------------------------------------------------------------------
// RoPE (rotate_half): one routine for both directions; sign = +1 forward, -1 backward.
// inv_freq (D/2) or NULL: theta^(-2i/D).

static vkt_status FN(rope)(int B, int T, int H, int D, int row_stride, const int32_t *pos,
                           double theta, const double *inv_freq, REAL *x, double sign,
                           vkt_error *err) {
    VKT_TRY(vkt_check_rope(B, T, H, D, row_stride, inv_freq ? 1.0 : theta, err));
    VKT_TRY(need("rope", "pos", pos, err));
    VKT_TRY(need("rope", "x", x, err));
    VKT_TRY(vkt_check_ids("rope", "pos", (size_t)B * T, pos, INT32_MAX, err));
    int half = D / 2;
    for (int i = 0; inv_freq && i < half; i++)
        if (!isfinite(inv_freq[i]))
            return vkt_fail(err, VKT_ERR_ARG, "rope: inv_freq[%d]=%g must be finite", i,
                            inv_freq[i]);
    for (int r = 0; r < B * T; r++) {
        for (int h = 0; h < H; h++) {
            REAL *xh = x + (size_t)r * row_stride + (size_t)h * D;
            for (int i = 0; i < half; i++) {
                double f = inv_freq ? inv_freq[i] : pow(theta, -2.0 * i / D);
                double a = sign * (double)pos[r] * f;
                double c = cos(a), s = sin(a);
                double x1 = xh[i], x2 = xh[i + half];
                xh[i] = (REAL)(x1 * c - x2 * s);
                xh[i + half] = (REAL)(x2 * c + x1 * s);
            }
        }
    }
    return VKT_OK;
}

vkt_status FN(vkt_ref_rope_fwd)(int B, int T, int H, int D, int row_stride, const int32_t *pos,
                                REAL theta, REAL *x, vkt_error *err) {
    return FN(rope)(B, T, H, D, row_stride, pos, theta, NULL, x, 1.0, err);
}

vkt_status FN(vkt_ref_rope_bwd)(int B, int T, int H, int D, int row_stride, const int32_t *pos,
                                REAL theta, REAL *dx, vkt_error *err) {
    // The Jacobian of a rotation is the rotation; its transpose rotates by -a.
    return FN(rope)(B, T, H, D, row_stride, pos, theta, NULL, dx, -1.0, err);
}

vkt_status FN(vkt_ref_rope_fwd_freq)(int B, int T, int H, int D, int row_stride, const int32_t *pos,
                                     const double *inv_freq, REAL *x, vkt_error *err) {
    VKT_TRY(need("rope", "inv_freq", inv_freq, err));
    return FN(rope)(B, T, H, D, row_stride, pos, 1.0, inv_freq, x, 1.0, err);
}

vkt_status FN(vkt_ref_rope_bwd_freq)(int B, int T, int H, int D, int row_stride, const int32_t *pos,
                                     const double *inv_freq, REAL *dx, vkt_error *err) {
    VKT_TRY(need("rope", "inv_freq", inv_freq, err));
    return FN(rope)(B, T, H, D, row_stride, pos, 1.0, inv_freq, dx, -1.0, err);
}

// ---------------------------------------------------------------------------------
// Causal attention with grouped-query heads. The reference materialises one row of
// scores at a time (T doubles); the GPU kernel must not, but computes the same thing.

static vkt_status FN(check_attention_args)(int B, int T, int H, int KVH, int D, double scale,
                                           const REAL *q, int q_stride, const REAL *k, int k_stride,
                                           const REAL *v, int v_stride, vkt_error *err) {
    VKT_TRY(vkt_check_attention(B, T, H, KVH, D, scale, q_stride, k_stride, v_stride, err));
    VKT_TRY(need("attention", "q", q, err));
    VKT_TRY(need("attention", "k", k, err));
    return need("attention", "v", v, err);
}

vkt_status FN(vkt_ref_attention_fwd)(int B, int T, int H, int KVH, int D, REAL scale, const REAL *q,
                                     int q_stride, const REAL *k, int k_stride, const REAL *v,
                                     int v_stride, REAL *out, REAL *lse, vkt_error *err) {
    VKT_TRY(FN(check_attention_args)(B, T, H, KVH, D, scale, q, q_stride, k, k_stride, v, v_stride,
                                     err));
    VKT_TRY(need("attention", "out", out, err));
    VKT_TRY(need("attention", "lse", lse, err));
    double *s = malloc((size_t)T * sizeof *s);
    double *o = malloc((size_t)D * sizeof *o);
    if (!s || !o) {
        free(s);
        free(o);
        return vkt_fail(err, VKT_ERR_NOMEM, "attention: no memory for T=%d scores", T);
    }
    int rep = H / KVH; // query heads per kv head
    for (int b = 0; b < B; b++) {
        for (int h = 0; h < H; h++) {
            int g = h / rep;
            for (int t = 0; t < T; t++) {
                const REAL *qt = q + (size_t)(b * T + t) * q_stride + (size_t)h * D;
                double mx = -INFINITY;
                for (int j = 0; j <= t; j++) { // causal: keys j <= t
                    const REAL *kj = k + (size_t)(b * T + j) * k_stride + (size_t)g * D;
                    s[j] = (double)scale * FN(dot)(qt, kj, D);
                    if (s[j] > mx) mx = s[j];
                }
                double sum = 0;
                for (int j = 0; j <= t; j++) sum += exp(s[j] - mx);
                double l = mx + log(sum);
                for (int d = 0; d < D; d++) o[d] = 0;
                for (int j = 0; j <= t; j++) {
                    const REAL *vj = v + (size_t)(b * T + j) * v_stride + (size_t)g * D;
                    double p = exp(s[j] - l);
                    for (int d = 0; d < D; d++) o[d] += p * vj[d];
                }
                REAL *ot = out + (size_t)(b * T + t) * H * D + (size_t)h * D;
                for (int d = 0; d < D; d++) ot[d] = (REAL)o[d];
                lse[((size_t)b * H + h) * T + t] = (REAL)l;
            }
        }
    }
    free(s);
    free(o);
    return VKT_OK;
}

vkt_status FN(vkt_ref_attention_bwd)(int B, int T, int H, int KVH, int D, REAL scale,
                                     const REAL *dout, const REAL *q, int q_stride, const REAL *k,
                                     int k_stride, const REAL *v, int v_stride, const REAL *out,
                                     const REAL *lse, REAL *dq, REAL *dk, REAL *dv,
                                     vkt_error *err) {
    VKT_TRY(FN(check_attention_args)(B, T, H, KVH, D, scale, q, q_stride, k, k_stride, v, v_stride,
                                     err));
    VKT_TRY(need("attention", "dout", dout, err));
    VKT_TRY(need("attention", "out", out, err));
    VKT_TRY(need("attention", "lse", lse, err));
    VKT_TRY(need("attention", "dq", dq, err));
    VKT_TRY(need("attention", "dk", dk, err));
    VKT_TRY(need("attention", "dv", dv, err));
    double *acc = malloc((size_t)2 * D * sizeof *acc);
    if (!acc) return vkt_fail(err, VKT_ERR_NOMEM, "attention: no memory for D=%d", D);
    double *acc2 = acc + D;
    int rep = H / KVH;
    size_t orow = (size_t)H * D; // row stride of out and dout
// Pointers to row (b, t) of a strided (B, T, heads, D) tensor, head hh.
#define ROW(base, stride, t, hh) ((base) + (size_t)(b * T + (t)) * (stride) + (size_t)(hh)*D)

    // Pass 1, dq: for each query t, sum over keys j <= t in double.
    for (int b = 0; b < B; b++) {
        for (int h = 0; h < H; h++) {
            int g = h / rep;
            for (int t = 0; t < T; t++) {
                const REAL *qt = ROW(q, q_stride, t, h);
                const REAL *dot_ = ROW(dout, orow, t, h);
                double l = lse[((size_t)b * H + h) * T + t];
                double delta = FN(dot)(dot_, ROW(out, orow, t, h), D);
                for (int d = 0; d < D; d++) acc[d] = 0;
                for (int j = 0; j <= t; j++) {
                    const REAL *kj = ROW(k, k_stride, j, g);
                    double p = exp((double)scale * FN(dot)(qt, kj, D) - l);
                    double ds = p * (FN(dot)(dot_, ROW(v, v_stride, j, g), D) - delta);
                    for (int d = 0; d < D; d++) acc[d] += (double)scale * ds * kj[d];
                }
                REAL *dqt = ROW(dq, q_stride, t, h);
                for (int d = 0; d < D; d++) dqt[d] = (REAL)(dqt[d] + acc[d]);
            }
        }
    }
    // Pass 2, dk and dv: for each key j of kv head g, sum over the query heads that share
    // it and over queries t >= j, in double.
    for (int b = 0; b < B; b++) {
        for (int g = 0; g < KVH; g++) {
            for (int j = 0; j < T; j++) {
                const REAL *kj = ROW(k, k_stride, j, g);
                const REAL *vj = ROW(v, v_stride, j, g);
                for (int d = 0; d < D; d++) acc[d] = acc2[d] = 0; // dk, dv
                for (int h = g * rep; h < (g + 1) * rep; h++) {
                    for (int t = j; t < T; t++) {
                        const REAL *qt = ROW(q, q_stride, t, h);
                        const REAL *dot_ = ROW(dout, orow, t, h);
                        double l = lse[((size_t)b * H + h) * T + t];
                        double delta = FN(dot)(dot_, ROW(out, orow, t, h), D);
                        double p = exp((double)scale * FN(dot)(qt, kj, D) - l);
                        double ds = p * (FN(dot)(dot_, vj, D) - delta);
                        for (int d = 0; d < D; d++) {
                            acc[d] += (double)scale * ds * qt[d];
                            acc2[d] += p * dot_[d];
                        }
                    }
                }
                REAL *dkj = ROW(dk, k_stride, j, g);
                REAL *dvj = ROW(dv, v_stride, j, g);
                for (int d = 0; d < D; d++) {
                    dkj[d] = (REAL)(dkj[d] + acc[d]);
                    dvj[d] = (REAL)(dvj[d] + acc2[d]);
                }
            }
        }
    }
#undef ROW
    free(acc);
    return VKT_OK;
}

// ---------------------------------------------------------------------------------
// Row softmax

vkt_status FN(vkt_ref_softmax_fwd)(int R, int L, bool causal, const REAL *in, REAL *out,
                                   vkt_error *err) {
    VKT_TRY(vkt_check_softmax(R, L, causal, err));
    VKT_TRY(need("softmax", "in", in, err));
    VKT_TRY(need("softmax", "out", out, err));
    for (int r = 0; r < R; r++) {
        const REAL *x = in + (size_t)r * L;
        REAL *y = out + (size_t)r * L;
        int visible = causal ? r % L + 1 : L;
        double mx = -INFINITY;
        for (int j = 0; j < visible; j++)
            if (x[j] > mx) mx = x[j];
        double sum = 0;
        for (int j = 0; j < visible; j++) sum += exp((double)x[j] - mx);
        for (int j = 0; j < visible; j++) y[j] = (REAL)(exp((double)x[j] - mx) / sum);
        for (int j = visible; j < L; j++) y[j] = 0;
    }
    return VKT_OK;
}

vkt_status FN(vkt_ref_softmax_bwd)(int R, int L, const REAL *dout, const REAL *out, REAL *din,
                                   vkt_error *err) {
    VKT_TRY(vkt_check_softmax(R, L, false, err));
    VKT_TRY(need("softmax", "dout", dout, err));
    VKT_TRY(need("softmax", "out", out, err));
    VKT_TRY(need("softmax", "din", din, err));
    for (int r = 0; r < R; r++) {
        const REAL *dy = dout + (size_t)r * L, *y = out + (size_t)r * L;
        REAL *dx = din + (size_t)r * L;
        double s = FN(dot)(dy, y, L);
        for (int j = 0; j < L; j++) dx[j] = (REAL)(dx[j] + (double)y[j] * (dy[j] - s));
    }
    return VKT_OK;
}

// ---------------------------------------------------------------------------------
// Fused classifier cross-entropy

vkt_status FN(vkt_ref_cross_entropy)(int N, int V, const REAL *logits, const int32_t *targets,
                                     const REAL *weights, REAL grad_scale, REAL *loss,
                                     REAL *dlogits, REAL *lse, vkt_error *err) {
    return FN(vkt_ref_cross_entropy_ent)(N, V, logits, targets, weights, NULL, grad_scale, loss,
                                         dlogits, lse, NULL, err);
}

vkt_status FN(vkt_ref_cross_entropy_ent)(int N, int V, const REAL *logits, const int32_t *targets,
                                         const REAL *weights, const REAL *coef, REAL grad_scale,
                                         REAL *loss, REAL *dlogits, REAL *lse, REAL *ent,
                                         vkt_error *err) {
    VKT_TRY(vkt_check_cross_entropy(N, V, grad_scale, err));
    VKT_TRY(need("cross_entropy", "logits", logits, err));
    VKT_TRY(need("cross_entropy", "targets", targets, err));
    VKT_TRY(need("cross_entropy", "weights", weights, err));
    VKT_TRY(need("cross_entropy", "loss", loss, err));
    for (int i = 0; i < N; i++) { // all inputs first: nothing is written on error
        if (weights[i] != 0 && (targets[i] < 0 || targets[i] >= V))
            return vkt_fail(err, VKT_ERR_ARG,
                            "cross_entropy: targets[%d]=%d is outside [0, %d) and its "
                            "weight is %g (not 0)",
                            i, (int)targets[i], V, (double)weights[i]);
        if (coef && !isfinite((double)coef[i]))
            return vkt_fail(err, VKT_ERR_ARG, "cross_entropy: coef[%d]=%g must be finite", i,
                            (double)coef[i]);
    }
    for (int i = 0; i < N; i++) {
        const REAL *x = logits + (size_t)i * V;
        double mx = -INFINITY;
        for (int j = 0; j < V; j++)
            if (x[j] > mx) mx = x[j];
        double sum = 0;
        for (int j = 0; j < V; j++) sum += exp((double)x[j] - mx);
        double l = mx + log(sum);
        double w = weights[i], c = coef ? (double)coef[i] : 0.0;
        int tgt = targets[i];
        // H = -sum_j p_j log p_j, only where it is used (c != 0).
        double H = 0;
        if (c != 0)
            for (int j = 0; j < V; j++) {
                double lp = (double)x[j] - l;
                H -= exp(lp) * lp;
            }
        // Read before dlogits (which may alias logits) overwrites the row.
        double li = w != 0 ? w * (l - (double)x[tgt]) : 0;
        loss[i] = (REAL)(li - c * H);
        if (lse) lse[i] = (REAL)l;
        if (ent) ent[i] = (REAL)H;
        if (dlogits) {
            REAL *dx = dlogits + (size_t)i * V;
            double gw = (double)grad_scale * w, gc = (double)grad_scale * c;
            for (int j = 0; j < V; j++) {
                if (w == 0 && c == 0) {
                    dx[j] = 0;
                } else {
                    double lp = (double)x[j] - l, p = exp(lp);
                    // d(w CE)/dz = w (p - onehot); d(-c H)/dz = c p (log p + H).
                    double d = w != 0 ? gw * (p - (j == tgt ? 1.0 : 0.0)) : 0;
                    dx[j] = (REAL)(d + gc * p * (lp + H));
                }
            }
        }
    }
    return VKT_OK;
}

// ---------------------------------------------------------------------------------
// AdamW, gradient norm, elementwise helpers

vkt_status FN(vkt_ref_adamw)(size_t n, REAL *param, const REAL *grad, REAL *m, REAL *v, REAL lr,
                             REAL beta1, REAL beta2, REAL eps, REAL weight_decay, REAL grad_scale,
                             int t, vkt_error *err) {
    VKT_TRY(vkt_check_adamw(n, lr, beta1, beta2, eps, weight_decay, t, err));
    VKT_TRY(need("adamw", "param", param, err));
    VKT_TRY(need("adamw", "grad", grad, err));
    VKT_TRY(need("adamw", "m", m, err));
    VKT_TRY(need("adamw", "v", v, err));
    double b1 = beta1, b2 = beta2;
    double bc1 = 1.0 - pow(b1, t), bc2 = 1.0 - pow(b2, t);
    for (size_t i = 0; i < n; i++) {
        double g = (double)grad[i] * grad_scale;
        double mi = b1 * m[i] + (1.0 - b1) * g;
        double vi = b2 * v[i] + (1.0 - b2) * g * g;
        double p = param[i];
        p *= 1.0 - (double)lr * weight_decay; // decoupled decay first, as torch does
        p -= (double)lr * (mi / bc1) / (sqrt(vi / bc2) + (double)eps);
        m[i] = (REAL)mi;
        v[i] = (REAL)vi;
        param[i] = (REAL)p;
    }
    return VKT_OK;
}

vkt_status FN(vkt_ref_sum_squares)(size_t n, const REAL *g, double *sum, vkt_error *err) {
    VKT_TRY(vkt_check_count("sum_squares", n, err));
    VKT_TRY(need("sum_squares", "g", g, err));
    VKT_TRY(need("sum_squares", "sum", sum, err));
    double acc = 0;
    for (size_t i = 0; i < n; i++) acc += (double)g[i] * g[i];
    *sum = acc;
    return VKT_OK;
}

vkt_status FN(vkt_ref_grad_norm)(size_t n, const REAL *g, double *norm, vkt_error *err) {
    VKT_TRY(need("grad_norm", "norm", norm, err));
    double ss;
    VKT_TRY(FN(vkt_ref_sum_squares)(n, g, &ss, err));
    *norm = sqrt(ss);
    return VKT_OK;
}

vkt_status FN(vkt_ref_fill)(size_t n, REAL value, REAL *x, vkt_error *err) {
    VKT_TRY(vkt_check_count("fill", n, err));
    VKT_TRY(need("fill", "x", x, err));
    for (size_t i = 0; i < n; i++) x[i] = value;
    return VKT_OK;
}

vkt_status FN(vkt_ref_scale)(size_t n, REAL a, REAL *x, vkt_error *err) {
    VKT_TRY(vkt_check_count("scale", n, err));
    VKT_TRY(need("scale", "x", x, err));
    for (size_t i = 0; i < n; i++) x[i] = (REAL)((double)a * x[i]);
    return VKT_OK;
}

vkt_status FN(vkt_ref_axpby)(size_t n, REAL a, const REAL *x, REAL b, REAL *y, vkt_error *err) {
    VKT_TRY(vkt_check_count("axpby", n, err));
    VKT_TRY(need("axpby", "x", x, err));
    VKT_TRY(need("axpby", "y", y, err));
    for (size_t i = 0; i < n; i++) {
        double r = (double)a * x[i];
        if (b != 0) r += (double)b * y[i]; // b == 0: y is write-only
        y[i] = (REAL)r;
    }
    return VKT_OK;
}

vkt_status FN(vkt_ref_add_row_vector)(int N, int C, REAL s, const REAL *v, REAL *h,
                                      vkt_error *err) {
    VKT_TRY(vkt_check_rows("add_row_vector", N, C, err));
    VKT_TRY(need("add_row_vector", "v", v, err));
    VKT_TRY(need("add_row_vector", "h", h, err));
    for (int i = 0; i < N; i++)
        for (int c = 0; c < C; c++) {
            REAL *hi = h + (size_t)i * C + c;
            *hi = (REAL)(*hi + (double)s * v[c]);
        }
    return VKT_OK;
}
