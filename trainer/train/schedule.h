// schedule.h: learning rate with linear warmup then cosine decay (as llm.c and nanoGPT).
//   step < warmup:  lr * (step + 1) / warmup
//   afterwards:     min_lr + (lr - min_lr) * 0.5 * (1 + cos(pi * progress)),
//                   progress = (step - warmup) / max(1, total - warmup) in [0, 1]
#ifndef VKT_SCHEDULE_H
#define VKT_SCHEDULE_H

#include <math.h>

static inline double vkt_lr_at(int step, int total, int warmup, double lr, double min_lr) {
    if (step < warmup) return lr * (double)(step + 1) / (double)warmup;
    int span = total - warmup > 1 ? total - warmup : 1;
    double progress = (double)(step - warmup) / (double)span;
    if (progress > 1) progress = 1;
    return min_lr + (lr - min_lr) * 0.5 * (1.0 + cos(3.14159265358979323846 * progress));
}

#endif
