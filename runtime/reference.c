// reference.c: compiles reference_impl.h twice, once per precision (see reference.h).
#include "reference.h"

#include <math.h>
#include <stdlib.h>

#include "shape_check.h"

static const double REF_PI = 3.14159265358979323846;

// A required pointer argument: NULL is a caller error that names the argument.
static vkt_status need(const char *op, const char *name, const void *p, vkt_error *err) {
    if (!p) return vkt_fail(err, VKT_ERR_ARG, "%s: %s is NULL", op, name);
    return VKT_OK;
}

#define REF_CAT2(a, b) a##b
#define REF_CAT(a, b) REF_CAT2(a, b)
#define FN(name) REF_CAT(name, SUF)

#define REAL float
#define SUF
#include "reference_impl.h"
#undef REAL
#undef SUF

#define REAL double
#define SUF _f64
#include "reference_impl.h"
#undef REAL
#undef SUF

vkt_status vkt_ref_clip_factor(double norm, double max_norm, double *factor, vkt_error *err) {
    if (!(norm >= 0))
        return vkt_fail(err, VKT_ERR_ARG, "clip_factor: norm=%g must be >= 0", norm);
    if (!(max_norm > 0))
        return vkt_fail(err, VKT_ERR_ARG, "clip_factor: max_norm=%g must be > 0", max_norm);
    if (!factor) return vkt_fail(err, VKT_ERR_ARG, "clip_factor: factor is NULL");
    double f = max_norm / (norm + 1e-6);
    *factor = f < 1.0 ? f : 1.0;
    return VKT_OK;
}
