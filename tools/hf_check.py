#!/usr/bin/python3
"""Independent check that a checkpoint means to vkt what it means to Hugging Face
transformers: a plain PyTorch forward written from transformers' modeling code
(GPT2LMHeadModel; LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM),
reading DIR/config.json and DIR/model.safetensors, or the shards that
DIR/model.safetensors.index.json names, with nothing but the safetensors format spec.

  hf_check.py DIR FILE                      bytes of FILE as ids (vkt's byte tokenizer)
  hf_check.py nll DIR --ids IDS [--ctx N]   IDS: a JSON list of token ids (file or literal)
  hf_check.py generate DIR --ids IDS [--max-new-tokens K]

nll prints {"nll": mean, "tokens": count} with the semantics of `vkt eval`: non-overlapping
windows of N tokens (default: the model's context, max_position_embeddings), the last one
shorter, a window of fewer than 2 tokens skipped, every token but each window's first
scored. generate prints {"ids": [...]}: greedy (argmax) continuation of IDS, as
`vkt generate --greedy` gives it: at most K tokens, ending after the first id in
generation_config.json's eos_token_id (that id included, as in vkt's "tokens"), or when
the sequence would no longer fit the context.

Conventions followed (transformers' modeling_{llama,mistral,qwen2,qwen3}.py and
modeling_rope_utils.py): Linear is x @ W.T (+ b); RMSNorm in fp32,
w * (x * rsqrt(mean(x^2) + eps)); head_dim from config (else hidden / heads), so H * D may
differ from hidden (Qwen3); Qwen3's q_norm / k_norm per head over D on (T, H, D) before
RoPE; rotate_half RoPE with cos/sin of [freqs, freqs] and inv_freq from rope_scaling
(default, "linear": inv_freq / factor, "llama3": Llama 3.1's wavelength bands);
repeat_kv for GQA; scores * D^-0.5; sliding window: query i sees keys j with
i - w < j <= i (Mistral: every layer when sliding_window is set; Qwen2/3 only with
use_sliding_window, layers >= max_window_layers); biases: Llama q/k/v/o by attention_bias
and gate/up/down by mlp_bias, Qwen2 q/k/v always and o never, Qwen3 by attention_bias;
silu SwiGLU; lm_head tied to embed_tokens when tie_word_embeddings.

Weights stored as bf16 or f16 are upcast to fp32 and everything is computed in fp32, as
transformers does with torch_dtype=float32: vkt also computes in fp32 from the same bf16
values, so the two should agree to float rounding (NLL within ~1e-5 relative).

--mutate X breaks one thing on purpose, to show a mistake moves the result: rope (ignore
rope_scaling; with none, use theta 10000 instead of rope_theta), interleave (rotate
adjacent pairs, GPT-J style, instead of halves), qknorm (skip q_norm / k_norm), bias (drop
every bias), window (ignore the sliding window).

Needs Debian's python3-torch and python3-numpy (measurement only, not a vkt dependency).
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

MUTATIONS = ("rope", "interleave", "qknorm", "bias", "window")


def load_safetensors(path, out):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    for name, t in header.items():
        if name == "__metadata__":
            continue
        b, e = t["data_offsets"]
        raw = np.frombuffer(data[b:e], dtype="<u2" if t["dtype"] in ("BF16", "F16") else "<u4")
        if t["dtype"] == "BF16":
            a = (raw.astype(np.uint32) << 16).view(np.float32)
        elif t["dtype"] == "F16":
            a = raw.view(np.float16).astype(np.float32)
        elif t["dtype"] == "F32":
            a = raw.view(np.float32)
        else:
            sys.exit(f"hf_check: {path}: tensor {name} has dtype {t['dtype']} "
                     "(BF16, F16, F32 are read)")
        out[name] = torch.from_numpy(a.reshape(t["shape"]).copy())
    return out


def load_checkpoint(d):
    index = os.path.join(d, "model.safetensors.index.json")
    w = {}
    if os.path.exists(index):
        for shard in sorted(set(json.load(open(index))["weight_map"].values())):
            load_safetensors(os.path.join(d, shard), w)
    else:
        load_safetensors(os.path.join(d, "model.safetensors"), w)
    return w


def gpt2_logits(cfg, w, idx, mutate=None):
    C, H = cfg["n_embd"], cfg["n_head"]
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    p = lambda k: w.get("transformer." + k, w.get(k))
    T = idx.shape[0]
    x = p("wte.weight")[idx] + p("wpe.weight")[:T]
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
    for i in range(cfg["n_layer"]):
        h = lambda k: p(f"h.{i}.{k}")
        a = F.layer_norm(x, (C,), h("ln_1.weight"), h("ln_1.bias"), eps)
        qkv = a @ h("attn.c_attn.weight") + h("attn.c_attn.bias")  # Conv1D: (in, out)
        q, k, v = qkv.split(C, dim=-1)
        q, k, v = (t.view(T, H, C // H).transpose(0, 1) for t in (q, k, v))
        s = (q @ k.transpose(-1, -2)) / math.sqrt(C // H)
        y = torch.softmax(s.masked_fill(mask, float("-inf")), -1) @ v
        y = y.transpose(0, 1).reshape(T, C)
        x = x + y @ h("attn.c_proj.weight") + h("attn.c_proj.bias")
        a = F.layer_norm(x, (C,), h("ln_2.weight"), h("ln_2.bias"), eps)
        m = F.gelu(a @ h("mlp.c_fc.weight") + h("mlp.c_fc.bias"), approximate="tanh")  # gelu_new
        x = x + m @ h("mlp.c_proj.weight") + h("mlp.c_proj.bias")
    x = F.layer_norm(x, (C,), p("ln_f.weight"), p("ln_f.bias"), eps)
    untied = not cfg.get("tie_word_embeddings", True) and "lm_head.weight" in w
    head = w["lm_head.weight"] if untied else p("wte.weight")
    return x @ head.T


def rope_params(cfg):
    """(rope_theta, rope_scaling dict or None): the old fields, or newer rope_parameters."""
    rp = cfg.get("rope_parameters")
    if isinstance(rp, dict):
        kind = rp.get("rope_type", rp.get("type", "default"))
        theta = rp.get("rope_theta", cfg.get("rope_theta", 10000.0))
        return theta, (None if kind == "default" else rp)
    return cfg.get("rope_theta", 10000.0), cfg.get("rope_scaling")


def inv_freq(cfg, D, mutate):
    """(D/2,) inverse frequencies as modeling_rope_utils computes them for rope_scaling."""
    theta, sc = rope_params(cfg)
    if mutate == "rope":
        theta, sc = (theta, None) if sc else (10000.0, None)
    inv = 1.0 / (theta ** (torch.arange(0, D, 2, dtype=torch.int64).float() / D))
    kind = (sc or {}).get("rope_type", (sc or {}).get("type", "default"))
    if kind == "default":
        return inv
    if kind == "linear":
        return inv / sc["factor"]
    if kind == "llama3":
        factor, lo, hi = sc["factor"], sc["low_freq_factor"], sc["high_freq_factor"]
        old = sc["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv
        out = torch.where(wavelen > old / lo, inv / factor, inv)
        smooth = (old / wavelen - lo) / (hi - lo)
        smoothed = (1 - smooth) * out / factor + smooth * out
        medium = ~(wavelen < old / hi) * ~(wavelen > old / lo)
        return torch.where(medium, smoothed, out)
    sys.exit(f"hf_check: rope_scaling type '{kind}' is not implemented here "
             "(default, linear, llama3)")


def arch_of(cfg):
    """What differs between the llama family's members, per model_type as transformers has it."""
    mt, L = cfg["model_type"], cfg["num_hidden_layers"]
    ab = bool(cfg.get("attention_bias", False))
    a = {"qkv_bias": ab, "o_bias": ab, "mlp_bias": bool(cfg.get("mlp_bias", False)),
         "qk_norm": False, "window": [None] * L}
    if mt == "mistral":
        a.update(qkv_bias=False, o_bias=False, mlp_bias=False,
                 window=[cfg.get("sliding_window")] * L)
    elif mt == "qwen2":
        a.update(qkv_bias=True, o_bias=False, mlp_bias=False)
    elif mt == "qwen3":
        a.update(mlp_bias=False, qk_norm=True)
    elif mt != "llama":
        sys.exit(f"hf_check: model_type '{mt}' is not implemented here "
                 "(gpt2, llama, mistral, qwen2, qwen3)")
    if mt in ("qwen2", "qwen3"):
        types = cfg.get("layer_types")
        if not types:
            mwl = cfg.get("max_window_layers", L)
            on = cfg.get("use_sliding_window", False) and cfg.get("sliding_window")
            types = ["sliding_attention" if on and i >= mwl else "full_attention" for i in range(L)]
        sw = cfg.get("sliding_window")
        a["window"] = [sw if t == "sliding_attention" else None for t in types]
    return a


