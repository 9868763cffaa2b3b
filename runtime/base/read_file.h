// read_file.h: a whole file into memory, with an error that names the file.
#ifndef VKT_READ_FILE_H
#define VKT_READ_FILE_H

#include <stddef.h>

#include "status.h"

// Reads path into a new buffer *out (free()), NUL-terminated after its *len bytes.
vkt_status vkt_read_file(const char *path, char **out, size_t *len, vkt_error *err);

#endif
