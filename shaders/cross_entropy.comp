#version 450
// cross_entropy.comp: fused classifier, one workgroup per row of logits (rows, V):
//   lse = log sum_j exp(x_j); loss = w (lse - x_tgt);
//   dlogits = grad_scale * w * (softmax(x) - onehot(tgt)), written IN PLACE over x.
// Reference: vkt_ref_cross_entropy (runtime/reference.h). Follows llm.c's fused
// classifier (train_gpt2.cu, fused_classifier_kernel3): pass 1 reads the row once with an
// online max and rescaled sum (Milakov & Gimelshein 2018, "Online normalizer calculation
// for softmax"); pass 2 reads the row again and writes dlogits; no probability buffer.
// Each thread strides over the row, so any V works (V < WG leaves threads idle; V much
// larger than WG loops). The cross-thread combine is a fixed shared-memory tree (or, in
// the cross_entropy_sg variant, subgroup max/add then one pass over the subgroups'
// pairs: two barriers instead of log2(WG), which matters on lavapipe), so the result is
// the same every run on a device.
//
// ENTROPY variant (cross_entropy_ent[_sg]): an entropy bonus with a per-row coefficient c:
//   loss = w (lse - x_tgt) - c H,  H = -sum_j p_j log p_j = log s - t / s,
//   dlogits = grad_scale (w (p - onehot) + c p (log p + H))      (dH/dz_j = -p_j (log p_j + H))
// where, next to the online sum s = sum_j exp(x_j - m), pass 1 keeps t = sum_j exp(x_j - m)
// (x_j - m) (rescaled with s when the max moves: t' = (t + s (m - m')) exp(m - m')), so H
// costs no extra read of the row and no lse - E[x] cancellation. Rows with c == 0 take the
// plain path (a branch uniform over the workgroup): they cost what the base kernel costs.
#include "vkt_common.glsl"
#ifdef VKT_ROW_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : enable
#extension GL_KHR_shader_subgroup_arithmetic : enable
#endif

layout(push_constant) uniform Push {
    uint rows;      // rows in this dispatch (one workgroup each)
    uint V;
    uint x_off;     // float offsets of each view inside its binding (vkt_bind_shift)
    uint t_off;
    uint w_off;
    uint loss_off;
    uint lse_off;
    uint flags;     // bit 0: write dlogits over logits; bit 1: write lse
    float grad_scale;
    uint c_off;     // ENTROPY: coefficient and entropy views
    uint ent_off;
} p;

layout(std430, binding = 0) buffer X { float x[]; };          // (rows, V) logits -> dlogits
layout(std430, binding = 1) readonly buffer T { int tgt[]; }; // (rows)
layout(std430, binding = 2) readonly buffer W { float wt[]; };// (rows)
layout(std430, binding = 3) buffer L { float loss[]; };       // (rows)
layout(std430, binding = 4) buffer S { float lse_out[]; };    // (rows), when flags & 2
#ifdef ENTROPY
layout(std430, binding = 5) readonly buffer C { float coef[]; };  // (rows) entropy coefficient
layout(std430, binding = 6) buffer E { float ent_out[]; };        // (rows) H, when flags & 4
#endif
#define LOAD(i) x[p.x_off + (i)]

// A finite "minus infinity": exp(NEG - m) is 0 and exp(NEG - NEG) is 1 (times a zero
// sum), so empty threads never produce NaN.
const float NEG = -3.0e38;

shared float sh_m[gl_WorkGroupSize.x];
shared float sh_s[gl_WorkGroupSize.x];
shared float sh_xt;
#ifdef ENTROPY
shared float sh_t[gl_WorkGroupSize.x];
#endif

