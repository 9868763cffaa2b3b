// hf_tokenizer.c: a tokenizer.json loaded and run, in the order tokenizers runs it:
// added tokens split the raw text; each plain run is normalized, split again by the
// normalized added tokens, pre-tokenized into pieces and encoded by the BPE model; the
// post-processor's special tokens are added only when asked (add_special_tokens).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "hf_tokenizer.h"
#include "json_file.h"

struct hf_tok {
    char *path;
    hf_normalizer *norm;
    hf_pretok *pre;
    hf_bpe *bpe;
    hf_decoder *dec;
    bool has_decoder;
    hf_added_token *added;
    int32_t n_added;
    hf_trie raw_trie, norm_trie; // added tokens matched before / after normalization
    int32_t vocab_size;
    int32_t *added_of_id;           // id -> index into added, or -1
    vkt_tokens post_pre, post_post; // the post-processor's ids around a single sequence
    bool dec_bytelevel, dec_bytefallback, dec_spaces; // what vkt_tok_token_bytes undoes
    hf_strlist pieces;                                // scratch of one encode
};

// --- loading --------------------------------------------------------------------------

static vkt_status normalize_content(hf_tok *h, hf_added_token *a, size_t i, vkt_error *err) {
    vkt_bytebuf nb = {0};
    vkt_status s = hf_normalize(h->norm, a->content, a->len, &nb, err);
    if (s == VKT_OK && (nb.oom || nb.n == 0))
        s = vkt_fail(err, VKT_ERR_FORMAT, "%s: added_tokens[%zu] normalizes to nothing", h->path,
                     i);
    if (s != VKT_OK) {
        free(nb.p);
        return s;
    }
    free(a->content);
    a->content = nb.p;
    a->len = nb.n;
    return VKT_OK;
}

static vkt_status parse_added(hf_tok *h, const json_t *arr, vkt_error *err) {
    if (!arr || json_is_null(arr)) return VKT_OK;
    if (!json_is_array(arr))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: added_tokens must be a list", h->path);
    size_t n = json_array_size(arr);
    h->added = calloc(n ? n : 1, sizeof *h->added);
    if (!h->added) return vkt_fail(err, VKT_ERR_NOMEM, "%s: added_tokens", h->path);
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(arr, i);
        const json_t *id = json_object_get(o, "id"), *c = json_object_get(o, "content");
        if (!json_is_object(o) || !json_is_integer(id) || !json_is_string(c) ||
            json_string_length(c) == 0 || json_integer_value(id) < 0 ||
            json_integer_value(id) > 0x7fffffff)
            return vkt_fail(
                err, VKT_ERR_FORMAT,
                "%s: added_tokens[%zu] needs an integer 'id' >= 0 and a non-empty 'content'",
                h->path, i);
        hf_added_token *a = &h->added[h->n_added++];
        a->id = (int32_t)json_integer_value(id);
        a->len = json_string_length(c);
        a->content = malloc(a->len + 1);
        if (!a->content) return vkt_fail(err, VKT_ERR_NOMEM, "%s: added_tokens", h->path);
        memcpy(a->content, json_string_value(c), a->len + 1);
        static const char *const flags[] = {"special", "single_word", "lstrip", "rstrip",
                                            "normalized"};
        bool *dst[] = {&a->special, &a->single_word, &a->lstrip, &a->rstrip, &a->normalized};
        for (int f = 0; f < 5; f++) {
            const json_t *v = json_object_get(o, flags[f]);
            if (v && !json_is_boolean(v))
                return vkt_fail(err, VKT_ERR_FORMAT,
                                "%s: added_tokens[%zu].%s must be true or false", h->path, i,
                                flags[f]);
            *dst[f] = v ? json_is_true(v) : (f == 4 ? !a->special : false);
        }
        // A normalized token is matched after normalization, so by its normalized content
        // (which is then also its string, as tokenizers' AddedVocabulary keeps it).
        if (a->normalized && h->norm) VKT_TRY(normalize_content(h, a, i, err));
        hf_trie *t = a->normalized ? &h->norm_trie : &h->raw_trie;
        if (hf_trie_add(t, a->content, a->len, h->n_added - 1) != VKT_OK)
            return vkt_fail(err, VKT_ERR_NOMEM, "%s: added_tokens", h->path);
    }
    return VKT_OK;
}

