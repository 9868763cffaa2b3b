// test_attention.c: shaders/attention_fwd.comp, attention_bwd_dq.comp and
// attention_bwd_dkv.comp (and their texel variants) against
// vkt_ref_attention_fwd/bwd on awkward shapes (T in 1, 3, 17, 63, 129, 1024; D in 4, 5,
// 6, 7, 32, 64; H = 4 with KVH 4, 2, 1; B 1, 2), separate and fused (strided) q/k/v,
// the causal mask, the KV-cached form (query offset), determinism, binding splits and
// bad calls; both kernel paths (texel fetches on CPU devices, shared-memory tiles); the
// GPU family (shaders/attention_fwd_gpu.comp, attention_bwd_dq_gpu.comp and
// attention_bwd_dkv_gpu.comp, VKT_ATTENTION=gpu) with both lane reductions
// (subgroup shuffles, shared memory) on odd D, GQA, fused strides, offsets and splits; the
// cached forward's decode path (attention_decode.comp) against the reference and the
// row-per-query kernel on one input (Tq 1..4, Tk 1..1000, D 2..256, GQA 16/8, B 3).
// Tolerances (|got - ref| <= atol + rtol*|ref|): out 2e-5 + 1e-4, lse 2e-5 + 2e-5,
// gradients 1e-4 + 1e-3 (fp32 sums of up to T terms in another order than the
// reference's double sums; the reference backward is itself checked against finite
// differences in test_reference.c).
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "op_attention.h"
#include "reference.h"
#include "support_gpu.h"

#define OUT_ATOL 2e-5
#define OUT_RTOL 1e-4
#define LSE_ATOL 2e-5
#define LSE_RTOL 2e-5
#define GRAD_ATOL 1e-4
#define GRAD_RTOL 1e-3

// One problem: q, k, v inside one buffer `qkv`, each row `stride` elements (fused), or in
// three buffers (stride 0 in the case list: rows H*D / KVH*D).
typedef struct {
    int B, T, H, KVH, D;
    int fused_pad; // -1: separate buffers; >= 0: fused rows of (H + 2 KVH) D + fused_pad
} shape;

typedef struct {
    int qs, ks, vs;
    size_t qo, ko, vo; // element offsets of q, k, v in their buffer
    size_t nq, nk, nv; // elements of each buffer (all the same buffer when fused)
    bool fused;
} layout;

static layout make_layout(const shape *s) {
    layout l = {0};
    size_t rows = (size_t)s->B * s->T;
    if (s->fused_pad >= 0) {
        int st = (s->H + 2 * s->KVH) * s->D + s->fused_pad;
        l = (layout){st,
                     st,
                     st,
                     0,
                     (size_t)s->H * s->D,
                     (size_t)(s->H + s->KVH) * s->D,
                     rows * st,
                     rows * st,
                     rows * st,
                     true};
    } else {
        l = (layout){s->H * s->D,        s->KVH * s->D,        s->KVH * s->D,        0,    0, 0,
                     rows * s->H * s->D, rows * s->KVH * s->D, rows * s->KVH * s->D, false};
    }
    return l;
}

static vkt_view from(vkt_buffer *b, size_t first) {
    vkt_view all = vkt_view_all(b);
    return vkt_view_f32(all, first, all.bytes / 4 - first);
}

static void check_cached(vkt_ctx *ctx, int B, int Tq, int q0, int Tk, int kv_rows, int H, int KVH,
                         int D);

