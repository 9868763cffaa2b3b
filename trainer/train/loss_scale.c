// loss_scale.c: see loss_scale.h.
#include "loss_scale.h"

void vkt_loss_scaler_init(vkt_loss_scaler *s, bool on, double scale, int good) {
    *s = (vkt_loss_scaler){on, 1.0, 0, 2000, 0};
    if (!on) return;
    s->scale = scale >= 1 ? scale : 65536.0;
    s->good = good > 0 ? good : 0;
}

bool vkt_loss_scaler_update(vkt_loss_scaler *s, bool finite) {
    if (finite) {
        if (s->on && ++s->good >= s->interval) {
            if (s->scale < 16777216.0) s->scale *= 2;
            s->good = 0;
        }
        return true;
    }
    if (!s->on || s->scale <= 1) return false;
    s->scale /= 2;
    s->good = 0;
    s->skipped++;
    return true;
}
