#include "op_split.h"

uint64_t vkt_rows_per_binding(const vkt_ctx *ctx, uint64_t row_bytes) {
    const vkt_profile *p = vkt_ctx_profile(ctx);
    uint64_t margin = (p->storage_align > p->texel_align ? p->storage_align : p->texel_align) + 16;
    if (row_bytes == 0 || p->max_binding_bytes <= margin) return 0;
    return (p->max_binding_bytes - margin) / row_bytes;
}