// Forward and backward of one shape against the reference.
static void check_shape(vkt_ctx *ctx, const shape *s, uint64_t seed) {
    layout l = make_layout(s);
    float scale = 1.0f / sqrtf((float)s->D);
    size_t nout = (size_t)s->B * s->T * s->H * s->D, nlse = (size_t)s->B * s->H * s->T;
    // Host tensors: with a fused layout q, k, v (and dq, dk, dv) share one array.
    float *hq = malloc(l.nq * 4), *hk = l.fused ? hq : malloc(l.nk * 4),
          *hv = l.fused ? hq : malloc(l.nv * 4);
    test_fill_uniform(hq, l.nq, seed, -2, 2);
    if (!l.fused)
        test_fill_uniform(hk, l.nk, seed + 1, -2, 2), test_fill_uniform(hv, l.nv, seed + 2, -1, 1);
    float *gq = malloc(l.nq * 4), *gk = l.fused ? gq : malloc(l.nk * 4),
          *gv = l.fused ? gq : malloc(l.nv * 4);
    test_fill_uniform(gq, l.nq, seed + 3, -1, 1); // gradients start non-zero: backward accumulates
    if (!l.fused)
        test_fill_uniform(gk, l.nk, seed + 4, -1, 1), test_fill_uniform(gv, l.nv, seed + 5, -1, 1);
    float *dout = malloc(nout * 4);
    test_fill_uniform(dout, nout, seed + 6, -1, 1);

    vkt_buffer *bq = test_upload(ctx, hq, l.nq), *bk = l.fused ? bq : test_upload(ctx, hk, l.nk),
               *bv = l.fused ? bq : test_upload(ctx, hv, l.nv);
    vkt_buffer *bgq = test_upload(ctx, gq, l.nq), *bgk = l.fused ? bgq : test_upload(ctx, gk, l.nk),
               *bgv = l.fused ? bgq : test_upload(ctx, gv, l.nv);
    vkt_buffer *bo = test_upload(ctx, NULL, nout), *bl = test_upload(ctx, NULL, nlse),
               *bdo = test_upload(ctx, dout, nout);

    TEST_OK(ctx, vkt_attention_fwd(ctx, s->B, s->T, s->H, s->KVH, s->D, scale, from(bq, l.qo), l.qs,
                                   from(bk, l.ko), l.ks, from(bv, l.vo), l.vs, vkt_view_all(bo),
                                   vkt_view_all(bl)));
    TEST_OK(ctx, vkt_attention_bwd(ctx, s->B, s->T, s->H, s->KVH, s->D, scale, vkt_view_all(bdo),
                                   from(bq, l.qo), l.qs, from(bk, l.ko), l.ks, from(bv, l.vo), l.vs,
                                   vkt_view_all(bo), vkt_view_all(bl), from(bgq, l.qo),
                                   from(bgk, l.ko), from(bgv, l.vo)));

    float *ro = malloc(nout * 4), *rl = malloc(nlse * 4);
    vkt_error err = {0};
    assert_int_equal(vkt_ref_attention_fwd(s->B, s->T, s->H, s->KVH, s->D, scale, hq + l.qo, l.qs,
                                           hk + l.ko, l.ks, hv + l.vo, l.vs, ro, rl, &err),
                     VKT_OK);
    assert_int_equal(vkt_ref_attention_bwd(s->B, s->T, s->H, s->KVH, s->D, scale, dout, hq + l.qo,
                                           l.qs, hk + l.ko, l.ks, hv + l.vo, l.vs, ro, rl,
                                           gq + l.qo, gk + l.ko, gv + l.vo, &err),
                     VKT_OK);

    char label[160];
    snprintf(label, sizeof label, "attention B=%d T=%d H=%d KVH=%d D=%d %s", s->B, s->T, s->H,
             s->KVH, s->D, l.fused ? "fused" : "separate");
    float *go = test_download(ctx, bo, nout), *gl = test_download(ctx, bl, nlse);
    bool ok = test_close(label, go, ro, nout, OUT_ATOL, OUT_RTOL);
    ok &= test_close(label, gl, rl, nlse, LSE_ATOL, LSE_RTOL);
    // Gradients (fused: the whole dqkv array, padding columns included, must match).
    float *g1 = test_download(ctx, bgq, l.nq);
    ok &= test_close(label, g1, gq, l.nq, GRAD_ATOL, GRAD_RTOL);
    free(g1);
    if (!l.fused) {
        float *g2 = test_download(ctx, bgk, l.nk), *g3 = test_download(ctx, bgv, l.nv);
        ok &= test_close(label, g2, gk, l.nk, GRAD_ATOL, GRAD_RTOL);
        ok &= test_close(label, g3, gv, l.nv, GRAD_ATOL, GRAD_RTOL);
        free(g2), free(g3);
    }
    if (!ok) fail_msg("%s: GPU differs from the reference", label);

    free(go), free(gl), free(ro), free(rl), free(dout);
    vkt_buffer_destroy(ctx, bo), vkt_buffer_destroy(ctx, bl), vkt_buffer_destroy(ctx, bdo);
    vkt_buffer_destroy(ctx, bq), vkt_buffer_destroy(ctx, bgq), free(hq), free(gq);
    if (!l.fused) {
        vkt_buffer_destroy(ctx, bk), vkt_buffer_destroy(ctx, bv), vkt_buffer_destroy(ctx, bgk);
        vkt_buffer_destroy(ctx, bgv), free(hk), free(hv), free(gk), free(gv);
    }
}

static void test_shapes(void **state) {
    vkt_ctx *ctx = test_ctx();
    const int Ts[] = {1, 3, 17, 63, 129}, Ds[] = {4, 5, 6, 7, 32, 64}, KVHs[] = {4, 2, 1};
    int n = 0;
    for (int ti = 0; ti < 5; ti++)
        for (int di = 0; di < 6; di++) {
            // Cycle heads, batches and layouts so every combination of each pair appears.
            shape s = {1 + (ti + di) % 2,   Ts[ti], 4,
                       KVHs[(ti + di) % 3], Ds[di], (ti + 2 * di) % 3 - 1};
            if (s.fused_pad == 1) s.fused_pad = 3; // a row stride with padding
            check_shape(ctx, &s, 100 + (uint64_t)n++);
        }
    // GPT-2-like fused c_attn output (stride 3 H D), and Llama fused (H + 2 KVH) D.
    check_shape(ctx, &(shape){2, 40, 4, 4, 64, 0}, 7);
    check_shape(ctx, &(shape){2, 40, 4, 1, 32, 0}, 8);
    // D = 128 (Llama-size heads) and one long sequence with small H and D.
    check_shape(ctx, &(shape){1, 33, 2, 1, 128, -1}, 9);
    check_shape(ctx, &(shape){1, 1024, 2, 1, 16, 0}, 10);
    test_ctx_done(ctx);
}

