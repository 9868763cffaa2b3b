// op_optim.c: wrapper for shaders/adamw.comp.
#include <math.h>
#include <string.h>

#include "dispatch.h"
#include "op_optim.h"
#include "op_split.h"
#include "shape_check.h"

typedef struct {
    uint32_t n, p_off, g_off, m_off, v_off, s_off, use_dev_scale;
    float beta1, beta2, one_minus_beta1, one_minus_beta2, eps, decay, step_size, inv_sqrt_bc2,
        grad_scale;
    uint32_t zero_grad;
} push_adamw;

#define MAX_GROUPS 2048u

static uint32_t adamw_wg(const vkt_ctx *ctx) {
    const vkt_profile *p = vkt_ctx_profile(ctx);
    uint32_t wg = 256;
    while (wg > 1 && (wg > p->max_workgroup_invocations || wg > p->max_workgroup_size[0])) wg /= 2;
    return wg;
}

vkt_status vkt_adamw(vkt_ctx *ctx, vkt_view param, vkt_view grad, vkt_view m, vkt_view v,
                     uint64_t n, const vkt_adamw_params *hp, vkt_view scale_dev) {
    vkt_error *err = vkt_ctx_err(ctx);
    if (!hp) return vkt_fail(err, VKT_ERR_ARG, "adamw: hyperparameters are NULL");
    VKT_TRY(
        vkt_check_adamw(n, hp->lr, hp->beta1, hp->beta2, hp->eps, hp->weight_decay, hp->t, err));
    if (!isfinite(hp->grad_scale))
        return vkt_fail(err, VKT_ERR_ARG, "adamw: grad_scale=%g must be finite",
                        (double)hp->grad_scale);
    const vkt_view *views[4] = {&param, &grad, &m, &v};
    const char *names[4] = {"param", "grad", "m", "v"};
    for (int i = 0; i < 4; i++) {
        if (!views[i]->buf) return vkt_fail(err, VKT_ERR_ARG, "adamw: %s view is NULL", names[i]);
        if (n * 4 > views[i]->bytes)
            return vkt_fail(err, VKT_ERR_ARG,
                            "adamw: n=%llu floats exceed the %s view of %llu bytes",
                            (unsigned long long)n, names[i], (unsigned long long)views[i]->bytes);
    }
    for (int i = 0; i < 4; i++) // a shared range would race inside the kernel
        for (int j = i + 1; j < 4; j++)
            if (views[i]->buf == views[j]->buf && views[i]->offset < views[j]->offset + 4 * n &&
                views[j]->offset < views[i]->offset + 4 * n)
                return vkt_fail(err, VKT_ERR_ARG, "adamw: the %s and %s views overlap (n=%llu)",
                                names[i], names[j], (unsigned long long)n);
    bool dev = scale_dev.buf != NULL;
    if (dev && scale_dev.bytes < 4)
        return vkt_fail(err, VKT_ERR_ARG, "adamw: scale_dev view of %llu bytes must hold 1 float",
                        (unsigned long long)scale_dev.bytes);

    // Step-dependent scalars in double, as the reference computes them.
    double bc1 = 1.0 - pow(hp->beta1, hp->t), bc2 = 1.0 - pow(hp->beta2, hp->t);
    push_adamw pc = {.beta1 = hp->beta1,
                     .beta2 = hp->beta2,
                     .one_minus_beta1 = (float)(1.0 - hp->beta1),
                     .one_minus_beta2 = (float)(1.0 - hp->beta2),
                     .eps = hp->eps,
                     .decay = (float)(1.0 - (double)hp->lr * hp->weight_decay),
                     .step_size = (float)(hp->lr / bc1),
                     .inv_sqrt_bc2 = (float)(1.0 / sqrt(bc2)),
                     .grad_scale = hp->grad_scale,
                     .zero_grad = hp->zero_grad ? 1u : 0u,
                     .use_dev_scale = dev};
    uint32_t wg = adamw_wg(ctx);
    uint64_t chunk = vkt_rows_per_binding(ctx, 4);
    if (chunk > 0x7fffffffu) chunk = 0x7fffffffu;
    if (chunk == 0) return vkt_fail(err, VKT_ERR_UNSUPPORTED, "adamw: binding limit too small");
    vkt_view sv = dev ? vkt_view_f32(scale_dev, 0, 1) : vkt_view_f32(grad, 0, 1);
    for (uint64_t first = 0; first < n; first += chunk) {
        uint64_t len = n - first < chunk ? n - first : chunk;
        vkt_view ps = vkt_view_f32(param, first, len), gs = vkt_view_f32(grad, first, len);
        vkt_view ms = vkt_view_f32(m, first, len), vs = vkt_view_f32(v, first, len);
        vkt_dispatch d = {
            .shader = "adamw", .op = "adamw", .spec = {wg, 1, 1}, .nspec = 3, .nbind = 5};
        d.bind[0] = (vkt_binding){ps, VKT_BIND_WRITE};
        d.bind[1] = (vkt_binding){gs, hp->zero_grad ? VKT_BIND_WRITE : VKT_BIND_READ};
        d.bind[2] = (vkt_binding){ms, VKT_BIND_WRITE};
        d.bind[3] = (vkt_binding){vs, VKT_BIND_WRITE};
        d.bind[4] = (vkt_binding){sv, VKT_BIND_READ};
        pc.n = (uint32_t)len;
        pc.p_off = vkt_bind_shift(ctx, ps, VKT_BIND_WRITE);
        pc.g_off = vkt_bind_shift(ctx, gs, d.bind[1].kind);
        pc.m_off = vkt_bind_shift(ctx, ms, VKT_BIND_WRITE);
        pc.v_off = vkt_bind_shift(ctx, vs, VKT_BIND_WRITE);
        pc.s_off = vkt_bind_shift(ctx, sv, VKT_BIND_READ);
        memcpy(d.push, &pc, sizeof pc);
        d.push_bytes = sizeof pc;
        uint64_t groups = (len + wg - 1) / wg;
        d.groups[0] = (uint32_t)(groups < MAX_GROUPS ? groups : MAX_GROUPS);
        d.groups[1] = d.groups[2] = 1;
        VKT_TRY(vkt_record(ctx, &d));
    }
    return VKT_OK;
}
