// fuzz_model_config.c: libFuzzer target for config.json (vkt_model_config_from_json): any
// input either reads or fails with a message naming it; a config it accepts passes the
// shape checks, builds its parameter table without overflow (UBSan watches the arithmetic)
// and survives a write and a re-read unchanged.
// Build: cmake -DVKT_FUZZ=ON -DCMAKE_C_COMPILER=clang. Seeds: tests/fuzz_corpus/fuzz_model_config.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    vkt_model_config c;
    vkt_error err;
    vkt_status s = vkt_model_config_from_json(text, "fuzz", &c, &err);
    free(text);
    if (s != VKT_OK) {
        if (!strstr(err.msg, "fuzz")) abort(); // every message names the file
        return 0;
    }
    if (vkt_model_config_check(&c, &err) != VKT_OK) abort(); // from_json checked it already
    // config_check bounds layers (4096) and parameters, so the table stays small.
    vkt_params ps;
    if (vkt_params_build(&c, &ps, &err) == VKT_OK) vkt_params_free(&ps);
    char *out = NULL;
    if (vkt_model_config_to_json(&c, &out, &err) != VKT_OK) abort();
    vkt_model_config back;
    if (vkt_model_config_from_json(out, "fuzz-again", &back, &err) != VKT_OK) abort();
    free(out);
    if (back.family != c.family || back.vocab != c.vocab || back.context != c.context ||
        back.layers != c.layers || back.heads != c.heads || back.kv_heads != c.kv_heads ||
        back.width != c.width || back.ffn != c.ffn || back.tied != c.tied)
        abort(); // what vkt writes, it reads back as the same shape
    return 0;
}
