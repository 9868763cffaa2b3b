// test_memory_type.c: the memory-type choice on made-up property tables (a discrete GPU
// with a small BAR heap, an NVIDIA-like layout, an iGPU, lavapipe), every fallback, the
// buffer's memoryTypeBits, a heap without room; the refusal a full heap gives on the real
// device (VKT_MAX_HEAP_BYTES shrinks its heap); `vkt devices --json` lists the heaps; which
// type is rebar memory (resizable BAR).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "memory_type.h"
#include "support_cli.h"
#include "support_gpu.h"

#define DL VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT
#define HV VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT
#define HC VK_MEMORY_PROPERTY_HOST_COHERENT_BIT
#define CACHED VK_MEMORY_PROPERTY_HOST_CACHED_BIT
#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define ALL 0xffffffffu

typedef struct table {
    VkPhysicalDeviceMemoryProperties mp;
    vkt_heaps heaps;
} table;

static void add_heap(table *t, uint64_t bytes, bool device_local) {
    uint32_t i = t->mp.memoryHeapCount++;
    t->mp.memoryHeaps[i] =
        (VkMemoryHeap){bytes, device_local ? VK_MEMORY_HEAP_DEVICE_LOCAL_BIT : 0};
    t->heaps.size[i] = bytes;
}

static void add_type(table *t, VkMemoryPropertyFlags flags, uint32_t heap) {
    t->mp.memoryTypes[t->mp.memoryTypeCount++] = (VkMemoryType){flags, heap};
}

static int choose(const table *t, uint32_t bits, vkt_mem_use use, bool hv, uint64_t bytes) {
    return vkt_memory_type_choose(&t->mp, &t->heaps, bits, use, hv, bytes);
}

// An AMD-like discrete GPU without resizable BAR: 8 GiB VRAM, 16 GiB host, a 256 MiB BAR heap.
static table discrete(void) {
    table t = {0};
    add_heap(&t, 8 * GiB, true);
    add_heap(&t, 16 * GiB, false);
    add_heap(&t, 256 * MiB, true);
    add_type(&t, DL, 0);
    add_type(&t, HV | HC, 1);
    add_type(&t, DL | HV | HC, 2);
    add_type(&t, HV | HC | CACHED, 1);
    return t;
}

// The same with resizable BAR: the host-visible device-local type sits on the VRAM heap.
static table discrete_rebar(void) {
    table t = discrete();
    t.mp.memoryTypes[2].heapIndex = 0;
    return t;
}

static void test_discrete(void **state) {
    table t = discrete();
    assert_int_equal(choose(&t, ALL, VKT_MEM_DEVICE, false, 256 * MiB), 0);
    // Mapped blocks where allowed: the BAR type while it has room, then plain VRAM.
    assert_int_equal(choose(&t, ALL, VKT_MEM_DEVICE, true, 64 * MiB), 2);
    assert_int_equal(choose(&t, ALL, VKT_MEM_DEVICE, true, 512 * MiB), 0);
    t.heaps.usage[2] = 200 * MiB;
    assert_int_equal(choose(&t, ALL, VKT_MEM_DEVICE, true, 64 * MiB), 0);
    assert_int_equal(choose(&t, ALL, VKT_MEM_STAGING, true, 32 * MiB), 1);
    assert_int_equal(choose(&t, ALL, VKT_MEM_READBACK, true, 32 * MiB), 3);
}

// memoryTypeBits leave some types out.
static void test_type_bits(void **state) {
    table t = discrete();
    assert_int_equal(choose(&t, 0xe, VKT_MEM_DEVICE, false, MiB), 2); // no plain VRAM: the BAR type
    assert_int_equal(choose(&t, 0xa, VKT_MEM_DEVICE, false, MiB),
                     1); // nothing device-local: any type
    assert_int_equal(choose(&t, 0x7, VKT_MEM_READBACK, true, MiB), 1); // no cached type
    assert_int_equal(choose(&t, 0x5, VKT_MEM_STAGING, true, MiB),
                     2); // only the BAR type is host-visible
    assert_int_equal(choose(&t, 0x1, VKT_MEM_STAGING, true, MiB), -1);
    assert_int_equal(choose(&t, 0, VKT_MEM_DEVICE, false, MiB), -1);
    // Types vkt never allocates from, even first in the table.
    table a = {0};
    add_heap(&a, 8 * GiB, true);
    add_type(&a,
             DL | HV | HC | VK_MEMORY_PROPERTY_DEVICE_COHERENT_BIT_AMD |
                 VK_MEMORY_PROPERTY_DEVICE_UNCACHED_BIT_AMD,
             0);
    add_type(&a, DL | VK_MEMORY_PROPERTY_PROTECTED_BIT, 0);
    add_type(&a, DL, 0);
    assert_int_equal(choose(&a, ALL, VKT_MEM_DEVICE, false, MiB), 2);
    assert_int_equal(choose(&a, 0x3, VKT_MEM_DEVICE, false, MiB), -1);
}

