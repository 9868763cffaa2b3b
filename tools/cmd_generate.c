// vkt generate: sample from a checkpoint (vkt_generate): KV-cached, every prompt and
// sample batched, optional GGUF control vectors with llama.cpp's flags, and best-of-N
// selection of an extracted answer (trainer/model/select.h).
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checkpoint.h"
#include "cli.h"
#include "cli_device.h"
#include "cli_model.h"
#include "gen_config.h"
#include "commands.h"
#include "generate.h"
#include "select.h"
#include "tok_chat.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: vkt generate --ckpt DIR (--prompt TEXT | --prompts FILE) [options]\n\n"
            "Samples continuations of each prompt, tokenized by the checkpoint's tokenizer: DIR/tokenizer.json\n"
            "(with its BOS where it adds one), else one token per byte; special tokens' text in a prompt\n"
            "(<|endoftext|>, <|user|>, ...) are the special tokens. A sample stops at the tokenizer's EOS\n"
            "ids. All samples of all prompts are generated together.\n\n"
            "  --ckpt DIR                 checkpoint (config.json + model.safetensors)\n"
            "  --prompt TEXT              a prompt (repeatable)\n"
            "  --prompts FILE             one prompt per line\n"
            "  -n N                       samples per prompt (default 1)\n"
            "  --max-new-tokens K         tokens per sample at most (default 64)\n"
            "  --temperature T            default 1 (or what DIR/generation_config.json states: do_sample,\n"
            "                             temperature, top_k, top_p, each overridden by its flag); 0 = greedy\n"
            "  --top-k K                  keep the K most probable tokens (0 = off)\n"
            "  --top-p P                  nucleus sampling (1 = off)\n"
            "  --greedy                   argmax decoding\n"
            "  --stop STR                 stop when the text ends with STR (repeatable; cut from the text);\n"
            "                             with a tokenizer.json, when STR ends within the newest token\n"
            "  --include-stop             keep the stop string in the text\n"
            "  --seed S                   sample k of prompt i uses stream i*N+k of seed S (default 1)\n"
            "  --batch N                  sequences in flight at once (default: all samples, at most 64)\n"
            "  --control-vector F         add the GGUF control vector F (scale 1)\n"
            "  --control-vector-scaled F:S  ... scaled by S (repeatable; vectors are scaled and summed)\n"
            "  --control-vector-layer-range A B  apply direction.N only for A <= N <= B (default: all);\n"
            "                             direction.N edits the output of block N counted from 0, as in\n"
            "                             llama.cpp: the first block (0) is never edited\n"
            "  --allow-nonfinite          load weights and control vectors holding NaN/inf and sample from\n"
            "                             non-finite logits (default: refused, naming where they are)\n"
            "  --chat                     wrap each prompt as a user message in the model's chat template\n"
            "                             (tokenizer_config.json), ending with the assistant's header\n"
            "  --system TEXT              with --chat: a system message first\n"
            "  --thinking on|off          with --chat: the template's enable_thinking (Qwen3)\n"
            "  --weights W                auto|fp32|bf16|f16: the weights on the device (auto: 16-bit for a\n"
            "                             bf16/fp16 checkpoint of the llama family, else fp32)\n"
            "  --adapter DIR              apply a PEFT LoRA adapter\n"
            "  --device N                 Vulkan device (see vkt devices)\n"
            "  --json                     one JSON object: every sample's prompt tokens, text, tokens,\n"
            "                             per-token logprob, entropy and self-certainty (temperature-1\n"
            "                             model distribution),\n"
            "                             their means, and the generation speed\n\n"
            "Best-of-N (arXiv 2502.18581): N samples per prompt, an answer extracted from each, one chosen.\n"
            "Prints the chosen answer of each prompt, one a line (an empty line when no sample has one).\n"
            "  --best-of N                samples per prompt (the same as -n N)\n"
            "  --answer-regex RE          POSIX extended regex; the answer is its group 1 (or the whole match)\n"
            "                             in the LAST match with a non-empty answer; no match: no answer\n"
            "  --select RULE              self-certainty (default): the most self-certain sample with an answer;\n"
            "                             majority: the most frequent answer (self-consistency);\n"
            "                             borda: sample ranked r of N by self-certainty gives (N-r+1)^p votes;\n"
            "                             vote ties go to the answer whose voters are more self-certain in\n"
            "                             total, then to the answer that occurs first\n"
            "  --borda-power P            p of the Borda weights (default 0.5)\n"
            "  --gold FILE                expected answer of each prompt, one a line in prompt order: adds\n"
            "                             correctness, the accuracy, and the accuracy of every rule at\n"
            "                             N = 1, 2, 4, ... (averaged over the disjoint groups of N samples)\n"
            "  with --json, a \"best_of\" object, and per prompt the chosen answer and sample, each\n"
            "  sample's answer, mean self-certainty, rank and Borda weight, and the votes of each answer\n");
}

