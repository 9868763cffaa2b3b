// pipeline_stats.c: VK_KHR_pipeline_executable_properties statistics of a made pipeline
// (context.c enables the extension and pipeline.c asks for statistics when the device
// has the feature).
#include <stdio.h>
#include <string.h>

#include "pipeline_stats.h"
#include "vk_internal.h"

static double stat_value(const VkPipelineExecutableStatisticKHR *s) {
    switch (s->format) {
    case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_BOOL32_KHR: return s->value.b32;
    case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_INT64_KHR: return (double)s->value.i64;
    case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_UINT64_KHR: return (double)s->value.u64;
    default: return s->value.f64;
    }
}

vkt_status vkt_pipeline_stats(vkt_ctx *ctx, const char *shader, vkt_pipeline_stat *out, int *n) {
    *n = 0;
    size_t len = strlen(shader);
    const vkt_pipeline *pl = NULL;
    for (int i = 0; i < ctx->npipes && !pl; i++)
        if (!strncmp(ctx->pipes[i].key, shader, len) && ctx->pipes[i].key[len] == '|')
            pl = &ctx->pipes[i];
    if (!pl)
        return vkt_fail(&ctx->err, VKT_ERR_ARG, "pipeline statistics: no pipeline of '%s' made yet",
                        shader);
    if (!ctx->pipeline_stats)
        return vkt_fail(&ctx->err, VKT_ERR_UNSUPPORTED,
                        "pipeline statistics: '%s' lacks VK_KHR_pipeline_executable_properties",
                        ctx->prof.name);
    PFN_vkGetPipelineExecutablePropertiesKHR props =
        (PFN_vkGetPipelineExecutablePropertiesKHR)vkGetDeviceProcAddr(
            ctx->device, "vkGetPipelineExecutablePropertiesKHR");
    PFN_vkGetPipelineExecutableStatisticsKHR stats =
        (PFN_vkGetPipelineExecutableStatisticsKHR)vkGetDeviceProcAddr(
            ctx->device, "vkGetPipelineExecutableStatisticsKHR");
    if (!props || !stats)
        return vkt_fail(&ctx->err, VKT_ERR_UNSUPPORTED,
                        "pipeline statistics: entry points missing on '%s'", ctx->prof.name);

    VkPipelineInfoKHR pi = {.sType = VK_STRUCTURE_TYPE_PIPELINE_INFO_KHR, .pipeline = pl->pipeline};
    VkPipelineExecutablePropertiesKHR ex[4];
    uint32_t nex = 4;
    for (uint32_t i = 0; i < nex; i++)
        ex[i] = (VkPipelineExecutablePropertiesKHR){
            .sType = VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_PROPERTIES_KHR};
    VkResult r = props(ctx->device, &pi, &nex, ex);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE)
        return vkt_vk_fail(ctx, r, "vkGetPipelineExecutablePropertiesKHR");
    for (uint32_t e = 0; e < nex && *n < VKT_PIPELINE_STATS_MAX; e++) {
        VkPipelineExecutableInfoKHR ei = {.sType = VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_INFO_KHR,
                                          .pipeline = pl->pipeline,
                                          .executableIndex = e};
        VkPipelineExecutableStatisticKHR st[VKT_PIPELINE_STATS_MAX];
        uint32_t nst = (uint32_t)(VKT_PIPELINE_STATS_MAX - *n);
        for (uint32_t i = 0; i < nst; i++)
            st[i] = (VkPipelineExecutableStatisticKHR){
                .sType = VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_STATISTIC_KHR};
        r = stats(ctx->device, &ei, &nst, st);
        if (r != VK_SUCCESS && r != VK_INCOMPLETE)
            return vkt_vk_fail(ctx, r, "vkGetPipelineExecutableStatisticsKHR");
        for (uint32_t i = 0; i < nst; i++, (*n)++) {
            vkt_pipeline_stat *o = &out[*n];
            snprintf(o->executable, sizeof o->executable, "%s", ex[e].name);
            snprintf(o->name, sizeof o->name, "%s", st[i].name);
            o->value = stat_value(&st[i]);
        }
    }
    if (*n == 0)
        return vkt_fail(&ctx->err, VKT_ERR_UNSUPPORTED,
                        "pipeline statistics: the driver of '%s' reports none", ctx->prof.name);
    return VKT_OK;
}
