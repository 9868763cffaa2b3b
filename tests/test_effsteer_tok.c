// test_effsteer_tok.c: the efficiency-steering task in a model's tokens
// (trainer/steer/effsteer_tok.h), no device:
//  - bytes (no tokenizer, or vkt's byte tokenizer): the prompt ids are the prompt's bytes,
//    no BOS, as the byte-level experiment always fed them; trace rows end at k + 1;
//  - the real Qwen3 and Llama 3 tokenizers ($VKT_FIXTURES): plain prompts are the
//    tokenizer's encoding, chat prompts the template's rendering (thinking off: the empty
//    think block, the assistant header last); the trace's token ends decode back to the
//    text, and the decision rows are the tokens that end with the newline before "tens:" /
//    "ans=";
//  - grading a tokenizer's response: a <think> block and leading white space are skipped,
//    an unclosed block is all thinking; with bytes the grade is vkt_eff_grade's.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "effsteer_tok.h"
#include "tok_chat.h"
#include "support_tok.h"

static char *decode(vkt_tok *t, const int32_t *ids, size_t n) {
    char *s = NULL;
    size_t len;
    vkt_error err = {0};
    if (vkt_tok_decode(t, ids, n, 0, &s, &len, &err) != VKT_OK) fail_msg("%s", err.msg);
    return s;
}

static void bytes_are_unchanged(void **st) {
    (void)st;
    vkt_error err = {0};
    vkt_tok *bt = NULL;
    assert_int_equal(vkt_tok_byte(&bt, &err), VKT_OK);
    const vkt_eff_enc with_byte_tok = {bt, false, NULL, -1};
    const vkt_eff_enc *encs[2] = {NULL, &with_byte_tok};
    static const int32_t want[] = {'s', 'r', 'c', '=', 'k', 'q', ' ', '4', '7', '+', '3', '5', '='};
    for (int e = 0; e < 2; e++) {
        assert_true(vkt_eff_enc_is_bytes(encs[e]));
        vkt_tokens ids = {0};
        assert_int_equal(vkt_eff_encode_prompt(encs[e], 0, 47, 35, &ids, &err), VKT_OK);
        assert_int_equal(ids.n, 13);
        assert_memory_equal(ids.ids, want, sizeof want);
        vkt_tokens_free(&ids);
        // Every tag and problem: one id per byte of vkt_eff_prompt.
        for (int t = 0; t < VKT_EFF_TAGS; t++) {
            char p[VKT_EFF_PROMPT_MAX];
            const size_t n = vkt_eff_prompt(t, 10 + 5 * t, 99 - 3 * t, p, sizeof p);
            assert_int_equal(vkt_eff_encode_prompt(encs[e], t, 10 + 5 * t, 99 - 3 * t, &ids, &err),
                             VKT_OK);
            assert_int_equal(ids.n, n);
            for (size_t k = 0; k < n; k++) assert_int_equal(ids.ids[k], (unsigned char)p[k]);
            vkt_tokens_free(&ids);
        }
        // The trace: bytes, row k ending at k + 1, decision rows the two newlines before tens /
        // ans.
        char comp[VKT_EFF_COMPLETION_MAX];
        const size_t lc = vkt_eff_completion(47, 35, 0, comp, sizeof comp);
        int *ends = NULL;
        assert_int_equal(vkt_eff_encode_completion(encs[e], comp, &ids, &ends, &err), VKT_OK);
        assert_int_equal(ids.n, lc);
        int dec = 0;
        for (size_t k = 0; k < lc; k++) {
            assert_int_equal(ids.ids[k], (unsigned char)comp[k]);
            assert_int_equal(ends[k], (int)k + 1);
            if (vkt_eff_decision_at(comp, lc, (size_t)ends[k])) {
                assert_int_equal(comp[k], '\n');
                assert_true(!strncmp(comp + k + 1, "tens:", 5) ||
                            !strncmp(comp + k + 1, "ans=", 4));
                dec++;
            }
        }
        assert_int_equal(dec, 2);
        vkt_tokens_free(&ids), free(ends);
        // No chat template on a byte-level model; bad items name themselves.
        const vkt_eff_enc chat = {encs[e] ? bt : NULL, true, NULL, -1};
        assert_int_equal(vkt_eff_encode_prompt(&chat, 0, 47, 35, &ids, &err), VKT_ERR_ARG);
        assert_non_null(strstr(err.msg, "chat template"));
        assert_int_equal(vkt_eff_encode_prompt(encs[e], 16, 47, 35, &ids, &err), VKT_ERR_ARG);
        assert_non_null(strstr(err.msg, "tag 16"));
        vkt_tokens_free(&ids);
    }
    vkt_tok_free(bt);
}

