// dispatch_cache.c: the pipeline index and the texel-view cache behind vkt_record (see
// dispatch_cache.h). Both are open-addressing tables with linear probing.
#include <stdlib.h>
#include <string.h>

#include "dispatch_cache.h"

#define VIEW_SLOTS 8192u          // a power of two
#define VIEW_MAX (VIEW_SLOTS / 2) // cached views before the table is retired and started afresh

vkt_status vkt_dcache_get(vkt_ctx *ctx, vkt_dcache **out) {
    if (!ctx->dcache) {
        vkt_dcache *dc = calloc(1, sizeof *dc);
        if (!dc) return vkt_fail(&ctx->err, VKT_ERR_NOMEM, "dispatch cache");
        const char *e = getenv("VKT_DISPATCH_CACHE");
        dc->on = !(e && !strcmp(e, "0"));
        ctx->dcache = dc;
    }
    *out = ctx->dcache;
    return VKT_OK;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

uint64_t vkt_dcache_hash(const vkt_dispatch *d) {
    uint64_t h = 14695981039346656037ull;
    for (const char *s = d->shader; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    h = fnv(h, d->spec, sizeof(uint32_t) * (size_t)d->nspec);
    h = (h ^ (uint64_t)d->nspec) * 1099511628211ull;
    for (int i = 0; i < d->nbind; i++)
        h = (h ^ (0x40u + (uint64_t)d->bind[i].kind)) * 1099511628211ull;
    return h ^ (h >> 29);
}

static bool same_pipe(const vkt_pipe_slot *s, const vkt_dispatch *d, uint64_t hash) {
    if (s->hash != hash || s->nspec != d->nspec || s->nbind != d->nbind) return false;
    if (memcmp(s->spec, d->spec, sizeof(uint32_t) * (size_t)d->nspec)) return false;
    for (int i = 0; i < d->nbind; i++)
        if (s->kinds[i] != (uint8_t)d->bind[i].kind) return false;
    return !strcmp(s->shader, d->shader);
}

int vkt_dcache_find_pipe(const vkt_dcache *dc, const vkt_dispatch *d, uint64_t hash) {
    if (!dc->cap_pipes) return -1;
    uint32_t mask = dc->cap_pipes - 1;
    for (uint32_t i = (uint32_t)hash & mask;; i = (i + 1) & mask) {
        const vkt_pipe_slot *s = &dc->pipes[i];
        if (s->pipe < 0) return -1;
        if (same_pipe(s, d, hash)) return s->pipe;
    }
}

static void put_pipe(vkt_pipe_slot *slots, uint32_t cap, const vkt_pipe_slot *s) {
    uint32_t i = (uint32_t)s->hash & (cap - 1);
    while (slots[i].pipe >= 0) i = (i + 1) & (cap - 1);
    slots[i] = *s;
}

vkt_status vkt_dcache_reserve_pipe(vkt_ctx *ctx, vkt_dcache *dc) {
    if (2 * (dc->npipes + 1) <= dc->cap_pipes) return VKT_OK;
    uint32_t cap = dc->cap_pipes ? 2 * dc->cap_pipes : 128;
    vkt_pipe_slot *slots = malloc((size_t)cap * sizeof *slots);
    if (!slots) return vkt_fail(&ctx->err, VKT_ERR_NOMEM, "pipeline index");
    for (uint32_t i = 0; i < cap; i++) slots[i].pipe = -1;
    for (uint32_t i = 0; i < dc->cap_pipes; i++)
        if (dc->pipes[i].pipe >= 0) put_pipe(slots, cap, &dc->pipes[i]);
    free(dc->pipes);
    dc->pipes = slots;
    dc->cap_pipes = cap;
    return VKT_OK;
}

void vkt_dcache_add_pipe(vkt_dcache *dc, const vkt_dispatch *d, const char *shader, uint64_t hash,
                         int pipe) {
    vkt_pipe_slot s = {.hash = hash,
                       .shader = shader,
                       .nspec = (uint8_t)d->nspec,
                       .nbind = (uint8_t)d->nbind,
                       .pipe = pipe};
    memcpy(s.spec, d->spec, sizeof(uint32_t) * (size_t)d->nspec);
    for (int i = 0; i < d->nbind; i++) s.kinds[i] = (uint8_t)d->bind[i].kind;
    put_pipe(dc->pipes, dc->cap_pipes, &s);
    dc->npipes++;
    dc->counts.pipelines++;
}

static uint64_t view_hash(const VkBufferViewCreateInfo *vi) {
    uint64_t k[4] = {(uint64_t)(uintptr_t)vi->buffer, vi->offset, vi->range, (uint64_t)vi->format};
    uint64_t h = fnv(14695981039346656037ull, k, sizeof k);
    return h ^ (h >> 29);
}

// The frame being recorded takes every cached view (commands in it or earlier frames may
// still use them) and the table starts empty.
static vkt_status retire_all(vkt_ctx *ctx, vkt_dcache *dc) {
    VkBufferView *v = malloc((size_t)dc->nviews * sizeof *v);
    if (!v) return vkt_fail(&ctx->err, VKT_ERR_NOMEM, "texel view list");
    int n = 0;
    for (uint32_t i = 0; i < VIEW_SLOTS; i++)
        if (dc->views[i].buffer) v[n++] = dc->views[i].view;
    vkt_status s = vkt_frame_retire_views(ctx, v, n);
    free(v);
    if (s != VKT_OK) return s;
    memset(dc->views, 0, VIEW_SLOTS * sizeof *dc->views);
    dc->nviews = 0;
    return VKT_OK;
}

vkt_status vkt_dcache_view(vkt_ctx *ctx, const VkBufferViewCreateInfo *vi, const char *shader,
                           int binding, VkBufferView *out) {
    vkt_dcache *dc = ctx->dcache;
    if (!dc->views && !(dc->views = calloc(VIEW_SLOTS, sizeof *dc->views)))
        return vkt_fail(&ctx->err, VKT_ERR_NOMEM, "texel view cache");
    uint64_t h = view_hash(vi);
    uint32_t i = (uint32_t)h & (VIEW_SLOTS - 1);
    for (; dc->views[i].buffer; i = (i + 1) & (VIEW_SLOTS - 1)) {
        const vkt_view_slot *s = &dc->views[i];
        if (s->buffer == vi->buffer && s->offset == vi->offset && s->range == vi->range &&
            s->format == vi->format) {
            *out = s->view;
            dc->counts.view_hits++;
            return VKT_OK;
        }
    }
    if (dc->nviews >= VIEW_MAX) {
        VKT_TRY(retire_all(ctx, dc));
        i = (uint32_t)h & (VIEW_SLOTS - 1);
    }
    VkResult r = vkCreateBufferView(ctx->device, vi, NULL, out);
    if (r != VK_SUCCESS)
        return vkt_vk_fail(ctx, r, "vkCreateBufferView (%s binding %d)", shader, binding);
    dc->counts.views_created++;
    dc->views[i] = (vkt_view_slot){vi->buffer, vi->offset, vi->range, vi->format, *out};
    dc->nviews++;
    return VKT_OK;
}

void vkt_dcache_destroy(vkt_ctx *ctx) {
    vkt_dcache *dc = ctx->dcache;
    if (!dc) return;
    if (dc->views)
        for (uint32_t i = 0; i < VIEW_SLOTS; i++)
            if (dc->views[i].buffer) vkDestroyBufferView(ctx->device, dc->views[i].view, NULL);
    free(dc->views);
    free(dc->pipes);
    free(dc);
    ctx->dcache = NULL;
}

// --- for bench and tests (dispatch.h) ---------------------------------------------------

void vkt_dispatch_counts_get(vkt_ctx *ctx, vkt_dispatch_counts *out) {
    vkt_dcache *dc = NULL;
    memset(out, 0, sizeof *out);
    if (vkt_dcache_get(ctx, &dc) != VKT_OK) return;
    *out = dc->counts;
    out->views_live = dc->counts.views_created - dc->counts.views_destroyed;
    out->cache_on = dc->on;
}

vkt_status vkt_dispatch_cache_set(vkt_ctx *ctx, bool on) {
    vkt_dcache *dc = NULL;
    VKT_TRY(vkt_dcache_get(ctx, &dc));
    dc->on = on;
    return VKT_OK;
}

vkt_status vkt_dispatch_pipeline(vkt_ctx *ctx, const vkt_dispatch *d, int *index) {
    vkt_pipeline *pl;
    VKT_TRY(vkt_pipeline_get(ctx, d, &pl));
    *index = (int)(pl - ctx->pipes);
    return VKT_OK;
}
