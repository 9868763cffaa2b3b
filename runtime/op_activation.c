// op_activation.c: wrappers for shaders/gelu.comp, swiglu.comp (and their -DBWD
// variants, see variants.cmake) and add_row_vector.comp.
#include <string.h>

#include "dispatch.h"
#include "op_activation.h"
#include "op_split.h"
#include "op_views.h"
#include "shape_check.h"

#define WG 256u
#define FLAT_GROUPS 1024u // grid-stride loop over a flat range: enough groups for any device
#define ROW_WG 256u       // row ops: x tiles a row in WG-wide pieces, y the rows
// Row ops loop inside workgroups: about this many groups in all (each group costs
// on lavapipe; a GPU stays busy with 2048 x 256 invocations).
#define ROW_GROUPS 2048u

typedef struct {
    uint32_t n, x_off, dy_off, y_off;
} push_gelu;

typedef struct {
    uint32_t rows, F, g_off, g_stride, u_off, u_stride, o_off, o_stride, dg_off, du_off;
} push_swiglu;

typedef struct {
    uint32_t rows, C, v_off, h_off;
    float s;
} push_rowvec;

static uint32_t cap_groups(vkt_ctx *ctx, int dim, uint64_t want) {
    uint64_t cap = vkt_ctx_profile(ctx)->max_workgroup_count[dim];
    return (uint32_t)(want < cap ? want : cap);
}

// Grid for (rows, width): x over the width (at most 64 tiles), y over rows, ~ROW_GROUPS.
static void row_grid(vkt_ctx *ctx, uint64_t rows, uint64_t width, uint32_t groups[3]) {
    uint64_t gx = (width + ROW_WG - 1) / ROW_WG;
    if (gx > 64) gx = 64;
    uint64_t gy = ROW_GROUPS / gx;
    groups[0] = cap_groups(ctx, 0, gx);
    groups[1] = cap_groups(ctx, 1, rows < gy ? rows : (gy ? gy : 1));
    groups[2] = 1;
}

static vkt_status gelu(vkt_ctx *ctx, bool bwd, uint64_t n, vkt_view in, vkt_view dout,
                       vkt_view out) {
    const char *op = bwd ? "gelu_bwd" : "gelu_fwd";
    VKT_TRY(vkt_check_count("gelu", n, vkt_ctx_err(ctx)));
    VKT_TRY(vkt_view_need(ctx, op, "in", in, 4 * n));
    if (bwd) VKT_TRY(vkt_view_need(ctx, op, "dout", dout, 4 * n));
    VKT_TRY(vkt_view_need(ctx, op, bwd ? "din" : "out", out, 4 * n));
    uint64_t chunk = vkt_rows_per_binding(ctx, 4);
    if (chunk > 0x7FFFFFFFu) chunk = 0x7FFFFFFFu;
    for (uint64_t first = 0; first < n; first += chunk) {
        uint64_t len = n - first < chunk ? n - first : chunk;
        vkt_view xs = vkt_view_f32(in, first, len), ys = vkt_view_f32(out, first, len);
        vkt_dispatch d = {
            .shader = bwd ? "gelu_bwd" : "gelu", .op = op, .spec = {WG, 1, 1}, .nspec = 3};
        push_gelu pc = {(uint32_t)len, vkt_bind_shift(ctx, xs, VKT_BIND_READ), 0,
                        vkt_bind_shift(ctx, ys, VKT_BIND_WRITE)};
        d.bind[0] = (vkt_binding){xs, VKT_BIND_READ};
        if (bwd) {
            vkt_view ds = vkt_view_f32(dout, first, len);
            pc.dy_off = vkt_bind_shift(ctx, ds, VKT_BIND_READ);
            d.bind[1] = (vkt_binding){ds, VKT_BIND_READ};
            d.bind[2] = (vkt_binding){ys, VKT_BIND_WRITE};
            d.nbind = 3;
        } else {
            d.bind[1] = (vkt_binding){ys, VKT_BIND_WRITE};
            d.nbind = 2;
        }
        memcpy(d.push, &pc, sizeof pc);
        d.push_bytes = sizeof pc;
        uint64_t groups = (len + WG - 1) / WG;
        d.groups[0] = cap_groups(ctx, 0, groups < FLAT_GROUPS ? groups : FLAT_GROUPS);
        d.groups[1] = d.groups[2] = 1;
        VKT_TRY(vkt_record(ctx, &d));
    }
    return VKT_OK;
}

