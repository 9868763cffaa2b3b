// memory_alloc.c: device memory for a buffer, of the type memory_type.c picks for it, with
// each heap's room checked first (VK_EXT_memory_budget where the device has it) so that a
// refusal says how much was asked for and what the heap has; rebar memory (device-local, mapped
// for host writes) where the profile chose it; and the staging and readback buffers that
// transfers use when blocks are not mapped, or not read through their mapping.
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vk_internal.h"

// Test knobs like VKT_MAX_BINDING_BYTES: VKT_MAX_HEAP_BYTES pretends every heap holds at most
// that many bytes, VKT_MAX_REBAR_BYTES that rebar memory runs out there (later blocks take the
// staging path). Sizes as "64M"; 0 when unset.
static uint64_t env_bytes(const char *name) {
    const char *v = getenv(name);
    if (!v || !*v) return 0;
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (*end == 'K' || *end == 'k')
        n <<= 10;
    else if (*end == 'M' || *end == 'm')
        n <<= 20;
    else if (*end == 'G' || *end == 'g')
        n <<= 30;
    return n;
}

void vkt_heaps_query(VkPhysicalDevice phys, bool has_budget, bool cpu_device,
                     VkPhysicalDeviceMemoryProperties *mp, vkt_heaps *h) {
    VkPhysicalDeviceMemoryBudgetPropertiesEXT budget = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
    VkPhysicalDeviceMemoryProperties2 p2 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2,
        .pNext = has_budget ? &budget : NULL};
    vkGetPhysicalDeviceMemoryProperties2(phys, &p2);
    *mp = p2.memoryProperties;
    memset(h, 0, sizeof *h);
    // A CPU device allocates from host memory whatever its heap says (lavapipe reports 2 GiB
    // and allocates past it): its limit is the machine's memory.
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t machine = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
    uint64_t cap = env_bytes("VKT_MAX_HEAP_BYTES");
    for (uint32_t i = 0; i < mp->memoryHeapCount && i < VK_MAX_MEMORY_HEAPS; i++) {
        h->size[i] = mp->memoryHeaps[i].size;
        if (cpu_device && machine > h->size[i]) h->size[i] = machine;
        if (cap && cap < h->size[i]) h->size[i] = cap;
        if (has_budget) {
            h->budget[i] = budget.heapBudget[i];
            h->usage[i] = budget.heapUsage[i];
        }
    }
}

// The heaps now: the driver's budget and usage where it reports them, else what vkt holds.
static void ctx_heaps(vkt_ctx *ctx, vkt_heaps *h) {
    VkPhysicalDeviceMemoryProperties mp;
    vkt_heaps_query(ctx->phys, ctx->prof.has_memory_budget, ctx->prof.type == VKT_DEVICE_CPU, &mp,
                    h);
    if (!ctx->prof.has_memory_budget)
        for (uint32_t i = 0; i < VK_MAX_MEMORY_HEAPS; i++) h->usage[i] = ctx->heap_held[i];
}

static const char *use_label(vkt_mem_use use) {
    return use == VKT_MEM_DEVICE    ? "device memory"
           : use == VKT_MEM_STAGING ? "staging memory"
                                    : "readback memory";
}

// Whether blocks of device memory are mapped (unified memory, not killed by VKT_DISABLE_UNIFIED).
static bool wants_mapping(const vkt_ctx *ctx, vkt_mem_use use) {
    return use != VKT_MEM_DEVICE || ctx->prof.unified_memory;
}

vkt_status vkt_memory_alloc(vkt_ctx *ctx, VkBuffer buf, vkt_mem_use use, vkt_allocation *out) {
    memset(out, 0, sizeof *out);
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(ctx->device, buf, &req);
    vkt_heaps h;
    ctx_heaps(ctx, &h);
    bool hv = wants_mapping(ctx, use);
    int t = vkt_memory_type_choose(&ctx->memprops, &h, req.memoryTypeBits, use, hv, req.size);
    char asked[32], heap[160];
    vkt_bytes_text(req.size, asked, sizeof asked);
    if (t < 0) {
        int any = vkt_memory_type_choose(&ctx->memprops, NULL, req.memoryTypeBits, use, hv, 0);
        if (any < 0)
            return vkt_fail(&ctx->err, VKT_ERR_UNSUPPORTED,
                            "%s: no memory type on '%s' suits %s (memoryTypeBits 0x%x)",
                            use_label(use), ctx->prof.name, vkt_mem_use_name(use),
                            req.memoryTypeBits);
        vkt_heap_text(&ctx->memprops, &h, ctx->memprops.memoryTypes[any].heapIndex, heap,
                      sizeof heap);
        return vkt_fail(&ctx->err, VKT_ERR_NOMEM, "%s: %s asked for in %s", use_label(use), asked,
                        heap);
    }
    uint32_t hi = ctx->memprops.memoryTypes[t].heapIndex;
    VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                               .allocationSize = req.size,
                               .memoryTypeIndex = (uint32_t)t};
    VkResult r = vkAllocateMemory(ctx->device, &ai, NULL, &out->memory);
    if (r != VK_SUCCESS) {
        out->memory = VK_NULL_HANDLE;
        vkt_heap_text(&ctx->memprops, &h, hi, heap, sizeof heap);
        return vkt_vk_fail(ctx, r, "%s: %s asked for in %s", use_label(use), asked, heap);
    }
    out->type = (uint32_t)t;
    out->heap = hi;
    out->bytes = req.size;
    ctx->heap_held[hi] += req.size;
    r = vkBindBufferMemory(ctx->device, buf, out->memory, 0);
    const char *call = "vkBindBufferMemory";
    VkMemoryPropertyFlags fl = ctx->memprops.memoryTypes[t].propertyFlags;
    bool mappable =
        (fl & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) && (fl & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
    if (r == VK_SUCCESS && hv && mappable) {
        r = vkMapMemory(ctx->device, out->memory, 0, VK_WHOLE_SIZE, 0, &out->mapped);
        call = "vkMapMemory";
    }
    if (r != VK_SUCCESS) {
        out->mapped = NULL;
        vkt_memory_free(ctx, out);
        return vkt_vk_fail(ctx, r, "%s (%s, %s)", call, use_label(use), asked);
    }
    return VKT_OK;
}