// The ids of special token `name` in a TemplateProcessing's special_tokens map.
static vkt_status template_ids(hf_tok *h, const json_t *map, const char *name, vkt_tokens *out,
                               vkt_error *err) {
    const json_t *st = json_object_get(map, name), *ids = json_object_get(st, "ids");
    if (!json_is_array(ids))
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "%s: post_processor: special token '%s' has no 'ids' list", h->path, name);
    for (size_t i = 0; i < json_array_size(ids); i++) {
        const json_t *v = json_array_get(ids, i);
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 0x7fffffff)
            return vkt_fail(err, VKT_ERR_FORMAT,
                            "%s: post_processor: '%s' ids must be integers >= 0", h->path, name);
        VKT_TRY(vkt_tokens_push(out, (int32_t)json_integer_value(v), err));
    }
    return VKT_OK;
}

static vkt_status parse_template(hf_tok *h, const json_t *pp, vkt_error *err) {
    const json_t *single = json_object_get(pp, "single"),
                 *map = json_object_get(pp, "special_tokens");
    if (!json_is_array(single) || !json_is_object(map))
        return vkt_fail(
            err, VKT_ERR_FORMAT,
            "%s: post_processor: TemplateProcessing needs 'single' (list) and 'special_tokens'",
            h->path);
    bool seen_a = false;
    for (size_t i = 0; i < json_array_size(single); i++) {
        const json_t *p = json_array_get(single, i);
        const json_t *sp = json_object_get(p, "SpecialToken"), *sq = json_object_get(p, "Sequence");
        if (sq) {
            seen_a = true;
            continue;
        }
        const json_t *id = json_object_get(sp, "id");
        if (!json_is_string(id))
            return vkt_fail(err, VKT_ERR_FORMAT,
                            "%s: post_processor.single[%zu] is neither SpecialToken nor Sequence",
                            h->path, i);
        VKT_TRY(template_ids(h, map, json_string_value(id), seen_a ? &h->post_post : &h->post_pre,
                             err));
    }
    return VKT_OK;
}

// Bert/Roberta: [cls] A [sep], both given as ["token", id].
static vkt_status parse_cls_sep(hf_tok *h, const json_t *pp, vkt_error *err) {
    const json_t *cls = json_object_get(pp, "cls"), *sep = json_object_get(pp, "sep");
    const json_t *ci = json_array_get(cls, 1), *si = json_array_get(sep, 1);
    if (!json_is_integer(ci) || !json_is_integer(si))
        return vkt_fail(err, VKT_ERR_FORMAT,
                        "%s: post_processor: 'cls' and 'sep' must be [token, id]", h->path);
    VKT_TRY(vkt_tokens_push(&h->post_pre, (int32_t)json_integer_value(ci), err));
    return vkt_tokens_push(&h->post_post, (int32_t)json_integer_value(si), err);
}

static vkt_status parse_post(hf_tok *h, const json_t *pp, vkt_error *err) {
    if (!pp || json_is_null(pp)) return VKT_OK;
    const char *type = json_string_value(json_object_get(pp, "type"));
    if (!type) return vkt_fail(err, VKT_ERR_FORMAT, "%s: post_processor has no 'type'", h->path);
    if (strcmp(type, "ByteLevel") == 0) return VKT_OK; // offsets only: ids unchanged
    if (strcmp(type, "TemplateProcessing") == 0) return parse_template(h, pp, err);
    if (strcmp(type, "BertProcessing") == 0 || strcmp(type, "RobertaProcessing") == 0)
        return parse_cls_sep(h, pp, err);
    if (strcmp(type, "Sequence") == 0) {
        const json_t *list = json_object_get(pp, "processors");
        if (!json_is_array(list))
            return vkt_fail(err, VKT_ERR_FORMAT, "%s: post_processor: Sequence needs 'processors'",
                            h->path);
        for (size_t i = 0; i < json_array_size(list); i++)
            VKT_TRY(parse_post(h, json_array_get(list, i), err));
        return VKT_OK;
    }
    return vkt_fail(err, VKT_ERR_UNSUPPORTED, "%s: post_processor type '%s' is not supported",
                    h->path, type);
}

// Which decoders appear anywhere in the chain (for one token's streamed bytes).
static void scan_decoder(hf_tok *h, const json_t *d) {
    const char *type = json_string_value(json_object_get(d, "type"));
    if (!type) return;
    if (strcmp(type, "ByteLevel") == 0) h->dec_bytelevel = true;
    if (strcmp(type, "ByteFallback") == 0) h->dec_bytefallback = true;
    if (strcmp(type, "Metaspace") == 0 || strcmp(type, "Replace") == 0) h->dec_spaces = true;
    const json_t *list = json_object_get(d, "decoders");
    for (size_t i = 0; i < json_array_size(list); i++) scan_decoder(h, json_array_get(list, i));
}

