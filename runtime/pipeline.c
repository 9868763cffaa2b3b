// pipeline.c: compute pipelines from the embedded SPIR-V, keyed by shader, specialization
// constants and binding kinds (found through dispatch_cache.c's index), and the on-disk
// pipeline cache.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "dispatch_cache.h"
#include "shaders.h"

static const vkt_shader_blob *find_blob(const char *name) {
    for (int i = 0; i < vkt_shader_blob_count; i++)
        if (!strcmp(vkt_shader_blobs[i].name, name)) return &vkt_shader_blobs[i];
    return NULL;
}

static void make_key(const vkt_dispatch *d, char *key, size_t n) {
    int o = snprintf(key, n, "%s|", d->shader);
    for (int i = 0; i < d->nspec && o < (int)n; i++)
        o += snprintf(key + o, n - (size_t)o, "%u,", d->spec[i]);
    for (int i = 0; i < d->nbind && o < (int)n; i++)
        o += snprintf(key + o, n - (size_t)o, "%d", (int)d->bind[i].kind);
}

static VkDescriptorType desc_type(vkt_bind_kind k) {
    return vkt_bind_is_texel(k) ? VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER
                                : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
}

static vkt_status check_workgroup(vkt_ctx *ctx, const vkt_dispatch *d) {
    if (d->nspec < 3) return VKT_OK;
    const vkt_profile *p = &ctx->prof;
    uint64_t inv = (uint64_t)d->spec[0] * d->spec[1] * d->spec[2];
    for (int i = 0; i < 3; i++)
        if (d->spec[i] == 0 || d->spec[i] > p->max_workgroup_size[i])
            return vkt_fail(&ctx->err, VKT_ERR_UNSUPPORTED,
                            "%s: workgroup size %u in dimension %d exceeds the device's %u",
                            d->shader, d->spec[i], i, p->max_workgroup_size[i]);
    if (inv > p->max_workgroup_invocations)
        return vkt_fail(&ctx->err, VKT_ERR_UNSUPPORTED,
                        "%s: workgroup of %llu invocations exceeds the device's %u", d->shader,
                        (unsigned long long)inv, p->max_workgroup_invocations);
    return VKT_OK;
}

// The old lookup, kept for VKT_DISPATCH_CACHE=0: a printed key and a scan.
static int find_by_key(vkt_ctx *ctx, const vkt_dispatch *d) {
    char key[192];
    make_key(d, key, sizeof key);
    for (int i = 0; i < ctx->npipes; i++)
        if (!strcmp(ctx->pipes[i].key, key)) return i;
    return -1;
}