// JSON string: valid UTF-8 passes through; other bytes are written as \u00XX.
static void json_str(FILE *f, const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    fputc('"', f);
    for (size_t i = 0; i < n;) {
        unsigned c = u[i];
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c), i++;
        else if (c == '\n') fputs("\\n", f), i++;
        else if (c == '\t') fputs("\\t", f), i++;
        else if (c == '\r') fputs("\\r", f), i++;
        else if (c < 0x20 || c == 0x7f) fprintf(f, "\\u%04x", c), i++;
        else if (c < 0x80) fputc((int)c, f), i++;
        else {
            // length of a valid UTF-8 sequence starting here, or 0
            size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
            bool ok = len > 0 && i + len <= n;
            for (size_t k = 1; ok && k < len; k++) ok = (u[i + k] & 0xc0) == 0x80;
            if (ok && len == 3 && ((c == 0xe0 && u[i + 1] < 0xa0) || (c == 0xed && u[i + 1] >= 0xa0))) ok = false;
            if (ok && len == 4 && ((c == 0xf0 && u[i + 1] < 0x90) || (c == 0xf4 && u[i + 1] >= 0x90))) ok = false;
            if (ok) fwrite(u + i, 1, len, f), i += len;
            else fprintf(f, "\\u%04x", c), i++;
        }
    }
    fputc('"', f);
}

static void json_num(FILE *f, double x) {
    if (isfinite(x)) fprintf(f, "%.6g", x);
    else fputs("null", f);
}

static void json_floats(FILE *f, const float *x, int n) {
    fputc('[', f);
    for (int i = 0; i < n; i++) {
        if (i) fputs(", ", f);
        json_num(f, x[i]);
    }
    fputc(']', f);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// Lines of a file (without \r\n); empty lines are skipped.
static char **read_lines(const char *path, int *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char **out = NULL, *line = NULL;
    size_t cap = 0;
    ssize_t len;
    *n = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (len == 0) continue;
        char **no = realloc(out, (size_t)(*n + 1) * sizeof *out);
        if (!no) break;
        out = no;
        out[(*n)++] = strdup(line);
    }
    free(line);
    fclose(f);
    if (!out) out = calloc(1, sizeof *out);
    return out;
}

#define MAX_LIST 64

// Best-of-N over the results: each prompt's answers (byte ranges of the texts) and selection.
typedef struct {
    int np, N;
    vkt_select_rule rule;
    double power;
    vkt_select_sample *s;   // (np * N)
    vkt_selection *sel;     // (np)
    char **gold;            // (np) or NULL
    int Ns[32], nN;         // the accuracy curve's N: 1, 2, 4, ... and N
    double *curve;          // (VKT_SELECT_RULES * nN) or NULL
} best_of;

static bool answer_is(const vkt_select_sample *a, const char *gold) {
    return a->answer && a->answer_len == strlen(gold) && !memcmp(a->answer, gold, a->answer_len);
}

static const vkt_select_sample *chosen_answer(const best_of *b, int i) {
    const vkt_selection *sel = &b->sel[i];
    return sel->answer >= 0 ? &b->s[(size_t)i * b->N + sel->cand[sel->answer].first] : NULL;
}

static bool best_of_correct(const best_of *b, int i) {
    const vkt_select_sample *a = chosen_answer(b, i);
    return a && b->gold && answer_is(a, b->gold[i]);
}

