// agent_human.c: a person at a terminal (or a script on a pipe). Shows the
// observation, reads a line, and keeps asking until the line names a legal move;
// the protocol's own matching decides, so people and models obey the same rules,
// except that a person may also type the move bare ("4", "bet").
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "protocol.h"

typedef struct human {
    FILE *in, *out;
} human;

// Reads one line into buf, dropping the rest of an overlong line. False at EOF.
static bool read_line(FILE *in, char *buf, size_t cap) {
    if (!fgets(buf, (int)cap, in)) return false;
    size_t n = strlen(buf);
    if (n && buf[n - 1] == '\n')
        buf[--n] = 0;
    else {
        int c;
        while ((c = fgetc(in)) != EOF && c != '\n') {}
    }
    return true;
}

static vkt_status human_act(void *self, const vkt_game *g, int player, vkt_rng *rng, int *action,
                            vkt_error *err) {
    human *h = self;
    char obs[16384];
    vkt_protocol_observation(g, player, obs, sizeof obs);
    fprintf(h->out, "\n%s", obs);
    for (;;) {
        fprintf(h->out, "Your move> ");
        fflush(h->out);
        char line[1024];
        if (!read_line(h->in, line, sizeof line))
            return vkt_fail(err, VKT_ERR_INTERRUPTED, "%s: input ended before the game did",
                            vkt_game_name(g));
        if (!isatty(fileno(h->in))) fprintf(h->out, "%s\n", line); // echo piped input
        if (strspn(line, " \t\r") == strlen(line)) continue;
        vkt_error why = {0};
        bool wrapped = strchr(line, '[') || strstr(line, "\\boxed{");
        vkt_status s = wrapped ? vkt_protocol_parse(g, line, strlen(line), action, &why)
                               : vkt_protocol_match(g, line, action, &why);
        if (s == VKT_OK) return VKT_OK;
        char legal[2048];
        vkt_protocol_legal_list(g, legal, sizeof legal);
        fprintf(h->out, "'%s' is not a legal move. %s\n", line, legal);
    }
}

vkt_status vkt_agent_human_create(FILE *in, FILE *out, vkt_agent *a, vkt_error *err) {
    human *h = malloc(sizeof *h);
    if (!h) return vkt_fail(err, VKT_ERR_NOMEM, "human agent: out of memory");
    h->in = in;
    h->out = out;
    *a = (vkt_agent){.self = h, .name = "human", .act = human_act, .probs = NULL, .destroy = free};
    return VKT_OK;
}
