// op_norm.c: wrappers for shaders/layernorm_fwd.comp, layernorm_bwd.comp and
// layernorm_bwd_reduce.comp (rmsnorm is their -DRMSNORM variant, see variants.cmake).
#include <string.h>

#include "dispatch.h"
#include "op_norm.h"
#include "op_split.h"
#include "op_views.h"
#include "shape_check.h"

// Backward row blocks: at most 256 blocks (enough workgroups to fill a GPU, a partial
// buffer of at most 256 rows of C), a function of N alone so scratch size is too.
#define MAX_BLOCKS 256u
#define REDUCE_WG 64u

typedef struct {
    uint32_t rows, C;
    float eps;
    uint32_t x_off, w_off, b_off, y_off, mean_off, rstd_off;
} push_fwd;

typedef struct {
    uint32_t rows, row0, C, rpb, blk0, nblk;
    uint32_t dy_off, x_off, w_off, mean_off, rstd_off, dx_off, pw_off, pb_off;
} push_bwd;

typedef struct {
    uint32_t C, nblk, part_off, dst_off;
} push_reduce;

static void blocks_of(int N, uint32_t *rpb, uint32_t *nblk) {
    *rpb = ((uint32_t)N + MAX_BLOCKS - 1) / MAX_BLOCKS;
    *nblk = ((uint32_t)N + *rpb - 1) / *rpb;
}

// Workgroup for one row: a power of two near C/4 (a few elements per invocation),
// 32..256, within the device's limits and its shared memory (a vec2 per invocation).
static uint32_t row_wg(vkt_ctx *ctx, int C) {
    const vkt_profile *p = vkt_ctx_profile(ctx);
    uint32_t want = vkt_pow2_floor(((uint32_t)C + 3) / 4);
    if (want < ((uint32_t)C + 3) / 4) want *= 2;
    if (want < 32) want = 32;
    if (want > 256) want = 256;
    uint32_t cap = p->max_workgroup_invocations;
    if (p->max_workgroup_size[0] < cap) cap = p->max_workgroup_size[0];
    if (p->shared_memory_bytes / 8 < cap) cap = p->shared_memory_bytes / 8;
    cap = vkt_pow2_floor(cap);
    return want < cap ? want : cap;
}

// How rows map to invocations: with subgroup arithmetic, a subgroup per row (no
// barriers; see vkt_reduce.glsl) in workgroups of SG_ROWS subgroups; else a workgroup
// per row. Sets the shader variant suffix, the workgroup size and rows per workgroup.
#define SG_ROWS 8u
typedef struct {
    bool sg;
    uint32_t wg, rows_per_group;
} row_map;

static row_map map_rows(vkt_ctx *ctx, int C) {
    const vkt_profile *p = vkt_ctx_profile(ctx);
    row_map m = {false, row_wg(ctx, C), 1};
    uint32_t sgs = p->subgroup_size;
    if (p->use_subgroup && sgs >= 1 && sgs * SG_ROWS <= p->max_workgroup_invocations) {
        m = (row_map){true, sgs * SG_ROWS, SG_ROWS};
    }
    return m;
}

static uint32_t groups_cap(vkt_ctx *ctx, uint64_t want) {
    uint64_t cap = vkt_ctx_profile(ctx)->max_workgroup_count[0];
    return (uint32_t)(want < cap ? want : cap);
}

static vkt_status rows_fit(vkt_ctx *ctx, const char *op, int C, uint64_t *R) {
    *R = vkt_rows_per_binding(ctx, 4ull * (uint64_t)C);
    if (*R == 0)
        return vkt_fail(vkt_ctx_err(ctx), VKT_ERR_UNSUPPORTED,
                        "%s: a row of C=%d floats exceeds the device's %llu-byte binding", op, C,
                        (unsigned long long)vkt_ctx_profile(ctx)->max_binding_bytes);
    if (*R > 0xFFFFFFFFull / (uint64_t)C) *R = 0xFFFFFFFFull / (uint64_t)C; // offsets in 32 bits
    return VKT_OK;
}