def decoder_logits(cfg, w, idx, mutate=None):
    """(T, V) logits of one sequence idx (T,) for the llama family."""
    C, H = cfg["hidden_size"], cfg["num_attention_heads"]
    KV, L = cfg.get("num_key_value_heads") or H, cfg["num_hidden_layers"]
    D = cfg.get("head_dim") or C // H
    eps = cfg.get("rms_norm_eps", 1e-6)
    arch, T = arch_of(cfg), idx.shape[0]

    def rms(x, g):  # over the last dim, in fp32
        return g * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))

    def linear(x, name, has_bias):
        y = x @ w[name + ".weight"].T
        return y + w[name + ".bias"] if has_bias and mutate != "bias" else y

    pos = torch.arange(T, dtype=torch.float32)
    freqs = torch.outer(pos, inv_freq(cfg, D, mutate))  # (T, D/2)
    if mutate == "interleave":  # GPT-J pairs (2i, 2i+1): the mistake on HF-permuted weights
        cos, sin = freqs.cos().repeat_interleave(2, -1), freqs.sin().repeat_interleave(2, -1)
        rot = lambda x: torch.stack((-x[..., 1::2], x[..., 0::2]), -1).flatten(-2)
    else:
        emb = torch.cat((freqs, freqs), -1)  # (T, D)
        cos, sin = emb.cos(), emb.sin()
        rot = lambda x: torch.cat((-x[..., D // 2:], x[..., : D // 2]), -1)
    cos, sin = cos[:, None, :], sin[:, None, :]  # broadcast over heads of (T, H, D)

    i_q, j_k = torch.arange(T)[:, None], torch.arange(T)[None, :]
    x = w["model.embed_tokens.weight"][idx]
    for i in range(L):
        p = f"model.layers.{i}."
        a = rms(x, w[p + "input_layernorm.weight"])
        q = linear(a, p + "self_attn.q_proj", arch["qkv_bias"]).view(T, H, D)
        k = linear(a, p + "self_attn.k_proj", arch["qkv_bias"]).view(T, KV, D)
        v = linear(a, p + "self_attn.v_proj", arch["qkv_bias"]).view(T, KV, D)
        if arch["qk_norm"] and mutate != "qknorm":
            q = rms(q, w[p + "self_attn.q_norm.weight"])  # per head, over D
            k = rms(k, w[p + "self_attn.k_norm.weight"])
        q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
        q, k, v = (t.transpose(0, 1) for t in (q, k, v))  # (heads, T, D)
        k, v = k.repeat_interleave(H // KV, 0), v.repeat_interleave(H // KV, 0)  # repeat_kv
        allowed = j_k <= i_q
        win = arch["window"][i]
        if win and mutate != "window":
            allowed = allowed & (j_k > i_q - win)
        s = (q @ k.transpose(-1, -2)) * D ** -0.5
        y = torch.softmax(s.masked_fill(~allowed, float("-inf")), -1) @ v
        x = x + linear(y.transpose(0, 1).reshape(T, H * D), p + "self_attn.o_proj", arch["o_bias"])
        a = rms(x, w[p + "post_attention_layernorm.weight"])
        g = F.silu(linear(a, p + "mlp.gate_proj", arch["mlp_bias"]))
        u = linear(a, p + "mlp.up_proj", arch["mlp_bias"])
        x = x + linear(g * u, p + "mlp.down_proj", arch["mlp_bias"])
    x = rms(x, w["model.norm.weight"])
    if not cfg.get("tie_word_embeddings", False) and "lm_head.weight" not in w:
        sys.exit("hf_check: tie_word_embeddings is false and there is no lm_head.weight")
    tied = cfg.get("tie_word_embeddings", False)
    return x @ (w["model.embed_tokens.weight"] if tied else w["lm_head.weight"]).T


def model(d):
    cfg = json.load(open(os.path.join(d, "config.json")))
    w = load_checkpoint(d)
    fwd = gpt2_logits if cfg["model_type"] == "gpt2" else decoder_logits
    ctx = cfg.get("n_positions") or cfg.get("max_position_embeddings")
    return cfg, w, fwd, ctx


def window_nll(cfg, w, fwd, ids, ctx, mutate):
    """As vkt_gen_eval_ids: windows [s, s + ctx), one of < 2 tokens skipped, all but the first
    scored."""
    ids = torch.tensor(ids, dtype=torch.long)
    nll, n = 0.0, 0
    with torch.no_grad():
        for s in range(0, len(ids), ctx):
            win = ids[s: s + ctx]
            if len(win) < 2:
                continue
            logp = torch.log_softmax(fwd(cfg, w, win[:-1], mutate).double(), -1)
            nll -= logp[torch.arange(len(win) - 1), win[1:]].sum().item()
            n += len(win) - 1
    return nll / n if n else float("nan"), n


def eos_ids(d, cfg):
    path = os.path.join(d, "generation_config.json")
    gen = json.load(open(path)) if os.path.exists(path) else {}
    e = gen.get("eos_token_id", cfg.get("eos_token_id"))
    return set(e if isinstance(e, list) else [] if e is None else [e])


def greedy(cfg, w, fwd, ids, ctx, k, eos, mutate):
    if not 1 <= len(ids) <= ctx:
        sys.exit(f"hf_check: the prompt has {len(ids)} tokens (1 to the model's context {ctx})")
    seq, new = list(ids), []
    with torch.no_grad():
        while len(new) < k:
            nxt = int(torch.argmax(fwd(cfg, w, torch.tensor(seq, dtype=torch.long), mutate)[-1]))
            new.append(nxt)
            seq.append(nxt)
            # vkt stops after a token sampled at the last position of the context.
            if nxt in eos or len(seq) - 1 >= ctx:
                break
    return new


def read_ids(s):
    text = s if s.lstrip().startswith("[") else open(s).read()
    ids = json.loads(text)
    if isinstance(ids, dict):  # `vkt tokenize --json` output
        ids = ids["ids"]
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        sys.exit(f"hf_check: {s[:40]}: not a JSON list of token ids")
    return ids


def main():
    if len(sys.argv) == 3 and sys.argv[1] not in ("nll", "generate"):
        d, text = sys.argv[1], open(sys.argv[2], "rb").read()
        cfg, w, fwd, ctx = model(d)
        nll, n = window_nll(cfg, w, fwd, list(text), ctx, None)
        print(json.dumps({"nll": nll, "tokens": n, "model_type": cfg["model_type"]}))
        return
    ap = argparse.ArgumentParser(usage=__doc__.split("\n\n")[1])
    ap.add_argument("mode", choices=["nll", "generate"])
    ap.add_argument("dir")
    ap.add_argument("--ids", required=True, help="JSON list of ids, or a file holding one")
    ap.add_argument("--ctx", type=int, default=0, help="window (default: the model's context)")
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--mutate", choices=MUTATIONS)
    args = ap.parse_args()
    cfg, w, fwd, ctx = model(args.dir)
    ctx = args.ctx or ctx
    ids = read_ids(args.ids)
    vocab = cfg.get("vocab_size") or cfg.get("n_vocab")
    if any(i < 0 or (vocab and i >= vocab) for i in ids):
        sys.exit(f"hf_check: an id is outside the vocabulary [0, {vocab})")
    if args.mode == "nll":
        nll, n = window_nll(cfg, w, fwd, ids, ctx, args.mutate)
        if n == 0:
            sys.exit("hf_check: nothing to score (at least 2 ids are needed)")
        print(json.dumps({"nll": nll, "tokens": n}))
    else:
        eos = eos_ids(args.dir, cfg)
        out = greedy(cfg, w, fwd, ids, ctx, args.max_new_tokens, eos, args.mutate)
        print(json.dumps({"ids": out}))


if __name__ == "__main__":
    main()
