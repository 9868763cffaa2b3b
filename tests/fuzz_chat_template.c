// fuzz_chat_template.c: libFuzzer target for the chat-template engine: the input is parsed
// as a template and rendered on a fixed conversation. Build: cmake -DVKT_FUZZ=ON
// -DCMAKE_C_COMPILER=clang. The engine's budgets must stop every input quickly; every
// failure names the template.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chat_template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *src = malloc(size + 1);
    if (!src) return 0;
    memcpy(src, data, size);
    src[size] = 0;
    vkt_chat_template *t = NULL;
    vkt_error err;
    if (vkt_chat_template_parse(src, "fuzz", &t, &err) != VKT_OK) {
        if (!strstr(err.msg, "fuzz")) abort(); // every message names the template
        free(src);
        return 0;
    }
    static const vkt_chat_msg msgs[] = {
        {"system", "You are a helpful assistant."},
        {"user", "What is 2+2?"},
        {"assistant", "<think>\nAdd them.\n</think>\n\n4"},
        {"user", " And 3+3? \xc3\xa9\n"},
    };
    vkt_chat_opts o = {.add_generation_prompt = true,
                       .bos_token = "<s>",
                       .eos_token = "</s>",
                       .enable_thinking = 0,
                       .now = 1721952000};
    char *out = NULL;
    size_t n = 0;
    if (vkt_chat_template_render(t, msgs, 4, &o, &out, &n, &err) == VKT_OK) {
        if (!out || out[n] != 0) abort(); // NUL-terminated at its length
        free(out);
    } else if (out || !strstr(err.msg, "fuzz")) {
        abort();
    }
    vkt_chat_template_free(t);
    free(src);
    return 0;
}
