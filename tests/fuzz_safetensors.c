// fuzz_safetensors.c: libFuzzer target for the safetensors reader. Parses the input from
// memory; when it is accepted, reads every tensor it can convert, which must stay inside
// the input (ASan checks). Build: cmake -DVKT_FUZZ=ON -DCMAKE_C_COMPILER=clang.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vkt_safetensors st;
    vkt_error err;
    if (vkt_safetensors_parse_memory(&st, data, size, "fuzz", &err) != VKT_OK) {
        if (!strstr(err.msg, "fuzz")) abort(); // every message names the input
        return 0;
    }
    for (int i = 0; i < st.n_tensors; i++) {
        const vkt_st_tensor *t = &st.tensors[i];
        if (t->end > st.data_size || t->begin > t->end) abort();
        float *out = malloc((size_t)t->numel * sizeof(float) + 1);
        if (!out) continue;
        vkt_status s = vkt_safetensors_read_f32(&st, t->name, out, t->numel, &err);
        vkt_st_dtype d = t->dtype;
        int floaty = d == VKT_ST_F32 || d == VKT_ST_F16 || d == VKT_ST_BF16 || d == VKT_ST_F64;
        if ((s == VKT_OK) != floaty) abort();
        free(out);
    }
    vkt_safetensors_meta(&st, "format");
    vkt_safetensors_close(&st);
    return 0;
}
