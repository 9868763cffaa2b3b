// rl_mix.c: parsing a game mix and each game's settings (see rl_mix.h).
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "game.h"
#include "rl_mix.h"
#include "rl_prompt.h"

// The item's game name, if it names a registered game ("kuhn", "kuhn:rounds=3").
static const vkt_game_ops *item_game(const char *item, size_t len) {
    char name[64];
    size_t n = 0;
    while (n < len && item[n] != ':' && n + 1 < sizeof name) name[n] = item[n], n++;
    if (n < len && item[n] != ':') return NULL;
    name[n] = 0;
    return vkt_game_find(name);
}

static vkt_status fill(vkt_rl_game_info *gi, vkt_error *err) {
    vkt_game g;
    VKT_TRY(vkt_game_create(&g, gi->spec, err));
    gi->name = g.ops->name;
    gi->players = vkt_game_num_players(&g);
    gi->prompt_max = (int)vkt_rl_prompt_max(&g);
    gi->adv = VKT_RL_ADV_RAE, gi->replays = 1, gi->max_new_tokens = 16, gi->strong = NULL;
    gi->warmup_steps = 400, gi->warmup_lr = 3e-3;
    if (!strcmp(gi->name, "kuhn")) {
        gi->adv = VKT_RL_ADV_GROUP, gi->strong = "nash", gi->max_new_tokens = 8, gi->max_legal = 2;
        // Without the ramp, 1 seed in 3 ended the warm-up at 16% invalid (docs/selfplay.md).
        gi->warmup_steps = 150, gi->warmup_lr = 1e-2, gi->warmup_ramp = 30;
        gi->kuhn_exact = gi->prompt_max > 0; // one hand
    } else if (!strcmp(gi->name, "tictactoe")) {
        gi->strong = "minimax", gi->max_new_tokens = 8, gi->warmup_expand = true, gi->max_legal = 9;
        gi->warmup_steps = 800; // which cells are free: ~900 steps to < 4% (docs/selfplay.md)
    } else if (!strcmp(gi->name, "negotiation")) {
        gi->strong = "greedy",
        gi->max_new_tokens = 32; // "[Offer: 20 Wood -> 20 Gold]" + <|endoftext|> = 28
    } else if (!strcmp(gi->name, "offswitch")) {
        gi->adv = VKT_RL_ADV_GROUP_MEAN, gi->replays = 8, gi->max_new_tokens = 8,
        gi->offswitch = true;
        gi->max_legal = 3;
        gi->warmup_expand = true,
        gi->warmup_steps = 200; // three answers, always legal: the format only
    }
    return VKT_OK;
}

vkt_status vkt_rl_mix_parse(const char *list, vkt_rl_mix *out, vkt_error *err) {
    memset(out, 0, sizeof *out);
    if (!list || !*list) return vkt_fail(err, VKT_ERR_ARG, "game list is empty");
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 0) return vkt_fail(err, VKT_ERR_ARG, "game list '%s': empty item", list);
        bool is_game = item_game(p, len) != NULL;
        if (is_game && out->n == VKT_RL_MAX_GAMES)
            return vkt_fail(err, VKT_ERR_ARG, "game list '%s': more than %d games", list,
                            VKT_RL_MAX_GAMES);
        if (!is_game && (out->n == 0 || !strchr(out->g[out->n - 1].spec, ':')))
            return vkt_fail(
                err, VKT_ERR_ARG,
                "game list '%s': '%.*s' is not a game (a game's options follow its ':')", list,
                (int)len, p);
        if (is_game) out->n++;
        // A new game, or one more option of the current one.
        vkt_rl_game_info *gi = &out->g[out->n - 1];
        size_t have = strlen(gi->spec);
        if (have + len + 2 > sizeof gi->spec)
            return vkt_fail(err, VKT_ERR_ARG, "game list '%s': spec too long", list);
        if (!is_game) gi->spec[have++] = ',';
        memcpy(gi->spec + have, p, len);
        gi->spec[have + len] = 0;
        p += len + (e ? 1 : 0);
        if (e && !*p) return vkt_fail(err, VKT_ERR_ARG, "game list '%s': empty item", list);
    }
    for (int i = 0; i < out->n; i++) {
        VKT_TRY(fill(&out->g[i], err));
        for (int j = 0; j < i; j++)
            if (!strcmp(out->g[i].name, out->g[j].name))
                return vkt_fail(err, VKT_ERR_ARG, "game list '%s': %s appears twice", list,
                                out->g[i].name);
    }
    return VKT_OK;
}

int vkt_rl_mix_share(const vkt_rl_mix *m, int G, int i) {
    if (i < 0 || i >= m->n) return 0;
    return G / m->n + (i < G % m->n ? 1 : 0);
}

void vkt_rl_mix_warmup_defaults(const vkt_rl_mix *m, int *steps, double *lr) {
    *steps = 0, *lr = 0;
    for (int i = 0; i < m->n; i++) {
        if (m->g[i].warmup_steps > *steps) *steps = m->g[i].warmup_steps;
        if (*lr == 0 || m->g[i].warmup_lr < *lr) *lr = m->g[i].warmup_lr;
    }
}

int vkt_rl_mix_find(const vkt_rl_mix *m, const char *name) {
    for (int i = 0; i < m->n; i++)
        if (!strcmp(m->g[i].name, name)) return i;
    return -1;
}
