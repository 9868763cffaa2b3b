// test_reference_errors.c: every validated bad input returns VKT_ERR_ARG with a message
// that names the op and the input, and writes nothing (outputs keep a sentinel value).
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "reference.h"
#include "shape_check.h"

#define SENT 12345.0f
#define NBUF 256

// Inputs (plausible values) and outputs (sentinels), large enough for every call here.
static float in1[NBUF], in2[NBUF], in3[NBUF], out1[NBUF], out2[NBUF], out3[NBUF];

static void reset(void) {
    for (int i = 0; i < NBUF; i++) {
        in1[i] = 0.01f * i, in2[i] = 1.0f - 0.003f * i, in3[i] = 0.5f;
        out1[i] = out2[i] = out3[i] = SENT;
    }
}

static void untouched(void) {
    for (int i = 0; i < NBUF; i++) {
        if (out1[i] != SENT || out2[i] != SENT || out3[i] != SENT) {
            print_error("an output was written at %d despite the error\n", i);
            fail();
        }
    }
}

// The call failed with VKT_ERR_ARG, its message contains both words, nothing was written.
static void bad(vkt_status s, const vkt_error *e, const char *op, const char *word) {
    assert_int_equal(s, VKT_ERR_ARG);
    assert_int_equal(e->status, VKT_ERR_ARG);
    if (!strstr(e->msg, op) || !strstr(e->msg, word)) {
        print_error("message \"%s\" should name \"%s\" and \"%s\"\n", e->msg, op, word);
        fail();
    }
    untouched();
}

static void test_matmul_errors(void **state) {
    (void)state;
    vkt_error e;
    reset();
    bad(vkt_ref_matmul(false, false, 0, 2, 2, 1, in1, in2, 0, out1, NULL, &e), &e, "matmul", "M=0");
    bad(vkt_ref_matmul(true, false, 2, -1, 2, 1, in1, in2, 0, out1, NULL, &e), &e, "matmul",
        "N=-1");
    bad(vkt_ref_matmul(false, true, 2, 2, 0, 1, in1, in2, 0, out1, NULL, &e), &e, "matmul", "K=0");
    bad(vkt_ref_matmul(false, false, 2, 2, 2, 1, NULL, in2, 0, out1, NULL, &e), &e, "matmul", "A");
    bad(vkt_ref_matmul(false, false, 2, 2, 2, 1, in1, NULL, 0, out1, NULL, &e), &e, "matmul", "B");
    bad(vkt_ref_bias_grad(0, 3, in1, out1, &e), &e, "bias_grad", "M=0");
    bad(vkt_ref_bias_grad(3, 3, in1, NULL, &e), &e, "bias_grad", "dbias");
    bad(vkt_ref_linear_fwd(2, 0, 2, in1, in2, NULL, out1, &e), &e, "linear", "IN=0");
    bad(vkt_ref_linear_bwd(2, 2, 2, in1, in2, in3, out1, NULL, out3, &e), &e, "linear", "dW");
    // err may be NULL: the status still comes back.
    assert_int_equal(vkt_ref_matmul(false, false, 0, 1, 1, 1, in1, in2, 0, out1, NULL, NULL),
                     VKT_ERR_ARG);
    untouched();
}

