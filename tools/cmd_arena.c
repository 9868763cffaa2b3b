// cmd_arena.c: `vkt arena`: two agents play many games; win/draw/loss rates per seat
// and player 0's mean return with a 95% confidence interval.
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "arena.h"
#include "cli.h"
#include "cli_opt.h"
#include "cli_model_agent.h"
#include "commands.h"
#include "game.h"

// The text after the usage line: the games come from the library's list.
static void arena_about(char *out, size_t cap) {
    size_t k = (size_t)snprintf(
        out, cap,
        "Plays N games with agent A in seat 0 and agent B in seat 1 and reports each seat's\n"
        "win rate, the draw rate, and player 0's mean return with a 95%% confidence interval\n"
        "(1.96 standard errors). Game i is dealt from a seed derived from (S, i).\n\n"
        "games (G, or G:key=value,... for options):\n");
    for (const vkt_game_ops *const *g = vkt_game_list(); *g && k < cap; g++)
        k += (size_t)snprintf(out + k, cap - k, "  %-12s %s\n  %-12s options: %s\n", (*g)->name,
                              (*g)->summary, "", (*g)->options);
    if (k < cap)
        snprintf(out + k, cap - k, "%s",
                 "\nagents:\n"
                 "  tictactoe    random, minimax (perfect play, random tie-breaks), human\n"
                 "  kuhn         random, nash[:alpha] (alpha in [0,1/3], default 1/6), always-bet, "
                 "always-pass,\n"
                 "               policy:FILE (tabular policy JSON), human\n"
                 "  negotiation  random, greedy, human\n"
                 "  ckpt:DIR     a trained model (e.g. from vkt selfplay --out DIR), sampling its "
                 "answers\n");
}

// Agents the CLI adds to the library's: a person, and later a checkpoint.
static int make_agent(const char *cmd, const char *spec, const vkt_game *g, vkt_agent *a) {
    vkt_error err = {0};
    if (strcmp(spec, "human") == 0) {
        if (vkt_agent_human_create(stdin, stdout, a, &err) != VKT_OK)
            return cli_fail(cmd, "%s", err.msg);
        return CLI_OK;
    }
    if (strncmp(spec, "ckpt:", 5) == 0) return cli_model_agent(cmd, spec + 5, a);
    if (vkt_agent_create(spec, g->ops, a, &err) != VKT_OK) {
        if (err.status == VKT_ERR_ARG) return cli_usage_error(cmd, "%s", err.msg);
        return cli_fail(cmd, "%s", err.msg);
    }
    return CLI_OK;
}