// The shared-memory path (the GPU default) on this device too: on CPU devices the op
// defaults to texel fetches, VKT_ATTENTION_SHARED=1 selects the other path.
static void test_shared_path(void **state) {
    setenv("VKT_ATTENTION_SHARED", "1", 1);
    vkt_ctx *ctx = test_ctx();
    check_shape(ctx, &(shape){2, 17, 4, 2, 5, -1}, 201);
    check_shape(ctx, &(shape){1, 63, 4, 1, 64, 0}, 202);
    check_shape(ctx, &(shape){2, 129, 4, 4, 32, 3}, 203);
    check_shape(ctx, &(shape){1, 1, 4, 2, 6, 0}, 204);
    check_cached(ctx, 2, 3, 30, 40, 44, 4, 2, 8);
    test_ctx_done(ctx);
    unsetenv("VKT_ATTENTION_SHARED");
}

// Causal: changing the last key and value changes no earlier output row.
static void test_causal(void **state) {
    vkt_ctx *ctx = test_ctx();
    const int B = 2, T = 45, H = 4, KVH = 2, D = 8, C = (H + 2 * KVH) * D;
    size_t n = (size_t)B * T * C, nout = (size_t)B * T * H * D;
    float *x = malloc(n * 4);
    test_fill_uniform(x, n, 77, -2, 2);
    float *outs[2];
    for (int round = 0; round < 2; round++) {
        if (round == 1)
            for (int b = 0; b < B; b++)
                for (int c = H * D; c < C; c++) x[((size_t)b * T + T - 1) * C + c] += 1.5f;
        vkt_buffer *bx = test_upload(ctx, x, n), *bo = test_upload(ctx, NULL, nout),
                   *bl = test_upload(ctx, NULL, (size_t)B * H * T);
        TEST_OK(ctx,
                vkt_attention_fwd(ctx, B, T, H, KVH, D, 0.3f, from(bx, 0), C, from(bx, H * D), C,
                                  from(bx, (H + KVH) * D), C, vkt_view_all(bo), vkt_view_all(bl)));
        outs[round] = test_download(ctx, bo, nout);
        vkt_buffer_destroy(ctx, bx), vkt_buffer_destroy(ctx, bo), vkt_buffer_destroy(ctx, bl);
    }
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            size_t r = ((size_t)b * T + t) * H * D;
            int same = memcmp(outs[0] + r, outs[1] + r, (size_t)H * D * 4) == 0;
            assert_int_equal(same, t < T - 1); // earlier rows identical, the last one changed
        }
    free(outs[0]), free(outs[1]), free(x);
    test_ctx_done(ctx);
}

