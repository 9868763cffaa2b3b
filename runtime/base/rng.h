// rng.h: a small seeded host RNG (xoshiro256** seeded through splitmix64).
// Deterministic for a seed on every platform; the state is a plain value, so copying
// a vkt_rng forks the stream and nothing here is global.
#ifndef VKT_RNG_H
#define VKT_RNG_H

#include <stdint.h>

typedef struct vkt_rng {
    uint64_t s[4];
} vkt_rng;

// Seeds r from a 64-bit seed (any value, 0 included).
void vkt_rng_seed(vkt_rng *r, uint64_t seed);
// Next 64 uniformly random bits.
uint64_t vkt_rng_u64(vkt_rng *r);
// Uniform double in [0, 1) with 53 random bits.
double vkt_rng_uniform(vkt_rng *r);
// Uniform integer in [0, n) without modulo bias; returns 0 when n == 0.
uint64_t vkt_rng_below(vkt_rng *r, uint64_t n);
// A well-mixed 64-bit value derived from (seed, stream): seeds for independent
// sub-streams (game i of a match, seat j) without correlated states.
uint64_t vkt_rng_derive(uint64_t seed, uint64_t stream);

#endif
