// fuzz_tokenizer_json.c: libFuzzer target for the tokenizer.json reader: any input either
// loads or fails with a message naming it; a loaded tokenizer encodes and decodes a few
// fixed texts without fault, and every id it gives is inside its vocabulary.
// Build: cmake -DVKT_FUZZ=ON -DCMAKE_C_COMPILER=clang. Seeds: tests/data/tokenizers/synthetic.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tok.h"

static const char *const texts[] = {"",
                                    "Hello world",
                                    "  two  spaces\n\ttab",
                                    "don't 123456 <|endoftext|> <s>",
                                    "caf\xc3\xa9 \xe4\xbd\xa0\xe5\xa5\xbd",
                                    "\xff\xfe bad utf-8 \xc3",
                                    "\xe2\x96\x81x\xc4\xa0y"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vkt_tok *t;
    vkt_error err;
    if (vkt_tok_load_json_text((const char *)data, size, "fuzz", &t, &err) != VKT_OK) {
        if (!strstr(err.msg, "fuzz")) abort(); // every message names the input
        return 0;
    }
    int V = vkt_tok_vocab_size(t);
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        for (unsigned flags = 0; flags < 4; flags++) {
            vkt_tokens ids = {0};
            if (vkt_tok_encode(t, texts[i], strlen(texts[i]), flags, &ids, &err) == VKT_OK) {
                for (size_t k = 0; k < ids.n; k++)
                    if (ids.ids[k] < 0 || ids.ids[k] >= V) abort();
                char *s;
                size_t n;
                if (vkt_tok_decode(t, ids.ids, ids.n, flags & 1, &s, &n, &err) == VKT_OK) free(s);
                for (size_t k = 0; k < ids.n; k++) {
                    char buf[64];
                    if (vkt_tok_token_bytes(t, ids.ids[k], buf, sizeof buf) < 0) abort();
                }
            }
            vkt_tokens_free(&ids);
        }
    vkt_tok_free(t);
    return 0;
}