static vkt_status norm_fwd(vkt_ctx *ctx, bool rms, int N, int C, float eps, vkt_view in, vkt_view w,
                           vkt_view b, vkt_view out, vkt_view mean, vkt_view rstd) {
    const char *op = rms ? "rmsnorm_fwd" : "layernorm_fwd";
    VKT_TRY(vkt_check_norm(rms ? "rmsnorm" : "layernorm", N, C, eps, vkt_ctx_err(ctx)));
    uint64_t nc = 4ull * (uint64_t)N * (uint64_t)C;
    VKT_TRY(vkt_view_need(ctx, op, "in", in, nc));
    VKT_TRY(vkt_view_need(ctx, op, "w", w, 4ull * (uint64_t)C));
    if (!rms) VKT_TRY(vkt_view_need(ctx, op, "b", b, 4ull * (uint64_t)C));
    VKT_TRY(vkt_view_need(ctx, op, "out", out, nc));
    if (!rms) VKT_TRY(vkt_view_need(ctx, op, "mean", mean, 4ull * (uint64_t)N));
    VKT_TRY(vkt_view_need(ctx, op, "rstd", rstd, 4ull * (uint64_t)N));
    uint64_t R;
    VKT_TRY(rows_fit(ctx, op, C, &R));
    row_map rm = map_rows(ctx, C);
    uint32_t wg = rm.wg;
    bool sg = rm.sg;
    const char *shader =
        rms ? (sg ? "rmsnorm_fwd_sg" : "rmsnorm_fwd") : (sg ? "layernorm_fwd_sg" : "layernorm_fwd");
    for (uint64_t n0 = 0; n0 < (uint64_t)N; n0 += R) {
        uint64_t rows = (uint64_t)N - n0 < R ? (uint64_t)N - n0 : R;
        vkt_view xs = vkt_view_rows(in, n0, rows, C, C), ys = vkt_view_rows(out, n0, rows, C, C);
        vkt_view ws = vkt_view_f32(w, 0, C), rs = vkt_view_f32(rstd, n0, rows);
        vkt_dispatch d = {.shader = shader, .op = op, .spec = {wg, 1, 1}, .nspec = 3};
        push_fwd pc = {(uint32_t)rows,
                       (uint32_t)C,
                       eps,
                       vkt_bind_shift(ctx, xs, VKT_BIND_READ),
                       vkt_bind_shift(ctx, ws, VKT_BIND_READ),
                       0,
                       vkt_bind_shift(ctx, ys, VKT_BIND_WRITE),
                       0,
                       vkt_bind_shift(ctx, rs, VKT_BIND_WRITE)};
        d.bind[0] = (vkt_binding){xs, VKT_BIND_READ};
        d.bind[1] = (vkt_binding){ws, VKT_BIND_READ};
        if (rms) {
            d.bind[2] = (vkt_binding){ys, VKT_BIND_WRITE};
            d.bind[3] = (vkt_binding){rs, VKT_BIND_WRITE};
            d.nbind = 4;
        } else {
            vkt_view bs = vkt_view_f32(b, 0, C), ms = vkt_view_f32(mean, n0, rows);
            pc.b_off = vkt_bind_shift(ctx, bs, VKT_BIND_READ);
            pc.mean_off = vkt_bind_shift(ctx, ms, VKT_BIND_WRITE);
            d.bind[2] = (vkt_binding){bs, VKT_BIND_READ};
            d.bind[3] = (vkt_binding){ys, VKT_BIND_WRITE};
            d.bind[4] = (vkt_binding){ms, VKT_BIND_WRITE};
            d.bind[5] = (vkt_binding){rs, VKT_BIND_WRITE};
            d.nbind = 6;
        }
        memcpy(d.push, &pc, sizeof pc);
        d.push_bytes = sizeof pc;
        d.groups[0] = groups_cap(ctx, (rows + rm.rows_per_group - 1) / rm.rows_per_group);
        d.groups[1] = d.groups[2] = 1;
        VKT_TRY(vkt_record(ctx, &d));
    }
    return VKT_OK;
}

