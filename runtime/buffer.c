// buffer.c: memory blocks, a first-fit sub-allocator, views and transfers (by memory mode:
// unified blocks are read and written through their mapping, rebar blocks written through it
// and read through readback, others copied through staging both ways).
#include <stdlib.h>
#include <string.h>

#include "vk_internal.h"

#define ALLOC_ALIGN 256ull // covers every storage/texel offset alignment we have seen

static uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

// A block of `bytes`; where its heap lacks the room but has enough for `need` (the buffer
// that asked), a block of just `need`.
static vkt_status block_create(vkt_ctx *ctx, uint64_t bytes, uint64_t need, int *out) {
    if (ctx->nblocks == ctx->capblocks) {
        int cap = ctx->capblocks ? 2 * ctx->capblocks : 8;
        vkt_block *b = realloc(ctx->blocks, (size_t)cap * sizeof *b);
        if (!b) return vkt_fail(&ctx->err, VKT_ERR_NOMEM, "growing the block table");
        ctx->blocks = b;
        ctx->capblocks = cap;
    }
    vkt_block *b = &ctx->blocks[ctx->nblocks];
    memset(b, 0, sizeof *b);
    VkBufferCreateInfo bi = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = bytes,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
                 VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT};
    VkResult r = vkCreateBuffer(ctx->device, &bi, NULL, &b->buffer);
    if (r != VK_SUCCESS)
        return vkt_vk_fail(ctx, r, "vkCreateBuffer (memory block of %llu bytes)",
                           (unsigned long long)bytes);
    // Rebar where the device has it; a block it cannot serve takes the staging path.
    b->rebar = ctx->prof.memory_mode == VKT_MEMORY_REBAR &&
               vkt_memory_alloc_rebar(ctx, b->buffer, &b->mem);
    vkt_status s = b->rebar ? VKT_OK : vkt_memory_alloc(ctx, b->buffer, VKT_MEM_DEVICE, &b->mem);
    if (s != VKT_OK) {
        vkDestroyBuffer(ctx->device, b->buffer, NULL);
        b->buffer = VK_NULL_HANDLE;
        if (s == VKT_ERR_NOMEM && need < bytes) return block_create(ctx, need, need, out);
        return s;
    }
    b->bytes = bytes;
    b->free = malloc(8 * sizeof *b->free);
    if (!b->free) {
        vkt_memory_free(ctx, &b->mem);
        vkDestroyBuffer(ctx->device, b->buffer, NULL);
        b->buffer = VK_NULL_HANDLE;
        return vkt_fail(&ctx->err, VKT_ERR_NOMEM, "block free list");
    }
    if (b->rebar) ctx->rebar_held += b->mem.bytes;
    b->capfree = 8;
    b->nfree = 1;
    b->free[0] = (vkt_range){0, bytes};
    ctx->bytes_allocated += bytes;
    if (ctx->bytes_allocated > ctx->bytes_peak) ctx->bytes_peak = ctx->bytes_allocated;
    *out = ctx->nblocks++;
    return VKT_OK;
}

// First fit in one block; returns false when nothing fits.
static bool block_take(vkt_block *b, uint64_t bytes, uint64_t *offset) {
    for (int i = 0; i < b->nfree; i++) {
        if (b->free[i].bytes < bytes) continue;
        *offset = b->free[i].offset;
        b->free[i].offset += bytes;
        b->free[i].bytes -= bytes;
        if (b->free[i].bytes == 0) {
            memmove(&b->free[i], &b->free[i + 1], (size_t)(b->nfree - i - 1) * sizeof *b->free);
            b->nfree--;
        }
        return true;
    }
    return false;
}

