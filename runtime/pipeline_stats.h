// pipeline_stats.h: what the driver says about a compiled pipeline (register count,
// spills, instruction counts; the names are the driver's), read through
// VK_KHR_pipeline_executable_properties where the device has it. For benchmarks.
#ifndef VKT_PIPELINE_STATS_H
#define VKT_PIPELINE_STATS_H

#include "context.h"

#define VKT_PIPELINE_STATS_MAX 24

typedef struct vkt_pipeline_stat {
    char executable[64]; // the driver's name for the compiled stage, e.g. "Compute Shader"
    char name[64];       // e.g. "Register Count", "Spill Count", "Instruction Count"
    double value;
} vkt_pipeline_stat;

// The statistics of the first pipeline made in this context from the embedded shader
// `shader` (any specialization), up to VKT_PIPELINE_STATS_MAX of them in out[], their
// number in *n. VKT_ERR_UNSUPPORTED when the device or driver gives none (the message
// says why), VKT_ERR_ARG when no pipeline of that shader exists yet.
vkt_status vkt_pipeline_stats(vkt_ctx *ctx, const char *shader, vkt_pipeline_stat *out, int *n);

#endif
