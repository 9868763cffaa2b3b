// hf_internal.h: the parts of a Hugging Face tokenizer.json pipeline, as the glue
// (hf_tokenizer.c) sees them. Each part is parsed once from its JSON object and then
// applied many times; parse errors name the file and the part ("tokenizer.json:
// pre_tokenizer.pretokenizers[0]: Split: unknown behavior 'Foo'").
//
// Text is UTF-8 everywhere (the glue replaces invalid input by U+FFFD before any part
// sees it). Lists of strings (pre-tokenized pieces, decoded tokens) are hf_strlist.
#ifndef VKT_HF_INTERNAL_H
#define VKT_HF_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytebuf.h"
#include "status.h"
#include "tok.h"

// --- a list of strings, back to back in one buffer -------------------------------------
// String i is text.p[start(i) .. end[i]) with start(i) = i ? end[i-1] : 0. flag[i] holds
// HF_PIECE_AT_START when string i begins at offset 0 of the original input (Metaspace's
// prepend_scheme "first" needs it).
#define HF_PIECE_AT_START 1u
typedef struct hf_strlist {
    vkt_bytebuf text;
    size_t *end;
    unsigned char *flag;
    size_t n, cap;
    bool oom;
} hf_strlist;

void hf_strlist_push(hf_strlist *l, const char *s, size_t n, unsigned flag);
const char *hf_strlist_get(const hf_strlist *l, size_t i, size_t *len);
void hf_strlist_clear(hf_strlist *l); // keeps memory
void hf_strlist_free(hf_strlist *l);

// --- UTF-8 ----------------------------------------------------------------------------
// Length of the valid UTF-8 sequence at s[0..n), or 0 when it is not one.
int hf_utf8_len(const unsigned char *s, size_t n);
// Appends in[0..n) to out with every maximal invalid subpart replaced by U+FFFD (the
// WHATWG / Unicode "best practice" that TextDecoder and from_utf8_lossy follow).
void hf_utf8_lossy(const char *in, size_t n, vkt_bytebuf *out);
// Appends code point cp as UTF-8.
void hf_utf8_put(vkt_bytebuf *out, uint32_t cp);

// --- regular expressions (PCRE2, UTF + UCP, JIT where available) ------------------------
typedef struct hf_regex hf_regex;
// Compiles a pattern of tokenizer.json (the Rust `onig`/`regex` dialect these files use:
// \p{L}, (?i:...), lookahead). what names the part for the error message.
vkt_status hf_regex_compile(const char *pattern, const char *what, hf_regex **out, vkt_error *err);
// A pattern that matches `literal` exactly (a "String" pattern).
vkt_status hf_regex_literal(const char *literal, const char *what, hf_regex **out, vkt_error *err);
// The first match in s[start..n): returns true and sets [*ms, *me), else false.
bool hf_regex_find(const hf_regex *re, const char *s, size_t n, size_t start, size_t *ms,
                   size_t *me);
void hf_regex_free(hf_regex *re);

// --- normalizers: NFC, NFKC, NFD, NFKD, Prepend, Replace, Lowercase, Strip, Sequence --------
typedef struct hf_normalizer hf_normalizer;
// node may be JSON null (no normalizer: *out = NULL, and hf_normalize copies).
vkt_status hf_normalizer_parse(const json_t *node, const char *where, hf_normalizer **out,
                               vkt_error *err);
// Appends the normalized in[0..n) to out.
vkt_status hf_normalize(const hf_normalizer *nm, const char *in, size_t n, vkt_bytebuf *out,
                        vkt_error *err);
void hf_normalizer_free(hf_normalizer *nm);

// --- pre-tokenizers: ByteLevel, Split, Digits, Metaspace, Punctuation, Whitespace,
//     WhitespaceSplit, Sequence ------------------------------------------------------------
typedef struct hf_pretok hf_pretok;
vkt_status hf_pretok_parse(const json_t *node, const char *where, hf_pretok **out, vkt_error *err);
// Splits one normalized segment into pieces appended to out (a NULL pre-tokenizer gives
// the whole segment as one piece). at_start: the segment begins at offset 0 of the input.
vkt_status hf_pretokenize(const hf_pretok *pt, const char *in, size_t n, bool at_start,
                          hf_strlist *out, vkt_error *err);
void hf_pretok_free(hf_pretok *pt);
// The GPT-2 byte -> printable code point table the ByteLevel parts share (byte b is the
// code point hf_byte_to_cp[b]); hf_cp_to_byte is its inverse (-1 off the table).
extern const uint16_t hf_byte_to_cp[256];
int hf_cp_to_byte(uint32_t cp);

// --- the model: BPE ----------------------------------------------------------------------
typedef struct hf_bpe hf_bpe;
// The "model" object of tokenizer.json (type BPE; anything else is refused by the glue).
vkt_status hf_bpe_parse(const json_t *node, const char *where, hf_bpe **out, vkt_error *err);
// Appends the ids of one pre-tokenized piece. Caches whole pieces (bounded memory).
vkt_status hf_bpe_tokenize(hf_bpe *m, const char *piece, size_t n, vkt_tokens *out, vkt_error *err);
int hf_bpe_vocab_size(const hf_bpe *m); // 1 + the largest id of the model's vocab
const char *hf_bpe_id_to_token(const hf_bpe *m, int32_t id);          // NULL if not in the vocab
int32_t hf_bpe_token_to_id(const hf_bpe *m, const char *s, size_t n); // -1 if absent
void hf_bpe_free(hf_bpe *m);

// --- decoders: ByteLevel, ByteFallback, Fuse, Strip, Replace, Metaspace, Sequence ----------
typedef struct hf_decoder hf_decoder;
vkt_status hf_decoder_parse(const json_t *node, const char *where, hf_decoder **out,
                            vkt_error *err);
// Decodes the token strings of tokens (in order) and appends the text to out (a NULL
// decoder concatenates). May rewrite tokens in place.
vkt_status hf_decode(const hf_decoder *d, hf_strlist *tokens, vkt_bytebuf *out, vkt_error *err);
void hf_decoder_free(hf_decoder *d);

#endif
