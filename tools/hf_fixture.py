#!/usr/bin/python3
"""Writes a random-weight Hugging Face checkpoint directory, laid out as transformers'
save_pretrained writes one, for testing vkt's loaders and forward against
tools/hf_check.py (no network, no transformers needed):

  /usr/bin/python3 tools/hf_fixture.py OUTDIR --arch llama3|qwen2|qwen3|mistral|llama-linear
      [--seed S] [--shards N] [--dtype bf16|f16|f32] [--tokenizer DIR] [--tied|--untied]
      [--hidden C] [--layers L] [--heads H] [--kv-heads KV] [--head-dim D] [--ffn F]
      [--context N] [--vocab V] [--sliding-window W]

OUTDIR gets config.json (the fields transformers writes for the model_type),
generation_config.json, model.safetensors or model-0000i-of-0000N.safetensors shards with
model.safetensors.index.json, and tokenizer.json / tokenizer_config.json copied from
--tokenizer DIR (which also gives the vocabulary size and BOS/EOS ids). The safetensors
files are written by hand: u64 little-endian header length, compact JSON header (tensors
sorted by name, "__metadata__" {"format": "pt"}), padded with spaces to 8 bytes as the
Rust writer does, then the data. bf16 is fp32 rounded to nearest even.

Weights are random (numpy Generator(seed)) with a spread large enough that a wrong RoPE,
norm, bias or mask moves the NLL well past 1e-3 relative: matrices normal(0, 0.2),
norm weights 1 + 0.5 normal, biases normal(0, 1); q/k_proj and the embeddings twice as wide.
Needs python3-numpy only.
"""
import argparse
import json
import os
import shutil
import struct
import sys

import numpy as np

