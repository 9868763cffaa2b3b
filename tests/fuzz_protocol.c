// fuzz_protocol.c: libFuzzer target for the text protocol. The first bytes pick a
// game and a few random moves to reach a state; the rest is a model's text. The
// parser must not crash (ASan watches memory) and must never return an action that
// is not legal in that state.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "protocol.h"

static const char *specs[] = {"tictactoe", "kuhn", "kuhn:rounds=3", "negotiation",
                              "negotiation:random_values"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    vkt_game g;
    if (vkt_game_create(&g, specs[data[0] % 5], NULL) != VKT_OK) abort();
    if (vkt_game_reset(&g, data[1], NULL) != VKT_OK) abort();
    vkt_rng rng;
    vkt_rng_seed(&rng, data[1]);
    vkt_agent rnd = vkt_agent_random();
    for (int i = 0; i < data[2] % 12 && !vkt_game_is_terminal(&g); i++) {
        int a;
        if (vkt_agent_act(&rnd, &g, vkt_game_current_player(&g), &rng, &a, NULL) != VKT_OK) abort();
        if (vkt_game_apply(&g, a, NULL) != VKT_OK) abort();
    }
    if (vkt_game_is_terminal(&g)) return 0;
    const char *text = (const char *)data + 3;
    size_t len = size - 3;
    int a = 12345;
    vkt_error err = {0};
    vkt_status s = vkt_protocol_parse(&g, text, len, &a, &err);
    if (s == VKT_OK && !vkt_game_is_legal(&g, a)) abort();
    if (s != VKT_OK && a != VKT_ACTION_INVALID) abort();
    bool invalid;
    if (vkt_protocol_step(&g, text, len, &a, &invalid, &err) != VKT_OK) abort();
    if (invalid != (s != VKT_OK)) abort();
    char obs[64]; // short on purpose: truncation paths
    vkt_protocol_observation(&g, 0, obs, sizeof obs);
    return 0;
}
