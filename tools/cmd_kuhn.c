// cmd_kuhn.c: `vkt kuhn exploitability`: exact NashConv and exploitability of a
// tabular Kuhn policy (games/kuhn_policy.h).
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_opt.h"
#include "commands.h"
#include "kuhn_policy.h"

static const cli_cmd CMD = {
    .name = "kuhn",
    .usage = "usage: vkt kuhn exploitability --policy P [--br-out FILE] [--json]\n",
    .about = "Exact analysis of a tabular Kuhn Poker policy (OpenSpiel's rules), used by both "
             "seats:\n"
             "NashConv = sum over players of (best-response value - value), exploitability =\n"
             "NashConv / 2, value = player 0's expected chips when the policy plays itself.\n",
};

int cmd_kuhn(int argc, char **argv) {
    const char *policy = NULL, *br_out = NULL;
    bool json = false;
    const cli_opt table[] = {
        {"--policy", CLI_OPT_STR, &policy, .metavar = "P",
         .help = "random | always-bet | always-pass | nash[:alpha] (alpha in [0,1/3],\n"
                 "default 1/6, a number or a fraction like 1/9) | FILE: a JSON object\n"
                 "mapping the 12 information states \"0\",\"0p\",\"0b\",\"0pb\",\"1\",...,\"2pb\"\n"
                 "to P(bet or call), or to [P(pass), P(bet)]"},
        {"--br-out", CLI_OPT_STR, &br_out, .metavar = "FILE",
         .help = "also write the best responses (player 0's states from player 0's\n"
                 "response, player 1's from player 1's) as a policy JSON"},
        {"--json", CLI_OPT_FLAG, &json,
         .help = "JSON keys: policy, nash_conv, exploitability, value, br_value_p0, br_value_p1"},
        {0},
    };
    if (argc < 2) return cli_usage_error("kuhn", "missing subcommand: exploitability");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        cli_print_help(stdout, &CMD, table);
        return CLI_OK;
    }
    if (strcmp(argv[1], "exploitability"))
        return cli_usage_error("kuhn", "unknown subcommand '%s' (subcommands: exploitability)",
                               argv[1]);
    int rc = cli_parse(&CMD, table, argc - 1, argv + 1);
    if (rc != CLI_OK) return rc == CLI_HELP ? CLI_OK : rc;
    if (!policy) return cli_usage_error("kuhn", "--policy is required");
    vkt_kuhn_policy pi;
    vkt_error err = {0};
    if (vkt_kuhn_policy_from_spec(policy, &pi, &err) != VKT_OK) {
        if (err.status == VKT_ERR_ARG) return cli_usage_error("kuhn", "%s", err.msg);
        return cli_fail("kuhn", "%s", err.msg);
    }
    vkt_kuhn_policy br0, br1, both;
    double value = vkt_kuhn_value(&pi, &pi);
    double b0 = vkt_kuhn_best_response(&pi, 0, &br0), b1 = vkt_kuhn_best_response(&pi, 1, &br1);
    double nash_conv = vkt_kuhn_nash_conv(&pi);
    if (br_out) {
        for (int i = 0; i < VKT_KUHN_INFOSTATES; i++)
            both.bet[i] = vkt_kuhn_infostate_player(i) == 0 ? br0.bet[i] : br1.bet[i];
        if (vkt_kuhn_policy_save(br_out, &both, &err) != VKT_OK)
            return cli_fail("kuhn", "%s", err.msg);
    }
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "policy", json_string(policy));
        json_object_set_new(o, "nash_conv", json_real(nash_conv));
        json_object_set_new(o, "exploitability", json_real(nash_conv / 2));
        json_object_set_new(o, "value", json_real(value));
        json_object_set_new(o, "br_value_p0", json_real(b0));
        json_object_set_new(o, "br_value_p1", json_real(b1));
        char *s = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        puts(s);
        free(s);
        json_decref(o);
    } else {
        printf("policy %s\n", policy);
        printf("  value (player 0, self-play)   %+.12f\n", value);
        printf("  best response value, player 0 %+.12f\n", b0);
        printf("  best response value, player 1 %+.12f\n", b1);
        printf("  NashConv                      %.12f\n", nash_conv);
        printf("  exploitability                %.12f\n", nash_conv / 2);
    }
    return CLI_OK;
}
