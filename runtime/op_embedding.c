// op_embedding.c: host-side id validation and bucketing, and the wrappers for
// shaders/embedding_fwd.comp and embedding_bwd.comp.
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "op_embedding.h"
#include "op_split.h"
#include "op_views.h"
#include "shape_check.h"

#define BWD_WG 64u
// Rows and buckets loop inside workgroups: about this many groups per dispatch (each
// group has a fixed cost on lavapipe; plenty for a GPU).
#define GROUPS 2048u

typedef struct {
    uint32_t rows, C, tok_off, pos_off, wte_off, wpe_off, out_off, v0, v1, p0, p1, has_pos;
} push_fwd;

typedef struct {
    uint32_t nbuckets, C, rows_off, start_off, idx_off, dout_off, dtab_off, n0, n1, v0, v1;
} push_bwd;

uint64_t vkt_embedding_ids_bytes(int N, bool has_pos) {
    if (N <= 0) return 0;
    uint64_t one = (uint64_t)N + 3ull * (uint64_t)N + 1; // ids, rows, start, idx
    return 4ull * (has_pos ? 2 * one : one);
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

// Stable bucketing of ids (N) by value: rows (distinct ids, increasing), start (U + 1),
// idx (N: the i of each id, grouped by row, increasing i inside a row). Returns U.
// keys is scratch for N uint64.
static uint32_t bucket(int N, const int32_t *ids, uint64_t *keys, int32_t *rows, int32_t *start,
                       int32_t *idx) {
    for (int i = 0; i < N; i++) keys[i] = (uint64_t)(uint32_t)ids[i] << 32 | (uint32_t)i;
    qsort(keys, (size_t)N, sizeof *keys, cmp_u64); // (id, i) keys are distinct: the order is total
    uint32_t u = 0;
    for (int j = 0; j < N; j++) {
        int32_t id = (int32_t)(keys[j] >> 32);
        if (j == 0 || id != rows[u - 1]) {
            rows[u] = id;
            start[u++] = j;
        }
        idx[j] = (int32_t)(uint32_t)keys[j];
    }
    start[u] = N;
    return u;
}

vkt_status vkt_embedding_ids_upload(vkt_ctx *ctx, int N, int V, int Tmax, const int32_t *tok,
                                    const int32_t *pos, vkt_view dst, vkt_embedding_ids *ids) {
    vkt_error *err = vkt_ctx_err(ctx);
    bool has_pos = pos != NULL;
    VKT_TRY(vkt_check_embedding(N, 1, V, Tmax, has_pos, err));
    if (!tok || !ids)
        return vkt_fail(err, VKT_ERR_ARG, "embedding: %s is NULL", tok ? "ids" : "tok");
    VKT_TRY(vkt_check_ids("embedding", "tok", (size_t)N, tok, V, err));
    if (has_pos) VKT_TRY(vkt_check_ids("embedding", "pos", (size_t)N, pos, Tmax, err));
    uint64_t bytes = vkt_embedding_ids_bytes(N, has_pos);
    VKT_TRY(vkt_view_need(ctx, "embedding", "ids", dst, bytes));
    int32_t *h = calloc(1, bytes);
    uint64_t *keys = malloc((size_t)N * sizeof *keys);
    if (!h || !keys) {
        free(h), free(keys);
        return vkt_fail(err, VKT_ERR_NOMEM, "embedding: host buffers for N=%d ids", N);
    }
    vkt_embedding_ids r = {.view = dst, .N = N, .V = V, .Tmax = has_pos ? Tmax : 0};
    uint32_t at = 0;
    r.tok = at, at += (uint32_t)N;
    memcpy(h + r.tok, tok, (size_t)N * 4);
    if (has_pos) {
        r.pos = at, at += (uint32_t)N;
        memcpy(h + r.pos, pos, (size_t)N * 4);
    }
    // Buckets are laid out rows | start | idx with rows sized for the worst case (N),
    // then compacted so rows and start are adjacent (one binding in the backward).
    int32_t *rows = malloc(((size_t)N + 1) * 4), *start = malloc(((size_t)N + 1) * 4);
    if (!rows || !start) {
        free(h), free(keys), free(rows), free(start);
        return vkt_fail(err, VKT_ERR_NOMEM, "embedding: host buffers for N=%d ids", N);
    }
    for (int which = 0; which < (has_pos ? 2 : 1); which++) {
        uint32_t u = bucket(N, which ? pos : tok, keys, rows, start, h + at + 2 * (uint32_t)N + 1);
        uint32_t r0 = at, s0 = at + u, i0 = at + 2 * (uint32_t)N + 1;
        memcpy(h + r0, rows, (size_t)u * 4);
        memcpy(h + s0, start, ((size_t)u + 1) * 4);
        if (which == 0)
            r.trows = r0, r.tstart = s0, r.tidx = i0, r.ntok_rows = u;
        else
            r.prows = r0, r.pstart = s0, r.pidx = i0, r.npos_rows = u;
        at = i0 + (uint32_t)N;
    }
    free(keys), free(rows), free(start);
    vkt_status s = vkt_upload(ctx, dst, h, (uint64_t)at * 4);
    free(h);
    if (s == VKT_OK) *ids = r;
    return s;
}

// Checks shared by forward and backward: the ids struct, C, and the table views.
static vkt_status check_call(vkt_ctx *ctx, const char *op, const vkt_embedding_ids *ids, int C,
                             vkt_view tab, const char *tab_name, vkt_view ptab,
                             const char *ptab_name, vkt_view rows, const char *rows_name,
                             uint64_t *R) {
    vkt_error *err = vkt_ctx_err(ctx);
    if (!ids)
        return vkt_fail(err, VKT_ERR_ARG, "%s: ids is NULL (see vkt_embedding_ids_upload)", op);
    bool has_pos = ptab.buf != NULL;
    if (has_pos && ids->Tmax <= 0)
        return vkt_fail(err, VKT_ERR_ARG,
                        "%s: %s given but the ids were uploaded without positions", op, ptab_name);
    VKT_TRY(vkt_check_embedding(ids->N, C, ids->V, ids->Tmax, has_pos, err));
    VKT_TRY(
        vkt_view_need(ctx, op, "ids", ids->view, vkt_embedding_ids_bytes(ids->N, ids->Tmax > 0)));
    VKT_TRY(vkt_view_need(ctx, op, tab_name, tab, 4ull * (uint64_t)ids->V * (uint64_t)C));
    if (has_pos)
        VKT_TRY(vkt_view_need(ctx, op, ptab_name, ptab, 4ull * (uint64_t)ids->Tmax * (uint64_t)C));
    VKT_TRY(vkt_view_need(ctx, op, rows_name, rows, 4ull * (uint64_t)ids->N * (uint64_t)C));
    *R = vkt_rows_per_binding(ctx, 4ull * (uint64_t)C);
    if (*R == 0)
        return vkt_fail(err, VKT_ERR_UNSUPPORTED,
                        "%s: a row of C=%d floats exceeds the device's %llu-byte binding", op, C,
                        (unsigned long long)vkt_ctx_profile(ctx)->max_binding_bytes);
    if (*R > 0xFFFFFFFFull / (uint64_t)C) *R = 0xFFFFFFFFull / (uint64_t)C;
    return VKT_OK;
}

static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }

static uint32_t fwd_wg(vkt_ctx *ctx, int C) {
    const vkt_profile *p = vkt_ctx_profile(ctx);
    uint32_t want = vkt_pow2_floor(((uint32_t)C + 3) / 4);
    want = want < 32 ? 32 : want > 256 ? 256 : want;
    uint32_t cap = vkt_pow2_floor(p->max_workgroup_invocations < p->max_workgroup_size[0]
                                      ? p->max_workgroup_invocations
                                      : p->max_workgroup_size[0]);
    return want < cap ? want : cap;
}

// One forward dispatch over `rows` output rows with its four table/id bindings.
static vkt_status record_fwd(vkt_ctx *ctx, const char *op, const char *shader, uint32_t wg,
                             const push_fwd *pc, vkt_view ts, vkt_view ps, vkt_view ws,
                             vkt_view pws, vkt_view os, uint64_t rows) {
    vkt_dispatch d = {.shader = shader, .op = op, .spec = {wg, 1, 1}, .nspec = 3, .nbind = 5};
    d.bind[0] = (vkt_binding){ts, VKT_BIND_READ};
    d.bind[1] = (vkt_binding){ps, VKT_BIND_READ};
    d.bind[2] = (vkt_binding){ws, VKT_BIND_READ};
    d.bind[3] = (vkt_binding){pws, VKT_BIND_READ};
    d.bind[4] = (vkt_binding){os, VKT_BIND_WRITE};
    memcpy(d.push, pc, sizeof *pc);
    d.push_bytes = sizeof *pc;
    d.groups[0] =
        (uint32_t)min64(min64(rows, GROUPS), vkt_ctx_profile(ctx)->max_workgroup_count[0]);
    d.groups[1] = d.groups[2] = 1;
    return vkt_record(ctx, &d);
}

