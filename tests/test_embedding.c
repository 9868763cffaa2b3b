// test_embedding.c: token + position embedding forward and its deterministic backward
// against the C reference: awkward shapes, with and without a position table, many
// hits on one row, bindings forced small (tables, ids and gradients in ranges), a real
// GPT-2-sized table (50257 x 768, over lavapipe's 128 MiB binding), and bad calls.
// Tolerance: 0 everywhere. The forward is one float add per element (as the
// reference), and the backward adds each row's gradients in the reference's order
// (increasing i), so both are bit-identical to vkt_ref_embedding_fwd / _bwd.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "half.h"
#include "op_embedding.h"
#include "reference.h"
#include "support_gpu.h"

// tok: ids in [0, V) with a skew toward row `hot` (about half the tokens), so some rows
// get many hits; pos: i % T offset by 3.
static void make_ids(int N, int V, int T, uint64_t seed, int32_t *tok, int32_t *pos) {
    float *r = malloc((size_t)N * 2 * 4);
    test_fill_uniform(r, (uint64_t)N * 2, seed, 0, 1);
    int hot = V / 3;
    for (int i = 0; i < N; i++) {
        tok[i] = r[2 * i] < 0.5f ? hot : (int32_t)(r[2 * i + 1] * (float)V);
        if (tok[i] >= V) tok[i] = V - 1;
        pos[i] = (i + 3) % T;
    }
    free(r);
}

static void check_embedding(vkt_ctx *ctx, int N, int C, int V, int T, bool with_pos,
                            uint64_t seed) {
    int32_t *tok = malloc((size_t)N * 4), *pos = malloc((size_t)N * 4);
    make_ids(N, V, T, seed, tok, pos);
    uint64_t vc = (uint64_t)V * C, tc = (uint64_t)T * C, nc = (uint64_t)N * C;
    float *wte = malloc(vc * 4), *wpe = malloc(tc * 4), *out = malloc(nc * 4),
          *dout = malloc(nc * 4);
    float *dwte = malloc(vc * 4), *dwpe = malloc(tc * 4);
    test_fill_uniform(wte, vc, seed + 1, -1, 1);
    test_fill_uniform(wpe, tc, seed + 2, -1, 1);
    test_fill_uniform(dout, nc, seed + 3, -1, 1);
    test_fill_uniform(dwte, vc, seed + 4, -1, 1); // the backward accumulates
    test_fill_uniform(dwpe, tc, seed + 5, -1, 1);
    vkt_buffer *bwte = test_upload(ctx, wte, vc), *bwpe = test_upload(ctx, wpe, tc);
    vkt_buffer *bout = test_upload(ctx, NULL, nc + 1), *bdout = test_upload(ctx, dout, nc);
    vkt_buffer *bdwte = test_upload(ctx, dwte, vc), *bdwpe = test_upload(ctx, dwpe, tc);
    vkt_buffer *bids = NULL;
    uint64_t idb = vkt_embedding_ids_bytes(N, with_pos);
    TEST_OK(ctx, vkt_buffer_create(ctx, idb + 12, &bids));
    vkt_embedding_ids ids;
    TEST_OK(ctx, vkt_embedding_ids_upload(ctx, N, V, T, tok, with_pos ? pos : NULL,
                                          (vkt_view){bids, 12, idb}, &ids));
    vkt_view none = {0};
    vkt_view vout = vkt_view_f32(vkt_view_all(bout), 1, nc); // unaligned
    TEST_OK(ctx, vkt_embedding_fwd(ctx, &ids, C, vkt_view_all(bwte),
                                   with_pos ? vkt_view_all(bwpe) : none, vout));
    vkt_error err = {0};
    assert_int_equal(
        vkt_ref_embedding_fwd(N, C, V, T, tok, pos, wte, with_pos ? wpe : NULL, out, &err), VKT_OK);
    float *got = test_download(ctx, bout, nc + 1);
    char label[128];
    snprintf(label, sizeof label, "embedding_fwd N=%d C=%d V=%d T=%d pos=%d", N, C, V, T, with_pos);
    assert_true(got[0] == 0.0f);
    assert_true(test_close(label, got + 1, out, nc, 0, 0));
    free(got);

    // Backward twice from the same start: bit-identical to each other and the reference.
    float *first_te = NULL, *first_pe = NULL;
    for (int rep = 0; rep < 2; rep++) {
        TEST_OK(ctx, vkt_upload(ctx, vkt_view_all(bdwte), dwte, vc * 4));
        TEST_OK(ctx, vkt_upload(ctx, vkt_view_all(bdwpe), dwpe, tc * 4));
        TEST_OK(ctx, vkt_embedding_bwd(ctx, &ids, C, vkt_view_all(bdout), vkt_view_all(bdwte),
                                       with_pos ? vkt_view_all(bdwpe) : none));
        float *te = test_download(ctx, bdwte, vc), *pe = test_download(ctx, bdwpe, tc);
        if (rep == 0)
            first_te = te, first_pe = pe;
        else {
            assert_memory_equal(te, first_te, vc * 4);
            assert_memory_equal(pe, first_pe, tc * 4);
            free(te), free(pe);
        }
    }
    assert_int_equal(
        vkt_ref_embedding_bwd(N, C, V, T, tok, pos, dout, dwte, with_pos ? dwpe : NULL, &err),
        VKT_OK);
    snprintf(label, sizeof label, "embedding_bwd dwte N=%d C=%d V=%d T=%d pos=%d", N, C, V, T,
             with_pos);
    assert_true(test_close(label, first_te, dwte, vc, 0, 0));
    snprintf(label, sizeof label, "embedding_bwd dwpe N=%d C=%d V=%d T=%d pos=%d", N, C, V, T,
             with_pos);
    assert_true(test_close(label, first_pe, dwpe, tc, 0, 0)); // unchanged when !with_pos
    free(first_te), free(first_pe);
    vkt_buffer *all[] = {bwte, bwpe, bout, bdout, bdwte, bdwpe, bids};
    for (int i = 0; i < 7; i++) vkt_buffer_destroy(ctx, all[i]);
    free(tok), free(pos), free(wte), free(wpe), free(out), free(dout), free(dwte), free(dwpe);
}

