// gen_config.h: the sampling defaults a checkpoint's generation_config.json states
// (transformers' GenerationConfig: do_sample, temperature, top_k, top_p), applied where a
// command was not told otherwise. Only what the file states counts: a file without
// do_sample leaves vkt's defaults (transformers would decode greedily), do_sample false
// means greedy.
#ifndef VKT_GEN_CONFIG_H
#define VKT_GEN_CONFIG_H

#include <stdbool.h>

#include "generate.h"
#include "status.h"

enum {
    VKT_GENCFG_TEMPERATURE = 1,
    VKT_GENCFG_TOP_K = 2,
    VKT_GENCFG_TOP_P = 4,
    VKT_GENCFG_GREEDY = 8
};

// Applies DIR/generation_config.json's sampling to o for each setting whose bit is not in
// `given`; *applied gets the bits it set (0 when the file is absent or states none). A file
// that is not JSON, or a value of the wrong type or range, is an error naming the file and key.
vkt_status vkt_gen_config_apply(const char *dir, unsigned given, vkt_gen_opts *o, unsigned *applied,
                                vkt_error *err);

#endif