vkt_status vkt_embedding_fwd16(vkt_ctx *ctx, const vkt_embedding_ids *ids, int C, int w16,
                               vkt_view wte, vkt_view out) {
    const char *op = "embedding_fwd16";
    vkt_error *err = vkt_ctx_err(ctx);
    if (w16 != 1 && w16 != 2)
        return vkt_fail(err, VKT_ERR_ARG, "%s: table type %d (1 bf16, 2 fp16)", op, w16);
    if (C < 2 || C % 2)
        return vkt_fail(err, VKT_ERR_ARG, "%s: C=%d must be even (two values a word)", op, C);
    if (wte.offset % 4)
        return vkt_fail(err, VKT_ERR_ARG, "%s: wte offset %llu is not 4-byte aligned", op,
                        (unsigned long long)wte.offset);
    uint64_t R;
    // The table as C/2 words a row: the float-table checks and row ranges apply as they are.
    VKT_TRY(check_call(ctx, op, ids, C / 2, wte, "wte", (vkt_view){0}, "wpe", out, "out", &R));
    VKT_TRY(vkt_view_need(ctx, op, "out", out, 4ull * (uint64_t)ids->N * (uint64_t)C));
    const uint64_t N = (uint64_t)ids->N, V = (uint64_t)ids->V, W = (uint64_t)C / 2;
    const uint64_t Ro = vkt_rows_per_binding(ctx, 4ull * (uint64_t)C);
    if (Ro == 0)
        return vkt_fail(err, VKT_ERR_UNSUPPORTED, "%s: a row of C=%d floats exceeds a binding", op,
                        C);
    uint32_t wg = fwd_wg(ctx, C / 2);
    for (uint64_t n0 = 0; n0 < N; n0 += Ro) {
        uint64_t rows = min64(Ro, N - n0);
        vkt_view ts = vkt_view_f32(ids->view, ids->tok + n0, rows);
        vkt_view os = vkt_view_rows(out, n0, rows, C, C);
        for (uint64_t v0 = 0; v0 < V; v0 += R) {
            uint64_t vn = min64(R, V - v0);
            vkt_view ws = vkt_view_rows(wte, v0, vn, W, W);
            push_fwd pc = {(uint32_t)rows,
                           (uint32_t)C,
                           vkt_bind_shift(ctx, ts, VKT_BIND_READ),
                           vkt_bind_shift(ctx, ts, VKT_BIND_READ),
                           vkt_bind_shift(ctx, ws, VKT_BIND_READ),
                           vkt_bind_shift(ctx, ws, VKT_BIND_READ),
                           vkt_bind_shift(ctx, os, VKT_BIND_WRITE),
                           (uint32_t)v0,
                           (uint32_t)(v0 + vn),
                           0,
                           1,
                           0};
            VKT_TRY(record_fwd(ctx, op, w16 == 1 ? "embedding_fwd_bf16" : "embedding_fwd_f16", wg,
                               &pc, ts, ts, ws, ws, os, rows));
        }
    }
    return VKT_OK;
}

vkt_status vkt_embedding_fwd(vkt_ctx *ctx, const vkt_embedding_ids *ids, int C, vkt_view wte,
                             vkt_view wpe, vkt_view out) {
    const char *op = "embedding_fwd";
    uint64_t R;
    VKT_TRY(check_call(ctx, op, ids, C, wte, "wte", wpe, "wpe", out, "out", &R));
    bool has_pos = wpe.buf != NULL;
    uint64_t N = (uint64_t)ids->N, V = (uint64_t)ids->V, T = has_pos ? (uint64_t)ids->Tmax : 1;
    uint32_t wg = fwd_wg(ctx, C);
    // Every (out rows, wte rows, wpe rows) range triple: each output row is written by
    // the one dispatch whose ranges hold its token and position.
    for (uint64_t n0 = 0; n0 < N; n0 += R) {
        uint64_t rows = min64(R, N - n0);
        vkt_view ts = vkt_view_f32(ids->view, ids->tok + n0, rows);
        vkt_view ps = has_pos ? vkt_view_f32(ids->view, ids->pos + n0, rows) : ts;
        vkt_view os = vkt_view_rows(out, n0, rows, C, C);
        for (uint64_t v0 = 0; v0 < V; v0 += R) {
            uint64_t vn = min64(R, V - v0);
            vkt_view ws = vkt_view_rows(wte, v0, vn, C, C);
            for (uint64_t p0 = 0; p0 < T; p0 += R) {
                uint64_t pn = min64(R, T - p0);
                vkt_view pws = has_pos ? vkt_view_rows(wpe, p0, pn, C, C) : ws;
                push_fwd pc = {(uint32_t)rows,
                               (uint32_t)C,
                               vkt_bind_shift(ctx, ts, VKT_BIND_READ),
                               vkt_bind_shift(ctx, ps, VKT_BIND_READ),
                               vkt_bind_shift(ctx, ws, VKT_BIND_READ),
                               vkt_bind_shift(ctx, pws, VKT_BIND_READ),
                               vkt_bind_shift(ctx, os, VKT_BIND_WRITE),
                               (uint32_t)v0,
                               (uint32_t)(v0 + vn),
                               (uint32_t)p0,
                               (uint32_t)(p0 + pn),
                               has_pos};
                VKT_TRY(record_fwd(ctx, op, "embedding_fwd", wg, &pc, ts, ps, ws, pws, os, rows));
            }
        }
    }
    return VKT_OK;
}

