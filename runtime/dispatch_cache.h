// dispatch_cache.h: what keeps recording a dispatch cheap. Pipelines are found through a
// hash of (shader, specialization constants, binding kinds) instead of a printed key and a
// scan; texel-buffer views are kept per (buffer, offset, range, format) instead of being
// made per dispatch. VKT_DISPATCH_CACHE=0 keeps the old path (for comparison and tests).
// Internal to runtime/: pipeline.c and record.c use it.
#ifndef VKT_DISPATCH_CACHE_H
#define VKT_DISPATCH_CACHE_H

#include "vk_internal.h"

typedef struct vkt_pipe_slot {
    uint64_t hash;
    const char *shader; // the embedded table's name (static storage)
    uint32_t spec[VKT_MAX_SPEC];
    uint8_t kinds[VKT_MAX_BINDINGS];
    uint8_t nspec, nbind;
    int pipe; // index in ctx->pipes; -1: empty slot
} vkt_pipe_slot;

typedef struct vkt_view_slot {
    VkBuffer buffer; // VK_NULL_HANDLE: empty slot
    uint64_t offset, range;
    VkFormat format;
    VkBufferView view;
} vkt_view_slot;

typedef struct vkt_dcache {
    bool on;
    vkt_pipe_slot *pipes;
    uint32_t cap_pipes, npipes; // cap a power of two, kept at most half full
    vkt_view_slot *views;       // VKT_VIEW_SLOTS entries
    uint32_t nviews;
    vkt_dispatch_counts counts;
} vkt_dcache;

// The context's cache, made with the context (on unless VKT_DISPATCH_CACHE=0) or on first use.
vkt_status vkt_dcache_get(vkt_ctx *ctx, vkt_dcache **out);
uint64_t vkt_dcache_hash(const vkt_dispatch *d);
// Index in ctx->pipes of the pipeline for d, or -1.
int vkt_dcache_find_pipe(const vkt_dcache *dc, const vkt_dispatch *d, uint64_t hash);
// Room for one more pipeline; call before creating it so that adding cannot fail.
vkt_status vkt_dcache_reserve_pipe(vkt_ctx *ctx, vkt_dcache *dc);
void vkt_dcache_add_pipe(vkt_dcache *dc, const vkt_dispatch *d, const char *shader, uint64_t hash,
                         int pipe);
// The view for vi, made once and kept. Only for buffers that live until the context ends:
// the cached view is destroyed with the context, before the memory.
vkt_status vkt_dcache_view(vkt_ctx *ctx, const VkBufferViewCreateInfo *vi, const char *shader,
                           int binding, VkBufferView *out);
void vkt_dcache_destroy(vkt_ctx *ctx);

// record.c: hands views to the frame being recorded; they are destroyed when it completes.
vkt_status vkt_frame_retire_views(vkt_ctx *ctx, const VkBufferView *views, int n);

#endif