// dst (C) += column sums of part (nblk, C), in block order; blocks bound in ranges.
static vkt_status reduce_partials(vkt_ctx *ctx, const char *op, int C, uint32_t nblk, vkt_view part,
                                  vkt_view dst, uint64_t R) {
    for (uint64_t b0 = 0; b0 < nblk; b0 += R) {
        uint64_t nb = nblk - b0 < R ? nblk - b0 : R;
        vkt_view ps = vkt_view_rows(part, b0, nb, C, C), ds = vkt_view_f32(dst, 0, C);
        vkt_dispatch d = {.shader = "layernorm_bwd_reduce",
                          .op = op,
                          .spec = {REDUCE_WG, 1, 1},
                          .nspec = 3,
                          .nbind = 2};
        push_reduce pc = {(uint32_t)C, (uint32_t)nb, vkt_bind_shift(ctx, ps, VKT_BIND_READ),
                          vkt_bind_shift(ctx, ds, VKT_BIND_WRITE)};
        d.bind[0] = (vkt_binding){ps, VKT_BIND_READ};
        d.bind[1] = (vkt_binding){ds, VKT_BIND_WRITE};
        memcpy(d.push, &pc, sizeof pc);
        d.push_bytes = sizeof pc;
        d.groups[0] = groups_cap(ctx, ((uint64_t)C + REDUCE_WG - 1) / REDUCE_WG);
        d.groups[1] = d.groups[2] = 1;
        VKT_TRY(vkt_record(ctx, &d));
    }
    return VKT_OK;
}

static uint64_t scratch_bytes(bool rms, int N, int C) {
    if (N <= 0 || C <= 0) return 0;
    uint32_t rpb, nblk;
    blocks_of(N, &rpb, &nblk);
    return (rms ? 1ull : 2ull) * nblk * (uint64_t)C * 4ull;
}

static vkt_status norm_bwd(vkt_ctx *ctx, bool rms, int N, int C, vkt_view dout, vkt_view in,
                           vkt_view w, vkt_view mean, vkt_view rstd, vkt_view din, vkt_view dw,
                           vkt_view db, vkt_view scratch) {
    const char *op = rms ? "rmsnorm_bwd" : "layernorm_bwd";
    VKT_TRY(vkt_check_rows(rms ? "rmsnorm" : "layernorm", N, C, vkt_ctx_err(ctx)));
    uint64_t nc = 4ull * (uint64_t)N * (uint64_t)C;
    VKT_TRY(vkt_view_need(ctx, op, "dout", dout, nc));
    VKT_TRY(vkt_view_need(ctx, op, "in", in, nc));
    VKT_TRY(vkt_view_need(ctx, op, "w", w, 4ull * (uint64_t)C));
    if (!rms) VKT_TRY(vkt_view_need(ctx, op, "mean", mean, 4ull * (uint64_t)N));
    VKT_TRY(vkt_view_need(ctx, op, "rstd", rstd, 4ull * (uint64_t)N));
    VKT_TRY(vkt_view_need(ctx, op, "din", din, nc));
    VKT_TRY(vkt_view_need(ctx, op, "dw", dw, 4ull * (uint64_t)C));
    if (!rms) VKT_TRY(vkt_view_need(ctx, op, "db", db, 4ull * (uint64_t)C));
    VKT_TRY(vkt_view_need(ctx, op, "scratch", scratch, scratch_bytes(rms, N, C)));
    uint64_t R;
    VKT_TRY(rows_fit(ctx, op, C, &R));
    uint32_t rpb, nblk;
    blocks_of(N, &rpb, &nblk);
    vkt_view pw_all = vkt_view_f32(scratch, 0, (uint64_t)nblk * C);
    vkt_view pb_all = vkt_view_f32(scratch, (uint64_t)nblk * C, (uint64_t)nblk * C);
    row_map rm = map_rows(ctx, C);
    uint32_t wg = rm.wg;
    bool sg = rm.sg;
    const char *shader =
        rms ? (sg ? "rmsnorm_bwd_sg" : "rmsnorm_bwd") : (sg ? "layernorm_bwd_sg" : "layernorm_bwd");
    for (uint64_t n0 = 0; n0 < (uint64_t)N;) {
        // Rows [n0, n1) and the blocks they touch must each fit one binding.
        uint64_t n1 = (uint64_t)N - n0 < R ? (uint64_t)N : n0 + R;
        while ((n1 - 1) / rpb - n0 / rpb + 1 > R) n1--;
        uint64_t rows = n1 - n0, b0 = n0 / rpb, nb = (n1 - 1) / rpb - b0 + 1;
        vkt_view dys = vkt_view_rows(dout, n0, rows, C, C), xs = vkt_view_rows(in, n0, rows, C, C);
        vkt_view dxs = vkt_view_rows(din, n0, rows, C, C), ws = vkt_view_f32(w, 0, C);
        vkt_view rs = vkt_view_f32(rstd, n0, rows), pws = vkt_view_rows(pw_all, b0, nb, C, C);
        push_bwd pc = {(uint32_t)rows,
                       (uint32_t)n0,
                       (uint32_t)C,
                       rpb,
                       (uint32_t)b0,
                       (uint32_t)nb,
                       vkt_bind_shift(ctx, dys, VKT_BIND_READ),
                       vkt_bind_shift(ctx, xs, VKT_BIND_READ),
                       vkt_bind_shift(ctx, ws, VKT_BIND_READ),
                       0,
                       vkt_bind_shift(ctx, rs, VKT_BIND_READ),
                       vkt_bind_shift(ctx, dxs, VKT_BIND_WRITE),
                       vkt_bind_shift(ctx, pws, VKT_BIND_WRITE),
                       0};
        vkt_dispatch d = {.shader = shader, .op = op, .spec = {wg, 1, 1}, .nspec = 3, .nbind = 6};
        d.bind[0] = (vkt_binding){dys, VKT_BIND_READ};
        d.bind[1] = (vkt_binding){xs, VKT_BIND_READ};
        d.bind[2] = (vkt_binding){ws, VKT_BIND_READ};
        d.bind[3] = (vkt_binding){rs, VKT_BIND_READ};
        d.bind[4] = (vkt_binding){dxs, VKT_BIND_WRITE};
        d.bind[5] = (vkt_binding){pws, VKT_BIND_WRITE};
        if (!rms) {
            vkt_view ms = vkt_view_f32(mean, n0, rows), pbs = vkt_view_rows(pb_all, b0, nb, C, C);
            pc.mean_off = vkt_bind_shift(ctx, ms, VKT_BIND_READ);
            pc.pb_off = vkt_bind_shift(ctx, pbs, VKT_BIND_WRITE);
            d.bind[6] = (vkt_binding){ms, VKT_BIND_READ};
            d.bind[7] = (vkt_binding){pbs, VKT_BIND_WRITE};
            d.nbind = 8;
        }
        memcpy(d.push, &pc, sizeof pc);
        d.push_bytes = sizeof pc;
        d.groups[0] = groups_cap(ctx, (nb + rm.rows_per_group - 1) / rm.rows_per_group);
        d.groups[1] = d.groups[2] = 1;
        VKT_TRY(vkt_record(ctx, &d));
        n0 = n1;
    }
    VKT_TRY(reduce_partials(ctx, op, C, nblk, pw_all, dw, R));
    if (!rms) VKT_TRY(reduce_partials(ctx, op, C, nblk, pb_all, db, R));
    return VKT_OK;
}

