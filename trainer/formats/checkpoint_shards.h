// checkpoint_shards.h: the tensors of a model directory, mapped read-only, whether they lie in
// one DIR/model.safetensors or in shards listed by DIR/model.safetensors.index.json
//   {"metadata": {...}, "weight_map": {"<tensor name>": "<shard file name>", ...}}
// (the single file wins when both are there, as in transformers). Opening validates the whole
// set: every shard named by the index opens and parses (safetensors.h), lies in DIR (no '/' or
// '..' in its name), holds every tensor the index places in it and no other. A tensor's bytes
// are handed out as they are in the file (for callers that keep 16-bit weights), or converted
// to floats one tensor at a time, so a model costs its mapped files and one float copy.
#ifndef VKT_CHECKPOINT_SHARDS_H
#define VKT_CHECKPOINT_SHARDS_H

#include <stdbool.h>
#include <stdint.h>

#include "safetensors.h"
#include "status.h"

typedef struct vkt_ckpt vkt_ckpt;

// One tensor of an open checkpoint; pointers valid until vkt_checkpoint_close.
typedef struct vkt_ckpt_tensor {
    const char *name;
    const char *file; // path of the file that holds it (for messages)
    vkt_st_dtype dtype;
    int ndim;
    const int64_t *shape; // ndim sizes, row-major
    int64_t numel;
    const void *bytes; // little-endian, in the read-only mapping
    uint64_t nbytes;
} vkt_ckpt_tensor;

// Opens DIR's tensors. Errors name the file at fault (the index, or a shard and a tensor it
// should hold); a directory with neither file is VKT_ERR_IO naming DIR/model.safetensors.
vkt_status vkt_checkpoint_open(const char *dir, vkt_ckpt **out, vkt_error *err);
void vkt_checkpoint_close(vkt_ckpt *h);
// DIR/model.safetensors or DIR/model.safetensors.index.json: what messages about the set name.
const char *vkt_checkpoint_path(const vkt_ckpt *h);
// Tensors by index 0..count-1, sorted by name.
int vkt_checkpoint_count(const vkt_ckpt *h);
const char *vkt_checkpoint_name(const vkt_ckpt *h, int i);
// The tensor called name, or VKT_ERR_FORMAT "<path>: missing tensor '<name>'".
vkt_status vkt_checkpoint_tensor(const vkt_ckpt *h, const char *name, vkt_ckpt_tensor *out,
                                 vkt_error *err);
bool vkt_checkpoint_has(const vkt_ckpt *h, const char *name);

// F32, F16 or BF16 (what pretrained weights come in); other dtypes are VKT_ERR_UNSUPPORTED
// naming the file, the tensor and the dtype.
vkt_status vkt_ckpt_tensor_check_dtype(const vkt_ckpt_tensor *t, vkt_error *err);
// Index of the first NaN or infinity in t (F32/F16/BF16), -1 when none; *value gets it.
int64_t vkt_ckpt_tensor_first_nonfinite(const vkt_ckpt_tensor *t, float *value);
// t's numel values as floats (F32/F16/BF16, checked by check_dtype; bf16 and f16 exactly).
void vkt_ckpt_tensor_to_f32(const vkt_ckpt_tensor *t, float *out);

#endif
