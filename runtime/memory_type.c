// memory_type.c: the memory-type choice and how heaps are described in messages. Pure:
// no Vulkan calls, only the property tables.
#include <stdio.h>
#include <string.h>

#include "memory_type.h"

#define DL VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT
#define HV VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT
#define HC VK_MEMORY_PROPERTY_HOST_COHERENT_BIT
#define CACHED VK_MEMORY_PROPERTY_HOST_CACHED_BIT

// Types vkt never allocates from: protected memory needs protected buffers, lazily allocated
// memory is for attachments, and AMD's device-coherent types need a feature vkt leaves off.
static const VkMemoryPropertyFlags NEVER =
    VK_MEMORY_PROPERTY_PROTECTED_BIT | VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT |
    VK_MEMORY_PROPERTY_DEVICE_COHERENT_BIT_AMD | VK_MEMORY_PROPERTY_DEVICE_UNCACHED_BIT_AMD;

typedef struct want {
    VkMemoryPropertyFlags required, preferred, avoided;
} want;

uint64_t vkt_heap_room(const vkt_heaps *h, uint32_t heap) {
    uint64_t limit = h->size[heap];
    if (h->budget[heap] && h->budget[heap] < limit) limit = h->budget[heap];
    return limit > h->usage[heap] ? limit - h->usage[heap] : 0;
}

static int bits(VkMemoryPropertyFlags f) { return __builtin_popcount((unsigned)f); }

// The best type with every required flag: most preferred flags, then fewest avoided ones.
// heap_over > 0: only types on device-local heaps of more bytes than that (rebar).
static int best_type(const VkPhysicalDeviceMemoryProperties *mp, const vkt_heaps *heaps,
                     uint32_t type_bits, want w, uint64_t bytes, uint64_t heap_over) {
    int best = -1, best_score = 0;
    for (uint32_t i = 0; i < mp->memoryTypeCount && i < 32; i++) {
        VkMemoryPropertyFlags fl = mp->memoryTypes[i].propertyFlags;
        if (!(type_bits & (1u << i)) || (fl & w.required) != w.required || (fl & NEVER)) continue;
        const VkMemoryHeap *heap = &mp->memoryHeaps[mp->memoryTypes[i].heapIndex];
        if (heap_over &&
            (!(heap->flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) || heap->size <= heap_over))
            continue;
        if (heaps && vkt_heap_room(heaps, mp->memoryTypes[i].heapIndex) < bytes) continue;
        int score = 64 * bits(fl & w.preferred) - bits(fl & w.avoided);
        if (best < 0 || score > best_score) best = (int)i, best_score = score;
    }
    return best;
}

int vkt_memory_type_choose(const VkPhysicalDeviceMemoryProperties *mp, const vkt_heaps *heaps,
                           uint32_t type_bits, vkt_mem_use use, bool host_visible, uint64_t bytes) {
    want order[3];
    int n = 0;
    switch (use) {
    case VKT_MEM_DEVICE:
        if (host_visible) order[n++] = (want){DL | HV | HC, 0, 0};
        order[n++] = (want){DL, 0, HV};
        // Host memory for device buffers only where the buffer allows nothing else: a full
        // device heap is an error, not a silent move to slow memory.
        if (best_type(mp, NULL, type_bits, (want){DL, 0, 0}, 0, 0) < 0)
            order[n++] = (want){0, 0, 0};
        break;
    case VKT_MEM_STAGING: order[n++] = (want){HV | HC, 0, DL | CACHED}; break;
    case VKT_MEM_READBACK: order[n++] = (want){HV | HC, CACHED, DL}; break;
    }
    for (int i = 0; i < n; i++) {
        int t = best_type(mp, heaps, type_bits, order[i], bytes, 0);
        if (t >= 0) return t;
    }
    return -1;
}

int vkt_memory_type_rebar(const VkPhysicalDeviceMemoryProperties *mp, const vkt_heaps *heaps,
                          uint32_t type_bits, uint64_t window, uint64_t bytes) {
    // window 0 (forced): any device-local heap, still one with room
    return best_type(mp, heaps, type_bits, (want){DL | HV | HC, 0, 0}, bytes, window ? window : 1);
}

void vkt_bytes_text(uint64_t bytes, char *out, size_t n) {
    if (bytes >= (1ull << 30))
        snprintf(out, n, "%.2f GiB", (double)bytes / (1ull << 30));
    else if (bytes >= (1ull << 20))
        snprintf(out, n, "%.2f MiB", (double)bytes / (1ull << 20));
    else if (bytes >= (1ull << 10))
        snprintf(out, n, "%.2f KiB", (double)bytes / (1ull << 10));
    else
        snprintf(out, n, "%llu bytes", (unsigned long long)bytes);
}

void vkt_heap_text(const VkPhysicalDeviceMemoryProperties *mp, const vkt_heaps *h, uint32_t heap,
                   char *out, size_t n) {
    char size[32], budget[48] = "", usage[48] = "";
    vkt_bytes_text(h->size[heap], size, sizeof size);
    if (h->budget[heap]) {
        char b[32];
        vkt_bytes_text(h->budget[heap], b, sizeof b);
        snprintf(budget, sizeof budget, ", budget %s", b);
    }
    if (h->usage[heap]) {
        char u[32];
        vkt_bytes_text(h->usage[heap], u, sizeof u);
        snprintf(usage, sizeof usage, ", %s in use", u);
    }
    const char *kind =
        (mp->memoryHeaps[heap].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) ? "device-local" : "host";
    snprintf(out, n, "heap %u (%s, %s%s%s)", heap, kind, size, budget, usage);
}

void vkt_memory_flags_text(uint32_t fl, char *out, size_t n) {
    static const struct {
        VkMemoryPropertyFlags bit;
        const char *name;
    } names[] = {{DL, "device-local"},
                 {HV, "host-visible"},
                 {HC, "host-coherent"},
                 {CACHED, "host-cached"},
                 {VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT, "lazily-allocated"},
                 {VK_MEMORY_PROPERTY_PROTECTED_BIT, "protected"},
                 {VK_MEMORY_PROPERTY_DEVICE_COHERENT_BIT_AMD, "device-coherent-amd"},
                 {VK_MEMORY_PROPERTY_DEVICE_UNCACHED_BIT_AMD, "device-uncached-amd"}};
    size_t len = 0;
    out[0] = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if ((fl & names[i].bit) && len < n)
            len += (size_t)snprintf(out + len, n - len, "%s%s", len ? " " : "", names[i].name);
    if (!out[0]) snprintf(out, n, "none");
}

const char *vkt_mem_use_name(vkt_mem_use u) {
    return u == VKT_MEM_DEVICE ? "device buffers" : u == VKT_MEM_STAGING ? "staging" : "readback";
}
