// vk_internal.h: the structs behind the opaque runtime handles. Included only by
// runtime/*.c; the single place that knows how a context is laid out.
#ifndef VKT_VK_INTERNAL_H
#define VKT_VK_INTERNAL_H

#include <vulkan/vulkan.h>

#include "buffer.h"
#include "context.h"
#include "dispatch.h"
#include "memory_type.h"
#include "profile.h"

#define VKT_FRAMES 3             // command buffers in flight
#define VKT_FRAME_DISPATCHES 256 // dispatches per command buffer before it is submitted
#define VKT_BLOCK_BYTES (256ull << 20)
#define VKT_STAGING_BYTES (32ull << 20)
#define VKT_MAX_HAZARDS 64
// Uploads up to this size, 4-byte aligned, are recorded into the frame (vkCmdUpdateBuffer)
// instead of waiting for the queue; a frame holding this much inline data is submitted.
#define VKT_INLINE_UPLOAD_BYTES (256ull << 10)
#define VKT_INLINE_FRAME_BYTES (8ull << 20)

// A free range inside a memory block.
typedef struct vkt_range {
    uint64_t offset, bytes;
} vkt_range;

// One VkDeviceMemory and where it came from (memory_alloc.c).
typedef struct vkt_allocation {
    VkDeviceMemory memory;
    void *mapped; // non-NULL when host-visible and vkt maps it
    uint32_t type, heap;
    uint64_t bytes; // what the driver was asked for (the buffer's requirement)
} vkt_allocation;

// A mapped buffer for transfers (staging or readback).
typedef struct vkt_host_buffer {
    VkBuffer buffer;
    vkt_allocation mem;
} vkt_host_buffer;

// One VkDeviceMemory with one VkBuffer spanning it; buffers are ranges of it.
typedef struct vkt_block {
    vkt_allocation mem;
    VkBuffer buffer;
    uint64_t bytes;
    vkt_range *free; // sorted, coalesced free list
    int nfree, capfree;
    int live;   // buffers allocated from this block
    bool rebar; // mapped for host writes only: reads go through the readback copy
} vkt_block;

struct vkt_buffer {
    int block;
    uint64_t offset, bytes;
    uint64_t last_use; // serial of the last frame that recorded a command on it (0: none)
};

typedef struct vkt_pipeline {
    char key[192]; // shader name + spec constants + binding kinds
    VkDescriptorSetLayout set_layout;
    VkPipelineLayout layout;
    VkPipeline pipeline;
} vkt_pipeline;

typedef struct vkt_hazard {
    VkBuffer buffer;
    uint64_t lo, hi;
    bool write;
} vkt_hazard;

typedef struct vkt_frame {
    VkCommandBuffer cmd;
    VkFence fence;
    VkQueryPool queries;
    bool recording, submitted;
    uint64_t serial; // given when recording starts: 1, 2, ... in submission order
    int ndispatch;
    uint64_t inline_bytes;  // upload data recorded into the command buffer
    const char **query_ops; // op name per timestamp pair
    VkBufferView *views;    // texel views to destroy when the frame completes
    int nviews, capviews;
} vkt_frame;

typedef struct vkt_op_time {
    const char *op;
    uint64_t calls;
    double total_ms;
} vkt_op_time;

struct vkt_ctx {
    vkt_error err;
    vkt_profile prof;
    char warning[320];

    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    bool validation;
    int validation_messages;

    VkPhysicalDevice phys;
    VkDevice device;
    VkQueue queue;
    uint32_t queue_family;
    VkPhysicalDeviceMemoryProperties memprops;
    uint64_t heap_held[VK_MAX_MEMORY_HEAPS]; // bytes vkt holds per heap
    PFN_vkCmdPushDescriptorSetKHR push_descriptor;

    vkt_block *blocks;
    int nblocks, capblocks;
    uint64_t bytes_allocated;
    uint64_t bytes_peak;           // the most bytes_allocated has been
    uint64_t rebar_held;           // bytes of rebar blocks
    uint64_t host_waits;           // fences the host waited on (frame_complete)
    uint64_t bytes_up, bytes_down; // bytes vkt_upload / vkt_download moved
    uint64_t bytes_staged;         // of both, bytes copied through staging or readback
    uint64_t bytes_inline;         // of bytes_up, bytes recorded into the command stream

    // transfers for blocks that are not mapped (and reads of rebar blocks), made on the first
    // transfer; readback is empty when the staging buffer's type is also the one readback wants
    vkt_host_buffer staging, readback;

