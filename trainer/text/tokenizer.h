// tokenizer.h: the byte-level tokenizer. Token id = byte value (0..255) for every byte of
// the text, then five special tokens:
//
//   256 <|endoftext|>   end of a document / of a generation
//   257 <|pad|>         padding (never trained on)
//   258 <|system|>      chat roles, for later use
//   259 <|user|>
//   260 <|assistant|>
//
// The tokenizer's vocabulary is 261; a model's vocabulary may be larger (presets round the
// embedding up, e.g. to 264 or 512); ids past 260 are not tokens and decode rejects them.
// Any byte string encodes (invalid UTF-8 included) and decodes back to itself.
#ifndef VKT_TOKENIZER_H
#define VKT_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

enum {
    VKT_TOK_EOT = 256,
    VKT_TOK_PAD = 257,
    VKT_TOK_SYSTEM = 258,
    VKT_TOK_USER = 259,
    VKT_TOK_ASSISTANT = 260,
    VKT_TOK_VOCAB = 261,
};

// encode flags
#define VKT_TOK_PARSE_SPECIAL 1u // "<|endoftext|>" etc. in the text become their ids
// decode flags
#define VKT_TOK_SKIP_SPECIAL 1u // special tokens produce no text (default: their names)

// "<|endoftext|>" for 256, ...; NULL for a byte or an id past the vocabulary.
const char *vkt_tokenizer_special_name(int32_t id);
// The id of a special token's name, or -1.
int32_t vkt_tokenizer_special_id(const char *name);

// Encodes len bytes of text into ids[0..*n_out). At most len ids are produced, so an
// array of len entries always suffices; ids may be NULL to only count. Fails when cap is
// too small (*n_out still gets the count needed).
vkt_status vkt_tokenizer_encode(const char *text, size_t len, unsigned flags, int32_t *ids,
                                size_t cap, size_t *n_out, vkt_error *err);

// Decodes n ids into out[0..*n_out) plus a terminating NUL (out may be NULL to only
// count; cap counts the NUL). Fails on an id outside 0..260, naming its position.
vkt_status vkt_tokenizer_decode(const int32_t *ids, size_t n, unsigned flags, char *out, size_t cap,
                                size_t *n_out, vkt_error *err);

#endif
