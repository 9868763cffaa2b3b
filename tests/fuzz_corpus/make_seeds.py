#!/usr/bin/env python3
"""make_seeds.py: writes the fuzz targets' seed corpora, tests/fuzz_corpus/<target>/, a
handful of small valid and invalid inputs each (copies of tests/data files for the
tokenizer and chat-template targets). Run from anywhere; it rewrites the seeds in place."""
import json
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")


def put(target, name, data):
    d = os.path.join(HERE, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def safetensors(tensors, meta=None, pad=b""):
    head, blob = {}, b""
    for name, dtype, shape, raw in tensors:
        offsets = [len(blob), len(blob) + len(raw)]
        head[name] = {"dtype": dtype, "shape": shape, "data_offsets": offsets}
        blob += raw
    if meta is not None:
        head["__metadata__"] = meta
    h = json.dumps(head).encode() + pad
    return struct.pack("<Q", len(h)) + h + blob


def gguf_str(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gguf(kvs, tensors, version=3, align=32):
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for key, typ, val in kvs:
        out += gguf_str(key) + struct.pack("<I", typ)
        out += gguf_str(val) if typ == 8 else struct.pack({4: "<I", 5: "<i", 6: "<f"}[typ], val)
    data, infos = b"", b""
    for name, vals in tensors:
        data += b"\0" * (-len(data) % align)
        infos += gguf_str(name) + struct.pack("<IQIQ", 1, len(vals), 0, len(data))
        data += struct.pack("<%df" % len(vals), *vals)
    out += infos
    return out + b"\0" * (-len(out) % align) + data


def copy(target, src, name):
    os.makedirs(os.path.join(HERE, target), exist_ok=True)
    shutil.copy(src, os.path.join(HERE, target, name))


def main():
    f32 = struct.pack("<4f", 1, -2, 0.5, 3)
    st = "fuzz_safetensors"
    put(st, "f32.safetensors", safetensors([("w", "F32", [2, 2], f32)], {"format": "pt"}))
    mixed = [("a", "F16", [2], b"\x00\x3c\x00\xc0"), ("b", "BF16", [1, 2], b"\x80\x3f\x00\x40"),
             ("c", "I32", [1], b"\x07\0\0\0"), ("d", "F64", [1], struct.pack("<d", 2.5))]
    put(st, "mixed.safetensors", safetensors(mixed, pad=b"   "))
    put(st, "empty_shape.safetensors", safetensors([("s", "F32", [], b"\0\0\x80\x3f"),
                                                   ("z", "F32", [0, 3], b"")]))
    put(st, "overlap.txt", struct.pack("<Q", 60) +
        b'{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"v":1}' + b"\0" * 8)
    put(st, "huge_header.txt", struct.pack("<Q", 1 << 62) + b"{}")
    put(st, "truncated.txt", safetensors([("w", "F32", [2, 2], f32)])[:-3])

    cv = [("general.architecture", 8, "controlvector"), ("controlvector.model_hint", 8, "gpt2"),
          ("controlvector.layer_count", 4, 2)]
    g = "fuzz_gguf"
    dirs = [("direction.1", [0.5, -1, 2, 0]), ("direction.2", [1, 1, 1, 1])]
    put(g, "control_vector.gguf", gguf(cv, dirs))
    put(g, "v2_no_hint.gguf", gguf(cv[:1], [("direction.1", [1.0, 2.0])], version=2))
    put(g, "bad_tensor_name.gguf", gguf(cv, [("blk.0.weight", [1.0])]))
    kinds = [("general.alignment", 4, 64), ("x.i", 5, -3), ("x.f", 6, 0.25)]
    put(g, "other_kinds.gguf", gguf(kinds, [("direction.3", [3.0] * 8)], align=64))
    put(g, "bad_magic.txt", b"GGUX" + b"\0" * 20)
    put(g, "truncated.txt", gguf(cv, [("direction.1", [0.5, -1])])[:70])

    # fuzz_protocol: byte 0 picks the game, 1 the seed, 2 how many random moves; then the text.
    p = "fuzz_protocol"
    moves = [(0, "[4]"), (0, "\\boxed{0}"), (1, "I will [Bet]"), (1, "\\boxed{\\text{Check}}"),
             (2, "[Call] or [Fold]"), (3, "\\boxed{Offer: 3 Wood -> 2 Gold}"), (4, "[Accept]"),
             (3, "[Bet now] ] ["), (0, "\\boxed{a} then \\boxed{b{c}d}")]
    for i, (game, text) in enumerate(moves):
        put(p, "move%d.txt" % i, bytes([game, i, i % 4]) + text.encode())

    t = "fuzz_tokenizer_json"
    syn = os.path.join(DATA, "tokenizers", "synthetic")
    for name in ["unk_fuse_no_decoder", "metaspace_first_ignore_merges", "nfkc_lower_bytelevel",
                 "added_normalized", "byte_fallback_partial"]:
        copy(t, os.path.join(syn, name + ".tokenizer.json"), name + ".json")
    put(t, "not_a_model.json", '{"model": {"type": "Unigram", "vocab": []}}')
    wl = {"type": "WordLevel", "vocab": {"a": 0, "[UNK]": 1}, "unk_token": "[UNK]"}
    put(t, "wordlevel.json", json.dumps({"model": wl, "pre_tokenizer": {"type": "Whitespace"}}))

    c = "fuzz_chat_template"
    for name in ["llama3", "smollm2", "gemma3", "qwen2_5"]:
        copy(c, os.path.join(DATA, "chat_templates", name + ".jinja"), name + ".jinja")
    put(c, "loops.jinja", "{% for m in messages %}{{ loop.index }}:{{ m.role|upper }}="
        "{{ m.content|trim }}{% if not loop.last %}\n{% endif %}{% endfor %}"
        "{% set ns = namespace(n=0) %}{{ ns.n + 1 }}")
    put(c, "macro.jinja", "{% macro f(x, y=2) %}{{ x * y }}{% endmacro %}{{ f(3) }}"
        "{{ [1,2,3]|join(',') }}{{ raise_exception('no') if false }}"
        "{{ messages[-1]['content'][:5] }}")
    put(c, "unclosed.jinja", "{% if messages %}{{ messages[0].content")

    m = "fuzz_model_config"
    put(m, "gpt2.json", json.dumps({
        "model_type": "gpt2", "vocab_size": 261, "n_positions": 64, "n_embd": 32, "n_layer": 2,
        "n_head": 4, "n_inner": None, "activation_function": "gelu_new",
        "layer_norm_epsilon": 1e-5}))
    put(m, "llama.json", json.dumps({
        "model_type": "llama", "vocab_size": 300, "max_position_embeddings": 128,
        "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 1,
        "num_attention_heads": 4, "num_key_value_heads": 2, "hidden_act": "silu",
        "rms_norm_eps": 1e-6, "rope_theta": 500000.0, "tie_word_embeddings": True,
        "rope_scaling": None}))
    put(m, "duplicate_key.json", '{"model_type": "gpt2", "n_embd": 32, "n_embd": 64}')
    put(m, "wrong_type.json",
        '{"model_type": "llama", "hidden_size": "64", "tie_word_embeddings": "yes"}')
    put(m, "huge.json", '{"model_type": "gpt2", "vocab_size": 2147483647, "n_positions": 1,'
        ' "n_embd": 1073741824, "n_layer": 1, "n_head": 1}')

    j = "fuzz_jsonl"
    put(j, "two.jsonl", '{"prompt": "ab", "completion": "cd"}\n\n'
        '{"prompt": "x", "completion": "yz"}\n{"prompt": "", "completion": "q"}\n')
    put(j, "unicode.jsonl", '{"prompt": "caf\\u00e9 <|endoftext|>", '
        '"completion": "\\u4f60\\u597d"}\r\n  {"completion": "b", "prompt": "a", "extra": 1}')
    put(j, "long_prompt.jsonl", json.dumps({"prompt": "p" * 40, "completion": "c"}) + "\n" +
        json.dumps({"prompt": "q", "completion": "d" * 20}) + "\n")
    put(j, "bad_line.jsonl", '{"prompt": "ab", "completion": "c"}\nnot json\n')
    put(j, "wrong_type.jsonl", '{"prompt": "ab", "completion": 3}\n')

    s = "fuzz_train_state"
    state = {"step": 6, "steps": 12,
             "data_rng": ["9e3779b97f4a7c15", "1", "ff", "0123456789abcdef"],
             "seed": 1, "data": "data.txt", "data_bytes": 1234, "data_fnv1a64": "cbf29ce484222325",
             "format": "text", "batch": 4, "seq": 64, "accum": 1, "warmup": 2, "lr": 0.001,
             "min_lr": 0.0,
             "weight_decay": 0.1, "max_grad_norm": 1.0, "val_fraction": 0.1,
             "changes": [{"step": 3, "option": "lr", "from": 0.002, "to": 0.001}]}
    put(s, "full.json", json.dumps(state, indent=2))
    put(s, "minimal.json", '{"step": 0, "data_rng": ["1", "2", "3", "4"]}')
    put(s, "zero_rng.json", '{"step": 1, "data_rng": ["0", "0", "0", "0"]}')
    put(s, "negative_lr.json", '{"step": 1, "data_rng": ["1", "2", "3", "4"], "lr": -1, "step": 2}')
    put(s, "big_step.json", '{"step": 1099511627776, "data_rng": ["1", "2", "3", "4"], "seed": -1}')


if __name__ == "__main__":
    main()
