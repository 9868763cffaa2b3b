// cli_out_dir.h: what a run command (vkt train, vkt selfplay) may do with its --out
// directory: continue its own kind of run only with --resume, replace it only with
// --overwrite, and never write into a run of the other kind or over a model by accident.
#ifndef VKT_CLI_OUT_DIR_H
#define VKT_CLI_OUT_DIR_H

#include <stdbool.h>

#include "checkpoint_dir.h"

// CLI_OK, or the usage error printed (CLI_USAGE). mine: VKT_RUNDIR_TRAIN or _SELFPLAY.
int cli_check_out_dir(const char *cmd, const char *out, vkt_rundir_kind mine, bool resume,
                      bool overwrite);

#endif