// KV-cached generation: Tq queries at positions q0.. of Tk cached keys (cache of
// kv_rows >= Tk rows) equal rows q0.. of full attention over the first Tk keys.
static void check_cached(vkt_ctx *ctx, int B, int Tq, int q0, int Tk, int kv_rows, int H, int KVH,
                         int D) {
    float scale = 1.0f / sqrtf((float)D);
    size_t nq = (size_t)B * Tk * H * D, nkv = (size_t)B * Tk * KVH * D,
           ncache = (size_t)B * kv_rows * KVH * D;
    float *q = malloc(nq * 4), *k = malloc(nkv * 4), *v = malloc(nkv * 4);
    test_fill_uniform(q, nq, 31, -2, 2), test_fill_uniform(k, nkv, 32, -2, 2),
        test_fill_uniform(v, nkv, 33, -1, 1);
    float *ro = malloc(nq * 4), *rl = malloc((size_t)B * H * Tk * 4);
    vkt_error err = {0};
    assert_int_equal(vkt_ref_attention_fwd(B, Tk, H, KVH, D, scale, q, H * D, k, KVH * D, v,
                                           KVH * D, ro, rl, &err),
                     VKT_OK);
    // GPU inputs: the Tq new query rows, and caches of kv_rows rows (the rest is garbage).
    size_t nqn = (size_t)B * Tq * H * D, row = (size_t)H * D, krow = (size_t)KVH * D;
    float *qn = malloc(nqn * 4), *kc = malloc(ncache * 4), *vc = malloc(ncache * 4);
    test_fill_uniform(kc, ncache, 34, 50, 60), test_fill_uniform(vc, ncache, 35, 50, 60);
    for (int b = 0; b < B; b++) {
        memcpy(qn + (size_t)b * Tq * row, q + ((size_t)b * Tk + q0) * row, Tq * row * 4);
        memcpy(kc + (size_t)b * kv_rows * krow, k + (size_t)b * Tk * krow, Tk * krow * 4);
        memcpy(vc + (size_t)b * kv_rows * krow, v + (size_t)b * Tk * krow, Tk * krow * 4);
    }
    vkt_buffer *bq = test_upload(ctx, qn, nqn), *bk = test_upload(ctx, kc, ncache),
               *bv = test_upload(ctx, vc, ncache);
    vkt_buffer *bo = test_upload(ctx, NULL, nqn), *bl = test_upload(ctx, NULL, (size_t)B * H * Tq);
    TEST_OK(ctx, vkt_attention_fwd_cached(ctx, B, Tq, q0, Tk, kv_rows, H, KVH, D, scale,
                                          vkt_view_all(bq), H * D, vkt_view_all(bk), KVH * D,
                                          vkt_view_all(bv), KVH * D, vkt_view_all(bo),
                                          vkt_view_all(bl)));
    float *go = test_download(ctx, bo, nqn), *gl = test_download(ctx, bl, (size_t)B * H * Tq);
    float *wo = malloc(nqn * 4), *wl = malloc((size_t)B * H * Tq * 4);
    for (int b = 0; b < B; b++) {
        memcpy(wo + (size_t)b * Tq * row, ro + ((size_t)b * Tk + q0) * row, Tq * row * 4);
        for (int h = 0; h < H; h++)
            memcpy(wl + ((size_t)b * H + h) * Tq, rl + ((size_t)b * H + h) * Tk + q0,
                   (size_t)Tq * 4);
    }
    char label[128];
    snprintf(label, sizeof label, "cached B=%d Tq=%d q0=%d Tk=%d rows=%d", B, Tq, q0, Tk, kv_rows);
    bool ok = test_close(label, go, wo, nqn, OUT_ATOL, OUT_RTOL);
    ok &= test_close(label, gl, wl, (size_t)B * H * Tq, LSE_ATOL, LSE_RTOL);
    if (!ok) fail_msg("%s differs", label);
    free(q), free(k), free(v), free(ro), free(rl), free(qn), free(kc), free(vc), free(go), free(gl),
        free(wo), free(wl);
    vkt_buffer_destroy(ctx, bq), vkt_buffer_destroy(ctx, bk), vkt_buffer_destroy(ctx, bv);
    vkt_buffer_destroy(ctx, bo), vkt_buffer_destroy(ctx, bl);
}

static void test_cached(void **state) {
    vkt_ctx *ctx = test_ctx();
    check_cached(ctx, 2, 1, 36, 37, 40, 4, 2, 8);     // one new token after 36 cached
    check_cached(ctx, 3, 1, 0, 1, 5, 4, 1, 6);        // the very first token
    check_cached(ctx, 2, 5, 10, 37, 37, 4, 4, 16);    // a chunk in the middle: later keys masked
    check_cached(ctx, 1, 1, 199, 200, 256, 2, 1, 64); // longer cache, several key blocks
    test_ctx_done(ctx);
}

