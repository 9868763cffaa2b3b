// hf_bpe.c: the BPE model of tokenizer.json, run as the Rust `tokenizers` crate runs it
// (models/bpe/model.rs and word.rs). A piece is split into characters (the continuing-
// subword prefix on all but the first, the end-of-word suffix on the last); a character
// outside the vocabulary becomes its <0xNN> byte tokens (byte_fallback) or the unk token;
// then the merge of lowest rank applies first, the leftmost on ties, until none applies.
// A binary heap of candidate merges over a linked list of symbols makes a piece
// O(n log n), so one 100 kB run of a repeated character still takes milliseconds.
// Whole pieces are cached, since the same words recur all through a text. A character
// with no token, no byte fallback and no unk token is dropped, as Rust does.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_hash.h"
#include "hf_internal.h"

#define MAX_ID ((1 << 24) - 1)   // larger ids are refused: the id -> token table is dense
#define CACHE_MAX_PIECE 256      // Rust's MAX_LENGTH: longer pieces are not cached
#define CACHE_MAX_ENTRIES 100000 // then the cache is cleared and starts over
#define CACHE_MAX_IDS (1u << 22)
#define CHAR_TABLE 0x800 // code points below this find their id without hashing

typedef struct sym {        // one symbol of the piece being merged
    int32_t id, prev, next; // prev/next: neighbours' indices, -1 at the ends
    uint32_t len;           // bytes covered; 0 once merged into its left neighbour
} sym;

typedef struct cand { // a candidate merge of the symbol at pos with its right neighbour
    uint32_t rank;
    int32_t pos, id;
} cand;

struct hf_bpe {
    hf_strmap vocab;             // token -> id (in v0)
    uint32_t *id_ent;            // id -> vocab entry, UINT32_MAX where the id has no token
    int32_t n_ids;               // 1 + the largest id
    hf_pairmap merges;           // (left id, right id) -> (rank, merged id)
    char *unk, *prefix, *suffix; // NULL when absent
    size_t unk_len, prefix_len, suffix_len;
    int32_t unk_id; // -1 when there is no unk token or it is not in the vocab
    bool fuse_unk, byte_fallback, ignore_merges;
    int32_t byte_id[256]; // id of "<0xNN>", -1 when absent
    int32_t *char_id;     // code point < CHAR_TABLE -> id of that char alone, -1 when
                          // absent; NULL when a prefix or suffix changes the lookups
    // workspace, reused from piece to piece
    sym *sym;
    size_t sym_cap;
    cand *heap;
    size_t heap_n, heap_cap;
    vkt_bytebuf scratch;
    // the cache: piece -> (offset, count) of its ids in cache_ids
    hf_strmap cache;
    int32_t *cache_ids;
    size_t cache_n, cache_cap;
};

// A length for "%.*s" that shows at most 60 bytes of s, cut at a character boundary.
static int clip(const char *s, size_t n) {
    if (n <= 60) return (int)n;
    n = 60;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
    return (int)n;
}

// --- parsing ------------------------------------------------------------------------------

// An optional string field: absent or null gives NULL.
static vkt_status opt_string(json_t *node, const char *key, const char *where, char **out,
                             size_t *len, vkt_error *err) {
    json_t *v = json_object_get(node, key);
    *out = NULL;
    *len = 0;
    if (!v || json_is_null(v)) return VKT_OK;
    if (!json_is_string(v))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: '%s' must be a string or null", where, key);
    size_t n = json_string_length(v);
    char *s = malloc(n + 1);
    if (!s) return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory", where);
    memcpy(s, json_string_value(v), n + 1);
    *out = s;
    *len = n;
    return VKT_OK;
}

static vkt_status opt_bool(json_t *node, const char *key, const char *where, bool *out,
                           vkt_error *err) {
    json_t *v = json_object_get(node, key);
    *out = false;
    if (!v || json_is_null(v)) return VKT_OK;
    if (!json_is_boolean(v))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: '%s' must be true, false or null", where, key);
    *out = json_is_true(v);
    return VKT_OK;
}

