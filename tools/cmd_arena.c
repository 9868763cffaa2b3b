// cmd_arena.c: `vkt arena`: two agents play many games; win/draw/loss rates per seat
// and player 0's mean return with a 95% confidence interval.
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "arena.h"
#include "cli.h"
#include "cli_model_agent.h"
#include "commands.h"
#include "game.h"

static void usage(FILE *f) {
    fprintf(f,
        "usage: vkt arena --game G --p0 A --p1 B --games N [--seed S] [--json]\n"
        "                 [--rounds N] [--random-values] [--turns N] [--invalid eval|training]\n\n"
        "Plays N games with agent A in seat 0 and agent B in seat 1 and reports each seat's\n"
        "win rate, the draw rate, and player 0's mean return with a 95%% confidence interval\n"
        "(1.96 standard errors). Game i is dealt from a seed derived from (S, i).\n\n"
        "games (G, or G:key=value,... for options):\n");
    for (const vkt_game_ops *const *g = vkt_game_list(); *g; g++)
        fprintf(f, "  %-12s %s\n  %-12s options: %s\n", (*g)->name, (*g)->summary, "", (*g)->options);
    fprintf(f,
        "\nagents:\n"
        "  tictactoe    random, minimax (perfect play, random tie-breaks), human\n"
        "  kuhn         random, nash[:alpha] (alpha in [0,1/3], default 1/6), always-bet, always-pass,\n"
        "               policy:FILE (tabular policy JSON), human\n"
        "  negotiation  random, greedy, human\n"
        "  ckpt:DIR     a trained model (e.g. from vkt selfplay --out DIR), sampling its answers\n\n"
        "options:\n"
        "  --rounds N        kuhn: a match of N hands (same as kuhn:rounds=N)\n"
        "  --random-values   negotiation: draw resource values per game\n"
        "  --turns N         negotiation: turns per game (default 10)\n"
        "  --invalid R       rewards for an invalid move: eval (-1/+1, default) or training (-1.5/+0.5)\n"
        "  --seed S          default 0\n"
        "  --json            one JSON object: games, p0_win_rate, p1_win_rate, draw_rate,\n"
        "                    p0_loss_rate, p1_loss_rate, p0_mean_return, p0_return_ci95, ...\n");
}

// Agents the CLI adds to the library's: a person, and later a checkpoint.
static int make_agent(const char *cmd, const char *spec, const vkt_game *g, vkt_agent *a) {
    vkt_error err = {0};
    if (strcmp(spec, "human") == 0) {
        if (vkt_agent_human_create(stdin, stdout, a, &err) != VKT_OK) return cli_fail(cmd, "%s", err.msg);
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
    const char *game = NULL, *spec[2] = {NULL, NULL}, *v, *rounds = NULL, *turns = NULL, *invalid = "eval";
    long games = 0;
    uint64_t seed = 0;
    bool json = false, random_values = false;
    for (int i = 1; i < argc; i++) {
        int r;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], "--random-values")) {
            random_values = true;
        } else if ((r = cli_value(argc, argv, &i, "--game", &game))) {
            if (r < 0) return CLI_USAGE;
        } else if ((r = cli_value(argc, argv, &i, "--p0", &spec[0]))) {
            if (r < 0) return CLI_USAGE;
        } else if ((r = cli_value(argc, argv, &i, "--p1", &spec[1]))) {
            if (r < 0) return CLI_USAGE;
        } else if ((r = cli_value(argc, argv, &i, "--rounds", &rounds))) {
            if (r < 0) return CLI_USAGE;
        } else if ((r = cli_value(argc, argv, &i, "--turns", &turns))) {
            if (r < 0) return CLI_USAGE;
        } else if ((r = cli_value(argc, argv, &i, "--invalid", &invalid))) {
            if (r < 0) return CLI_USAGE;
        } else if ((r = cli_value(argc, argv, &i, "--games", &v))) {
            if (r < 0 || !cli_int("arena", "--games", v, 1, 100000000, &games)) return CLI_USAGE;
        } else if ((r = cli_value(argc, argv, &i, "--seed", &v))) {
            if (r < 0 || !cli_u64("arena", "--seed", v, &seed)) return CLI_USAGE;
        } else {
            return cli_usage_error("arena", "unknown option '%s'", argv[i]);
        }
    }
    if (!game) return cli_usage_error("arena", "--game is required");
    if (games < 1) return cli_usage_error("arena", "--games N is required");
    vkt_game g;
    vkt_error err = {0};
    if (vkt_game_create(&g, game, &err) != VKT_OK) return cli_usage_error("arena", "%s", err.msg);
    if ((rounds && vkt_game_set_option(&g, "rounds", rounds, &err) != VKT_OK) ||
        (turns && vkt_game_set_option(&g, "turns", turns, &err) != VKT_OK) ||
        (random_values && vkt_game_set_option(&g, "random_values", NULL, &err) != VKT_OK))
        return cli_usage_error("arena", "%s", err.msg);
    if (!strcmp(invalid, "eval")) vkt_game_set_invalid_rule(&g, VKT_INVALID_EVAL);
    else if (!strcmp(invalid, "training")) vkt_game_set_invalid_rule(&g, VKT_INVALID_TRAINING);
    else return cli_usage_error("arena", "--invalid '%s' must be eval or training", invalid);
    int np = vkt_game_num_players(&g);
    for (int p = 0; p < np; p++)
        if (!spec[p]) return cli_usage_error("arena", "--p%d is required (agents for %s: %s)", p, vkt_game_name(&g), vkt_agent_specs(g.ops));
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
        printf("  seat 0 (%s): win %.2f%%  draw %.2f%%  loss %.2f%%\n", spec[0], 100 * win0, 100 * draw, 100 * loss0);
        if (np > 1)
            printf("  seat 1 (%s): win %.2f%%  draw %.2f%%  loss %.2f%%\n", spec[1], 100 * win1, 100 * draw, 100 * win0);
        printf("  player 0 mean return %+.4f +- %.4f (95%% CI)\n", res.mean_return[0], res.ci95[0]);
        for (int p = 0; p < np; p++)
            if (res.invalid[p]) printf("  seat %d invalid moves: %ld games\n", p, res.invalid[p]);
    }
    return CLI_OK;
}
