// rl_fmt.h: how self-play's text (rl_prompt.h: a compact prompt, an answer "[Move]" or
// "\boxed{Move}") becomes a model's token ids, and how a response's text is read back.
//
// vkt's own models read bytes (tok NULL): the prompt's bytes, the answer's bytes then
// <|endoftext|>, the response read whole. A pretrained model reads its tokenizer.json:
//   prompt  without chat: the text encoded with the tokenizer's BOS where it adds one;
//           with chat: the prompt (its final newline dropped) as the user turn of the chat
//           template, then the assistant's header (add_generation_prompt), enable_thinking
//           = think > 0 and a fixed date (a run must not change with the day it starts);
//   answer  the text then the end of the assistant's turn: the first special token the
//           template writes after an assistant message (<|im_end|>, <|eot_id|>), else the
//           tokenizer's eos_token;
//   response  a <think>...</think> block is not the answer: the move is read after the last
//           </think>; a response whose <think> never closes names no move.
#ifndef VKT_RL_FMT_H
#define VKT_RL_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "generate.h"
#include "status.h"
#include "tok.h"

typedef struct vkt_rl_fmt {
    int think;    // 0: answer "[Move]"; N > 0: up to N tokens of thinking, then "\boxed{Move}"
    vkt_tok *tok; // the model's tokenizer (not owned); NULL: vkt's byte tokenizer
    bool chat;    // tok: prompts are user turns of the chat template
    // Set by vkt_rl_fmt_prepare (tok != NULL):
    int32_t end_id;   // the token that ends an answer
    int extra;        // tokens a prompt may take beyond one per byte (template, BOS)
    char *pre, *post; // chat: the rendered text before and after the user's content (owned)
} vkt_rl_fmt;

// Resolves end_id, extra and the chat template's text around a user turn; names what the
// tokenizer lacks (no chat template with chat, no end-of-turn or EOS token). Nothing to do
// for the byte tokenizer. vkt_rl_fmt_free releases what it made.
vkt_status vkt_rl_fmt_prepare(vkt_rl_fmt *f, vkt_error *err);
void vkt_rl_fmt_free(vkt_rl_fmt *f);

// The ids of a prompt's text (len bytes, ending with its newline): *ids malloc'd.
vkt_status vkt_rl_fmt_prompt_ids(const vkt_rl_fmt *f, const char *text, size_t len, int32_t **ids,
                                 int *n, vkt_error *err);
// The ids of an answer's text then the answer's end, into ids[cap].
vkt_status vkt_rl_fmt_answer_ids(const vkt_rl_fmt *f, const char *text, int32_t *ids, int cap,
                                 int *n, vkt_error *err);
// Tokens a prompt of `bytes` bytes takes at most.
int vkt_rl_fmt_prompt_bound(const vkt_rl_fmt *f, int bytes);
// The part of a response's text the protocol reads (above): text + *off, *n bytes.
void vkt_rl_fmt_answer_span(const vkt_rl_fmt *f, const char *text, size_t len, size_t *off,
                            size_t *n);
// Sampling settings for this format's model: the tokenizer that decodes and stops it.
void vkt_rl_fmt_gen_opts(const vkt_rl_fmt *f, vkt_gen_opts *o);

#endif
