// buffer.h: device buffers, sub-allocated from large memory blocks (never one
// VkDeviceMemory per tensor), and views into them. Transfers go through a reusable
// staging buffer, or straight through a mapping where memory is host-visible.
#ifndef VKT_BUFFER_H
#define VKT_BUFFER_H

#include <stdint.h>

#include "context.h"

typedef struct vkt_buffer vkt_buffer;

// A byte range of a buffer: what ops take. Offsets need no alignment.
typedef struct vkt_view {
    vkt_buffer *buf;
    uint64_t offset; // bytes from the buffer's start
    uint64_t bytes;
} vkt_view;

vkt_status vkt_buffer_create(vkt_ctx *ctx, uint64_t bytes, vkt_buffer **out);
void vkt_buffer_destroy(vkt_ctx *ctx, vkt_buffer *buf);
uint64_t vkt_buffer_bytes(const vkt_buffer *buf);

vkt_view vkt_view_all(vkt_buffer *buf);
// Floats [first, first+count) of a view (offsets in elements of 4 bytes).
vkt_view vkt_view_f32(vkt_view v, uint64_t first, uint64_t count);

// Copies are ordered with the recorded ops. An upload of up to 256 KiB (4-byte aligned) is
// recorded into the stream and returns without waiting; a larger one waits. A download
// waits (one host wait per 32 MiB) for everything recorded before it. On rebar memory an
// upload into a buffer no pending frame uses is a plain write, with no wait; a large one into
// a buffer in use waits for the last frame that used it.
vkt_status vkt_upload(vkt_ctx *ctx, vkt_view dst, const void *src, uint64_t bytes);
vkt_status vkt_download(vkt_ctx *ctx, vkt_view src, void *dst, uint64_t bytes);

// Device memory held by buffers (for reports and tests).
uint64_t vkt_ctx_bytes_allocated(const vkt_ctx *ctx);
// The most device memory the context's buffers have held at once.
uint64_t vkt_ctx_bytes_peak(const vkt_ctx *ctx);
// What the host has waited for and moved since the context opened: fences waited on (each
// a stall of the CPU for the GPU) and bytes through vkt_upload / vkt_download; of those, bytes
// copied through the staging or readback buffer, and upload bytes recorded into the command
// stream (the rest went through a mapping).
typedef struct vkt_transfers {
    uint64_t host_waits, bytes_up, bytes_down;
    uint64_t bytes_staged, bytes_inline;
} vkt_transfers;
void vkt_ctx_transfers(const vkt_ctx *ctx, vkt_transfers *t);
int vkt_ctx_memory_blocks(const vkt_ctx *ctx);

#endif
