// rl_fmt.c: self-play's text as a model's tokens (see rl_fmt.h).
#include <stdlib.h>
#include <string.h>

#include "rl_fmt.h"
#include "tok_chat.h"
#include "tokenizer.h"

// Marks the user's and the assistant's content in a rendered template: bytes no game
// text holds and no template writes.
#define USER_MARK "\x01vkt-user\x01"
#define ANSWER_MARK "\x01vkt-answer\x01"
// The date strftime_now gives templates that print one (Llama 3.1): fixed, so a run is a
// function of its seed, not of the day.
#define CHAT_DATE "26 Jul 2024"
// Slack for a tokenizer that can add a piece (a metaspace "▁") beyond one token per byte.
enum { SLACK = 4 };

static vkt_status render(const vkt_rl_fmt *f, const vkt_chat_msg *m, int n, bool gen_prompt,
                         char **out, vkt_error *err) {
    vkt_tok_chat_opts co = {.add_generation_prompt = gen_prompt,
                            .enable_thinking = f->think > 0,
                            .date_string = CHAT_DATE};
    size_t len;
    return vkt_tok_chat_render(f->tok, m, n, &co, out, &len, err);
}

// The end of an assistant turn: the first special token after an assistant message.
static vkt_status chat_end(vkt_rl_fmt *f, vkt_error *err) {
    vkt_chat_msg m[2] = {{"user", "u"}, {"assistant", ANSWER_MARK}};
    char *text;
    VKT_TRY(render(f, m, 2, false, &text, err));
    const char *at = strstr(text, ANSWER_MARK);
    vkt_tokens t = {0};
    vkt_status s = VKT_OK;
    if (at) {
        at += strlen(ANSWER_MARK);
        s = vkt_tok_encode(f->tok, at, strlen(at), VKT_TOKF_PARSE_SPECIAL, &t, err);
        for (size_t i = 0; s == VKT_OK && i < t.n && f->end_id < 0; i++)
            if (vkt_tok_is_special(f->tok, t.ids[i])) f->end_id = t.ids[i];
    }
    vkt_tokens_free(&t);
    free(text);
    return s;
}

static vkt_status chat_frame(vkt_rl_fmt *f, vkt_error *err) {
    vkt_chat_msg m = {"user", USER_MARK};
    char *text;
    VKT_TRY(render(f, &m, 1, true, &text, err));
    char *at = strstr(text, USER_MARK);
    if (!at || strstr(at + 1, USER_MARK)) {
        free(text);
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "chat template: it does not write a user turn's content once as given");
    }
    *at = 0;
    f->pre = strdup(text);
    f->post = strdup(at + strlen(USER_MARK));
    free(text);
    if (!f->pre || !f->post) return vkt_fail(err, VKT_ERR_NOMEM, "chat template text");
    vkt_tokens t = {0};
    vkt_status s = vkt_tok_encode(f->tok, f->pre, strlen(f->pre), VKT_TOKF_PARSE_SPECIAL, &t, err);
    if (s == VKT_OK)
        s = vkt_tok_encode(f->tok, f->post, strlen(f->post), VKT_TOKF_PARSE_SPECIAL, &t, err);
    f->extra = (int)t.n + SLACK;
    vkt_tokens_free(&t);
    return s;
}

vkt_status vkt_rl_fmt_prepare(vkt_rl_fmt *f, vkt_error *err) {
    f->end_id = VKT_TOK_EOT, f->extra = 0, f->pre = f->post = NULL;
    if (!f->tok) {
        if (f->chat)
            return vkt_fail(err, VKT_ERR_ARG,
                            "chat: the model has no tokenizer.json and no chat template");
        return VKT_OK;
    }
    f->end_id = -1;
    if (f->chat) {
        VKT_TRY(chat_frame(f, err));
        VKT_TRY(chat_end(f, err));
    } else {
        f->extra = (vkt_tok_bos_id(f->tok) >= 0) + SLACK;
    }
    if (f->end_id < 0) f->end_id = vkt_tok_token_to_id(f->tok, vkt_tok_eos_text(f->tok));
    int n_eos = 0;
    const int32_t *eos = vkt_tok_eos_ids(f->tok, &n_eos);
    if (f->end_id < 0 && n_eos > 0) f->end_id = eos[0];
    if (f->end_id < 0)
        return vkt_fail(
            err, VKT_ERR_FORMAT,
            "tokenizer: no token ends an answer (no eos_token in tokenizer_config.json or "
            "generation_config.json%s)",
            f->chat ? ", and the chat template ends no turn with one" : "");
    return VKT_OK;
}