vkt_status vkt_pipeline_get(vkt_ctx *ctx, const vkt_dispatch *d, vkt_pipeline **out) {
    vkt_dcache *dc = NULL;
    VKT_TRY(vkt_dcache_get(ctx, &dc));
    uint64_t hash = dc->on ? vkt_dcache_hash(d) : 0;
    int found = dc->on ? vkt_dcache_find_pipe(dc, d, hash) : find_by_key(ctx, d);
    if (found >= 0) {
        *out = &ctx->pipes[found];
        return VKT_OK;
    }
    const vkt_shader_blob *blob = find_blob(d->shader);
    if (!blob) return vkt_fail(&ctx->err, VKT_ERR_ARG, "no embedded shader named '%s'", d->shader);
    VKT_TRY(check_workgroup(ctx, d));
    if (d->push_bytes > ctx->prof.max_push_constants || d->push_bytes > VKT_MAX_PUSH)
        return vkt_fail(&ctx->err, VKT_ERR_UNSUPPORTED,
                        "%s: %u bytes of push constants exceed the device's %u", d->shader,
                        d->push_bytes, ctx->prof.max_push_constants);
    VKT_TRY(vkt_dcache_reserve_pipe(ctx, dc));
    if (ctx->npipes == ctx->cappipes) {
        int cap = ctx->cappipes ? 2 * ctx->cappipes : 32;
        vkt_pipeline *p = realloc(ctx->pipes, (size_t)cap * sizeof *p);
        if (!p) return vkt_fail(&ctx->err, VKT_ERR_NOMEM, "pipeline table");
        ctx->pipes = p;
        ctx->cappipes = cap;
    }
    vkt_pipeline *pl = &ctx->pipes[ctx->npipes];
    memset(pl, 0, sizeof *pl);
    make_key(d, pl->key, sizeof pl->key);

    VkDescriptorSetLayoutBinding binds[VKT_MAX_BINDINGS];
    for (int i = 0; i < d->nbind; i++)
        binds[i] = (VkDescriptorSetLayoutBinding){.binding = (uint32_t)i,
                                                  .descriptorType = desc_type(d->bind[i].kind),
                                                  .descriptorCount = 1,
                                                  .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
    VkDescriptorSetLayoutCreateInfo sli = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .flags = VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR,
        .bindingCount = (uint32_t)d->nbind,
        .pBindings = binds};
    VkResult r = vkCreateDescriptorSetLayout(ctx->device, &sli, NULL, &pl->set_layout);
    if (r != VK_SUCCESS) return vkt_vk_fail(ctx, r, "vkCreateDescriptorSetLayout (%s)", d->shader);
    VkPushConstantRange pcr = {
        .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = VKT_MAX_PUSH};
    VkPipelineLayoutCreateInfo li = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                     .setLayoutCount = 1,
                                     .pSetLayouts = &pl->set_layout,
                                     .pushConstantRangeCount = 1,
                                     .pPushConstantRanges = &pcr};
    r = vkCreatePipelineLayout(ctx->device, &li, NULL, &pl->layout);
    if (r != VK_SUCCESS) {
        vkDestroyDescriptorSetLayout(ctx->device, pl->set_layout, NULL);
        return vkt_vk_fail(ctx, r, "vkCreatePipelineLayout (%s)", d->shader);
    }
    VkShaderModuleCreateInfo mi = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                   .codeSize = blob->bytes,
                                   .pCode = blob->code};
    VkShaderModule mod;
    r = vkCreateShaderModule(ctx->device, &mi, NULL, &mod);
    if (r != VK_SUCCESS) {
        vkDestroyPipelineLayout(ctx->device, pl->layout, NULL);
        vkDestroyDescriptorSetLayout(ctx->device, pl->set_layout, NULL);
        return vkt_vk_fail(ctx, r, "vkCreateShaderModule (%s)", d->shader);
    }
    VkSpecializationMapEntry entries[VKT_MAX_SPEC];
    for (int i = 0; i < d->nspec; i++)
        entries[i] = (VkSpecializationMapEntry){
            .constantID = (uint32_t)i, .offset = 4u * (uint32_t)i, .size = 4};
    VkSpecializationInfo si = {.mapEntryCount = (uint32_t)d->nspec,
                               .pMapEntries = entries,
                               .dataSize = 4u * (uint32_t)d->nspec,
                               .pData = d->spec};
    VkComputePipelineCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .flags = ctx->pipeline_stats ? VK_PIPELINE_CREATE_CAPTURE_STATISTICS_BIT_KHR : 0,
        .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                  .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                  .module = mod,
                  .pName = "main",
                  .pSpecializationInfo = d->nspec ? &si : NULL},
        .layout = pl->layout};
    r = vkCreateComputePipelines(ctx->device, ctx->cache, 1, &ci, NULL, &pl->pipeline);
    vkDestroyShaderModule(ctx->device, mod, NULL);
    if (r != VK_SUCCESS) {
        vkDestroyPipelineLayout(ctx->device, pl->layout, NULL);
        vkDestroyDescriptorSetLayout(ctx->device, pl->set_layout, NULL);
        return vkt_vk_fail(ctx, r, "vkCreateComputePipelines (%s)", pl->key);
    }
    ctx->cache_dirty = true;
    vkt_dcache_add_pipe(dc, d, blob->name, dc->on ? hash : vkt_dcache_hash(d), ctx->npipes);
    ctx->npipes++;
    *out = pl;
    return VKT_OK;
}

void vkt_pipelines_destroy(vkt_ctx *ctx) {
    for (int i = 0; i < ctx->npipes; i++) {
        vkDestroyPipeline(ctx->device, ctx->pipes[i].pipeline, NULL);
        vkDestroyPipelineLayout(ctx->device, ctx->pipes[i].layout, NULL);
        vkDestroyDescriptorSetLayout(ctx->device, ctx->pipes[i].set_layout, NULL);
    }
    free(ctx->pipes);
    ctx->pipes = NULL;
    ctx->npipes = 0;
}

