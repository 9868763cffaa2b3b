// op_attention.h: causal multi-head attention with grouped-query heads on the GPU,
// flash-attention style (shaders/attention_fwd.comp, attention_bwd_dq.comp,
// attention_bwd_dkv.comp). Same contracts and layouts as vkt_ref_attention_fwd/bwd in
// reference.h: q (B, T, H, D) with row stride q_stride, k and v (B, T, KVH, D) with row
// strides k_stride and v_stride (so q, k, v may be the three parts of one fused qkv
// buffer), out (B, T, H, D) rows H*D, lse (B, H, T) natural log.
// Each view starts at element (0, 0, 0, 0) of its tensor and must hold the elements the
// tensor spans. Tensors larger than one binding are processed a range of batches at a
// time (one batch must fit a binding).
// Two kernel families (vkt_attention_path, profile.h): row kernels (one row a thread,
// for CPU devices) and gpu kernels (a head row split across lanes); the profile picks
// one, VKT_ATTENTION=row|gpu forces one. The KV-cached forward's decode path
// (Tq <= 4, attention_decode.comp) is shared by both.
#ifndef VKT_OP_ATTENTION_H
#define VKT_OP_ATTENTION_H

#include "buffer.h"

vkt_status vkt_attention_fwd(vkt_ctx *ctx, int B, int T, int H, int KVH, int D, float scale,
                             vkt_view q, int q_stride, vkt_view k, int k_stride, vkt_view v,
                             int v_stride, vkt_view out, vkt_view lse);

// dq +=, dk +=, dv += (each with the stride of its input, so one fused dqkv buffer
// works), from dout (B, T, H, D) and the forward's out and lse. Deterministic: two
// passes (dk and dv per key block, dq per query block), no atomics.
vkt_status vkt_attention_bwd(vkt_ctx *ctx, int B, int T, int H, int KVH, int D, float scale,
                             vkt_view dout, vkt_view q, int q_stride, vkt_view k, int k_stride,
                             vkt_view v, int v_stride, vkt_view out, vkt_view lse, vkt_view dq,
                             vkt_view dk, vkt_view dv);

// KV-cached forward (generation): Tq new queries per sequence at positions
// q0 .. q0+Tq-1 of a key sequence of length Tk (q0 + Tq <= Tk), keys and values held in
// a cache of kv_rows >= Tk rows per sequence. q (B, Tq, H, D) rows q_stride;
// k, v (B, kv_rows, KVH, D) rows k_stride / v_stride (only the first Tk rows are read);
// out (B, Tq, H, D) rows H*D; lse (B, H, Tq). Query t sees keys j <= q0 + t.
// With Tq = Tk = kv_rows = T and q0 = 0 this is vkt_attention_fwd.
vkt_status vkt_attention_fwd_cached(vkt_ctx *ctx, int B, int Tq, int q0, int Tk, int kv_rows, int H,
                                    int KVH, int D, float scale, vkt_view q, int q_stride,
                                    vkt_view k, int k_stride, vkt_view v, int v_stride,
                                    vkt_view out, vkt_view lse);

// The same on a given kernel family (tests and benchmarks compare them on one device).
vkt_status vkt_attention_fwd_on_path(vkt_ctx *ctx, vkt_attention_path path, int B, int T, int H,
                                     int KVH, int D, float scale, vkt_view q, int q_stride,
                                     vkt_view k, int k_stride, vkt_view v, int v_stride,
                                     vkt_view out, vkt_view lse);
vkt_status vkt_attention_bwd_on_path(vkt_ctx *ctx, vkt_attention_path path, int B, int T, int H,
                                     int KVH, int D, float scale, vkt_view dout, vkt_view q,
                                     int q_stride, vkt_view k, int k_stride, vkt_view v,
                                     int v_stride, vkt_view out, vkt_view lse, vkt_view dq,
                                     vkt_view dk, vkt_view dv);

#endif
