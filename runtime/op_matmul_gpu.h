// op_matmul_gpu.h: the GPU matmul path (shaders/matmul_gpu.comp, matmul_splitk_reduce.comp),
// internal to op_matmul.c: tile choice by shape from the profile, split count, and the
// recording of one chunk. What it computes is vkt_ref_matmul (reference.h).
#ifndef VKT_OP_MATMUL_GPU_H
#define VKT_OP_MATMUL_GPU_H

#include <stdbool.h>
#include <stdint.h>

#include "buffer.h"
#include "profile.h"

// Push constants of the matmul shaders (see their headers): matmul_texel and matmul_tiled read
// the words up to k_split (offsetof(vkt_matmul_push, k_split) bytes), matmul_gpu.comp all.
typedef struct vkt_matmul_push {
    uint32_t M, N, K;
    uint32_t lda, ldb, ldc;
    uint32_t a_off, b_off, c_off, bias_off;
    uint32_t has_bias;
    float alpha, beta;
    uint32_t k_split;
} vkt_matmul_push;

// One product already cut to binding-sized views: C (m, n) = alpha op(A) op(B) + beta C + bias.
// Strides in elements; bias.buf NULL: none. splits > 1: split-k into scratch (splits*m*n
// floats, whatever the operands). a16, b16 (0: fp32, 1: bf16, 2: fp16): a 16-bit operand's view
// covers whole words and a_skip / b_skip (0 or 1) elements of its first word precede it.
typedef struct vkt_mm_gpu {
    bool ta, tb;
    uint64_t m, n, k, lda, ldb, ldc;
    float alpha, beta;
    vkt_view a, b, c, bias, scratch;
    uint32_t splits;
    int a16, b16;
    uint32_t a_skip, b_skip;
} vkt_mm_gpu;

// The tile for an m x n product: the large one where it fills the device, else the small one.
vkt_matmul_tile vkt_matmul_gpu_tile(const vkt_profile *p, uint64_t m, uint64_t n);
// How many k-splits the profile wants for this shape (1: none); want > 0 asks for that many.
// Either way clamped so each split has at least one k-slice.
uint32_t vkt_matmul_gpu_splits(const vkt_profile *p, uint64_t m, uint64_t n, uint64_t k, int want);
vkt_status vkt_matmul_gpu_record(vkt_ctx *ctx, const vkt_mm_gpu *q);

#endif