# Per architecture: defaults and the config.json transformers writes for its model_type.
ARCHS = {
    "llama3": dict(model_type="llama", cls="LlamaForCausalLM", tok="llama3", tied=True,
                   head_dim=None,
                   theta=500000.0, qkv_bias=False, o_bias=False, mlp_bias=False, qk_norm=False,
                   rope_scaling={"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                                 "original_max_position_embeddings": 16, "rope_type": "llama3"}),
    "llama-linear": dict(model_type="llama", cls="LlamaForCausalLM", tok="llama3", tied=False,
                         head_dim=None,
                         theta=10000.0, qkv_bias=True, o_bias=True, mlp_bias=True, qk_norm=False,
                         rope_scaling={"factor": 8.0, "type": "linear"}),
    "mistral": dict(model_type="mistral", cls="MistralForCausalLM", tok="llama3", tied=False,
                    head_dim=None,
                    theta=1000000.0, qkv_bias=False, o_bias=False, mlp_bias=False, qk_norm=False,
                    rope_scaling=None, sliding_window=16),
    "qwen2": dict(model_type="qwen2", cls="Qwen2ForCausalLM", tok="qwen3", tied=False,
                  head_dim=None,
                  theta=1000000.0, qkv_bias=True, o_bias=False, mlp_bias=False, qk_norm=False,
                  rope_scaling=None),
    "qwen3": dict(model_type="qwen3", cls="Qwen3ForCausalLM", tok="qwen3", tied=True, head_dim=32,
                  theta=1000000.0, qkv_bias=False, o_bias=False, mlp_bias=False, qk_norm=True,
                  rope_scaling=None),
}


def bf16_bits(a):
    """fp32 -> bf16 bit patterns, round to nearest even (finite values)."""
    u = np.ascontiguousarray(a, dtype="<f4").view("<u4").astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype("<u2")


def encode(a, dtype):
    if dtype == "bf16":
        return "BF16", bf16_bits(a).tobytes()
    if dtype == "f16":
        return "F16", a.astype("<f2").tobytes()
    return "F32", a.astype("<f4").tobytes()


def write_safetensors(path, tensors, dtype):
    """tensors: {name: fp32 array}; written sorted by name as the Rust writer orders one dtype."""
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        st, b = encode(tensors[name], dtype)
        header[name] = {"dtype": st, "shape": list(tensors[name].shape),
                        "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)
    return off


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def make_weights(a, cfg, rng):
    """The state_dict in transformers' registration order: {name: fp32 array (out, in)}."""
    C, L, H, KV, F, V = (cfg[k] for k in ("hidden_size", "num_hidden_layers", "num_attention_heads",
                                          "num_key_value_heads", "intermediate_size", "vocab_size"))
    D = cfg.get("head_dim") or C // H
    mat = lambda *s: (rng.standard_normal(s) * 0.2).astype(np.float32)
    bias = lambda n: (rng.standard_normal(n) * 1.0).astype(np.float32)
    norm = lambda n: (1.0 + 0.5 * rng.standard_normal(n)).astype(np.float32)
    # Wider q/k and embeddings: sharper attention and logits, so position mistakes show.
    w = {"model.embed_tokens.weight": mat(V, C) * 2}
    for i in range(L):
        p = f"model.layers.{i}."
        for nm, rows in (("q", H * D), ("k", KV * D), ("v", KV * D)):
            w[p + f"self_attn.{nm}_proj.weight"] = mat(rows, C) * (2 if nm != "v" else 1)
            if a["qkv_bias"]:
                w[p + f"self_attn.{nm}_proj.bias"] = bias(rows)
        w[p + "self_attn.o_proj.weight"] = mat(C, H * D)
        if a["o_bias"]:
            w[p + "self_attn.o_proj.bias"] = bias(C)
        if a["qk_norm"]:
            w[p + "self_attn.q_norm.weight"] = norm(D)
            w[p + "self_attn.k_norm.weight"] = norm(D)
        for nm, shape in (("gate", (F, C)), ("up", (F, C)), ("down", (C, F))):
            w[p + f"mlp.{nm}_proj.weight"] = mat(*shape)
            if a["mlp_bias"]:
                w[p + f"mlp.{nm}_proj.bias"] = bias(shape[0])
        w[p + "input_layernorm.weight"] = norm(C)
        w[p + "post_attention_layernorm.weight"] = norm(C)
    w["model.norm.weight"] = norm(C)
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = mat(V, C) * 2
    return w


def split_shards(w, n, nbytes):
    """Contiguous groups of the state_dict, each non-empty, about equal in bytes."""
    names = list(w)
    if n > len(names):
        sys.exit(f"hf_fixture: --shards {n} is more than the {len(names)} tensors")
    total, groups, acc = sum(nbytes(w[k]) for k in names), [[]], 0
    for i, k in enumerate(names):
        left = len(names) - i
        due = acc >= total * len(groups) / n or left <= n - len(groups)
        if groups[-1] and len(groups) < n and due:
            groups.append([])
        groups[-1].append(k)
        acc += nbytes(w[k])
    return groups


def token_id(tok, content):
    for t in tok.get("added_tokens", []):
        if t["content"] == content:
            return t["id"]
    return tok["model"]["vocab"].get(content)


def special_ids(tokdir, arch):
    """(vocab_size, bos, eos for config.json, eos list for generation_config.json)."""
    tok = json.load(open(os.path.join(tokdir, "tokenizer.json"), encoding="utf-8"))
    n = max([*tok["model"]["vocab"].values(), *(t["id"] for t in tok.get("added_tokens", []))]) + 1
    if ARCHS[arch]["tok"] == "qwen3":
        # Qwen2.5 / Qwen3 configs: bos <|endoftext|>, eos <|im_end|>; vocab padded to 151936.
        bos, eos = token_id(tok, "<|endoftext|>"), token_id(tok, "<|im_end|>")
        return max(n, 151936), bos, eos, [eos, bos]
    if token_id(tok, "<|begin_of_text|>") is None and token_id(tok, "</s>") is not None:
        # Llama 2 / Mistral (SentencePiece): <s> and </s>.
        return n, token_id(tok, "<s>"), token_id(tok, "</s>"), [token_id(tok, "</s>")]
    # Llama 3.x Instruct: eos <|end_of_text|>; generation stops at <|eom_id|> and <|eot_id|> too.
    bos, eos = token_id(tok, "<|begin_of_text|>"), token_id(tok, "<|end_of_text|>")
    # Llama 3.0's tokenizer names 128008 a reserved token; 3.1 calls it <|eom_id|>.
    eom, eot = token_id(tok, "<|eom_id|>") or 128008, token_id(tok, "<|eot_id|>") or 128009
    gen = [i for i in (eos, eom, eot) if i is not None and i < n]
    return n, bos, eos, gen


def make_config(args, a, vocab, bos, eos):
    cfg = {
        "architectures": [a["cls"]], "model_type": a["model_type"], "attention_dropout": 0.0,
        "bos_token_id": bos, "eos_token_id": eos, "hidden_act": "silu", "hidden_size": args.hidden,
        "initializer_range": 0.02, "intermediate_size": args.ffn,
        "max_position_embeddings": args.context,
        "num_attention_heads": args.heads, "num_hidden_layers": args.layers,
        "num_key_value_heads": args.kv_heads, "rms_norm_eps": 1e-6 if a["tok"] == "qwen3" else 1e-5,
        "rope_theta": a["theta"], "rope_scaling": a["rope_scaling"],
        "tie_word_embeddings": args.tied,
        "torch_dtype": {"bf16": "bfloat16", "f16": "float16", "f32": "float32"}[args.dtype],
        "transformers_version": "4.51.0", "use_cache": True, "vocab_size": vocab,
    }
    hd = args.head_dim if args.head_dim else a["head_dim"]
    if a["model_type"] in ("llama", "qwen3") or hd:
        cfg["head_dim"] = hd or args.hidden // args.heads
    if a["model_type"] == "llama":
        cfg.update(attention_bias=a["qkv_bias"], mlp_bias=a["mlp_bias"], pretraining_tp=1)
    if a["model_type"] == "qwen3":
        cfg["attention_bias"] = False
    if a["model_type"] in ("qwen2", "qwen3"):
        # Qwen writes a window with use_sliding_window false: transformers then ignores it.
        sw = args.sliding_window
        cfg.update(use_sliding_window=sw is not None,
                   sliding_window=sw if sw is not None else args.context,
                   max_window_layers=0 if sw is not None else args.layers)
        if a["model_type"] == "qwen3" and sw is None:
            cfg["sliding_window"] = None
    if a["model_type"] == "mistral":
        sw = args.sliding_window
        cfg["sliding_window"] = sw if sw is not None else a["sliding_window"]
    return cfg


def main():
    ap = argparse.ArgumentParser(description="random-weight Hugging Face checkpoint")
    ap.add_argument("outdir")
    ap.add_argument("--arch", required=True, choices=sorted(ARCHS))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "f16", "f32"])
    ap.add_argument("--tokenizer", help="dir with tokenizer.json (+ tokenizer_config.json)")
    tie = ap.add_mutually_exclusive_group()
    tie.add_argument("--tied", dest="tied", action="store_true", default=None)
    tie.add_argument("--untied", dest="tied", action="store_false")
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--head-dim", type=int, default=0, help="0: the architecture's default")
    ap.add_argument("--ffn", type=int, default=160)
    ap.add_argument("--context", type=int, default=256, help="max_position_embeddings")
    ap.add_argument("--vocab", type=int, default=0, help="0: the tokenizer's (151936 for Qwen)")
    ap.add_argument("--sliding-window", type=int, default=None)
    args = ap.parse_args()
    a = ARCHS[args.arch]
    if args.tied is None:
        args.tied = a["tied"]
    if args.shards < 1 or args.heads % args.kv_heads:
        sys.exit("hf_fixture: --shards must be >= 1 and --heads a multiple of --kv-heads")
    if args.tokenizer:
        vocab, bos, eos, gen_eos = special_ids(args.tokenizer, args.arch)
    else:
        vocab, bos, eos, gen_eos = 512, 1, 2, [2]
    vocab = args.vocab or vocab
    os.makedirs(args.outdir, exist_ok=True)
    cfg = make_config(args, a, vocab, bos, eos)
    w = make_weights(a, cfg, np.random.default_rng(args.seed))
    write_json(os.path.join(args.outdir, "config.json"), cfg)
    write_json(os.path.join(args.outdir, "generation_config.json"),
               {"bos_token_id": bos, "eos_token_id": gen_eos if len(gen_eos) > 1 else gen_eos[0],
                "transformers_version": cfg["transformers_version"]})
    if args.tokenizer:
        for f in ("tokenizer.json", "tokenizer_config.json"):
            if os.path.exists(os.path.join(args.tokenizer, f)):
                shutil.copyfile(os.path.join(args.tokenizer, f), os.path.join(args.outdir, f))
    width = {"bf16": 2, "f16": 2, "f32": 4}[args.dtype]
    nbytes = lambda t: t.size * width
    for f in os.listdir(args.outdir):  # a rerun with fewer shards leaves no stale ones
        if f.startswith("model") and (f.endswith(".safetensors") or f.endswith(".index.json")):
            os.remove(os.path.join(args.outdir, f))
    if args.shards == 1:
        write_safetensors(os.path.join(args.outdir, "model.safetensors"), w, args.dtype)
    else:
        wmap, total = {}, 0
        for i, g in enumerate(split_shards(w, args.shards, nbytes)):
            fn = f"model-{i + 1:05d}-of-{args.shards:05d}.safetensors"
            part = {k: w[k] for k in g}
            total += write_safetensors(os.path.join(args.outdir, fn), part, args.dtype)
            wmap.update({k: fn for k in g})
        write_json(os.path.join(args.outdir, "model.safetensors.index.json"),
                   {"metadata": {"total_size": total}, "weight_map": dict(sorted(wmap.items()))})


if __name__ == "__main__":
    main()
