// context.c: instance, device choice, logical device and the validation layer.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vk_internal.h"

const char *vkt_vk_result_name(VkResult r) {
    switch (r) {
#define C(x)                                                                                       \
    case x: return #x;
        C(VK_SUCCESS)
        C(VK_NOT_READY)
        C(VK_TIMEOUT)
        C(VK_EVENT_SET)
        C(VK_EVENT_RESET) C(VK_INCOMPLETE) C(VK_ERROR_OUT_OF_HOST_MEMORY)
            C(VK_ERROR_OUT_OF_DEVICE_MEMORY) C(VK_ERROR_INITIALIZATION_FAILED)
                C(VK_ERROR_DEVICE_LOST) C(VK_ERROR_MEMORY_MAP_FAILED) C(VK_ERROR_LAYER_NOT_PRESENT)
                    C(VK_ERROR_EXTENSION_NOT_PRESENT) C(VK_ERROR_FEATURE_NOT_PRESENT)
                        C(VK_ERROR_INCOMPATIBLE_DRIVER) C(VK_ERROR_TOO_MANY_OBJECTS)
                            C(VK_ERROR_FORMAT_NOT_SUPPORTED) C(VK_ERROR_FRAGMENTED_POOL)
                                C(VK_ERROR_UNKNOWN) C(VK_ERROR_OUT_OF_POOL_MEMORY)
                                    C(VK_ERROR_INVALID_EXTERNAL_HANDLE) C(VK_ERROR_FRAGMENTATION)
                                        C(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS)
#undef C
                                            default : return "VK_ERROR_(unnamed)";
    }
}

vkt_status vkt_vk_fail(vkt_ctx *ctx, VkResult r, const char *fmt, ...) {
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    vkt_status s = (r == VK_ERROR_OUT_OF_HOST_MEMORY || r == VK_ERROR_OUT_OF_DEVICE_MEMORY)
                       ? VKT_ERR_NOMEM
                       : VKT_ERR_VULKAN;
    return vkt_fail(&ctx->err, s, "%s: %s", what, vkt_vk_result_name(r));
}

static bool env_on(const char *name) {
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

vkt_ctx_options vkt_ctx_default_options(void) {
    vkt_ctx_options o = {
        .device = -1, .validation = env_on("VKT_VALIDATION"), .timing = env_on("VKT_PROFILE")};
    return o;
}

static VKAPI_ATTR VkBool32 VKAPI_CALL
on_validation(VkDebugUtilsMessageSeverityFlagBitsEXT sev, VkDebugUtilsMessageTypeFlagsEXT type,
              const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
    vkt_ctx *ctx = user;
    if (!(sev & (VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                 VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT)))
        return VK_FALSE;
    ctx->validation_messages++;
    // Validation is a debugging aid asked for explicitly: its messages go to stderr.
    fprintf(stderr, "vkt: validation: %s\n", data->pMessage);
    return VK_FALSE;
}

static bool layer_present(const char *name) {
    uint32_t n = 0;
    vkEnumerateInstanceLayerProperties(&n, NULL);
    VkLayerProperties *l = calloc(n ? n : 1, sizeof *l);
    if (!l) return false;
    vkEnumerateInstanceLayerProperties(&n, l);
    bool found = false;
    for (uint32_t i = 0; i < n; i++) found |= !strcmp(l[i].layerName, name);
    free(l);
    return found;
}

static vkt_status create_instance(vkt_ctx *ctx, bool validation) {
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                             .pApplicationName = "vkt",
                             .pEngineName = "vkt",
                             .apiVersion = VK_API_VERSION_1_2};
    const char *layers[] = {"VK_LAYER_KHRONOS_validation"};
    const char *exts[] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME};
    ctx->validation = validation && layer_present(layers[0]);
    // Synchronization validation too: a missing barrier is a validation message.
    VkValidationFeatureEnableEXT enables[] = {
        VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
    VkValidationFeaturesEXT features = {.sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
                                        .enabledValidationFeatureCount = 1,
                                        .pEnabledValidationFeatures = enables};
    VkInstanceCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                               .pNext = ctx->validation ? &features : NULL,
                               .pApplicationInfo = &app,
                               .enabledLayerCount = ctx->validation ? 1 : 0,
                               .ppEnabledLayerNames = layers,
                               .enabledExtensionCount = ctx->validation ? 1 : 0,
                               .ppEnabledExtensionNames = exts};
    VkResult r = vkCreateInstance(&ci, NULL, &ctx->instance);
    if (r != VK_SUCCESS)
        return vkt_vk_fail(
            ctx, r,
            "vkCreateInstance (is a Vulkan driver installed? apt-get install mesa-vulkan-drivers)");
    if (ctx->validation) {
        VkDebugUtilsMessengerCreateInfoEXT mi = {
            .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
            .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                               VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
            .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT,
            .pfnUserCallback = on_validation,
            .pUserData = ctx};
        PFN_vkCreateDebugUtilsMessengerEXT create =
            (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
                ctx->instance, "vkCreateDebugUtilsMessengerEXT");
        if (create) create(ctx->instance, &mi, NULL, &ctx->messenger);
    }
    return VKT_OK;
}

