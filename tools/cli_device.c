#include <stdio.h>

#include "cli.h"
#include "cli_device.h"

int cli_open_device(const char *cmd, int device, vkt_ctx **ctx) {
    vkt_ctx_options o = vkt_ctx_default_options();
    o.device = device;
    vkt_error err = {0};
    vkt_status s = vkt_ctx_create(&o, ctx, &err);
    if (s != VKT_OK) {
        fprintf(stderr, "vkt %s: %s\n", cmd, err.msg);
        return s == VKT_ERR_ARG ? CLI_USAGE : CLI_FAILED;
    }
    const char *w = vkt_ctx_warning(*ctx);
    if (w) fprintf(stderr, "vkt: %s\n", w);
    return CLI_OK;
}