static vkt_status parse_options(hf_bpe *m, json_t *node, const char *where, vkt_error *err) {
    json_t *type = json_object_get(node, "type");
    if (type && !(json_is_string(type) && strcmp(json_string_value(type), "BPE") == 0))
        return vkt_fail(err, VKT_ERR_UNSUPPORTED, "%s: model type %s%s%s is not BPE", where,
                        json_is_string(type) ? "'" : "",
                        json_is_string(type) ? json_string_value(type) : "(not a string)",
                        json_is_string(type) ? "'" : "");
    json_t *d = json_object_get(node, "dropout");
    if (d && !json_is_null(d)) {
        if (!json_is_number(d))
            return vkt_fail(err, VKT_ERR_FORMAT, "%s: 'dropout' must be a number or null", where);
        double p = json_number_value(d);
        if (!(p >= 0.0 && p <= 1.0))
            return vkt_fail(err, VKT_ERR_FORMAT, "%s: 'dropout' %g is outside [0, 1]", where, p);
        if (p > 0.0)
            return vkt_fail(err, VKT_ERR_UNSUPPORTED,
                            "%s: 'dropout' %g is not supported (encoding must be deterministic)",
                            where, p);
    }
    VKT_TRY(opt_string(node, "unk_token", where, &m->unk, &m->unk_len, err));
    VKT_TRY(opt_string(node, "continuing_subword_prefix", where, &m->prefix, &m->prefix_len, err));
    VKT_TRY(opt_string(node, "end_of_word_suffix", where, &m->suffix, &m->suffix_len, err));
    VKT_TRY(opt_bool(node, "fuse_unk", where, &m->fuse_unk, err));
    VKT_TRY(opt_bool(node, "byte_fallback", where, &m->byte_fallback, err));
    return opt_bool(node, "ignore_merges", where, &m->ignore_merges, err);
}

static vkt_status parse_vocab(hf_bpe *m, json_t *node, const char *where, vkt_error *err) {
    json_t *v = json_object_get(node, "vocab");
    if (!json_is_object(v))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: 'vocab' must be an object of token -> id", where);
    int32_t max_id = -1;
    if (!hf_strmap_reserve(&m->vocab, json_object_size(v)))
        return vkt_fail(err, VKT_ERR_NOMEM, "%s: vocab: out of memory", where);
    for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
        const char *key = json_object_iter_key(it);
        size_t klen = json_object_iter_key_len(it);
        json_t *val = json_object_iter_value(it);
        json_int_t id = json_is_integer(val) ? json_integer_value(val) : -1;
        if (id < 0 || id > MAX_ID)
            return vkt_fail(err, VKT_ERR_FORMAT,
                            "%s: vocab['%.*s']: id must be an integer in [0, %d]", where,
                            clip(key, klen), key, MAX_ID);
        if (hf_strmap_add(&m->vocab, key, klen, (uint32_t)id, 0, NULL) < 0)
            return vkt_fail(err, VKT_ERR_NOMEM, "%s: vocab: out of memory", where);
        if (id > max_id) max_id = (int32_t)id;
    }
    m->n_ids = max_id + 1;
    m->id_ent = malloc(((size_t)m->n_ids + 1) * sizeof *m->id_ent);
    if (!m->id_ent) return vkt_fail(err, VKT_ERR_NOMEM, "%s: vocab: out of memory", where);
    for (int32_t i = 0; i < m->n_ids; i++) m->id_ent[i] = UINT32_MAX;
    // Two tokens with one id: the first keeps the id's string (Rust picks either).
    for (uint32_t e = 0; e < m->vocab.n; e++)
        if (m->id_ent[m->vocab.ent[e].v0] == UINT32_MAX) m->id_ent[m->vocab.ent[e].v0] = e;
    return VKT_OK;
}

