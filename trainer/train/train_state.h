// train_state.h: trainer_state.json, what a resumed run needs besides weights and moments:
// the step, the data order's RNG state, the options that shape the run and the identity
// (size, FNV-1a 64) of the data it trains on. Read with every field checked (type, range,
// overflow), each error naming the file and the key; merged with a resumed run's options by
// the rules in train.h (a changed option is honoured and recorded, or refused).
#ifndef VKT_TRAIN_STATE_H
#define VKT_TRAIN_STATE_H

#include <jansson.h>

#include "train.h"

typedef struct vkt_train_state {
    int step;
    vkt_rng rng;
    char data[4096]; // the data file's path
    uint64_t data_bytes, data_hash;
    bool has_data_hash; // files of older vkt lack it
    json_t *changes;    // options resumed runs changed: [{"step", "option", "from", "to"}]
    int precision;      // VKT_PREC_* the weights were last trained in
    double loss_scale;  // fp16: the dynamic loss scale and its finite steps (0: none saved)
    int loss_scale_good;
} vkt_train_state;

vkt_status vkt_train_state_write(const char *path, const vkt_train_opts *o,
                                 const vkt_train_state *st, vkt_error *err);
// Reads path into *st and the saved options into *saved (vkt_train_defaults for keys an older
// file lacks; "step" and "data_rng" are required). saved->data points into st.
vkt_status vkt_train_state_read(const char *path, vkt_train_opts *saved, vkt_train_state *st,
                                vkt_error *err);
// A resumed run's options: o's given ones where the rules allow, the saved ones elsewhere.
// data_bytes / data_hash: of the file the run will read (o->data, or saved->data when NULL).
// Honoured changes are appended to st->changes and told through o->notice.
vkt_status vkt_train_state_merge(vkt_train_opts *o, const vkt_train_opts *saved,
                                 vkt_train_state *st, uint64_t data_bytes, uint64_t data_hash,
                                 vkt_error *err);
void vkt_train_state_free(vkt_train_state *st);

#endif
