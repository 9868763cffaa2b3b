// effsteer_tok.h: the efficiency-steering task's text as a model's token ids, and its
// answers back as text to grade (docs/efficiency_steering.md, "On a pretrained model").
//
// vkt's own task model reads one id per byte: with no tokenizer (or vkt's byte tokenizer)
// the ids here are exactly the bytes, no BOS, as the experiment always fed them. A model
// with a tokenizer.json reads the prompt as vkt train --format jsonl encodes one (its BOS
// where the tokenizer adds one) or, with chat, as a user message of its chat template
// ending with the assistant's header; completions are encoded on their own with no special
// tokens (as the jsonl loader does), so a trace's ids are the same under every prompt.
#ifndef VKT_EFFSTEER_TOK_H
#define VKT_EFFSTEER_TOK_H

#include <stdbool.h>
#include <stddef.h>

#include "effsteer_task.h"
#include "tok.h"

typedef struct vkt_eff_enc {
    vkt_tok *tok;        // the model's tokenizer; NULL (or a byte tokenizer): one id per byte
    bool chat;           // the prompt as a user turn of the chat template (tokenizer.json only)
    const char *system;  // with chat: a system message first, or NULL
    int enable_thinking; // with chat: -1 the template's default, else 0 / 1
} vkt_eff_enc;

// True when e is NULL or reads bytes (the byte-level experiment, unchanged).
bool vkt_eff_enc_is_bytes(const vkt_eff_enc *e);

// Appends the ids of the prompt of (tag, x, y) to out; fails naming a bad item.
vkt_status vkt_eff_encode_prompt(const vkt_eff_enc *e, int tag, int x, int y, vkt_tokens *out,
                                 vkt_error *err);

// Appends the ids of a completion text to out and, when ends is not NULL, sets *ends to a
// new array (free()) of one entry per appended id: the byte offset in comp where that
// token's text ends (k + 1 for the k-th byte with bytes). Fails when the tokens do not
// decode back to comp (the positions would not be the text's).
vkt_status vkt_eff_encode_completion(const vkt_eff_enc *e, const char *comp, vkt_tokens *out,
                                     int **ends, vkt_error *err);

// True when the trace row whose token ends at byte offset end of comp (lc bytes) is a
// decision row: that token ends a column line ("...\n") and the next line starts "tens:" or
// "ans=" (a verbose trace would write "verify:" there). With bytes, row j ends at j.
bool vkt_eff_decision_at(const char *comp, size_t lc, size_t end);

// Where the graded answer starts in a response: with bytes 0; with a tokenizer past a
// leading "<think>...</think>" block (Qwen3; an unclosed one is all thinking: len) and the
// white space after it or at the start.
size_t vkt_eff_answer_start(const vkt_eff_enc *e, const char *text, size_t len);

// vkt_eff_grade of a response. With a tokenizer the answer (vkt_eff_answer_start) is
// graded as if it began with the completion's "\n" (the white space a tokenizer or a chat
// template puts before it is not the model's choice of format).
void vkt_eff_grade_response(const vkt_eff_enc *e, const char *text, size_t len, int x, int y,
                            vkt_eff_check *r);

#endif
