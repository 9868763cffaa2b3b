// cmd_play.c: `vkt play`: a person plays a game in the terminal against an opponent.
// Input is read line by line from stdin, so a script can play through a pipe.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "cli.h"
#include "cli_opt.h"
#include "cli_model_agent.h"
#include "commands.h"
#include "game.h"
#include "protocol.h"

static const cli_cmd CMD = {
    .name = "play",
    .usage = "usage: vkt play --game G [--opponent O] [--seat 0|1] [--seed S]\n"
             "                [--rounds N] [--random-values] [--turns N]\n",
    .about = "Plays one game (or one Kuhn match) against an opponent. The board or hand is shown\n"
             "before each of your moves; type the move bare (4, bet, Offer: 3 Wood -> 2 Gold) or\n"
             "as a model would ([4], \\boxed{Bet}). An illegal move is answered with the legal\n"
             "moves and the game goes on. Input comes from stdin, one move a line.\n",
};

static const char *default_opponent(const char *name) {
    if (!strcmp(name, "tictactoe")) return "minimax";
    if (!strcmp(name, "kuhn")) return "nash";
    if (!strcmp(name, "negotiation")) return "greedy";
    return "random";
}

int cmd_play(int argc, char **argv) {
    const char *game = NULL, *opp = NULL, *rounds = NULL, *turns = NULL;
    int seat = 0;
    uint64_t seed = 0;
    bool have_seed = false, random_values = false;
    const cli_opt table[] = {
        {"--game", CLI_OPT_STR, &game, .metavar = "G",
         .help = "tictactoe | kuhn | negotiation (G:key=value,... for options)"},
        {"--opponent", CLI_OPT_STR, &opp, .metavar = "O",
         .def = "minimax (tictactoe), nash (kuhn), greedy (negotiation)",
         .help = "ckpt:DIR plays a trained model (e.g. from vkt selfplay --out DIR);\n"
                 "see vkt arena --help for every agent"},
        {"--seat", CLI_OPT_INT, &seat, 0, 1, "0|1", .help = "your seat (player 0 moves first)"},
        {"--seed", CLI_OPT_U64, &seed, .metavar = "S", .given = &have_seed,
         .def = "the clock's (printed)", .help = "deal and opponent dice"},
        {"--rounds", CLI_OPT_STR, &rounds, .metavar = "N", .help = "kuhn: a match of N hands"},
        {"--random-values", CLI_OPT_FLAG, &random_values,
         .help = "negotiation: draw the resource values"},
        {"--turns", CLI_OPT_STR, &turns, .metavar = "N", .def = "10",
         .help = "negotiation: turns in the game"},
        {0},
    };
    int prc = cli_parse(&CMD, table, argc, argv);
    if (prc != CLI_OK) return prc == CLI_HELP ? CLI_OK : prc;
    if (!game) return cli_usage_error("play", "--game is required (tictactoe, kuhn, negotiation)");
    vkt_game g;
    vkt_error err = {0};
    if (vkt_game_create(&g, game, &err) != VKT_OK) return cli_usage_error("play", "%s", err.msg);
    if ((rounds && vkt_game_set_option(&g, "rounds", rounds, &err) != VKT_OK) ||
        (turns && vkt_game_set_option(&g, "turns", turns, &err) != VKT_OK) ||
        (random_values && vkt_game_set_option(&g, "random_values", NULL, &err) != VKT_OK))
        return cli_usage_error("play", "%s", err.msg);
    int np = vkt_game_num_players(&g), me = (int)seat;
    if (me >= np)
        return cli_usage_error("play", "--seat %d: %s has %d player(s)", me, vkt_game_name(&g), np);
    if (!opp) opp = default_opponent(vkt_game_name(&g));
    if (!have_seed) seed = (uint64_t)time(NULL);
    vkt_agent human, other = {0};
    if (vkt_agent_human_create(stdin, stdout, &human, &err) != VKT_OK)
        return cli_fail("play", "%s", err.msg);
    if (np > 1 && !strncmp(opp, "ckpt:", 5)) {
        int rc = cli_model_agent("play", opp + 5, &other);
        if (rc != CLI_OK) {
            vkt_agent_destroy(&human);
            return rc;
        }
    } else if (np > 1 && vkt_agent_create(opp, g.ops, &other, &err) != VKT_OK) {
        vkt_agent_destroy(&human);
        return cli_usage_error("play", "%s", err.msg);
    }
    if (vkt_game_reset(&g, seed, &err) != VKT_OK) return cli_fail("play", "%s", err.msg);
    printf("vkt play: %s, you are Player %d, opponent %s, seed %llu\n", game, me,
           np > 1 ? opp : "none", (unsigned long long)seed);
    vkt_rng rng;
    vkt_rng_seed(&rng, vkt_rng_derive(seed, 1));
    int rc = CLI_OK;
    while (!vkt_game_is_terminal(&g)) {
        int p = vkt_game_current_player(&g), a;
        vkt_agent *who = p == me ? &human : &other;
        if (vkt_agent_act(who, &g, p, &rng, &a, &err) != VKT_OK) {
            rc = cli_fail("play", "%s", err.msg);
            break;
        }
        if (a == VKT_ACTION_INVALID) {
            vkt_game_forfeit(&g, p);
            break;
        }
        char text[VKT_ACTION_TEXT_MAX];
        vkt_game_action_text(&g, a, text, sizeof text, NULL);
        printf("%s: [%s]\n", p == me ? "You play" : "Opponent plays", text);
        if (vkt_game_apply(&g, a, &err) != VKT_OK) {
            rc = cli_fail("play", "%s", err.msg);
            break;
        }
    }
    if (rc == CLI_OK) {
        char obs[16384];
        vkt_protocol_observation(&g, me, obs, sizeof obs);
        double r[VKT_GAME_MAX_PLAYERS];
        vkt_game_returns(&g, r);
        printf("\n%s", obs);
        bool won = true, lost = false;
        for (int p = 0; p < np; p++) {
            if (p == me) continue;
            won = won && r[me] > r[p];
            lost = lost || r[me] < r[p];
        }
        printf("Result: %s (your return %+g)\n",
               np == 1 ? "game over"
               : won   ? "you win"
               : lost  ? "you lose"
                       : "a draw",
               r[me]);
    }
    vkt_agent_destroy(&human);
    vkt_agent_destroy(&other);
    return rc;
}