// dtab (nrows_tab, C) += dout rows, bucketed by (rows_at, start_at, idx_at, U).
static vkt_status scatter(vkt_ctx *ctx, const char *op, const vkt_embedding_ids *ids, int C,
                          uint64_t R, uint32_t rows_at, uint32_t idx_at, uint32_t U, vkt_view dout,
                          vkt_view dtab, uint64_t nrows_tab) {
    uint64_t N = (uint64_t)ids->N;
    vkt_view ls = vkt_view_f32(ids->view, rows_at, 2ull * U + 1),
             is = vkt_view_f32(ids->view, idx_at, N);
    for (uint64_t n0 = 0; n0 < N; n0 += R) { // dout ranges in increasing i: the order of additions
        uint64_t rows = min64(R, N - n0);
        vkt_view ds = vkt_view_rows(dout, n0, rows, C, C);
        for (uint64_t v0 = 0; v0 < nrows_tab; v0 += R) {
            uint64_t vn = min64(R, nrows_tab - v0);
            vkt_view ts = vkt_view_rows(dtab, v0, vn, C, C);
            uint32_t lo = vkt_bind_shift(ctx, ls, VKT_BIND_READ);
            push_bwd pc = {U,
                           (uint32_t)C,
                           lo,
                           lo + U,
                           vkt_bind_shift(ctx, is, VKT_BIND_READ),
                           vkt_bind_shift(ctx, ds, VKT_BIND_READ),
                           vkt_bind_shift(ctx, ts, VKT_BIND_WRITE),
                           (uint32_t)n0,
                           (uint32_t)(n0 + rows),
                           (uint32_t)v0,
                           (uint32_t)(v0 + vn)};
            vkt_dispatch d = {.shader = "embedding_bwd",
                              .op = op,
                              .spec = {BWD_WG, 1, 1},
                              .nspec = 3,
                              .nbind = 4};
            d.bind[0] = (vkt_binding){ls, VKT_BIND_READ};
            d.bind[1] = (vkt_binding){is, VKT_BIND_READ};
            d.bind[2] = (vkt_binding){ds, VKT_BIND_READ};
            d.bind[3] = (vkt_binding){ts, VKT_BIND_WRITE};
            memcpy(d.push, &pc, sizeof pc);
            d.push_bytes = sizeof pc;
            d.groups[1] = (uint32_t)(((uint64_t)C + BWD_WG - 1) / BWD_WG);
            uint64_t gx = GROUPS / d.groups[1] ? GROUPS / d.groups[1] : 1;
            d.groups[0] =
                (uint32_t)min64(min64(U, gx), vkt_ctx_profile(ctx)->max_workgroup_count[0]);
            d.groups[2] = 1;
            VKT_TRY(vkt_record(ctx, &d));
        }
    }
    return VKT_OK;
}

vkt_status vkt_embedding_bwd(vkt_ctx *ctx, const vkt_embedding_ids *ids, int C, vkt_view dout,
                             vkt_view dwte, vkt_view dwpe) {
    const char *op = "embedding_bwd";
    uint64_t R;
    VKT_TRY(check_call(ctx, op, ids, C, dwte, "dwte", dwpe, "dwpe", dout, "dout", &R));
    uint64_t lim = vkt_ctx_profile(ctx)->max_binding_bytes;
    if ((2ull * ids->N + 1) * 4 + 64 > lim)
        return vkt_fail(vkt_ctx_err(ctx), VKT_ERR_UNSUPPORTED,
                        "%s: N=%d ids: the bucket lists exceed the device's %llu-byte binding", op,
                        ids->N, (unsigned long long)lim);
    if ((uint64_t)C > vkt_ctx_profile(ctx)->max_workgroup_count[1] * (uint64_t)BWD_WG)
        return vkt_fail(vkt_ctx_err(ctx), VKT_ERR_UNSUPPORTED,
                        "%s: C=%d exceeds the device's workgroup grid", op, C);
    VKT_TRY(scatter(ctx, op, ids, C, R, ids->trows, ids->tidx, ids->ntok_rows, dout, dwte,
                    (uint64_t)ids->V));
    if (dwpe.buf)
        VKT_TRY(scatter(ctx, op, ids, C, R, ids->prows, ids->pidx, ids->npos_rows, dout, dwpe,
                        (uint64_t)ids->Tmax));
    return VKT_OK;
}
