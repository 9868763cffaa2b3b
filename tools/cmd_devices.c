// vkt devices: every Vulkan device, its limits, and which paths vkt will use on it.
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_opt.h"
#include "commands.h"
#include "context.h"

static const cli_cmd CMD = {
    .name = "devices",
    .usage = "usage: vkt devices [--json]\n",
    .about = "Lists every Vulkan device: name, vendor, type, driver, API version, subgroup sizes,\n"
             "shared memory, workgroup and storage-buffer limits, fp16/bf16/int8 and "
             "cooperative-matrix\n"
             "support, and which of these vkt uses; its memory heaps (budget and usage where the "
             "device\n"
             "has VK_EXT_memory_budget) and the memory type vkt picks for device buffers, staging "
             "and\n"
             "readback. The default device is marked with '*' (first discrete GPU, else "
             "integrated,\n"
             "else CPU; override with --device N or VKT_DEVICE).\n"
             "How the host reaches device memory: unified (mapped both ways), rebar (written "
             "through\n"
             "the mapping, read through a cached copy) or staging (copies both ways).\n"
             "Kill switches VKT_DISABLE_FP16, VKT_DISABLE_COOPMAT, VKT_DISABLE_SUBGROUP,\n"
             "VKT_DISABLE_UNIFIED, VKT_DISABLE_REBAR and the override VKT_FORCE_REBAR=1 are "
             "honoured.\n",
};

// "enabled": vkt may use it on this device; "off": a kill switch or the profile turned it off.
// Cooperative matrices: what the device offers and why vkt does not use them (yet).
static const char *coopmat_text(const vkt_profile *d) {
    if (!d->has_coopmat) return "no";
    if (!d->glslc_coopmat)
        return "yes (not used: this build's glslc lacks GL_KHR_cooperative_matrix)";
    return d->use_coopmat ? "yes (used)" : "yes (not used: no cooperative-matrix kernel yet)";
}

static const char *yn(bool has, bool use) {
    return !has ? "no" : use ? "yes (enabled)" : "yes (off)";
}

static json_t *memory_type_json(const vkt_profile *p, int type) {
    if (type < 0) return json_null();
    char flags[160];
    vkt_memory_flags_text(p->memory_types[type].flags, flags, sizeof flags);
    json_t *o = json_object();
    json_object_set_new(o, "index", json_integer(type));
    json_object_set_new(o, "heap", json_integer(p->memory_types[type].heap));
    json_object_set_new(o, "flags", json_string(flags));
    return o;
}

// The memory mode in words, for the memory line.
static const char *memory_mode_text(vkt_memory_mode m) {
    switch (m) {
    case VKT_MEMORY_UNIFIED: return "unified (the host reads and writes device memory)";
    case VKT_MEMORY_REBAR:
        return "rebar (the host writes device memory, reads it through a cached copy)";
    default: return "staging (copies through host buffers both ways)";
    }
}

static json_t *heaps_json(const vkt_profile *p) {
    json_t *arr = json_array();
    for (int i = 0; i < p->nheaps; i++) {
        const vkt_heap_info *h = &p->heaps[i];
        json_t *o = json_object();
        json_object_set_new(o, "index", json_integer(i));
        json_object_set_new(o, "bytes", json_integer((json_int_t)h->bytes));
        json_object_set_new(o, "device_local", json_boolean(h->device_local));
        // null without VK_EXT_memory_budget: unknown, not zero
        bool known = p->has_memory_budget;
        json_object_set_new(o, "budget_bytes",
                            known ? json_integer((json_int_t)h->budget) : json_null());
        json_object_set_new(o, "usage_bytes",
                            known ? json_integer((json_int_t)h->usage) : json_null());
        json_array_append_new(arr, o);
    }
    return arr;
}