// Returns a range to the sorted free list, merging with its neighbours.
static bool block_give(vkt_block *b, uint64_t offset, uint64_t bytes) {
    int i = 0;
    while (i < b->nfree && b->free[i].offset < offset) i++;
    bool left = i > 0 && b->free[i - 1].offset + b->free[i - 1].bytes == offset;
    bool right = i < b->nfree && offset + bytes == b->free[i].offset;
    if (left && right) {
        b->free[i - 1].bytes += bytes + b->free[i].bytes;
        memmove(&b->free[i], &b->free[i + 1], (size_t)(b->nfree - i - 1) * sizeof *b->free);
        b->nfree--;
    } else if (left) {
        b->free[i - 1].bytes += bytes;
    } else if (right) {
        b->free[i].offset = offset;
        b->free[i].bytes += bytes;
    } else {
        if (b->nfree == b->capfree) {
            vkt_range *f = realloc(b->free, (size_t)b->capfree * 2 * sizeof *f);
            if (!f) return false;
            b->free = f;
            b->capfree *= 2;
        }
        memmove(&b->free[i + 1], &b->free[i], (size_t)(b->nfree - i) * sizeof *b->free);
        b->free[i] = (vkt_range){offset, bytes};
        b->nfree++;
    }
    return true;
}

vkt_status vkt_buffer_create(vkt_ctx *ctx, uint64_t bytes, vkt_buffer **out) {
    *out = NULL;
    if (bytes == 0) return vkt_fail(&ctx->err, VKT_ERR_ARG, "buffer of 0 bytes");
    uint64_t need = align_up(bytes, ALLOC_ALIGN);
    uint64_t block_bytes = VKT_BLOCK_BYTES;
    if (block_bytes > ctx->prof.max_allocation_bytes) block_bytes = ctx->prof.max_allocation_bytes;
    if (need > ctx->prof.max_allocation_bytes)
        return vkt_fail(&ctx->err, VKT_ERR_NOMEM,
                        "buffer of %llu bytes exceeds the device's largest allocation (%llu)",
                        (unsigned long long)bytes,
                        (unsigned long long)ctx->prof.max_allocation_bytes);
    vkt_buffer *buf = calloc(1, sizeof *buf);
    if (!buf) return vkt_fail(&ctx->err, VKT_ERR_NOMEM, "buffer handle");
    uint64_t offset = 0;
    int blk = -1;
    for (int i = 0; i < ctx->nblocks && blk < 0; i++)
        if (ctx->blocks[i].buffer && block_take(&ctx->blocks[i], need, &offset)) blk = i;
    if (blk < 0) {
        // A tensor larger than a block gets a block of its own size.
        vkt_status s = block_create(ctx, need > block_bytes ? need : block_bytes, need, &blk);
        if (s != VKT_OK) {
            free(buf);
            return s;
        }
        block_take(&ctx->blocks[blk], need, &offset);
    }
    ctx->blocks[blk].live++;
    buf->block = blk;
    buf->offset = offset;
    buf->bytes = bytes;
    *out = buf;
    return VKT_OK;
}

static void block_release(vkt_ctx *ctx, vkt_block *b) {
    if (b->rebar) ctx->rebar_held -= b->mem.bytes;
    vkDestroyBuffer(ctx->device, b->buffer, NULL);
    vkt_memory_free(ctx, &b->mem);
    ctx->bytes_allocated -= b->bytes;
    free(b->free);
    memset(b, 0, sizeof *b);
}

void vkt_buffer_destroy(vkt_ctx *ctx, vkt_buffer *buf) {
    if (!buf) return;
    // The GPU may still use it: finish recorded work first (destroy is rare: set-up and exit).
    vkt_sync(ctx);
    vkt_block *b = &ctx->blocks[buf->block];
    block_give(b, buf->offset, align_up(buf->bytes, ALLOC_ALIGN));
    // Oversized dedicated blocks go back to the driver as soon as they are empty.
    if (--b->live == 0 && b->bytes > VKT_BLOCK_BYTES) block_release(ctx, b);
    free(buf);
}

void vkt_memory_destroy(vkt_ctx *ctx) {
    for (int i = 0; i < ctx->nblocks; i++)
        if (ctx->blocks[i].buffer) block_release(ctx, &ctx->blocks[i]);
    free(ctx->blocks);
    ctx->blocks = NULL;
    ctx->nblocks = 0;
}

