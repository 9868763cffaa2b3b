// op_reduce.c: wrappers for shaders/sum_squares.comp (see op_reduce.h for the plan).
#include <string.h>

#include "dispatch.h"
#include "op_reduce.h"
#include "op_split.h"
#include "shape_check.h"

typedef struct {
    uint32_t n, in_off, out_off, mode, flags;
    float max_norm;
} push_reduce;

enum { MODE_SQUARES = 0, MODE_SUM = 1, MODE_PAIRS = 2 };
#define MAX_GROUPS 1024u
#define ELEMS_PER_THREAD 8u // before a pass gets another workgroup

// Workgroup size: 256 or the largest power of two the device allows (shared memory
// holds two floats per invocation).
static uint32_t reduce_wg(const vkt_ctx *ctx) {
    const vkt_profile *p = vkt_ctx_profile(ctx);
    uint32_t wg = 256;
    while (wg > 1 && (wg > p->max_workgroup_invocations || wg > p->max_workgroup_size[0] ||
                      2u * 4u * wg > p->shared_memory_bytes))
        wg /= 2;
    return wg;
}

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

// Walks the passes of a reduction of n floats. With record == false it only counts the
// scratch floats; with record == true it records the dispatches. One function for both,
// so the scratch size and the run always agree.
static vkt_status reduce_plan(vkt_ctx *ctx, const char *op, int mode, vkt_view x, uint64_t n,
                              float max_norm, vkt_view scratch, vkt_view out, bool record,
                              uint64_t *scratch_floats) {
    const vkt_profile *prof = vkt_ctx_profile(ctx);
    uint32_t wg = reduce_wg(ctx);
    uint64_t used = 0;
    vkt_view src = x;
    uint64_t count = n;
    int m = mode;
    for (;;) {
        uint64_t elem = m == MODE_PAIRS ? 2 : 1; // floats per element
        uint64_t per = min_u64(vkt_rows_per_binding(ctx, 4 * elem), 0x7fffffffu);
        // A chunk's output pairs must fit one binding too.
        uint64_t max_groups = min_u64(min_u64(MAX_GROUPS, vkt_rows_per_binding(ctx, 8)),
                                      prof->max_workgroup_count[0]);
        if (per == 0 || max_groups == 0)
            return vkt_fail(vkt_ctx_err(ctx), VKT_ERR_UNSUPPORTED,
                            "%s: binding limit %llu bytes is too small", op,
                            (unsigned long long)prof->max_binding_bytes);
        uint64_t total = 0;
        for (uint64_t first = 0; first < count; first += per) {
            uint64_t len = min_u64(per, count - first);
            total +=
                min_u64(max_groups, (len + wg * ELEMS_PER_THREAD - 1) / (wg * ELEMS_PER_THREAD));
        }
        bool last = total == 1;
        if (record) {
            uint64_t done = 0;
            for (uint64_t first = 0; first < count; first += per) {
                uint64_t len = min_u64(per, count - first);
                uint64_t groups = min_u64(max_groups, (len + wg * ELEMS_PER_THREAD - 1) /
                                                          (wg * ELEMS_PER_THREAD));
                vkt_view in = vkt_view_f32(src, first * elem, len * elem);
                vkt_view dst = last ? vkt_view_f32(out, 0, mode == MODE_SQUARES ? 4 : 2)
                                    : vkt_view_f32(scratch, used + 2 * done, 2 * groups);
                vkt_dispatch d = {
                    .shader = "sum_squares", .op = op, .spec = {wg, 1, 1}, .nspec = 3, .nbind = 2};
                d.bind[0] = (vkt_binding){in, VKT_BIND_READ};
                d.bind[1] = (vkt_binding){dst, VKT_BIND_WRITE};
                push_reduce pc = {(uint32_t)len,
                                  vkt_bind_shift(ctx, in, VKT_BIND_READ),
                                  vkt_bind_shift(ctx, dst, VKT_BIND_WRITE),
                                  (uint32_t)m,
                                  last && mode == MODE_SQUARES ? 1u : 0u,
                                  max_norm};
                memcpy(d.push, &pc, sizeof pc);
                d.push_bytes = sizeof pc;
                d.groups[0] = (uint32_t)groups;
                d.groups[1] = d.groups[2] = 1;
                VKT_TRY(vkt_record(ctx, &d));
                done += groups;
            }
        }
        if (last) break;
        src = vkt_view_f32(scratch, used, 2 * total);
        used += 2 * total;
        count = total;
        m = MODE_PAIRS;
    }
    if (scratch_floats) *scratch_floats = used;
    return VKT_OK;
}

