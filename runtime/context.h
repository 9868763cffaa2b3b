// context.h: a vkt context owns one Vulkan device, its queue, memory blocks, pipelines
// and the command stream that ops record into. Everything that speaks Vulkan is in
// runtime/; callers see opaque handles.
#ifndef VKT_CONTEXT_H
#define VKT_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>

#include "profile.h"
#include "status.h"

typedef struct vkt_ctx vkt_ctx;

typedef struct vkt_ctx_options {
    int device;      // device index; -1: VKT_DEVICE or the default choice
    bool validation; // enable the Khronos validation layer (also VKT_VALIDATION=1)
    bool timing;     // GPU timestamps per op, a table at the end (also VKT_PROFILE=1; not the
                     // device profile, which is the capabilities in profile.h)
} vkt_ctx_options;

// Default options: device -1, validation and per-op timing from the environment.
vkt_ctx_options vkt_ctx_default_options(void);

// Lists every device without creating one. *out is malloc'd (free() it).
vkt_status vkt_devices_query(vkt_profile **out, int *count, int *chosen, vkt_error *err);

vkt_status vkt_ctx_create(const vkt_ctx_options *opt, vkt_ctx **out, vkt_error *err);
// Waits for pending work, prints the VKT_PROFILE table (to stderr) if timing,
// saves the pipeline cache and frees everything.
void vkt_ctx_destroy(vkt_ctx *ctx);

const vkt_profile *vkt_ctx_profile(const vkt_ctx *ctx);
// The message of the last failed call on this context.
const char *vkt_ctx_message(const vkt_ctx *ctx);
vkt_error *vkt_ctx_err(vkt_ctx *ctx);
// A one-line warning the caller should show (e.g. "a CPU device is in use"), or NULL.
const char *vkt_ctx_warning(const vkt_ctx *ctx);
// Validation-layer messages (warnings and errors) seen so far; 0 when the layer is off.
int vkt_ctx_validation_messages(const vkt_ctx *ctx);
bool vkt_ctx_validation_enabled(const vkt_ctx *ctx);

// Submits everything recorded so far and waits for the device to finish it.
vkt_status vkt_sync(vkt_ctx *ctx);

#endif
