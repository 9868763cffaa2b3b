// op_embedding.h: token + learned-position embedding lookup and its deterministic
// backward. Conventions of vkt_ref_embedding_fwd / _bwd (reference.h): tok (N) in
// [0, V), pos (N) in [0, Tmax), wte (V, C), wpe (Tmax, C) or none (RoPE models),
// out (N, C); the backward ACCUMULATES into dwte, dwpe.
//
// Token ids never reach the GPU unchecked: the caller hands the host arrays to
// vkt_embedding_ids_upload, which validates every id (shape_check.h), buckets them by
// value (a stable counting sort: which rows each table row receives, in increasing i)
// and uploads ids and buckets into a caller-provided device view, recording what it
// validated in a vkt_embedding_ids. The forward and backward take that struct and check
// it matches their shapes. One upload serves a step's forward and backward.
// The upload waits for earlier recorded work (vkt_upload), so do it before recording
// the step, not in the middle of it.
//
// The backward is a scatter-add without float atomics: one invocation per (table row,
// column) adds that row's gradient rows in increasing i, exactly the reference's order,
// so results are bit-identical run to run (and to vkt_ref_embedding_bwd).
// Tables larger than one binding (GPT-2's wte, 154 MB) are bound in row ranges.
#ifndef VKT_OP_EMBEDDING_H
#define VKT_OP_EMBEDDING_H

#include <stdbool.h>
#include <stdint.h>

#include "buffer.h"

typedef struct vkt_embedding_ids {
    vkt_view view;  // device copy (layout below, int32 elements)
    int N, V, Tmax; // what the ids were validated against; Tmax 0: no positions
    // Element offsets in view: tok (N), pos (N); token buckets: rows (ntok_rows),
    // start (ntok_rows + 1), idx (N); position buckets likewise.
    uint32_t tok, pos, trows, tstart, tidx, prows, pstart, pidx;
    uint32_t ntok_rows, npos_rows; // distinct token ids, distinct positions
} vkt_embedding_ids;

// Bytes of device memory vkt_embedding_ids_upload needs for N ids (with positions or not).
uint64_t vkt_embedding_ids_bytes(int N, bool has_pos);
// Validates tok (N) in [0, V) and, when pos != NULL, pos (N) in [0, Tmax); on success
// uploads them with their buckets into dst (>= vkt_embedding_ids_bytes) and fills *ids.
// On error nothing is written. pos == NULL: no positions (Tmax ignored).
vkt_status vkt_embedding_ids_upload(vkt_ctx *ctx, int N, int V, int Tmax, const int32_t *tok,
                                    const int32_t *pos, vkt_view dst, vkt_embedding_ids *ids);

// out (N, C) = wte[tok] + wpe[pos]. wpe.buf == NULL: no position table (then pos unused).
vkt_status vkt_embedding_fwd(vkt_ctx *ctx, const vkt_embedding_ids *ids, int C, vkt_view wte,
                             vkt_view wpe, vkt_view out);
// The same lookup in a 16-bit table (w16 = 1: bf16, 2: fp16; two values a 32-bit word, low
// half first; C even; wte 4-byte aligned), widened to fp32 rows; no position table.
vkt_status vkt_embedding_fwd16(vkt_ctx *ctx, const vkt_embedding_ids *ids, int C, int w16,
                               vkt_view wte, vkt_view out);
// dwte[tok[i]] += dout[i], dwpe[pos[i]] += dout[i] (dwpe.buf == NULL: skipped).
vkt_status vkt_embedding_bwd(vkt_ctx *ctx, const vkt_embedding_ids *ids, int C, vkt_view dout,
                             vkt_view dwte, vkt_view dwpe);

#endif
