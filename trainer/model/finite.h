// finite.h: finding non-finite numbers (NaN, +inf, -inf) before they are used or reported.
// A run whose numbers are not finite has failed (DESIGN.md): loaders and reports call these
// and refuse, naming where the first non-finite value is, unless the user allowed it
// (--allow-nonfinite).
#ifndef VKT_FINITE_H
#define VKT_FINITE_H

#include <stddef.h>
#include <stdint.h>

#include "model_config.h"
#include "status.h"

// Index of the first non-finite value of x[0..n), or -1 when all are finite.
int64_t vkt_first_nonfinite(const float *x, size_t n);
int64_t vkt_first_nonfinite_f64(const double *x, size_t n);

// params (ps->total floats, ps's layout) all finite; else VKT_ERR_FORMAT naming `path`, the
// tensor and the flat index within it of the first non-finite value.
vkt_status vkt_params_check_finite(const vkt_params *ps, const float *params, const char *path,
                                   vkt_error *err);

#endif