// The 16-bit table (bf16 or fp16): the rows widened exactly, so the output equals the
// reference lookup in the widened table bit for bit; a table at a nonzero word offset.
static void check_embedding16(vkt_ctx *ctx, int w16, int N, int C, int V, uint64_t seed) {
    vkt_dtype16 dt = w16 == 1 ? VKT_BF16 : VKT_F16;
    int32_t *tok = malloc((size_t)N * 4), *pos = malloc((size_t)N * 4);
    make_ids(N, V, 1, seed, tok, pos);
    uint64_t vc = (uint64_t)V * C, nc = (uint64_t)N * C;
    float *wte = malloc(vc * 4), *out = malloc(nc * 4);
    uint16_t *h = calloc(vc + 4, 2);
    test_fill_uniform(wte, vc, seed + 1, -8, 8);
    for (uint64_t i = 0; i < vc; i++)
        h[i + 2] = vkt_f32_to_half(dt, wte[i]), wte[i] = vkt_half_to_f32(dt, h[i + 2]);
    vkt_buffer *bw = NULL, *bids = NULL;
    TEST_OK(ctx, vkt_buffer_create(ctx, (vc + 4) * 2, &bw));
    TEST_OK(ctx, vkt_upload(ctx, vkt_view_all(bw), h, (vc + 4) * 2));
    vkt_buffer *bout = test_upload(ctx, NULL, nc + 1);
    uint64_t idb = vkt_embedding_ids_bytes(N, false);
    TEST_OK(ctx, vkt_buffer_create(ctx, idb, &bids));
    vkt_embedding_ids ids;
    TEST_OK(ctx, vkt_embedding_ids_upload(ctx, N, V, 1, tok, NULL, vkt_view_all(bids), &ids));
    vkt_view tab = {bw, 4, vc * 2}; // two values in: an aligned word offset
    TEST_OK(ctx,
            vkt_embedding_fwd16(ctx, &ids, C, w16, tab, vkt_view_f32(vkt_view_all(bout), 1, nc)));
    vkt_error err = {0};
    assert_int_equal(vkt_ref_embedding_fwd(N, C, V, 1, tok, pos, wte, NULL, out, &err), VKT_OK);
    float *got = test_download(ctx, bout, nc + 1);
    for (uint64_t i = 0; i < nc; i++)
        if (got[i + 1] != out[i])
            fail_msg("w16=%d N=%d C=%d: out[%llu] %g vs %g", w16, N, C, (unsigned long long)i,
                     got[i + 1], out[i]);
    // An odd C or a misaligned table is refused.
    assert_int_equal(vkt_embedding_fwd16(ctx, &ids, C + 1, w16, tab, vkt_view_all(bout)),
                     VKT_ERR_ARG);
    assert_int_equal(
        vkt_embedding_fwd16(ctx, &ids, C, w16, (vkt_view){bw, 2, vc * 2}, vkt_view_all(bout)),
        VKT_ERR_ARG);
    free(got), free(tok), free(pos), free(wte), free(out), free(h);
    vkt_buffer_destroy(ctx, bw), vkt_buffer_destroy(ctx, bids), vkt_buffer_destroy(ctx, bout);
}

