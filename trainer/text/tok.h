// tok.h: one tokenizer object for every command that takes text. A model directory that
// holds tokenizer.json gets the Hugging Face pipeline (hf_tokenizer.c); one without it
// gets vkt's byte tokenizer (tokenizer.h), so models vkt made keep their ids exactly.
//
//   text --added tokens--> segments --normalizer--> --pre-tokenizer--> pieces
//        --model (BPE)--> ids --post-processor (only with VKT_TOKF_ADD_SPECIAL)--> ids
//   ids --decoder--> text
//
// The chat template of tokenizer_config.json (chat_template.h) renders conversations;
// the result is encoded with VKT_TOKF_PARSE_SPECIAL.
#ifndef VKT_TOK_H
#define VKT_TOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

typedef struct vkt_tok vkt_tok;

// A growable list of ids the tokenizer appends to; vkt_tokens_free releases it.
typedef struct vkt_tokens {
    int32_t *ids;
    size_t n, cap;
} vkt_tokens;
vkt_status vkt_tokens_push(vkt_tokens *t, int32_t id, vkt_error *err);
void vkt_tokens_free(vkt_tokens *t);

// encode flags
#define VKT_TOKF_PARSE_SPECIAL 1u // special tokens' text becomes their ids (else plain text)
#define VKT_TOKF_ADD_SPECIAL 2u   // the post-processor's BOS/EOS (add_special_tokens=True)
// decode flags
#define VKT_TOKF_SKIP_SPECIAL 1u // special tokens produce no text

typedef enum { VKT_TOK_BYTE = 0, VKT_TOK_HF } vkt_tok_kind;

// DIR/tokenizer.json (with DIR/tokenizer_config.json and DIR/generation_config.json where
// present) or, when DIR has no tokenizer.json, the byte tokenizer.
vkt_status vkt_tok_load_dir(const char *dir, vkt_tok **out, vkt_error *err);
// A tokenizer.json file alone (no config: no chat template, EOS from its added tokens).
vkt_status vkt_tok_load_file(const char *tokenizer_json, vkt_tok **out, vkt_error *err);
// The same from a tokenizer.json's text in memory (name is what messages call it).
vkt_status vkt_tok_load_json_text(const char *text, size_t n, const char *name, vkt_tok **out,
                                  vkt_error *err);
// vkt's byte tokenizer (256 bytes + 5 special tokens).
vkt_status vkt_tok_byte(vkt_tok **out, vkt_error *err);
void vkt_tok_free(vkt_tok *t);

vkt_tok_kind vkt_tok_kind_of(const vkt_tok *t);
// Ids are 0..vocab_size-1 (the model's vocabulary may be larger).
int vkt_tok_vocab_size(const vkt_tok *t);

// Appends the ids of len bytes of text to out. Invalid UTF-8 is read as U+FFFD, one per
// maximal invalid subpart (as a browser's TextDecoder and Rust's from_utf8_lossy).
vkt_status vkt_tok_encode(vkt_tok *t, const char *text, size_t len, unsigned flags, vkt_tokens *out,
                          vkt_error *err);
// Decodes n ids into a new NUL-terminated string *out (free()), *out_len bytes. Fails on an
// id outside the vocabulary, naming its position.
vkt_status vkt_tok_decode(vkt_tok *t, const int32_t *ids, size_t n, unsigned flags, char **out,
                          size_t *out_len, vkt_error *err);

// The vocabulary's string for id ("Ġthe", "<|im_end|>"), or NULL outside the vocabulary
// (and for the byte tokenizer's 256 bytes, which have no string but themselves).
const char *vkt_tok_id_to_token(const vkt_tok *t, int32_t id);
// The id of a vocabulary string (added tokens included), or -1.
int32_t vkt_tok_token_to_id(const vkt_tok *t, const char *token);
bool vkt_tok_is_special(const vkt_tok *t, int32_t id);
// The bytes one token adds to a streamed text (a ByteLevel token's bytes, a byte-fallback
// token's byte, "▁" as a space; a special token's content): what stop strings are matched
// against while generating. Writes at most cap bytes, returns the length it needs, or -1
// for an id outside the vocabulary.
int vkt_tok_token_bytes(const vkt_tok *t, int32_t id, char *buf, size_t cap);

// End-of-sequence ids a generation stops at (generation_config.json's eos_token_id list,
// else tokenizer_config.json's eos_token, else none for HF; <|endoftext|> for bytes).
const int32_t *vkt_tok_eos_ids(const vkt_tok *t, int *n);
// BOS id, or -1 when there is none.
int32_t vkt_tok_bos_id(const vkt_tok *t);
// A token that is never trained on, for padding rows (pad_token, else EOS, else 0).
int32_t vkt_tok_pad_id(const vkt_tok *t);

// The chat template's source (tokenizer_config.json's chat_template, or the file given to
// vkt_tok_set_chat_template), or NULL when the model has none.
const char *vkt_tok_chat_template(const vkt_tok *t);
vkt_status vkt_tok_set_chat_template_file(vkt_tok *t, const char *path, vkt_error *err);
// bos_token / eos_token strings of tokenizer_config.json ("" when absent).
const char *vkt_tok_bos_text(const vkt_tok *t);
const char *vkt_tok_eos_text(const vkt_tok *t);

#endif