bool vkt_memory_alloc_rebar(vkt_ctx *ctx, VkBuffer buf, vkt_allocation *out) {
    memset(out, 0, sizeof *out);
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(ctx->device, buf, &req);
    vkt_heaps h;
    ctx_heaps(ctx, &h);
    uint64_t window = ctx->prof.rebar_forced ? 0 : VKT_BAR_WINDOW_BYTES;
    int t = vkt_memory_type_rebar(&ctx->memprops, &h, req.memoryTypeBits, window, req.size);
    uint64_t cap = env_bytes("VKT_MAX_REBAR_BYTES");
    if (t < 0 || (cap && ctx->rebar_held + req.size > cap)) return false;
    VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                               .allocationSize = req.size,
                               .memoryTypeIndex = (uint32_t)t};
    if (vkAllocateMemory(ctx->device, &ai, NULL, &out->memory) != VK_SUCCESS) {
        out->memory = VK_NULL_HANDLE;
        return false;
    }
    out->type = (uint32_t)t;
    out->heap = ctx->memprops.memoryTypes[t].heapIndex;
    out->bytes = req.size;
    ctx->heap_held[out->heap] += req.size;
    // Mapped before it is bound: a buffer binds once, so a failure here must leave it unbound
    // for the fallback.
    VkResult r = vkMapMemory(ctx->device, out->memory, 0, VK_WHOLE_SIZE, 0, &out->mapped);
    if (r != VK_SUCCESS)
        out->mapped = NULL;
    else
        r = vkBindBufferMemory(ctx->device, buf, out->memory, 0);
    if (r != VK_SUCCESS) vkt_memory_free(ctx, out);
    return r == VK_SUCCESS;
}

void vkt_memory_free(vkt_ctx *ctx, vkt_allocation *a) {
    if (!a->memory) return;
    if (a->mapped) vkUnmapMemory(ctx->device, a->memory);
    vkFreeMemory(ctx->device, a->memory, NULL);
    ctx->heap_held[a->heap] -= a->bytes;
    memset(a, 0, sizeof *a);
}

static vkt_status host_buffer_create(vkt_ctx *ctx, vkt_mem_use use, vkt_host_buffer *hb) {
    VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                             .size = VKT_STAGING_BYTES,
                             .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                      VK_BUFFER_USAGE_TRANSFER_DST_BIT};
    VkResult r = vkCreateBuffer(ctx->device, &bi, NULL, &hb->buffer);
    if (r != VK_SUCCESS) return vkt_vk_fail(ctx, r, "vkCreateBuffer (%s)", vkt_mem_use_name(use));
    vkt_status s = vkt_memory_alloc(ctx, hb->buffer, use, &hb->mem);
    if (s == VKT_OK && !hb->mem.mapped)
        s = vkt_fail(&ctx->err, VKT_ERR_UNSUPPORTED, "%s: memory type %u is not host-visible",
                     vkt_mem_use_name(use), hb->mem.type);
    if (s != VKT_OK) { // leave nothing half made: the next transfer tries again
        vkt_memory_free(ctx, &hb->mem);
        vkDestroyBuffer(ctx->device, hb->buffer, NULL);
        memset(hb, 0, sizeof *hb);
    }
    return s;
}

vkt_status vkt_transfer_buffers(vkt_ctx *ctx) {
    if (ctx->staging.buffer) return VKT_OK;
    VKT_TRY(host_buffer_create(ctx, VKT_MEM_STAGING, &ctx->staging));
    // Readback wants cached memory; where that is the staging buffer's type, one buffer serves
    // both.
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(ctx->device, ctx->staging.buffer, &req);
    vkt_heaps h;
    ctx_heaps(ctx, &h);
    int t = vkt_memory_type_choose(&ctx->memprops, &h, req.memoryTypeBits, VKT_MEM_READBACK, true,
                                   req.size);
    if (t < 0 || (uint32_t)t == ctx->staging.mem.type) return VKT_OK;
    return host_buffer_create(ctx, VKT_MEM_READBACK, &ctx->readback);
}

const vkt_host_buffer *vkt_readback_buffer(const vkt_ctx *ctx) {
    return ctx->readback.buffer ? &ctx->readback : &ctx->staging;
}

void vkt_transfer_buffers_destroy(vkt_ctx *ctx) {
    vkt_host_buffer *all[2] = {&ctx->staging, &ctx->readback};
    for (int i = 0; i < 2; i++) {
        if (all[i]->buffer) vkDestroyBuffer(ctx->device, all[i]->buffer, NULL);
        vkt_memory_free(ctx, &all[i]->mem);
        memset(all[i], 0, sizeof *all[i]);
    }
}
