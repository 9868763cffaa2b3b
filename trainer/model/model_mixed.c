// model_mixed.c: the matmuls of bf16/fp16 mixed-precision training. The weights live in fp32
// (params, updated by AdamW) and are packed into 16 bits (wbuf) before a forward that follows a
// change; every matmul of a linear layer (forward, input gradient, weight gradient) reads 16-bit
// operands and sums in fp32, as autocast does (Micikevicius et al. 2018, arXiv 1710.03740):
//   forward   y  = x16 W16'            (W' = W^T for Linear (OUT, IN), W for Conv1D (IN, OUT))
//   backward  dy16 = pack(dy); dx = dy16 W16'^T;  dW += x16^T dy16 (Conv1D) or dy16^T x16 (Linear)
// Biases, norms, attention, the loss and the optimizer stay fp32.
#include <string.h>

#include "model_internal.h"
#include "op_cast.h"
#include "op_matmul.h"

vkt_status vkt_model_mx_refresh(vkt_model *m) {
    if (!m->mixed || !m->w16_stale) return VKT_OK;
    VKT_TRY(
        vkt_cast16(m->ctx, m->dt16, vkt_view_all(m->params), vkt_view_all(m->wbuf), m->ps.total));
    m->w16_stale = false;
    return VKT_OK;
}

vkt_view vkt_model_mx_wview(vkt_model *m, vkt_param_kind kind, int layer) {
    const vkt_param *p = vkt_params_find(&m->ps, kind, layer);
    if (!p || !m->wbuf) return (vkt_view){0};
    return (vkt_view){m->wbuf, p->offset * 2, (p->count + 1) / 2 * 4};
}

vkt_status vkt_model_mx_wmm(vkt_model *m, bool transW, int M, int N, int K, vkt_view x16,
                            vkt_view W16, float beta, vkt_view y, vkt_view bias) {
    return vkt_matmul16(m->ctx, m->dt16, true, true, false, transW, M, N, K, 1.0f, x16, W16, beta,
                        y, bias);
}

vkt_status vkt_model_mx_wmm_bwd(vkt_model *m, bool transW, int M, int N, int K, vkt_view dy,
                                vkt_view x16, vkt_view W16, float beta_dx, vkt_view dx,
                                vkt_view dW) {
    vkt_ctx *ctx = m->ctx;
    VKT_TRY(vkt_cast16(ctx, m->dt16, dy, m->dy_h, (uint64_t)M * N));
    // y = x op(W): dx (M, K) = dy op(W)^T, so W is transposed when the forward did not.
    VKT_TRY(vkt_matmul16(ctx, m->dt16, true, true, false, !transW, M, K, N, 1.0f, m->dy_h, W16,
                         beta_dx, dx, (vkt_view){0}));
    if (!dW.buf) return VKT_OK;
    // K = M tokens is large and N x K may give a GPU few workgroups: split-k into the fp32
    // path's scratch where the profile says so (plain vkt_matmul16 on a CPU device).
    if (transW) // Linear, W (N, K): dW += dy^T x
        return vkt_matmul16_splitk(ctx, 0, m->dt16, true, true, true, false, N, K, M, 1.0f, m->dy_h,
                                   x16, 1.0f, dW, (vkt_view){0}, m->splitk);
    // Conv1D, W (K, N): dW += x^T dy
    return vkt_matmul16_splitk(ctx, 0, m->dt16, true, true, true, false, K, N, M, 1.0f, x16,
                               m->dy_h, 1.0f, dW, (vkt_view){0}, m->splitk);
}

vkt_status vkt_model_mx_pack(vkt_model *m, vkt_view dst, uint64_t n) {
    return vkt_cast16(m->ctx, m->dt16, m->stage, dst, n);
}

const char *vkt_precision_name(int precision) {
    return precision == VKT_PREC_BF16 ? "bf16" : precision == VKT_PREC_FP16 ? "fp16" : "fp32";
}

vkt_status vkt_precision_parse(const char *s, int *out, vkt_error *err) {
    static const char *names[] = {"fp32", "bf16", "fp16"};
    for (int i = 0; i < 3; i++)
        if (s && strcmp(s, names[i]) == 0) return *out = i, VKT_OK;
    return vkt_fail(err, VKT_ERR_ARG, "precision '%s': expected fp32, bf16 or fp16",
                    s ? s : "(null)");
}