// --- on-disk cache: $VKT_CACHE_DIR, else $XDG_CACHE_HOME/vkt, else ~/.cache/vkt -------

static bool cache_dir(char *out, size_t n) {
    const char *d = getenv("VKT_CACHE_DIR"), *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    if (d && *d)
        snprintf(out, n, "%s", d);
    else if (x && *x)
        snprintf(out, n, "%s/vkt", x);
    else if (h && *h)
        snprintf(out, n, "%s/.cache/vkt", h);
    else
        return false;
    return true;
}

void vkt_pipeline_cache_load(vkt_ctx *ctx) {
    // The dispatch cache too, so that VKT_DISPATCH_CACHE is read as the context is made
    // (a failure here is retried on first use).
    vkt_dcache *dc;
    (void)vkt_dcache_get(ctx, &dc);
    char dir[900];
    void *data = NULL;
    size_t size = 0;
    if (cache_dir(dir, sizeof dir)) {
        char uuid[33];
        for (int i = 0; i < 16; i++) snprintf(uuid + 2 * i, 3, "%02x", ctx->prof.uuid[i]);
        snprintf(ctx->cache_path, sizeof ctx->cache_path, "%s/pipelines-%04x-%04x-%s.bin", dir,
                 ctx->prof.vendor_id, ctx->prof.device_id, uuid);
        FILE *f = fopen(ctx->cache_path, "rb");
        if (f) {
            // A cache file is only a hint: anything odd about it means starting empty.
            if (fseek(f, 0, SEEK_END) == 0) {
                long len = ftell(f);
                if (len >= 32 && len < (256l << 20) && fseek(f, 0, SEEK_SET) == 0 &&
                    (data = malloc((size_t)len)))
                    size = fread(data, 1, (size_t)len, f) == (size_t)len ? (size_t)len : 0;
            }
            fclose(f);
        }
    }
    // Check the header ourselves (vendor, device, UUID): some drivers trust it blindly.
    if (size >= 32) {
        const uint8_t *b = data;
        uint32_t hlen, ver, vendor, device;
        memcpy(&hlen, b, 4);
        memcpy(&ver, b + 4, 4);
        memcpy(&vendor, b + 8, 4);
        memcpy(&device, b + 12, 4);
        if (hlen < 32 || ver != VK_PIPELINE_CACHE_HEADER_VERSION_ONE ||
            vendor != ctx->prof.vendor_id || device != ctx->prof.device_id ||
            memcmp(b + 16, ctx->prof.uuid, 16) != 0)
            size = 0;
    }
    VkPipelineCacheCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
                                    .initialDataSize = size,
                                    .pInitialData = size ? data : NULL};
    if (vkCreatePipelineCache(ctx->device, &ci, NULL, &ctx->cache) != VK_SUCCESS) {
        ci.initialDataSize = 0;
        ci.pInitialData = NULL;
        if (vkCreatePipelineCache(ctx->device, &ci, NULL, &ctx->cache) != VK_SUCCESS)
            ctx->cache = VK_NULL_HANDLE;
    }
    free(data);
}

// Written to a unique temporary name and renamed, so two processes never see a torn file.
void vkt_pipeline_cache_save(vkt_ctx *ctx) {
    if (!ctx->cache || !ctx->cache_dirty || !ctx->cache_path[0]) return;
    size_t size = 0;
    if (vkGetPipelineCacheData(ctx->device, ctx->cache, &size, NULL) != VK_SUCCESS || size == 0)
        return;
    void *data = malloc(size);
    if (!data) return;
    if (vkGetPipelineCacheData(ctx->device, ctx->cache, &size, data) == VK_SUCCESS) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s", ctx->cache_path);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = 0;
        char tmp[1100];
        snprintf(tmp, sizeof tmp, "%s.XXXXXX", ctx->cache_path);
        if (vkt_make_dirs(dir, NULL) == VKT_OK) {
            int fd = mkstemp(tmp);
            if (fd >= 0) {
                bool ok = write(fd, data, size) == (ssize_t)size;
                ok = (close(fd) == 0) && ok;
                if (!ok || rename(tmp, ctx->cache_path) != 0) unlink(tmp);
            }
        }
    }
    free(data);
}
