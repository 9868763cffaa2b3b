// fuzz_jsonl.c: libFuzzer target for prompt/completion JSONL training data
// (vkt_dataset_load, byte tokenizer). The reader takes a path, so the input goes through a
// scratch file. Any input either loads or fails with a message naming the file; a loaded
// set gives training and validation batches whose tokens lie in the vocabulary.
// Build: cmake -DVKT_FUZZ=ON -DCMAKE_C_COMPILER=clang. Seeds: tests/fuzz_corpus/fuzz_jsonl.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "fuzz_input_file.h"

enum { B = 2, T = 8 };
static int vocab; // the byte tokenizer's

static void check_rows(const int32_t *tok, const int32_t *tgt, const float *w) {
    for (int i = 0; i < B * T; i++) {
        if (tok[i] < 0 || tok[i] >= vocab || tgt[i] < 0 || tgt[i] >= vocab) abort();
        if (!(w[i] == 0 || w[i] == 1)) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_input_file("data.jsonl", data, size);
    if (!path) return 0;
    vkt_dataset d;
    vkt_error err;
    if (!vocab) {
        vkt_tok *t;
        if (vkt_tok_byte(&t, &err) != VKT_OK) abort();
        vocab = vkt_tok_vocab_size(t);
        vkt_tok_free(t);
    }
    if (vkt_dataset_load(path, VKT_DATA_JSONL, 0.25, &d, &err) != VKT_OK) {
        if (!strstr(err.msg, path)) abort(); // every message names the file
        return 0;
    }
    int32_t tok[B * T], tgt[B * T];
    float w[B * T];
    vkt_rng rng;
    vkt_rng_seed(&rng, size);
    for (int i = 0; i < 4; i++) {
        vkt_dataset_train_batch(&d, B, T, &rng, tok, tgt, w);
        check_rows(tok, tgt, w);
    }
    size_t nval = vkt_dataset_val_batches(&d, B, T);
    for (size_t i = 0; i < nval && i < 8; i++) {
        if (!vkt_dataset_val_batch(&d, i, B, T, tok, tgt, w)) abort();
        check_rows(tok, tgt, w);
    }
    vkt_dataset_free(&d);
    return 0;
}
