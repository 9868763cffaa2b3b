// rope_freq.h: the RoPE inverse frequencies inv_freq[i], i < D/2, in double, plain or
// scaled as Hugging Face transformers does for pretrained checkpoints
// (modeling_rope_utils.py):
//   plain  (rope_type "default"): inv[i] = theta^(-2i/D)
//   linear (_compute_linear_scaling_rope_parameters): inv[i] / factor
//   llama3 (_compute_llama3_parameters), with wavelen = 2 pi / inv[i],
//     lo_wl = original_context / low_freq_factor, hi_wl = original_context / high_freq_factor:
//     wavelen < hi_wl            -> inv[i]                      (high frequencies kept)
//     wavelen > lo_wl            -> inv[i] / factor             (low frequencies scaled)
//     otherwise (both ends in)   -> (1 - s) inv[i] / factor + s inv[i],
//       s = (original_context / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
// The GPU op takes the table as (hi, lo) float pairs (vkt_rope_freq_pack), so the double
// values survive to ~1e-14 relative; the C reference takes the doubles.
#ifndef VKT_ROPE_FREQ_H
#define VKT_ROPE_FREQ_H

#include "status.h"

typedef enum vkt_rope_freq_type {
    VKT_ROPE_FREQ_PLAIN = 0,
    VKT_ROPE_FREQ_LINEAR = 1,
    VKT_ROPE_FREQ_LLAMA3 = 2,
} vkt_rope_freq_type;

typedef struct vkt_rope_freq_spec {
    int type;                // vkt_rope_freq_type
    double factor;           // linear, llama3: > 0 and finite
    double low_freq_factor;  // llama3: > 0, finite, < high_freq_factor
    double high_freq_factor; // llama3: finite, > 0
    int original_context;    // llama3: original_max_position_embeddings, > 0
} vkt_rope_freq_spec;

// Fills inv_freq (D/2) for theta (> 0, finite) and head size D (> 0, even). s may be NULL
// (plain). Errors name the field at fault ("rope_scaling.factor=0 must be > 0") and
// write nothing.
vkt_status vkt_rope_inv_freq(double theta, const vkt_rope_freq_spec *s, int D, double *inv_freq,
                             vkt_error *err);

// Splits each inv[i] (half of them) into hilo[2i] = (float)inv[i] and
// hilo[2i+1] = (float)(inv[i] - hilo[2i]): the layout vkt_rope_fwd_freq reads (D floats).
void vkt_rope_freq_pack(const double *inv, int half, float *hilo);

#endif