// The decode path (attention_decode.comp, Tq <= 4) and the row-per-query kernel on one
// input: q rows of stride H*D + pad starting at element 1, k and v interleaved in one
// cache buffer (rows 2*KVH*D + pad, k at element pad, v after it), kv_rows = Tk + 3, so
// the views start off the vec4 grid when pad is odd (R32F texels) and on it when pad is
// a multiple of 4. VKT_ATTN_DECODE=1 / 0 forces each path; the decode path runs twice
// and must give the same bits.
static void check_decode(vkt_ctx *ctx, int B, int Tq, int q0, int H, int KVH, int D, int pad) {
    int Tk = q0 + Tq, rows = Tk + 3, qs = H * D + pad, ks = 2 * KVH * D + pad;
    float scale = 1.0f / sqrtf((float)D);
    size_t nq = (size_t)B * Tk * H * D, nkv = (size_t)B * Tk * KVH * D, nl = (size_t)B * H * Tq;
    float *q = malloc(nq * 4), *k = malloc(nkv * 4), *v = malloc(nkv * 4);
    test_fill_uniform(q, nq, 41 + D, -2, 2), test_fill_uniform(k, nkv, 42, -2, 2);
    test_fill_uniform(v, nkv, 43, -1, 1);
    float *ro = malloc(nq * 4), *rl = malloc((size_t)B * H * Tk * 4);
    vkt_error err = {0};
    assert_int_equal(vkt_ref_attention_fwd(B, Tk, H, KVH, D, scale, q, H * D, k, KVH * D, v,
                                           KVH * D, ro, rl, &err),
                     VKT_OK);
    size_t nqg = 1 + (size_t)B * Tq * qs, nc = (size_t)pad + (size_t)B * rows * ks,
           hd = (size_t)H * D;
    size_t kd = (size_t)KVH * D, no = (size_t)B * Tq * hd;
    float *qg = malloc(nqg * 4), *cg = malloc(nc * 4), *wo = malloc(no * 4), *wl = malloc(nl * 4);
    test_fill_uniform(qg, nqg, 44, 50, 60), test_fill_uniform(cg, nc, 45, 50, 60);
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < Tq; t++) {
            size_t src = ((size_t)b * Tk + q0 + t) * hd, dst = ((size_t)b * Tq + t);
            memcpy(qg + 1 + dst * qs, q + src, hd * 4);
            memcpy(wo + dst * hd, ro + src, hd * 4);
        }
        for (int j = 0; j < Tk; j++) {
            size_t src = ((size_t)b * Tk + j) * kd, dst = pad + ((size_t)b * rows + j) * ks;
            memcpy(cg + dst, k + src, kd * 4), memcpy(cg + dst + kd, v + src, kd * 4);
        }
        for (int h = 0; h < H; h++)
            memcpy(wl + ((size_t)b * H + h) * Tq, rl + ((size_t)b * H + h) * Tk + q0,
                   (size_t)Tq * 4);
    }
    vkt_buffer *bq = test_upload(ctx, qg, nqg), *bc = test_upload(ctx, cg, nc);
    float *got[3][2];
    // The old kernel only up to D = 64: its pipelines for wider heads take minutes to
    // compile on lavapipe with an empty cache (it is covered by the tests above).
    const char *mode[3] = {"1", "1", "0"};
    int runs = D <= 64 ? 3 : 2;
    for (int r = 0; r < runs; r++) {
        vkt_buffer *bo = test_upload(ctx, NULL, no), *bl = test_upload(ctx, NULL, nl);
        setenv("VKT_ATTN_DECODE", mode[r], 1);
        TEST_OK(ctx, vkt_attention_fwd_cached(
                         ctx, B, Tq, q0, Tk, rows, H, KVH, D, scale, from(bq, 1), qs, from(bc, pad),
                         ks, from(bc, pad + kd), ks, vkt_view_all(bo), vkt_view_all(bl)));
        unsetenv("VKT_ATTN_DECODE");
        got[r][0] = test_download(ctx, bo, no), got[r][1] = test_download(ctx, bl, nl);
        vkt_buffer_destroy(ctx, bo), vkt_buffer_destroy(ctx, bl);
    }
    char label[160];
    snprintf(label, sizeof label, "decode B=%d Tq=%d q0=%d H=%d KVH=%d D=%d pad=%d", B, Tq, q0, H,
             KVH, D, pad);
    bool ok = true;
    for (int r = 1; r < runs; r++) {
        ok &= test_close(label, got[r][0], wo, no, OUT_ATOL, OUT_RTOL);
        ok &= test_close(label, got[r][1], wl, nl, LSE_ATOL, LSE_RTOL);
    }
    if (!ok) fail_msg("%s differs", label);
    assert_memory_equal(got[0][0], got[1][0], no * 4);
    assert_memory_equal(got[0][1], got[1][1], nl * 4);
    for (int r = 0; r < runs; r++) free(got[r][0]), free(got[r][1]);
    free(q), free(k), free(v), free(ro), free(rl), free(qg), free(cg), free(wo), free(wl);
    vkt_buffer_destroy(ctx, bq), vkt_buffer_destroy(ctx, bc);
}

// Awkward decode shapes: Tk = q0 + Tq in 1, 2, 7, 129, 1000; D 2 .. 256; GQA 1/1, 4/2, 16/8.
static void decode_cases(vkt_ctx *ctx) {
    check_decode(ctx, 1, 1, 0, 1, 1, 2, 1);      // Tk = 1: the very first token
    check_decode(ctx, 3, 2, 0, 4, 2, 6, 3);      // Tk = 2, both queries new
    check_decode(ctx, 3, 1, 1, 16, 8, 64, 0);    // Tk = 2
    check_decode(ctx, 1, 4, 3, 4, 2, 6, 1);      // Tk = 7: later keys masked per query
    check_decode(ctx, 3, 3, 4, 1, 1, 128, 4);    // Tk = 7
    check_decode(ctx, 1, 1, 128, 16, 8, 128, 0); // Tk = 129
    check_decode(ctx, 3, 4, 125, 4, 2, 2, 5);    // Tk = 129
    check_decode(ctx, 1, 2, 127, 4, 2, 256, 4);  // Tk = 129, the largest head
    check_decode(ctx, 1, 1, 999, 4, 2, 64, 0);   // Tk = 1000
    check_decode(ctx, 3, 3, 997, 1, 1, 6, 1);    // Tk = 1000
}

static void test_decode(void **state) {
    vkt_ctx *ctx = test_ctx();
    decode_cases(ctx);
    test_ctx_done(ctx);
}

// The decode path's storage-buffer form (GPUs; VKT_ATTENTION_SHARED=1 on CPU devices), and
// bindings of 4 KiB (a few sequences per dispatch).
static void test_decode_shared_split(void **state) {
    setenv("VKT_ATTENTION_SHARED", "1", 1);
    vkt_ctx *ctx = test_ctx();
    unsetenv("VKT_ATTENTION_SHARED");
    check_decode(ctx, 3, 4, 3, 4, 2, 6, 1);
    check_decode(ctx, 1, 1, 128, 16, 8, 64, 0);
    check_decode(ctx, 3, 3, 997, 1, 1, 6, 1);
    test_ctx_done(ctx);
    setenv("VKT_MAX_BINDING_BYTES", "4096", 1);
    ctx = test_ctx();
    unsetenv("VKT_MAX_BINDING_BYTES");
    check_decode(ctx, 7, 2, 5, 2, 1, 8, 1); // q 144 bytes, cache 896 bytes per sequence
    test_ctx_done(ctx);
}