void vkt_rl_fmt_free(vkt_rl_fmt *f) {
    free(f->pre), free(f->post);
    f->pre = f->post = NULL;
}

static vkt_status take_ids(vkt_tokens *t, int32_t **ids, int *n, vkt_error *err) {
    *ids = malloc((t->n ? t->n : 1) * sizeof **ids);
    if (!*ids) return vkt_fail(err, VKT_ERR_NOMEM, "prompt of %zu tokens", t->n);
    memcpy(*ids, t->ids, t->n * sizeof **ids);
    *n = (int)t->n;
    return VKT_OK;
}

vkt_status vkt_rl_fmt_prompt_ids(const vkt_rl_fmt *f, const char *text, size_t len, int32_t **ids,
                                 int *n, vkt_error *err) {
    *ids = NULL, *n = 0;
    if (!f || !f->tok) {
        int32_t *t = malloc((len + 1) * sizeof *t);
        if (!t) return vkt_fail(err, VKT_ERR_NOMEM, "prompt of %zu bytes", len);
        size_t got = 0;
        vkt_status s = vkt_tokenizer_encode(text, len, 0, t, len + 1, &got, err);
        if (s != VKT_OK) {
            free(t);
            return s;
        }
        *ids = t, *n = (int)got;
        return VKT_OK;
    }
    vkt_tokens t = {0};
    vkt_status s;
    if (f->chat) {
        size_t body = len && text[len - 1] == '\n' ? len - 1 : len; // the turn ends the line
        s = vkt_tok_encode(f->tok, f->pre, strlen(f->pre), VKT_TOKF_PARSE_SPECIAL, &t, err);
        if (s == VKT_OK) s = vkt_tok_encode(f->tok, text, body, 0, &t, err);
        if (s == VKT_OK)
            s = vkt_tok_encode(f->tok, f->post, strlen(f->post), VKT_TOKF_PARSE_SPECIAL, &t, err);
    } else {
        s = vkt_tok_encode(f->tok, text, len, VKT_TOKF_ADD_SPECIAL, &t, err);
    }
    if (s == VKT_OK) s = take_ids(&t, ids, n, err);
    vkt_tokens_free(&t);
    return s;
}

vkt_status vkt_rl_fmt_answer_ids(const vkt_rl_fmt *f, const char *text, int32_t *ids, int cap,
                                 int *n, vkt_error *err) {
    size_t len = strlen(text), got = 0;
    if (cap < 1) return vkt_fail(err, VKT_ERR_ARG, "answer '%s': no room", text);
    if (!f || !f->tok) {
        VKT_TRY(vkt_tokenizer_encode(text, len, 0, ids, (size_t)cap - 1, &got, err));
        ids[got] = VKT_TOK_EOT;
        *n = (int)got + 1;
        return VKT_OK;
    }
    vkt_tokens t = {0};
    vkt_status s = vkt_tok_encode(f->tok, text, len, 0, &t, err);
    if (s == VKT_OK && t.n + 1 > (size_t)cap)
        s = vkt_fail(err, VKT_ERR_ARG, "answer '%s': %zu tokens, room for %d", text, t.n + 1, cap);
    if (s == VKT_OK) {
        memcpy(ids, t.ids, t.n * sizeof *ids);
        ids[t.n] = f->end_id;
        *n = (int)t.n + 1;
    }
    vkt_tokens_free(&t);
    return s;
}

int vkt_rl_fmt_prompt_bound(const vkt_rl_fmt *f, int bytes) {
    return bytes + (f && f->tok ? f->extra : 0);
}

// The last occurrence of needle in text[0..len), or NULL.
static const char *last_of(const char *text, size_t len, const char *needle) {
    size_t k = strlen(needle);
    for (size_t i = len >= k ? len - k + 1 : 0; i-- > 0;)
        if (!memcmp(text + i, needle, k)) return text + i;
    return NULL;
}

void vkt_rl_fmt_answer_span(const vkt_rl_fmt *f, const char *text, size_t len, size_t *off,
                            size_t *n) {
    *off = 0, *n = len;
    if (!f || !f->tok) return;
    const char *close = last_of(text, len, "</think>");
    if (close) {
        *off = (size_t)(close - text) + strlen("</think>");
        *n = len - *off;
        return;
    }
    const char *open = last_of(text, len, "<think>");
    if (open) *n = (size_t)(open - text); // thinking never closed: only what came before it
}

void vkt_rl_fmt_gen_opts(const vkt_rl_fmt *f, vkt_gen_opts *o) {
    if (f && f->tok) o->tok = f->tok;
}
