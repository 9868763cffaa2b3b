// op_matmul_gpu.c: records the GPU matmul path, shaders/matmul_gpu.comp and, for split-k,
// matmul_gpu_splitk_* then matmul_splitk_reduce.comp: C = alpha op(A) op(B) + beta C + bias,
// checked against vkt_ref_matmul by tests/test_matmul_gpu.c (16-bit operands: test_matmul16.c).
// Tile sizes and split-k thresholds come from the device profile (profile.c); this file picks among
// them by shape and decides per operand whether the kernel may read 4 floats at once.
#include <stdio.h>
#include <string.h>

#include "dispatch.h"
#include "half.h"
#include "op_matmul_gpu.h"

// Push constants of matmul_splitk_reduce.comp.
typedef struct {
    uint32_t M, N, S;
    uint32_t ldc, p_off, c_off, bias_off;
    uint32_t has_bias;
    float alpha, beta;
} push_reduce;

static uint64_t cdiv(uint64_t a, uint64_t b) { return (a + b - 1) / b; }
static uint64_t tile_groups(vkt_matmul_tile t, uint64_t m, uint64_t n) {
    return cdiv(m, (uint64_t)t.wgy * t.tm) * cdiv(n, (uint64_t)t.wgx * t.tn);
}

vkt_matmul_tile vkt_matmul_gpu_tile(const vkt_profile *p, uint64_t m, uint64_t n) {
    return tile_groups(p->matmul_tile_large, m, n) >= p->matmul_fill_groups ? p->matmul_tile_large
                                                                            : p->matmul_tile_small;
}

uint32_t vkt_matmul_gpu_splits(const vkt_profile *p, uint64_t m, uint64_t n, uint64_t k, int want) {
    vkt_matmul_tile t = vkt_matmul_gpu_tile(p, m, n);
    uint64_t s = want > 0 ? (uint64_t)want : 1, groups = tile_groups(t, m, n);
    if (want <= 0 && p->matmul_force_splitk) {
        s = groups < p->matmul_fill_groups ? cdiv(p->matmul_fill_groups, groups) : 2;
        s = s < 2 ? 2 : s > 16 ? 16 : s;
    } else if (want <= 0 && groups < p->matmul_fill_groups) {
        // Enough layers to fill the device, each still a long run of k.
        uint64_t by_k = k / (p->matmul_splitk_min_k ? p->matmul_splitk_min_k : 1);
        s = cdiv(p->matmul_fill_groups, groups);
        if (s > by_k) s = by_k;
        if (s > 64) s = 64;
        if (s < 2) s = 1;
    }
    // Whole k-slices per split; the count that remains after rounding.
    uint64_t slices = cdiv(k, t.bk);
    if (s > slices) s = slices;
    if (s < 1) s = 1;
    uint64_t per = cdiv(slices, s);
    return (uint32_t)cdiv(slices, per);
}

// 4-float loads need the operand's rows, its start in the binding and the binding's start
// 16-byte aligned (a device may align storage bindings to 4 bytes only); 4 16-bit values
// (one uvec2) the same at 8 bytes. The operand's first element is skip elements in.
static bool vec_ok(vkt_ctx *ctx, vkt_view v, int h16, uint32_t skip, uint64_t ld) {
    if (!h16)
        return ld % 4 == 0 && v.offset % 16 == 0 && vkt_bind_shift(ctx, v, VKT_BIND_READ) % 4 == 0;
    return ld % 4 == 0 && (v.offset + 2 * skip) % 8 == 0 &&
           (2 * vkt_bind_shift(ctx, v, VKT_BIND_READ) + skip) % 4 == 0;
}

// An operand's offset in its binding, in its elements.
static uint32_t elem_off(vkt_ctx *ctx, vkt_view v, int h16, uint32_t skip) {
    uint32_t words = vkt_bind_shift(ctx, v, VKT_BIND_READ);
    return h16 ? 2 * words + skip : words;
}