// The backward is deterministic: two runs give the same bits.
static void check_deterministic(vkt_ctx *ctx) {
    const int B = 1, T = 70, H = 4, KVH = 1, D = 16;
    size_t nq = (size_t)B * T * H * D, nk = (size_t)B * T * KVH * D;
    float *x = malloc(nq * 4);
    test_fill_uniform(x, nq, 5, -2, 2);
    vkt_buffer *q = test_upload(ctx, x, nq), *k = test_upload(ctx, x, nk),
               *v = test_upload(ctx, x + 7, nk);
    vkt_buffer *o = test_upload(ctx, NULL, nq), *l = test_upload(ctx, NULL, (size_t)B * H * T),
               *d = test_upload(ctx, x, nq);
    TEST_OK(ctx,
            vkt_attention_fwd(ctx, B, T, H, KVH, D, 0.25f, vkt_view_all(q), H * D, vkt_view_all(k),
                              KVH * D, vkt_view_all(v), KVH * D, vkt_view_all(o), vkt_view_all(l)));
    float *runs[2][3];
    for (int r = 0; r < 2; r++) {
        vkt_buffer *dq = test_upload(ctx, NULL, nq), *dk = test_upload(ctx, NULL, nk),
                   *dv = test_upload(ctx, NULL, nk);
        TEST_OK(ctx, vkt_attention_bwd(ctx, B, T, H, KVH, D, 0.25f, vkt_view_all(d),
                                       vkt_view_all(q), H * D, vkt_view_all(k), KVH * D,
                                       vkt_view_all(v), KVH * D, vkt_view_all(o), vkt_view_all(l),
                                       vkt_view_all(dq), vkt_view_all(dk), vkt_view_all(dv)));
        runs[r][0] = test_download(ctx, dq, nq), runs[r][1] = test_download(ctx, dk, nk);
        runs[r][2] = test_download(ctx, dv, nk);
        vkt_buffer_destroy(ctx, dq), vkt_buffer_destroy(ctx, dk), vkt_buffer_destroy(ctx, dv);
    }
    assert_memory_equal(runs[0][0], runs[1][0], nq * 4);
    assert_memory_equal(runs[0][1], runs[1][1], nk * 4);
    assert_memory_equal(runs[0][2], runs[1][2], nk * 4);
    for (int r = 0; r < 2; r++) free(runs[r][0]), free(runs[r][1]), free(runs[r][2]);
    free(x);
    vkt_buffer_destroy(ctx, q), vkt_buffer_destroy(ctx, k), vkt_buffer_destroy(ctx, v);
    vkt_buffer_destroy(ctx, o), vkt_buffer_destroy(ctx, l), vkt_buffer_destroy(ctx, d);
}

static void test_deterministic(void **state) {
    vkt_ctx *ctx = test_ctx();
    check_deterministic(ctx);
    test_ctx_done(ctx);
}

// Bindings limited to 4 KiB: the ops process a few batches per dispatch.
static void test_binding_split(void **state) {
    setenv("VKT_MAX_BINDING_BYTES", "4096", 1);
    vkt_ctx *ctx = test_ctx();
    unsetenv("VKT_MAX_BINDING_BYTES");
    assert_true(vkt_ctx_profile(ctx)->max_binding_bytes == 4096);
    check_shape(ctx, &(shape){7, 9, 2, 1, 8, 0}, 61);   // fused rows: 1152 bytes per batch
    check_shape(ctx, &(shape){5, 13, 2, 2, 6, -1}, 62); // separate: 624 bytes per batch of q
    // One batch larger than a binding: refused with a message, not silently wrong.
    vkt_buffer *b = test_upload(ctx, NULL, 4096);
    vkt_view all = vkt_view_all(b);
    assert_int_equal(
        vkt_attention_fwd(ctx, 1, 64, 4, 4, 8, 1.0f, all, 32, all, 32, all, 32, all, all),
        VKT_ERR_UNSUPPORTED);
    vkt_buffer_destroy(ctx, b);
    test_ctx_done(ctx);
}