// One merge's two token strings: "a b" (exactly one space, as Rust's split(' ')) or
// ["a", "b"]. legacy says which form merges[0] has; Rust reads the list as one or the other.
static vkt_status merge_parts(json_t *mg, size_t i, bool legacy, const char *where, const char **a,
                              size_t *na, const char **b, size_t *nb, vkt_error *err) {
    if (legacy && json_is_string(mg)) {
        const char *s = json_string_value(mg);
        size_t n = json_string_length(mg);
        const char *sp = memchr(s, ' ', n);
        if (!sp || memchr(sp + 1, ' ', n - (size_t)(sp + 1 - s)))
            return vkt_fail(err, VKT_ERR_FORMAT,
                            "%s: merges[%zu]: '%.*s' is not two tokens split by one space", where,
                            i, clip(s, n), s);
        *a = s, *na = (size_t)(sp - s), *b = sp + 1, *nb = n - *na - 1;
        return VKT_OK;
    }
    if (!legacy && json_is_array(mg) && json_array_size(mg) == 2 &&
        json_is_string(json_array_get(mg, 0)) && json_is_string(json_array_get(mg, 1))) {
        *a = json_string_value(json_array_get(mg, 0)),
        *na = json_string_length(json_array_get(mg, 0));
        *b = json_string_value(json_array_get(mg, 1)),
        *nb = json_string_length(json_array_get(mg, 1));
        return VKT_OK;
    }
    return vkt_fail(err, VKT_ERR_FORMAT, "%s: merges[%zu]: must be %s, like merges[0]", where, i,
                    legacy ? "a string \"a b\"" : "a pair [\"a\", \"b\"] of strings");
}

static vkt_status merge_id(hf_bpe *m, const char *s, size_t n, size_t i, const char *where,
                           int32_t *id, vkt_error *err) {
    int64_t e = hf_strmap_find(&m->vocab, s, n);
    if (e < 0)
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: merges[%zu]: token '%.*s' is not in the vocab",
                        where, i, clip(s, n), s);
    *id = (int32_t)m->vocab.ent[e].v0;
    return VKT_OK;
}

// Merge i of a and b makes a + b less the prefix's length (Rust cuts b[prefix_len..]).
static vkt_status parse_merges(hf_bpe *m, json_t *node, const char *where, vkt_error *err) {
    json_t *ms = json_object_get(node, "merges");
    if (!json_is_array(ms))
        return vkt_fail(err, VKT_ERR_FORMAT, "%s: 'merges' must be an array", where);
    size_t n = json_array_size(ms);
    if (n >= UINT32_MAX) return vkt_fail(err, VKT_ERR_FORMAT, "%s: too many merges", where);
    bool legacy = n > 0 && json_is_string(json_array_get(ms, 0));
    if (!hf_pairmap_reserve(&m->merges, n))
        return vkt_fail(err, VKT_ERR_NOMEM, "%s: merges: out of memory", where);
    for (size_t i = 0; i < n; i++) {
        const char *a = NULL, *b = NULL;
        size_t na = 0, nb = 0;
        int32_t ia = 0, ib = 0, ic = 0;
        VKT_TRY(merge_parts(json_array_get(ms, i), i, legacy, where, &a, &na, &b, &nb, err));
        VKT_TRY(merge_id(m, a, na, i, where, &ia, err));
        VKT_TRY(merge_id(m, b, nb, i, where, &ib, err));
        size_t cut = m->prefix_len;
        if (cut > nb || (cut < nb && ((unsigned char)b[cut] & 0xC0) == 0x80))
            return vkt_fail(err, VKT_ERR_FORMAT,
                            "%s: merges[%zu]: '%.*s' is shorter than the continuing_subword_prefix",
                            where, i, clip(b, nb), b);
        m->scratch.n = 0;
        vkt_bytebuf_put(&m->scratch, a, na);
        vkt_bytebuf_put(&m->scratch, b + cut, nb - cut);
        if (m->scratch.oom) return vkt_fail(err, VKT_ERR_NOMEM, "%s: merges: out of memory", where);
        VKT_TRY(merge_id(m, m->scratch.p, m->scratch.n, i, where, &ic, err));
        if (!hf_pairmap_put(&m->merges, ia, ib, (uint32_t)i, ic))
            return vkt_fail(err, VKT_ERR_NOMEM, "%s: merges: out of memory", where);
    }
    return VKT_OK;
}

