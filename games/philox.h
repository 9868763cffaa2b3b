// philox.h: Philox4x32-10, the counter-based RNG of Salmon et al. (SC'11, Random123).
// A pure function of (counter, key): sample i of a stream is computed directly from i,
// so a CPU loop and a GPU shader (mirror this in GLSL: umulExtended gives the hi/lo
// words) draw exactly the same integers. Checked against Random123's kat_vectors.
#ifndef VKT_PHILOX_H
#define VKT_PHILOX_H

#include <stdint.h>

#define VKT_PHILOX_M0 0xD2511F53u
#define VKT_PHILOX_M1 0xCD9E8D57u
#define VKT_PHILOX_W0 0x9E3779B9u // key schedule: golden ratio
#define VKT_PHILOX_W1 0xBB67AE85u // key schedule: sqrt(3) - 1

typedef struct vkt_philox4 {
    uint32_t v[4];
} vkt_philox4;

// One round: two 32x32->64 multiplies, the halves crossed and xored with the key.
static inline vkt_philox4 vkt_philox_round(vkt_philox4 c, uint32_t k0, uint32_t k1) {
    uint64_t p0 = (uint64_t)VKT_PHILOX_M0 * c.v[0];
    uint64_t p1 = (uint64_t)VKT_PHILOX_M1 * c.v[2];
    vkt_philox4 r;
    r.v[0] = (uint32_t)(p1 >> 32) ^ c.v[1] ^ k0;
    r.v[1] = (uint32_t)p1;
    r.v[2] = (uint32_t)(p0 >> 32) ^ c.v[3] ^ k1;
    r.v[3] = (uint32_t)p0;
    return r;
}

// Philox4x32 with 10 rounds: 4 random words from a 128-bit counter and a 64-bit key.
static inline vkt_philox4 vkt_philox4x32_10(vkt_philox4 ctr, uint32_t k0, uint32_t k1) {
    for (int i = 0; i < 10; i++) {
        if (i > 0) {
            k0 += VKT_PHILOX_W0;
            k1 += VKT_PHILOX_W1;
        }
        ctr = vkt_philox_round(ctr, k0, k1);
    }
    return ctr;
}

// A uniform double in (0, 1), never 0 or 1 (safe for log): (w + 0.5) / 2^32.
static inline double vkt_philox_u01(uint32_t w) { return ((double)w + 0.5) * (1.0 / 4294967296.0); }

#endif
