// record.c: the command stream. Ops append dispatches to the current command buffer;
// a barrier goes in only when a dispatch touches a range an earlier one in the same
// barrier epoch wrote (or writes a range one read). Command buffers are submitted in
// chunks of VKT_FRAME_DISPATCHES, with up to VKT_FRAMES in flight. VKT_PROFILE=1 adds a
// timestamp pair around each dispatch and sums them per op. Texel views come from the
// dispatch cache (dispatch_cache.c), or per dispatch with VKT_DISPATCH_CACHE=0.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch_cache.h"

#define QUERIES_PER_FRAME (2 * VKT_FRAME_DISPATCHES)

vkt_status vkt_frames_create(vkt_ctx *ctx) {
    VkCommandPoolCreateInfo pi = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                  .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                  .queueFamilyIndex = ctx->queue_family};
    VkResult r = vkCreateCommandPool(ctx->device, &pi, NULL, &ctx->pool);
    if (r != VK_SUCCESS) return vkt_vk_fail(ctx, r, "vkCreateCommandPool");
    for (int i = 0; i < VKT_FRAMES; i++) {
        vkt_frame *f = &ctx->frames[i];
        VkCommandBufferAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                          .commandPool = ctx->pool,
                                          .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                          .commandBufferCount = 1};
        r = vkAllocateCommandBuffers(ctx->device, &ai, &f->cmd);
        if (r != VK_SUCCESS) return vkt_vk_fail(ctx, r, "vkAllocateCommandBuffers");
        VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
        r = vkCreateFence(ctx->device, &fi, NULL, &f->fence);
        if (r != VK_SUCCESS) return vkt_vk_fail(ctx, r, "vkCreateFence");
        if (ctx->timing) {
            VkQueryPoolCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                        .queryType = VK_QUERY_TYPE_TIMESTAMP,
                                        .queryCount = QUERIES_PER_FRAME};
            r = vkCreateQueryPool(ctx->device, &qi, NULL, &f->queries);
            if (r != VK_SUCCESS) return vkt_vk_fail(ctx, r, "vkCreateQueryPool");
            f->query_ops = calloc(VKT_FRAME_DISPATCHES, sizeof *f->query_ops);
            if (!f->query_ops) return vkt_fail(&ctx->err, VKT_ERR_NOMEM, "profiling table");
        }
    }
    return VKT_OK;
}

static void add_time(vkt_ctx *ctx, const char *op, double ms) {
    for (int i = 0; i < ctx->ntimes; i++)
        if (!strcmp(ctx->times[i].op, op)) {
            ctx->times[i].calls++;
            ctx->times[i].total_ms += ms;
            return;
        }
    if (ctx->ntimes == ctx->captimes) {
        int cap = ctx->captimes ? 2 * ctx->captimes : 32;
        vkt_op_time *t = realloc(ctx->times, (size_t)cap * sizeof *t);
        if (!t) return;
        ctx->times = t;
        ctx->captimes = cap;
    }
    ctx->times[ctx->ntimes++] = (vkt_op_time){op, 1, ms};
}