static void test_embedding16(void **state) {
    vkt_ctx *ctx = test_ctx();
    const int cs[] = {2, 6, 64, 258};
    for (int w16 = 1; w16 <= 2; w16++)
        for (int i = 0; i < 4; i++)
            check_embedding16(ctx, w16, i == 3 ? 129 : 17, cs[i], 1000, 7 + i);
    setenv("VKT_MAX_BINDING_BYTES", "4096", 1); // the table in row ranges
    vkt_ctx *small = test_ctx();
    check_embedding16(small, 1, 129, 66, 700, 3);
    test_ctx_done(small);
    unsetenv("VKT_MAX_BINDING_BYTES");
    test_ctx_done(ctx);
}

static const int NS[] = {1, 3, 17, 129};
static const int CS[] = {1, 3, 17, 63, 257, 4099};

static void test_embedding_shapes(void **state) {
    vkt_ctx *ctx = test_ctx();
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 6; j++)
            check_embedding(ctx, NS[i], CS[j], 53, 37, (i + j) % 2 == 0, 10 * i + j);
    check_embedding(ctx, 129, 4099, 53, 37, true, 99);
    check_embedding(ctx, 129, 4099, 53, 37, false, 98);
    test_ctx_done(ctx);
}

// Many hits on few rows: 4000 tokens over a 3-row vocabulary, 2000 of them on one row.
static void test_embedding_repeats(void **state) {
    vkt_ctx *ctx = test_ctx();
    check_embedding(ctx, 4000, 65, 3, 1, true, 7);
    check_embedding(ctx, 4000, 65, 1, 5, false, 8);
    test_ctx_done(ctx);
}

static void test_embedding_binding_split(void **state) {
    setenv("VKT_MAX_BINDING_BYTES", "4096", 1);
    vkt_ctx *ctx = test_ctx();
    assert_true(vkt_ctx_profile(ctx)->max_binding_bytes == 4096);
    check_embedding(ctx, 129, 17, 1000, 300, true, 1);
    check_embedding(ctx, 300, 63, 257, 129, true, 2);
    check_embedding(ctx, 17, 257, 100, 40, false, 3);
    test_ctx_done(ctx);
    unsetenv("VKT_MAX_BINDING_BYTES");
}

// GPT-2's token table: 50257 x 768 floats = 154 MB, over lavapipe's 128 MiB binding.
static void test_embedding_gpt2_table(void **state) {
    vkt_ctx *ctx = test_ctx();
    check_embedding(ctx, 256, 768, 50257, 1024, true, 5);
    test_ctx_done(ctx);
}

