// profile.c: the device profile. The one place where vendors and device types change
// what vkt does; ops read the profile and never test a vendor themselves.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vk_internal.h"

#ifndef VKT_GLSLC_COOPMAT
#define VKT_GLSLC_COOPMAT 0 // set by CMakeLists.txt from a glslc probe
#endif

const char *vkt_device_type_name(vkt_device_type t) {
    switch (t) {
    case VKT_DEVICE_INTEGRATED: return "integrated";
    case VKT_DEVICE_DISCRETE: return "discrete";
    case VKT_DEVICE_VIRTUAL: return "virtual";
    case VKT_DEVICE_CPU: return "cpu";
    default: return "other";
    }
}

const char *vkt_matmul_path_name(vkt_matmul_path p) {
    return p == VKT_MATMUL_TEXEL_REGBLOCK ? "texel-regblock (CPU)"
           : p == VKT_MATMUL_SHARED_TILED ? "shared-tiled (GPU)"
                                          : "gpu-tiled (GPU)";
}

const char *vkt_attention_path_name(vkt_attention_path p) {
    return p == VKT_ATTENTION_ROW ? "row (CPU)" : "gpu (lane-split rows)";
}

const char *vkt_memory_mode_name(vkt_memory_mode m) {
    return m == VKT_MEMORY_UNIFIED ? "unified" : m == VKT_MEMORY_REBAR ? "rebar" : "staging";
}

static const char *vendor_name(uint32_t id) {
    switch (id) {
    case 0x10DE: return "NVIDIA";
    case 0x1002: return "AMD";
    case 0x8086: return "Intel";
    case 0x10005: return "Mesa";
    case 0x13B5: return "ARM";
    case 0x5143: return "Qualcomm";
    case 0x106B: return "Apple";
    default: return "unknown";
    }
}

