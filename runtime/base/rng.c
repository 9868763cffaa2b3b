// rng.c: xoshiro256** (Blackman & Vigna), state filled by splitmix64 so that nearby
// seeds give unrelated streams and the all-zero state can never occur.
#include "rng.h"

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void vkt_rng_seed(vkt_rng *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

uint64_t vkt_rng_u64(vkt_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double vkt_rng_uniform(vkt_rng *r) { return (double)(vkt_rng_u64(r) >> 11) * 0x1.0p-53; }

uint64_t vkt_rng_below(vkt_rng *r, uint64_t n) {
    if (n == 0) return 0;
    // Reject the top partial block so every residue is equally likely.
    uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
    uint64_t x;
    do x = vkt_rng_u64(r);
    while (x >= limit);
    return x % n;
}

uint64_t vkt_rng_derive(uint64_t seed, uint64_t stream) {
    uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ULL);
    splitmix64(&x);
    return splitmix64(&x);
}