// The lookups tokenizing needs without building strings: byte tokens, unk, single chars.
static vkt_status build_tables(hf_bpe *m, const char *where, vkt_error *err) {
    for (int b = 0; b < 256; b++) {
        char t[8];
        snprintf(t, sizeof t, "<0x%02X>", b);
        m->byte_id[b] = hf_bpe_token_to_id(m, t, 6);
    }
    m->unk_id = m->unk ? hf_bpe_token_to_id(m, m->unk, m->unk_len) : -1;
    if (m->prefix_len || m->suffix_len) return VKT_OK;
    m->char_id = malloc(CHAR_TABLE * sizeof *m->char_id);
    if (!m->char_id) return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory", where);
    for (uint32_t cp = 0; cp < CHAR_TABLE; cp++) {
        char t[2] = {(char)cp, 0};
        if (cp >= 0x80) t[0] = (char)(0xC0 | cp >> 6), t[1] = (char)(0x80 | (cp & 0x3F));
        m->char_id[cp] = hf_bpe_token_to_id(m, t, cp < 0x80 ? 1 : 2);
    }
    return VKT_OK;
}

vkt_status hf_bpe_parse(const json_t *node, const char *where, hf_bpe **out, vkt_error *err) {
    *out = NULL;
    json_t *o = (json_t *)node; // jansson's getters take non-const pointers
    if (!json_is_object(o)) return vkt_fail(err, VKT_ERR_FORMAT, "%s: must be an object", where);
    hf_bpe *m = calloc(1, sizeof *m);
    if (!m) return vkt_fail(err, VKT_ERR_NOMEM, "%s: out of memory", where);
    vkt_status st = parse_options(m, o, where, err);
    if (st == VKT_OK) st = parse_vocab(m, o, where, err);
    if (st == VKT_OK) st = parse_merges(m, o, where, err);
    if (st == VKT_OK) st = build_tables(m, where, err);
    if (st != VKT_OK) {
        hf_bpe_free(m);
        return st;
    }
    *out = m;
    return VKT_OK;
}

void hf_bpe_free(hf_bpe *m) {
    if (!m) return;
    hf_strmap_free(&m->vocab);
    hf_strmap_free(&m->cache);
    hf_pairmap_free(&m->merges);
    free(m->id_ent);
    free(m->unk);
    free(m->prefix);
    free(m->suffix);
    free(m->char_id);
    free(m->sym);
    free(m->heap);
    free(m->scratch.p);
    free(m->cache_ids);
    free(m);
}

int hf_bpe_vocab_size(const hf_bpe *m) { return m->n_ids; }

const char *hf_bpe_id_to_token(const hf_bpe *m, int32_t id) {
    if (id < 0 || id >= m->n_ids || m->id_ent[id] == UINT32_MAX) return NULL;
    return hf_strmap_key(&m->vocab, m->id_ent[id], NULL);
}

int32_t hf_bpe_token_to_id(const hf_bpe *m, const char *s, size_t n) {
    int64_t e = hf_strmap_find(&m->vocab, s, n);
    return e < 0 ? -1 : (int32_t)m->vocab.ent[e].v0;
}

// --- one piece ----------------------------------------------------------------------------

static bool add_sym(hf_bpe *m, size_t *ns, int32_t id, uint32_t len) {
    if (*ns == m->sym_cap) {
        if (*ns >= INT32_MAX / 2) return false; // indices are int32_t
        size_t cap = m->sym_cap ? m->sym_cap * 2 : 256;
        sym *s = realloc(m->sym, cap * sizeof *s);
        if (!s) return false;
        m->sym = s;
        m->sym_cap = cap;
    }
    size_t i = (*ns)++;
    m->sym[i] = (sym){id, (int32_t)i - 1, -1, len};
    if (i) m->sym[i - 1].next = (int32_t)i;
    return true;
}

// The id of character c (cl bytes) at its place in the piece, or -1. *s/*sn: the string
// looked up (c with the prefix and suffix it gets), which byte fallback spells out.
static int32_t char_lookup(hf_bpe *m, const char *c, int cl, bool first, bool last, const char **s,
                           size_t *sn) {
    *s = c;
    *sn = (size_t)cl;
    const unsigned char *u = (const unsigned char *)c;
    if (m->char_id && (cl == 2 || (cl == 1 && u[0] < 0x80)))
        return m->char_id[cl == 1 ? u[0] : (u[0] & 0x1Fu) << 6 | (u[1] & 0x3Fu)];
    bool pre = !first && m->prefix, suf = last && m->suffix;
    if (pre || suf) {
        m->scratch.n = 0;
        if (pre) vkt_bytebuf_put(&m->scratch, m->prefix, m->prefix_len);
        vkt_bytebuf_put(&m->scratch, c, (size_t)cl);
        if (suf) vkt_bytebuf_put(&m->scratch, m->suffix, m->suffix_len);
        if (m->scratch.oom) return -2;
        *s = m->scratch.p;
        *sn = m->scratch.n;
    }
    return hf_bpe_token_to_id(m, *s, *sn);
}

