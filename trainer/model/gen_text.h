// gen_text.h: the text side of generation (gen_forward.c, rules in generate.h): the bytes
// each sampled token adds to a sample's text, stop strings matched on them, and the final
// text of a tokenizer.json model (vkt_tok_decode of the tokens it keeps).
#ifndef VKT_GEN_TEXT_H
#define VKT_GEN_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "generate.h"

// Appends the bytes of token id to r->text (capacity *cap, grown; NUL-terminated).
// False when out of memory.
bool vkt_gen_text_append(const vkt_tok *tok, vkt_gen_result *r, size_t *cap, int32_t id);
// After a token appended r->text[from..text_len): the first of stop[0..n_stop) that occurs
// ending past `from` (with the byte tokenizer: at the end), or -1. *at = where it starts.
int vkt_gen_text_stop(const vkt_tok *tok, const vkt_gen_result *r, size_t from,
                      const char *const *stop, int n_stop, size_t *at);
// A finished sample of a tokenizer.json model: r->text (its first r->text_len streamed
// bytes kept) becomes the decoded text of the tokens those bytes came from, plus the kept
// bytes of a token the cut went through. n_tokens: tokens the text covers (an ending EOS
// left out). Nothing changes for the byte tokenizer.
vkt_status vkt_gen_text_finish(vkt_tok *tok, vkt_gen_result *r, int n_tokens, vkt_error *err);

#endif