vkt_status vkt_layernorm_fwd(vkt_ctx *ctx, int N, int C, float eps, vkt_view in, vkt_view w,
                             vkt_view b, vkt_view out, vkt_view mean, vkt_view rstd) {
    return norm_fwd(ctx, false, N, C, eps, in, w, b, out, mean, rstd);
}
uint64_t vkt_layernorm_bwd_scratch_bytes(int N, int C) { return scratch_bytes(false, N, C); }
vkt_status vkt_layernorm_bwd(vkt_ctx *ctx, int N, int C, vkt_view dout, vkt_view in, vkt_view w,
                             vkt_view mean, vkt_view rstd, vkt_view din, vkt_view dw, vkt_view db,
                             vkt_view scratch) {
    return norm_bwd(ctx, false, N, C, dout, in, w, mean, rstd, din, dw, db, scratch);
}
vkt_status vkt_rmsnorm_fwd(vkt_ctx *ctx, int N, int C, float eps, vkt_view in, vkt_view w,
                           vkt_view out, vkt_view rstd) {
    vkt_view none = {0};
    return norm_fwd(ctx, true, N, C, eps, in, w, none, out, none, rstd);
}
uint64_t vkt_rmsnorm_bwd_scratch_bytes(int N, int C) { return scratch_bytes(true, N, C); }
vkt_status vkt_rmsnorm_bwd(vkt_ctx *ctx, int N, int C, vkt_view dout, vkt_view in, vkt_view w,
                           vkt_view rstd, vkt_view din, vkt_view dw, vkt_view scratch) {
    vkt_view none = {0};
    return norm_bwd(ctx, true, N, C, dout, in, w, none, rstd, din, dw, none, scratch);
}
