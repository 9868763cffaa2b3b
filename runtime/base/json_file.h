// json_file.h: JSON files (config.json, metrics summaries) read with an error that says
// where the text is wrong, and written atomically (temp file + rename).
#ifndef VKT_JSON_FILE_H
#define VKT_JSON_FILE_H

#include <jansson.h>

#include "status.h"

// Reads path into *out (a new reference the caller json_decref's). Errors name the file
// and, for bad JSON, the line and column: "run/config.json:3:14: ...". Duplicate keys
// are rejected. When want_object is non-zero the top level must be an object.
vkt_status vkt_json_file_read(const char *path, int want_object, json_t **out, vkt_error *err);

// Writes value to path, indented by 2, keys in insertion order, with a final newline,
// through a temporary file renamed into place.
vkt_status vkt_json_file_write(const char *path, const json_t *value, vkt_error *err);

#endif