static vkt_status record_product(vkt_ctx *ctx, const vkt_mm_gpu *q, vkt_matmul_tile t,
                                 uint32_t splits, uint32_t k_split) {
    static const char *tr[2][2] = {{"nn", "nt"}, {"tn", "tt"}};
    char name[40], tag[8] = "";
    if (q->b16)
        snprintf(tag, sizeof tag, "%s%s_", vkt_dtype16_name((vkt_dtype16)(q->b16 - 1)),
                 q->a16 ? "ab" : "");
    snprintf(name, sizeof name, "matmul_gpu_%s%s%s", splits > 1 ? "splitk_" : "", tag,
             tr[q->ta][q->tb]);
    const bool with_bias = q->bias.buf != NULL;
    vkt_view out = splits > 1 ? q->scratch : q->c, bv = with_bias ? q->bias : q->a;
    vkt_dispatch d = {.shader = name, .op = "matmul", .nbind = 4, .nspec = 8};
    d.spec[0] = t.wgx, d.spec[1] = t.wgy, d.spec[2] = 1, d.spec[3] = t.tm, d.spec[4] = t.tn,
    d.spec[5] = t.bk;
    d.spec[6] = vec_ok(ctx, q->a, q->a16, q->a_skip, q->lda);
    d.spec[7] = vec_ok(ctx, q->b, q->b16, q->b_skip, q->ldb);
    d.groups[0] = (uint32_t)cdiv(q->n, (uint64_t)t.wgx * t.tn);
    d.groups[1] = (uint32_t)cdiv(q->m, (uint64_t)t.wgy * t.tm);
    d.groups[2] = splits;
    d.bind[0] = (vkt_binding){q->a, VKT_BIND_READ};
    d.bind[1] = (vkt_binding){q->b, VKT_BIND_READ};
    d.bind[2] = (vkt_binding){out, VKT_BIND_WRITE};
    d.bind[3] = (vkt_binding){bv, VKT_BIND_READ};
    vkt_matmul_push pc = {
        .M = (uint32_t)q->m,
        .N = (uint32_t)q->n,
        .K = (uint32_t)q->k,
        .lda = (uint32_t)q->lda,
        .ldb = (uint32_t)q->ldb,
        .ldc = (uint32_t)q->ldc,
        .a_off = elem_off(ctx, q->a, q->a16, q->a_skip),
        .b_off = elem_off(ctx, q->b, q->b16, q->b_skip),
        .c_off = vkt_bind_shift(ctx, out, VKT_BIND_WRITE),
        .bias_off = vkt_bind_shift(ctx, bv, VKT_BIND_READ),
        .has_bias = with_bias,
        .alpha = q->alpha,
        .beta = q->beta,
        .k_split = k_split,
    };
    memcpy(d.push, &pc, sizeof pc);
    d.push_bytes = sizeof pc;
    return vkt_record(ctx, &d);
}

// C = alpha * (sum of the scratch layers, in order) + beta C + bias.
static vkt_status record_reduce(vkt_ctx *ctx, const vkt_mm_gpu *q, uint32_t splits) {
    const bool with_bias = q->bias.buf != NULL;
    vkt_view bv = with_bias ? q->bias : q->scratch;
    vkt_dispatch d = {.shader = "matmul_splitk_reduce", .spec = {64, 4, 1}, .nspec = 3, .nbind = 3};
    d.groups[0] = (uint32_t)cdiv(q->n, 64);
    d.groups[1] = (uint32_t)cdiv(q->m, 4);
    d.groups[2] = 1;
    d.bind[0] = (vkt_binding){q->scratch, VKT_BIND_READ};
    d.bind[1] = (vkt_binding){q->c, VKT_BIND_WRITE};
    d.bind[2] = (vkt_binding){bv, VKT_BIND_READ};
    push_reduce pc = {
        .M = (uint32_t)q->m,
        .N = (uint32_t)q->n,
        .S = splits,
        .ldc = (uint32_t)q->ldc,
        .p_off = vkt_bind_shift(ctx, q->scratch, VKT_BIND_READ),
        .c_off = vkt_bind_shift(ctx, q->c, VKT_BIND_WRITE),
        .bias_off = vkt_bind_shift(ctx, bv, VKT_BIND_READ),
        .has_bias = with_bias,
        .alpha = q->alpha,
        .beta = q->beta,
    };
    memcpy(d.push, &pc, sizeof pc);
    d.push_bytes = sizeof pc;
    return vkt_record(ctx, &d);
}

vkt_status vkt_matmul_gpu_record(vkt_ctx *ctx, const vkt_mm_gpu *q) {
    const vkt_profile *p = vkt_ctx_profile(ctx);
    vkt_matmul_tile t = vkt_matmul_gpu_tile(p, q->m, q->n);
    uint64_t bm = (uint64_t)t.wgy * t.tm, bn = (uint64_t)t.wgx * t.tn,
             shared = (bm + bn) * t.bk * 4;
    if (shared > p->shared_memory_bytes || bm % 32 || bn % 32 || t.tm % 4 || t.tn % 4)
        return vkt_fail(vkt_ctx_err(ctx), VKT_ERR_UNSUPPORTED,
                        "matmul: GPU tile %llux%llu (bk %u) needs %llu bytes of shared memory (the "
                        "device has %u) "
                        "and sides that are multiples of 32",
                        (unsigned long long)bm, (unsigned long long)bn, t.bk,
                        (unsigned long long)shared, p->shared_memory_bytes);
    uint32_t splits = q->splits > 1 ? q->splits : 1;
    if (splits == 1) return record_product(ctx, q, t, 1, 0);
    uint64_t per = cdiv(cdiv(q->k, t.bk), splits) * t.bk;
    splits = (uint32_t)cdiv(q->k, per);
    VKT_TRY(record_product(ctx, q, t, splits, (uint32_t)per));
    return record_reduce(ctx, q, splits);
}