static void test_embedding_errors(void **state) {
    (void)state;
    vkt_error e;
    reset();
    int32_t tok[3] = {0, 4, 1}, pos[3] = {0, 1, 2}, bad_tok[3] = {0, -1, 1}, bad_pos[3] = {0, 1, 5};
    // token 4 with V = 4: out of range; nothing is written even for row 0, which is valid.
    bad(vkt_ref_embedding_fwd(3, 2, 4, 5, tok, pos, in1, in2, out1, &e), &e, "embedding",
        "tok[1]=4");
    bad(vkt_ref_embedding_fwd(3, 2, 5, 5, bad_tok, pos, in1, in2, out1, &e), &e, "embedding",
        "tok[1]=-1");
    bad(vkt_ref_embedding_fwd(3, 2, 5, 5, tok, bad_pos, in1, in2, out1, &e), &e, "embedding",
        "pos[2]=5");
    bad(vkt_ref_embedding_fwd(3, 2, 5, 5, tok, NULL, in1, in2, out1, &e), &e, "embedding", "pos");
    bad(vkt_ref_embedding_fwd(3, 0, 5, 5, tok, pos, in1, in2, out1, &e), &e, "embedding", "C=0");
    bad(vkt_ref_embedding_fwd(3, 2, 0, 5, tok, pos, in1, in2, out1, &e), &e, "embedding", "V=0");
    bad(vkt_ref_embedding_fwd(3, 2, 5, 0, tok, pos, in1, in2, out1, &e), &e, "embedding", "Tmax=0");
    bad(vkt_ref_embedding_bwd(3, 2, 4, 5, tok, pos, in1, out1, out2, &e), &e, "embedding",
        "tok[1]=4");
    bad(vkt_ref_embedding_bwd(3, 2, 5, 5, tok, bad_pos, in1, out1, out2, &e), &e, "embedding",
        "pos[2]=5");
    // Without a position table, positions are not read (NULL is fine) and not checked.
    reset();
    assert_int_equal(vkt_ref_embedding_fwd(3, 2, 5, 0, tok, NULL, in1, NULL, out1, &e), VKT_OK);
}

static void test_norm_errors(void **state) {
    (void)state;
    vkt_error e;
    reset();
    bad(vkt_ref_layernorm_fwd(2, 0, 1e-5f, in1, in2, in3, out1, out2, out3, &e), &e, "layernorm",
        "C=0");
    bad(vkt_ref_layernorm_fwd(-1, 3, 1e-5f, in1, in2, in3, out1, out2, out3, &e), &e, "layernorm",
        "N=-1");
    bad(vkt_ref_layernorm_fwd(2, 3, -1e-5f, in1, in2, in3, out1, out2, out3, &e), &e, "layernorm",
        "eps");
    bad(vkt_ref_layernorm_fwd(2, 3, NAN, in1, in2, in3, out1, out2, out3, &e), &e, "layernorm",
        "eps");
    bad(vkt_ref_layernorm_fwd(2, 3, 1e-5f, in1, NULL, in3, out1, out2, out3, &e), &e, "layernorm",
        "w");
    bad(vkt_ref_layernorm_fwd(2, 3, 1e-5f, in1, in2, in3, out1, out2, NULL, &e), &e, "layernorm",
        "rstd");
    bad(vkt_ref_layernorm_bwd(2, 3, in1, in2, in3, in3, in3, out1, out2, NULL, &e), &e, "layernorm",
        "db");
    bad(vkt_ref_rmsnorm_fwd(2, 0, 1e-5f, in1, in2, out1, out2, &e), &e, "rmsnorm", "C=0");
    bad(vkt_ref_rmsnorm_fwd(2, 3, -1.0f, in1, in2, out1, out2, &e), &e, "rmsnorm", "eps");
    bad(vkt_ref_rmsnorm_bwd(0, 3, in1, in2, in3, in3, out1, out2, &e), &e, "rmsnorm", "N=0");
    bad(vkt_ref_rmsnorm_bwd(2, 3, in1, in2, in3, NULL, out1, out2, &e), &e, "rmsnorm", "rstd");
}

