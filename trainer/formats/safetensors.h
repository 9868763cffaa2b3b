// safetensors.h: read and write .safetensors files (the Hugging Face checkpoint format).
//
// Layout: 8-byte little-endian header length N, N bytes of JSON
//   {"__metadata__": {str: str}, "<name>": {"dtype": "F32", "shape": [..],
//    "data_offsets": [begin, end]}, ...}
// padded with spaces, then the data section; offsets are relative to its start.
//
// The reader accepts exactly what the safetensors library accepts and names the file
// and the fault otherwise: tensors must tile the data section (sorted by offset, no gap,
// no overlap, the last one ending at the end of the file) and each byte range must be
// product(shape) * dtype size. Files are mapped, not copied, so a 500 MB checkpoint
// costs 500 MB of page cache and nothing more.
//
// The writer writes F32 only, tensors sorted by name (what the library does for a file
// of one dtype), the header in the library's compact JSON with "__metadata__" first and
// its keys sorted, padded with spaces to a multiple of 8, to a temporary file renamed
// into place (atomic_file.h). For F32 tensors its bytes equal those of
// safetensors.torch.save_file when there is at most one metadata key (the library's
// metadata order is a hash order).
#ifndef VKT_SAFETENSORS_H
#define VKT_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "half.h" // vkt_f16_to_f32, vkt_bf16_to_f32 (used by the reader)
#include "status.h"

#define VKT_ST_MAX_DIMS 8
#define VKT_ST_MAX_HEADER 100000000ull // the library's limit (100 MB)

// In the library's order (increasing alignment); names as in the header.
typedef enum vkt_st_dtype {
    VKT_ST_BOOL,
    VKT_ST_U8,
    VKT_ST_I8,
    VKT_ST_F8_E5M2,
    VKT_ST_F8_E4M3,
    VKT_ST_I16,
    VKT_ST_U16,
    VKT_ST_F16,
    VKT_ST_BF16,
    VKT_ST_I32,
    VKT_ST_U32,
    VKT_ST_F32,
    VKT_ST_F64,
    VKT_ST_I64,
    VKT_ST_U64,
    VKT_ST_DTYPE_COUNT
} vkt_st_dtype;

typedef struct vkt_st_tensor {
    char *name;
    vkt_st_dtype dtype;
    int ndim;                       // 0 = scalar (one element)
    int64_t shape[VKT_ST_MAX_DIMS]; // row-major, last dim fastest
    int64_t numel;
    uint64_t begin, end; // byte range in the data section
} vkt_st_tensor;

typedef struct vkt_safetensors {
    char *path; // the file name, or the name given to parse_memory
    int n_tensors;
    vkt_st_tensor *tensors; // sorted by begin offset
    int n_meta;
    char **meta_keys, **meta_values;
    const uint8_t *data; // start of the data section
    uint64_t data_size;
    void *map; // mmap of the file (NULL for parse_memory)
    size_t map_size;
} vkt_safetensors;

// Maps and validates path. On failure *st is left empty (close is still safe).
vkt_status vkt_safetensors_open(vkt_safetensors *st, const char *path, vkt_error *err);
// Validates a file image in memory (borrowed: buf must outlive st). name is used in
// messages in place of a file name.
vkt_status vkt_safetensors_parse_memory(vkt_safetensors *st, const void *buf, size_t size,
                                        const char *name, vkt_error *err);
void vkt_safetensors_close(vkt_safetensors *st);

const char *vkt_st_dtype_name(vkt_st_dtype d);
size_t vkt_st_dtype_size(vkt_st_dtype d);

// NULL when absent.
const vkt_st_tensor *vkt_safetensors_find(const vkt_safetensors *st, const char *name);
const char *vkt_safetensors_meta(const vkt_safetensors *st, const char *key);
// Raw little-endian bytes of t (end - begin of them).
const void *vkt_safetensors_bytes(const vkt_safetensors *st, const vkt_st_tensor *t);

// Copies tensor `name` into out as float32, converting F16, BF16 and F64 (rounded to
// nearest); other dtypes fail with VKT_ERR_UNSUPPORTED. count must equal its numel.
vkt_status vkt_safetensors_read_f32(const vkt_safetensors *st, const char *name, float *out,
                                    int64_t count, vkt_error *err);

// One tensor to write: shape[0..ndim) and numel floats in row-major order.
typedef struct vkt_st_entry {
    const char *name;
    int ndim;
    const int64_t *shape;
    const float *data;
} vkt_st_entry;

// Writes F32 tensors and optional metadata (meta[2i] = key, meta[2i+1] = value) to path
// atomically. Names must be distinct, non-empty, valid UTF-8 and not "__metadata__".
vkt_status vkt_safetensors_write(const char *path, const vkt_st_entry *entries, int n,
                                 const char *const *meta, int n_meta, vkt_error *err);

#endif
