// fuzz_train_state.c: libFuzzer target for trainer_state.json (vkt_train_state_read, which
// takes a path, so the input goes through a scratch file). Any input either reads or fails
// with a message naming the file; a state it accepts is written and read back with the
// same step, RNG state and options.
// Build: cmake -DVKT_FUZZ=ON -DCMAKE_C_COMPILER=clang. Seeds: tests/fuzz_corpus/fuzz_train_state.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input_file.h"
#include "train_state.h"

static void die(const char *what, const vkt_error *err) {
    fprintf(stderr, "fuzz_train_state: %s: %s\n", what, err->msg);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_input_file("trainer_state.json", data, size);
    if (!path) return 0;
    vkt_train_opts saved, again;
    vkt_train_state st, st2;
    vkt_error err;
    if (vkt_train_state_read(path, &saved, &st, &err) != VKT_OK) {
        if (!strstr(err.msg, path)) abort(); // every message names the file
        return 0;
    }
    if (saved.min_lr < 0) saved.min_lr = saved.lr / 10; // as train.c resolves it before saving
    char out[600];
    snprintf(out, sizeof out, "%s.out", path);
    if (vkt_train_state_write(out, &saved, &st, &err) != VKT_OK) die("writing", &err);
    if (vkt_train_state_read(out, &again, &st2, &err) != VKT_OK) die("re-reading", &err);
    if (st2.step != st.step || memcmp(&st2.rng, &st.rng, sizeof st.rng) || again.lr != saved.lr ||
        again.batch != saved.batch || again.seq != saved.seq || again.steps != saved.steps ||
        again.seed != saved.seed || again.format != saved.format)
        abort();
    vkt_train_state_free(&st2);
    vkt_train_state_free(&st);
    remove(out);
    return 0;
}
