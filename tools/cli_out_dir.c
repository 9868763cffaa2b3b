// cli_out_dir.c: see cli_out_dir.h.
#include "cli_out_dir.h"
#include "cli.h"

int cli_check_out_dir(const char *cmd, const char *out, vkt_rundir_kind mine, bool resume,
                      bool overwrite) {
    if (resume && overwrite)
        return cli_usage_error(cmd, "--resume and --overwrite exclude each other");
    const bool train = mine == VKT_RUNDIR_TRAIN;
    const char *run = train ? "training" : "self-play",
               *state = train ? "trainer_state.json" : "rl_state.json";
    vkt_rundir_kind k = vkt_ckpt_dir_kind(out);
    if (k == mine) {
        if (!resume && !overwrite)
            return cli_usage_error(
                cmd,
                "--out %s holds a %s checkpoint: pass --resume to continue it or "
                "--overwrite to replace it",
                out, run);
        return CLI_OK;
    }
    switch (k) {
    case VKT_RUNDIR_TRAIN:
    case VKT_RUNDIR_SELFPLAY:
        return cli_usage_error(
            cmd,
            "--out %s holds %s, not %s: vkt %s does not write into it; choose another "
            "--out",
            out, vkt_rundir_kind_name(k), vkt_rundir_kind_name(mine), cmd);
    case VKT_RUNDIR_MODEL:
        if (resume)
            return cli_usage_error(cmd, "--out %s holds a model but no %s run to resume (no %s)",
                                   out, run, state);
        if (!overwrite)
            return cli_usage_error(
                cmd,
                "--out %s holds a model (config.json / model.safetensors) that is not a vkt "
                "run: pass --overwrite to replace it, or choose another --out",
                out);
        return CLI_OK;
    case VKT_RUNDIR_NONE:
        if (resume) return cli_usage_error(cmd, "--resume: %s holds no %s run to resume", out, run);
        return CLI_OK;
    }
    return CLI_OK;
}
