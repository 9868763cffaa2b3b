// finite.c: see finite.h.
#include <math.h>

#include "finite.h"

int64_t vkt_first_nonfinite(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return (int64_t)i;
    return -1;
}

int64_t vkt_first_nonfinite_f64(const double *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return (int64_t)i;
    return -1;
}

vkt_status vkt_params_check_finite(const vkt_params *ps, const float *params, const char *path,
                                   vkt_error *err) {
    for (int i = 0; i < ps->n; i++) {
        const vkt_param *p = &ps->p[i];
        int64_t at = vkt_first_nonfinite(params + p->offset, p->count);
        if (at >= 0)
            return vkt_fail(
                err, VKT_ERR_FORMAT,
                "%s: tensor '%s' holds a non-finite value (%g at index %lld): the weights have "
                "diverged (--allow-nonfinite loads them anyway)",
                path, p->name, (double)params[p->offset + (size_t)at], (long long)at);
    }
    return VKT_OK;
}