// Default choice: the first discrete GPU, else integrated, else virtual, else anything.
static int default_device(const vkt_profile *p, int n) {
    const vkt_device_type order[] = {VKT_DEVICE_DISCRETE, VKT_DEVICE_INTEGRATED, VKT_DEVICE_VIRTUAL,
                                     VKT_DEVICE_OTHER, VKT_DEVICE_CPU};
    for (int o = 0; o < 5; o++)
        for (int i = 0; i < n; i++)
            if (p[i].type == order[o]) return i;
    return 0;
}

static vkt_status enumerate(vkt_ctx *ctx, VkPhysicalDevice **phys, vkt_profile **profs, int *n) {
    uint32_t count = 0;
    VkResult r = vkEnumeratePhysicalDevices(ctx->instance, &count, NULL);
    if (r != VK_SUCCESS) return vkt_vk_fail(ctx, r, "vkEnumeratePhysicalDevices");
    if (count == 0)
        return vkt_fail(
            &ctx->err, VKT_ERR_UNSUPPORTED,
            "no Vulkan device found (for a CPU device: apt-get install mesa-vulkan-drivers)");
    *phys = calloc(count, sizeof **phys);
    *profs = calloc(count, sizeof **profs);
    if (!*phys || !*profs)
        return vkt_fail(&ctx->err, VKT_ERR_NOMEM, "enumerating %u devices", count);
    vkEnumeratePhysicalDevices(ctx->instance, &count, *phys);
    for (uint32_t i = 0; i < count; i++) vkt_profile_fill((*phys)[i], (int)i, &(*profs)[i]);
    *n = (int)count;
    return VKT_OK;
}

// Parses VKT_DEVICE; -1 when unset.
static vkt_status env_device(vkt_error *err, int *out) {
    *out = -1;
    const char *v = getenv("VKT_DEVICE");
    if (!v || !*v) return VKT_OK;
    char *end;
    long d = strtol(v, &end, 10);
    if (*end || d < 0 || d > 1000)
        return vkt_fail(err, VKT_ERR_ARG, "VKT_DEVICE='%s' is not a device index", v);
    *out = (int)d;
    return VKT_OK;
}

vkt_status vkt_devices_query(vkt_profile **out, int *count, int *chosen, vkt_error *err) {
    vkt_ctx tmp;
    memset(&tmp, 0, sizeof tmp);
    VkPhysicalDevice *phys = NULL;
    vkt_status s = create_instance(&tmp, false);
    if (s == VKT_OK) s = enumerate(&tmp, &phys, out, count);
    if (s == VKT_OK) {
        int d;
        s = env_device(&tmp.err, &d);
        *chosen = (s == VKT_OK && d >= 0 && d < *count) ? d : default_device(*out, *count);
    }
    free(phys);
    if (tmp.instance) vkDestroyInstance(tmp.instance, NULL);
    if (s != VKT_OK && err) *err = tmp.err;
    return s;
}

