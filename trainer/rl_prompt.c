// rl_prompt.c: compact role-conditioned prompts and the random-play warm-up data (see rl_prompt.h).
#include <jansson.h>
#include <string.h>

#include "kuhn.h"
#include "protocol.h"
#include "rl_prompt.h"
#include "textbuf.h"

static void game_title(const vkt_game *g, char *out, size_t cap) {
    const char *n = vkt_game_name(g);
    snprintf(out, cap, "%s", n);
    if (out[0] >= 'a' && out[0] <= 'z') out[0] = (char)(out[0] - 'a' + 'A');
}

size_t vkt_rl_prompt(const vkt_game *g, int player, char *buf, size_t cap) {
    vkt_textbuf t = vkt_textbuf_make(buf, cap);
    char title[32];
    game_title(g, title, sizeof title);
    const vkt_kuhn *k = vkt_kuhn_state(g);
    if (k && k->rounds == 1 && k->hand < k->rounds) {
        static const char card[3] = {'J', 'Q', 'K'};
        const vkt_kuhn_hand *h = &k->hands[k->hand];
        vkt_textbuf_printf(&t, "%s P%d card %c hist %s moves", title, player, card[h->cards[player]],
                           h->nh ? h->hist : "-");
        int acts[VKT_GAME_MAX_LEGAL], n = vkt_game_legal_actions(g, acts);
        for (int i = 0; i < n; i++) {
            char a[VKT_ACTION_TEXT_MAX];
            if (vkt_game_action_text(g, acts[i], a, sizeof a, NULL) != VKT_OK) a[0] = 0;
            vkt_textbuf_printf(&t, " [%s]", a);
        }
        vkt_textbuf_printf(&t, "\n");
        return vkt_textbuf_len(&t);
    }
    vkt_textbuf_printf(&t, "%s P%d\n", title, player);
    size_t head = vkt_textbuf_len(&t), avail = head < cap ? cap - head : 0;  // avail counts the NUL
    char one;
    size_t obs = vkt_protocol_observation(g, player, avail ? buf + head : &one, avail ? avail : 1);
    size_t total = head + obs + 1;
    if (total < cap) buf[head + obs] = '\n', buf[total] = 0;
    return total;
}

vkt_status vkt_rl_answer(const vkt_game *g, int action, char *buf, size_t cap, vkt_error *err) {
    char a[VKT_ACTION_TEXT_MAX];
    VKT_TRY(vkt_game_action_text(g, action, a, sizeof a, err));
    snprintf(buf, cap, "[%s]", a);
    return VKT_OK;
}

vkt_status vkt_rl_warmup_write(FILE *f, const char *spec, int64_t games, uint64_t seed, int64_t *lines,
                               vkt_error *err) {
    if (games < 0) return vkt_fail(err, VKT_ERR_ARG, "warmup: games %lld must be >= 0", (long long)games);
    vkt_game g;
    VKT_TRY(vkt_game_create(&g, spec, err));
    vkt_rng rng;
    vkt_rng_seed(&rng, seed);
    int64_t n = 0;
    size_t cap = 1 << 16;
    char *prompt = malloc(cap);
    if (!prompt) return vkt_fail(err, VKT_ERR_NOMEM, "warmup: prompt buffer");
    vkt_status s = VKT_OK;
    for (int64_t k = 0; k < games && s == VKT_OK; k++) {
        s = vkt_game_reset(&g, vkt_rng_derive(seed, (uint64_t)k), err);
        while (s == VKT_OK && !vkt_game_is_terminal(&g)) {
            int p = vkt_game_current_player(&g);
            int acts[VKT_GAME_MAX_LEGAL], na = vkt_game_legal_actions(&g, acts);
            int a = acts[vkt_rng_below(&rng, (uint64_t)na)];
            size_t need = vkt_rl_prompt(&g, p, prompt, cap);
            if (need >= cap) {
                s = vkt_fail(err, VKT_ERR_ARG, "warmup: prompt of %zu bytes is too long", need);
                break;
            }
            char ans[VKT_ACTION_TEXT_MAX + 2];
            s = vkt_rl_answer(&g, a, ans, sizeof ans, err);
            if (s != VKT_OK) break;
            json_t *o = json_object();
            json_object_set_new(o, "prompt", json_stringn(prompt, need));
            json_object_set_new(o, "completion", json_string(ans));
            char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
            json_decref(o);
            if (!line || fprintf(f, "%s\n", line) < 0) s = vkt_fail(err, VKT_ERR_IO, "warmup: write failed");
            free(line);
            n++;
            if (s == VKT_OK) s = vkt_game_apply(&g, a, err);
        }
    }
    free(prompt);
    if (lines) *lines = n;
    return s;
}
