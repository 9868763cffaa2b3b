// profile.h: what a device can do and which paths vkt will use on it. Built once per
// context from the queried limits, a small vendor table and the kill switches
// (VKT_DISABLE_FP16, VKT_DISABLE_COOPMAT, VKT_DISABLE_SUBGROUP, VKT_DISABLE_UNIFIED,
// VKT_DISABLE_REBAR), and the path overrides VKT_MATMUL=texel|tiled|gpu|splitk,
// VKT_ATTENTION=row|gpu and VKT_FORCE_REBAR=1. Every vendor-specific choice lives in
// profile.c and nowhere else.
#ifndef VKT_PROFILE_H
#define VKT_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
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
    VKT_MATMUL_SHARED_TILED, // the first GPU kernel: 64x64 shared-memory tiles, 4x4 per thread
    VKT_MATMUL_GPU_TILED,    // GPUs: swizzled vec4 tiles, double-buffered, tiles by shape, split-k
} vkt_matmul_path;

// A tile of the GPU matmul (shaders/matmul_gpu.comp): wgx x wgy threads, each tm x tn
// outputs (4 or 8), bk-deep k-slices; the workgroup covers (wgy*tm) x (wgx*tn) of C.
typedef struct vkt_matmul_tile {
    uint32_t wgx, wgy, tm, tn, bk;
} vkt_matmul_tile;

// Which attention kernel family suits the device (see shaders/attention_*.comp).
typedef enum vkt_attention_path {
    VKT_ATTENTION_ROW = 0, // CPU devices: one query (or key) row per invocation, texel fetches
    VKT_ATTENTION_GPU,     // GPUs: head rows split across lanes, no per-thread D-float arrays
} vkt_attention_path;

// How the host reaches device buffers (vkt_upload / vkt_download, buffer.c).
typedef enum vkt_memory_mode {
    VKT_MEMORY_STAGING = 0, // discrete GPUs: copies through host buffers both ways
    VKT_MEMORY_UNIFIED,     // CPU devices, iGPUs: blocks are mapped, the host reads and writes them
    VKT_MEMORY_REBAR,       // a discrete GPU whose device-local heap is host-visible past the
                            // 256 MiB BAR window: the host writes blocks through their mapping,
                            // reads them through a cached readback copy
} vkt_memory_mode;

#define VKT_PROFILE_HEAPS 16 // VK_MAX_MEMORY_HEAPS
#define VKT_PROFILE_MEMORY_TYPES 32

// A memory heap as the driver reports it; budget and usage from VK_EXT_memory_budget (0 without
// it).
typedef struct vkt_heap_info {
    uint64_t bytes, budget, usage;
    bool device_local;
} vkt_heap_info;

// A memory type: VkMemoryPropertyFlags and the heap it draws from.
typedef struct vkt_memory_type_info {
    uint32_t flags, heap;
} vkt_memory_type_info;