// Waits for a submitted frame and releases what it held. `stall`: false where a later
// frame's fence has been waited on, which covers this one (submission order).
static vkt_status frame_complete(vkt_ctx *ctx, vkt_frame *f, bool stall) {
    if (!f->submitted) return VKT_OK;
    VkResult r = vkWaitForFences(ctx->device, 1, &f->fence, VK_TRUE, UINT64_MAX);
    if (r != VK_SUCCESS) return vkt_vk_fail(ctx, r, "vkWaitForFences");
    ctx->host_waits += stall;
    if (f->serial > ctx->serial_done) ctx->serial_done = f->serial;
    if (ctx->timing && f->ndispatch > 0) {
        uint64_t ts[QUERIES_PER_FRAME];
        r = vkGetQueryPoolResults(ctx->device, f->queries, 0, 2u * (uint32_t)f->ndispatch,
                                  sizeof(uint64_t) * 2u * (uint32_t)f->ndispatch, ts,
                                  sizeof(uint64_t),
                                  VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
        if (r == VK_SUCCESS)
            for (int i = 0; i < f->ndispatch; i++)
                add_time(ctx, f->query_ops[i],
                         (double)(ts[2 * i + 1] - ts[2 * i]) * ctx->prof.timestamp_period_ns *
                             1e-6);
    }
    for (int i = 0; i < f->nviews; i++) vkDestroyBufferView(ctx->device, f->views[i], NULL);
    if (ctx->dcache) ctx->dcache->counts.views_destroyed += (uint64_t)f->nviews;
    f->nviews = 0;
    vkResetFences(ctx->device, 1, &f->fence);
    f->submitted = false;
    f->ndispatch = 0;
    f->inline_bytes = 0;
    return VKT_OK;
}

void vkt_record_full_barrier(vkt_ctx *ctx) {
    VkMemoryBarrier mb = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                         VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT};
    vkCmdPipelineBarrier(ctx->frames[ctx->cur].cmd,
                         VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, 0,
                         1, &mb, 0, NULL, 0, NULL);
    ctx->nhazards = 0;
}

vkt_status vkt_frame_begin(vkt_ctx *ctx) {
    vkt_frame *f = &ctx->frames[ctx->cur];
    if (f->recording) return VKT_OK;
    VKT_TRY(frame_complete(ctx, f, true));
    VkResult r = vkResetCommandBuffer(f->cmd, 0);
    if (r != VK_SUCCESS) return vkt_vk_fail(ctx, r, "vkResetCommandBuffer");
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    r = vkBeginCommandBuffer(f->cmd, &bi);
    if (r != VK_SUCCESS) return vkt_vk_fail(ctx, r, "vkBeginCommandBuffer");
    if (ctx->timing) vkCmdResetQueryPool(f->cmd, f->queries, 0, QUERIES_PER_FRAME);
    f->recording = true;
    f->serial = ++ctx->serial_last;
    f->ndispatch = 0;
    // Work in earlier command buffers is ordered with this one by this barrier.
    vkt_record_full_barrier(ctx);
    return VKT_OK;
}

vkt_status vkt_frame_flush(vkt_ctx *ctx, bool wait) {
    vkt_frame *f = &ctx->frames[ctx->cur];
    if (f->recording) {
        // Make device writes visible to the host once the fence signals.
        VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                              .srcAccessMask =
                                  VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                              .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
        vkCmdPipelineBarrier(f->cmd,
                             VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                             VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
        VkResult r = vkEndCommandBuffer(f->cmd);
        f->recording = false;
        if (r != VK_SUCCESS) return vkt_vk_fail(ctx, r, "vkEndCommandBuffer");
        VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                           .commandBufferCount = 1,
                           .pCommandBuffers = &f->cmd};
        r = vkQueueSubmit(ctx->queue, 1, &si, f->fence);
        if (r != VK_SUCCESS) return vkt_vk_fail(ctx, r, "vkQueueSubmit");
        f->submitted = true;
        ctx->cur = (ctx->cur + 1) % VKT_FRAMES;
    }
    if (!wait) return VKT_OK;
    // One wait: the newest frame's fence covers every frame submitted before it.
    vkt_frame *last = &ctx->frames[(ctx->cur + VKT_FRAMES - 1) % VKT_FRAMES];
    bool covered = last->submitted;
    VKT_TRY(frame_complete(ctx, last, true));
    for (int i = 0; i < VKT_FRAMES; i++) VKT_TRY(frame_complete(ctx, &ctx->frames[i], !covered));
    return VKT_OK;
}

vkt_status vkt_sync(vkt_ctx *ctx) { return vkt_frame_flush(ctx, true); }

