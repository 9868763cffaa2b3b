// cli_device.h: opening the device a command asked for (--device N, VKT_DEVICE), with
// the CPU-device warning printed once.
#ifndef VKT_CLI_DEVICE_H
#define VKT_CLI_DEVICE_H

#include "context.h"

// Returns CLI_OK with *ctx set, or prints the error and returns CLI_FAILED / CLI_USAGE.
// device < 0 means "not given on the command line".
int cli_open_device(const char *cmd, int device, vkt_ctx **ctx);

#endif
