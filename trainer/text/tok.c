// tok.c: the tokenizer a model directory asks for (see tok.h): the byte tokenizer, or a
// tokenizer.json with what tokenizer_config.json and generation_config.json say about its
// special tokens and chat template.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hf_tokenizer.h"
#include "json_file.h"
#include "read_file.h"
#include "tokenizer.h"

struct vkt_tok {
    vkt_tok_kind kind;
    hf_tok *hf;
    int32_t eos[8];
    int n_eos;
    int32_t bos, pad;
    char *chat_template, *bos_text, *eos_text;
};

vkt_status vkt_tokens_push(vkt_tokens *t, int32_t id, vkt_error *err) {
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        int32_t *q = realloc(t->ids, cap * sizeof *q);
        if (!q) return vkt_fail(err, VKT_ERR_NOMEM, "token list of %zu ids", cap);
        t->ids = q, t->cap = cap;
    }
    t->ids[t->n++] = id;
    return VKT_OK;
}

void vkt_tokens_free(vkt_tokens *t) {
    free(t->ids);
    memset(t, 0, sizeof *t);
}

vkt_status vkt_tok_byte(vkt_tok **out, vkt_error *err) {
    vkt_tok *t = calloc(1, sizeof *t);
    if (!t) return vkt_fail(err, VKT_ERR_NOMEM, "byte tokenizer");
    t->kind = VKT_TOK_BYTE;
    t->eos[0] = VKT_TOK_EOT, t->n_eos = 1;
    t->bos = -1, t->pad = VKT_TOK_PAD;
    *out = t;
    return VKT_OK;
}

void vkt_tok_free(vkt_tok *t) {
    if (!t) return;
    hf_tok_free(t->hf);
    free(t->chat_template);
    free(t->bos_text);
    free(t->eos_text);
    free(t);
}

// A special token of tokenizer_config.json: "text" or {"content": "text", ...}.
static const char *token_text(const json_t *v) {
    if (json_is_string(v)) return json_string_value(v);
    return json_string_value(json_object_get(v, "content"));
}

static vkt_status dup_to(char **dst, const char *s, vkt_error *err) {
    free(*dst);
    *dst = strdup(s ? s : "");
    return *dst ? VKT_OK : vkt_fail(err, VKT_ERR_NOMEM, "tokenizer config");
}

// chat_template: a string, or a list of {"name", "template"} of which "default" is used.
static vkt_status read_template(vkt_tok *t, const char *path, const json_t *ct, vkt_error *err) {
    if (!ct || json_is_null(ct)) return VKT_OK;
    if (json_is_string(ct)) return dup_to(&t->chat_template, json_string_value(ct), err);
    for (size_t i = 0; json_is_array(ct) && i < json_array_size(ct); i++) {
        const json_t *e = json_array_get(ct, i);
        const char *name = json_string_value(json_object_get(e, "name"));
        const char *tpl = json_string_value(json_object_get(e, "template"));
        if (name && tpl && strcmp(name, "default") == 0) return dup_to(&t->chat_template, tpl, err);
    }
    return vkt_fail(err, VKT_ERR_FORMAT,
                    "%s: chat_template must be a string or a list with a 'default' entry", path);
}

// Reads a JSON object file whose integers may pass 64 bits (tokenizer_config.json's
// model_max_length is often 1e30 written as an integer): every number is read as a real.
static vkt_status read_config_json(const char *path, json_t **out, vkt_error *err) {
    char *text;
    size_t len;
    VKT_TRY(vkt_read_file(path, &text, &len, err));
    json_error_t je;
    *out = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &je);
    free(text);
    if (!*out)
        return vkt_fail(err, VKT_ERR_FORMAT, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    if (!json_is_object(*out)) {
        json_decref(*out);
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: the top level must be an object", path);
    }
    return VKT_OK;
}

static vkt_status read_tokenizer_config(vkt_tok *t, const char *dir, vkt_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    struct stat st;
    if (stat(path, &st) != 0) return VKT_OK;
    json_t *root = NULL;
    VKT_TRY(read_config_json(path, &root, err));
    vkt_status s = read_template(t, path, json_object_get(root, "chat_template"), err);
    const char *bos = token_text(json_object_get(root, "bos_token"));
    const char *eos = token_text(json_object_get(root, "eos_token"));
    const char *pad = token_text(json_object_get(root, "pad_token"));
    if (s == VKT_OK) s = dup_to(&t->bos_text, bos, err);
    if (s == VKT_OK) s = dup_to(&t->eos_text, eos, err);
    if (s == VKT_OK && bos && (t->bos = hf_tok_token_to_id(t->hf, bos)) < 0)
        s = vkt_fail(err, VKT_ERR_FORMAT, "%s: bos_token '%s' is not in the vocabulary", path, bos);
    if (s == VKT_OK && eos) {
        int32_t id = hf_tok_token_to_id(t->hf, eos);
        if (id < 0)
            s = vkt_fail(err, VKT_ERR_FORMAT, "%s: eos_token '%s' is not in the vocabulary", path,
                         eos);
        else
            t->eos[0] = id, t->n_eos = 1;
    }
    if (s == VKT_OK && pad && (t->pad = hf_tok_token_to_id(t->hf, pad)) < 0)
        s = vkt_fail(err, VKT_ERR_FORMAT, "%s: pad_token '%s' is not in the vocabulary", path, pad);
    json_decref(root);
    return s;
}