// Plain and chat prompts, and the trace's rows, under one fixture tokenizer.
static void check_tokenizer(const char *name, const char *chat_tail) {
    vkt_tok *t = test_fixture_tok(name);
    vkt_error err = {0};
    vkt_eff_enc plain = {t, false, NULL, -1};
    assert_false(vkt_eff_enc_is_bytes(&plain));
    vkt_tokens ids = {0}, want = {0};
    assert_int_equal(vkt_eff_encode_prompt(&plain, 9, 47, 35, &ids, &err), VKT_OK);
    assert_int_equal(vkt_tok_encode(t, "src=lc 47+35=", 13,
                                    VKT_TOKF_PARSE_SPECIAL | VKT_TOKF_ADD_SPECIAL, &want, &err),
                     VKT_OK);
    assert_int_equal(ids.n, want.n);
    assert_memory_equal(ids.ids, want.ids, want.n * sizeof *want.ids);
    assert_true(ids.n < 13); // fewer tokens than bytes: the tokenizer, not bytes
    const int32_t bos = vkt_tok_bos_id(t);
    char *s = decode(t, ids.ids, ids.n);
    if (bos >= 0 && ids.ids[0] == bos)
        assert_non_null(strstr(s, "src=lc 47+35="));
    else
        assert_string_equal(s, "src=lc 47+35=");
    free(s), vkt_tokens_free(&ids), vkt_tokens_free(&want);

    // Chat: a user turn, the generation prompt last (the last prompt token is the header's).
    const vkt_eff_enc chat = {t, true, "Be brief.", 0};
    assert_int_equal(vkt_eff_encode_prompt(&chat, 9, 47, 35, &ids, &err), VKT_OK);
    s = decode(t, ids.ids, ids.n);
    assert_non_null(strstr(s, "Be brief."));
    const char *u = strstr(s, "src=lc 47+35=");
    assert_non_null(u);
    const size_t ls = strlen(s), lt = strlen(chat_tail);
    if (ls < lt || strcmp(s + ls - lt, chat_tail))
        fail_msg("%s chat prompt ends %s", name, s + (ls > 60 ? ls - 60 : 0));
    free(s), vkt_tokens_free(&ids);

    // The trace: fewer tokens than bytes, ends increasing to its length, decoding to the
    // text; two decision rows, each a token ending with the newline before tens: / ans=.
    char comp[VKT_EFF_COMPLETION_MAX];
    const size_t lc = vkt_eff_completion(47, 35, 1, comp, sizeof comp);
    int *ends = NULL;
    assert_int_equal(vkt_eff_encode_completion(&plain, comp, &ids, &ends, &err), VKT_OK);
    assert_true(ids.n < lc && ids.n > 10);
    int dec = 0;
    for (size_t k = 0; k < ids.n; k++) {
        assert_true(ends[k] > (k ? ends[k - 1] : 0));
        s = decode(t, ids.ids, k + 1);
        assert_int_equal(strlen(s), (size_t)ends[k]);
        assert_memory_equal(s, comp, (size_t)ends[k]);
        free(s);
        if (vkt_eff_decision_at(comp, lc, (size_t)ends[k])) {
            assert_int_equal(comp[ends[k] - 1], '\n');
            dec++;
        }
    }
    assert_int_equal(ends[ids.n - 1], (int)lc);
    assert_int_equal(dec,
                     2); // the re-check line's newline (before "tens:") and the one before "ans="
    vkt_tokens_free(&ids), free(ends);
    vkt_tok_free(t);
}

static void qwen3_prompts_and_rows(void **st) {
    (void)st;
    check_tokenizer("qwen3", "<|im_start|>assistant\n<think>\n\n</think>\n\n");
}

static void llama3_prompts_and_rows(void **st) {
    (void)st;
    check_tokenizer("llama3", "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

static void grading_a_response(void **st) {
    (void)st;
    vkt_tok *t = test_fixture_tok("qwen3");
    const vkt_eff_enc enc = {t, true, NULL, 1};
    char comp[VKT_EFF_COMPLETION_MAX];
    vkt_eff_completion(47, 35, 2, comp, sizeof comp);
    char text[512];
    vkt_eff_check c;
    // A think block, then the trace without its leading newline: graded, exact.
    snprintf(text, sizeof text, "<think>\nadd the ones\n</think>\n\n%s", comp + 1);
    const size_t a = vkt_eff_answer_start(&enc, text, strlen(text));
    assert_string_equal(text + a, comp + 1);
    vkt_eff_grade_response(&enc, text, strlen(text), 47, 35, &c);
    assert_true(c.has_answer && c.correct && c.exact);
    assert_int_equal(c.mask, 2u);
    assert_int_equal(c.rechecks, 1);
    assert_int_equal(c.columns, 2);
    // Without the block, with the newline: the same grade.
    vkt_eff_check c2;
    vkt_eff_grade_response(&enc, comp, strlen(comp), 47, 35, &c2);
    assert_memory_equal(&c, &c2, sizeof c);
    // An unclosed block is all thinking: no answer, whatever it holds.
    snprintf(text, sizeof text, "<think>\n%s", comp);
    assert_int_equal(vkt_eff_answer_start(&enc, text, strlen(text)), strlen(text));
    vkt_eff_grade_response(&enc, text, strlen(text), 47, 35, &c);
    assert_false(c.has_answer);
    // A wrong sum is graded wrong.
    vkt_eff_grade_response(&enc, "ans=81", 6, 47, 35, &c);
    assert_true(c.has_answer && !c.correct && !c.exact);
    // Bytes: vkt_eff_grade exactly (no think stripping, the newline is the model's).
    snprintf(text, sizeof text, "<think></think>%s", comp);
    vkt_eff_grade_response(NULL, text, strlen(text), 47, 35, &c);
    vkt_eff_grade(text, strlen(text), 47, 35, &c2);
    assert_memory_equal(&c, &c2, sizeof c);
    assert_int_equal(vkt_eff_answer_start(NULL, text, strlen(text)), 0);
    vkt_eff_grade_response(NULL, comp + 1, strlen(comp + 1), 47, 35, &c);
    assert_false(c.exact);
    vkt_tok_free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bytes_are_unchanged),
        cmocka_unit_test(qwen3_prompts_and_rows),
        cmocka_unit_test(llama3_prompts_and_rows),
        cmocka_unit_test(grading_a_response),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