// The GPU family's shapes: D not a multiple of 4 nor of the lanes (5, 6, 12, 20), lanes
// 4, 8 and 16 (D 32, 64, 128), T not a multiple of a block, GQA 4/4, 4/2, 4/1, fused
// rows with and without padding (k, v, dk, dv views at nonzero offsets), the cached
// forward past the decode path (Tq > 4), determinism.
static void gpu_cases(vkt_ctx *ctx, uint64_t seed) {
    const int Ts[] = {1, 3, 17, 70}, Ds[] = {5, 6, 12, 20, 32, 64}, KVHs[] = {4, 2, 1};
    int n = 0;
    for (int ti = 0; ti < 4; ti++)
        for (int di = 0; di < 6; di++) {
            shape s = {1 + (ti + di) % 2,   Ts[ti], 4,
                       KVHs[(ti + di) % 3], Ds[di], (ti + 2 * di) % 3 - 1};
            if (s.fused_pad == 1) s.fused_pad = 3;
            check_shape(ctx, &s, seed + (uint64_t)n++);
        }
    check_shape(ctx, &(shape){1, 33, 2, 1, 128, 3}, seed + 50);
    check_shape(ctx, &(shape){1, 200, 2, 1, 16, 0}, seed + 51);
    check_cached(ctx, 2, 5, 10, 37, 40, 4, 2, 16);
    check_cached(ctx, 1, 9, 60, 69, 72, 4, 4, 6);
    check_deterministic(ctx);
}

// Sets VKT_ATTENTION=gpu (and `extra`=1) for the next contexts; restores them after.
static void gpu_env(const char *extra, char **saved) {
    const char *v = getenv("VKT_ATTENTION");
    *saved = v ? strdup(v) : NULL;
    setenv("VKT_ATTENTION", "gpu", 1);
    if (extra) setenv(extra, "1", 1);
}
static void gpu_env_done(const char *extra, char *saved) {
    if (saved)
        setenv("VKT_ATTENTION", saved, 1);
    else
        unsetenv("VKT_ATTENTION");
    if (extra) unsetenv(extra);
    free(saved);
}

// The GPU family on this device: lanes reduced by subgroup shuffles where it has them.
static void test_gpu_path(void **state) {
    char *saved;
    gpu_env(NULL, &saved);
    vkt_ctx *ctx = test_ctx();
    assert_int_equal(vkt_ctx_profile(ctx)->attention_path, VKT_ATTENTION_GPU);
    gpu_cases(ctx, 300);
    test_ctx_done(ctx);
    gpu_env_done(NULL, saved);
}

// The GPU family with lanes reduced through shared memory (VKT_DISABLE_SUBGROUP=1), and
// bindings of 4 KiB (a few batches per dispatch).
static void test_gpu_path_shared_reduce(void **state) {
    char *saved;
    gpu_env("VKT_DISABLE_SUBGROUP", &saved);
    vkt_ctx *ctx = test_ctx();
    assert_false(vkt_ctx_profile(ctx)->attention_subgroup);
    gpu_cases(ctx, 400);
    test_ctx_done(ctx);
    gpu_env_done("VKT_DISABLE_SUBGROUP", saved);
    gpu_env("VKT_MAX_BINDING_BYTES", &saved);
    setenv("VKT_MAX_BINDING_BYTES", "4096", 1);
    ctx = test_ctx();
    check_shape(ctx, &(shape){7, 9, 2, 1, 8, 0}, 461);
    check_shape(ctx, &(shape){5, 13, 2, 2, 6, -1}, 462);
    test_ctx_done(ctx);
    gpu_env_done("VKT_MAX_BINDING_BYTES", saved);
}

// The _on_path entry points: both families on one context give the same answer.
static void test_on_path(void **state) {
    vkt_ctx *ctx = test_ctx();
    const int B = 2, T = 21, H = 4, KVH = 2, D = 12;
    size_t nq = (size_t)B * T * H * D, nk = (size_t)B * T * KVH * D, nl = (size_t)B * H * T;
    float *x = malloc(nq * 4);
    test_fill_uniform(x, nq, 9, -2, 2);
    vkt_buffer *q = test_upload(ctx, x, nq), *k = test_upload(ctx, x + 3, nk),
               *v = test_upload(ctx, x + 5, nk);
    float *got[2][5];
    for (int path = 0; path < 2; path++) {
        vkt_attention_path ap = path ? VKT_ATTENTION_GPU : VKT_ATTENTION_ROW;
        vkt_buffer *o = test_upload(ctx, NULL, nq), *l = test_upload(ctx, NULL, nl),
                   *dq = test_upload(ctx, NULL, nq), *dk = test_upload(ctx, NULL, nk),
                   *dv = test_upload(ctx, NULL, nk);
        TEST_OK(ctx, vkt_attention_fwd_on_path(ctx, ap, B, T, H, KVH, D, 0.3f, vkt_view_all(q),
                                               H * D, vkt_view_all(k), KVH * D, vkt_view_all(v),
                                               KVH * D, vkt_view_all(o), vkt_view_all(l)));
        TEST_OK(ctx, vkt_attention_bwd_on_path(
                         ctx, ap, B, T, H, KVH, D, 0.3f, vkt_view_all(q), vkt_view_all(q), H * D,
                         vkt_view_all(k), KVH * D, vkt_view_all(v), KVH * D, vkt_view_all(o),
                         vkt_view_all(l), vkt_view_all(dq), vkt_view_all(dk), vkt_view_all(dv)));
        got[path][0] = test_download(ctx, o, nq), got[path][1] = test_download(ctx, l, nl);
        got[path][2] = test_download(ctx, dq, nq), got[path][3] = test_download(ctx, dk, nk);
        got[path][4] = test_download(ctx, dv, nk);
        vkt_buffer_destroy(ctx, o), vkt_buffer_destroy(ctx, l), vkt_buffer_destroy(ctx, dq);
        vkt_buffer_destroy(ctx, dk), vkt_buffer_destroy(ctx, dv);
    }
    const size_t ns[5] = {nq, nl, nq, nk, nk};
    bool ok = true;
    for (int i = 0; i < 5; i++)
        ok &= test_close("row vs gpu", got[1][i], got[0][i], ns[i], i < 2 ? OUT_ATOL : GRAD_ATOL,
                         i < 2 ? OUT_RTOL : GRAD_RTOL);
    if (!ok) fail_msg("the row and gpu families differ");
    for (int p = 0; p < 2; p++)
        for (int i = 0; i < 5; i++) free(got[p][i]);
    free(x);
    vkt_buffer_destroy(ctx, q), vkt_buffer_destroy(ctx, k), vkt_buffer_destroy(ctx, v);
    test_ctx_done(ctx);
}