vkt_status vkt_frame_wait(vkt_ctx *ctx, uint64_t serial) {
    if (serial <= ctx->serial_done) return VKT_OK;
    vkt_frame *cur = &ctx->frames[ctx->cur];
    if (cur->recording && cur->serial == serial) VKT_TRY(vkt_frame_flush(ctx, false));
    vkt_frame *f = NULL;
    for (int i = 0; i < VKT_FRAMES; i++)
        if (ctx->frames[i].submitted && ctx->frames[i].serial == serial) f = &ctx->frames[i];
    if (!f) return vkt_sync(ctx); // not expected: a pending serial is recording or in flight
    VKT_TRY(frame_complete(ctx, f, true));
    // Frames submitted before it are complete too: release them without counting a wait.
    for (int i = 0; i < VKT_FRAMES; i++)
        if (ctx->frames[i].submitted && ctx->frames[i].serial < serial)
            VKT_TRY(frame_complete(ctx, &ctx->frames[i], false));
    return VKT_OK;
}

void vkt_frames_destroy(vkt_ctx *ctx) {
    for (int i = 0; i < VKT_FRAMES; i++) {
        vkt_frame *f = &ctx->frames[i];
        if (f->submitted) frame_complete(ctx, f, true);
        if (f->fence) vkDestroyFence(ctx->device, f->fence, NULL);
        if (f->queries) vkDestroyQueryPool(ctx->device, f->queries, NULL);
        free(f->query_ops);
        free(f->views);
    }
    // Cached views go before the memory they view (vkt_memory_destroy runs later).
    vkt_dcache_destroy(ctx);
    if (ctx->pool) vkDestroyCommandPool(ctx->device, ctx->pool, NULL);
}

static int cmp_time(const void *a, const void *b) {
    double x = ((const vkt_op_time *)a)->total_ms, y = ((const vkt_op_time *)b)->total_ms;
    return (x < y) - (x > y);
}

void vkt_timing_print(vkt_ctx *ctx) {
    qsort(ctx->times, (size_t)ctx->ntimes, sizeof *ctx->times, cmp_time);
    double all = 0;
    for (int i = 0; i < ctx->ntimes; i++) all += ctx->times[i].total_ms;
    fprintf(stderr, "vkt profile (%s): GPU time per op\n%-28s %10s %12s %10s %7s\n", ctx->prof.name,
            "op", "calls", "total ms", "mean ms", "share");
    for (int i = 0; i < ctx->ntimes; i++) {
        const vkt_op_time *t = &ctx->times[i];
        fprintf(stderr, "%-28s %10llu %12.3f %10.4f %6.1f%%\n", t->op, (unsigned long long)t->calls,
                t->total_ms, t->total_ms / (double)t->calls,
                all > 0 ? 100.0 * t->total_ms / all : 0.0);
    }
    fprintf(stderr, "%-28s %10s %12.3f\n", "total", "", all);
    fprintf(stderr,
            "host waits %llu; uploads %.3f MB (%.3f MB into the command stream), downloads %.3f "
            "MB; %.3f MB through staging (memory: %s)\n",
            (unsigned long long)ctx->host_waits, (double)ctx->bytes_up / 1e6,
            (double)ctx->bytes_inline / 1e6, (double)ctx->bytes_down / 1e6,
            (double)ctx->bytes_staged / 1e6, vkt_memory_mode_name(ctx->prof.memory_mode));
}

static uint64_t bind_align(const vkt_ctx *ctx, vkt_bind_kind k) {
    return vkt_bind_is_texel(k) ? ctx->prof.texel_align : ctx->prof.storage_align;
}

uint32_t vkt_bind_shift(const vkt_ctx *ctx, vkt_view v, vkt_bind_kind kind) {
    uint64_t base;
    vkt_buffer_vk(ctx, v.buf, &base);
    uint64_t abs = base + v.offset, a = bind_align(ctx, kind);
    return (uint32_t)((abs - abs / a * a) / 4);
}

