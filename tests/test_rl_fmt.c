// test_rl_fmt.c: self-play's text as a model's tokens (trainer/rl/rl_fmt.h), no device:
//  - bytes: the prompt's bytes and the answer's bytes + <|endoftext|>, as before formats;
//  - the real Qwen3 and Llama 3 tokenizers ($VKT_FIXTURES) with chat: the prompt is exactly
//    apply_chat_template of the user turn (rendered here independently, the final newline
//    dropped), answers end with the template's end of turn (<|im_end|>, <|eot_id|>), the
//    prompt bound holds for every Kuhn state, thinking reaches the template;
//  - without chat: the tokenizer's encoding with its BOS;
//  - a <think> block is not the answer.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "kuhn.h"
#include "kuhn_policy.h"
#include "rl_fmt.h"
#include "rl_prompt.h"
#include "tok_chat.h"
#include "tokenizer.h"
#include "support_tok.h"

// A Kuhn state with player 0 to move after a deal.
static void kuhn_game(vkt_game *g) {
    vkt_error err = {0};
    assert_int_equal(vkt_game_create(g, "kuhn", &err), VKT_OK);
    assert_int_equal(vkt_game_reset(g, 7, &err), VKT_OK);
}

static void bytes_as_before(void **st) {
    (void)st;
    vkt_game g;
    kuhn_game(&g);
    char text[256];
    size_t len = vkt_rl_prompt(&g, 0, text, sizeof text);
    vkt_rl_fmt f = {0};
    vkt_error err = {0};
    assert_int_equal(vkt_rl_fmt_prepare(&f, &err), VKT_OK);
    for (int k = 0; k < 2; k++) { // NULL and the zero format are the same
        int32_t *ids = NULL;
        int n = 0;
        assert_int_equal(vkt_rl_prompt_tokens(&g, 0, k ? &f : NULL, &ids, &n, &err), VKT_OK);
        assert_int_equal(n, (int)len);
        for (int i = 0; i < n; i++) assert_int_equal(ids[i], (unsigned char)text[i]);
        free(ids);
        int32_t a[16];
        assert_int_equal(vkt_rl_answer_tokens(&g, VKT_KUHN_BET, k ? &f : NULL, a, 16, &n, &err),
                         VKT_OK);
        assert_int_equal(n, 6); // "[Bet]" + <|endoftext|>
        assert_int_equal(a[0], '[');
        assert_int_equal(a[5], VKT_TOK_EOT);
    }
    vkt_rl_fmt chat = {.chat = true};
    assert_int_equal(vkt_rl_fmt_prepare(&chat, &err), VKT_ERR_ARG);
    assert_non_null(strstr(err.msg, "no tokenizer.json"));
    size_t off, n;
    vkt_rl_fmt_answer_span(NULL, "<think>x</think>[Bet]", 21, &off, &n);
    assert_int_equal(off, 0); // bytes: the whole response, as before
    assert_int_equal(n, 21);
}

// The user turn rendered by the tokenizer's template, as apply_chat_template(tokenize=True).
static void expect_chat_prompt(vkt_tok *t, const vkt_rl_fmt *f, const vkt_game *g, int think) {
    char text[512];
    size_t len = vkt_rl_prompt_think(g, 0, think, text, sizeof text);
    text[len - 1] = 0; // the user's turn has no final newline
    vkt_chat_msg m = {"user", text};
    vkt_tok_chat_opts co = {
        .add_generation_prompt = true, .enable_thinking = think > 0, .date_string = "26 Jul 2024"};
    vkt_tokens want = {0};
    vkt_error err = {0};
    assert_int_equal(vkt_tok_chat_encode(t, &m, 1, &co, &want, &err), VKT_OK);
    int32_t *ids = NULL;
    int n = 0;
    assert_int_equal(vkt_rl_prompt_tokens(g, 0, f, &ids, &n, &err), VKT_OK);
    assert_int_equal(n, (int)want.n);
    assert_memory_equal(ids, want.ids, want.n * sizeof *ids);
    assert_true(n <= vkt_rl_fmt_prompt_bound(f, (int)len + 1));
    free(ids);
    vkt_tokens_free(&want);
}