// generation_config.json's eos_token_id (an id or a list) replaces the tokenizer's EOS.
static vkt_status read_generation_config(vkt_tok *t, const char *dir, vkt_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/generation_config.json", dir);
    struct stat st;
    if (stat(path, &st) != 0) return VKT_OK;
    json_t *root = NULL;
    VKT_TRY(read_config_json(path, &root, err));
    const json_t *e = json_object_get(root, "eos_token_id");
    vkt_status s = VKT_OK;
    if (e && !json_is_null(e)) {
        size_t n = json_is_array(e) ? json_array_size(e) : 1;
        if (n > sizeof t->eos / sizeof t->eos[0] || n == 0)
            s = vkt_fail(err, VKT_ERR_FORMAT, "%s: eos_token_id lists %zu ids (1..8 supported)",
                         path, n);
        for (size_t i = 0; s == VKT_OK && i < n; i++) {
            const json_t *v = json_is_array(e) ? json_array_get(e, i) : e;
            double d = json_is_number(v) ? json_number_value(v) : -1;
            json_int_t id =
                d >= 0 && d < 2147483648.0 && d == (double)(json_int_t)d ? (json_int_t)d : -1;
            if (id < 0 || id >= hf_tok_vocab_size(t->hf))
                s = vkt_fail(err, VKT_ERR_FORMAT,
                             "%s: eos_token_id must be ids of the vocabulary (0..%d)", path,
                             hf_tok_vocab_size(t->hf) - 1);
            else
                t->eos[i] = (int32_t)id;
        }
        if (s == VKT_OK) t->n_eos = (int)n;
    }
    json_decref(root);
    return s;
}

// A tokenizer of kind HF around h (which it takes), before any config is read.
static vkt_status wrap_hf(hf_tok *h, vkt_tok **out, vkt_error *err) {
    vkt_tok *t = calloc(1, sizeof *t);
    if (!t) {
        hf_tok_free(h);
        return vkt_fail(err, VKT_ERR_NOMEM, "tokenizer");
    }
    t->kind = VKT_TOK_HF;
    t->hf = h;
    t->bos = hf_tok_template_bos(h);
    t->pad = -1;
    vkt_status s = dup_to(&t->bos_text, "", err);
    if (s == VKT_OK) s = dup_to(&t->eos_text, "", err);
    if (s != VKT_OK) {
        vkt_tok_free(t);
        return s;
    }
    *out = t;
    return VKT_OK;
}

vkt_status vkt_tok_load_file(const char *tokenizer_json, vkt_tok **out, vkt_error *err) {
    *out = NULL;
    hf_tok *h;
    VKT_TRY(hf_tok_load(tokenizer_json, &h, err));
    return wrap_hf(h, out, err);
}

vkt_status vkt_tok_load_json_text(const char *text, size_t n, const char *name, vkt_tok **out,
                                  vkt_error *err) {
    *out = NULL;
    hf_tok *h;
    VKT_TRY(hf_tok_load_text(text, n, name, &h, err));
    return wrap_hf(h, out, err);
}

vkt_status vkt_tok_load_dir(const char *dir, vkt_tok **out, vkt_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    struct stat st;
    if (stat(path, &st) != 0) return vkt_tok_byte(out, err);
    vkt_tok *t;
    VKT_TRY(vkt_tok_load_file(path, &t, err));
    vkt_status s = read_tokenizer_config(t, dir, err);
    if (s == VKT_OK) s = read_generation_config(t, dir, err);
    if (s != VKT_OK) {
        vkt_tok_free(t);
        return s;
    }
    if (t->pad < 0) t->pad = t->n_eos ? t->eos[0] : 0;
    *out = t;
    return VKT_OK;
}

vkt_tok_kind vkt_tok_kind_of(const vkt_tok *t) { return t->kind; }

int vkt_tok_vocab_size(const vkt_tok *t) {
    return t->hf ? hf_tok_vocab_size(t->hf) : VKT_TOK_VOCAB;
}

