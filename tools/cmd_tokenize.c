// vkt tokenize / vkt detokenize: a model directory's tokenizer on the command line, as
// Hugging Face's tokenizers gives ids (tokenize) and text (detokenize). Only the
// tokenizer files are read: no device is opened.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "cli_opt.h"
#include "commands.h"
#include "read_file.h"
#include "tok_chat.h"

static const cli_cmd TOKENIZE = {
    .name = "tokenize",
    .usage =
        "usage: vkt tokenize --model DIR (--text T | --file F) [--special] [--chat] [--json]\n",
    .about =
        "The ids of a text under DIR's tokenizer (tokenizer.json, else vkt's byte tokenizer), one\n"
        "per line, or with --json one object {\"ids\": [...], \"tokens\": [...]}. Special tokens'\n"
        "text becomes their ids, as Hugging Face's encode(text, add_special_tokens=False) does.\n",
};

static const cli_cmd DETOKENIZE = {
    .name = "detokenize",
    .usage = "usage: vkt detokenize --model DIR [--ids \"1 2 3\"] [--skip-special] [--json]\n",
    .about = "Text of ids under DIR's tokenizer: the ids come from --ids or standard input "
             "(separated by\n"
             "spaces, commas, newlines or brackets, so vkt tokenize's output reads back).\n",
};

typedef struct tok_args {
    const char *model, *text, *file, *system, *chat_template, *thinking;
    bool special, plain_special, chat, json;
} tok_args;

static int opt_on_off(const cli_opt *opt, const char *cmd, const char *const *v) {
    if (strcmp(v[0], "on") && strcmp(v[0], "off"))
        return cli_usage_error(cmd, "--thinking takes on or off, not '%s'", v[0]);
    *(const char **)opt->dest = v[0];
    return CLI_OK;
}

static int parse_tokenize(int argc, char **argv, tok_args *a) {
    const cli_opt table[] = {
        {"--model", CLI_OPT_STR, &a->model, .metavar = "DIR",
         .help = "model or tokenizer directory (tokenizer.json, tokenizer_config.json)"},
        {"--text", CLI_OPT_STR, &a->text, .metavar = "T", .help = "the text"},
        {"--file", CLI_OPT_STR, &a->file, .metavar = "F",
         .help = "the text of a file (bytes as they are; invalid UTF-8 reads as U+FFFD)"},
        {"--special", CLI_OPT_FLAG, &a->special,
         .help = "add the post-processor's special tokens (BOS/EOS), as\nadd_special_tokens=True"},
        {"--plain-special", CLI_OPT_FLAG, &a->plain_special,
         .help = "special tokens' text stays text (split_special_tokens=True)"},
        {"--chat", CLI_OPT_FLAG, &a->chat,
         .help = "wrap the text as one user message, render the chat template with\n"
                 "the generation prompt, tokenize that with special tokens parsed"},
        {"--system", CLI_OPT_STR, &a->system, .metavar = "S",
         .help = "with --chat: a system message first"},
        {"--chat-template", CLI_OPT_STR, &a->chat_template, .metavar = "FILE",
         .help = "with --chat: this Jinja template instead of the model's"},
        {"--thinking", CLI_OPT_CUSTOM, &a->thinking, .metavar = "on|off", .parse = opt_on_off,
         .help = "with --chat: the template's enable_thinking (Qwen 3)"},
        {"--json", CLI_OPT_FLAG, &a->json, .help = "one JSON object on stdout"},
        {0},
    };
    int rc = cli_parse(&TOKENIZE, table, argc, argv);
    if (rc != CLI_OK) return rc;
    if (!a->model) return cli_usage_error("tokenize", "--model DIR is required");
    if (!a->text == !a->file)
        return cli_usage_error("tokenize", "give exactly one of --text T and --file F");
    if (!a->chat && (a->system || a->chat_template || a->thinking))
        return cli_usage_error("tokenize",
                               "--system, --chat-template and --thinking go with --chat");
    return CLI_OK;
}

static void print_ids(const vkt_tok *t, const vkt_tokens *ids, bool json) {
    if (!json) {
        for (size_t i = 0; i < ids->n; i++) printf("%d\n", (int)ids->ids[i]);
        return;
    }
    json_t *o = json_object(), *ja = json_array(), *ta = json_array();
    for (size_t i = 0; i < ids->n; i++) {
        json_array_append_new(ja, json_integer(ids->ids[i]));
        const char *s = vkt_tok_id_to_token(t, ids->ids[i]);
        char byte[2] = {(char)ids->ids[i], 0}; // the byte tokenizer: a byte is its own text
        json_array_append_new(ta, s ? json_string(s) : json_stringn(byte, 1));
    }
    json_object_set_new(o, "ids", ja);
    json_object_set_new(o, "tokens", ta);
    char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (s) puts(s);
    free(s);
    json_decref(o);
}