static vkt_status best_of_run(best_of *b, const vkt_answer_re *re, const vkt_gen_result *res, vkt_error *err) {
    const int total = b->np * b->N;
    b->s = calloc((size_t)total, sizeof *b->s);
    b->sel = calloc((size_t)b->np, sizeof *b->sel);
    if (!b->s || !b->sel) return vkt_fail(err, VKT_ERR_NOMEM, "best-of: %d samples", total);
    for (int i = 0; i < total; i++) {
        size_t a, n;
        b->s[i].self_certainty = res[i].mean_self_certainty;
        if (vkt_answer_extract(re, res[i].text, res[i].text_len, &a, &n)) b->s[i].answer = res[i].text + a, b->s[i].answer_len = n;
    }
    for (int i = 0; i < b->np; i++) VKT_TRY(vkt_select(b->s + (size_t)i * b->N, b->N, b->rule, b->power, &b->sel[i], err));
    if (!b->gold) return VKT_OK;
    for (int k = 1; k < b->N && b->nN < 31; k *= 2) b->Ns[b->nN++] = k;
    b->Ns[b->nN++] = b->N;
    b->curve = malloc((size_t)VKT_SELECT_RULES * b->nN * sizeof *b->curve);
    if (!b->curve) return vkt_fail(err, VKT_ERR_NOMEM, "best-of accuracy");
    return vkt_select_accuracy(b->s, b->np, b->N, (const char *const *)b->gold, b->Ns, b->nN, b->power, b->curve, err);
}

static void best_of_free(best_of *b) {
    if (b->sel)
        for (int i = 0; i < b->np; i++) vkt_selection_free(&b->sel[i]);
    free(b->s), free(b->sel), free(b->curve);
}

static void json_answer(FILE *f, const vkt_select_sample *a) {
    if (a && a->answer) json_str(f, a->answer, a->answer_len);
    else fputs("null", f);
}

// "best_of": {...}, "prompts": [...] (and "accuracy", "accuracy_curve" with gold answers)
static void best_of_json(FILE *f, const best_of *b, const char *regex, const char *const *ptext) {
    fprintf(f, ", \"best_of\": {\"n\": %d, \"rule\": \"%s\", \"borda_power\": ", b->N, vkt_select_rule_name(b->rule));
    json_num(f, b->power);
    fputs(", \"answer_regex\": ", f);
    json_str(f, regex, strlen(regex));
    fputs("},\n\"prompts\": [", f);
    int right = 0;
    for (int i = 0; i < b->np; i++) {
        const vkt_selection *sel = &b->sel[i];
        const vkt_select_sample *s = b->s + (size_t)i * b->N;
        fprintf(f, "%s\n  {\"prompt_index\": %d, \"prompt\": ", i ? "," : "", i);
        json_str(f, ptext[i], strlen(ptext[i]));
        fputs(", \"answer\": ", f);
        json_answer(f, chosen_answer(b, i));
        fprintf(f, ", \"sample\": %d, \"rule\": \"%s\"", sel->chosen, vkt_select_rule_name(b->rule));
        if (b->gold) {
            fputs(", \"gold\": ", f);
            json_str(f, b->gold[i], strlen(b->gold[i]));
            fprintf(f, ", \"correct\": %s", best_of_correct(b, i) ? "true" : "false");
            right += best_of_correct(b, i);
        }
        fputs(", \"answers\": [", f);
        for (int k = 0; k < b->N; k++) fputs(k ? ", " : "", f), json_answer(f, &s[k]);
        fputs("], \"mean_self_certainty\": [", f);
        for (int k = 0; k < b->N; k++) fputs(k ? ", " : "", f), json_num(f, s[k].self_certainty);
        fputs("], \"rank\": [", f);
        for (int k = 0; k < b->N; k++) fprintf(f, "%s%d", k ? ", " : "", sel->rank[k]);
        fputs("], \"borda_weight\": [", f);
        for (int k = 0; k < b->N; k++) fputs(k ? ", " : "", f), json_num(f, sel->weight[k]);
        fputs("], \"votes\": [", f);
        for (int c = 0; c < sel->n_cand; c++) {
            const vkt_select_candidate *v = &sel->cand[c];
            fputs(c ? ", {\"answer\": " : "{\"answer\": ", f);
            json_answer(f, &s[v->first]);
            fprintf(f, ", \"count\": %d, \"borda\": ", v->count);
            json_num(f, v->borda);
            fputs(", \"self_certainty_sum\": ", f);
            json_num(f, v->certainty_sum);
            fprintf(f, ", \"first_sample\": %d, \"best_sample\": %d}", v->first, v->best);
        }
        fputs("]}", f);
    }
    fputs("\n]", f);
    if (!b->gold) return;
    fprintf(f, ", \"accuracy\": %.6g, \"correct\": %d, \"accuracy_curve\": [", (double)right / b->np, right);
    for (int r = 0; r < VKT_SELECT_RULES; r++)
        for (int j = 0; j < b->nN; j++)
            fprintf(f, "%s{\"N\": %d, \"rule\": \"%s\", \"accuracy\": %.6g, \"groups\": %d}", r || j ? ", " : "", b->Ns[j],
                    vkt_select_rule_name((vkt_select_rule)r), b->curve[r * b->nN + j], b->np * (b->N / b->Ns[j]));
    fputs("]", f);
}