static void chat_family(const char *name, const char *end_token) {
    vkt_tok *t = test_fixture_tok(name);
    vkt_error err = {0};
    for (int think = 0; think <= 8; think += 8) {
        vkt_rl_fmt f = {.think = think, .tok = t, .chat = true};
        assert_int_equal(vkt_rl_fmt_prepare(&f, &err), VKT_OK);
        assert_int_equal(f.end_id, vkt_tok_token_to_id(t, end_token));
        vkt_game g;
        kuhn_game(&g);
        expect_chat_prompt(t, &f, &g, think);
        // The bound holds over every Kuhn information state.
        for (int i = 0; i < VKT_KUHN_INFOSTATES; i++) {
            static const char *hist[4] = {"", "p", "b", "pb"};
            int card = i / 4, other = (card + 1) % 3, p = vkt_kuhn_infostate_player(i);
            assert_int_equal(vkt_game_reset(&g, 0, &err), VKT_OK);
            assert_int_equal(vkt_kuhn_set_hand(&g, p == 0 ? card : other, p == 0 ? other : card,
                                               hist[i % 4], &err),
                             VKT_OK);
            int32_t *ids = NULL;
            int n = 0;
            assert_int_equal(vkt_rl_prompt_tokens(&g, p, &f, &ids, &n, &err), VKT_OK);
            assert_true(
                n <= vkt_rl_fmt_prompt_bound(&f, (int)vkt_rl_prompt_think(&g, p, think, NULL, 0)));
            free(ids);
        }
        int32_t a[32];
        int n = 0;
        assert_int_equal(vkt_rl_answer_tokens(&g, VKT_KUHN_PASS, &f, a, 32, &n, &err), VKT_OK);
        assert_int_equal(a[n - 1], f.end_id);
        vkt_tokens want = {0};
        char txt[64];
        assert_int_equal(vkt_rl_answer_think(&g, VKT_KUHN_PASS, think, txt, sizeof txt, &err),
                         VKT_OK);
        assert_int_equal(txt[0], think ? '\\' : '[');
        assert_int_equal(vkt_tok_encode(t, txt, strlen(txt), 0, &want, &err), VKT_OK);
        assert_int_equal(n, (int)want.n + 1);
        assert_memory_equal(a, want.ids, want.n * sizeof *a);
        vkt_tokens_free(&want);
        vkt_rl_fmt_free(&f);
    }
    vkt_tok_free(t);
}

static void qwen3_chat(void **st) {
    (void)st;
    chat_family("qwen3", "<|im_end|>");
}

static void llama3_chat(void **st) {
    (void)st;
    chat_family("llama3", "<|eot_id|>");
}

// (This fixture's tokenizer.json has a ByteLevel post-processor, so no BOS is added: as
// transformers would encode it.)
static void plain_encoding(void **st) {
    (void)st;
    vkt_tok *t = test_fixture_tok("llama3");
    vkt_error err = {0};
    vkt_rl_fmt f = {.tok = t};
    assert_int_equal(vkt_rl_fmt_prepare(&f, &err), VKT_OK);
    assert_int_equal(f.end_id, vkt_tok_token_to_id(t, vkt_tok_eos_text(t)));
    vkt_game g;
    kuhn_game(&g);
    char text[256];
    size_t len = vkt_rl_prompt(&g, 0, text, sizeof text);
    vkt_tokens want = {0};
    assert_int_equal(vkt_tok_encode(t, text, len, VKT_TOKF_ADD_SPECIAL, &want, &err), VKT_OK);
    int32_t *ids = NULL;
    int n = 0;
    assert_int_equal(vkt_rl_prompt_tokens(&g, 0, &f, &ids, &n, &err), VKT_OK);
    assert_int_equal(n, (int)want.n);
    assert_memory_equal(ids, want.ids, want.n * sizeof *ids);
    assert_true(n < (int)len); // BPE: fewer tokens than bytes
    free(ids);
    vkt_tokens_free(&want);
    vkt_rl_fmt_free(&f);
    vkt_tok_free(t);
}

static void span(const char *resp, const char *want) {
    vkt_rl_fmt f = {.tok = (vkt_tok *)1}; // the span reads only whether a tokenizer is set
    size_t off, n;
    vkt_rl_fmt_answer_span(&f, resp, strlen(resp), &off, &n);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(resp + off, want, n);
}

static void think_block_is_not_the_answer(void **st) {
    (void)st;
    span("[Call]", "[Call]");
    span("<think>\nfold? [Fold]\n</think>\n\n[Call]", "\n\n[Call]");
    span("<think>a</think><think>b [Bet]</think> [Check]", " [Check]");
    span("<think>\nI would [Bet] but", "");       // never closed: no answer
    span("[Bet] <think> then [Check]", "[Bet] "); // only what came before it
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bytes_as_before),
        cmocka_unit_test(qwen3_chat),
        cmocka_unit_test(llama3_chat),
        cmocka_unit_test(plain_encoding),
        cmocka_unit_test(think_block_is_not_the_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
