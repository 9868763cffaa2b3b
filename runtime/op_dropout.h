// op_dropout.h: inverted dropout whose mask is a hash of (key, element index), so the
// backward pass applies the forward's mask without storing it. Shader: shaders/dropout.comp.
#ifndef VKT_OP_DROPOUT_H
#define VKT_OP_DROPOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "buffer.h"

// The hash both sides use (a 32-bit avalanche, twice, keyed by 64 bits).
static inline uint32_t vkt_dropout_mix(uint32_t v) {
    v ^= v >> 16, v *= 0x7feb352du;
    v ^= v >> 15, v *= 0x846ca68bu;
    return v ^ (v >> 16);
}
// The drop threshold for probability p in [0, 1): an element is dropped when its hash is below.
static inline uint32_t vkt_dropout_threshold(float p) {
    double t = (double)p * 4294967296.0;
    return t >= 4294967295.0 ? 0xffffffffu : (uint32_t)t;
}
// Whether element i survives under key with drop probability p (the reference mask).
static inline bool vkt_dropout_keep(uint64_t key, uint32_t i, float p) {
    uint32_t h = vkt_dropout_mix(vkt_dropout_mix(i + (uint32_t)key) ^ (uint32_t)(key >> 32));
    return h >= vkt_dropout_threshold(p);
}

// y[i] = (accumulate ? y[i] : 0) + (keep(key, i, p) ? x[i] / (1 - p) : 0) for i < n
// (n < 2^32). x and y must not overlap.
vkt_status vkt_dropout(vkt_ctx *ctx, vkt_view x, vkt_view y, uint64_t n, float p, uint64_t key,
                       bool accumulate);

#endif
