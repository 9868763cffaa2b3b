// vk_internal.h: the structs behind the opaque runtime handles. Included only by
// runtime/*.c; the single place that knows how a context is laid out.
#ifndef VKT_VK_INTERNAL_H
#define VKT_VK_INTERNAL_H

#include <vulkan/vulkan.h>

#include "buffer.h"
#include "context.h"
#include "dispatch.h"
#include "profile.h"

#define VKT_FRAMES 3            // command buffers in flight
#define VKT_FRAME_DISPATCHES 256 // dispatches per command buffer before it is submitted
#define VKT_BLOCK_BYTES (256ull << 20)
#define VKT_STAGING_BYTES (32ull << 20)
#define VKT_MAX_HAZARDS 64

// A free range inside a memory block.
typedef struct vkt_range {
    uint64_t offset, bytes;
} vkt_range;

// One VkDeviceMemory with one VkBuffer spanning it; buffers are ranges of it.
typedef struct vkt_block {
    VkDeviceMemory memory;
    VkBuffer buffer;
    uint64_t bytes;
    void *mapped;        // non-NULL when host-visible
    vkt_range *free;     // sorted, coalesced free list
    int nfree, capfree;
    int live;            // buffers allocated from this block
} vkt_block;

struct vkt_buffer {
    int block;
    uint64_t offset, bytes;
};

typedef struct vkt_pipeline {
    char key[192];       // shader name + spec constants + binding kinds
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
    int ndispatch;
    const char **query_ops;   // op name per timestamp pair
    VkBufferView *views;      // texel views to destroy when the frame completes
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
    uint32_t memtype;            // memory type for blocks
    bool host_visible;           // blocks are mapped
    PFN_vkCmdPushDescriptorSetKHR push_descriptor;

    vkt_block *blocks;
    int nblocks, capblocks;
    uint64_t bytes_allocated;
    uint64_t bytes_peak;         // the most bytes_allocated has been

    // staging for transfers when blocks are not host-visible
    VkBuffer staging;
    VkDeviceMemory staging_mem;
    void *staging_map;

    VkPipelineCache cache;
    bool cache_dirty;
    char cache_path[1024];
    vkt_pipeline *pipes;
    int npipes, cappipes;

    VkCommandPool pool;
    vkt_frame frames[VKT_FRAMES];
    int cur;                     // frame being recorded
    vkt_hazard hazards[VKT_MAX_HAZARDS];
    int nhazards;

    bool profiling;
    vkt_op_time *times;
    int ntimes, captimes;
};

const char *vkt_vk_result_name(VkResult r);
// vkt_fail with the VkResult as text: "vkCreateBuffer (matmul B, 4096 bytes): VK_ERROR_OUT_OF_DEVICE_MEMORY".
vkt_status vkt_vk_fail(vkt_ctx *ctx, VkResult r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

// record.c
vkt_status vkt_frame_begin(vkt_ctx *ctx);        // make sure ctx->frames[ctx->cur] is recording
vkt_status vkt_frame_flush(vkt_ctx *ctx, bool wait);
void vkt_record_full_barrier(vkt_ctx *ctx);
void vkt_frames_destroy(vkt_ctx *ctx);
vkt_status vkt_frames_create(vkt_ctx *ctx);
void vkt_profile_print(vkt_ctx *ctx);

// pipeline.c
vkt_status vkt_pipeline_get(vkt_ctx *ctx, const vkt_dispatch *d, vkt_pipeline **out);
void vkt_pipelines_destroy(vkt_ctx *ctx);
void vkt_pipeline_cache_load(vkt_ctx *ctx);
void vkt_pipeline_cache_save(vkt_ctx *ctx);

// buffer.c
VkBuffer vkt_buffer_vk(const vkt_ctx *ctx, const vkt_buffer *b, uint64_t *base_offset);
void vkt_memory_destroy(vkt_ctx *ctx);

// profile.c
void vkt_profile_fill(VkPhysicalDevice phys, int index, vkt_profile *p);

#endif