static void test_activation_errors(void **state) {
    (void)state;
    vkt_error e;
    reset();
    bad(vkt_ref_gelu_fwd(0, in1, out1, &e), &e, "gelu", "n=0");
    bad(vkt_ref_gelu_fwd(4, NULL, out1, &e), &e, "gelu", "in");
    bad(vkt_ref_gelu_bwd(4, in1, in2, NULL, &e), &e, "gelu", "din");
    bad(vkt_ref_swiglu_fwd(2, 4, in1, 3, in2, 4, out1, 4, &e), &e, "swiglu", "gate_stride=3");
    bad(vkt_ref_swiglu_fwd(2, 4, in1, 8, in2, 8, out1, 2, &e), &e, "swiglu", "out_stride=2");
    bad(vkt_ref_swiglu_fwd(2, 0, in1, 8, in2, 8, out1, 8, &e), &e, "swiglu", "F=0");
    bad(vkt_ref_swiglu_bwd(2, 4, in1, 4, in2, 8, in3, 1, out1, out2, &e), &e, "swiglu",
        "up_stride=1");
    bad(vkt_ref_swiglu_bwd(2, 4, in1, 4, in2, 8, in3, 8, out1, NULL, &e), &e, "swiglu", "dup");
}

static void test_rope_errors(void **state) {
    (void)state;
    vkt_error e;
    reset();
    int32_t pos[4] = {0, 1, 2, 3}, neg[4] = {0, 1, -2, 3};
    // RoPE is in place: the buffer it would rotate is out1.
    bad(vkt_ref_rope_fwd(1, 4, 2, 5, 10, pos, 10000.0f, out1, &e), &e, "rope", "D=5");
    bad(vkt_ref_rope_fwd(1, 4, 2, 4, 7, pos, 10000.0f, out1, &e), &e, "rope", "row_stride=7");
    bad(vkt_ref_rope_fwd(1, 4, 2, 4, 8, neg, 10000.0f, out1, &e), &e, "rope", "pos[2]=-2");
    bad(vkt_ref_rope_fwd(1, 4, 2, 4, 8, pos, 0.0f, out1, &e), &e, "rope", "theta");
    bad(vkt_ref_rope_fwd(1, 4, 2, 4, 8, NULL, 10000.0f, out1, &e), &e, "rope", "pos");
    bad(vkt_ref_rope_bwd(0, 4, 2, 4, 8, pos, 10000.0f, out1, &e), &e, "rope", "B=0");
    bad(vkt_ref_rope_bwd(1, 4, 2, 3, 8, pos, 10000.0f, out1, &e), &e, "rope", "D=3");
}

static void test_attention_errors(void **state) {
    (void)state;
    vkt_error e;
    reset();
    // B=1, T=2, H=4, KVH=3, D=2: 3 does not divide 4.
    bad(vkt_ref_attention_fwd(1, 2, 4, 3, 2, 0.7f, in1, 8, in2, 6, in3, 6, out1, out2, &e), &e,
        "attention", "KVH=3 must divide H=4");
    bad(vkt_ref_attention_fwd(1, 2, 4, 2, 2, 0.7f, in1, 7, in2, 4, in3, 4, out1, out2, &e), &e,
        "attention", "q_stride=7");
    bad(vkt_ref_attention_fwd(1, 2, 4, 2, 2, 0.7f, in1, 8, in2, 3, in3, 4, out1, out2, &e), &e,
        "attention", "k_stride=3");
    bad(vkt_ref_attention_fwd(1, 2, 4, 2, 2, 0.7f, in1, 8, in2, 4, in3, 3, out1, out2, &e), &e,
        "attention", "v_stride=3");
    bad(vkt_ref_attention_fwd(1, 0, 4, 2, 2, 0.7f, in1, 8, in2, 4, in3, 4, out1, out2, &e), &e,
        "attention", "T=0");
    bad(vkt_ref_attention_fwd(1, 2, 4, 0, 2, 0.7f, in1, 8, in2, 4, in3, 4, out1, out2, &e), &e,
        "attention", "KVH=0");
    bad(vkt_ref_attention_fwd(1, 2, 4, 2, 2, INFINITY, in1, 8, in2, 4, in3, 4, out1, out2, &e), &e,
        "attention", "scale");
    bad(vkt_ref_attention_fwd(1, 2, 4, 2, 2, 0.7f, in1, 8, in2, 4, in3, 4, out1, NULL, &e), &e,
        "attention", "lse");
    bad(vkt_ref_attention_bwd(1, 2, 4, 3, 2, 0.7f, in1, in1, 8, in2, 6, in3, 6, in1, in2, out1,
                              out2, out3, &e),
        &e, "attention", "KVH=3 must divide H=4");
    bad(vkt_ref_attention_bwd(1, 2, 4, 2, 2, 0.7f, in1, in1, 8, in2, 4, in3, 4, in1, in2, out1,
                              out2, NULL, &e),
        &e, "attention", "dv");
}