vkt_status vkt_gelu_fwd(vkt_ctx *ctx, uint64_t n, vkt_view in, vkt_view out) {
    vkt_view none = {0};
    return gelu(ctx, false, n, in, none, out);
}

vkt_status vkt_gelu_bwd(vkt_ctx *ctx, uint64_t n, vkt_view in, vkt_view dout, vkt_view din) {
    return gelu(ctx, true, n, in, dout, din);
}

// Rows per dispatch so that every strided operand's rows fit one binding.
static vkt_status strided_rows(vkt_ctx *ctx, const char *op, const int *strides, int k,
                               uint64_t *R) {
    int widest = 0;
    for (int i = 0; i < k; i++)
        if (strides[i] > widest) widest = strides[i];
    *R = vkt_rows_per_binding(ctx, 4ull * (uint64_t)widest);
    if (*R == 0)
        return vkt_fail(vkt_ctx_err(ctx), VKT_ERR_UNSUPPORTED,
                        "%s: a row stride of %d floats exceeds the device's %llu-byte binding", op,
                        widest, (unsigned long long)vkt_ctx_profile(ctx)->max_binding_bytes);
    if (*R > 0xFFFFFFFFull / (uint64_t)widest) *R = 0xFFFFFFFFull / (uint64_t)widest;
    return VKT_OK;
}

static vkt_status swiglu(vkt_ctx *ctx, bool bwd, int N, int F, vkt_view gate, int gs, vkt_view up,
                         int us, vkt_view outv, int os, vkt_view dgate, vkt_view dup) {
    const char *op = bwd ? "swiglu_bwd" : "swiglu_fwd";
    VKT_TRY(vkt_check_swiglu(N, F, gs, us, os, vkt_ctx_err(ctx)));
    VKT_TRY(vkt_view_need(ctx, op, "gate", gate, 4ull * vkt_strided_extent(N, gs, F)));
    VKT_TRY(vkt_view_need(ctx, op, "up", up, 4ull * vkt_strided_extent(N, us, F)));
    VKT_TRY(
        vkt_view_need(ctx, op, bwd ? "dout" : "out", outv, 4ull * vkt_strided_extent(N, os, F)));
    if (bwd) {
        VKT_TRY(vkt_view_need(ctx, op, "dgate", dgate, 4ull * vkt_strided_extent(N, gs, F)));
        VKT_TRY(vkt_view_need(ctx, op, "dup", dup, 4ull * vkt_strided_extent(N, us, F)));
    }
    uint64_t R;
    int strides[3] = {gs, us, os};
    VKT_TRY(strided_rows(ctx, op, strides, 3, &R));
    for (uint64_t n0 = 0; n0 < (uint64_t)N; n0 += R) {
        uint64_t rows = (uint64_t)N - n0 < R ? (uint64_t)N - n0 : R;
        vkt_view g = vkt_view_rows(gate, n0, rows, gs, F), u = vkt_view_rows(up, n0, rows, us, F);
        vkt_view o = vkt_view_rows(outv, n0, rows, os, F);
        vkt_bind_kind ok = bwd ? VKT_BIND_READ : VKT_BIND_WRITE;
        push_swiglu pc = {(uint32_t)rows,
                          (uint32_t)F,
                          vkt_bind_shift(ctx, g, VKT_BIND_READ),
                          (uint32_t)gs,
                          vkt_bind_shift(ctx, u, VKT_BIND_READ),
                          (uint32_t)us,
                          vkt_bind_shift(ctx, o, ok),
                          (uint32_t)os,
                          0,
                          0};
        vkt_dispatch d = {
            .shader = bwd ? "swiglu_bwd" : "swiglu", .op = op, .spec = {ROW_WG, 1, 1}, .nspec = 3};
        d.bind[0] = (vkt_binding){g, VKT_BIND_READ};
        d.bind[1] = (vkt_binding){u, VKT_BIND_READ};
        d.bind[2] = (vkt_binding){o, ok};
        d.nbind = 3;
        if (bwd) {
            vkt_view dg = vkt_view_rows(dgate, n0, rows, gs, F),
                     du = vkt_view_rows(dup, n0, rows, us, F);
            pc.dg_off = vkt_bind_shift(ctx, dg, VKT_BIND_WRITE);
            pc.du_off = vkt_bind_shift(ctx, du, VKT_BIND_WRITE);
            d.bind[3] = (vkt_binding){dg, VKT_BIND_WRITE};
            d.bind[4] = (vkt_binding){du, VKT_BIND_WRITE};
            d.nbind = 5;
        }
        memcpy(d.push, &pc, sizeof pc);
        d.push_bytes = sizeof pc;
        row_grid(ctx, rows, (uint64_t)F, d.groups);
        VKT_TRY(vkt_record(ctx, &d));
    }
    return VKT_OK;
}