// A heap too small or too full is no choice; a full VRAM heap does not fall back to host memory.
static void test_heap_room(void **state) {
    table t = discrete();
    assert_int_equal(choose(&t, ALL, VKT_MEM_DEVICE, false, 9 * GiB), -1);
    t.heaps.usage[0] = 7 * GiB;
    assert_int_equal(choose(&t, ALL, VKT_MEM_DEVICE, false, 2 * GiB), -1);
    assert_int_equal(choose(&t, ALL, VKT_MEM_DEVICE, false, 128 * MiB), 0);
    // Full VRAM: the BAR heap is device-local too.
    t.heaps.usage[0] = 8 * GiB;
    assert_int_equal(choose(&t, ALL, VKT_MEM_DEVICE, false, 128 * MiB), 2);
    // Without room checks the choice names the heap a refusal reports.
    assert_int_equal(vkt_memory_type_choose(&t.mp, NULL, ALL, VKT_MEM_DEVICE, false, 9 * GiB), 0);
    // A budget below the heap's size is the limit; one above it is not.
    table b = discrete();
    b.heaps.budget[0] = 6 * GiB;
    b.heaps.usage[0] = 5 * GiB;
    assert_int_equal(vkt_heap_room(&b.heaps, 0), GiB);
    assert_int_equal(choose(&b, ALL, VKT_MEM_DEVICE, false, 1536 * MiB), -1);
    assert_int_equal(choose(&b, ALL, VKT_MEM_DEVICE, false, 512 * MiB), 0);
    b.heaps.budget[0] = 100 * GiB;
    assert_int_equal(vkt_heap_room(&b.heaps, 0), 3 * GiB);
    b.heaps.usage[0] = 9 * GiB;
    assert_int_equal(vkt_heap_room(&b.heaps, 0), 0);
}

// NVIDIA's layout: a type with no flags first, VRAM, two host types, the BAR type.
static void test_nvidia_like(void **state) {
    table t = {0};
    add_heap(&t, 24 * GiB, true);
    add_heap(&t, 32 * GiB, false);
    add_heap(&t, 214 * MiB, true);
    add_type(&t, 0, 1);
    add_type(&t, DL, 0);
    add_type(&t, HV | HC, 1);
    add_type(&t, HV | HC | CACHED, 1);
    add_type(&t, DL | HV | HC, 2);
    assert_int_equal(choose(&t, ALL, VKT_MEM_DEVICE, false, 256 * MiB), 1);
    assert_int_equal(choose(&t, ALL, VKT_MEM_STAGING, true, 32 * MiB), 2);
    assert_int_equal(choose(&t, ALL, VKT_MEM_READBACK, true, 32 * MiB), 3);
}

// An Intel-like iGPU: one device-local heap, mapped blocks on the first host-visible type.
static void test_integrated(void **state) {
    table t = {0};
    add_heap(&t, 16 * GiB, true);
    add_type(&t, DL, 0);
    add_type(&t, DL | HV | HC, 0);
    add_type(&t, DL | HV | HC | CACHED, 0);
    assert_int_equal(choose(&t, ALL, VKT_MEM_DEVICE, true, 256 * MiB), 1);
    assert_int_equal(choose(&t, ALL, VKT_MEM_DEVICE, false, 256 * MiB), 0);
    assert_int_equal(choose(&t, ALL, VKT_MEM_STAGING, true, 32 * MiB), 1);
    assert_int_equal(choose(&t, ALL, VKT_MEM_READBACK, true, 32 * MiB), 2);
}

// lavapipe: one heap, one type that is everything; every use gets it, as before.
static void test_lavapipe_table(void **state) {
    table t = {0};
    add_heap(&t, 2 * GiB, true);
    add_type(&t, DL | HV | HC | CACHED, 0);
    t.heaps.size[0] = 64 * GiB; // a CPU device counts the machine's memory
    assert_int_equal(choose(&t, ALL, VKT_MEM_DEVICE, true, 4 * GiB), 0);
    assert_int_equal(choose(&t, ALL, VKT_MEM_DEVICE, false, 4 * GiB), 0);
    assert_int_equal(choose(&t, ALL, VKT_MEM_STAGING, true, 32 * MiB), 0);
    assert_int_equal(choose(&t, ALL, VKT_MEM_READBACK, true, 32 * MiB), 0);
}