static void test_softmax_and_ce_errors(void **state) {
    (void)state;
    vkt_error e;
    reset();
    bad(vkt_ref_softmax_fwd(7, 3, true, in1, out1, &e), &e, "softmax", "R=7");
    bad(vkt_ref_softmax_fwd(0, 3, false, in1, out1, &e), &e, "softmax", "R=0");
    bad(vkt_ref_softmax_fwd(3, 0, false, in1, out1, &e), &e, "softmax", "L=0");
    bad(vkt_ref_softmax_bwd(3, 3, in1, in2, NULL, &e), &e, "softmax", "din");

    int32_t tgt[3] = {0, 5, 2}, tgt_neg[3] = {0, 1, -1};
    float w[3] = {1, 1, 1}, w_mask[3] = {1, 0, 1}, w_neg[3] = {1, 1, -0.5f};
    // V = 5: target 5 with weight 1 is an error; nothing written (loss, dlogits, lse).
    bad(vkt_ref_cross_entropy(3, 5, in1, tgt, w, 1.0f, out1, out2, out3, &e), &e, "cross_entropy",
        "targets[1]=5");
    // A negative target with a negative (nonzero) weight is an error too.
    bad(vkt_ref_cross_entropy(3, 5, in1, tgt_neg, w_neg, 1.0f, out1, out2, out3, &e), &e,
        "cross_entropy", "targets[2]=-1");
    bad(vkt_ref_cross_entropy(3, 0, in1, tgt, w, 1.0f, out1, out2, out3, &e), &e, "cross_entropy",
        "V=0");
    bad(vkt_ref_cross_entropy(3, 5, in1, tgt, w, NAN, out1, out2, out3, &e), &e, "cross_entropy",
        "grad_scale");
    bad(vkt_ref_cross_entropy(3, 5, in1, tgt, NULL, 1.0f, out1, out2, out3, &e), &e,
        "cross_entropy", "weights");
    // Entropy variant: a non-finite coefficient is an error (nothing written, ent included).
    float cf[3] = {0.1f, NAN, 0};
    bad(vkt_ref_cross_entropy_ent(3, 5, in1, tgt_neg, w_mask, cf, 1.0f, out1, out2, out3, out1 + 3,
                                  &e),
        &e, "cross_entropy", "coef[1]");
    // The same target with weight 0 is ignored: the row is masked.
    assert_int_equal(vkt_ref_cross_entropy(3, 5, in1, tgt, w_mask, 1.0f, out1, out2, out3, &e),
                     VKT_OK);
    assert_true(out1[1] == 0);
    for (int j = 0; j < 5; j++) assert_true(out2[5 + j] == 0);
}