// A kill switch is set when the variable exists and is not "0" or empty.
static bool killed(const char *name) {
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

// The GPU matmul's tiles and split-k thresholds, and VKT_MATMUL (which forces a path on any
// device, so that tests run every path on lavapipe). Tiles: 128x128 (8x8 a thread) where
// there is work for it, 64x64 (4x4) otherwise; integrated GPUs have few cores and less
// shared memory, so they get 64x64 and 32x32. 256 threads need maxComputeWorkGroupInvocations
// >= 256 (every desktop driver); fewer: 64x64 tiles of 8x8 a thread on 64 threads.
static void matmul_fill(vkt_profile *p) {
    bool igpu = p->type == VKT_DEVICE_INTEGRATED;
    p->matmul_path = p->type == VKT_DEVICE_CPU ? VKT_MATMUL_TEXEL_REGBLOCK : VKT_MATMUL_GPU_TILED;
    p->matmul_tile_large =
        igpu ? (vkt_matmul_tile){16, 16, 4, 4, 16} : (vkt_matmul_tile){16, 16, 8, 8, 16};
    p->matmul_tile_small =
        igpu ? (vkt_matmul_tile){8, 8, 4, 4, 16} : (vkt_matmul_tile){16, 16, 4, 4, 16};
    if (p->max_workgroup_invocations < 256) {
        p->matmul_tile_large = (vkt_matmul_tile){8, 8, 8, 8, 16};
        p->matmul_tile_small = (vkt_matmul_tile){8, 8, 4, 4, 16};
    }
    // Enough workgroups to cover every core a few times (Vulkan does not report the count).
    p->matmul_fill_groups = igpu ? 32 : p->type == VKT_DEVICE_CPU ? 8 : 256;
    p->matmul_splitk_min_k = 256;
    const char *v = getenv("VKT_MATMUL");
    if (!v || !*v) return;
    if (!strcmp(v, "texel"))
        p->matmul_path = VKT_MATMUL_TEXEL_REGBLOCK;
    else if (!strcmp(v, "tiled"))
        p->matmul_path = VKT_MATMUL_SHARED_TILED;
    else if (!strcmp(v, "gpu"))
        p->matmul_path = VKT_MATMUL_GPU_TILED;
    else if (!strcmp(v, "splitk"))
        p->matmul_path = VKT_MATMUL_GPU_TILED, p->matmul_force_splitk = true;
}

// The attention family: row kernels on CPU devices (texel fetches, one row per
// invocation), lane-split kernels on GPUs; VKT_ATTENTION=row|gpu forces one (tests run
// both on lavapipe). Shuffle reductions need the lanes of a row inside one subgroup.
static void attention_fill(vkt_profile *p, uint32_t sg_ops) {
    p->attention_path = p->type == VKT_DEVICE_CPU ? VKT_ATTENTION_ROW : VKT_ATTENTION_GPU;
    p->attention_lanes = 32;
    p->attention_subgroup = (sg_ops & VK_SUBGROUP_FEATURE_SHUFFLE_BIT) && p->subgroup_min >= 4 &&
                            !killed("VKT_DISABLE_SUBGROUP");
    if (p->attention_subgroup && p->subgroup_min < p->attention_lanes)
        p->attention_lanes = p->subgroup_min;
    const char *v = getenv("VKT_ATTENTION");
    if (v && !strcmp(v, "row"))
        p->attention_path = VKT_ATTENTION_ROW;
    else if (v && !strcmp(v, "gpu"))
        p->attention_path = VKT_ATTENTION_GPU;
}

static bool has_ext(const VkExtensionProperties *exts, uint32_t n, const char *name) {
    for (uint32_t i = 0; i < n; i++)
        if (!strcmp(exts[i].extensionName, name)) return true;
    return false;
}

// Heaps and types for `vkt devices`, and the types vkt would pick on them.
static void memory_fill(vkt_profile *p, const VkPhysicalDeviceMemoryProperties *mem,
                        const vkt_heaps *heaps) {
    p->nheaps = (int)mem->memoryHeapCount;
    for (int i = 0; i < p->nheaps; i++)
        p->heaps[i] = (vkt_heap_info){.bytes = mem->memoryHeaps[i].size,
                                      .budget = heaps->budget[i],
                                      .usage = heaps->usage[i],
                                      .device_local = mem->memoryHeaps[i].flags &
                                                      VK_MEMORY_HEAP_DEVICE_LOCAL_BIT};
    p->nmemory_types = (int)mem->memoryTypeCount;
    for (int i = 0; i < p->nmemory_types; i++)
        p->memory_types[i] = (vkt_memory_type_info){mem->memoryTypes[i].propertyFlags,
                                                    mem->memoryTypes[i].heapIndex};
    const vkt_mem_use uses[3] = {VKT_MEM_DEVICE, VKT_MEM_STAGING, VKT_MEM_READBACK};
    const uint64_t bytes[3] = {VKT_BLOCK_BYTES, VKT_STAGING_BYTES, VKT_STAGING_BYTES};
    int *out[3] = {&p->memory_type_device, &p->memory_type_staging, &p->memory_type_readback};
    for (int u = 0; u < 3; u++) {
        bool hv = uses[u] != VKT_MEM_DEVICE || p->unified_memory;
        *out[u] = vkt_memory_type_choose(mem, heaps, ~0u, uses[u], hv, bytes[u]);
        // no room now: still say which type it would be
        if (*out[u] < 0) *out[u] = vkt_memory_type_choose(mem, NULL, ~0u, uses[u], hv, 0);
    }
    if (p->memory_mode == VKT_MEMORY_REBAR) {
        uint64_t window = p->rebar_forced ? 0 : VKT_BAR_WINDOW_BYTES;
        int t = vkt_memory_type_rebar(mem, heaps, ~0u, window, VKT_BLOCK_BYTES);
        if (t < 0) t = vkt_memory_type_rebar(mem, NULL, ~0u, window, 0);
        if (t >= 0) p->memory_type_device = t;
    }
}

// The identity, subgroup sizes and limits (properties and maintenance-3); *sg and *sgctl are
// kept for the features that depend on them.
static void limits_fill(VkPhysicalDevice phys, vkt_profile *p,
                        VkPhysicalDeviceSubgroupProperties *sg,
                        VkPhysicalDeviceSubgroupSizeControlProperties *sgctl) {
    VkPhysicalDeviceDriverProperties driver = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    *sgctl = (VkPhysicalDeviceSubgroupSizeControlProperties){
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES,
        .pNext = &driver};
    *sg = (VkPhysicalDeviceSubgroupProperties){
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES, .pNext = sgctl};
    VkPhysicalDeviceProperties2 props = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                         .pNext = sg};
    vkGetPhysicalDeviceProperties2(phys, &props);
    sg->pNext = NULL, sgctl->pNext = NULL; // the chain's other links are locals
    const VkPhysicalDeviceLimits *lim = &props.properties.limits;
    snprintf(p->name, sizeof p->name, "%s", props.properties.deviceName);
    p->vendor_id = props.properties.vendorID;
    p->device_id = props.properties.deviceID;
    p->vendor = vendor_name(p->vendor_id);
    switch (props.properties.deviceType) {
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: p->type = VKT_DEVICE_INTEGRATED; break;
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: p->type = VKT_DEVICE_DISCRETE; break;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: p->type = VKT_DEVICE_VIRTUAL; break;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: p->type = VKT_DEVICE_CPU; break;
    default: p->type = VKT_DEVICE_OTHER;
    }
    snprintf(p->driver, sizeof p->driver, "%s (%s)", driver.driverName, driver.driverInfo);
    p->api_version = props.properties.apiVersion;
    p->driver_version = props.properties.driverVersion;
    memcpy(p->uuid, props.properties.pipelineCacheUUID, 16);

    p->subgroup_size = sg->subgroupSize;
    p->subgroup_min = sgctl->minSubgroupSize ? sgctl->minSubgroupSize : sg->subgroupSize;
    p->subgroup_max = sgctl->maxSubgroupSize ? sgctl->maxSubgroupSize : sg->subgroupSize;
    p->shared_memory_bytes = lim->maxComputeSharedMemorySize;
    for (int i = 0; i < 3; i++) {
        p->max_workgroup_size[i] = lim->maxComputeWorkGroupSize[i];
        p->max_workgroup_count[i] = lim->maxComputeWorkGroupCount[i];
    }
    p->max_workgroup_invocations = lim->maxComputeWorkGroupInvocations;
    p->max_storage_buffer_range = lim->maxStorageBufferRange;
    p->max_texel_elements = lim->maxTexelBufferElements;
    p->storage_align = lim->minStorageBufferOffsetAlignment;
    p->texel_align = lim->minTexelBufferOffsetAlignment;
    p->max_push_constants = lim->maxPushConstantsSize;
    p->timestamp_period_ns = lim->timestampPeriod;
    p->timestamps = lim->timestampComputeAndGraphics;

    VkPhysicalDeviceMaintenance3Properties m3 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
    VkPhysicalDeviceProperties2 props2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                          .pNext = &m3};
    vkGetPhysicalDeviceProperties2(phys, &props2);
    p->max_allocation_bytes = m3.maxMemoryAllocationSize;
}