static bool device_has_ext(VkPhysicalDevice phys, const char *name) {
    uint32_t n = 0;
    vkEnumerateDeviceExtensionProperties(phys, NULL, &n, NULL);
    VkExtensionProperties *e = calloc(n ? n : 1, sizeof *e);
    if (!e) return false;
    vkEnumerateDeviceExtensionProperties(phys, NULL, &n, e);
    bool found = false;
    for (uint32_t i = 0; i < n; i++) found |= !strcmp(e[i].extensionName, name);
    free(e);
    return found;
}

static vkt_status create_device(vkt_ctx *ctx) {
    uint32_t nq = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(ctx->phys, &nq, NULL);
    VkQueueFamilyProperties qf[16];
    if (nq > 16) nq = 16;
    vkGetPhysicalDeviceQueueFamilyProperties(ctx->phys, &nq, qf);
    // Prefer a compute queue that also does graphics: it has timestamps everywhere.
    int family = -1;
    for (uint32_t i = 0; i < nq && family < 0; i++)
        if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) family = (int)i;
    if (family < 0)
        return vkt_fail(&ctx->err, VKT_ERR_UNSUPPORTED, "device '%s' has no compute queue",
                        ctx->prof.name);
    ctx->queue_family = (uint32_t)family;
    if (!qf[family].timestampValidBits) ctx->prof.timestamps = false;

    if (!ctx->prof.has_push_descriptor)
        return vkt_fail(&ctx->err, VKT_ERR_UNSUPPORTED, "device '%s' lacks %s, which vkt needs",
                        ctx->prof.name, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME);
    const char *exts[4];
    uint32_t next = 0;
    exts[next++] = VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME;
    if (ctx->prof.has_memory_budget) exts[next++] = VK_EXT_MEMORY_BUDGET_EXTENSION_NAME;

    float prio = 1.0f;
    VkDeviceQueueCreateInfo qci = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                   .queueFamilyIndex = ctx->queue_family,
                                   .queueCount = 1,
                                   .pQueuePriorities = &prio};
    vkt_features want; // all off, then what the profile uses
    vkt_features_chain(&want);
    if (ctx->prof.use_fp16) {
        want.f12.shaderFloat16 = VK_TRUE;
        want.f11.storageBuffer16BitAccess = VK_TRUE;
    }
    if (ctx->prof.has_int8) {
        want.f12.shaderInt8 = VK_TRUE;
        want.f12.storageBuffer8BitAccess = VK_TRUE;
    }
    want.f.features.shaderFloat64 = ctx->prof.has_fp64;
    want.f.features.shaderInt64 = VK_FALSE;
    // Pipeline statistics (registers, spills) for `vkt bench`, only where the driver has them.
    VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR pe = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR};
    if (device_has_ext(ctx->phys, VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME)) {
        VkPhysicalDeviceFeatures2 q = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                       .pNext = &pe};
        vkGetPhysicalDeviceFeatures2(ctx->phys, &q);
        ctx->pipeline_stats = pe.pipelineExecutableInfo;
        pe = (VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR){
            .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR,
            .pipelineExecutableInfo = VK_TRUE};
    }
    if (ctx->pipeline_stats) {
        exts[next++] = VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME;
        want.f12.pNext = &pe;
    }
    VkDeviceCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                              .pNext = &want.f,
                              .queueCreateInfoCount = 1,
                              .pQueueCreateInfos = &qci,
                              .enabledExtensionCount = next,
                              .ppEnabledExtensionNames = exts};
    VkResult r = vkCreateDevice(ctx->phys, &dci, NULL, &ctx->device);
    if (r != VK_SUCCESS) return vkt_vk_fail(ctx, r, "vkCreateDevice ('%s')", ctx->prof.name);
    vkGetDeviceQueue(ctx->device, ctx->queue_family, 0, &ctx->queue);
    ctx->push_descriptor = (PFN_vkCmdPushDescriptorSetKHR)vkGetDeviceProcAddr(
        ctx->device, "vkCmdPushDescriptorSetKHR");
    if (!ctx->push_descriptor)
        return vkt_fail(&ctx->err, VKT_ERR_UNSUPPORTED, "vkCmdPushDescriptorSetKHR missing on '%s'",
                        ctx->prof.name);

    // Memory types are picked per allocation (memory_alloc.c), against each heap's room.
    vkGetPhysicalDeviceMemoryProperties(ctx->phys, &ctx->memprops);
    return VKT_OK;
}