void main() {
    const uint WG = gl_WorkGroupSize.x;
    uint row = gl_WorkGroupID.x, tid = gl_LocalInvocationID.x;
    if (row >= p.rows) return; // uniform per workgroup
    uint rb = row * p.V; // row start, relative to the view
    int t = tgt[p.t_off + row];
    float w = wt[p.w_off + row];
    // The host validates targets; a bad one that slips through (weight != 0) reads
    // nothing out of the row and poisons the loss with NaN instead.
    bool tgt_ok = t >= 0 && uint(t) < p.V;
    if (tid == 0u) sh_xt = tgt_ok ? LOAD(rb + uint(t)) : 0.0; // read before pass 2 overwrites it
#ifdef ENTROPY
    float hc = coef[p.c_off + row];
#else
    const float hc = 0.0;
#endif
    bool ent = hc != 0.0; // uniform per workgroup

    // Pass 1: per-thread online max and sum over j = tid, tid + WG, ...; four elements
    // per step share one rescale.
    float m = NEG, s = 0.0, tt = 0.0; // tt: the entropy sum t (ENTROPY rows only)
    uint j = tid;
    for (; j + 3u * WG < p.V; j += 4u * WG) {
        float a = LOAD(rb + j), b = LOAD(rb + j + WG), c = LOAD(rb + j + 2u * WG), d = LOAD(rb + j + 3u * WG);
        float mn = max(max(max(a, b), max(c, d)), m);
        float r = exp(m - mn), ea = exp(a - mn), eb = exp(b - mn), ec = exp(c - mn), ed = exp(d - mn);
        if (ent)
            tt = (tt + s * (m - mn)) * r + ((ea * (a - mn) + eb * (b - mn)) + (ec * (c - mn) + ed * (d - mn)));
        s = s * r + (ea + eb) + (ec + ed);
        m = mn;
    }
    for (; j < p.V; j += WG) {
        float a = LOAD(rb + j);
        float mn = max(m, a);
        float r = exp(m - mn), ea = exp(a - mn);
        if (ent) tt = (tt + s * (m - mn)) * r + ea * (a - mn);
        s = s * r + ea;
        m = mn;
    }
#ifdef VKT_ROW_SUBGROUP
    // Combine inside each subgroup (no barrier), then one barrier and every thread
    // combines the per-subgroup pairs in subgroup order.
    float msg = subgroupMax(m);
    float ssg = subgroupAdd(s * exp(m - msg));
#ifdef ENTROPY
    float tsg = ent ? subgroupAdd((tt + s * (m - msg)) * exp(m - msg)) : 0.0;
#endif
    if (subgroupElect()) {
        sh_m[gl_SubgroupID] = msg;
        sh_s[gl_SubgroupID] = ssg;
#ifdef ENTROPY
        sh_t[gl_SubgroupID] = tsg;
#endif
    }
    barrier();
    float mt = sh_m[0], st = sh_s[0];
#ifdef ENTROPY
    float tt0 = sh_t[0];
#endif
    for (uint k = 1u; k < gl_NumSubgroups; k++) {
        float mk = sh_m[k], mn = max(mt, mk);
#ifdef ENTROPY
        if (ent) tt0 = (tt0 + st * (mt - mn)) * exp(mt - mn) + (sh_t[k] + sh_s[k] * (mk - mn)) * exp(mk - mn);
#endif
        st = st * exp(mt - mn) + sh_s[k] * exp(mk - mn);
        mt = mn;
    }
    float lse = mt + log(st);
#ifdef ENTROPY
    float H = ent ? log(st) - tt0 / st : 0.0;
#endif
#else
    sh_m[tid] = m;
    sh_s[tid] = s;
#ifdef ENTROPY
    sh_t[tid] = tt;
#endif
    barrier();
    for (uint k = WG / 2u; k > 0u; k >>= 1u) {
        if (tid < k) {
            float m1 = sh_m[tid], m2 = sh_m[tid + k];
            float mn = max(m1, m2);
#ifdef ENTROPY
            if (ent)
                sh_t[tid] = (sh_t[tid] + sh_s[tid] * (m1 - mn)) * exp(m1 - mn) +
                            (sh_t[tid + k] + sh_s[tid + k] * (m2 - mn)) * exp(m2 - mn);
#endif
            sh_s[tid] = sh_s[tid] * exp(m1 - mn) + sh_s[tid + k] * exp(m2 - mn);
            sh_m[tid] = mn;
        }
        barrier();
    }
    float lse = sh_m[0] + log(sh_s[0]);
#ifdef ENTROPY
    float H = ent ? log(sh_s[0]) - sh_t[0] / sh_s[0] : 0.0;
#endif
#endif
    if (tid == 0u) {
        float l = 0.0;
        if (w != 0.0) l = tgt_ok ? w * (lse - sh_xt) : uintBitsToFloat(0x7fc00000u);
#ifdef ENTROPY
        if (ent) l -= hc * H;
        if ((p.flags & 4u) != 0u) ent_out[p.ent_off + row] = H;
#endif
        loss[p.loss_off + row] = l;
        if ((p.flags & 2u) != 0u) lse_out[p.lse_off + row] = lse;
    }
    if ((p.flags & 1u) == 0u) return;

    // Pass 2: dlogits = gw * (exp(x - lse) - [j == t]) (+ the entropy term); a masked row
    // (w == 0 and no entropy) is zeros.
    float gw = p.grad_scale * w;
    if (w == 0.0 && !ent) {
        for (uint k = tid; k < p.V; k += WG) x[p.x_off + rb + k] = 0.0;
        return;
    }
#ifdef ENTROPY
    if (ent) {
        float gc = p.grad_scale * hc;
        for (uint k = tid; k < p.V; k += WG) {
            float lp = LOAD(rb + k) - lse, pr = exp(lp);
            x[p.x_off + rb + k] = gw * (pr - (int(k) == t ? 1.0 : 0.0)) + gc * pr * (lp + H);
        }
        return;
    }
#endif
    for (uint k = tid; k < p.V; k += WG) {
        float pr = exp(LOAD(rb + k) - lse);
        x[p.x_off + rb + k] = gw * (pr - (int(k) == t ? 1.0 : 0.0));
    }
}
