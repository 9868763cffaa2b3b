// op_matmul.c: wrappers for shaders/matmul_texel.comp (CPU devices), matmul_tiled.comp
// (the first GPU kernel), matmul_gpu.comp (GPUs, through op_matmul_gpu.c) and
// bias_grad.comp: validation, tile choice, splitting into binding-sized ranges. What they
// compute is vkt_ref_matmul / vkt_ref_bias_grad (tests/test_matmul.c, test_matmul_gpu.c).
// Every path takes 16-bit operands (vkt_matmul16): the kernels built with B16 / A16; split-k
// (vkt_matmul_splitk, vkt_matmul16_splitk) runs the GPU kernel's SPLITK variants.
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "dispatch.h"
#include "op_matmul.h"
#include "op_matmul_gpu.h"
#include "op_split.h"
#include "shape_check.h"

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

// CPU path tiles with a 16-bit B: TN a multiple of 8 (one RGBA32UI fetch is 8 columns
// when B is (K, N)); TM may be 1 or 2 since A is not transposed (with transA, texel_tiles:
// its TM, a multiple of 4, is what a vector load along m needs). A few rows (decode)
// read B once per row of C with no wasted rows: the product is bound by B's bytes.
static tile_cfg texel_tiles_w16(int M) {
    if (M <= 2) return (tile_cfg){16, 1, (uint32_t)M, 16, 0};
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

// Round a chunk length down to a multiple of 8 (keeps later chunks 16-byte aligned, so
// they can use RGBA texels, 4 floats or 8 16-bit values), but never below 1.
static uint64_t shrink(uint64_t x) { return x >= 8 ? x & ~7ull : x >= 4 ? x & ~3ull : (x ? x : 1); }

// One operand for chunk planning: a (rows x cols) window of a row-major matrix with the
// given stride, whose row and column counts are two of the chunk lengths (NULL rows: 1).
// cap: elements one binding holds (0: fit_chunks' default, for 4-byte elements).
typedef struct {
    uint64_t *rows, *cols, stride, cap;
} operand;

// Shrinks the chunk lengths until every operand's window fits one binding (cap floats).
// Each step shrinks one length strictly, so it terminates (at worst at 1 x 1 windows).
static void fit_chunks(operand *ops, int nops, uint64_t cap_default) {
    for (;;) {
        int bad = -1;
        uint64_t cap = cap_default;
        for (int i = 0; i < nops && bad < 0; i++) {
            uint64_t r = ops[i].rows ? *ops[i].rows : 1;
            cap = ops[i].cap ? ops[i].cap : cap_default;
            if (extent(r, ops[i].stride, *ops[i].cols) > cap) bad = i;
        }
        if (bad < 0) return;
        operand *o = &ops[bad];
        uint64_t r = o->rows ? *o->rows : 1, w = *o->cols;
        if (r > 1)
            *o->rows = shrink(cap >= w ? (cap - w) / o->stride + 1 : 1);
        else
            *o->cols = shrink(cap);
    }
}

static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static uint32_t groups_for(uint64_t n, uint64_t per) { return (uint32_t)((n + per - 1) / per); }

static vkt_status check_view(vkt_ctx *ctx, const char *op, const char *name, vkt_view v,
                             uint64_t floats, const char *shape) {
    if (!v.buf)
        return vkt_fail(vkt_ctx_err(ctx), VKT_ERR_ARG, "%s: %s is a NULL view (%s)", op, name,
                        shape);
    if (v.bytes < floats * 4)
        return vkt_fail(vkt_ctx_err(ctx), VKT_ERR_ARG,
                        "%s: %s view of %llu bytes is too small for %llu floats (%s)", op, name,
                        (unsigned long long)v.bytes, (unsigned long long)floats, shape);
    return VKT_OK;
}

// The fp32 operands of an M x N x K product: A (M, K), B (K, N), C (M, N) and the bias (N).
static vkt_status check_views(vkt_ctx *ctx, const char *op, bool transA, bool transB, int M, int N,
                              int K, vkt_view A, vkt_view B, vkt_view C, vkt_view bias) {
    char shape[128];
    snprintf(shape, sizeof shape, "M=%d N=%d K=%d transA=%d transB=%d", M, N, K, transA, transB);
    const uint64_t m = (uint64_t)M, n = (uint64_t)N, k = (uint64_t)K;
    VKT_TRY(check_view(ctx, op, "A", A, m * k, shape));
    VKT_TRY(check_view(ctx, op, "B", B, k * n, shape));
    VKT_TRY(check_view(ctx, op, "C", C, m * n, shape));
    return bias.buf ? check_view(ctx, op, "bias", bias, n, shape) : VKT_OK;
}

// One product: the public arguments plus A's and B's element types (a16, b16 0: fp32,
// 1: bf16, 2: fp16), and for split-k (GPU path, one chunk only) the layer count and their
// scratch.
typedef struct {
    vkt_matmul_path path;
    int a16, b16;
    bool ta, tb;
    uint64_t m, n, k;
    float alpha, beta;
    vkt_view A, B, C, bias;
    uint32_t splits;
    vkt_view scratch;
} mm_args;

// Elements [first, first + count) of a view of 16-bit values, widened to whole 32-bit
// words (an odd first element is skipped by the shader through its offset).
static vkt_view view_w16(vkt_view v, uint64_t first, uint64_t count) {
    uint64_t lo = first & ~1ull, hi = (first + count + 1) & ~1ull;
    return (vkt_view){v.buf, v.offset + 2 * lo, 2 * (hi - lo)};
}

// The operand window of elements [first, first + count): fp32, or 16-bit (whole words).
static vkt_view window(vkt_view v, int h16, uint64_t first, uint64_t count) {
    return h16 ? view_w16(v, first, count) : vkt_view_f32(v, first, count);
}

// Where a window starts in its binding, in its elements: 16-bit ones add back the odd
// element view_w16 dropped.
static uint32_t elem_off(vkt_ctx *ctx, vkt_view v, int h16, uint64_t first, vkt_bind_kind kind) {
    uint32_t words = vkt_bind_shift(ctx, v, kind);
    return h16 ? 2 * words + (uint32_t)(first & 1) : words;
}

// Texel binding of an operand: 4-wide texels (RGBA32F, or RGBA32UI of 8 16-bit values)
// where its rows and start allow; *wide gets the name suffix (1, 4 or 8).
static vkt_bind_kind texel_kind(vkt_ctx *ctx, vkt_view v, int h16, uint64_t first, uint64_t ld,
                                int *wide) {
    uint32_t per = h16 ? 8 : 4;
    vkt_bind_kind k4 = h16 ? VKT_BIND_TEXEL_U32X4 : VKT_BIND_TEXEL;
    bool vec = ld % per == 0 && elem_off(ctx, v, h16, first, k4) % per == 0;
    *wide = vec ? (int)per : 1;
    return vec ? k4 : h16 ? VKT_BIND_TEXEL_U32 : VKT_BIND_TEXEL_R32;
}

// Records the product of one chunk: rows [m0, m0+mm) and columns [n0, n0+nn) of C over
// k in [k0, k0+kk). Later k-chunks accumulate onto the first: beta 1, bias added once.
static vkt_status record_chunk(vkt_ctx *ctx, const mm_args *q, tile_cfg t, uint64_t m0, uint64_t mm,
                               uint64_t n0, uint64_t nn, uint64_t k0, uint64_t kk) {
    const uint64_t m = q->m, n = q->n, k = q->k;
    const bool ta = q->ta, tb = q->tb, texel = q->path == VKT_MATMUL_TEXEL_REGBLOCK;
    uint64_t afirst = ta ? k0 * m + m0 : m0 * k + k0,
             acount = ta ? extent(kk, m, mm) : extent(mm, k, kk);
    uint64_t bfirst = tb ? n0 * k + k0 : k0 * n + n0,
             bcount = tb ? extent(nn, k, kk) : extent(kk, n, nn);
    vkt_view a = window(q->A, q->a16, afirst, acount), b = window(q->B, q->b16, bfirst, bcount);
    vkt_view c = vkt_view_f32(q->C, m0 * n + n0, extent(mm, n, nn));
    bool first = k0 == 0, with_bias = first && q->bias.buf;
    vkt_view bv = with_bias ? vkt_view_f32(q->bias, n0, nn) : a;

    static const char *tr[2][2] = {{"nn", "nt"}, {"tn", "tt"}};
    const uint64_t lda = ta ? m : k, ldb = tb ? k : n;
    if (q->path == VKT_MATMUL_GPU_TILED) {
        bool whole = mm == m && nn == n && kk == k;
        vkt_mm_gpu g = {ta,
                        tb,
                        mm,
                        nn,
                        kk,
                        lda,
                        ldb,
                        n,
                        q->alpha,
                        first ? q->beta : 1.0f,
                        a,
                        b,
                        c,
                        with_bias ? bv : (vkt_view){0},
                        q->scratch,
                        whole ? q->splits : 1,
                        q->a16,
                        q->b16,
                        (uint32_t)(q->a16 ? afirst & 1 : 0),
                        (uint32_t)(q->b16 ? bfirst & 1 : 0)};
        return vkt_matmul_gpu_record(ctx, &g);
    }
    // Name: matmul_{texel,tiled}_[{bf16,f16}[ab]_]{nn,nt,tn,tt}[_<A><B> texel widths].
    char tag[8] = "", name[48];
    if (q->b16)
        snprintf(tag, sizeof tag, "%s%s_", vkt_dtype16_name((vkt_dtype16)(q->b16 - 1)),
                 q->a16 ? "ab" : "");
    vkt_dispatch d = {.op = "matmul", .nbind = 4};
    vkt_bind_kind ka = VKT_BIND_READ, kb = VKT_BIND_READ;
    if (texel) {
        int wa, wb;
        ka = texel_kind(ctx, a, q->a16, afirst, lda, &wa);
        kb = texel_kind(ctx, b, q->b16, bfirst, ldb, &wb);
        snprintf(name, sizeof name, "matmul_texel_%s%s_%d%d", tag, tr[ta][tb], wa, wb);
        d.nspec = 5;
    } else {
        snprintf(name, sizeof name, "matmul_tiled_%s%s", tag, tr[ta][tb]);
        d.spec[5] = t.bk;
        d.nspec = 6;
    }
    d.spec[0] = t.wgx, d.spec[1] = t.wgy, d.spec[2] = 1, d.spec[3] = t.tm, d.spec[4] = t.tn;
    d.shader = name;
    // Each invocation covers tm x tn; a group wgx*tn columns, wgy*tm rows.
    d.groups[0] = groups_for(nn, (uint64_t)t.wgx * t.tn);
    d.groups[1] = groups_for(mm, (uint64_t)t.wgy * t.tm);
    d.groups[2] = 1;
    d.bind[0] = (vkt_binding){a, ka};
    d.bind[1] = (vkt_binding){b, kb};
    d.bind[2] = (vkt_binding){c, VKT_BIND_WRITE};
    d.bind[3] = (vkt_binding){bv, VKT_BIND_READ};
    vkt_matmul_push pc = {
        .M = (uint32_t)mm,
        .N = (uint32_t)nn,
        .K = (uint32_t)kk,
        .lda = (uint32_t)lda,
        .ldb = (uint32_t)ldb,
        .ldc = (uint32_t)n,
        .a_off = elem_off(ctx, a, q->a16, afirst, ka),
        .b_off = elem_off(ctx, b, q->b16, bfirst, kb),
        .c_off = vkt_bind_shift(ctx, c, VKT_BIND_WRITE),
        .bias_off = vkt_bind_shift(ctx, bv, VKT_BIND_READ),
        .has_bias = with_bias,
        .alpha = q->alpha,
        .beta = first ? q->beta : 1.0f,
    };
    memcpy(d.push, &pc, offsetof(vkt_matmul_push, k_split));
    d.push_bytes = offsetof(vkt_matmul_push, k_split);
    return vkt_record(ctx, &d);
}

// Tiles, chunk planning and the chunk loop; the arguments are already validated.
static vkt_status matmul_run(vkt_ctx *ctx, const mm_args *q, const char *op) {
    vkt_error *err = vkt_ctx_err(ctx);
    const vkt_profile *p = vkt_ctx_profile(ctx);
    const bool texel = q->path == VKT_MATMUL_TEXEL_REGBLOCK, gpu = q->path == VKT_MATMUL_GPU_TILED;
    tile_cfg t = texel ? (q->b16 && !q->ta ? texel_tiles_w16((int)q->m) : texel_tiles((int)q->m))
                       : tiled_tiles(p);
    if (gpu) { // chunks planned for the smaller tile (the most workgroups); shared memory checked
               // there
        vkt_matmul_tile s = p->matmul_tile_small;
        t = (tile_cfg){s.wgx, s.wgy, s.tm, s.tn, s.bk};
    }
    if (!texel && !gpu &&
        (uint64_t)(t.wgy * t.tm + t.wgx * t.tn) * t.bk * 4 > p->shared_memory_bytes)
        return vkt_fail(err, VKT_ERR_UNSUPPORTED,
                        "%s: tiles need %u bytes of shared memory, the device has %u", op,
                        (t.wgy * t.tm + t.wgx * t.tn) * t.bk * 4, p->shared_memory_bytes);
    const uint64_t m = q->m, n = q->n, k = q->k;
    const uint64_t per_y = (uint64_t)t.wgy * t.tm, per_x = (uint64_t)t.wgx * t.tn;

    // Chunk lengths: start whole, shrink until each operand's window fits one binding
    // and the grid fits the device's workgroup counts.
    uint64_t mc = min64(m, per_y * p->max_workgroup_count[1]),
             nc = min64(n, per_x * p->max_workgroup_count[0]), kc = k;
    mc = mc < m ? shrink(mc) : mc;
    nc = nc < n ? shrink(nc) : nc;
    uint64_t acap = vkt_rows_per_binding(ctx, q->a16 ? 2 : 4),
             bcap = vkt_rows_per_binding(ctx, q->b16 ? 2 : 4);
    operand ops[4] = {
        {&mc, &nc, n, 0},                                                    // C (M, N)
        q->ta ? (operand){&kc, &mc, m, acap} : (operand){&mc, &kc, k, acap}, // A (K, M) or (M, K)
        q->tb ? (operand){&nc, &kc, k, bcap} : (operand){&kc, &nc, n, bcap}, // B (N, K) or (K, N)
        {NULL, &nc, 1, 0},                                                   // bias (N)
    };
    fit_chunks(ops, q->bias.buf ? 4 : 3, vkt_rows_per_binding(ctx, 4));

    for (uint64_t m0 = 0; m0 < m; m0 += mc)
        for (uint64_t n0 = 0; n0 < n; n0 += nc)
            for (uint64_t k0 = 0; k0 < k; k0 += kc)
                VKT_TRY(record_chunk(ctx, q, t, m0, min64(mc, m - m0), n0, min64(nc, n - n0), k0,
                                     min64(kc, k - k0)));
    return VKT_OK;
}

vkt_status vkt_matmul_on_path(vkt_ctx *ctx, vkt_matmul_path path, bool transA, bool transB, int M,
                              int N, int K, float alpha, vkt_view A, vkt_view B, float beta,
                              vkt_view C, vkt_view bias) {
    vkt_error *err = vkt_ctx_err(ctx);
    VKT_TRY(vkt_check_matmul(transA, transB, M, N, K, err));
    if (path != VKT_MATMUL_TEXEL_REGBLOCK && path != VKT_MATMUL_SHARED_TILED &&
        path != VKT_MATMUL_GPU_TILED)
        return vkt_fail(err, VKT_ERR_ARG, "matmul: unknown path %d", (int)path);
    VKT_TRY(check_views(ctx, "matmul", transA, transB, M, N, K, A, B, C, bias));
    const uint64_t m = (uint64_t)M, n = (uint64_t)N, k = (uint64_t)K;
    mm_args q = {path, 0, 0, transA, transB, m, n, k, alpha, beta, A, B, C, bias, 1, {0}};
    return matmul_run(ctx, &q, "matmul");
}

vkt_status vkt_matmul(vkt_ctx *ctx, bool transA, bool transB, int M, int N, int K, float alpha,
                      vkt_view A, vkt_view B, float beta, vkt_view C, vkt_view bias) {
    return vkt_matmul_on_path(ctx, vkt_ctx_profile(ctx)->matmul_path, transA, transB, M, N, K,
                              alpha, A, B, beta, C, bias);
}

// The split count a vkt_matmul_splitk call with this shape and `splits` would use (1: none).
static uint32_t splitk_count(const vkt_ctx *ctx, int M, int N, int K, int splits) {
    const vkt_profile *p = vkt_ctx_profile(ctx);
    if (M <= 0 || N <= 0 || K <= 0) return 1;
    if (splits <= 0 && p->matmul_path != VKT_MATMUL_GPU_TILED) return 1;
    return vkt_matmul_gpu_splits(p, (uint64_t)M, (uint64_t)N, (uint64_t)K, splits);
}

uint64_t vkt_matmul_splitk_scratch_floats(const vkt_ctx *ctx, int M, int N, int K, int splits) {
    uint32_t s = splitk_count(ctx, M, N, K, splits);
    return s > 1 ? (uint64_t)s * (uint64_t)M * (uint64_t)N : 0;
}

// The layers a split-k product gets with this scratch (1: none): the count splitk_count
// gives, fewer where the scratch holds fewer whole M x N layers; VKT_ERR_ARG where an
// explicit `splits` asks for more than it holds.
static vkt_status splitk_layers(vkt_ctx *ctx, const char *op, int splits, int M, int N, int K,
                                vkt_view scratch, uint32_t *out) {
    uint32_t s = splitk_count(ctx, M, N, K, splits);
    const uint64_t mn = (uint64_t)M * (uint64_t)N;
    uint64_t have = scratch.buf ? scratch.bytes / 4 / mn : 0; // whole layers the scratch holds
    if (splits > 0 && s > 1 && have < s)
        return vkt_fail(vkt_ctx_err(ctx), VKT_ERR_ARG,
                        "%s: scratch of %llu bytes is too small for %u splits of M=%d x N=%d "
                        "floats (%llu bytes; see vkt_matmul_splitk_scratch_floats)",
                        op, (unsigned long long)scratch.bytes, s, M, N,
                        (unsigned long long)(s * mn * 4));
    if (s > have)
        s = have > 1 ? vkt_matmul_gpu_splits(vkt_ctx_profile(ctx), (uint64_t)M, (uint64_t)N,
                                             (uint64_t)K, (int)have)
                     : 1;
    *out = s;
    return VKT_OK;
}

// The GPU kernel in s layers over the scratch, q's views already checked. The scratch is one
// binding: fewer layers when it would be larger than one.
static vkt_status splitk_run(vkt_ctx *ctx, const char *op, mm_args q, uint32_t s,
                             vkt_view scratch) {
    const uint64_t mn = q.m * q.n;
    uint64_t cap = vkt_rows_per_binding(ctx, 4) / mn;
    if (s > cap)
        s = cap > 1 ? vkt_matmul_gpu_splits(vkt_ctx_profile(ctx), q.m, q.n, q.k, (int)cap) : 1;
    q.path = VKT_MATMUL_GPU_TILED;
    q.splits = s;
    q.scratch = s > 1 ? vkt_view_f32(scratch, 0, s * mn) : (vkt_view){0};
    return matmul_run(ctx, &q, op);
}

vkt_status vkt_matmul_splitk(vkt_ctx *ctx, int splits, bool transA, bool transB, int M, int N,
                             int K, float alpha, vkt_view A, vkt_view B, float beta, vkt_view C,
                             vkt_view bias, vkt_view scratch) {
    VKT_TRY(vkt_check_matmul(transA, transB, M, N, K, vkt_ctx_err(ctx)));
    uint32_t s;
    VKT_TRY(splitk_layers(ctx, "matmul_splitk", splits, M, N, K, scratch, &s));
    if (s <= 1 && splits <= 0)
        return vkt_matmul(ctx, transA, transB, M, N, K, alpha, A, B, beta, C, bias);
    VKT_TRY(check_views(ctx, "matmul_splitk", transA, transB, M, N, K, A, B, C, bias));
    const uint64_t m = (uint64_t)M, n = (uint64_t)N, k = (uint64_t)K;
    mm_args q = {
        VKT_MATMUL_GPU_TILED, 0, 0, transA, transB, m, n, k, alpha, beta, A, B, C, bias, 1, {0}};
    return splitk_run(ctx, "matmul_splitk", q, s, scratch);
}

// A view of count 16-bit values: a 4-byte aligned start, enough bytes.
static vkt_status check_view16(vkt_ctx *ctx, const char *op, const char *name, vkt_view v,
                               uint64_t count, vkt_dtype16 dt, const char *shape) {
    vkt_error *err = vkt_ctx_err(ctx);
    if (!v.buf) return vkt_fail(err, VKT_ERR_ARG, "%s: %s is a NULL view (%s)", op, name, shape);
    if (v.offset % 4)
        return vkt_fail(err, VKT_ERR_ARG,
                        "%s: %s's offset of %llu bytes is not a multiple of 4 (16-bit values "
                        "are read in pairs: start %s at an even element) (%s)",
                        op, name, (unsigned long long)v.offset, name, shape);
    if (v.bytes < count * 2)
        return vkt_fail(err, VKT_ERR_ARG,
                        "%s: %s view of %llu bytes is too small for %llu %s values (%s)", op, name,
                        (unsigned long long)v.bytes, (unsigned long long)count,
                        vkt_dtype16_name(dt), shape);
    return VKT_OK;
}

// The operand forms a 16-bit product accepts: dt bf16 or fp16, and a 16-bit A only with a
// 16-bit B (a16 and b16 both 0 is the fp32 product, for the caller to take).
static vkt_status check_form16(vkt_ctx *ctx, const char *op, vkt_dtype16 dt, bool a16, bool b16) {
    vkt_error *err = vkt_ctx_err(ctx);
    if (dt != VKT_BF16 && dt != VKT_F16)
        return vkt_fail(err, VKT_ERR_ARG, "%s: dtype %d is neither VKT_BF16 nor VKT_F16", op,
                        (int)dt);
    if (a16 && !b16)
        return vkt_fail(
            err, VKT_ERR_UNSUPPORTED,
            "%s: a16=1 with b16=0 (A 16-bit, B fp32) is not supported; 16-bit operands are B alone "
            "or A and B (any transpose)",
            op);
    return VKT_OK;
}

// The views of a product with B (and A where a16) 16-bit; *q gets the product on the GPU
// path in one layer, for the caller to change.
static vkt_status check_views16(vkt_ctx *ctx, const char *op, vkt_dtype16 dt, bool a16, bool transA,
                                bool transB, int M, int N, int K, float alpha, vkt_view A,
                                vkt_view B, float beta, vkt_view C, vkt_view bias, mm_args *q) {
    char shape[128];
    snprintf(shape, sizeof shape, "M=%d N=%d K=%d transA=%d transB=%d a16=%d b16=1 %s", M, N, K,
             transA, transB, a16, vkt_dtype16_name(dt));
    const uint64_t m = (uint64_t)M, n = (uint64_t)N, k = (uint64_t)K;
    if (a16)
        VKT_TRY(check_view16(ctx, op, "A", A, m * k, dt, shape));
    else
        VKT_TRY(check_view(ctx, op, "A", A, m * k, shape));
    VKT_TRY(check_view16(ctx, op, "B", B, k * n, dt, shape));
    VKT_TRY(check_view(ctx, op, "C", C, m * n, shape));
    if (bias.buf) VKT_TRY(check_view(ctx, op, "bias", bias, n, shape));
    int h = 1 + (int)dt;
    const vkt_matmul_path g = VKT_MATMUL_GPU_TILED;
    *q = (mm_args){g, a16 ? h : 0, h, transA, transB, m, n, k, alpha, beta, A, B, C, bias, 1, {0}};
    return VKT_OK;
}

// vkt_matmul16_on_path under the name op (its messages name the entry point called).
static vkt_status matmul16(vkt_ctx *ctx, const char *op, vkt_matmul_path path, vkt_dtype16 dt,
                           bool a16, bool b16, bool transA, bool transB, int M, int N, int K,
                           float alpha, vkt_view A, vkt_view B, float beta, vkt_view C,
                           vkt_view bias) {
    vkt_error *err = vkt_ctx_err(ctx);
    VKT_TRY(vkt_check_matmul(transA, transB, M, N, K, err));
    if (path != VKT_MATMUL_TEXEL_REGBLOCK && path != VKT_MATMUL_SHARED_TILED &&
        path != VKT_MATMUL_GPU_TILED)
        return vkt_fail(err, VKT_ERR_ARG, "%s: unknown path %d", op, (int)path);
    VKT_TRY(check_form16(ctx, op, dt, a16, b16));
    if (!a16 && !b16)
        return vkt_matmul_on_path(ctx, path, transA, transB, M, N, K, alpha, A, B, beta, C, bias);
    mm_args q;
    VKT_TRY(
        check_views16(ctx, op, dt, a16, transA, transB, M, N, K, alpha, A, B, beta, C, bias, &q));
    q.path = path;
    return matmul_run(ctx, &q, op);
}

vkt_status vkt_matmul16_on_path(vkt_ctx *ctx, vkt_matmul_path path, vkt_dtype16 dt, bool a16,
                                bool b16, bool transA, bool transB, int M, int N, int K,
                                float alpha, vkt_view A, vkt_view B, float beta, vkt_view C,
                                vkt_view bias) {
    return matmul16(ctx, "matmul16", path, dt, a16, b16, transA, transB, M, N, K, alpha, A, B, beta,
                    C, bias);
}

vkt_status vkt_matmul16(vkt_ctx *ctx, vkt_dtype16 dt, bool a16, bool b16, bool transA, bool transB,
                        int M, int N, int K, float alpha, vkt_view A, vkt_view B, float beta,
                        vkt_view C, vkt_view bias) {
    return matmul16(ctx, "matmul16", vkt_ctx_profile(ctx)->matmul_path, dt, a16, b16, transA,
                    transB, M, N, K, alpha, A, B, beta, C, bias);
}

vkt_status vkt_matmul16_splitk(vkt_ctx *ctx, int splits, vkt_dtype16 dt, bool a16, bool b16,
                               bool transA, bool transB, int M, int N, int K, float alpha,
                               vkt_view A, vkt_view B, float beta, vkt_view C, vkt_view bias,
                               vkt_view scratch) {
    const char *op = "matmul16_splitk";
    VKT_TRY(vkt_check_matmul(transA, transB, M, N, K, vkt_ctx_err(ctx)));
    VKT_TRY(check_form16(ctx, op, dt, a16, b16));
    if (!a16 && !b16)
        return vkt_matmul_splitk(ctx, splits, transA, transB, M, N, K, alpha, A, B, beta, C, bias,
                                 scratch);
    uint32_t s;
    VKT_TRY(splitk_layers(ctx, op, splits, M, N, K, scratch, &s));
    if (s <= 1 && splits <= 0)
        return vkt_matmul16(ctx, dt, a16, b16, transA, transB, M, N, K, alpha, A, B, beta, C, bias);
    mm_args q;
    VKT_TRY(
        check_views16(ctx, op, dt, a16, transA, transB, M, N, K, alpha, A, B, beta, C, bias, &q));
    return splitk_run(ctx, op, q, s, scratch);
}

vkt_status vkt_matmul_w16_on_path(vkt_ctx *ctx, vkt_matmul_path path, vkt_dtype16 dt, bool transA,
                                  bool transB, int M, int N, int K, float alpha, vkt_view A,
                                  vkt_view B, float beta, vkt_view C, vkt_view bias) {
    if (transA) {
        VKT_TRY(vkt_check_matmul(transA, transB, M, N, K, vkt_ctx_err(ctx)));
        return vkt_fail(vkt_ctx_err(ctx), VKT_ERR_UNSUPPORTED,
                        "matmul_w16: transA=1 is not supported (A must be stored (M, K); "
                        "vkt_matmul16 takes it)");
    }
    return matmul16(ctx, "matmul_w16", path, dt, false, true, transA, transB, M, N, K, alpha, A, B,
                    beta, C, bias);
}

vkt_status vkt_matmul_w16(vkt_ctx *ctx, vkt_dtype16 dt, bool transA, bool transB, int M, int N,
                          int K, float alpha, vkt_view A, vkt_view B, float beta, vkt_view C,
                          vkt_view bias) {
    return vkt_matmul_w16_on_path(ctx, vkt_ctx_profile(ctx)->matmul_path, dt, transA, transB, M, N,
                                  K, alpha, A, B, beta, C, bias);
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
    uint32_t wgx = 32,
             wgy = p->max_workgroup_invocations / 32 < 8 ? p->max_workgroup_invocations / 32 : 8;
    uint64_t mc = m, nc = min64(n, (uint64_t)wgx * p->max_workgroup_count[0]);
    nc = nc < n ? shrink(nc) : nc;
    operand ops[2] = {{&mc, &nc, n, 0}, {NULL, &nc, 1, 0}};
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
            push_bias_grad pc = {(uint32_t)mm, (uint32_t)nn, (uint32_t)n,
                                 vkt_bind_shift(ctx, dc, VKT_BIND_READ),
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
