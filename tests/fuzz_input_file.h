// fuzz_input_file.h: for fuzz targets whose parser reads a path: the input written to one
// scratch file per process (under $TMPDIR, /tmp by default), rewritten for every input.
#ifndef VKT_FUZZ_INPUT_FILE_H
#define VKT_FUZZ_INPUT_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

// The scratch path holding data[0..size), or NULL when it cannot be written.
static const char *fuzz_input_file(const char *suffix, const uint8_t *data, size_t size) {
    static char path[512];
    if (!path[0]) {
        const char *tmp = getenv("TMPDIR");
        if (!tmp || !*tmp) tmp = "/tmp";
        snprintf(path, sizeof path, "%s/vkt-fuzz-%ld-%s", tmp, (long)getpid(), suffix);
    }
    FILE *f = fopen(path, "wb");
    if (!f) return NULL;
    size_t n = fwrite(data, 1, size, f);
    if (fclose(f) != 0 || n != size) return NULL;
    return path;
}

#endif
