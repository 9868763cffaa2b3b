// effsteer_tok.c: the task's text as a model's ids and its answers as text (effsteer_tok.h).
#include "effsteer_tok.h"

#include <stdlib.h>
#include <string.h>

#include "tok_chat.h"

bool vkt_eff_enc_is_bytes(const vkt_eff_enc *e) {
    return !e || !e->tok || vkt_tok_kind_of(e->tok) == VKT_TOK_BYTE;
}

static vkt_status push_bytes(const char *s, size_t n, vkt_tokens *out, vkt_error *err) {
    for (size_t k = 0; k < n; k++) VKT_TRY(vkt_tokens_push(out, (unsigned char)s[k], err));
    return VKT_OK;
}

vkt_status vkt_eff_encode_prompt(const vkt_eff_enc *e, int tag, int x, int y, vkt_tokens *out,
                                 vkt_error *err) {
    char p[VKT_EFF_PROMPT_MAX];
    const size_t len = vkt_eff_prompt(tag, x, y, p, sizeof p);
    if (!len)
        return vkt_fail(err, VKT_ERR_ARG, "effsteer: item (tag %d, %d+%d) is not a task problem",
                        tag, x, y);
    if (vkt_eff_enc_is_bytes(e)) {
        if (e && e->chat)
            return vkt_fail(err, VKT_ERR_ARG, "effsteer: a byte-level model has no chat template");
        return push_bytes(p, len, out, err);
    }
    if (!e->chat)
        return vkt_tok_encode(e->tok, p, len, VKT_TOKF_PARSE_SPECIAL | VKT_TOKF_ADD_SPECIAL, out,
                              err);
    vkt_chat_msg msgs[2];
    int nm = 0;
    if (e->system) msgs[nm++] = (vkt_chat_msg){"system", e->system};
    msgs[nm++] = (vkt_chat_msg){"user", p};
    vkt_tok_chat_opts co = {.add_generation_prompt = true, .enable_thinking = e->enable_thinking};
    return vkt_tok_chat_encode(e->tok, msgs, nm, &co, out, err);
}

// ends[k] = bytes of the decoded first k + 1 tokens: each prefix decoded whole, so a
// token whose text only shows with the next (a split character) is still placed right.
static vkt_status token_ends(vkt_tok *tok, const char *comp, const int32_t *ids, size_t n,
                             int *ends, vkt_error *err) {
    const size_t lc = strlen(comp);
    for (size_t k = 1; k <= n; k++) {
        char *s = NULL;
        size_t len = 0;
        VKT_TRY(vkt_tok_decode(tok, ids, k, 0, &s, &len, err));
        const bool same = len <= lc && !memcmp(s, comp, len) && (k < n || len == lc);
        free(s);
        if (!same)
            return vkt_fail(
                err, VKT_ERR_ARG,
                "effsteer: the tokenizer does not decode the trace's %zu tokens back to "
                "its text (at token %zu)",
                n, k - 1);
        ends[k - 1] = (int)len;
    }
    return VKT_OK;
}

vkt_status vkt_eff_encode_completion(const vkt_eff_enc *e, const char *comp, vkt_tokens *out,
                                     int **ends, vkt_error *err) {
    const size_t lc = strlen(comp), first = out->n;
    if (ends) *ends = NULL;
    if (vkt_eff_enc_is_bytes(e))
        VKT_TRY(push_bytes(comp, lc, out, err));
    else
        VKT_TRY(vkt_tok_encode(e->tok, comp, lc, VKT_TOKF_PARSE_SPECIAL, out, err));
    if (!ends) return VKT_OK;
    const size_t n = out->n - first;
    int *en = malloc((n ? n : 1) * sizeof *en);
    if (!en) return vkt_fail(err, VKT_ERR_NOMEM, "effsteer: %zu trace tokens", n);
    vkt_status s = VKT_OK;
    if (vkt_eff_enc_is_bytes(e))
        for (size_t k = 0; k < n; k++) en[k] = (int)k + 1;
    else
        s = token_ends(e->tok, comp, out->ids + first, n, en, err);
    if (s != VKT_OK)
        free(en);
    else
        *ends = en;
    return s;
}

bool vkt_eff_decision_at(const char *comp, size_t lc, size_t end) {
    return end >= 2 && end < lc && comp[end - 1] == '\n' && (comp[end] == 't' || comp[end] == 'a');
}

static bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

size_t vkt_eff_answer_start(const vkt_eff_enc *e, const char *text, size_t len) {
    if (vkt_eff_enc_is_bytes(e) || !text) return 0;
    static const char open[] = "<think>", close[] = "</think>";
    size_t i = 0;
    while (i < len && is_space(text[i])) i++;
    if (len - i >= sizeof open - 1 && !memcmp(text + i, open, sizeof open - 1)) {
        size_t k = i + sizeof open - 1;
        while (k + sizeof close - 1 <= len && memcmp(text + k, close, sizeof close - 1)) k++;
        if (k + sizeof close - 1 > len) return len;
        i = k + sizeof close - 1;
        while (i < len && is_space(text[i])) i++;
    }
    return i;
}

void vkt_eff_grade_response(const vkt_eff_enc *e, const char *text, size_t len, int x, int y,
                            vkt_eff_check *r) {
    if (vkt_eff_enc_is_bytes(e) || !text) {
        vkt_eff_grade(text, len, x, y, r);
        return;
    }
    const size_t a = vkt_eff_answer_start(e, text, len);
    char *buf = malloc(len - a + 2);
    if (!buf) { // graded as no answer rather than failing a whole measurement
        memset(r, 0, sizeof *r);
        return;
    }
    buf[0] = '\n';
    memcpy(buf + 1, text + a, len - a);
    buf[len - a + 1] = 0;
    vkt_eff_grade(buf, len - a + 1, x, y, r);
    free(buf);
}