static vkt_status encode_args(vkt_tok *t, const tok_args *a, const char *text, size_t len,
                              vkt_tokens *ids, vkt_error *err) {
    if (!a->chat) {
        unsigned flags = (a->plain_special ? 0 : VKT_TOKF_PARSE_SPECIAL) |
                         (a->special ? VKT_TOKF_ADD_SPECIAL : 0);
        return vkt_tok_encode(t, text, len, flags, ids, err);
    }
    if (a->chat_template) VKT_TRY(vkt_tok_set_chat_template_file(t, a->chat_template, err));
    vkt_chat_msg msgs[2];
    int n = 0;
    if (a->system) msgs[n++] = (vkt_chat_msg){"system", a->system};
    msgs[n++] = (vkt_chat_msg){"user", text};
    vkt_tok_chat_opts o = {.add_generation_prompt = true, .enable_thinking = -1};
    if (a->thinking) o.enable_thinking = !strcmp(a->thinking, "on");
    return vkt_tok_chat_encode(t, msgs, n, &o, ids, err);
}

int cmd_tokenize(int argc, char **argv) {
    tok_args a = {0};
    int rc = parse_tokenize(argc, argv, &a);
    if (rc != CLI_OK) return rc == CLI_HELP ? CLI_OK : rc;
    vkt_error err = {0};
    char *buf = NULL;
    size_t len = a.text ? strlen(a.text) : 0;
    if (a.file && vkt_read_file(a.file, &buf, &len, &err) != VKT_OK)
        return cli_fail("tokenize", "%s", err.msg);
    vkt_tok *t = NULL;
    vkt_tokens ids = {0};
    vkt_status s = vkt_tok_load_dir(a.model, &t, &err);
    if (s == VKT_OK) s = encode_args(t, &a, a.file ? buf : a.text, len, &ids, &err);
    if (s == VKT_OK) print_ids(t, &ids, a.json);
    vkt_tokens_free(&ids);
    vkt_tok_free(t);
    free(buf);
    return s == VKT_OK ? CLI_OK : cli_fail("tokenize", "%s", err.msg);
}

// Reads ids from text: integers separated by anything that is not a digit or '-'.
static int parse_ids(const char *s, vkt_tokens *ids) {
    while (*s) {
        if ((*s >= '0' && *s <= '9') || *s == '-') {
            char *end;
            errno = 0;
            long v = strtol(s, &end, 10);
            if (end == s || errno || v < 0 || v > 0x7fffffff)
                return cli_usage_error("detokenize", "'%.20s' is not an id", s);
            if (vkt_tokens_push(ids, (int32_t)v, NULL) != VKT_OK)
                return cli_fail("detokenize", "out of memory");
            s = end;
        } else if (strchr(" \t\r\n,[]", *s)) {
            s++;
        } else {
            return cli_usage_error("detokenize", "unexpected '%c' among the ids", *s);
        }
    }
    return CLI_OK;
}

int cmd_detokenize(int argc, char **argv) {
    const char *model = NULL, *list = NULL;
    bool json = false, skip = false;
    const cli_opt table[] = {
        {"--model", CLI_OPT_STR, &model, .metavar = "DIR", .help = "model or tokenizer directory"},
        {"--ids", CLI_OPT_STR, &list, .metavar = "LIST", .def = "read standard input",
         .help = "the ids"},
        {"--skip-special", CLI_OPT_FLAG, &skip, .help = "special tokens produce no text"},
        {"--json", CLI_OPT_FLAG, &json, .help = "print {\"text\": ...}"},
        {0},
    };
    int rc = cli_parse(&DETOKENIZE, table, argc, argv);
    if (rc != CLI_OK) return rc == CLI_HELP ? CLI_OK : rc;
    if (!model) return cli_usage_error("detokenize", "--model DIR is required");
    vkt_error err = {0};
    char *in = NULL;
    size_t len;
    if (!list && vkt_read_file("/dev/stdin", &in, &len, &err) != VKT_OK)
        return cli_fail("detokenize", "%s", err.msg);
    vkt_tokens ids = {0};
    rc = parse_ids(list ? list : in, &ids);
    free(in);
    vkt_tok *t = NULL;
    char *text = NULL;
    size_t n = 0;
    if (rc == CLI_OK && (vkt_tok_load_dir(model, &t, &err) != VKT_OK ||
                         vkt_tok_decode(t, ids.ids, ids.n, skip ? VKT_TOKF_SKIP_SPECIAL : 0, &text,
                                        &n, &err) != VKT_OK))
        rc = cli_fail("detokenize", "%s", err.msg);
    if (rc == CLI_OK && json) {
        json_t *o = json_pack("{s:s%}", "text", text, n);
        char *s = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
        if (s)
            puts(s);
        else
            rc = cli_fail("detokenize", "the text is not valid UTF-8; decode without --json");
        free(s);
        json_decref(o);
    } else if (rc == CLI_OK) {
        fwrite(text, 1, n, stdout);
        if (isatty(1)) putchar('\n');
    }
    free(text);
    vkt_tokens_free(&ids);
    vkt_tok_free(t);
    return rc;
}