static void test_optimizer_errors(void **state) {
    (void)state;
    vkt_error e;
    reset();
    bad(vkt_ref_adamw(4, out1, in1, out2, out3, 0.1f, 0.9f, 0.999f, 1e-8f, 0.0f, 1.0f, 0, &e), &e,
        "adamw", "t=0");
    bad(vkt_ref_adamw(4, out1, in1, out2, out3, 0.1f, 1.0f, 0.999f, 1e-8f, 0.0f, 1.0f, 1, &e), &e,
        "adamw", "beta1");
    bad(vkt_ref_adamw(4, out1, in1, out2, out3, 0.1f, 0.9f, -0.1f, 1e-8f, 0.0f, 1.0f, 1, &e), &e,
        "adamw", "beta2");
    bad(vkt_ref_adamw(4, out1, in1, out2, out3, 0.1f, 0.9f, 0.999f, -1.0f, 0.0f, 1.0f, 1, &e), &e,
        "adamw", "eps");
    bad(vkt_ref_adamw(0, out1, in1, out2, out3, 0.1f, 0.9f, 0.999f, 1e-8f, 0.0f, 1.0f, 1, &e), &e,
        "adamw", "n=0");
    bad(vkt_ref_adamw(4, out1, NULL, out2, out3, 0.1f, 0.9f, 0.999f, 1e-8f, 0.0f, 1.0f, 1, &e), &e,
        "adamw", "grad");
    double d = 777, f = 777;
    assert_int_equal(vkt_ref_grad_norm(0, in1, &d, &e), VKT_ERR_ARG);
    assert_true(d == 777);
    assert_int_equal(vkt_ref_sum_squares(3, NULL, &d, &e), VKT_ERR_ARG);
    assert_true(d == 777);
    assert_int_equal(vkt_ref_clip_factor(5.0, 0.0, &f, &e), VKT_ERR_ARG);
    assert_non_null(strstr(e.msg, "max_norm"));
    assert_int_equal(vkt_ref_clip_factor(NAN, 1.0, &f, &e), VKT_ERR_ARG);
    assert_non_null(strstr(e.msg, "norm=nan"));
    assert_true(f == 777);
}

static void test_elementwise_errors(void **state) {
    (void)state;
    vkt_error e;
    reset();
    bad(vkt_ref_fill(0, 1.0f, out1, &e), &e, "fill", "n=0");
    bad(vkt_ref_fill(3, 1.0f, NULL, &e), &e, "fill", "x");
    bad(vkt_ref_scale(0, 2.0f, out1, &e), &e, "scale", "n=0");
    bad(vkt_ref_axpby(0, 1.0f, in1, 1.0f, out1, &e), &e, "axpby", "n=0");
    bad(vkt_ref_axpby(3, 1.0f, NULL, 1.0f, out1, &e), &e, "axpby", "x");
    bad(vkt_ref_add_row_vector(2, 0, 1.0f, in1, out1, &e), &e, "add_row_vector", "C=0");
    bad(vkt_ref_add_row_vector(2, 3, 1.0f, NULL, out1, &e), &e, "add_row_vector", "v");
}

// The shared checks the GPU wrappers call: a few direct cases, and the extent helper.
static void test_shape_check(void **state) {
    (void)state;
    vkt_error e;
    assert_int_equal(vkt_check_matmul(true, true, 1, 1, 1, &e), VKT_OK);
    assert_int_equal(vkt_check_attention(2, 7, 8, 2, 64, 0.125, 12 * 64, 12 * 64, 12 * 64, &e),
                     VKT_OK);
    assert_int_equal(vkt_check_attention(1, 1, 1 << 20, 1, 1 << 12, 1.0, 8, 8, 8, &e),
                     VKT_ERR_ARG); // H*D overflows int
    assert_int_equal(vkt_check_softmax(6, 3, true, &e), VKT_OK);
    int32_t ids[3] = {0, 2, 3};
    assert_int_equal(vkt_check_ids("x", "ids", 3, ids, 4, &e), VKT_OK);
    assert_int_equal(vkt_check_ids("x", "ids", 3, ids, 3, &e), VKT_ERR_ARG);
    assert_int_equal((int)vkt_strided_extent(3, 10, 4), 24);
    assert_int_equal((int)vkt_strided_extent(0, 10, 4), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matmul_errors),         cmocka_unit_test(test_embedding_errors),
        cmocka_unit_test(test_norm_errors),           cmocka_unit_test(test_activation_errors),
        cmocka_unit_test(test_rope_errors),           cmocka_unit_test(test_attention_errors),
        cmocka_unit_test(test_softmax_and_ce_errors), cmocka_unit_test(test_optimizer_errors),
        cmocka_unit_test(test_elementwise_errors),    cmocka_unit_test(test_shape_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