// One line per heap, then the memory type vkt picks for each use.
static void print_memory(const vkt_profile *d) {
    for (int i = 0; i < d->nheaps; i++) {
        const vkt_heap_info *h = &d->heaps[i];
        char size[32], budget[32], usage[32];
        vkt_bytes_text(h->bytes, size, sizeof size);
        printf("    heap %-2d     %s, %s", i, size, h->device_local ? "device-local" : "host");
        if (d->has_memory_budget) {
            vkt_bytes_text(h->budget, budget, sizeof budget);
            vkt_bytes_text(h->usage, usage, sizeof usage);
            printf(", budget %s, %s in use", budget, usage);
        } else if (i == 0) {
            printf(" (no budget reported: VK_EXT_memory_budget missing)");
        }
        printf("\n");
    }
    const char *names[3] = {"device buffers", "staging", "readback"};
    int types[3] = {d->memory_type_device, d->memory_type_staging, d->memory_type_readback};
    for (int u = 0; u < 3; u++) {
        char flags[160];
        printf("    %-11s %s: ", u ? "" : "memory for", names[u]);
        if (types[u] < 0) {
            printf("none\n");
            continue;
        }
        vkt_memory_flags_text(d->memory_types[types[u]].flags, flags, sizeof flags);
        printf("type %d on heap %u (%s)\n", types[u], d->memory_types[types[u]].heap, flags);
    }
}

static json_t *to_json(const vkt_profile *p, int chosen) {
    char api[32];
    snprintf(api, sizeof api, "%u.%u.%u", p->api_version >> 22, (p->api_version >> 12) & 0x3ff,
             p->api_version & 0xfff);
    json_t *o = json_object();
    json_object_set_new(o, "index", json_integer(p->index));
    json_object_set_new(o, "name", json_string(p->name));
    json_object_set_new(o, "vendor", json_string(p->vendor));
    json_object_set_new(o, "vendor_id", json_integer(p->vendor_id));
    json_object_set_new(o, "device_id", json_integer(p->device_id));
    json_object_set_new(o, "type", json_string(vkt_device_type_name(p->type)));
    json_object_set_new(o, "driver", json_string(p->driver));
    json_object_set_new(o, "api_version", json_string(api));
    json_object_set_new(o, "subgroup_size", json_integer(p->subgroup_size));
    json_object_set_new(o, "subgroup_size_min", json_integer(p->subgroup_min));
    json_object_set_new(o, "subgroup_size_max", json_integer(p->subgroup_max));
    json_object_set_new(o, "shared_memory_bytes", json_integer(p->shared_memory_bytes));
    json_object_set_new(o, "max_workgroup_invocations", json_integer(p->max_workgroup_invocations));
    json_t *wg = json_array();
    for (int i = 0; i < 3; i++) json_array_append_new(wg, json_integer(p->max_workgroup_size[i]));
    json_object_set_new(o, "max_workgroup_size", wg);
    json_object_set_new(o, "max_storage_buffer_range",
                        json_integer((json_int_t)p->max_storage_buffer_range));
    json_object_set_new(o, "max_allocation_bytes",
                        json_integer((json_int_t)p->max_allocation_bytes));
    json_object_set_new(o, "unified_memory", json_boolean(p->unified_memory));
    json_object_set_new(o, "memory_mode", json_string(vkt_memory_mode_name(p->memory_mode)));
    json_object_set_new(o, "device_heap_bytes", json_integer((json_int_t)p->device_heap_bytes));
    json_object_set_new(o, "memory_budget", json_boolean(p->has_memory_budget));
    json_object_set_new(o, "memory_heaps", heaps_json(p));
    json_object_set_new(o, "fp16", json_boolean(p->has_fp16));
    json_object_set_new(o, "bf16", json_boolean(p->has_bf16));
    json_object_set_new(o, "int8", json_boolean(p->has_int8));
    json_object_set_new(o, "cooperative_matrix", json_boolean(p->has_coopmat));
    json_object_set_new(o, "subgroup_arithmetic", json_boolean(p->has_subgroup_arith));
    json_t *use = json_object();
    json_object_set_new(use, "fp16", json_boolean(p->use_fp16));
    json_object_set_new(use, "cooperative_matrix", json_boolean(p->use_coopmat));
    json_object_set_new(use, "cooperative_matrix_shaders", json_boolean(p->glslc_coopmat));
    json_object_set_new(use, "subgroup", json_boolean(p->use_subgroup));
    json_object_set_new(use, "matmul", json_string(vkt_matmul_path_name(p->matmul_path)));
    json_object_set_new(use, "host_visible_memory", json_boolean(p->unified_memory));
    json_object_set_new(use, "memory", json_string(vkt_memory_mode_name(p->memory_mode)));
    json_t *types = json_object();
    json_object_set_new(types, "device", memory_type_json(p, p->memory_type_device));
    json_object_set_new(types, "staging", memory_type_json(p, p->memory_type_staging));
    json_object_set_new(types, "readback", memory_type_json(p, p->memory_type_readback));
    json_object_set_new(use, "memory_types", types);
    json_object_set_new(o, "vkt_uses", use);
    json_object_set_new(o, "default", json_boolean(p->index == chosen));
    return o;
}