vkt_status vkt_swiglu_fwd(vkt_ctx *ctx, int N, int F, vkt_view gate, int gate_stride, vkt_view up,
                          int up_stride, vkt_view out, int out_stride) {
    vkt_view none = {0};
    return swiglu(ctx, false, N, F, gate, gate_stride, up, up_stride, out, out_stride, none, none);
}

vkt_status vkt_swiglu_bwd(vkt_ctx *ctx, int N, int F, vkt_view dout, int out_stride, vkt_view gate,
                          int gate_stride, vkt_view up, int up_stride, vkt_view dgate,
                          vkt_view dup) {
    return swiglu(ctx, true, N, F, gate, gate_stride, up, up_stride, dout, out_stride, dgate, dup);
}

vkt_status vkt_add_row_vector(vkt_ctx *ctx, int N, int C, float s, vkt_view v, vkt_view h) {
    const char *op = "add_row_vector";
    VKT_TRY(vkt_check_rows(op, N, C, vkt_ctx_err(ctx)));
    VKT_TRY(vkt_view_need(ctx, op, "v", v, 4ull * (uint64_t)C));
    VKT_TRY(vkt_view_need(ctx, op, "h", h, 4ull * (uint64_t)N * (uint64_t)C));
    uint64_t R;
    int strides[1] = {C};
    VKT_TRY(strided_rows(ctx, op, strides, 1, &R));
    for (uint64_t n0 = 0; n0 < (uint64_t)N; n0 += R) {
        uint64_t rows = (uint64_t)N - n0 < R ? (uint64_t)N - n0 : R;
        vkt_view vs = vkt_view_f32(v, 0, C), hs = vkt_view_rows(h, n0, rows, C, C);
        push_rowvec pc = {(uint32_t)rows, (uint32_t)C, vkt_bind_shift(ctx, vs, VKT_BIND_READ),
                          vkt_bind_shift(ctx, hs, VKT_BIND_WRITE), s};
        vkt_dispatch d = {
            .shader = "add_row_vector", .op = op, .spec = {ROW_WG, 1, 1}, .nspec = 3, .nbind = 2};
        d.bind[0] = (vkt_binding){vs, VKT_BIND_READ};
        d.bind[1] = (vkt_binding){hs, VKT_BIND_WRITE};
        memcpy(d.push, &pc, sizeof pc);
        d.push_bytes = sizeof pc;
        row_grid(ctx, rows, (uint64_t)C, d.groups);
        VKT_TRY(vkt_record(ctx, &d));
    }
    return VKT_OK;
}
