// op_matmul.c: wrappers for shaders/matmul_texel.comp (CPU devices), matmul_tiled.comp
// (GPUs) and bias_grad.comp: validation, tile choice, splitting into binding-sized ranges.
#include <stdio.h>
#include <string.h>

#include "dispatch.h"
#include "op_matmul.h"
#include "op_split.h"
#include "shape_check.h"

// Push constants shared by both matmul shaders (see their headers for the layouts).
typedef struct {
    uint32_t M, N, K;
    uint32_t lda, ldb, ldc;
    uint32_t a_off, b_off, c_off, bias_off;
    uint32_t has_bias;
    float alpha, beta;
} push_matmul;

// A tile: workgroup wgx x wgy invocations, each computing tm x tn of C; bk is the
// shared-memory k-slice (tiled path only). A workgroup covers (wgy*tm) x (wgx*tn) of C.
typedef struct {
    uint32_t wgx, wgy, tm, tn, bk;
} tile_cfg;

// CPU path tiles. Calibrated on lavapipe (Mesa 22.3.6, 8-lane AVX2): a large register
// block per invocation amortises the gathers; small M keeps the block short in m so
// rows are not wasted (e.g. the logits of a few tokens).
static tile_cfg texel_tiles(int M) {
    if (M <= 4) return (tile_cfg){16, 1, 4, 16, 0};
    if (M <= 8) return (tile_cfg){16, 1, 8, 8, 0};
    return (tile_cfg){8, 4, 16, 8, 0};
}

// GPU path tiles: 64x64 per workgroup of 256 threads, 4x4 per thread, 16-deep k-slices
// (8 KiB of shared memory). Narrower workgroups where the device allows fewer threads.
static tile_cfg tiled_tiles(const vkt_profile *p) {
    tile_cfg t = {16, 16, 4, 4, 16};
    while (t.wgx * t.wgy > p->max_workgroup_invocations && t.wgx > 1) t.wgx /= 2, t.tn *= 2;
    return t;
}

static uint64_t extent(uint64_t rows, uint64_t stride, uint64_t width) {
    return rows == 0 || width == 0 ? 0 : (rows - 1) * stride + width;
}

// Round a chunk length down to a multiple of 4 (keeps later chunks 16-byte aligned, so
// they can use RGBA32F texels), but never below 1.
static uint64_t shrink(uint64_t x) {
    return x >= 4 ? x & ~3ull : (x ? x : 1);
}

// One operand for chunk planning: a (rows x cols) window of a row-major matrix with the
// given stride, whose row and column counts are two of the chunk lengths (NULL rows: 1).
typedef struct {
    uint64_t *rows, *cols, stride;
} operand;

// Shrinks the chunk lengths until every operand's window fits one binding (cap floats).
// Each step shrinks one length strictly, so it terminates (at worst at 1 x 1 windows).
static void fit_chunks(operand *ops, int nops, uint64_t cap) {
    for (;;) {
        int bad = -1;
        for (int i = 0; i < nops && bad < 0; i++) {
            uint64_t r = ops[i].rows ? *ops[i].rows : 1;
            if (extent(r, ops[i].stride, *ops[i].cols) > cap) bad = i;
        }
        if (bad < 0) return;
        operand *o = &ops[bad];
        uint64_t r = o->rows ? *o->rows : 1, w = *o->cols;
        if (r > 1) *o->rows = shrink(cap >= w ? (cap - w) / o->stride + 1 : 1);
        else *o->cols = shrink(cap);
    }
}

static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static uint32_t groups_for(uint64_t n, uint64_t per) { return (uint32_t)((n + per - 1) / per); }

static vkt_status check_view(vkt_ctx *ctx, const char *op, const char *name, vkt_view v, uint64_t floats,
                             const char *shape) {
    if (!v.buf) return vkt_fail(vkt_ctx_err(ctx), VKT_ERR_ARG, "%s: %s is a NULL view (%s)", op, name, shape);
    if (v.bytes < floats * 4)
        return vkt_fail(vkt_ctx_err(ctx), VKT_ERR_ARG, "%s: %s view of %llu bytes is too small for %llu floats (%s)",
                        op, name, (unsigned long long)v.bytes, (unsigned long long)floats, shape);
    return VKT_OK;
}