static void test_embedding_bad_calls(void **state) {
    vkt_ctx *ctx = test_ctx();
    const int N = 4, C = 8, V = 10, T = 6;
    int32_t tok[4] = {1, 2, 9, 0}, pos[4] = {0, 1, 2, 5};
    float h[80];
    test_fill_uniform(h, 80, 3, -1, 1);
    vkt_buffer *wte = test_upload(ctx, h, 80), *wpe = test_upload(ctx, h, 48),
               *out = test_upload(ctx, h, 32);
    uint64_t idb = vkt_embedding_ids_bytes(N, true);
    vkt_buffer *bids = test_upload(ctx, NULL, idb / 4);
    vkt_view I = vkt_view_all(bids), none = {0};
    vkt_embedding_ids ids, keep;
    memset(&keep, 0x5a, sizeof keep);
    ids = keep;
    int32_t bad[4] = {1, 10, 2, 3}, neg[4] = {1, -1, 2, 3}, badpos[4] = {0, 1, 6, 2};
    assert_int_equal(vkt_embedding_ids_upload(ctx, N, V, T, bad, pos, I, &ids), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "tok[1]=10"));
    assert_int_equal(vkt_embedding_ids_upload(ctx, N, V, T, neg, pos, I, &ids), VKT_ERR_ARG);
    assert_int_equal(vkt_embedding_ids_upload(ctx, N, V, T, tok, badpos, I, &ids), VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "pos[2]=6"));
    assert_int_equal(vkt_embedding_ids_upload(ctx, 0, V, T, tok, pos, I, &ids), VKT_ERR_ARG);
    assert_int_equal(vkt_embedding_ids_upload(ctx, N, 0, T, tok, pos, I, &ids), VKT_ERR_ARG);
    assert_int_equal(
        vkt_embedding_ids_upload(ctx, N, V, T, tok, pos, vkt_view_f32(I, 0, idb / 4 - 1), &ids),
        VKT_ERR_ARG);
    assert_int_equal(vkt_embedding_ids_upload(ctx, N, V, T, NULL, pos, I, &ids), VKT_ERR_ARG);
    assert_memory_equal(&ids, &keep, sizeof ids);
    float *g = test_download(ctx, bids, idb / 4);
    for (uint64_t i = 0; i < idb / 4; i++) assert_true(g[i] == 0.0f);
    free(g);

    vkt_embedding_ids noids;
    TEST_OK(ctx, vkt_embedding_ids_upload(ctx, N, V, T, tok, NULL, I, &noids));
    TEST_OK(ctx, vkt_embedding_ids_upload(ctx, N, V, T, tok, pos, I, &ids));
    vkt_view WTE = vkt_view_all(wte), WPE = vkt_view_all(wpe), OUT = vkt_view_all(out);
    assert_int_equal(vkt_embedding_fwd(ctx, &ids, C, vkt_view_f32(WTE, 0, 79), WPE, OUT),
                     VKT_ERR_ARG);
    assert_non_null(strstr(vkt_ctx_message(ctx), "wte"));
    assert_int_equal(vkt_embedding_fwd(ctx, &ids, C, WTE, vkt_view_f32(WPE, 0, 47), OUT),
                     VKT_ERR_ARG);
    assert_int_equal(vkt_embedding_fwd(ctx, &ids, C, WTE, WPE, vkt_view_f32(OUT, 1, 31)),
                     VKT_ERR_ARG);
    assert_int_equal(vkt_embedding_fwd(ctx, &ids, 0, WTE, WPE, OUT), VKT_ERR_ARG);
    assert_int_equal(vkt_embedding_fwd(ctx, NULL, C, WTE, WPE, OUT), VKT_ERR_ARG);
    assert_int_equal(vkt_embedding_fwd(ctx, &noids, C, WTE, WPE, OUT),
                     VKT_ERR_ARG); // wpe without positions
    assert_non_null(strstr(vkt_ctx_message(ctx), "without positions"));
    assert_int_equal(vkt_embedding_fwd(ctx, &ids, C, none, WPE, OUT), VKT_ERR_ARG);
    assert_int_equal(vkt_embedding_bwd(ctx, &ids, C, vkt_view_f32(OUT, 0, 31), WTE, WPE),
                     VKT_ERR_ARG);
    assert_int_equal(vkt_embedding_bwd(ctx, &ids, C, OUT, vkt_view_f32(WTE, 0, 79), WPE),
                     VKT_ERR_ARG);
    assert_int_equal(vkt_embedding_bwd(ctx, &noids, C, OUT, WTE, WPE), VKT_ERR_ARG);
    vkt_buffer *bufs[] = {wte, wpe, out};
    uint64_t ns[] = {80, 48, 32};
    for (int i = 0; i < 3; i++) {
        g = test_download(ctx, bufs[i], ns[i]);
        assert_memory_equal(g, h, ns[i] * 4);
        free(g);
    }
    // The good calls work (and wpe is optional).
    TEST_OK(ctx, vkt_embedding_fwd(ctx, &noids, C, WTE, none, OUT));
    TEST_OK(ctx, vkt_embedding_fwd(ctx, &ids, C, WTE, none, OUT));
    vkt_buffer_destroy(ctx, wte), vkt_buffer_destroy(ctx, wpe), vkt_buffer_destroy(ctx, out),
        vkt_buffer_destroy(ctx, bids);
    test_ctx_done(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embedding_shapes),        cmocka_unit_test(test_embedding_repeats),
        cmocka_unit_test(test_embedding_binding_split), cmocka_unit_test(test_embedding_gpt2_table),
        cmocka_unit_test(test_embedding_bad_calls),     cmocka_unit_test(test_embedding16),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
