// support_model.h: tiny models for tests: a preset reshaped, a model built and initialized
// from it, and weights pushed far from the init's so that outputs differ from token to token.
#ifndef VKT_SUPPORT_MODEL_H
#define VKT_SUPPORT_MODEL_H

#include <stdint.h>

#include "context.h"
#include "model.h"
#include "model_config.h"

// A shape for test_config; a field left 0 keeps the preset's value.
typedef struct test_shape {
    int vocab, context, layers, width, ffn, heads, kv_heads;
} test_shape;

// The preset ("gpt2-tiny", "llama-tiny", ...) with the nonzero fields of s; fails the test on
// error.
vkt_model_config test_config(const char *preset, test_shape s);
// The family's tiny preset: "gpt2-tiny" or "llama-tiny".
const char *test_preset(vkt_family f);

// A model of c on ctx, initialized from seed; fails the test on error.
vkt_model *test_model_new(vkt_ctx *ctx, const vkt_model_config *c, uint64_t seed);
// The self-play tests' model: gpt2-tiny with width 32, ffn 64, 2 heads.
vkt_model *test_gpt2(vkt_ctx *ctx, int layers, int context, uint64_t seed);

// Multiplies every parameter by gain. Returns the new parameters (malloc'd).
float *test_model_scale(vkt_ctx *ctx, vkt_model *m, float gain);
// As test_model_scale, then every 1-D parameter set to a fixed spread (norm weights, q/k norms
// included, near 1; the rest small and nonzero) so that every block changes the residual.
// Returns the parameters (malloc'd).
float *test_model_vivid(vkt_ctx *ctx, vkt_model *m, float gain);

#endif