vkt_status vkt_matmul_on_path(vkt_ctx *ctx, vkt_matmul_path path, bool transA, bool transB, int M, int N, int K,
                              float alpha, vkt_view A, vkt_view B, float beta, vkt_view C, vkt_view bias) {
    vkt_error *err = vkt_ctx_err(ctx);
    const vkt_profile *p = vkt_ctx_profile(ctx);
    VKT_TRY(vkt_check_matmul(transA, transB, M, N, K, err));
    if (path != VKT_MATMUL_TEXEL_REGBLOCK && path != VKT_MATMUL_SHARED_TILED)
        return vkt_fail(err, VKT_ERR_ARG, "matmul: unknown path %d", (int)path);
    char shape[128];
    snprintf(shape, sizeof shape, "M=%d N=%d K=%d transA=%d transB=%d", M, N, K, transA, transB);
    const uint64_t m = (uint64_t)M, n = (uint64_t)N, k = (uint64_t)K;
    VKT_TRY(check_view(ctx, "matmul", "A", A, m * k, shape));
    VKT_TRY(check_view(ctx, "matmul", "B", B, k * n, shape));
    VKT_TRY(check_view(ctx, "matmul", "C", C, m * n, shape));
    if (bias.buf) VKT_TRY(check_view(ctx, "matmul", "bias", bias, n, shape));

    const bool texel = path == VKT_MATMUL_TEXEL_REGBLOCK;
    tile_cfg t = texel ? texel_tiles(M) : tiled_tiles(p);
    if (!texel && (uint64_t)(t.wgy * t.tm + t.wgx * t.tn) * t.bk * 4 > p->shared_memory_bytes)
        return vkt_fail(err, VKT_ERR_UNSUPPORTED, "matmul: tiles need %u bytes of shared memory, the device has %u",
                        (t.wgy * t.tm + t.wgx * t.tn) * t.bk * 4, p->shared_memory_bytes);
    const uint64_t per_y = (uint64_t)t.wgy * t.tm, per_x = (uint64_t)t.wgx * t.tn;

    // Chunk lengths: start whole, shrink until each operand's window fits one binding
    // and the grid fits the device's workgroup counts.
    uint64_t mc = min64(m, per_y * p->max_workgroup_count[1]), nc = min64(n, per_x * p->max_workgroup_count[0]), kc = k;
    mc = mc < m ? shrink(mc) : mc;
    nc = nc < n ? shrink(nc) : nc;
    operand ops[4] = {
        {&mc, &nc, n},                                // C (M, N)
        transA ? (operand){&kc, &mc, m} : (operand){&mc, &kc, k}, // A (K, M) or (M, K)
        transB ? (operand){&nc, &kc, k} : (operand){&kc, &nc, n}, // B (N, K) or (K, N)
        {NULL, &nc, 1},                               // bias (N)
    };
    fit_chunks(ops, bias.buf ? 4 : 3, vkt_rows_per_binding(ctx, 4));

    static const char *tr[2][2] = {{"nn", "nt"}, {"tn", "tt"}};
    for (uint64_t m0 = 0; m0 < m; m0 += mc) {
        uint64_t mm = min64(mc, m - m0);
        for (uint64_t n0 = 0; n0 < n; n0 += nc) {
            uint64_t nn = min64(nc, n - n0);
            for (uint64_t k0 = 0; k0 < k; k0 += kc) {
                uint64_t kk = min64(kc, k - k0);
                vkt_view a = transA ? vkt_view_f32(A, k0 * m + m0, extent(kk, m, mm))
                                    : vkt_view_f32(A, m0 * k + k0, extent(mm, k, kk));
                vkt_view b = transB ? vkt_view_f32(B, n0 * k + k0, extent(nn, k, kk))
                                    : vkt_view_f32(B, k0 * n + n0, extent(kk, n, nn));
                vkt_view c = vkt_view_f32(C, m0 * n + n0, extent(mm, n, nn));
                // Later k-chunks accumulate onto the first: beta 1, bias added once.
                bool first = k0 == 0, with_bias = first && bias.buf;
                vkt_view bv = with_bias ? vkt_view_f32(bias, n0, nn) : a;

                vkt_dispatch d = {.op = "matmul", .nbind = 4};
                vkt_bind_kind ka = VKT_BIND_READ, kb = VKT_BIND_READ;
                char name[40];
                if (texel) {
                    // RGBA32F when the stored rows and the window start are 16-byte aligned.
                    uint64_t lda = transA ? m : k, ldb = transB ? k : n;
                    bool a4 = lda % 4 == 0 && vkt_bind_shift(ctx, a, VKT_BIND_TEXEL) % 4 == 0;
                    bool b4 = ldb % 4 == 0 && vkt_bind_shift(ctx, b, VKT_BIND_TEXEL) % 4 == 0;
                    ka = a4 ? VKT_BIND_TEXEL : VKT_BIND_TEXEL_R32;
                    kb = b4 ? VKT_BIND_TEXEL : VKT_BIND_TEXEL_R32;
                    snprintf(name, sizeof name, "matmul_texel_%s_%d%d", tr[transA][transB], a4 ? 4 : 1, b4 ? 4 : 1);
                    d.spec[0] = t.wgx, d.spec[1] = t.wgy, d.spec[2] = 1, d.spec[3] = t.tm, d.spec[4] = t.tn;
                    d.nspec = 5;
                    // Each invocation covers tm x tn; a group wgx*tn columns, wgy*tm rows.
                    d.groups[0] = groups_for(nn, per_x);
                    d.groups[1] = groups_for(mm, per_y);
                } else {
                    snprintf(name, sizeof name, "matmul_tiled_%s", tr[transA][transB]);
                    d.spec[0] = t.wgx, d.spec[1] = t.wgy, d.spec[2] = 1, d.spec[3] = t.tm, d.spec[4] = t.tn,
                    d.spec[5] = t.bk;
                    d.nspec = 6;
                    d.groups[0] = groups_for(nn, per_x);
                    d.groups[1] = groups_for(mm, per_y);
                }
                d.shader = name;
                d.groups[2] = 1;
                d.bind[0] = (vkt_binding){a, ka};
                d.bind[1] = (vkt_binding){b, kb};
                d.bind[2] = (vkt_binding){c, VKT_BIND_WRITE};
                d.bind[3] = (vkt_binding){bv, VKT_BIND_READ};
                push_matmul pc = {
                    .M = (uint32_t)mm, .N = (uint32_t)nn, .K = (uint32_t)kk,
                    .lda = (uint32_t)(transA ? m : k), .ldb = (uint32_t)(transB ? k : n), .ldc = (uint32_t)n,
                    .a_off = vkt_bind_shift(ctx, a, ka), .b_off = vkt_bind_shift(ctx, b, kb),
                    .c_off = vkt_bind_shift(ctx, c, VKT_BIND_WRITE), .bias_off = vkt_bind_shift(ctx, bv, VKT_BIND_READ),
                    .has_bias = with_bias, .alpha = alpha, .beta = first ? beta : 1.0f,
                };
                memcpy(d.push, &pc, sizeof pc);
                d.push_bytes = sizeof pc;
                VKT_TRY(vkt_record(ctx, &d));
            }
        }
    }
    return VKT_OK;
}

