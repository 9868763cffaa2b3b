// hf_tokenizer.h: a loaded tokenizer.json as the front (tok.c) uses it: the added tokens,
// the pipeline's parts and the post-processor, with encode and decode over them.
#ifndef VKT_HF_TOKENIZER_H
#define VKT_HF_TOKENIZER_H

#include "hf_internal.h"

typedef struct hf_added_token {
    char *content;
    size_t len;
    int32_t id;
    bool special, single_word, lstrip, rstrip, normalized;
} hf_added_token;

// A byte trie over added tokens' contents: finds the leftmost-longest match, as the
// Aho-Corasick automaton of tokenizers' AddedVocabulary does.
typedef struct hf_trie_node {
    int32_t child, sibling; // first child, next sibling (-1: none)
    int32_t token;          // index into the added tokens ending here, or -1
    unsigned char byte;
} hf_trie_node;
typedef struct hf_trie {
    hf_trie_node *node;
    int32_t n, cap;
} hf_trie;

typedef struct hf_tok hf_tok;

// Reads path (a tokenizer.json). Errors name the file and the part.
vkt_status hf_tok_load(const char *path, hf_tok **out, vkt_error *err);
// The same from the text of a tokenizer.json in memory; name is what messages call it.
vkt_status hf_tok_load_text(const char *text, size_t n, const char *name, hf_tok **out,
                            vkt_error *err);
void hf_tok_free(hf_tok *h);

vkt_status hf_tok_encode(hf_tok *h, const char *text, size_t len, unsigned flags, vkt_tokens *out,
                         vkt_error *err);
vkt_status hf_tok_decode(hf_tok *h, const int32_t *ids, size_t n, unsigned flags, vkt_bytebuf *out,
                         vkt_error *err);

int hf_tok_vocab_size(const hf_tok *h);
const char *hf_tok_id_to_token(const hf_tok *h, int32_t id);
int32_t hf_tok_token_to_id(const hf_tok *h, const char *token);
bool hf_tok_is_special(const hf_tok *h, int32_t id);
int hf_tok_token_bytes(const hf_tok *h, int32_t id, char *buf, size_t cap);
// The special tokens the post-processor adds before the text (a TemplateProcessing's
// leading SpecialTokens, e.g. BOS): the first one, or -1.
int32_t hf_tok_template_bos(const hf_tok *h);

// Added-token matching (hf_added.c). hf_added_split splits text[0..n) into runs of plain
// text and added tokens from the trie: on_text(user, s, len, at_start) for a run of plain
// text, on_token(user, index) for a matched token (skipped when skip_special and special).
typedef vkt_status (*hf_text_fn)(void *user, const char *s, size_t n, bool at_start);
typedef vkt_status (*hf_token_fn)(void *user, int32_t token_index);
vkt_status hf_trie_add(hf_trie *t, const char *s, size_t n, int32_t token_index);
void hf_trie_free(hf_trie *t);
vkt_status hf_added_split(const hf_trie *t, const hf_added_token *tokens, bool skip_special,
                          const char *text, size_t n, bool at_start, hf_text_fn on_text,
                          hf_token_fn on_token, void *user);

#endif
