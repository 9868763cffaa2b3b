// profile.h: what a device can do and which paths vkt will use on it. Built once per
// context from the queried limits, a small vendor table and the kill switches
// (VKT_DISABLE_FP16, VKT_DISABLE_COOPMAT, VKT_DISABLE_SUBGROUP). Every vendor-specific
// choice lives in profile.c and nowhere else.
#ifndef VKT_PROFILE_H
#define VKT_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

typedef enum vkt_device_type {
    VKT_DEVICE_OTHER = 0,
    VKT_DEVICE_INTEGRATED,
    VKT_DEVICE_DISCRETE,
    VKT_DEVICE_VIRTUAL,
    VKT_DEVICE_CPU,
} vkt_device_type;

// Which matmul kernel family suits the device (see shaders/matmul_*.comp).
typedef enum vkt_matmul_path {
    VKT_MATMUL_TEXEL_REGBLOCK = 0, // CPU devices: vectorised texel fetches, register blocks
    VKT_MATMUL_SHARED_TILED,       // GPUs: shared-memory tiles, a register block per thread
} vkt_matmul_path;

typedef struct vkt_profile {
    int index;                // position in vkCreateInstance's enumeration order
    char name[256];
    uint32_t vendor_id, device_id;
    const char *vendor;       // "NVIDIA", "AMD", "Intel", "Mesa (lavapipe)", ...
    vkt_device_type type;
    char driver[256];         // driver name and info, e.g. "llvmpipe / Mesa 22.3.6"
    uint32_t api_version;     // VK_MAKE_API_VERSION packed
    uint32_t driver_version;
    uint8_t uuid[16];         // pipelineCacheUUID: keys the on-disk pipeline cache

    // limits
    uint32_t subgroup_size, subgroup_min, subgroup_max;
    uint32_t shared_memory_bytes;
    uint32_t max_workgroup_size[3];
    uint32_t max_workgroup_invocations;
    uint32_t max_workgroup_count[3];
    uint64_t max_storage_buffer_range;
    uint64_t max_texel_elements;
    uint64_t max_allocation_bytes;
    uint64_t storage_align;   // minStorageBufferOffsetAlignment
    uint64_t texel_align;     // minTexelBufferOffsetAlignment
    uint32_t max_push_constants;
    float timestamp_period_ns;
    bool timestamps;

    // capabilities the device reports
    bool has_fp16, has_bf16, has_int8, has_fp64;
    bool has_coopmat, has_subgroup_arith, has_subgroup_size_control;
    bool has_push_descriptor;
    bool unified_memory;      // device memory is host-visible (CPU devices, iGPUs)
    uint64_t device_heap_bytes; // the largest device-local heap (what a model must fit in); on a
                                // CPU device the machine's memory

    // what vkt will use (capabilities after kill switches and vendor choices)
    bool use_fp16, use_coopmat, use_subgroup;
    vkt_matmul_path matmul_path;
    // CPU-device habits (lavapipe): shared rows read through texel buffers rather than
    // staged in shared memory, and workgroups of one subgroup (barriers switch subgroups).
    bool texel_gathers, small_workgroups;
    // Largest range one storage-buffer binding covers; ops split larger tensors.
    // min(maxStorageBufferRange, VKT_MAX_BINDING_BYTES) so tests can force splitting.
    uint64_t max_binding_bytes;
} vkt_profile;

const char *vkt_device_type_name(vkt_device_type t);
const char *vkt_matmul_path_name(vkt_matmul_path p);

#endif