uint64_t vkt_buffer_bytes(const vkt_buffer *buf) { return buf->bytes; }
uint64_t vkt_ctx_bytes_allocated(const vkt_ctx *ctx) { return ctx->bytes_allocated; }
uint64_t vkt_ctx_bytes_peak(const vkt_ctx *ctx) { return ctx->bytes_peak; }
void vkt_ctx_transfers(const vkt_ctx *ctx, vkt_transfers *t) {
    *t = (vkt_transfers){ctx->host_waits, ctx->bytes_up, ctx->bytes_down, ctx->bytes_staged,
                         ctx->bytes_inline};
}
int vkt_ctx_memory_blocks(const vkt_ctx *ctx) {
    int n = 0;
    for (int i = 0; i < ctx->nblocks; i++) n += ctx->blocks[i].buffer != VK_NULL_HANDLE;
    return n;
}

VkBuffer vkt_buffer_vk(const vkt_ctx *ctx, const vkt_buffer *b, uint64_t *base_offset) {
    *base_offset = b->offset;
    return ctx->blocks[b->block].buffer;
}

vkt_view vkt_view_all(vkt_buffer *buf) { return (vkt_view){buf, 0, buf ? buf->bytes : 0}; }

vkt_view vkt_view_f32(vkt_view v, uint64_t first, uint64_t count) {
    return (vkt_view){v.buf, v.offset + 4 * first, 4 * count};
}

static vkt_status check_range(vkt_ctx *ctx, const char *what, vkt_view v, uint64_t bytes) {
    if (!v.buf) return vkt_fail(&ctx->err, VKT_ERR_ARG, "%s: NULL buffer", what);
    if (bytes > v.bytes || v.offset + v.bytes > v.buf->bytes)
        return vkt_fail(
            &ctx->err, VKT_ERR_ARG,
            "%s: %llu bytes at offset %llu do not fit a view of %llu bytes (buffer %llu)", what,
            (unsigned long long)bytes, (unsigned long long)v.offset, (unsigned long long)v.bytes,
            (unsigned long long)v.buf->bytes);
    return VKT_OK;
}

// Records a buffer copy with the barriers around it that order it with compute work.
static void record_copy(vkt_ctx *ctx, VkBuffer src, uint64_t so, VkBuffer dst, uint64_t dof,
                        uint64_t bytes) {
    VkCommandBuffer cmd = ctx->frames[ctx->cur].cmd;
    vkt_record_full_barrier(ctx);
    VkBufferCopy c = {.srcOffset = so, .dstOffset = dof, .size = bytes};
    vkCmdCopyBuffer(cmd, src, dst, 1, &c);
    vkt_record_full_barrier(ctx);
}

// Small host data goes into the command stream itself: ordered with the recorded ops by
// barriers, with no wait for the queue.
static vkt_status upload_inline(vkt_ctx *ctx, vkt_buffer *buf, VkBuffer dst, uint64_t off,
                                const void *src, uint64_t bytes) {
    VKT_TRY(vkt_frame_begin(ctx));
    vkt_frame *f = &ctx->frames[ctx->cur];
    buf->last_use = f->serial;
    ctx->bytes_inline += bytes;
    vkt_record_full_barrier(ctx);
    for (uint64_t done = 0; done < bytes; done += 65536) {
        uint64_t n = bytes - done < 65536 ? bytes - done : 65536; // vkCmdUpdateBuffer's limit
        vkCmdUpdateBuffer(f->cmd, dst, off + done, n, (const char *)src + done);
    }
    vkt_record_full_barrier(ctx);
    f->inline_bytes += bytes;
    return f->inline_bytes >= VKT_INLINE_FRAME_BYTES ? vkt_frame_flush(ctx, false) : VKT_OK;
}

