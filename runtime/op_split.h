// op_split.h: how ops cover tensors larger than one binding. A tensor is walked in
// chunks of whole rows whose bytes fit the device's binding limit (less an alignment
// margin, since a binding starts at an aligned offset before the view).
#ifndef VKT_OP_SPLIT_H
#define VKT_OP_SPLIT_H

#include <stdint.h>

#include "context.h"

// Largest number of rows of row_bytes each that one binding can hold (>= 1 unless a
// single row is too large, then 0).
uint64_t vkt_rows_per_binding(const vkt_ctx *ctx, uint64_t row_bytes);

#endif
