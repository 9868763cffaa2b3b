// tok_chat.c: see tok_chat.h.
#include <stdlib.h>

#include "tok_chat.h"

vkt_status vkt_tok_chat_render(const vkt_tok *t, const vkt_chat_msg *msgs, int n,
                               const vkt_tok_chat_opts *o, char **out, size_t *out_len,
                               vkt_error *err) {
    *out = NULL;
    const char *src = vkt_tok_chat_template(t);
    if (!src)
        return vkt_fail(
            err, VKT_ERR_ARG,
            "the tokenizer has no chat template (no chat_template in tokenizer_config.json; "
            "give one with --chat-template FILE)");
    vkt_chat_template *tpl;
    VKT_TRY(vkt_chat_template_parse(src, "chat template", &tpl, err));
    vkt_chat_opts co = {
        .add_generation_prompt = o->add_generation_prompt,
        .bos_token = vkt_tok_bos_text(t),
        .eos_token = vkt_tok_eos_text(t),
        .enable_thinking = o->enable_thinking,
        .date_string = o->date_string,
    };
    vkt_status s = vkt_chat_template_render(tpl, msgs, n, &co, out, out_len, err);
    vkt_chat_template_free(tpl);
    return s;
}

vkt_status vkt_tok_chat_encode(vkt_tok *t, const vkt_chat_msg *msgs, int n,
                               const vkt_tok_chat_opts *o, vkt_tokens *out, vkt_error *err) {
    char *text;
    size_t len;
    VKT_TRY(vkt_tok_chat_render(t, msgs, n, o, &text, &len, err));
    vkt_status s = vkt_tok_encode(t, text, len, VKT_TOKF_PARSE_SPECIAL, out, err);
    free(text);
    return s;
}