// The piece's characters as symbols (Rust's merge_word up to merge_all), unknowns resolved.
static vkt_status split_chars(hf_bpe *m, const char *w, size_t n, size_t *nsym, vkt_error *err) {
    size_t ns = 0;
    bool unk = false; // an unk symbol waits to be added (fuse_unk grows it)
    uint32_t unk_len = 0;
    for (size_t i = 0; i < n;) {
        int cl = hf_utf8_len((const unsigned char *)w + i, n - i);
        if (cl <= 0) cl = 1; // the glue hands valid UTF-8; a stray byte is its own char
        const char *s;
        size_t sn;
        int32_t id = char_lookup(m, w + i, cl, i == 0, i + (size_t)cl == n, &s, &sn);
        if (id == -2) goto oom;
        if (id >= 0) {
            if (unk && !add_sym(m, &ns, m->unk_id, unk_len)) goto oom;
            unk = false;
            if (!add_sym(m, &ns, id, (uint32_t)cl)) goto oom;
            i += (size_t)cl;
            continue;
        }
        if (m->byte_fallback) {
            size_t k = 0;
            while (k < sn && m->byte_id[(unsigned char)s[k]] >= 0) k++;
            if (k == sn) {
                // As Rust: a waiting unk is not flushed first, it lands after these bytes.
                for (k = 0; k < sn; k++)
                    if (!add_sym(m, &ns, m->byte_id[(unsigned char)s[k]], 1)) goto oom;
                i += (size_t)cl;
                continue;
            }
        }
        if (!m->unk) { // as Rust's merge_word: no token and no unk_token drops the char
            i += (size_t)cl;
            continue;
        }
        if (m->unk_id < 0)
            return vkt_fail(err, VKT_ERR_FORMAT, "BPE: unk_token '%.*s' is not in the vocab",
                            clip(m->unk, m->unk_len), m->unk);
        if (unk && m->fuse_unk) {
            unk_len += (uint32_t)cl;
        } else {
            if (unk && !add_sym(m, &ns, m->unk_id, unk_len)) goto oom;
            unk = true;
            unk_len = (uint32_t)cl;
        }
        i += (size_t)cl;
    }
    if (unk && !add_sym(m, &ns, m->unk_id, unk_len)) goto oom;
    *nsym = ns;
    return VKT_OK;
oom:
    return vkt_fail(err, VKT_ERR_NOMEM, "BPE: out of memory for a piece of %zu bytes", n);
}

// Min-heap order: lower rank first, then the leftmost position.
static inline bool before(const cand *x, const cand *y) {
    return x->rank != y->rank ? x->rank < y->rank : x->pos < y->pos;
}

static void heap_push(hf_bpe *m, cand c) {
    size_t i = m->heap_n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(&c, &m->heap[p])) break;
        m->heap[i] = m->heap[p];
        i = p;
    }
    m->heap[i] = c;
}

static cand heap_pop(hf_bpe *m) {
    cand top = m->heap[0], last = m->heap[--m->heap_n];
    size_t i = 0, n = m->heap_n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && before(&m->heap[c + 1], &m->heap[c])) c++;
        if (!before(&m->heap[c], &last)) break;
        m->heap[i] = m->heap[c];
        i = c;
    }
    if (n) m->heap[i] = last;
    return top;
}

static void push_pair(hf_bpe *m, int32_t pos) {
    const sym *l = &m->sym[pos];
    uint32_t rank;
    int32_t id;
    if (hf_pairmap_get(&m->merges, l->id, m->sym[l->next].id, &rank, &id))
        heap_push(m, (cand){rank, pos, id});
}

