// loss_scale.h: dynamic loss scaling for fp16 training (Micikevicius et al. 2018, arXiv
// 1710.03740; the rule of torch.cuda.amp.GradScaler). The loss, and so every gradient, is
// multiplied by S before the backward, keeping small fp16 gradients from flushing to zero;
// AdamW divides S out. A step whose gradients are not finite is skipped (no update) and S
// halves; after `interval` finite steps in a row S doubles.
#ifndef VKT_LOSS_SCALE_H
#define VKT_LOSS_SCALE_H

#include <stdbool.h>

typedef struct vkt_loss_scaler {
    bool on;      // false: S stays 1 and nothing is ever skipped for it
    double scale; // S, a power of two in [1, 2^24]
    int good;     // finite steps since S last changed
    int interval; // finite steps before S doubles (2000)
    int skipped;  // steps skipped for non-finite gradients
} vkt_loss_scaler;

// on: S = 2^16 (or the saved scale / good count of a resumed run when scale > 0).
void vkt_loss_scaler_init(vkt_loss_scaler *s, bool on, double scale, int good);
// A step's gradients were finite: true (apply it; S may double). Not finite: S halves and the
// step is to be skipped: true while S was above 1, false when it already was 1 (the overflow is
// not the scale's doing: the run diverged).
bool vkt_loss_scaler_update(vkt_loss_scaler *s, bool finite);

#endif
