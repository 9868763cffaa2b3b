#version 450
// adamw.comp: one AdamW step over n floats, in torch.optim.AdamW's order (decoupled
// weight decay, bias correction; torch/optim/adamw.py, _single_tensor_adamw):
//   g = grad * grad_scale [* scale_dev[0]]; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
//   p *= 1 - lr wd; p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps),  bc_i = 1 - b_i^t.
// With zero_grad the gradient is cleared once read (the next step accumulates into it),
// which saves the trainer a separate pass over the gradient buffer.
// Reference: vkt_ref_adamw (runtime/reference.h). The host computes the step-dependent
// scalars (bias corrections) in double and passes them in push constants. When all four
// views are 16-byte aligned it moves vec4s (4x fewer loads and stores: lavapipe
// scalarises storage accesses); the tail and unaligned views go float by float.
#include "vkt_common.glsl"

layout(push_constant) uniform Push {
    uint n;
    uint p_off, g_off, m_off, v_off, s_off; // float offsets inside each binding
    uint use_dev_scale;                     // 1: multiply g by scale_dev[s_off]
    float beta1, beta2;
    float one_minus_beta1, one_minus_beta2;
    float eps;
    float decay;          // 1 - lr * weight_decay
    float step_size;      // lr / (1 - beta1^t)
    float inv_sqrt_bc2;   // 1 / sqrt(1 - beta2^t)
    float grad_scale;     // host factor
    uint zero_grad;       // 1: grad = 0 after reading it
} p;

layout(std430, binding = 0) buffer P { float param[]; };
layout(std430, binding = 1) buffer G { float grad[]; };
layout(std430, binding = 2) buffer M { float mom[]; };
layout(std430, binding = 3) buffer Vb { float vel[]; };
layout(std430, binding = 4) readonly buffer S { float scale_dev[]; };
// The same bindings as vec4s, used when every offset is a multiple of 4 floats.
layout(std430, binding = 0) buffer P4 { vec4 param4[]; };
layout(std430, binding = 1) buffer G4 { vec4 grad4[]; };
layout(std430, binding = 2) buffer M4 { vec4 mom4[]; };
layout(std430, binding = 3) buffer V4 { vec4 vel4[]; };

void main() {
    float gs = p.grad_scale;
    if (p.use_dev_scale != 0u) gs *= scale_dev[p.s_off];
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    uint first = 0u;
    if (((p.p_off | p.g_off | p.m_off | p.v_off) & 3u) == 0u) {
        uint n4 = p.n / 4u;
        for (uint i = gl_GlobalInvocationID.x; i < n4; i += stride) {
            vec4 g = grad4[p.g_off / 4u + i] * gs;
            if (p.zero_grad != 0u) grad4[p.g_off / 4u + i] = vec4(0.0);
            vec4 m = p.beta1 * mom4[p.m_off / 4u + i] + p.one_minus_beta1 * g;
            vec4 v = p.beta2 * vel4[p.v_off / 4u + i] + p.one_minus_beta2 * (g * g);
            vec4 denom = sqrt(v) * p.inv_sqrt_bc2 + p.eps;
            param4[p.p_off / 4u + i] = param4[p.p_off / 4u + i] * p.decay - p.step_size * (m / denom);
            mom4[p.m_off / 4u + i] = m;
            vel4[p.v_off / 4u + i] = v;
        }
        first = 4u * n4;
    }
    for (uint i = first + gl_GlobalInvocationID.x; i < p.n; i += stride) {
        float g = grad[p.g_off + i] * gs;
        if (p.zero_grad != 0u) grad[p.g_off + i] = 0.0;
        float m = p.beta1 * mom[p.m_off + i] + p.one_minus_beta1 * g;
        float v = p.beta2 * vel[p.v_off + i] + p.one_minus_beta2 * (g * g);
        float denom = sqrt(v) * p.inv_sqrt_bc2 + p.eps;
        param[p.p_off + i] = param[p.p_off + i] * p.decay - p.step_size * (m / denom);
        mom[p.m_off + i] = m;
        vel[p.v_off + i] = v;
    }
}
