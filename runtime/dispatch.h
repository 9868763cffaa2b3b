// dispatch.h: how an op records one compute dispatch. Internal to runtime/ ops: a shader
// from the embedded table, specialization constants (ids 0-2 are the workgroup size by
// convention), buffer bindings (storage or texel), push constants, a grid.
// The recorder inserts only the barriers the bindings' read/write sets need.
#ifndef VKT_DISPATCH_H
#define VKT_DISPATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "buffer.h"

#define VKT_MAX_BINDINGS 8
#define VKT_MAX_SPEC 12
#define VKT_MAX_PUSH 128

typedef enum vkt_bind_kind {
    VKT_BIND_READ = 0,    // readonly storage buffer
    VKT_BIND_WRITE,       // storage buffer written (or read and written)
    VKT_BIND_TEXEL,       // uniform texel buffer, RGBA32F (samplerBuffer), read only
    VKT_BIND_TEXEL_R32,   // uniform texel buffer, R32F, read only
    VKT_BIND_TEXEL_U32X4, // uniform texel buffer, RGBA32UI (usamplerBuffer): packed 16-bit data
    VKT_BIND_TEXEL_U32,   // uniform texel buffer, R32UI, read only
} vkt_bind_kind;

static inline bool vkt_bind_is_texel(vkt_bind_kind k) { return k >= VKT_BIND_TEXEL; }

typedef struct vkt_binding {
    vkt_view view;
    vkt_bind_kind kind;
} vkt_binding;

typedef struct vkt_dispatch {
    const char *shader; // name in the embedded SPIR-V table
    const char *op;     // row of the VKT_PROFILE table (defaults to shader)
    uint32_t spec[VKT_MAX_SPEC];
    int nspec;
    vkt_binding bind[VKT_MAX_BINDINGS];
    int nbind;
    uint8_t push[VKT_MAX_PUSH];
    uint32_t push_bytes;
    uint32_t groups[3];
} vkt_dispatch;

// The binding starts at the view's offset rounded down to the device's alignment; the
// shader must skip vkt_bind_shift(ctx, view) floats (pass it in push constants).
uint32_t vkt_bind_shift(const vkt_ctx *ctx, vkt_view view, vkt_bind_kind kind);

vkt_status vkt_record(vkt_ctx *ctx, const vkt_dispatch *d);

// For bench and tests: what the dispatch caches did (dispatch_cache.c).
typedef struct vkt_dispatch_counts {
    uint64_t pipelines;     // pipelines created
    uint64_t views_created; // texel views created, cached or per dispatch
    uint64_t views_destroyed;
    uint64_t views_live; // created - destroyed
    uint64_t view_hits;  // dispatches that reused a cached view
    bool cache_on;
} vkt_dispatch_counts;

void vkt_dispatch_counts_get(vkt_ctx *ctx, vkt_dispatch_counts *out);
// Turns the caches on or off for later dispatches (the start value: VKT_DISPATCH_CACHE=0 is off).
vkt_status vkt_dispatch_cache_set(vkt_ctx *ctx, bool on);
// The index of d's pipeline in the context's table, made if it is new.
vkt_status vkt_dispatch_pipeline(vkt_ctx *ctx, const vkt_dispatch *d, int *index);

#endif