typedef struct vkt_profile {
    int index; // position in vkCreateInstance's enumeration order
    char name[256];
    uint32_t vendor_id, device_id;
    const char *vendor; // "NVIDIA", "AMD", "Intel", "Mesa (lavapipe)", ...
    vkt_device_type type;
    char driver[256];     // driver name and info, e.g. "llvmpipe / Mesa 22.3.6"
    uint32_t api_version; // VK_MAKE_API_VERSION packed
    uint32_t driver_version;
    uint8_t uuid[16]; // pipelineCacheUUID: keys the on-disk pipeline cache

    // limits
    uint32_t subgroup_size, subgroup_min, subgroup_max;
    uint32_t shared_memory_bytes;
    uint32_t max_workgroup_size[3];
    uint32_t max_workgroup_invocations;
    uint32_t max_workgroup_count[3];
    uint64_t max_storage_buffer_range;
    uint64_t max_texel_elements;
    uint64_t max_allocation_bytes;
    uint64_t storage_align; // minStorageBufferOffsetAlignment
    uint64_t texel_align;   // minTexelBufferOffsetAlignment
    uint32_t max_push_constants;
    float timestamp_period_ns;
    bool timestamps;

    // capabilities the device reports
    bool has_fp16, has_bf16, has_int8, has_fp64;
    bool has_coopmat, has_subgroup_arith, has_subgroup_size_control;
    bool has_push_descriptor;
    bool unified_memory; // device memory is host-visible (CPU devices, iGPUs)
    // unified when unified_memory; rebar on a non-CPU, non-integrated device with a device-local
    // + host-visible + coherent type on a device-local heap over 256 MiB, unless
    // VKT_DISABLE_REBAR; VKT_FORCE_REBAR=1 forces rebar wherever such a type exists, skipping the
    // heap-size check (rebar_forced) and unified memory (tests run it on lavapipe)
    vkt_memory_mode memory_mode;
    bool rebar_forced;
    uint64_t device_heap_bytes; // the largest device-local heap (what a model must fit in); on a
                                // CPU device the machine's memory

    // memory heaps and types, and the types vkt picks (-1: none) for device buffers, staging
    // (uploads) and readback (downloads), found with every type allowed (a context checks
    // each buffer's memoryTypeBits and the heap's room again)
    bool has_memory_budget; // VK_EXT_memory_budget
    int nheaps, nmemory_types;
    vkt_heap_info heaps[VKT_PROFILE_HEAPS];
    vkt_memory_type_info memory_types[VKT_PROFILE_MEMORY_TYPES];
    int memory_type_device, memory_type_staging, memory_type_readback;

    // what vkt will use (capabilities after kill switches and vendor choices). use_fp16: the
    // shaderFloat16 / 16-bit storage features are enabled (16-bit values are still widened to fp32
    // by bits in every kernel). use_coopmat stays false until a cooperative-matrix kernel exists;
    // glslc_coopmat says whether this build's shader compiler could write one.
    bool use_fp16, use_coopmat, use_subgroup;
    bool glslc_coopmat;
    vkt_matmul_path matmul_path; // VKT_MATMUL=texel|tiled|gpu|splitk forces one (profile.c)
    // GPU matmul tiles: the large one unless it gives fewer than matmul_fill_groups
    // workgroups; then split-k (where the caller gives scratch) while K per split stays
    // >= matmul_splitk_min_k. matmul_force_splitk (VKT_MATMUL=splitk): split whenever K allows.
    vkt_matmul_tile matmul_tile_large, matmul_tile_small;
    uint32_t matmul_fill_groups, matmul_splitk_min_k;
    bool matmul_force_splitk;
    // Attention kernels: VKT_ATTENTION=row|gpu forces a family on any device (profile.c).
    // The gpu family splits a head row across up to attention_lanes lanes (a power of
    // two), reduced through subgroup shuffles when attention_subgroup (the lanes then fit
    // in the smallest subgroup), through shared memory otherwise.
    vkt_attention_path attention_path;
    uint32_t attention_lanes;
    bool attention_subgroup;
    // CPU-device habits (lavapipe): shared rows read through texel buffers rather than
    // staged in shared memory, and workgroups of one subgroup (barriers switch subgroups).
    bool texel_gathers, small_workgroups;
    // Largest range one storage-buffer binding covers; ops split larger tensors.
    // min(maxStorageBufferRange, VKT_MAX_BINDING_BYTES) so tests can force splitting.
    uint64_t max_binding_bytes;
} vkt_profile;

const char *vkt_device_type_name(vkt_device_type t);
const char *vkt_matmul_path_name(vkt_matmul_path p);
const char *vkt_attention_path_name(vkt_attention_path p);
const char *vkt_memory_mode_name(vkt_memory_mode m); // "unified", "staging", "rebar"
// For reports (memory_type.c): "3.00 GiB", "640.00 MiB", "12 bytes".
void vkt_bytes_text(uint64_t bytes, char *out, size_t n);
// VkMemoryPropertyFlags as words: "device-local host-visible host-coherent host-cached" (or
// "none").
void vkt_memory_flags_text(uint32_t flags, char *out, size_t n);

#endif