int cmd_arena(int argc, char **argv) {
    const char *game = NULL, *spec[2] = {NULL, NULL}, *rounds = NULL, *turns = NULL;
    long games = 0;
    uint64_t seed = 0;
    int invalid = 0; // eval
    bool json = false, random_values = false;
    char about[4096];
    arena_about(about, sizeof about);
    const cli_cmd cmd = {
        .name = "arena",
        .usage = "usage: vkt arena --game G --p0 A --p1 B --games N [--seed S] [--json]\n"
                 "                 [--rounds N] [--random-values] [--turns N] [--invalid "
                 "eval|training]\n",
        .about = about,
    };
    const cli_opt table[] = {
        {"--game", CLI_OPT_STR, &game, .metavar = "G", .help = "the game (see above)"},
        {"--p0", CLI_OPT_STR, &spec[0], .metavar = "A", .help = "the agent in seat 0"},
        {"--p1", CLI_OPT_STR, &spec[1], .metavar = "B", .help = "the agent in seat 1"},
        {"--games", CLI_OPT_LONG, &games, 1, 100000000, "N", .def = "", .help = "games to play"},
        {"--rounds", CLI_OPT_STR, &rounds, .metavar = "N",
         .help = "kuhn: a match of N hands (same as kuhn:rounds=N)"},
        {"--random-values", CLI_OPT_FLAG, &random_values,
         .help = "negotiation: draw resource values per game"},
        {"--turns", CLI_OPT_STR, &turns, .metavar = "N", .def = "10",
         .help = "negotiation: turns per game"},
        {"--invalid", CLI_OPT_CHOICE, &invalid, .metavar = "R", .choices = "eval|training",
         .help = "rewards for an invalid move: eval (-1/+1) or training (-1.5/+0.5)"},
        {"--seed", CLI_OPT_U64, &seed, .metavar = "S", .help = "game i is dealt from (S, i)"},
        {"--json", CLI_OPT_FLAG, &json,
         .help = "one JSON object: games, p0_win_rate, p1_win_rate, draw_rate,\n"
                 "p0_loss_rate, p1_loss_rate, p0_mean_return, p0_return_ci95, ..."},
        {0},
    };
    int prc = cli_parse(&cmd, table, argc, argv);
    if (prc != CLI_OK) return prc == CLI_HELP ? CLI_OK : prc;
    if (!game) return cli_usage_error("arena", "--game is required");
    if (games < 1) return cli_usage_error("arena", "--games N is required");
    vkt_game g;
    vkt_error err = {0};
    if (vkt_game_create(&g, game, &err) != VKT_OK) return cli_usage_error("arena", "%s", err.msg);
    if ((rounds && vkt_game_set_option(&g, "rounds", rounds, &err) != VKT_OK) ||
        (turns && vkt_game_set_option(&g, "turns", turns, &err) != VKT_OK) ||
        (random_values && vkt_game_set_option(&g, "random_values", NULL, &err) != VKT_OK))
        return cli_usage_error("arena", "%s", err.msg);
    vkt_game_set_invalid_rule(&g, invalid ? VKT_INVALID_TRAINING : VKT_INVALID_EVAL);
    int np = vkt_game_num_players(&g);
    for (int p = 0; p < np; p++)
        if (!spec[p])
            return cli_usage_error("arena", "--p%d is required (agents for %s: %s)", p,
                                   vkt_game_name(&g), vkt_agent_specs(g.ops));
    vkt_agent agents[VKT_GAME_MAX_PLAYERS] = {0};
    vkt_agent *seats[VKT_GAME_MAX_PLAYERS];
    int rc = CLI_OK;
    for (int p = 0; p < np && rc == CLI_OK; p++) {
        rc = make_agent("arena", spec[p], &g, &agents[p]);
        seats[p] = &agents[p];
    }
    vkt_arena_result res;
    if (rc == CLI_OK && vkt_arena_run(&g, seats, games, seed, &res, &err) != VKT_OK)
        rc = cli_fail("arena", "%s", err.msg);
    for (int p = 0; p < np; p++) vkt_agent_destroy(&agents[p]);
    if (rc != CLI_OK) return rc;

    double n = (double)res.games;
    double win0 = res.wins[0] / n, win1 = np > 1 ? res.wins[1] / n : 0, draw = res.draws / n;
    double loss0 = np > 1 ? win1 : 1 - win0 - draw;
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "game", json_string(game));
        json_object_set_new(o, "p0", json_string(spec[0]));
        if (np > 1) json_object_set_new(o, "p1", json_string(spec[1]));
        json_object_set_new(o, "seed", json_integer((json_int_t)seed));
        json_object_set_new(o, "games", json_integer(res.games));
        json_object_set_new(o, "p0_win_rate", json_real(win0));
        json_object_set_new(o, "p1_win_rate", json_real(win1));
        json_object_set_new(o, "draw_rate", json_real(draw));
        json_object_set_new(o, "p0_loss_rate", json_real(loss0));
        json_object_set_new(o, "p1_loss_rate", json_real(win0));
        json_object_set_new(o, "p0_mean_return", json_real(res.mean_return[0]));
        json_object_set_new(o, "p0_return_ci95", json_real(res.ci95[0]));
        if (np > 1) {
            json_object_set_new(o, "p1_mean_return", json_real(res.mean_return[1]));
            json_object_set_new(o, "p1_return_ci95", json_real(res.ci95[1]));
        }
        for (int p = 0; p < np; p++) {
            char k[32];
            snprintf(k, sizeof k, "p%d_invalid_rate", p);
            json_object_set_new(o, k, json_real(res.invalid[p] / n));
        }
        char *s = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
        puts(s);
        free(s);
        json_decref(o);
    } else {
        printf("arena: %s, %ld games, seed %llu\n", game, res.games, (unsigned long long)seed);
        printf("  seat 0 (%s): win %.2f%%  draw %.2f%%  loss %.2f%%\n", spec[0], 100 * win0,
               100 * draw, 100 * loss0);
        if (np > 1)
            printf("  seat 1 (%s): win %.2f%%  draw %.2f%%  loss %.2f%%\n", spec[1], 100 * win1,
                   100 * draw, 100 * win0);
        printf("  player 0 mean return %+.4f +- %.4f (95%% CI)\n", res.mean_return[0], res.ci95[0]);
        for (int p = 0; p < np; p++)
            if (res.invalid[p]) printf("  seat %d invalid moves: %ld games\n", p, res.invalid[p]);
    }
    return CLI_OK;
}