// The shader features of Vulkan 1.1 and 1.2 (fp16, int8, fp64).
void vkt_features_chain(vkt_features *x) {
    *x = (vkt_features){0};
    x->f12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
    x->f11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES;
    x->f11.pNext = &x->f12;
    x->f.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
    x->f.pNext = &x->f11;
}

static void features_fill(VkPhysicalDevice phys, vkt_profile *p) {
    vkt_features q;
    vkt_features_chain(&q);
    vkGetPhysicalDeviceFeatures2(phys, &q.f);
    p->has_fp16 = q.f12.shaderFloat16 && q.f11.storageBuffer16BitAccess;
    p->has_int8 = q.f12.shaderInt8 && q.f12.storageBuffer8BitAccess;
    p->has_fp64 = q.f.features.shaderFloat64;
}

// The extensions vkt looks for, and the subgroup features that need them.
static void extensions_fill(VkPhysicalDevice phys, vkt_profile *p,
                            const VkPhysicalDeviceSubgroupProperties *sg,
                            const VkPhysicalDeviceSubgroupSizeControlProperties *sgctl) {
    uint32_t next = 0;
    vkEnumerateDeviceExtensionProperties(phys, NULL, &next, NULL);
    VkExtensionProperties *exts = calloc(next ? next : 1, sizeof *exts);
    if (exts)
        vkEnumerateDeviceExtensionProperties(phys, NULL, &next, exts);
    else
        next = 0;
    p->has_bf16 = has_ext(exts, next, "VK_KHR_shader_bfloat16");
    p->has_coopmat = has_ext(exts, next, "VK_KHR_cooperative_matrix") ||
                     has_ext(exts, next, "VK_NV_cooperative_matrix");
    p->has_push_descriptor = has_ext(exts, next, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME);
    bool sgctl_ext = has_ext(exts, next, VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME);
    bool has_memory_budget = has_ext(exts, next, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
    free(exts);
    p->has_subgroup_arith = (sg->supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                            (sg->supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT);
    p->has_subgroup_size_control = sgctl_ext && sgctl->minSubgroupSize > 0;

    p->has_memory_budget = has_memory_budget;
}

// The heaps (with their budgets where known), the largest device-local one, and how the host
// reaches device memory (unified, rebar or staging).
static void unified_fill(VkPhysicalDevice phys, vkt_profile *p,
                         VkPhysicalDeviceMemoryProperties *mem, vkt_heaps *heaps) {
    vkt_heaps_query(phys, p->has_memory_budget, p->type == VKT_DEVICE_CPU, mem, heaps);
    // Unified: some memory type is both device-local and host-visible on the largest heap
    // the device owns. On discrete GPUs that is only the small BAR window, so keep it to
    // CPU devices and iGPUs.
    bool dl_hv = false;
    for (uint32_t i = 0; i < mem->memoryTypeCount; i++) {
        VkMemoryPropertyFlags fl = mem->memoryTypes[i].propertyFlags;
        if ((fl & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) &&
            (fl & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) &&
            (fl & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT))
            dl_hv = true;
    }
    // The largest device-local heap (a CPU device's: the machine's memory, see vkt_heaps_query).
    for (uint32_t i = 0; i < mem->memoryHeapCount; i++)
        if ((mem->memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) &&
            heaps->size[i] > p->device_heap_bytes)
            p->device_heap_bytes = heaps->size[i];
    // VKT_FORCE_REBAR implies the discrete path: no unified memory.
    bool force_rebar = killed("VKT_FORCE_REBAR");
    bool igpu_or_cpu = p->type == VKT_DEVICE_CPU || p->type == VKT_DEVICE_INTEGRATED;
    p->unified_memory = dl_hv && igpu_or_cpu && !force_rebar &&
                        !killed("VKT_DISABLE_UNIFIED"); // the staging path, as on a discrete GPU
    // Rebar: a GPU's device-local heap mapped whole (resizable BAR), not the 256 MiB window.
    // Unified devices killed to the staging path stay there; forcing skips the size check (a
    // CPU device's heap is small and host memory anyway).
    p->rebar_forced = force_rebar;
    uint64_t window = force_rebar ? 0 : VKT_BAR_WINDOW_BYTES;
    bool rebar = vkt_memory_type_rebar(mem, NULL, ~0u, window, 0) >= 0 &&
                 (force_rebar || !igpu_or_cpu) && !killed("VKT_DISABLE_REBAR");
    p->memory_mode = p->unified_memory ? VKT_MEMORY_UNIFIED
                     : rebar           ? VKT_MEMORY_REBAR
                                       : VKT_MEMORY_STAGING;
}

// The paths and fast features vkt picks from what the device has.
static void policy_fill(vkt_profile *p, uint32_t sg_ops) {
    // What vkt uses: fp32 everywhere; the fast paths only where present and not killed.
    p->use_fp16 = p->has_fp16 && !killed("VKT_DISABLE_FP16");
    // No kernel uses cooperative matrices yet: the GPU matmul's tiles are shaped for a KHR
    // cooperative-matrix variant, which needs a glslc with GL_KHR_cooperative_matrix (CMake
    // checks).
    p->glslc_coopmat = VKT_GLSLC_COOPMAT;
    p->use_coopmat = false;
    p->use_subgroup = p->has_subgroup_arith && !killed("VKT_DISABLE_SUBGROUP");
    // On a CPU device (lavapipe) shared memory and barriers cost more than they save,
    // and storage-buffer loads are scalarised while texel fetches are vectorised.
    matmul_fill(p);
    attention_fill(p, sg_ops);
    p->texel_gathers =
        p->type == VKT_DEVICE_CPU && !killed("VKT_ATTENTION_SHARED"); // tests force the other path
    p->small_workgroups = p->type == VKT_DEVICE_CPU;
}

// The largest binding: the storage-buffer range, the texel limit, VKT_MAX_BINDING_BYTES.
static void binding_fill(vkt_profile *p) {
    p->max_binding_bytes = p->max_storage_buffer_range;
    if (p->max_texel_elements * 4 < p->max_binding_bytes)
        p->max_binding_bytes = p->max_texel_elements * 4;
    const char *mb = getenv("VKT_MAX_BINDING_BYTES");
    if (mb && *mb) {
        unsigned long long v = strtoull(mb, NULL, 10);
        if (v >= 256 && v < p->max_binding_bytes) p->max_binding_bytes = v & ~255ull;
    }
}

void vkt_profile_fill(VkPhysicalDevice phys, int index, vkt_profile *p) {
    memset(p, 0, sizeof *p);
    p->index = index;
    VkPhysicalDeviceSubgroupProperties sg;
    VkPhysicalDeviceSubgroupSizeControlProperties sgctl;
    limits_fill(phys, p, &sg, &sgctl);
    features_fill(phys, p);
    extensions_fill(phys, p, &sg, &sgctl);
    VkPhysicalDeviceMemoryProperties mem;
    vkt_heaps heaps;
    unified_fill(phys, p, &mem, &heaps);
    policy_fill(p, (sg.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) ? sg.supportedOperations : 0);
    memory_fill(p, &mem, &heaps);
    binding_fill(p);
}
