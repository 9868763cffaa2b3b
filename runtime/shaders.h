// shaders.h: the embedded SPIR-V table generated at build time from shaders/.
#ifndef VKT_SHADERS_H
#define VKT_SHADERS_H
#include <stddef.h>
#include <stdint.h>

typedef struct vkt_shader_blob {
    const char *name;     // shader file basename, or variant name from variants.cmake
    const uint32_t *code; // SPIR-V words
    size_t bytes;
} vkt_shader_blob;

extern const vkt_shader_blob vkt_shader_blobs[]; // terminated by a NULL name
extern const int vkt_shader_blob_count;

#endif
