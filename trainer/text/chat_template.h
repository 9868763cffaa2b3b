// chat_template.h: renders a conversation with a model's chat template, the Jinja2 text of
// tokenizer_config.json's "chat_template", exactly as transformers' apply_chat_template
// renders it (jinja2 sandbox, trim_blocks, lstrip_blocks, loopcontrols, its tojson,
// raise_exception and strftime_now). The engine is a Jinja2 subset (jinja_internal.h):
// what real templates of Llama 3.x, Qwen 2.5 / 3, SmolLM2, Mistral and Gemma 3 use. A tag,
// filter, test or method outside it fails with its name and line, never renders silently.
//
// The template sees: messages (a list of {role, content}), add_generation_prompt,
// bos_token / eos_token / enable_thinking / date_string when set, tools and documents as
// none (transformers passes None), raise_exception(msg) and strftime_now(fmt).
#ifndef VKT_CHAT_TEMPLATE_H
#define VKT_CHAT_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

typedef struct vkt_chat_msg {
    const char *role;
    const char *content; // NULL: None in the template
} vkt_chat_msg;

typedef struct vkt_chat_opts {
    bool add_generation_prompt;
    const char *bos_token, *eos_token; // NULL: undefined in the template
    int enable_thinking;               // -1: undefined; 0 / 1: false / true
    const char *date_string;           // NULL: undefined (Llama 3.x then asks strftime_now)
    int64_t now;                       // strftime_now's clock, seconds since the epoch (UTC);
                                       // 0: the current time
} vkt_chat_opts;

typedef struct vkt_chat_template vkt_chat_template;

// Parses a template; name prefixes error messages (NULL: "chat template"), as in
// "chat template line 3: filter 'wordwrap' is not supported".
vkt_status vkt_chat_template_parse(const char *src, const char *name, vkt_chat_template **out,
                                   vkt_error *err);
// Renders n messages into a new NUL-terminated string *out (free()), *out_len bytes. A
// raise_exception() in the template fails with VKT_ERR_ARG and its message; a template
// that needs more than the engine's budgets (16 MiB of text, 256 MiB of values, 20M steps)
// fails instead of running on.
vkt_status vkt_chat_template_render(const vkt_chat_template *t, const vkt_chat_msg *msgs, int n,
                                    const vkt_chat_opts *o, char **out, size_t *out_len,
                                    vkt_error *err);
void vkt_chat_template_free(vkt_chat_template *t);

#endif