static vkt_status reserve_views(vkt_ctx *ctx, vkt_frame *f, int more) {
    if (f->nviews + more <= f->capviews) return VKT_OK;
    int cap = f->capviews ? f->capviews : 64;
    while (cap < f->nviews + more) cap *= 2;
    VkBufferView *n = realloc(f->views, (size_t)cap * sizeof *n);
    if (!n) return vkt_fail(&ctx->err, VKT_ERR_NOMEM, "texel view list");
    f->views = n;
    f->capviews = cap;
    return VKT_OK;
}

vkt_status vkt_frame_retire_views(vkt_ctx *ctx, const VkBufferView *views, int n) {
    vkt_frame *f = &ctx->frames[ctx->cur];
    VKT_TRY(reserve_views(ctx, f, n));
    memcpy(f->views + f->nviews, views, (size_t)n * sizeof *views);
    f->nviews += n;
    return VKT_OK;
}

// Views of blocks that live as long as the context can be cached; an oversized block is
// released when its last buffer goes, so its views stay per dispatch.
static bool view_cacheable(const vkt_ctx *ctx, const vkt_buffer *buf) {
    return ctx->dcache->on && ctx->blocks[buf->block].bytes <= VKT_BLOCK_BYTES;
}

static vkt_status texel_view(vkt_ctx *ctx, const vkt_dispatch *d, int i,
                             const VkDescriptorBufferInfo *info, VkBufferView *out) {
    const vkt_binding *b = &d->bind[i];
    static const VkFormat fmt[] = {[VKT_BIND_TEXEL] = VK_FORMAT_R32G32B32A32_SFLOAT,
                                   [VKT_BIND_TEXEL_R32] = VK_FORMAT_R32_SFLOAT,
                                   [VKT_BIND_TEXEL_U32X4] = VK_FORMAT_R32G32B32A32_UINT,
                                   [VKT_BIND_TEXEL_U32] = VK_FORMAT_R32_UINT};
    VkBufferViewCreateInfo vi = {.sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
                                 .buffer = info->buffer,
                                 .format = fmt[b->kind],
                                 .offset = info->offset,
                                 .range = info->range};
    if (view_cacheable(ctx, b->view.buf)) return vkt_dcache_view(ctx, &vi, d->shader, i, out);
    vkt_frame *f = &ctx->frames[ctx->cur];
    VKT_TRY(reserve_views(ctx, f, 1));
    VkResult r = vkCreateBufferView(ctx->device, &vi, NULL, out);
    if (r != VK_SUCCESS)
        return vkt_vk_fail(ctx, r, "vkCreateBufferView (%s binding %d)", d->shader, i);
    ctx->dcache->counts.views_created++;
    f->views[f->nviews++] = *out;
    return VKT_OK;
}

