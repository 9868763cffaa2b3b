// gguf.h: GGUF v3 (ggml's file format, docs/gguf.md), read generically and written for
// llama.cpp control vectors.
//
// File: "GGUF", uint32 version, uint64 tensor count, uint64 KV count, the KVs (string key,
// uint32 type, value), the tensor infos (string name, uint32 n_dims, uint64 dims[n_dims]
// with dims[0] fastest, uint32 ggml type, uint64 offset), zero padding to the alignment
// (general.alignment, default 32), then the data section; every tensor offset is a
// multiple of the alignment and every tensor is followed by zero padding up to the next
// multiple. Strings are uint64 length + bytes. All little-endian.
//
// The reader parses every KV type (0..12, arrays of arrays included) and keeps scalars
// and strings; array contents are skipped (their type and count kept). It rejects, naming
// the file and the fault: bad magic, versions other than 2 and 3 (v2 has the same layout),
// a big-endian file, a cut anywhere (every proper prefix of a valid file fails), string
// lengths past the end, KV or tensor counts > 1e6 or larger than the bytes left could
// hold, duplicate keys or tensor names, n_dims > 4, a bad general.alignment, offsets not
// aligned, out of range or overlapping.
#ifndef VKT_GGUF_H
#define VKT_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

typedef enum vkt_gguf_type {
    VKT_GGUF_UINT8 = 0,
    VKT_GGUF_INT8 = 1,
    VKT_GGUF_UINT16 = 2,
    VKT_GGUF_INT16 = 3,
    VKT_GGUF_UINT32 = 4,
    VKT_GGUF_INT32 = 5,
    VKT_GGUF_FLOAT32 = 6,
    VKT_GGUF_BOOL = 7,
    VKT_GGUF_STRING = 8,
    VKT_GGUF_ARRAY = 9,
    VKT_GGUF_UINT64 = 10,
    VKT_GGUF_INT64 = 11,
    VKT_GGUF_FLOAT64 = 12,
    VKT_GGUF_TYPE_COUNT
} vkt_gguf_type;

#define VKT_GGML_TYPE_F32 0
#define VKT_GGUF_MAX_DIMS 4
#define VKT_GGUF_MAX_COUNT 1000000u
#define VKT_GGUF_DEFAULT_ALIGNMENT 32

typedef struct vkt_gguf_kv {
    char *key;
    vkt_gguf_type type;
    // scalars: the value in the widest type of its kind
    uint64_t u; // UINT*, BOOL
    int64_t i;  // INT*
    double f;   // FLOAT*
    char *str;  // STRING (NUL-terminated; str_len bytes, may hold NULs)
    uint64_t str_len;
    vkt_gguf_type arr_type; // ARRAY: element type and count (contents skipped)
    uint64_t arr_n;
} vkt_gguf_kv;

typedef struct vkt_gguf_tensor {
    char *name;
    uint32_t n_dims;
    uint64_t dims[VKT_GGUF_MAX_DIMS]; // dims[0] fastest
    uint32_t type;                    // ggml type; 0 = F32
    uint64_t offset;                  // in the data section
    uint64_t nbytes;                  // 0 when the type's size is not known to vkt
} vkt_gguf_tensor;

typedef struct vkt_gguf {
    char *path;
    uint32_t version;
    uint32_t alignment;
    uint64_t n_kv, n_tensors;
    vkt_gguf_kv *kv;
    vkt_gguf_tensor *tensors;
    const uint8_t *data; // data section
    uint64_t data_size;
    void *map; // mmap of the file (NULL for parse_memory)
    size_t map_size;
} vkt_gguf;

vkt_status vkt_gguf_open(vkt_gguf *g, const char *path, vkt_error *err);
// Parses a file image in memory (borrowed); name stands for the file in messages.
vkt_status vkt_gguf_parse_memory(vkt_gguf *g, const void *buf, size_t size, const char *name,
                                 vkt_error *err);
void vkt_gguf_close(vkt_gguf *g);

const vkt_gguf_kv *vkt_gguf_find_kv(const vkt_gguf *g, const char *key);
const vkt_gguf_tensor *vkt_gguf_find_tensor(const vkt_gguf *g, const char *name);
// Bytes of t's data (t->nbytes of them when known).
const void *vkt_gguf_tensor_data(const vkt_gguf *g, const vkt_gguf_tensor *t);
const char *vkt_gguf_type_name(vkt_gguf_type t);

// --- control vectors (llama.cpp --control-vector, repeng) ------------------------------
//
// general.architecture = "controlvector" (a file naming another architecture is refused;
// a missing key is accepted), controlvector.model_hint (string, optional on read),
// controlvector.layer_count (uint32 as repeng writes it, int32 as llama.cpp's generator
// does; optional on read), one F32 1-D tensor direction.N per layer, N >= 1 the output of
// block N, all of one length. Other tensors are refused, as llama.cpp does.

typedef struct vkt_control_vector {
    char *model_hint;    // "" when absent
    int64_t layer_count; // controlvector.layer_count, -1 when absent
    int n_embd;          // length of every direction
    int max_layer;       // largest N present
    float *data;         // (max_layer, n_embd): row N-1 = direction.N, zeros when absent
    uint8_t *present;    // (max_layer): 1 where direction.N is in the file
} vkt_control_vector;

// A direction holding NaN or inf is refused (naming file, tensor and index) unless allow_nonfinite.
vkt_status vkt_control_vector_load(vkt_control_vector *cv, const char *path, vkt_error *err);
vkt_status vkt_control_vector_load_opt(vkt_control_vector *cv, const char *path,
                                       bool allow_nonfinite, vkt_error *err);
vkt_status vkt_control_vector_check_finite(const vkt_control_vector *cv, const char *path,
                                           vkt_error *err);
vkt_status vkt_control_vector_from_gguf(vkt_control_vector *cv, const vkt_gguf *g, vkt_error *err);
void vkt_control_vector_free(vkt_control_vector *cv);
// direction.layer (n_embd floats), or NULL when the file has none for that layer.
const float *vkt_control_vector_layer(const vkt_control_vector *cv, int layer);

// Writes n directions: layers[i] >= 1 (distinct) and dirs[i * n_embd ..] its vector,
// with layer_count as uint32, atomically. Tensors are written in increasing layer order.
vkt_status vkt_control_vector_write(const char *path, const char *model_hint, uint32_t layer_count,
                                    int n_embd, int n, const int *layers, const float *dirs,
                                    vkt_error *err);

#endif
