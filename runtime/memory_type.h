// memory_type.h: which Vulkan memory type holds what. The choice is a pure function of the
// device's memory properties, the buffer's memoryTypeBits and each heap's room, so tests run
// it on made-up tables (a discrete GPU with a small BAR heap, an iGPU, lavapipe).
#ifndef VKT_MEMORY_TYPE_H
#define VKT_MEMORY_TYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#include "profile.h" // vkt_bytes_text, vkt_memory_flags_text

typedef enum vkt_mem_use {
    VKT_MEM_DEVICE = 0, // blocks the kernels read and write
    VKT_MEM_STAGING,    // the host writes it, the device copies from it (uploads)
    VKT_MEM_READBACK,   // the device copies into it, the host reads it (downloads)
} vkt_mem_use;

// What each heap holds and may still give, as vkt counts it.
typedef struct vkt_heaps {
    uint64_t size[VK_MAX_MEMORY_HEAPS];   // the heap's size (a CPU device: the machine's memory)
    uint64_t budget[VK_MAX_MEMORY_HEAPS]; // VK_EXT_memory_budget's heapBudget; 0: unknown
    uint64_t usage[VK_MAX_MEMORY_HEAPS];  // in use: the driver's heapUsage with a budget, else what
                                          // vkt holds
} vkt_heaps;

// A device-local heap this small is the old BAR window (scarce, shared with the driver): rebar
// blocks go only to larger heaps.
#define VKT_BAR_WINDOW_BYTES (256ull << 20)

// Bytes the heap may still give: min(size, budget when known) less usage.
uint64_t vkt_heap_room(const vkt_heaps *h, uint32_t heap);

// The memory type for `bytes` of `use`, or -1. Only types in type_bits (the buffer's
// memoryTypeBits) count, and with heaps != NULL only those whose heap has room.
// Fallback order:
//   device:   device-local + host-visible + coherent (mapped blocks) when host_visible,
//             else or then device-local (preferring types not host-visible: the BAR window
//             is scarce); any type only when type_bits allow no device-local one;
//   staging:  host-visible + coherent, preferring neither device-local nor cached;
//   readback: host-visible + coherent, preferring cached, not device-local.
// Ties go to the lower index, as Vulkan orders types best first.
int vkt_memory_type_choose(const VkPhysicalDeviceMemoryProperties *mp, const vkt_heaps *heaps,
                           uint32_t type_bits, vkt_mem_use use, bool host_visible, uint64_t bytes);

// The memory type for a rebar block (device-local + host-visible + coherent, on a device-local
// heap of more than `window` bytes as the driver reports it, with room for `bytes` when heaps !=
// NULL), or -1: the block then takes vkt_memory_type_choose's device order without host-visible.
int vkt_memory_type_rebar(const VkPhysicalDeviceMemoryProperties *mp, const vkt_heaps *heaps,
                          uint32_t type_bits, uint64_t window, uint64_t bytes);

// "heap 0 (device-local, 2.00 GiB, budget 1.70 GiB, 1.20 GiB in use)"; budget and use only when
// known/non-zero.
void vkt_heap_text(const VkPhysicalDeviceMemoryProperties *mp, const vkt_heaps *h, uint32_t heap,
                   char *out, size_t n);
const char *vkt_mem_use_name(vkt_mem_use u);

#endif