vkt_status vkt_record(vkt_ctx *ctx, const vkt_dispatch *d) {
    if (d->groups[0] == 0 || d->groups[1] == 0 || d->groups[2] == 0) return VKT_OK;
    for (int i = 0; i < 3; i++)
        if (d->groups[i] > ctx->prof.max_workgroup_count[i])
            return vkt_fail(&ctx->err, VKT_ERR_UNSUPPORTED,
                            "%s: %u workgroups in dimension %d exceed the device's %u", d->shader,
                            d->groups[i], i, ctx->prof.max_workgroup_count[i]);
    vkt_pipeline *pl;
    VKT_TRY(vkt_pipeline_get(ctx, d, &pl));

    // Resolve bindings to (VkBuffer, aligned offset, range) before touching the stream.
    VkDescriptorBufferInfo infos[VKT_MAX_BINDINGS];
    vkt_hazard spans[VKT_MAX_BINDINGS];
    for (int i = 0; i < d->nbind; i++) {
        const vkt_binding *b = &d->bind[i];
        if (!b->view.buf)
            return vkt_fail(&ctx->err, VKT_ERR_ARG, "%s: binding %d has no buffer", d->shader, i);
        uint64_t base;
        VkBuffer vb = vkt_buffer_vk(ctx, b->view.buf, &base);
        uint64_t a = bind_align(ctx, b->kind);
        uint64_t lo = base + b->view.offset, start = lo / a * a;
        uint64_t bytes = b->view.bytes ? b->view.bytes : 4;
        uint64_t range = (lo + bytes - start + 15) / 16 * 16;
        if (range > ctx->prof.max_binding_bytes)
            return vkt_fail(&ctx->err, VKT_ERR_UNSUPPORTED,
                            "%s: binding %d spans %llu bytes, over the device's %llu-byte binding "
                            "limit (the op must split it)",
                            d->shader, i, (unsigned long long)range,
                            (unsigned long long)ctx->prof.max_binding_bytes);
        infos[i] = (VkDescriptorBufferInfo){vb, start, range};
        // Track the whole bound range: that is what the device (and sync validation) sees.
        spans[i] = (vkt_hazard){vb, start, start + range, b->kind == VKT_BIND_WRITE};
    }

    VKT_TRY(vkt_frame_begin(ctx));
    vkt_frame *f = &ctx->frames[ctx->cur];
    for (int i = 0; i < d->nbind; i++) d->bind[i].view.buf->last_use = f->serial;

    // Barrier when this dispatch conflicts with anything since the last barrier.
    bool conflict = ctx->nhazards + d->nbind > VKT_MAX_HAZARDS;
    for (int i = 0; i < d->nbind && !conflict; i++)
        for (int j = 0; j < ctx->nhazards && !conflict; j++) {
            const vkt_hazard *h = &ctx->hazards[j];
            bool overlap =
                h->buffer == spans[i].buffer && h->lo < spans[i].hi && spans[i].lo < h->hi;
            conflict = overlap && (h->write || spans[i].write);
        }
    if (conflict) vkt_record_full_barrier(ctx);
    for (int i = 0; i < d->nbind; i++) ctx->hazards[ctx->nhazards++] = spans[i];

    VkWriteDescriptorSet w[VKT_MAX_BINDINGS];
    VkBufferView views[VKT_MAX_BINDINGS];
    for (int i = 0; i < d->nbind; i++) {
        const vkt_binding *b = &d->bind[i];
        w[i] = (VkWriteDescriptorSet){.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                                      .dstBinding = (uint32_t)i,
                                      .descriptorCount = 1};
        if (vkt_bind_is_texel(b->kind)) {
            VKT_TRY(texel_view(ctx, d, i, &infos[i], &views[i]));
            w[i].descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
            w[i].pTexelBufferView = &views[i];
        } else {
            w[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
            w[i].pBufferInfo = &infos[i];
        }
    }
    uint8_t push[VKT_MAX_PUSH] = {0};
    memcpy(push, d->push, d->push_bytes);

    if (ctx->timing) {
        f->query_ops[f->ndispatch] = d->op ? d->op : d->shader;
        vkCmdWriteTimestamp(f->cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, f->queries,
                            2u * (uint32_t)f->ndispatch);
    }
    vkCmdBindPipeline(f->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pl->pipeline);
    ctx->push_descriptor(f->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pl->layout, 0, (uint32_t)d->nbind,
                         w);
    vkCmdPushConstants(f->cmd, pl->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, VKT_MAX_PUSH, push);
    vkCmdDispatch(f->cmd, d->groups[0], d->groups[1], d->groups[2]);
    if (ctx->timing)
        vkCmdWriteTimestamp(f->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, f->queries,
                            2u * (uint32_t)f->ndispatch + 1);
    f->ndispatch++;
    if (f->ndispatch >= VKT_FRAME_DISPATCHES) VKT_TRY(vkt_frame_flush(ctx, false));
    return VKT_OK;
}