static void test_texts(void **state) {
    char s[160];
    vkt_bytes_text(3 * GiB, s, sizeof s);
    assert_string_equal(s, "3.00 GiB");
    vkt_bytes_text(640 * MiB, s, sizeof s);
    assert_string_equal(s, "640.00 MiB");
    vkt_bytes_text(12, s, sizeof s);
    assert_string_equal(s, "12 bytes");
    table t = discrete();
    t.heaps.budget[0] = 1825361101; // 1.70 GiB
    vkt_heap_text(&t.mp, &t.heaps, 0, s, sizeof s);
    assert_string_equal(s, "heap 0 (device-local, 8.00 GiB, budget 1.70 GiB)");
    t.heaps.usage[1] = 512 * MiB;
    vkt_heap_text(&t.mp, &t.heaps, 1, s, sizeof s);
    assert_string_equal(s, "heap 1 (host, 16.00 GiB, 512.00 MiB in use)");
    vkt_memory_flags_text(DL | HV | HC | CACHED, s, sizeof s);
    assert_string_equal(s, "device-local host-visible host-coherent host-cached");
    vkt_memory_flags_text(0, s, sizeof s);
    assert_string_equal(s, "none");
}

// On the real device: lavapipe keeps its one type for everything.
static void test_device_profile(void **state) {
    vkt_ctx *ctx = test_ctx();
    const vkt_profile *p = vkt_ctx_profile(ctx);
    assert_true(p->nheaps >= 1 && p->nmemory_types >= 1);
    assert_true(p->memory_type_device >= 0 && p->memory_type_staging >= 0 &&
                p->memory_type_readback >= 0);
    assert_true(p->memory_types[p->memory_type_device].flags & DL);
    assert_true((p->memory_types[p->memory_type_readback].flags & (HV | HC)) == (HV | HC));
    if (p->type == VKT_DEVICE_CPU && p->nmemory_types == 1)
        assert_true(p->memory_type_device == 0 && p->memory_type_staging == 0 &&
                    p->memory_type_readback == 0);
    test_ctx_done(ctx);
}

// A heap shrunk to 64 MiB: buffers that fit get blocks of their own size; one that does not
// is refused with what was asked for and what the heap has; the context goes on working.
static void check_full_heap(bool staging) {
    setenv("VKT_MAX_HEAP_BYTES", "64M", 1);
    if (staging) setenv("VKT_DISABLE_UNIFIED", "1", 1);
    vkt_ctx *ctx = test_ctx();
    assert_int_equal(vkt_ctx_profile(ctx)->device_heap_bytes, 64 * MiB);
    vkt_buffer *a = NULL, *b = NULL;
    TEST_OK(ctx, vkt_buffer_create(ctx, 10 * MiB, &a));
    float h[4] = {1, 2, 3, 4}, back[4] = {0};
    TEST_OK(ctx, vkt_upload(ctx, vkt_view_all(a), h,
                            sizeof h)); // makes the 32 MiB staging buffer when staging
    assert_int_equal(vkt_buffer_create(ctx, 60 * MiB, &b), VKT_ERR_NOMEM);
    assert_null(b);
    // the 32 MiB staging buffer is on the same heap (whenever blocks are not mapped)
    const char *want = !vkt_ctx_profile(ctx)->unified_memory
                           ? "device memory: 60.00 MiB asked for in heap 0 (device-local, 64.00 "
                             "MiB, 42.00 MiB in use)"
                           : "device memory: 60.00 MiB asked for in heap 0 (device-local, 64.00 "
                             "MiB, 10.00 MiB in use)";
    if (!strstr(vkt_ctx_message(ctx), want))
        fail_msg("message '%s' lacks '%s'", vkt_ctx_message(ctx), want);
    assert_int_equal(vkt_buffer_create(ctx, 100 * MiB, &b), VKT_ERR_NOMEM);
    assert_non_null(strstr(vkt_ctx_message(ctx), "device memory: 100.00 MiB asked for in heap 0"));
    TEST_OK(ctx, vkt_download(ctx, vkt_view_all(a), back, sizeof back));
    assert_memory_equal(back, h, sizeof h);
    TEST_OK(ctx, vkt_buffer_create(ctx, 20 * MiB, &b)); // what is left still serves
    vkt_buffer_destroy(ctx, b);
    vkt_buffer_destroy(ctx, a);
    test_ctx_done(ctx);
    unsetenv("VKT_MAX_HEAP_BYTES");
    unsetenv("VKT_DISABLE_UNIFIED");
}

