// tok_chat.h: a conversation rendered with a tokenizer's chat template, as transformers'
// apply_chat_template does (bos_token / eos_token from tokenizer_config.json).
#ifndef VKT_TOK_CHAT_H
#define VKT_TOK_CHAT_H

#include "chat_template.h"
#include "tok.h"

typedef struct vkt_tok_chat_opts {
    bool add_generation_prompt; // end with the assistant's header
    int enable_thinking;        // -1: leave undefined (the template's default); 0 / 1
    const char *date_string;    // NULL: today's date for strftime_now
} vkt_tok_chat_opts;

// Renders msgs[0..n) into a new string *out (free()). Fails when the tokenizer has no
// chat template (name the model directory's tokenizer_config.json, or --chat-template).
vkt_status vkt_tok_chat_render(const vkt_tok *t, const vkt_chat_msg *msgs, int n,
                               const vkt_tok_chat_opts *o, char **out, size_t *out_len,
                               vkt_error *err);
// Renders, then encodes with special tokens parsed and none added (what
// apply_chat_template(tokenize=True) gives).
vkt_status vkt_tok_chat_encode(vkt_tok *t, const vkt_chat_msg *msgs, int n,
                               const vkt_tok_chat_opts *o, vkt_tokens *out, vkt_error *err);

#endif
