#!/usr/bin/env python3
"""Writes the tiny test tokenizer in this directory: a GPT-2-style ByteLevel BPE of the
256 byte tokens (ids 0..255 in GPT-2's order), 48 merges learned from CORPUS below
(ids 256..303) and three special tokens (304 <|endoftext|>, 305 <|im_start|>,
306 <|im_end|>): 307 ids. Plain Python, no libraries; run it to regenerate the files."""
import json
import os
import re

CORPUS = ("the cat sat on the mat. the dog sat on the log. the cat and the dog ate the "
          "food on the mat. then the cat saw the dog and the dog saw the cat. once upon a time "
          "there was a little bird that sang in the morning, and every child in the town "
          "listened to the song of the little bird while the sun was rising over the hills. "
          "question: what is two plus three? answer: five. question: what is one plus one? "
          "answer: two. ")
N_MERGES = 48
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
# GPT-2's pre-tokenizer pattern (tokenizers' ByteLevel use_regex).
PAT = r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+"""


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return bs, [chr(c) for c in cs]


def main():
    bs, cs = bytes_to_unicode()
    b2u = dict(zip(bs, cs))
    vocab = {cs[i]: i for i in range(256)}  # GPT-2's ids for the byte tokens
    words = {}
    for w in re.findall(PAT, CORPUS):
        key = tuple(b2u[b] for b in w.encode())
        words[key] = words.get(key, 0) + 1
    merges = []
    for _ in range(N_MERGES):
        pairs = {}
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] = pairs.get((a, b), 0) + c
        best = max(sorted(pairs), key=lambda p: pairs[p])  # most frequent, first in order on ties
        merges.append(best)
        vocab[best[0] + best[1]] = len(vocab)
        new = {}
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new[tuple(out)] = new.get(tuple(out), 0) + c
        words = new
    added = [{"id": len(vocab) + i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, s in enumerate(SPECIALS)]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    tok = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": None, "pre_tokenizer": byte_level, "post_processor": byte_level,
        "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False, "vocab": vocab, "merges": [a + " " + b for a, b in merges]},
    }
    here = os.path.dirname(os.path.abspath(__file__))

    def dump(name, obj):
        with open(os.path.join(here, name), "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False, indent=1)
            f.write("\n")

    dump("tokenizer.json", tok)
    dump("tokenizer_config.json", {
        "added_tokens_decoder": {str(a["id"]): {k: v for k, v in a.items() if k != "id"} for a in added},
        "bos_token": None, "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
        "clean_up_tokenization_spaces": False, "model_max_length": 256, "tokenizer_class": "GPT2Tokenizer"})
    dump("special_tokens_map.json", {"eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
                                     "additional_special_tokens": ["<|im_start|>", "<|im_end|>"]})
    dump("generation_config.json", {"eos_token_id": [added[0]["id"], added[2]["id"]], "pad_token_id":
                                    added[0]["id"]})


if __name__ == "__main__":
    main()