static vkt_status parse_parts(hf_tok *h, const json_t *root, vkt_error *err) {
    char where[512];
    const char *p = h->path;
    static const char *const refused[] = {"truncation", "padding"};
    for (int i = 0; i < 2; i++) {
        const json_t *v = json_object_get(root, refused[i]);
        if (v && !json_is_null(v))
            return vkt_fail(err, VKT_ERR_UNSUPPORTED,
                            "%s: '%s' is set; vkt reads tokenizers without it", p, refused[i]);
    }
    const json_t *model = json_object_get(root, "model");
    const char *mt = json_string_value(json_object_get(model, "type"));
    if (!json_is_object(model)) return vkt_fail(err, VKT_ERR_FORMAT, "%s: no 'model' object", p);
    if (mt && strcmp(mt, "BPE") != 0)
        return vkt_fail(err, VKT_ERR_UNSUPPORTED,
                        "%s: model: type '%s' is not supported (vkt reads BPE models)", p, mt);
    snprintf(where, sizeof where, "%s: model", p);
    VKT_TRY(hf_bpe_parse(model, where, &h->bpe, err));
    snprintf(where, sizeof where, "%s: normalizer", p);
    VKT_TRY(hf_normalizer_parse(
        json_object_get(root, "normalizer") ? json_object_get(root, "normalizer") : json_null(),
        where, &h->norm, err));
    snprintf(where, sizeof where, "%s: pre_tokenizer", p);
    const json_t *pre = json_object_get(root, "pre_tokenizer");
    VKT_TRY(hf_pretok_parse(pre ? pre : json_null(), where, &h->pre, err));
    snprintf(where, sizeof where, "%s: decoder", p);
    const json_t *dec = json_object_get(root, "decoder");
    h->has_decoder = dec && !json_is_null(dec);
    VKT_TRY(hf_decoder_parse(dec ? dec : json_null(), where, &h->dec, err));
    if (h->has_decoder) scan_decoder(h, dec);
    VKT_TRY(parse_added(h, json_object_get(root, "added_tokens"), err));
    return parse_post(h, json_object_get(root, "post_processor"), err);
}

static vkt_status index_ids(hf_tok *h, vkt_error *err) {
    int32_t v = hf_bpe_vocab_size(h->bpe);
    for (int32_t i = 0; i < h->n_added; i++)
        if (h->added[i].id >= v) v = h->added[i].id + 1;
    h->vocab_size = v;
    h->added_of_id = malloc((size_t)(v ? v : 1) * sizeof *h->added_of_id);
    if (!h->added_of_id)
        return vkt_fail(err, VKT_ERR_NOMEM, "%s: vocabulary of %d", h->path, (int)v);
    for (int32_t i = 0; i < v; i++) h->added_of_id[i] = -1;
    for (int32_t i = 0; i < h->n_added; i++) h->added_of_id[h->added[i].id] = i;
    for (size_t i = 0; i < h->post_pre.n + h->post_post.n; i++) {
        int32_t id = i < h->post_pre.n ? h->post_pre.ids[i] : h->post_post.ids[i - h->post_pre.n];
        if (id >= v || !hf_tok_id_to_token(h, id))
            return vkt_fail(err, VKT_ERR_FORMAT,
                            "%s: post_processor adds id %d, which is not in the vocabulary",
                            h->path, (int)id);
    }
    return VKT_OK;
}

// Reads from root (a parsed tokenizer.json); name is what messages call it.
static vkt_status load_root(const json_t *root, const char *name, hf_tok **out, vkt_error *err) {
    *out = NULL;
    hf_tok *h = calloc(1, sizeof *h);
    if (!h || !(h->path = strdup(name))) {
        free(h);
        return vkt_fail(err, VKT_ERR_NOMEM, "%s", name);
    }
    vkt_status s = json_is_object(root)
                       ? parse_parts(h, root, err)
                       : vkt_fail(err, VKT_ERR_FORMAT, "%s: not a JSON object", name);
    if (s == VKT_OK) s = index_ids(h, err);
    if (s != VKT_OK) {
        hf_tok_free(h);
        return s;
    }
    *out = h;
    return VKT_OK;
}

