// hf_hash.c: the string and id-pair hash tables of hf_hash.h.
#include "hf_hash.h"

#include <stdlib.h>
#include <string.h>

// A multiply-xorshift mix over 8-byte words (splitmix64's finalizer), then a final avalanche,
// so both the low bits (the home slot) and the high bits (the tag) depend on every byte.
uint64_t hf_hash_bytes(const void *s, size_t n) {
    const unsigned char *p = s;
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xFF51AFD7ED558CCDull);
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        h = (h ^ v) * 0xBF58476D1CE4E5B9ull;
        h ^= h >> 31;
        p += 8;
        n -= 8;
    }
    uint64_t v = 0;
    memcpy(&v, p, n);
    h = (h ^ v) * 0x94D049BB133111EBull;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 32;
    return h;
}

// --- strings ------------------------------------------------------------------------------

int64_t hf_strmap_find(const hf_strmap *m, const char *k, size_t n) {
    if (!m->slot) return -1;
    uint64_t h = hf_hash_bytes(k, n);
    uint32_t tag = (uint32_t)(h >> 32);
    for (uint32_t i = (uint32_t)h & m->mask;; i = (i + 1) & m->mask) {
        uint64_t s = m->slot[i];
        if (!s) return -1;
        if ((uint32_t)(s >> 32) != tag) continue;
        uint32_t e = (uint32_t)s - 1;
        const hf_strent *en = &m->ent[e];
        if (en->len == n && memcmp(m->keys.p + en->off, k, n) == 0) return e;
    }
}

// Places entry e (hash h) in the first free slot of its probe run.
static void place(uint64_t *slot, uint32_t mask, uint64_t h, uint32_t e) {
    uint32_t i = (uint32_t)h & mask;
    while (slot[i]) i = (i + 1) & mask;
    slot[i] = (h >> 32) << 32 | (uint64_t)(e + 1);
}

// Rehashes into twice the slots, or into want slots when that is more.
static bool grow_slots(hf_strmap *m, uint32_t want) {
    uint32_t slots = m->mask ? (m->mask + 1) * 2 : 64;
    while (slots < want && slots) slots *= 2;
    if (slots == 0 || slots > (1u << 31)) return false;
    uint64_t *s = calloc(slots, sizeof *s);
    if (!s) return false;
    for (uint32_t e = 0; e < m->n; e++)
        place(s, slots - 1, hf_hash_bytes(m->keys.p + m->ent[e].off, m->ent[e].len), e);
    free(m->slot);
    m->slot = s;
    m->mask = slots - 1;
    return true;
}

int64_t hf_strmap_add(hf_strmap *m, const char *k, size_t n, uint32_t v0, uint32_t v1,
                      bool *added) {
    if (added) *added = false;
    int64_t old = hf_strmap_find(m, k, n);
    if (old >= 0) return old;
    if (m->n >= (1u << 31) - 1 || n >= UINT32_MAX || m->keys.n + n + 1 >= UINT32_MAX) return -1;
    if ((uint64_t)(m->n + 1) * 2 > (uint64_t)m->mask + 1 || !m->slot)
        if (!grow_slots(m, 0)) return -1;
    if (m->n == m->cap) {
        uint32_t cap = m->cap ? m->cap * 2 : 64;
        hf_strent *e = realloc(m->ent, (size_t)cap * sizeof *e);
        if (!e) return -1;
        m->ent = e;
        m->cap = cap;
    }
    size_t off = m->keys.n;
    vkt_bytebuf_put(&m->keys, k, n);
    vkt_bytebuf_put(&m->keys, "", 1); // the NUL that makes the key a C string
    if (m->keys.oom) {
        m->keys.oom = false;
        m->keys.n = off;
        return -1;
    }
    uint32_t e = m->n++;
    m->ent[e] = (hf_strent){(uint32_t)off, (uint32_t)n, v0, v1};
    place(m->slot, m->mask, hf_hash_bytes(k, n), e);
    if (added) *added = true;
    return e;
}

// The smallest power of two >= 2n (load 1/2), 0 when that is past 2^31.
static uint32_t slots_for(size_t n) {
    if (n >= (1u << 30)) return 0;
    uint32_t s = 64;
    while (s < 2 * n) s *= 2;
    return s;
}

bool hf_strmap_reserve(hf_strmap *m, size_t n) {
    uint32_t slots = slots_for(n);
    if (!slots) return false;
    if (m->n == 0 && slots > m->mask + 1u) {
        free(m->slot);
        m->slot = NULL;
        m->mask = 0;
        if (!grow_slots(m, slots)) return false;
    }
    if (n > m->cap) {
        hf_strent *e = realloc(m->ent, n * sizeof *e);
        if (!e) return false;
        m->ent = e;
        m->cap = (uint32_t)n;
    }
    return true;
}

void hf_strmap_clear(hf_strmap *m) {
    if (m->slot) memset(m->slot, 0, ((size_t)m->mask + 1) * sizeof *m->slot);
    m->n = 0;
    m->keys.n = 0;
}

void hf_strmap_free(hf_strmap *m) {
    free(m->slot);
    free(m->ent);
    free(m->keys.p);
    memset(m, 0, sizeof *m);
}

// --- pairs --------------------------------------------------------------------------------

static bool grow_pairs(hf_pairmap *m, uint32_t want) {
    uint32_t slots = m->mask ? (m->mask + 1) * 2 : 64;
    while (slots < want && slots) slots *= 2;
    if (slots == 0 || slots > (1u << 31)) return false;
    hf_pairslot *s = malloc((size_t)slots * sizeof *s);
    if (!s) return false;
    for (uint32_t i = 0; i < slots; i++) s[i].key = UINT64_MAX;
    if (m->slot)
        for (uint32_t j = 0; j <= m->mask; j++) {
            if (m->slot[j].key == UINT64_MAX) continue;
            uint32_t i = hf_pair_home(m->slot[j].key, slots - 1);
            while (s[i].key != UINT64_MAX) i = (i + 1) & (slots - 1);
            s[i] = m->slot[j];
        }
    free(m->slot);
    m->slot = s;
    m->mask = slots - 1;
    return true;
}

bool hf_pairmap_put(hf_pairmap *m, int32_t a, int32_t b, uint32_t rank, int32_t id) {
    if (!m->slot || (uint64_t)(m->n + 1) * 2 > (uint64_t)m->mask + 1)
        if (!grow_pairs(m, 0)) return false;
    uint64_t key = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
    uint32_t i = hf_pair_home(key, m->mask);
    while (m->slot[i].key != UINT64_MAX && m->slot[i].key != key) i = (i + 1) & m->mask;
    if (m->slot[i].key == UINT64_MAX) m->n++;
    m->slot[i] = (hf_pairslot){key, rank, id};
    return true;
}

bool hf_pairmap_reserve(hf_pairmap *m, size_t n) {
    uint32_t slots = slots_for(n);
    if (!slots) return false;
    return m->n > 0 || slots <= m->mask + 1u || grow_pairs(m, slots);
}

void hf_pairmap_free(hf_pairmap *m) {
    free(m->slot);
    memset(m, 0, sizeof *m);
}
