// cmd_offswitch.h: what the forms of `vkt offswitch` share: the options (cmd_offswitch.c) and
// the pair parsing, device and Monte Carlo used by the sweep and figures (cmd_offswitch_sweep.c).
#ifndef VKT_CMD_OFFSWITCH_H
#define VKT_CMD_OFFSWITCH_H

#include <stdbool.h>
#include <stdint.h>

#include "context.h"
#include "offswitch.h"
#include "offswitch_mc.h"

#define OSW_CMD "offswitch"

typedef struct osw_opts {
    const char *prior, *human, *grid, *out, *plot;
    uint64_t samples, seed;
    int device;
    bool json, cpu;
} osw_opts;

// --prior and --human parsed into *p (freed by the caller on CLI_OK) and *h; else the fault
// printed and CLI_USAGE or CLI_FAILED.
int osw_parse_pair(const osw_opts *o, vkt_offswitch_prior *p, vkt_offswitch_human *h);
// Opens the device for the Monte Carlo (the chosen or default one); *ctx stays NULL, the
// CPU reference, with --cpu or when nothing is sampled.
int osw_open_mc_device(const osw_opts *o, vkt_ctx **ctx);
// The estimate, with progress on stderr for a long run unless --json: on ctx's device (its
// message in ctx), or on the CPU without one (its message in err). Pass vkt_ctx_err(ctx) as
// err when ctx is open, so that err holds the message either way.
vkt_status osw_mc_run(vkt_ctx *ctx, const osw_opts *o, const vkt_offswitch_config *cfg, uint32_t n,
                      vkt_offswitch_mc_result *out, vkt_error *err);

int osw_run_sweep(const osw_opts *o);   // vkt offswitch sweep
int osw_run_figures(const osw_opts *o); // vkt offswitch figures

#endif