vkt_status vkt_ctx_create(const vkt_ctx_options *opt, vkt_ctx **out, vkt_error *err) {
    *out = NULL;
    vkt_ctx_options o = opt ? *opt : vkt_ctx_default_options();
    vkt_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return vkt_fail(err, VKT_ERR_NOMEM, "allocating a context");
    VkPhysicalDevice *phys = NULL;
    vkt_profile *profs = NULL;
    int n = 0, want = o.device;
    vkt_status s = create_instance(ctx, o.validation);
    if (s == VKT_OK) s = enumerate(ctx, &phys, &profs, &n);
    if (s == VKT_OK && want < 0) s = env_device(&ctx->err, &want);
    if (s == VKT_OK && want >= n)
        s = vkt_fail(&ctx->err, VKT_ERR_ARG,
                     "device %d does not exist: %d device%s found (see vkt devices)", want, n,
                     n == 1 ? "" : "s");
    if (s == VKT_OK) {
        int d = want >= 0 ? want : default_device(profs, n);
        ctx->phys = phys[d];
        ctx->prof = profs[d];
        if (ctx->prof.type == VKT_DEVICE_CPU)
            snprintf(ctx->warning, sizeof ctx->warning,
                     "warning: using CPU device '%s' (no GPU found or chosen); expect slow runs",
                     ctx->prof.name);
        s = create_device(ctx);
    }
    free(phys);
    free(profs);
    ctx->timing = o.timing && ctx->prof.timestamps;
    if (s == VKT_OK) s = vkt_frames_create(ctx);
    if (s == VKT_OK) vkt_pipeline_cache_load(ctx);
    if (s != VKT_OK) {
        if (err) *err = ctx->err;
        vkt_ctx_destroy(ctx);
        return s;
    }
    *out = ctx;
    return VKT_OK;
}

void vkt_ctx_destroy(vkt_ctx *ctx) {
    if (!ctx) return;
    if (ctx->device) {
        vkt_sync(ctx);
        vkDeviceWaitIdle(ctx->device);
        if (ctx->timing) vkt_timing_print(ctx);
        vkt_frames_destroy(ctx);
        vkt_pipeline_cache_save(ctx);
        vkt_pipelines_destroy(ctx);
        if (ctx->cache) vkDestroyPipelineCache(ctx->device, ctx->cache, NULL);
        vkt_memory_destroy(ctx);
        vkt_transfer_buffers_destroy(ctx);
        vkDestroyDevice(ctx->device, NULL);
    }
    if (ctx->messenger) {
        PFN_vkDestroyDebugUtilsMessengerEXT destroy =
            (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
                ctx->instance, "vkDestroyDebugUtilsMessengerEXT");
        if (destroy) destroy(ctx->instance, ctx->messenger, NULL);
    }
    if (ctx->instance) vkDestroyInstance(ctx->instance, NULL);
    free(ctx->times);
    free(ctx);
}

const vkt_profile *vkt_ctx_profile(const vkt_ctx *ctx) { return &ctx->prof; }
const char *vkt_ctx_message(const vkt_ctx *ctx) { return ctx->err.msg; }
vkt_error *vkt_ctx_err(vkt_ctx *ctx) { return &ctx->err; }
const char *vkt_ctx_warning(const vkt_ctx *ctx) { return ctx->warning[0] ? ctx->warning : NULL; }
int vkt_ctx_validation_messages(const vkt_ctx *ctx) { return ctx->validation_messages; }
bool vkt_ctx_validation_enabled(const vkt_ctx *ctx) { return ctx->validation; }
