// fuzz_gguf.c: libFuzzer target for the GGUF reader and the control-vector loader, from
// memory. Build: cmake -DVKT_FUZZ=ON -DCMAKE_C_COMPILER=clang.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vkt_gguf g;
    vkt_error err;
    if (vkt_gguf_parse_memory(&g, data, size, "fuzz", &err) != VKT_OK) {
        if (!strstr(err.msg, "fuzz")) abort(); // every message names the input
        return 0;
    }
    // Accepted tensors of known size lie inside the data section.
    volatile uint8_t sink = 0;
    for (uint64_t i = 0; i < g.n_tensors; i++) {
        const vkt_gguf_tensor *t = &g.tensors[i];
        if (t->offset > g.data_size || t->nbytes > g.data_size - t->offset) abort();
        const uint8_t *p = vkt_gguf_tensor_data(&g, t);
        if (t->nbytes) sink ^= p[0] ^ p[t->nbytes - 1];
    }
    (void)sink;
    vkt_control_vector cv;
    if (vkt_control_vector_from_gguf(&cv, &g, &err) == VKT_OK) {
        for (int l = 1; l <= cv.max_layer; l++) {
            const float *v = vkt_control_vector_layer(&cv, l);
            if (v) sink ^= ((const volatile uint8_t *)&v[cv.n_embd - 1])[3]; // bits: may be NaN
        }
        vkt_control_vector_free(&cv);
    }
    vkt_gguf_close(&g);
    return 0;
}