static void free_lines(char **lines, int n) {
    for (int i = 0; lines && i < n; i++) free(lines[i]);
    free(lines);
}

// cv_owned: the file names cut from --control-vector-scaled values, freed by cmd_generate
// whichever way this returns.
// A prompt's tokens: its text with special tokens parsed (and the tokenizer's BOS), or with
// chat the model's chat template around it as the user's message (after system_msg, if any),
// ending with the assistant's header.
static vkt_status encode_prompt(vkt_tok *tok, const char *text, bool chat, const char *system_msg,
                                const char *thinking, vkt_tokens *ids, vkt_error *err) {
    if (!chat) return vkt_tok_encode(tok, text, strlen(text), VKT_TOKF_PARSE_SPECIAL | VKT_TOKF_ADD_SPECIAL, ids, err);
    vkt_chat_msg msgs[2];
    int nm = 0;
    if (system_msg) msgs[nm++] = (vkt_chat_msg){"system", system_msg};
    msgs[nm++] = (vkt_chat_msg){"user", text};
    vkt_tok_chat_opts co = {.add_generation_prompt = true, .enable_thinking = -1};
    if (thinking) co.enable_thinking = !strcmp(thinking, "on");
    return vkt_tok_chat_encode(tok, msgs, nm, &co, ids, err);
}