static void test_full_heap(void **state) { check_full_heap(false); }
static void test_full_heap_staging(void **state) { check_full_heap(true); }

static void test_devices_json(void **state) {
    if (!test_cli_available()) return;
    json_t *arr = test_cli_json("devices --json");
    assert_true(json_is_array(arr) && json_array_size(arr) >= 1);
    json_t *d = json_array_get(arr, 0);
    json_t *heaps = json_object_get(d, "memory_heaps");
    assert_true(json_is_array(heaps) && json_array_size(heaps) >= 1);
    json_t *h0 = json_array_get(heaps, 0);
    assert_true(json_integer_value(json_object_get(h0, "bytes")) > 0);
    assert_true(json_is_boolean(json_object_get(h0, "device_local")));
    json_t *budget = json_object_get(h0, "budget_bytes");
    assert_true(json_is_boolean(json_object_get(d, "memory_budget")));
    assert_true(json_is_true(json_object_get(d, "memory_budget")) ? json_is_integer(budget)
                                                                  : json_is_null(budget));
    json_t *types = json_object_get(json_object_get(d, "vkt_uses"), "memory_types");
    const char *uses[3] = {"device", "staging", "readback"};
    for (int i = 0; i < 3; i++) {
        json_t *u = json_object_get(types, uses[i]);
        assert_true(json_is_integer(json_object_get(u, "index")));
        assert_true(json_is_integer(json_object_get(u, "heap")));
        assert_true(json_is_string(json_object_get(u, "flags")));
    }
    json_decref(arr);
    char *out = NULL;
    assert_int_equal(test_cli("devices", NULL, &out, NULL), 0);
    assert_non_null(strstr(out, "heap 0 "));
    assert_non_null(strstr(out, "memory for  device buffers: type "));
    assert_non_null(strstr(out, "readback: type "));
    free(out);
}

// Resizable BAR: the host-visible device-local type on the VRAM heap is rebar memory (the
// buffer's memoryTypeBits and the heap's budget permitting); the 256 MiB window never is, unless
// forced (window 0); a host heap never is.
static void test_rebar_choice(void **state) {
    const uint64_t W = VKT_BAR_WINDOW_BYTES;
    table t = discrete_rebar();
    assert_int_equal(vkt_memory_type_rebar(&t.mp, &t.heaps, ALL, W, 256 * MiB), 2);
    assert_int_equal(vkt_memory_type_rebar(&t.mp, NULL, ALL, W, 0), 2);
    // the buffer's memoryTypeBits rule the type out: none
    assert_int_equal(vkt_memory_type_rebar(&t.mp, &t.heaps, ALL & ~4u, W, 256 * MiB), -1);
    // the heap's budget has no room for the block: none (the block takes the staging path)
    t.heaps.budget[0] = 7 * GiB;
    t.heaps.usage[0] = 7 * GiB - 100 * MiB;
    assert_int_equal(vkt_memory_type_rebar(&t.mp, &t.heaps, ALL, W, 256 * MiB), -1);
    assert_int_equal(vkt_memory_type_rebar(&t.mp, &t.heaps, ALL, W, 64 * MiB), 2);
    // the old BAR window is never rebar memory, unless forced (window 0)
    t = discrete();
    assert_int_equal(vkt_memory_type_rebar(&t.mp, &t.heaps, ALL, W, 64 * MiB), -1);
    assert_int_equal(vkt_memory_type_rebar(&t.mp, &t.heaps, ALL, 0, 64 * MiB), 2);
    // host-visible memory on a host heap is not device-local, forced or not
    table h = {0};
    add_heap(&h, 16 * GiB, false);
    add_type(&h, DL | HV | HC, 0); // a type flag the heap contradicts
    assert_int_equal(vkt_memory_type_rebar(&h.mp, &h.heaps, ALL, 0, MiB), -1);
    // the device order for the staging fallback is unchanged: not host-visible first
    t = discrete_rebar();
    assert_int_equal(vkt_memory_type_choose(&t.mp, &t.heaps, ALL, VKT_MEM_DEVICE, false, MiB), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_discrete),     cmocka_unit_test(test_type_bits),
        cmocka_unit_test(test_heap_room),    cmocka_unit_test(test_nvidia_like),
        cmocka_unit_test(test_integrated),   cmocka_unit_test(test_lavapipe_table),
        cmocka_unit_test(test_texts),        cmocka_unit_test(test_device_profile),
        cmocka_unit_test(test_full_heap),    cmocka_unit_test(test_full_heap_staging),
        cmocka_unit_test(test_devices_json), cmocka_unit_test(test_rebar_choice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