uint64_t vkt_reduce_scratch_bytes(const vkt_ctx *ctx, uint64_t n) {
    if (n == 0) return 0;
    uint64_t floats = 0;
    vkt_view none = {0};
    // Counting records nothing and cannot fail for n > 0 on a usable profile.
    if (reduce_plan((vkt_ctx *)ctx, "reduce", MODE_SUM, none, n, 0, none, none, false, &floats) !=
        VKT_OK)
        return 0;
    return 4 * floats;
}

static vkt_status reduce(vkt_ctx *ctx, const char *op, int mode, vkt_view x, uint64_t n,
                         float max_norm, vkt_view scratch, vkt_view out) {
    vkt_error *err = vkt_ctx_err(ctx);
    VKT_TRY(vkt_check_count(op, n, err));
    if (!x.buf) return vkt_fail(err, VKT_ERR_ARG, "%s: input view is NULL", op);
    if (n * 4 > x.bytes)
        return vkt_fail(err, VKT_ERR_ARG, "%s: n=%llu floats exceed the input view of %llu bytes",
                        op, (unsigned long long)n, (unsigned long long)x.bytes);
    uint64_t out_floats = mode == MODE_SQUARES ? 4 : 2;
    if (!out.buf || out.bytes < 4 * out_floats)
        return vkt_fail(err, VKT_ERR_ARG, "%s: out view of %llu bytes must hold %llu floats", op,
                        (unsigned long long)out.bytes, (unsigned long long)out_floats);
    if (mode == MODE_SQUARES && !(max_norm == max_norm))
        return vkt_fail(err, VKT_ERR_ARG, "%s: max_norm is NaN", op);
    uint64_t need = 0;
    VKT_TRY(reduce_plan(ctx, op, mode, x, n, max_norm, scratch, out, false, &need));
    if (need > 0 && (!scratch.buf || scratch.bytes < 4 * need))
        return vkt_fail(err, VKT_ERR_ARG,
                        "%s: n=%llu needs %llu bytes of scratch, the view has %llu", op,
                        (unsigned long long)n, (unsigned long long)(4 * need),
                        (unsigned long long)scratch.bytes);
    return reduce_plan(ctx, op, mode, x, n, max_norm, scratch, out, true, NULL);
}

vkt_status vkt_sum(vkt_ctx *ctx, vkt_view x, uint64_t n, vkt_view scratch, vkt_view out) {
    return reduce(ctx, "sum", MODE_SUM, x, n, 0, scratch, out);
}

vkt_status vkt_grad_norm(vkt_ctx *ctx, vkt_view g, uint64_t n, float max_norm, vkt_view scratch,
                         vkt_view out) {
    return reduce(ctx, "grad_norm", MODE_SQUARES, g, n, max_norm, scratch, out);
}

vkt_status vkt_reduce_read(vkt_ctx *ctx, vkt_view out, double *sum, float *norm, float *clip) {
    float r[4] = {0};
    uint64_t want = (norm || clip) ? 16 : 8;
    VKT_TRY(vkt_download(ctx, out, r, want));
    if (sum) *sum = (double)r[VKT_REDUCE_HI] + (double)r[VKT_REDUCE_LO];
    if (norm) *norm = r[VKT_REDUCE_NORM];
    if (clip) *clip = r[VKT_REDUCE_CLIP];
    return VKT_OK;
}