    VkPipelineCache cache;
    bool cache_dirty;
    bool pipeline_stats; // VK_KHR_pipeline_executable_properties on: pipelines capture statistics
    char cache_path[1024];
    vkt_pipeline *pipes;
    int npipes, cappipes;

    VkCommandPool pool;
    vkt_frame frames[VKT_FRAMES];
    int cur; // frame being recorded
    // Frame serials: the newest given out and the newest known complete (its fence waited
    // on, which covers every frame before it).
    uint64_t serial_last, serial_done;
    vkt_hazard hazards[VKT_MAX_HAZARDS];
    int nhazards;

    bool timing;
    vkt_op_time *times;
    int ntimes, captimes;

    // dispatch caches: pipeline index and texel views (dispatch_cache.h)
    struct vkt_dcache *dcache;
};

const char *vkt_vk_result_name(VkResult r);
// vkt_fail with the VkResult as text: "vkCreateBuffer (matmul B, 4096 bytes):
// VK_ERROR_OUT_OF_DEVICE_MEMORY".
vkt_status vkt_vk_fail(vkt_ctx *ctx, VkResult r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

// record.c
vkt_status vkt_frame_begin(vkt_ctx *ctx); // make sure ctx->frames[ctx->cur] is recording
vkt_status vkt_frame_flush(vkt_ctx *ctx, bool wait);
// Waits until the frame with this serial has completed, submitting it first if it is being
// recorded: one fence, none when it is already known complete.
vkt_status vkt_frame_wait(vkt_ctx *ctx, uint64_t serial);
void vkt_record_full_barrier(vkt_ctx *ctx);
void vkt_frames_destroy(vkt_ctx *ctx);
vkt_status vkt_frames_create(vkt_ctx *ctx);
void vkt_timing_print(vkt_ctx *ctx);

// pipeline.c
vkt_status vkt_pipeline_get(vkt_ctx *ctx, const vkt_dispatch *d, vkt_pipeline **out);
void vkt_pipelines_destroy(vkt_ctx *ctx);
void vkt_pipeline_cache_load(vkt_ctx *ctx);
void vkt_pipeline_cache_save(vkt_ctx *ctx);

// buffer.c
VkBuffer vkt_buffer_vk(const vkt_ctx *ctx, const vkt_buffer *b, uint64_t *base_offset);
void vkt_memory_destroy(vkt_ctx *ctx);

// memory_alloc.c
// The memory properties and each heap's size, budget and usage (budget and usage from
// VK_EXT_memory_budget when has_budget; a CPU device's heaps count the machine's memory).
void vkt_heaps_query(VkPhysicalDevice phys, bool has_budget, bool cpu_device,
                     VkPhysicalDeviceMemoryProperties *mp, vkt_heaps *h);
// Allocates, binds and (for mapped uses) maps memory for buf; a heap without room is
// VKT_ERR_NOMEM "device memory: 3.00 GiB asked for in heap 0 (device-local, 2.00 GiB, ...)".
vkt_status vkt_memory_alloc(vkt_ctx *ctx, VkBuffer buf, vkt_mem_use use, vkt_allocation *out);
// Rebar memory for a block, mapped: false (and nothing set in ctx's error) when no type or
// allocation serves, and the caller takes vkt_memory_alloc's device memory instead.
bool vkt_memory_alloc_rebar(vkt_ctx *ctx, VkBuffer buf, vkt_allocation *out);
void vkt_memory_free(vkt_ctx *ctx, vkt_allocation *a);
vkt_status vkt_transfer_buffers(vkt_ctx *ctx); // makes staging (and readback) if not yet made
const vkt_host_buffer *vkt_readback_buffer(const vkt_ctx *ctx);
void vkt_transfer_buffers_destroy(vkt_ctx *ctx);

// profile.c
void vkt_profile_fill(VkPhysicalDevice phys, int index, vkt_profile *p);

// The Vulkan 1.0/1.1/1.2 feature structs vkt queries (profile.c) and enables (context.c),
// chained f -> f11 -> f12, f12.pNext left for an extension's struct. Chained in place: use the
// struct where vkt_features_chain made it, never a copy.
typedef struct vkt_features {
    VkPhysicalDeviceFeatures2 f;
    VkPhysicalDeviceVulkan11Features f11;
    VkPhysicalDeviceVulkan12Features f12;
} vkt_features;
void vkt_features_chain(vkt_features *x);

#endif
