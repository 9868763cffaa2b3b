// test_rl_mix.c: parsing a self-play game mix (options continue a spec after its ':',
// errors name the item at fault), the even split of an update's games, and each game's
// settings (strong opponent, default advantage and replays, answer budget, prompt bound).
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "rl_mix.h"

static void test_parse(void **st) {
    (void)st;
    vkt_rl_mix m;
    vkt_error err = {0};
    assert_int_equal(vkt_rl_mix_parse("kuhn", &m, &err), VKT_OK);
    assert_int_equal(m.n, 1);
    assert_string_equal(m.g[0].spec, "kuhn");
    assert_true(m.g[0].kuhn_exact);
    assert_int_equal(vkt_rl_mix_parse("kuhn,tictactoe,negotiation", &m, &err), VKT_OK);
    assert_int_equal(m.n, 3);
    assert_string_equal(m.g[1].spec, "tictactoe");
    assert_int_equal(vkt_rl_mix_find(&m, "negotiation"), 2);
    assert_int_equal(vkt_rl_mix_find(&m, "offswitch"), -1);
    // Options continue a spec after its ':'; the next game name starts a new one.
    assert_int_equal(
        vkt_rl_mix_parse(
            "negotiation:turns=12,random_values,kuhn,offswitch:mu=-0.5:0.5,sigma=0.1:1", &m, &err),
        VKT_OK);
    assert_int_equal(m.n, 3);
    assert_string_equal(m.g[0].spec, "negotiation:turns=12,random_values");
    assert_string_equal(m.g[1].spec, "kuhn");
    assert_string_equal(m.g[2].spec, "offswitch:mu=-0.5:0.5,sigma=0.1:1");
    // A Kuhn match is a game without a compact prompt and without exact analysis.
    assert_int_equal(vkt_rl_mix_parse("kuhn:rounds=3", &m, &err), VKT_OK);
    assert_false(m.g[0].kuhn_exact);
    assert_int_equal(m.g[0].prompt_max, 0);
    // Errors name what is wrong.
    static const struct {
        const char *list, *says;
    } bad[] = {
        {"", "empty"},
        {"kuhn,", "empty item"},
        {"kuhn,,tictactoe", "empty item"},
        {"chess", "'chess'"},
        {"kuhn,chess", "'chess' is not a game"},
        {"kuhn,kuhn", "kuhn appears twice"},
        {"kuhn:rounds=3,kuhn", "appears twice"},
        {"negotiation:turns=99", "turns=99"},
        {"kuhn,tictactoe,negotiation,offswitch,kuhn:rounds=2", "twice"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.msg[0] = 0;
        assert_int_equal(vkt_rl_mix_parse(bad[i].list, &m, &err), VKT_ERR_ARG);
        if (!strstr(err.msg, bad[i].says))
            fail_msg("'%s': message '%s' lacks '%s'", bad[i].list, err.msg, bad[i].says);
    }
}

static void test_settings_and_share(void **st) {
    (void)st;
    vkt_rl_mix m;
    assert_int_equal(vkt_rl_mix_parse("kuhn,tictactoe,negotiation,offswitch", &m, NULL), VKT_OK);
    static const struct {
        const char *strong;
        vkt_rl_adv_mode adv;
        int replays, tokens, prompt, players;
    } want[] = {
        {"nash", VKT_RL_ADV_GROUP, 1, 8, 44, 2},
        {"minimax", VKT_RL_ADV_RAE, 1, 8, 33, 2},
        {"greedy", VKT_RL_ADV_RAE, 1, 32, 89, 2},
        {NULL, VKT_RL_ADV_GROUP_MEAN, 8, 8, 72, 1},
    };
    for (int i = 0; i < 4; i++) {
        const vkt_rl_game_info *g = &m.g[i];
        if (want[i].strong)
            assert_string_equal(g->strong, want[i].strong);
        else
            assert_null(g->strong);
        assert_int_equal(g->adv, want[i].adv);
        assert_int_equal(g->replays, want[i].replays);
        assert_int_equal(g->max_new_tokens, want[i].tokens);
        assert_int_equal(g->prompt_max, want[i].prompt);
        assert_int_equal(g->players, want[i].players);
        assert_int_equal(g->offswitch, i == 3);
        assert_int_equal(g->kuhn_exact, i == 0);
    }
    assert_false(m.g[0].warmup_expand || m.g[2].warmup_expand);
    assert_true(m.g[1].warmup_expand && m.g[3].warmup_expand);
    assert_true(m.g[0].max_legal == 2 && m.g[1].max_legal == 9 && m.g[2].max_legal == 0 &&
                m.g[3].max_legal == 3);
    int steps;
    double lr;
    vkt_rl_mix_warmup_defaults(&m, &steps, &lr);
    assert_true(steps == 800 && lr == 3e-3);
    vkt_rl_mix k;
    assert_int_equal(vkt_rl_mix_parse("kuhn", &k, NULL), VKT_OK); // the documented Kuhn warm-up
    vkt_rl_mix_warmup_defaults(&k, &steps, &lr);
    assert_true(steps == 150 && lr == 1e-2 && k.g[0].warmup_ramp == 30);
    // "[Offer: 20 Wood -> 20 Gold]" + <|endoftext|> fits negotiation's budget.
    assert_true((int)strlen("[Offer: 20 Wood -> 20 Gold]") + 1 <= m.g[2].max_new_tokens);
    // Even split, the first games one more.
    assert_int_equal(vkt_rl_mix_share(&m, 130, 0), 33);
    assert_int_equal(vkt_rl_mix_share(&m, 130, 1), 33);
    assert_int_equal(vkt_rl_mix_share(&m, 130, 2), 32);
    assert_int_equal(vkt_rl_mix_share(&m, 130, 3), 32);
    assert_int_equal(vkt_rl_mix_share(&m, 130, 4), 0);
    int sum = 0;
    for (int i = 0; i < 4; i++) sum += vkt_rl_mix_share(&m, 7, i);
    assert_int_equal(sum, 7);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_settings_and_share),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