int cmd_devices(int argc, char **argv) {
    bool json = false;
    const cli_opt table[] = {
        {"--json", CLI_OPT_FLAG, &json, .help = "a JSON array of objects, one per device"},
        {0},
    };
    int rc = cli_parse(&CMD, table, argc, argv);
    if (rc != CLI_OK) return rc == CLI_HELP ? CLI_OK : rc;
    vkt_profile *p = NULL;
    int n = 0, chosen = 0;
    vkt_error err = {0};
    if (vkt_devices_query(&p, &n, &chosen, &err) != VKT_OK)
        return cli_fail("devices", "%s", err.msg);
    if (json) {
        json_t *arr = json_array();
        for (int i = 0; i < n; i++) json_array_append_new(arr, to_json(&p[i], chosen));
        char *s = json_dumps(arr, JSON_INDENT(2));
        puts(s);
        free(s);
        json_decref(arr);
    } else {
        for (int i = 0; i < n; i++) {
            const vkt_profile *d = &p[i];
            printf("%c [%d] %s\n", i == chosen ? '*' : ' ', d->index, d->name);
            printf("    vendor      %s (0x%04x), device 0x%04x, type %s\n", d->vendor, d->vendor_id,
                   d->device_id, vkt_device_type_name(d->type));
            printf("    driver      %s, Vulkan %u.%u.%u\n", d->driver, d->api_version >> 22,
                   (d->api_version >> 12) & 0x3ff, d->api_version & 0xfff);
            printf("    subgroup    %u (range %u-%u), arithmetic %s\n", d->subgroup_size,
                   d->subgroup_min, d->subgroup_max, yn(d->has_subgroup_arith, d->use_subgroup));
            printf("    workgroup   %u invocations max, size %u x %u x %u, shared memory %u KiB\n",
                   d->max_workgroup_invocations, d->max_workgroup_size[0], d->max_workgroup_size[1],
                   d->max_workgroup_size[2], d->shared_memory_bytes / 1024);
            printf("    buffers     storage range %llu MiB, allocation %llu MiB, %s memory\n",
                   (unsigned long long)(d->max_storage_buffer_range >> 20),
                   (unsigned long long)(d->max_allocation_bytes >> 20),
                   d->unified_memory ? "unified" : "device");
            printf("    memory      %s\n", memory_mode_text(d->memory_mode));
            printf("                %.2f GiB for a model's weights, activations and caches (%s)\n",
                   (double)d->device_heap_bytes / (1 << 30),
                   d->type == VKT_DEVICE_CPU ? "a CPU device: the machine's memory"
                                             : "the largest device-local heap");
            print_memory(d);
            printf("    types       fp16 %s, bf16 %s, int8 %s\n", d->has_fp16 ? "yes" : "no",
                   d->has_bf16 ? "yes" : "no", d->has_int8 ? "yes" : "no");
            printf("    16-bit      bf16/fp16 weights and mixed-precision operands are stored "
                   "16-bit and "
                   "widened to fp32 by bits in the shader (no device feature needed); arithmetic "
                   "is fp32\n");
            printf("    coopmat     %s\n", coopmat_text(d));
            printf("    vkt uses    fp32 kernels, matmul %s\n",
                   vkt_matmul_path_name(d->matmul_path));
        }
        if (n && p[chosen].type == VKT_DEVICE_CPU)
            printf("\n(the default is a CPU device: no GPU was found)\n");
    }
    free(p);
    return CLI_OK;
}