vkt_status hf_tok_load(const char *path, hf_tok **out, vkt_error *err) {
    *out = NULL;
    json_t *root = NULL;
    VKT_TRY(vkt_json_file_read(path, 1, &root, err));
    vkt_status s = load_root(root, path, out, err);
    json_decref(root);
    return s;
}

vkt_status hf_tok_load_text(const char *text, size_t n, const char *name, hf_tok **out,
                            vkt_error *err) {
    *out = NULL;
    json_error_t je;
    json_t *root = json_loadb(text, n, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return vkt_fail(err, VKT_ERR_FORMAT, "%s:%d:%d: %s", name, je.line, je.column, je.text);
    vkt_status s = load_root(root, name, out, err);
    json_decref(root);
    return s;
}

void hf_tok_free(hf_tok *h) {
    if (!h) return;
    hf_normalizer_free(h->norm);
    hf_pretok_free(h->pre);
    hf_bpe_free(h->bpe);
    hf_decoder_free(h->dec);
    for (int32_t i = 0; i < h->n_added; i++) free(h->added[i].content);
    free(h->added);
    hf_trie_free(&h->raw_trie);
    hf_trie_free(&h->norm_trie);
    free(h->added_of_id);
    vkt_tokens_free(&h->post_pre);
    vkt_tokens_free(&h->post_post);
    hf_strlist_free(&h->pieces);
    free(h->path);
    free(h);
}

// --- encoding -------------------------------------------------------------------------

typedef struct enc_ctx {
    hf_tok *h;
    bool skip_special;
    vkt_tokens *out;
    vkt_error *err;
} enc_ctx;

static vkt_status on_token(void *user, int32_t k) {
    enc_ctx *c = user;
    return vkt_tokens_push(c->out, c->h->added[k].id, c->err);
}

// A normalized run with no added token in it: pre-tokenize, then the model.
static vkt_status on_normalized(void *user, const char *s, size_t n, bool at_start) {
    enc_ctx *c = user;
    hf_tok *h = c->h;
    hf_strlist_clear(&h->pieces);
    VKT_TRY(hf_pretokenize(h->pre, s, n, at_start, &h->pieces, c->err));
    if (h->pieces.oom) return vkt_fail(c->err, VKT_ERR_NOMEM, "%s: pre-tokenizing", h->path);
    for (size_t i = 0; i < h->pieces.n; i++) {
        size_t len;
        const char *p = hf_strlist_get(&h->pieces, i, &len);
        if (len) VKT_TRY(hf_bpe_tokenize(h->bpe, p, len, c->out, c->err));
    }
    return VKT_OK;
}

// A raw run between added tokens: normalize, then split by the normalized added tokens.
static vkt_status on_raw(void *user, const char *s, size_t n, bool at_start) {
    enc_ctx *c = user;
    hf_tok *h = c->h;
    if (!h->norm && h->norm_trie.n == 0) return on_normalized(user, s, n, at_start);
    vkt_bytebuf nb = {0};
    vkt_status st = hf_normalize(h->norm, s, n, &nb, c->err);
    if (st == VKT_OK && nb.oom) st = vkt_fail(c->err, VKT_ERR_NOMEM, "%s: normalizing", h->path);
    if (st == VKT_OK)
        st = hf_added_split(&h->norm_trie, h->added, c->skip_special, nb.p ? nb.p : "", nb.n,
                            at_start, on_normalized, on_token, c);
    free(nb.p);
    return st;
}

vkt_status hf_tok_encode(hf_tok *h, const char *text, size_t len, unsigned flags, vkt_tokens *out,
                         vkt_error *err) {
    vkt_bytebuf clean = {0};
    hf_utf8_lossy(text, len, &clean);
    if (clean.oom) {
        free(clean.p);
        return vkt_fail(err, VKT_ERR_NOMEM, "tokenizing %zu bytes", len);
    }
    enc_ctx c = {h, !(flags & VKT_TOKF_PARSE_SPECIAL), out, err};
    vkt_status s = VKT_OK;
    if (flags & VKT_TOKF_ADD_SPECIAL)
        for (size_t i = 0; i < h->post_pre.n && s == VKT_OK; i++)
            s = vkt_tokens_push(out, h->post_pre.ids[i], err);
    if (s == VKT_OK)
        s = hf_added_split(&h->raw_trie, h->added, c.skip_special, clean.p ? clean.p : "", clean.n,
                           true, on_raw, on_token, &c);
    if (flags & VKT_TOKF_ADD_SPECIAL)
        for (size_t i = 0; i < h->post_post.n && s == VKT_OK; i++)
            s = vkt_tokens_push(out, h->post_post.ids[i], err);
    free(clean.p);
    return s;
}

// --- ids and their strings --------------------------------------------------------------

int hf_tok_vocab_size(const hf_tok *h) { return h->vocab_size; }

const char *hf_tok_id_to_token(const hf_tok *h, int32_t id) {
    if (id < 0 || id >= h->vocab_size) return NULL;
    if (h->added_of_id[id] >= 0) return h->added[h->added_of_id[id]].content;
    return hf_bpe_id_to_token(h->bpe, id);
}

int32_t hf_tok_token_to_id(const hf_tok *h, const char *token) {
    for (int32_t i = 0; i < h->n_added; i++)
        if (strcmp(h->added[i].content, token) == 0) return h->added[i].id;
    return hf_bpe_token_to_id(h->bpe, token, strlen(token));
}

bool hf_tok_is_special(const hf_tok *h, int32_t id) {
    return id >= 0 && id < h->vocab_size && h->added_of_id[id] >= 0 &&
           h->added[h->added_of_id[id]].special;
}

int32_t hf_tok_template_bos(const hf_tok *h) { return h->post_pre.n ? h->post_pre.ids[0] : -1; }

static int put(char *buf, size_t cap, size_t at, const char *s, size_t n) {
    if (buf && at < cap) memcpy(buf + at, s, at + n <= cap ? n : cap - at);
    return (int)n;
}

int hf_tok_token_bytes(const hf_tok *h, int32_t id, char *buf, size_t cap) {
    const char *s = hf_tok_id_to_token(h, id);
    if (!s) return -1;
    size_t n = strlen(s), len = 0;
    if (h->added_of_id[id] >= 0) return put(buf, cap, 0, s, n);
    unsigned v;
    if (h->dec_bytefallback && n == 6 && sscanf(s, "<0x%2X>", &v) == 1) {
        char b = (char)v;
        return put(buf, cap, 0, &b, 1);
    }
    for (size_t i = 0; i < n;) {
        int k = hf_utf8_len((const unsigned char *)s + i, n - i);
        if (k <= 0) k = 1;
        utf8proc_int32_t cp = -1;
        utf8proc_iterate((const utf8proc_uint8_t *)s + i, k, &cp);
        int b = h->dec_bytelevel && cp >= 0 ? hf_cp_to_byte((uint32_t)cp) : -1;
        if (b >= 0) {
            char c = (char)b;
            len += (size_t)put(buf, cap, len, &c, 1);
        } else if (h->dec_spaces && k == 3 && memcmp(s + i, "\xE2\x96\x81", 3) == 0) {
            len += (size_t)put(buf, cap, len, " ", 1);
        } else {
            len += (size_t)put(buf, cap, len, s + i, (size_t)k);
        }
        i += (size_t)k;
    }
    return (int)len;
}

// --- decoding ---------------------------------------------------------------------------

vkt_status hf_tok_decode(hf_tok *h, const int32_t *ids, size_t n, unsigned flags, vkt_bytebuf *out,
                         vkt_error *err) {
    hf_strlist toks = {0};
    for (size_t i = 0; i < n; i++) {
        const char *s = hf_tok_id_to_token(h, ids[i]);
        if (!s) {
            hf_strlist_free(&toks);
            return vkt_fail(err, VKT_ERR_ARG,
                            "decode: id %d at position %zu is not in the vocabulary of %s",
                            (int)ids[i], i, h->path);
        }
        if ((flags & VKT_TOKF_SKIP_SPECIAL) && hf_tok_is_special(h, ids[i])) continue;
        hf_strlist_push(&toks, s, strlen(s), 0);
    }
    vkt_status st = VKT_OK;
    if (toks.oom)
        st = vkt_fail(err, VKT_ERR_NOMEM, "decode: %zu ids", n);
    else if (h->has_decoder)
        st = hf_decode(h->dec, &toks, out, err);
    else // tokenizers joins with spaces when there is no decoder
        for (size_t i = 0; i < toks.n; i++) {
            size_t len;
            const char *s = hf_strlist_get(&toks, i, &len);
            if (i) vkt_bytebuf_put(out, " ", 1);
            vkt_bytebuf_put(out, s, len);
        }
    hf_strlist_free(&toks);
    if (st == VKT_OK && out->oom) st = vkt_fail(err, VKT_ERR_NOMEM, "decode: %zu ids", n);
    return st;
}
