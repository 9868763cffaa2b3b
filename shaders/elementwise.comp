#version 450
// elementwise.comp: y = value (fill), y = a*y (scale), y = a*x + b*y (axpby), over n floats.
// With b == 0, y is not read (a copy into uninitialised memory must not pick up NaNs).
// -DVEC4: n, x_off and y_off count vec4s (the wrapper uses it when both views start on a
// 16-byte boundary; lavapipe moves a vec4 in one access instead of four).
// Reference: vkt_ref_fill / vkt_ref_scale / vkt_ref_axpby (runtime/reference.h).
#include "vkt_common.glsl"

#ifdef VEC4
#define T vec4
#else
#define T float
#endif

layout(push_constant) uniform Push {
    uint n;      // elements (floats, or vec4s with VEC4) in this dispatch
    uint x_off;  // offset of x inside its binding, in elements
    uint y_off;
    uint mode;   // 0 fill, 1 scale, 2 axpby
    float a;
    float b;
} p;

layout(std430, binding = 0) readonly buffer X { T x[]; };
layout(std430, binding = 1) buffer Y { T y[]; };

void main() {
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        uint yi = p.y_off + i;
        if (p.mode == 0u) y[yi] = T(p.a);
        else if (p.mode == 1u) y[yi] = p.a * y[yi];
        else if (p.b == 0.0) y[yi] = p.a * x[p.x_off + i];
        else y[yi] = p.a * x[p.x_off + i] + p.b * y[yi];
    }
}
