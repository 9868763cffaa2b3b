// rope_freq.c: RoPE inverse frequencies, plain, linear and llama3 (see rope_freq.h).
#include "rope_freq.h"

#include <math.h>

static const double TWO_PI = 6.28318530717958647692;

static vkt_status check_spec(const vkt_rope_freq_spec *s, vkt_error *err) {
    if (s->type == VKT_ROPE_FREQ_PLAIN) return VKT_OK;
    if (s->type != VKT_ROPE_FREQ_LINEAR && s->type != VKT_ROPE_FREQ_LLAMA3)
        return vkt_fail(err, VKT_ERR_ARG,
                        "rope_scaling.type=%d must be 0 (plain), 1 (linear) or 2 (llama3)",
                        s->type);
    if (!(s->factor > 0) || !isfinite(s->factor))
        return vkt_fail(err, VKT_ERR_ARG, "rope_scaling.factor=%g must be finite and > 0",
                        s->factor);
    if (s->type == VKT_ROPE_FREQ_LINEAR) return VKT_OK;
    if (!(s->low_freq_factor > 0) || !isfinite(s->low_freq_factor))
        return vkt_fail(err, VKT_ERR_ARG, "rope_scaling.low_freq_factor=%g must be finite and > 0",
                        s->low_freq_factor);
    if (!(s->high_freq_factor > 0) || !isfinite(s->high_freq_factor))
        return vkt_fail(err, VKT_ERR_ARG, "rope_scaling.high_freq_factor=%g must be finite and > 0",
                        s->high_freq_factor);
    // The smooth band divides by high - low; transformers warns on high <= low.
    if (!(s->low_freq_factor < s->high_freq_factor))
        return vkt_fail(err, VKT_ERR_ARG,
                        "rope_scaling.low_freq_factor=%g must be < high_freq_factor=%g",
                        s->low_freq_factor, s->high_freq_factor);
    if (s->original_context <= 0)
        return vkt_fail(err, VKT_ERR_ARG,
                        "rope_scaling.original_context=%d (original_max_position_embeddings) "
                        "must be > 0",
                        s->original_context);
    return VKT_OK;
}

// transformers' _compute_llama3_parameters for one frequency, same strict comparisons.
static double llama3(double inv, const vkt_rope_freq_spec *s) {
    double orig = s->original_context;
    double lo_wl = orig / s->low_freq_factor, hi_wl = orig / s->high_freq_factor;
    double wavelen = TWO_PI / inv;
    if (wavelen < hi_wl) return inv;
    if (wavelen > lo_wl) return inv / s->factor;
    double smooth =
        (orig / wavelen - s->low_freq_factor) / (s->high_freq_factor - s->low_freq_factor);
    return (1 - smooth) * inv / s->factor + smooth * inv;
}

vkt_status vkt_rope_inv_freq(double theta, const vkt_rope_freq_spec *s, int D, double *inv_freq,
                             vkt_error *err) {
    if (!(theta > 0) || !isfinite(theta))
        return vkt_fail(err, VKT_ERR_ARG, "rope: theta=%g must be finite and > 0", theta);
    if (D <= 0 || D % 2 != 0)
        return vkt_fail(err, VKT_ERR_ARG, "rope: D=%d must be even and > 0", D);
    if (!inv_freq) return vkt_fail(err, VKT_ERR_ARG, "rope: inv_freq is NULL");
    if (s) VKT_TRY(check_spec(s, err));
    for (int i = 0; i < D / 2; i++) {
        double inv = pow(theta, -2.0 * i / D);
        if (s && s->type == VKT_ROPE_FREQ_LINEAR) inv /= s->factor;
        if (s && s->type == VKT_ROPE_FREQ_LLAMA3) inv = llama3(inv, s);
        inv_freq[i] = inv;
    }
    return VKT_OK;
}

void vkt_rope_freq_pack(const double *inv, int half, float *hilo) {
    for (int i = 0; i < half; i++) {
        float hi = (float)inv[i];
        hilo[2 * i] = hi;
        hilo[2 * i + 1] = (float)(inv[i] - (double)hi);
    }
}