static int generate_main(int argc, char **argv, char **cv_owned, int *n_owned) {
    const char *ckpt = NULL, *prompts_file = NULL;
    const char *prompt_args[MAX_LIST], *stops[MAX_LIST], *cv_files[MAX_LIST];
    float cv_scales[MAX_LIST];
    int n_prompt_args = 0, n_stops = 0, n_cv = 0;
    long device = -1, nsamp = 1, batch = 0, cv_lo = 0, cv_hi = 0, lv, best_n = 0;
    bool json = false, n_given = false, allow_nonfinite = false, chat = false;
    const char *weights = NULL, *adapter = NULL, *system_msg = NULL, *thinking = NULL;
    const char *select_s = NULL, *answer_re_s = NULL, *gold_file = NULL;
    double borda_power = VKT_BORDA_POWER;
    vkt_gen_opts o;
    vkt_gen_defaults(&o);
    o.seed = 1;
    unsigned given = 0;  // VKT_GENCFG_* bits of the sampling flags given
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int mm;
        double dv;
#define VAL(name) ((mm = cli_value(argc, argv, &i, name, &v)) != 0)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(argv[i], "--json")) json = true;
        else if (!strcmp(argv[i], "--greedy")) o.greedy = true, given |= VKT_GENCFG_GREEDY;
        else if (!strcmp(argv[i], "--allow-nonfinite")) allow_nonfinite = true;
        else if (!strcmp(argv[i], "--chat")) chat = true;
        else if (VAL("--system")) { if (mm < 0) return CLI_USAGE; system_msg = v; }
        else if (VAL("--thinking")) {
            if (mm < 0) return CLI_USAGE;
            if (strcmp(v, "on") && strcmp(v, "off")) return cli_usage_error("generate", "--thinking: on or off");
            thinking = v;
        }
        else if (VAL("--weights")) { if (mm < 0 || cli_weights_check("generate", v) != CLI_OK) return CLI_USAGE; weights = v; }
        else if (VAL("--adapter")) { if (mm < 0) return CLI_USAGE; adapter = v; }
        else if (!strcmp(argv[i], "--include-stop")) o.include_stop = true;
        else if (VAL("--ckpt")) { if (mm < 0) return CLI_USAGE; ckpt = v; }
        else if (VAL("--prompts")) { if (mm < 0) return CLI_USAGE; prompts_file = v; }
        else if (VAL("--prompt")) {
            if (mm < 0) return CLI_USAGE;
            if (n_prompt_args == MAX_LIST) return cli_usage_error("generate", "at most %d --prompt", MAX_LIST);
            prompt_args[n_prompt_args++] = v;
        } else if (VAL("--stop")) {
            if (mm < 0) return CLI_USAGE;
            if (!*v) return cli_usage_error("generate", "--stop: empty string");
            if (n_stops == MAX_LIST) return cli_usage_error("generate", "at most %d --stop", MAX_LIST);
            stops[n_stops++] = v;
        } else if (VAL("-n")) {
            if (mm < 0 || !cli_int("generate", "-n", v, 1, 1 << 20, &nsamp)) return CLI_USAGE;
            n_given = true;
        } else if (VAL("--best-of")) { if (mm < 0 || !cli_int("generate", "--best-of", v, 1, 1 << 20, &best_n)) return CLI_USAGE; }
        else if (VAL("--select")) { if (mm < 0) return CLI_USAGE; select_s = v; }
        else if (VAL("--answer-regex")) { if (mm < 0) return CLI_USAGE; answer_re_s = v; }
        else if (VAL("--gold")) { if (mm < 0) return CLI_USAGE; gold_file = v; }
        else if (VAL("--borda-power")) {
            if (mm < 0 || !cli_double("generate", "--borda-power", v, 0, 1e3, &borda_power)) return CLI_USAGE;
        }
        else if (VAL("--max-new-tokens")) {
            if (mm < 0 || !cli_int("generate", "--max-new-tokens", v, 0, 1 << 24, &lv)) return CLI_USAGE;
            o.max_new_tokens = (int)lv;
        } else if (VAL("--temperature")) {
            if (mm < 0 || !cli_double("generate", "--temperature", v, 0, 1e6, &dv)) return CLI_USAGE;
            o.temperature = dv, given |= VKT_GENCFG_TEMPERATURE;
        } else if (VAL("--top-k")) {
            if (mm < 0 || !cli_int("generate", "--top-k", v, 0, 1 << 30, &lv)) return CLI_USAGE;
            o.top_k = (int)lv, given |= VKT_GENCFG_TOP_K;
        } else if (VAL("--top-p")) {
            if (mm < 0 || !cli_double("generate", "--top-p", v, 1e-9, 1, &dv)) return CLI_USAGE;
            o.top_p = dv, given |= VKT_GENCFG_TOP_P;
        } else if (VAL("--seed")) { if (mm < 0 || !cli_u64("generate", "--seed", v, &o.seed)) return CLI_USAGE; }
        else if (VAL("--batch")) { if (mm < 0 || !cli_int("generate", "--batch", v, 1, 65536, &batch)) return CLI_USAGE; }
        else if (VAL("--device")) { if (mm < 0 || !cli_int("generate", "--device", v, 0, 1000, &device)) return CLI_USAGE; }
        else if (VAL("--control-vector-scaled")) {
            if (mm < 0) return CLI_USAGE;
            const char *colon = strrchr(v, ':');
            if (!colon || colon == v) return cli_usage_error("generate", "--control-vector-scaled: expected FILE:SCALE, got '%s'", v);
            if (!cli_double("generate", "--control-vector-scaled", colon + 1, -1e9, 1e9, &dv)) return CLI_USAGE;
            if (n_cv == MAX_LIST) return cli_usage_error("generate", "at most %d control vectors", MAX_LIST);
            if (!(cv_owned[*n_owned] = strndup(v, (size_t)(colon - v))))
                return cli_fail("generate", "out of memory (%zu bytes)", (size_t)(colon - v) + 1);
            cv_files[n_cv] = cv_owned[(*n_owned)++];
            cv_scales[n_cv++] = (float)dv;
        } else if (VAL("--control-vector")) {
            if (mm < 0) return CLI_USAGE;
            if (n_cv == MAX_LIST) return cli_usage_error("generate", "at most %d control vectors", MAX_LIST);
            cv_files[n_cv] = v;
            cv_scales[n_cv++] = 1.0f;
        } else if (!strcmp(argv[i], "--control-vector-layer-range")) {
            if (i + 2 >= argc) return cli_usage_error("generate", "--control-vector-layer-range needs two layers A B");
            if (!cli_int("generate", "--control-vector-layer-range", argv[i + 1], 1, 100000, &cv_lo) ||
                !cli_int("generate", "--control-vector-layer-range", argv[i + 2], 1, 100000, &cv_hi))
                return CLI_USAGE;
            if (cv_lo > cv_hi) return cli_usage_error("generate", "--control-vector-layer-range: %ld > %ld", cv_lo, cv_hi);
            i += 2;
        } else return cli_usage_error("generate", "unknown option '%s'", argv[i]);
#undef VAL
    }
    if (!ckpt) return cli_usage_error("generate", "--ckpt DIR is required");
    if (!n_prompt_args && !prompts_file) return cli_usage_error("generate", "give --prompt TEXT or --prompts FILE");
    o.stop = stops, o.n_stop = n_stops;
    o.allow_nonfinite = allow_nonfinite;

    // Best-of-N: the rule and the pattern are checked before any work.
    best_of bo = {0};
    vkt_answer_re *answer_re = NULL;
    vkt_error err = {0};
    if (best_n > 0) {
        if (n_given && nsamp != best_n) return cli_usage_error("generate", "-n %ld and --best-of %ld disagree", nsamp, best_n);
        nsamp = best_n;
        if (!answer_re_s) return cli_usage_error("generate", "--best-of needs --answer-regex RE");
        if (vkt_select_rule_parse(select_s ? select_s : "self-certainty", &bo.rule, &err) != VKT_OK)
            return cli_usage_error("generate", "--select: %s", err.msg);
        if (vkt_answer_re_compile(answer_re_s, &answer_re, &err) != VKT_OK)
            return cli_usage_error("generate", "--answer-regex: %s", err.msg);
        bo.N = (int)best_n, bo.power = borda_power;
    } else if (select_s || answer_re_s || gold_file) {
        return cli_usage_error("generate", "--select, --answer-regex and --gold need --best-of N");
    }

    // Prompts: --prompt values, then the file's lines.
    int n_file = 0;
    char **file_lines = NULL;
    if (prompts_file && !(file_lines = read_lines(prompts_file, &n_file)))
        return cli_fail("generate", "%s: %s", prompts_file, strerror(errno));
    int np = n_prompt_args + n_file;
    int n_gold = 0;
    if (np > 0 && gold_file && !(bo.gold = read_lines(gold_file, &n_gold))) {
        free_lines(file_lines, n_file), vkt_answer_re_free(answer_re);
        return cli_fail("generate", "%s: %s", gold_file, strerror(errno));
    }
    if (np == 0 || (gold_file && n_gold != np)) {
        free_lines(file_lines, n_file), free_lines(bo.gold, n_gold), vkt_answer_re_free(answer_re);
        if (np == 0) return cli_fail("generate", "%s has no prompts", prompts_file);
        return cli_usage_error("generate", "--gold %s has %d answers for %d prompts", gold_file, n_gold, np);
    }
    bo.np = np;
    // The checkpoint's tokenizer (refused when the model's vocabulary is smaller).
    vkt_tok *tok = NULL;
    if (vkt_checkpoint_tokenizer(ckpt, NULL, &tok, &err) != VKT_OK) return cli_fail("generate", "%s", err.msg);
    o.tok = tok;
    unsigned applied = 0;
    if (vkt_gen_config_apply(ckpt, given, &o, &applied, &err) != VKT_OK) {
        vkt_tok_free(tok);
        return cli_fail("generate", "%s", err.msg);
    }
    if (applied) {
        char what[160] = "";
        size_t k = 0;
        if (applied & VKT_GENCFG_GREEDY) k += (size_t)snprintf(what + k, sizeof what - k, " greedy");
        if (applied & VKT_GENCFG_TEMPERATURE) k += (size_t)snprintf(what + k, sizeof what - k, " temperature %g", o.temperature);
        if (applied & VKT_GENCFG_TOP_K) k += (size_t)snprintf(what + k, sizeof what - k, " top-k %d", o.top_k);
        if (applied & VKT_GENCFG_TOP_P) snprintf(what + k, sizeof what - k, " top-p %g", o.top_p);
        fprintf(stderr, "vkt generate: sampling as %s/generation_config.json says:%s (flags override)\n", ckpt, what);
    }
    const char **ptext = malloc((size_t)np * sizeof *ptext);
    int32_t **pids = calloc((size_t)np, sizeof *pids);
    int *plen = calloc((size_t)np, sizeof *plen);
    for (int i = 0; i < np; i++) {
        ptext[i] = i < n_prompt_args ? prompt_args[i] : file_lines[i - n_prompt_args];
        vkt_tokens ids = {0};
        vkt_status es = encode_prompt(tok, ptext[i], chat, system_msg, thinking, &ids, &err);
        if (es != VKT_OK) return cli_fail("generate", "prompt %d: %s", i, err.msg);
        if (ids.n == 0) return cli_usage_error("generate", "prompt %d is empty", i);
        if (ids.n > (size_t)1 << 30) return cli_usage_error("generate", "prompt %d is too long", i);
        pids[i] = ids.ids, plen[i] = (int)ids.n;
    }
    const int total = np * (int)nsamp;
    vkt_gen_prompt *req = malloc((size_t)total * sizeof *req);
    for (int i = 0; i < np; i++)
        for (int k = 0; k < nsamp; k++) req[i * nsamp + k] = (vkt_gen_prompt){pids[i], plen[i], (uint64_t)(i * nsamp + k)};
    if (batch == 0) batch = total < 64 ? total : 64;

    vkt_ctx *ctx;
    int rc = cli_open_device("generate", (int)device, &ctx);
    if (rc != CLI_OK) return rc;
    cli_model cm;
    vkt_gen *g = NULL;
    vkt_gen_result *res = calloc((size_t)total, sizeof *res);
    double t0 = 0, t1 = 0;
    bool generated = false;
    cli_model_args ma = {ckpt, adapter, weights, allow_nonfinite, false};
    rc = cli_model_open("generate", ctx, &ma, &cm);
    vkt_model *m = cm.m;
    vkt_status s = rc == CLI_OK ? VKT_OK : VKT_ERR_ARG;
    if (s == VKT_OK) {
        const vkt_model_config *c = vkt_model_cfg(m);
        for (int i = 0; i < np && s == VKT_OK; i++)
            if (plen[i] > c->context)
                s = vkt_fail(&err, VKT_ERR_ARG, "prompt %d has %d tokens, more than the model's context %d", i, plen[i],
                             c->context);
        // The cache holds the longest prompt and its new tokens, not the whole context (a
        // pretrained model's 40k positions would be gigabytes of keys and values).
        long long need = 0;
        for (int i = 0; i < np; i++)
            if (plen[i] + (long long)o.max_new_tokens > need) need = plen[i] + (long long)o.max_new_tokens;
        int max_len = need < c->context ? (int)need : c->context;
        char what[96];
        snprintf(what, sizeof what, "caches and activations for %ld sequences of %d tokens", batch, max_len);
        if (s == VKT_OK && (rc = cli_model_reserve("generate", ctx, &cm, vkt_gen_bytes(m, (int)batch, max_len, 0),
                                                   what)) != CLI_OK)
            s = VKT_ERR_ARG;
        if (s == VKT_OK && (s = vkt_gen_create(m, (int)batch, max_len, 0, &g)) != VKT_OK) err = *vkt_ctx_err(ctx);
        if (s == VKT_OK && n_cv > 0) {
            vkt_control_vector *cvs = calloc((size_t)n_cv, sizeof *cvs);
            float *dirs = malloc((size_t)c->layers * c->width * sizeof *dirs);
            for (int i = 0; i < n_cv && s == VKT_OK; i++)
                s = vkt_control_vector_load_opt(&cvs[i], cv_files[i], allow_nonfinite, &err);
            if (s == VKT_OK)
                s = vkt_gen_edit_from_control_vectors(cvs, cv_scales, n_cv, (int)cv_lo, (int)cv_hi, c->layers, c->width,
                                                      dirs, &err);
            if (s == VKT_OK && (s = vkt_gen_set_edit(g, dirs)) != VKT_OK) err = *vkt_ctx_err(ctx);
            for (int i = 0; i < n_cv; i++) vkt_control_vector_free(&cvs[i]);
            free(cvs), free(dirs);
        }
        if (s == VKT_OK) {
            t0 = now_s();
            s = vkt_generate(g, req, total, &o, res);
            t1 = now_s();
            if (s != VKT_OK) err = *vkt_ctx_err(ctx);
            else generated = true;
        }
        if (s == VKT_OK && best_n > 0) s = best_of_run(&bo, answer_re, res, &err), generated = s == VKT_OK;
    }
    long long ntok = 0;
    if (generated) {
        for (int i = 0; i < total; i++) ntok += res[i].n;
        double secs = t1 - t0;
        if (json) {
            printf("{\"samples\": [");
            for (int i = 0; i < total; i++) {
                const vkt_gen_result *r = &res[i];
                int pi = i / (int)nsamp;
                printf("%s\n  {\"prompt_index\": %d, \"sample\": %d, \"prompt\": ", i ? "," : "", pi, i % (int)nsamp);
                json_str(stdout, ptext[pi], strlen(ptext[pi]));
                printf(", \"prompt_tokens\": [");
                for (int t = 0; t < plen[pi]; t++) printf("%s%d", t ? ", " : "", pids[pi][t]);
                printf("], \"text\": ");
                json_str(stdout, r->text, r->text_len);
                printf(", \"finish\": \"%s\", \"n_tokens\": %d, \"tokens\": [", vkt_finish_name(r->finish), r->n);
                for (int t = 0; t < r->n; t++) printf("%s%d", t ? ", " : "", r->tokens[t]);
                printf("], \"ids\": [");
                for (int t = 0; t < r->n; t++) printf("%s%d", t ? ", " : "", r->tokens[t]);
                printf("], \"logprob\": ");
                json_floats(stdout, r->logprob, r->n);
                printf(", \"entropy\": ");
                json_floats(stdout, r->entropy, r->n);
                printf(", \"self_certainty\": ");
                json_floats(stdout, r->self_certainty, r->n);
                printf(", \"mean_logprob\": ");
                json_num(stdout, r->mean_logprob);
                printf(", \"mean_entropy\": ");
                json_num(stdout, r->mean_entropy);
                printf(", \"mean_self_certainty\": ");
                json_num(stdout, r->mean_self_certainty);
                if (best_n > 0) printf(", \"answer\": "), json_answer(stdout, &bo.s[i]);
                printf("}");
            }
            printf("\n]");
            if (best_n > 0) best_of_json(stdout, &bo, answer_re_s, ptext);
            printf(", \"generated_tokens\": %lld, \"seconds\": %.4f, \"tokens_per_s\": %.2f}\n", ntok, secs,
                   secs > 0 ? (double)ntok / secs : 0.0);
        } else if (best_n > 0) {
            int right = 0;
            for (int i = 0; i < np; i++) {
                const vkt_select_sample *a = chosen_answer(&bo, i);
                if (a) fwrite(a->answer, 1, a->answer_len, stdout);
                fputc('\n', stdout);
                right += best_of_correct(&bo, i);
            }
            fprintf(stderr, "vkt generate: best of %d by %s: %lld tokens in %.2f s", bo.N, vkt_select_rule_name(bo.rule),
                    ntok, secs);
            if (bo.gold) fprintf(stderr, "; accuracy %d/%d = %.4f", right, np, (double)right / np);
            fputc('\n', stderr);
        } else {
            for (int i = 0; i < total; i++) {
                int pi = i / (int)nsamp;
                if (total > 1) printf("--- prompt %d, sample %d (%s, mean logprob %.3f, self-certainty %.3f)\n", pi,
                                      i % (int)nsamp, vkt_finish_name(res[i].finish), res[i].mean_logprob,
                                      res[i].mean_self_certainty);
                fwrite(ptext[pi], 1, strlen(ptext[pi]), stdout);
                fwrite(res[i].text, 1, res[i].text_len, stdout);
                fputc('\n', stdout);
            }
            fprintf(stderr, "vkt generate: %lld tokens in %.2f s (%.1f tokens/s, %d sequences in flight)\n", ntok, secs,
                    secs > 0 ? (double)ntok / secs : 0.0, (int)batch);
        }
    }
    for (int i = 0; i < total; i++) vkt_gen_result_free(&res[i]);
    free(res);
    vkt_gen_destroy(g);
    cli_model_close(&cm);
    vkt_ctx_destroy(ctx);
    vkt_tok_free(tok);
    for (int i = 0; i < np; i++) free(pids[i]);
    for (int i = 0; i < n_file; i++) free(file_lines[i]);
    free(file_lines), free(pids), free(plen), free(ptext), free(req);
    for (int i = 0; i < n_gold; i++) free(bo.gold[i]);
    free(bo.gold);
    best_of_free(&bo);
    vkt_answer_re_free(answer_re);
    if (rc != CLI_OK) return rc; // printed where it happened
    if (s != VKT_OK) return s == VKT_ERR_ARG ? cli_usage_error("generate", "%s", err.msg) : cli_fail("generate", "%s", err.msg);
    return CLI_OK;
}

int cmd_generate(int argc, char **argv) {
    char *owned[MAX_LIST];
    int n_owned = 0;
    int rc = generate_main(argc, argv, owned, &n_owned);
    for (int i = 0; i < n_owned; i++) free(owned[i]);
    return rc;
}