vkt_status vkt_upload(vkt_ctx *ctx, vkt_view dst, const void *src, uint64_t bytes) {
    VKT_TRY(check_range(ctx, "upload", dst, bytes));
    if (bytes == 0) return VKT_OK;
    ctx->bytes_up += bytes;
    vkt_block *b = &ctx->blocks[dst.buf->block];
    uint64_t off = dst.buf->offset + dst.offset;
    // Staging is made on the first transfer, inline or not, so that it holds its heap room
    // before the heap fills (a download needs it later).
    if (!b->mem.mapped || b->rebar) VKT_TRY(vkt_transfer_buffers(ctx));
    // Rebar: a buffer no pending frame uses takes the host's write at once; the submission
    // that next reads it makes the write visible (coherent memory).
    if (b->rebar && dst.buf->last_use <= ctx->serial_done) {
        memcpy((char *)b->mem.mapped + off, src, bytes);
        return VKT_OK;
    }
    if (bytes <= VKT_INLINE_UPLOAD_BYTES && off % 4 == 0 && bytes % 4 == 0)
        return upload_inline(ctx, dst.buf, b->buffer, off, src, bytes);
    if (b->rebar) {
        // In use: wait for the last frame that used it, not the whole queue.
        VKT_TRY(vkt_frame_wait(ctx, dst.buf->last_use));
        memcpy((char *)b->mem.mapped + off, src, bytes);
        return VKT_OK;
    }
    if (b->mem.mapped) {
        // Earlier recorded work may read or write this range: let it finish first.
        VKT_TRY(vkt_sync(ctx));
        memcpy((char *)b->mem.mapped + off, src, bytes);
        return VKT_OK;
    }
    // The staging buffer is idle here: every transfer through it waits before returning.
    for (uint64_t done = 0; done < bytes; done += VKT_STAGING_BYTES) {
        uint64_t n = bytes - done < VKT_STAGING_BYTES ? bytes - done : VKT_STAGING_BYTES;
        memcpy(ctx->staging.mem.mapped, (const char *)src + done, n);
        VKT_TRY(vkt_frame_begin(ctx));
        dst.buf->last_use = ctx->frames[ctx->cur].serial;
        ctx->bytes_staged += n;
        record_copy(ctx, ctx->staging.buffer, 0, b->buffer, off + done, n);
        VKT_TRY(vkt_sync(ctx));
    }
    return VKT_OK;
}

// A download waits once per chunk: the copy goes in after the work that wrote the data, and
// the wait on that frame covers everything before it.
vkt_status vkt_download(vkt_ctx *ctx, vkt_view src, void *dst, uint64_t bytes) {
    VKT_TRY(check_range(ctx, "download", src, bytes));
    if (bytes == 0) return VKT_OK;
    ctx->bytes_down += bytes;
    vkt_block *b = &ctx->blocks[src.buf->block];
    uint64_t off = src.buf->offset + src.offset;
    // Rebar memory is read through the cached readback copy: reading it over the bus is slow.
    if (b->mem.mapped && !b->rebar) {
        VKT_TRY(vkt_sync(ctx));
        memcpy(dst, (const char *)b->mem.mapped + off, bytes);
        return VKT_OK;
    }
    VKT_TRY(vkt_transfer_buffers(ctx));
    const vkt_host_buffer *rb = vkt_readback_buffer(ctx);
    for (uint64_t done = 0; done < bytes; done += VKT_STAGING_BYTES) {
        uint64_t n = bytes - done < VKT_STAGING_BYTES ? bytes - done : VKT_STAGING_BYTES;
        VKT_TRY(vkt_frame_begin(ctx));
        src.buf->last_use = ctx->frames[ctx->cur].serial;
        ctx->bytes_staged += n;
        record_copy(ctx, b->buffer, off + done, rb->buffer, 0, n);
        VKT_TRY(vkt_sync(ctx));
        memcpy((char *)dst + done, rb->mem.mapped, n);
    }
    return VKT_OK;
}