vkt_status vkt_matmul(vkt_ctx *ctx, bool transA, bool transB, int M, int N, int K, float alpha, vkt_view A,
                      vkt_view B, float beta, vkt_view C, vkt_view bias) {
    return vkt_matmul_on_path(ctx, vkt_ctx_profile(ctx)->matmul_path, transA, transB, M, N, K, alpha, A, B, beta, C,
                              bias);
}

typedef struct {
    uint32_t M, N, ld, dc_off, db_off;
} push_bias_grad;

vkt_status vkt_bias_grad(vkt_ctx *ctx, int M, int N, vkt_view dC, vkt_view dbias) {
    vkt_error *err = vkt_ctx_err(ctx);
    const vkt_profile *p = vkt_ctx_profile(ctx);
    VKT_TRY(vkt_check_positive("bias_grad", "M", M, err));
    VKT_TRY(vkt_check_positive("bias_grad", "N", N, err));
    char shape[64];
    snprintf(shape, sizeof shape, "M=%d N=%d", M, N);
    const uint64_t m = (uint64_t)M, n = (uint64_t)N;
    VKT_TRY(check_view(ctx, "bias_grad", "dC", dC, m * n, shape));
    VKT_TRY(check_view(ctx, "bias_grad", "dbias", dbias, n, shape));

    // 32 columns x up to 8 row-walkers per workgroup.
    uint32_t wgx = 32, wgy = p->max_workgroup_invocations / 32 < 8 ? p->max_workgroup_invocations / 32 : 8;
    uint64_t mc = m, nc = min64(n, (uint64_t)wgx * p->max_workgroup_count[0]);
    nc = nc < n ? shrink(nc) : nc;
    operand ops[2] = {{&mc, &nc, n}, {NULL, &nc, 1}};
    fit_chunks(ops, 2, vkt_rows_per_binding(ctx, 4));
    // Row chunks run one after another, each adding its column sums: same order every run.
    for (uint64_t m0 = 0; m0 < m; m0 += mc) {
        uint64_t mm = min64(mc, m - m0);
        for (uint64_t n0 = 0; n0 < n; n0 += nc) {
            uint64_t nn = min64(nc, n - n0);
            vkt_view dc = vkt_view_f32(dC, m0 * n + n0, extent(mm, n, nn));
            vkt_view db = vkt_view_f32(dbias, n0, nn);
            vkt_dispatch d = {.shader = "bias_grad", .spec = {wgx, wgy, 1}, .nspec = 3, .nbind = 2};
            d.bind[0] = (vkt_binding){dc, VKT_BIND_READ};
            d.bind[1] = (vkt_binding){db, VKT_BIND_WRITE};
            push_bias_grad pc = {(uint32_t)mm, (uint32_t)nn, (uint32_t)n, vkt_bind_shift(ctx, dc, VKT_BIND_READ),
                                 vkt_bind_shift(ctx, db, VKT_BIND_WRITE)};
            memcpy(d.push, &pc, sizeof pc);
            d.push_bytes = sizeof pc;
            d.groups[0] = groups_for(nn, wgx);
            d.groups[1] = d.groups[2] = 1;
            VKT_TRY(vkt_record(ctx, &d));
        }
    }
    return VKT_OK;
}