// Rust's Word::merge_all without dropout. A popped candidate is stale when its left symbol
// was merged away, has no right neighbour now, or the pair there no longer makes its id.
static vkt_status merge_all(hf_bpe *m, size_t ns, vkt_error *err) {
    if (ns < 2) return VKT_OK;
    // Each merge adds at most two candidates to the ns - 1 first ones.
    if (m->heap_cap < 3 * ns) {
        cand *h = realloc(m->heap, 3 * ns * sizeof *h);
        if (!h) return vkt_fail(err, VKT_ERR_NOMEM, "BPE: out of memory for %zu symbols", ns);
        m->heap = h;
        m->heap_cap = 3 * ns;
    }
    m->heap_n = 0;
    for (size_t i = 0; i + 1 < ns; i++) push_pair(m, (int32_t)i);
    while (m->heap_n) {
        cand top = heap_pop(m);
        sym *l = &m->sym[top.pos];
        if (l->len == 0 || l->next < 0) continue;
        sym *r = &m->sym[l->next];
        uint32_t rank;
        int32_t id;
        if (!hf_pairmap_get(&m->merges, l->id, r->id, &rank, &id) || id != top.id) continue;
        l->id = top.id;
        l->len += r->len;
        l->next = r->next;
        r->len = 0;
        if (l->next >= 0) m->sym[l->next].prev = top.pos;
        if (l->prev >= 0) push_pair(m, l->prev);
        if (l->next >= 0) push_pair(m, top.pos);
    }
    return VKT_OK;
}

// Remembers ids[0..k) for piece; a full cache starts over. Failing to cache is no error.
static void cache_put(hf_bpe *m, const char *piece, size_t n, const int32_t *ids, size_t k) {
    if (m->cache.n >= CACHE_MAX_ENTRIES || m->cache_n + k > CACHE_MAX_IDS) {
        hf_strmap_clear(&m->cache);
        m->cache_n = 0;
    }
    if (m->cache_n + k > m->cache_cap) {
        size_t cap = m->cache_cap ? m->cache_cap : 4096;
        while (cap < m->cache_n + k) cap *= 2;
        int32_t *p = realloc(m->cache_ids, cap * sizeof *p);
        if (!p) return;
        m->cache_ids = p;
        m->cache_cap = cap;
    }
    if (hf_strmap_add(&m->cache, piece, n, (uint32_t)m->cache_n, (uint32_t)k, NULL) < 0) return;
    if (k) memcpy(m->cache_ids + m->cache_n, ids, k * sizeof *ids); // ids may be NULL when k is 0
    m->cache_n += k;
}

vkt_status hf_bpe_tokenize(hf_bpe *m, const char *piece, size_t n, vkt_tokens *out,
                           vkt_error *err) {
    if (n == 0) return VKT_OK;
    if (n >= INT32_MAX)
        return vkt_fail(err, VKT_ERR_ARG, "BPE: a piece of %zu bytes is too long", n);
    bool cacheable = n < CACHE_MAX_PIECE;
    if (cacheable) { // first: the cache holds ignore_merges' answers too
        int64_t e = hf_strmap_find(&m->cache, piece, n);
        if (e >= 0) {
            const hf_strent *en = &m->cache.ent[e];
            for (uint32_t k = 0; k < en->v1; k++)
                VKT_TRY(vkt_tokens_push(out, m->cache_ids[en->v0 + k], err));
            return VKT_OK;
        }
    }
    if (m->ignore_merges) {
        int32_t id = hf_bpe_token_to_id(m, piece, n);
        if (id >= 0) {
            if (cacheable) cache_put(m, piece, n, &id, 1);
            return vkt_tokens_push(out, id, err);
        }
    }
    size_t ns = 0;
    VKT_TRY(split_chars(m, piece, n, &ns, err));
    VKT_TRY(merge_all(m, ns, err));
    size_t start = out->n;
    for (int32_t i = ns ? 0 : -1; i >= 0; i = m->sym[i].next)
        VKT_TRY(vkt_tokens_push(out, m->sym[i].id, err));
    // No ids (out->ids may still be NULL): cached as an empty answer, without NULL + 0.
    if (cacheable) cache_put(m, piece, n, out->n > start ? out->ids + start : NULL, out->n - start);
    return VKT_OK;
}
