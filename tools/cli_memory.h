// cli_memory.h: the device-memory budget a user states (--device-memory SIZE, or the
// VKT_DEVICE_MEMORY environment variable), which the fit checks use instead of the
// device's heap, so "fits in 4 GiB" can be checked on a larger device.
#ifndef VKT_CLI_MEMORY_H
#define VKT_CLI_MEMORY_H

#include <stdbool.h>
#include <stdint.h>

// *out = SIZE of v when v != NULL, else of VKT_DEVICE_MEMORY when set and not empty, else 0
// (no budget: the device's heap). SIZE is bytes, or a number with K, M, G or T, optionally
// followed by B or iB, all binary ("4G" = "4GiB" = "4GB" = 4 x 2^30). Returns CLI_OK, or
// prints what is wrong and returns CLI_USAGE.
int cli_device_memory(const char *cmd, const char *v, uint64_t *out);

// A byte size: a positive number with an optional K/M/G/T (binary) and an optional B or iB
// ("4G", "512M", "1.5GiB", "680K"); false for anything else or past 1e18.
bool cli_parse_size(const char *s, uint64_t *out);

#endif
