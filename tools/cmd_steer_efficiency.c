// vkt steer efficiency-data: writes the efficiency-steering task's training and held-out
// data (trainer/steer/effsteer_task.h, docs/efficiency_steering.md). No device.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cli_opt.h"
#include "effsteer_task.h"

int cmd_steer_efficiency_data(int argc, char **argv);

static const cli_cmd CMD = {
    .name = "steer efficiency-data",
    .usage = "usage: vkt steer efficiency-data --out DIR [--examples N] [--seed S] [--heldout-frac "
             "F] "
             "[--json]\n",
    .about = "Writes the synthetic task of the efficiency-steering experiment "
             "(docs/efficiency_steering.md):\n"
             "prompts \"src=XY ab+cd=\" with one of 16 source tags, each with a fixed re-check\n"
             "probability p; completions work column by column and add a \"verify:\" line after a\n"
             "column with probability p, then \"ans=N\".\n\n"
             "  DIR/train.jsonl    N {\"prompt\", \"completion\"} lines for vkt train --format "
             "jsonl\n"
             "                     (the loader appends <|endoftext|>); held-out problems never "
             "appear\n"
             "  DIR/heldout.jsonl  every held-out problem under every tag: prompt, the concise\n"
             "                     completion, gold, tag, p\n",
};

int cmd_steer_efficiency_data(int argc, char **argv) {
    const char *cmd = CMD.name, *out = NULL;
    long n = 100000;
    uint64_t seed = 0;
    double frac = 0.1;
    bool json = false;
    const cli_opt table[] = {
        {"--out", CLI_OPT_STR, &out, .metavar = "DIR", .help = "output folder (created if absent)"},
        {"--examples", CLI_OPT_LONG, &n, 1, 1000000, "N",
         .help = "training examples, at most 1000000"},
        {"--seed", CLI_OPT_U64, &seed, .metavar = "S",
         .help = "sampling seed; the held-out set does not depend on it"},
        {"--heldout-frac", CLI_OPT_DOUBLE, &frac, 0.0, 0.9, "F",
         .help = "fraction of the 8100 (ab, cd) problems held out"},
        {"--json", CLI_OPT_FLAG, &json, .help = "print a JSON summary instead of the text one"},
        {0},
    };
    int rc = cli_parse(&CMD, table, argc, argv);
    if (rc != CLI_OK) return rc == CLI_HELP ? CLI_OK : rc;
    if (!out) return cli_usage_error(cmd, "--out DIR is required");
    if (mkdir(out, 0777) != 0 && errno != EEXIST)
        return cli_fail(cmd, "cannot create '%s': %s", out, strerror(errno));

    vkt_error err = {0};
    int nh = 0;
    vkt_eff_heldout_examples(frac, NULL, 0, &nh, &err);
    vkt_eff_example *tr = malloc((size_t)n * sizeof *tr),
                    *ho = malloc((size_t)(nh ? nh : 1) * sizeof *ho);
    if (!tr || !ho) {
        free(tr), free(ho);
        return cli_fail(cmd, "out of memory for %ld examples", n);
    }
    size_t plen = strlen(out) + 32;
    char *ptrain = malloc(plen), *pheld = malloc(plen);
    snprintf(ptrain, plen, "%s/train.jsonl", out);
    snprintf(pheld, plen, "%s/heldout.jsonl", out);
    vkt_status s = vkt_eff_train_examples(seed, frac, (int)n, tr, &err);
    if (s == VKT_OK) s = vkt_eff_heldout_examples(frac, ho, nh, &nh, &err);
    if (s == VKT_OK) s = vkt_eff_write_train_jsonl(ptrain, tr, (int)n, &err);
    if (s == VKT_OK) s = vkt_eff_write_heldout_jsonl(pheld, ho, nh, &err);
    if (s != VKT_OK) {
        free(tr), free(ho), free(ptrain), free(pheld);
        return cli_fail(cmd, "%s", err.msg);
    }

    // Per tag: examples and re-check lines in the training data (rate = checks / (2 x examples)).
    const vkt_eff_tag *t = vkt_eff_tag_table();
    long cnt[VKT_EFF_TAGS] = {0}, chk[VKT_EFF_TAGS] = {0}, verbose[VKT_EFF_TAGS] = {0};
    double bytes = 0;
    for (long i = 0; i < n; i++) {
        cnt[tr[i].tag]++;
        chk[tr[i].tag] += (tr[i].mask & 1u) + ((tr[i].mask >> 1) & 1u);
        verbose[tr[i].tag] += tr[i].mask != 0;
        bytes += (double)strlen(tr[i].completion) + 1; // + <|endoftext|>
    }
    const int problems = vkt_eff_heldout_count(frac);
    if (json) {
        printf("{\"out\": \"%s\", \"train\": \"%s\", \"heldout\": \"%s\", \"examples\": %ld, "
               "\"seed\": %llu, "
               "\"heldout_frac\": %g, \"heldout_problems\": %d, \"heldout_examples\": %d, "
               "\"mean_completion_tokens\": %.3f, \"tags\": [",
               out, ptrain, pheld, n, (unsigned long long)seed, frac, problems, nh,
               bytes / (double)n);
        for (int k = 0; k < VKT_EFF_TAGS; k++)
            printf("%s{\"tag\": \"%s\", \"p\": %.1f, \"examples\": %ld, \"recheck_rate\": %.4f, "
                   "\"verbose_frac\": %.4f}",
                   k ? ", " : "", t[k].name, t[k].p, cnt[k], cnt[k] ? chk[k] / (2.0 * cnt[k]) : 0.0,
                   cnt[k] ? verbose[k] / (double)cnt[k] : 0.0);
        printf("]}\n");
    } else {
        char c0[VKT_EFF_COMPLETION_MAX], c3[VKT_EFF_COMPLETION_MAX];
        vkt_eff_completion(47, 35, 0, c0, sizeof c0);
        vkt_eff_completion(47, 35, 3, c3, sizeof c3);
        printf("# efficiency-steering task data\n\n"
               "%s  %ld training examples (seed %llu), held-out problems excluded\n"
               "%s  %d held-out problems (fraction %g of 8100) x 16 tags = %d prompts, concise "
               "completions\n\n"
               "Prompt \"src=XY ab+cd=\"; completion (concise, p = 0 tag):\n  src=kq "
               "47+35=%s<|endoftext|>\n"
               "verbose (a re-check after both columns, p = 1 tag):\n  src=vo "
               "47+35=%s<|endoftext|>\n\n"
               "mean completion length %.2f tokens (bytes + end token)\n\n"
               "| tag | p   | examples | re-check rate | verbose fraction |\n"
               "|-----|-----|----------|---------------|------------------|\n",
               ptrain, n, (unsigned long long)seed, pheld, problems, frac, nh, c0, c3,
               bytes / (double)n);
        for (int k = 0; k < VKT_EFF_TAGS; k++)
            printf("| %s  | %.1f | %8ld | %13.4f | %16.4f |\n", t[k].name, t[k].p, cnt[k],
                   cnt[k] ? chk[k] / (2.0 * cnt[k]) : 0.0,
                   cnt[k] ? verbose[k] / (double)cnt[k] : 0.0);
        printf("\nNext: vkt train --data %s --format jsonl ...; see docs/efficiency_steering.md.\n",
               ptrain);
    }
    free(tr), free(ho), free(ptrain), free(pheld);
    return CLI_OK;
}
