// hf_hash.h: the hash tables the BPE model consults for every piece: byte strings -> two
// 32-bit values (the vocabulary; the cache of whole pieces) and id pairs -> (rank, merged
// id) (the merges). Open addressing with linear probing, power-of-two sizes, load <= 1/2,
// so a lookup is one multiply-mix hash and usually one probe.
#ifndef VKT_HF_HASH_H
#define VKT_HF_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytebuf.h"

// A 64-bit hash of s[0..n), 8 bytes a step (the same on every run; not for hostile keys).
uint64_t hf_hash_bytes(const void *s, size_t n);

// --- byte strings -> (v0, v1) ------------------------------------------------------------
typedef struct hf_strent {
    uint32_t off, len; // the key is keys.p[off .. off+len), NUL-terminated
    uint32_t v0, v1;
} hf_strent;

typedef struct hf_strmap {
    uint64_t *slot; // 0 empty, else (hash high 32 bits) << 32 | (entry index + 1)
    uint32_t mask;  // slots - 1 (0 while nothing is allocated)
    hf_strent *ent; // entries in insertion order
    uint32_t n, cap;
    vkt_bytebuf keys;
} hf_strmap;

// The entry index of key k, or -1.
int64_t hf_strmap_find(const hf_strmap *m, const char *k, size_t n);
// Adds k with (v0, v1). Returns the new entry index, or the existing one's index with
// *added false; -1 when memory runs out or the table passes 2^31 entries / 4 GiB of keys.
int64_t hf_strmap_add(hf_strmap *m, const char *k, size_t n, uint32_t v0, uint32_t v1, bool *added);
static inline const char *hf_strmap_key(const hf_strmap *m, uint32_t i, size_t *len) {
    if (len) *len = m->ent[i].len;
    return m->keys.p + m->ent[i].off;
}
// Sizes an empty map for n entries, so loading a vocabulary never rehashes.
bool hf_strmap_reserve(hf_strmap *m, size_t n);
void hf_strmap_clear(hf_strmap *m); // keeps memory
void hf_strmap_free(hf_strmap *m);

// --- (a, b) id pairs -> (rank, id) --------------------------------------------------------
typedef struct hf_pairslot {
    uint64_t key; // (uint32)a << 32 | (uint32)b; UINT64_MAX when empty (ids are < 2^31)
    uint32_t rank;
    int32_t id;
} hf_pairslot;

typedef struct hf_pairmap {
    hf_pairslot *slot;
    uint32_t mask, n;
} hf_pairmap;

static inline uint32_t hf_pair_home(uint64_t key, uint32_t mask) {
    uint64_t h = (key ^ key >> 29) * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(h ^ h >> 32) & mask;
}

// Sets (a, b) -> (rank, id), replacing an earlier value (a later merge of the same pair
// wins, as a Rust HashMap collected from the merge list). Returns false when out of memory.
bool hf_pairmap_put(hf_pairmap *m, int32_t a, int32_t b, uint32_t rank, int32_t id);
bool hf_pairmap_reserve(hf_pairmap *m, size_t n); // for an empty map

static inline bool hf_pairmap_get(const hf_pairmap *m, int32_t a, int32_t b, uint32_t *rank,
                                  int32_t *id) {
    if (!m->slot) return false;
    uint64_t key = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
    for (uint32_t i = hf_pair_home(key, m->mask);; i = (i + 1) & m->mask) {
        const hf_pairslot *s = &m->slot[i];
        if (s->key == key) {
            *rank = s->rank;
            *id = s->id;
            return true;
        }
        if (s->key == UINT64_MAX) return false;
    }
}

void hf_pairmap_free(hf_pairmap *m);

#endif