vkt_status vkt_tok_encode(vkt_tok *t, const char *text, size_t len, unsigned flags, vkt_tokens *out,
                          vkt_error *err) {
    if (!text && len) return vkt_fail(err, VKT_ERR_ARG, "tokenizer: NULL text");
    if (t->hf) return hf_tok_encode(t->hf, text, len, flags, out, err);
    size_t need = len + out->n;
    if (need > out->cap) {
        int32_t *q = realloc(out->ids, (need ? need : 1) * sizeof *q);
        if (!q) return vkt_fail(err, VKT_ERR_NOMEM, "tokenizing %zu bytes", len);
        out->ids = q, out->cap = need ? need : 1;
    }
    size_t got = 0;
    unsigned f = (flags & VKT_TOKF_PARSE_SPECIAL) ? VKT_TOK_PARSE_SPECIAL : 0;
    VKT_TRY(vkt_tokenizer_encode(text, len, f, out->ids + out->n, out->cap - out->n, &got, err));
    out->n += got;
    return VKT_OK;
}

vkt_status vkt_tok_decode(vkt_tok *t, const int32_t *ids, size_t n, unsigned flags, char **out,
                          size_t *out_len, vkt_error *err) {
    *out = NULL;
    vkt_bytebuf b = {0};
    vkt_status s;
    if (t->hf) {
        s = hf_tok_decode(t->hf, ids, n, flags, &b, err);
    } else {
        size_t need = 0;
        unsigned f = (flags & VKT_TOKF_SKIP_SPECIAL) ? VKT_TOK_SKIP_SPECIAL : 0;
        s = vkt_tokenizer_decode(ids, n, f, NULL, 0, &need, err);
        if (s == VKT_OK && !(b.p = malloc(need + 1)))
            s = vkt_fail(err, VKT_ERR_NOMEM, "decode: %zu ids", n);
        if (s == VKT_OK) s = vkt_tokenizer_decode(ids, n, f, b.p, need + 1, &b.n, err);
    }
    if (s == VKT_OK && !b.p && !(b.p = calloc(1, 1))) s = vkt_fail(err, VKT_ERR_NOMEM, "decode");
    if (s != VKT_OK) {
        free(b.p);
        return s;
    }
    *out = b.p;
    if (out_len) *out_len = b.n;
    return VKT_OK;
}

const char *vkt_tok_id_to_token(const vkt_tok *t, int32_t id) {
    if (t->hf) return hf_tok_id_to_token(t->hf, id);
    return vkt_tokenizer_special_name(id); // bytes have no string of their own: NULL
}

int32_t vkt_tok_token_to_id(const vkt_tok *t, const char *token) {
    if (t->hf) return hf_tok_token_to_id(t->hf, token);
    if (strlen(token) == 1) return (unsigned char)token[0];
    return vkt_tokenizer_special_id(token);
}

bool vkt_tok_is_special(const vkt_tok *t, int32_t id) {
    if (t->hf) return hf_tok_is_special(t->hf, id);
    return id >= 256 && id < VKT_TOK_VOCAB;
}

int vkt_tok_token_bytes(const vkt_tok *t, int32_t id, char *buf, size_t cap) {
    if (t->hf) return hf_tok_token_bytes(t->hf, id, buf, cap);
    if (id < 0 || id >= VKT_TOK_VOCAB) return -1;
    if (id < 256) {
        if (buf && cap) buf[0] = (char)id;
        return 1;
    }
    const char *s = vkt_tokenizer_special_name(id);
    size_t n = strlen(s);
    if (buf && cap) memcpy(buf, s, n < cap ? n : cap);
    return (int)n;
}

const int32_t *vkt_tok_eos_ids(const vkt_tok *t, int *n) {
    *n = t->n_eos;
    return t->eos;
}

int32_t vkt_tok_bos_id(const vkt_tok *t) { return t->bos; }
int32_t vkt_tok_pad_id(const vkt_tok *t) { return t->pad; }
const char *vkt_tok_chat_template(const vkt_tok *t) { return t->chat_template; }
const char *vkt_tok_bos_text(const vkt_tok *t) { return t->bos_text ? t->bos_text : ""; }
const char *vkt_tok_eos_text(const vkt_tok *t) { return t->eos_text ? t->eos_text : ""; }

vkt_status vkt_tok_set_chat_template_file(vkt_tok *t, const char *path, vkt_error *err) {
    char *src;
    size_t len;
    VKT_TRY(vkt_read_file(path, &src, &len, err));
    free(t->chat_template);
    t->chat_template = src;
    return VKT_OK;
}
