// op_softmax.c: wrappers for shaders/softmax.comp (forward) and its -DBACKWARD variant.
// Validation is vkt_check_softmax (shape_check.h), shared with the C reference.
#include <string.h>

#include "dispatch.h"
#include "op_softmax.h"
#include "op_split.h"
#include "shape_check.h"

typedef struct {
    uint32_t R, L, r0, causal;
    uint32_t a_off, b_off, c_off;
} push_softmax;

#define MAX_GROUPS 65535u

// Workgroup size, a power of two for the shared-memory tree reduction (two floats per
// invocation): 256 on GPUs; one subgroup on CPU devices, where every barrier is a
// switch between the workgroup's subgroups (lavapipe, 4096 x 1024 forward: 8 lanes
// 66 ms, 64 lanes 80 ms, 256 lanes 205 ms).
static uint32_t wg_size(const vkt_profile *p) {
    uint32_t w = 256;
    if (p->small_workgroups && p->subgroup_size >= 1)
        while (w > p->subgroup_size) w /= 2;
    while (w > p->max_workgroup_invocations || w > p->max_workgroup_size[0] ||
           8 * w > p->shared_memory_bytes)
        w /= 2;
    return w;
}

static vkt_status run(vkt_ctx *ctx, const char *op, int R, int L, bool causal, const vkt_view *v,
                      int nv) {
    vkt_error *err = vkt_ctx_err(ctx);
    VKT_TRY(vkt_check_softmax(R, L, causal, err));
    static const char *names[2][3] = {{"in", "out", ""}, {"dout", "out", "din"}};
    uint64_t need = (uint64_t)R * (uint64_t)L * 4;
    for (int i = 0; i < nv; i++) {
        const char *name = names[nv == 3][i];
        if (!v[i].buf) return vkt_fail(err, VKT_ERR_ARG, "%s: %s view has no buffer", op, name);
        if (v[i].bytes < need)
            return vkt_fail(err, VKT_ERR_ARG,
                            "%s: %s view holds %llu bytes, needs %llu (R=%d L=%d)", op, name,
                            (unsigned long long)v[i].bytes, (unsigned long long)need, R, L);
    }
    uint64_t chunk = vkt_rows_per_binding(ctx, (uint64_t)L * 4);
    if (chunk == 0)
        return vkt_fail(err, VKT_ERR_UNSUPPORTED,
                        "%s: a row of L=%d floats exceeds the device's binding limit of %llu bytes",
                        op, L, (unsigned long long)vkt_ctx_profile(ctx)->max_binding_bytes);
    uint32_t wg = wg_size(vkt_ctx_profile(ctx));
    for (uint64_t r0 = 0; r0 < (uint64_t)R; r0 += chunk) {
        uint64_t n = (uint64_t)R - r0 < chunk ? (uint64_t)R - r0 : chunk;
        vkt_dispatch d = {.shader = nv == 3 ? "softmax_bwd" : "softmax",
                          .op = op,
                          .spec = {wg, 1, 1},
                          .nspec = 3,
                          .nbind = nv};
        push_softmax pc = {(uint32_t)n, (uint32_t)L, (uint32_t)r0, causal ? 1u : 0u, 0, 0, 0};
        uint32_t *offs = &pc.a_off;
        for (int i = 0; i < nv; i++) {
            vkt_bind_kind kind = i < nv - 1 ? VKT_BIND_READ : VKT_BIND_WRITE;
            d.bind[i] = (vkt_binding){vkt_view_f32(v[i], r0 * (uint64_t)L, n * (uint64_t)L), kind};
            offs[i] = vkt_bind_shift(ctx, d.bind[i].view, kind);
        }
        memcpy(d.push, &pc, sizeof pc);
        d.push_bytes = sizeof pc;
        d.groups[0] = (uint32_t)(n < MAX_GROUPS ? n : MAX_GROUPS);
        d.groups[1] = d.groups[2] = 1;
        VKT_TRY(vkt_record(ctx, &d));
    }
    return VKT_OK;
}

vkt_status vkt_softmax_fwd(vkt_ctx *ctx, int R, int L, bool causal, vkt_view in, vkt_view out) {
    vkt_view v[2] = {in, out};
    return run(ctx, "softmax_fwd", R, L, causal, v, 2);
}

vkt_status vkt_softmax_bwd(vkt_ctx *ctx, int R, int L, vkt_view dout, vkt_view out, vkt_view din) {
    vkt_view v[3] = {dout, out, din};
    return run(ctx, "softmax_bwd", R, L, false, v, 3);
}