// Bad calls return an error naming the op and write nothing.
static void test_bad_calls(void **state) {
    vkt_ctx *ctx = test_ctx();
    const int B = 1, T = 8, H = 4, D = 8;
    size_t n = (size_t)B * T * H * D;
    float *sentinel = malloc(n * 4);
    for (size_t i = 0; i < n; i++) sentinel[i] = 123.0f;
    vkt_buffer *x = test_upload(ctx, sentinel, n), *o = test_upload(ctx, sentinel, n),
               *l = test_upload(ctx, sentinel, n);
    vkt_view X = vkt_view_all(x), O = vkt_view_all(o), L = vkt_view_all(l);
    vkt_view small = vkt_view_f32(X, 0, n - 1);
    vkt_view none = {0};
    // KVH = 3 does not divide H = 4.
    assert_int_equal(vkt_attention_fwd(ctx, B, T, H, 3, D, 1, X, H * D, X, 3 * D, X, 3 * D, O, L),
                     VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "attention"));
    assert_int_equal(vkt_attention_fwd(ctx, B, 0, H, H, D, 1, X, H * D, X, H * D, X, H * D, O, L),
                     VKT_ERR_ARG);
    assert_int_equal(
        vkt_attention_fwd(ctx, B, T, H, H, D, 1, X, H * D - 1, X, H * D, X, H * D, O, L),
        VKT_ERR_ARG);
    assert_int_equal(vkt_attention_fwd(ctx, B, T, H, H, D, NAN, X, H * D, X, H * D, X, H * D, O, L),
                     VKT_ERR_ARG);
    assert_int_equal(
        vkt_attention_fwd(ctx, B, T, H, H, D, 1, small, H * D, X, H * D, X, H * D, O, L),
        VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "q view"));
    assert_int_equal(
        vkt_attention_fwd(ctx, B, T, H, H, D, 1, X, H * D, X, H * D, X, H * D, none, L),
        VKT_ERR_ARG);
    assert_int_equal(vkt_attention_fwd(ctx, 1, 1, 1, 1, 1000, 1, X, 1000, X, 1000, X, 1000, O, L),
                     VKT_ERR_UNSUPPORTED);
    assert_int_equal(vkt_attention_fwd_cached(ctx, B, 2, 7, T, T, H, H, D, 1, X, H * D, X, H * D, X,
                                              H * D, O, L),
                     VKT_ERR_ARG); // q0 + Tq > Tk
    assert_int_equal(vkt_attention_fwd_cached(ctx, B, 1, 0, T, T - 1, H, H, D, 1, X, H * D, X,
                                              H * D, X, H * D, O, L),
                     VKT_ERR_ARG); // kv_rows < Tk
    assert_int_equal(
        vkt_attention_bwd(ctx, B, T, H, 3, D, 1, X, X, H * D, X, 3 * D, X, 3 * D, X, X, O, O, O),
        VKT_ERR_ARG);
    assert_int_equal(vkt_attention_bwd(ctx, B, T, H, H, D, 1, X, X, H * D, X, H * D, X, H * D, X, X,
                                       O, small, O),
                     VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "dk view"));
    float *go = test_download(ctx, o, n), *gl = test_download(ctx, l, n);
    assert_memory_equal(go, sentinel, n * 4);
    assert_memory_equal(gl, sentinel, n * 4);
    free(go), free(gl), free(sentinel);
    vkt_buffer_destroy(ctx, x), vkt_buffer_destroy(ctx, o), vkt_buffer_destroy(ctx, l);
    test_ctx_done(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_shared_path),
        cmocka_unit_test(test_causal),
        cmocka_unit_test(test_cached),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_decode_shared_split),
        cmocka_unit_test(test_binding_split),
        cmocka_unit_test(test_bad_calls),
        cmocka_unit_test(test_gpu_path),
        cmocka_unit_test(test_gpu_path_shared_reduce),
        cmocka_unit_test(test_on_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
