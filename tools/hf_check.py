#!/usr/bin/python3
"""Independent check that a vkt checkpoint means what Hugging Face transformers would
read from it: a PyTorch re-implementation of GPT2LMHeadModel and LlamaForCausalLM
forward passes written from transformers' modeling code (Conv1D `x @ W + b` with W
(in, out); c_attn split into q | k | v; gelu_new; Linear `x @ W.T`; rotate_half RoPE
with [freqs, freqs]; repeat_kv; RMSNorm in float32; tied or untied lm_head), reading
DIR/config.json and DIR/model.safetensors with nothing but the safetensors format spec.
It prints the mean next-token NLL of a text with the semantics of `vkt eval` (windows of
the model's context, every token but the first of each window), so the two can be
compared: `vkt eval --ckpt DIR --data FILE --json` and
`/usr/bin/python3 tools/hf_check.py DIR FILE`.

Needs Debian's python3-torch and python3-numpy (measurement only, not a vkt dependency).
"""
import json
import math
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        assert t["dtype"] == "F32", (name, t["dtype"])
        b, e = t["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[b:e], dtype="<f4").reshape(t["shape"]).copy())
    return out


def gpt2_logits(cfg, w, idx):
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
    head = w["lm_head.weight"] if (not cfg.get("tie_word_embeddings", True) and "lm_head.weight" in w) else p("wte.weight")
    return x @ head.T


def llama_logits(cfg, w, idx):
    C, H, KVH = cfg["hidden_size"], cfg["num_attention_heads"], cfg.get("num_key_value_heads", cfg["num_attention_heads"])
    D, eps, theta = C // H, cfg.get("rms_norm_eps", 1e-6), cfg.get("rope_theta", 10000.0)
    T = idx.shape[0]

    def rms(x, g):
        return g * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))

    inv = 1.0 / (theta ** (torch.arange(0, D, 2, dtype=torch.float32) / D))
    f = torch.outer(torch.arange(T, dtype=torch.float32), inv)
    emb = torch.cat((f, f), dim=-1)
    cos, sin = emb.cos(), emb.sin()

    def rot_half(x):
        return torch.cat((-x[..., D // 2:], x[..., : D // 2]), dim=-1)

    x = w["model.embed_tokens.weight"][idx]
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
    for i in range(cfg["num_hidden_layers"]):
        g = lambda k: w[f"model.layers.{i}.{k}"]
        a = rms(x, g("input_layernorm.weight"))
        q = (a @ g("self_attn.q_proj.weight").T).view(T, H, D).transpose(0, 1)  # Linear: (out, in)
        k = (a @ g("self_attn.k_proj.weight").T).view(T, KVH, D).transpose(0, 1)
        v = (a @ g("self_attn.v_proj.weight").T).view(T, KVH, D).transpose(0, 1)
        q, k = q * cos + rot_half(q) * sin, k * cos + rot_half(k) * sin
        k, v = k.repeat_interleave(H // KVH, dim=0), v.repeat_interleave(H // KVH, dim=0)  # repeat_kv
        s = (q @ k.transpose(-1, -2)) / math.sqrt(D)
        y = (torch.softmax(s.masked_fill(mask, float("-inf")), -1) @ v).transpose(0, 1).reshape(T, C)
        x = x + y @ g("self_attn.o_proj.weight").T
        a = rms(x, g("post_attention_layernorm.weight"))
        x = x + (F.silu(a @ g("mlp.gate_proj.weight").T) * (a @ g("mlp.up_proj.weight").T)) @ g("mlp.down_proj.weight").T
    x = rms(x, w["model.norm.weight"])
    head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", False) else w["lm_head.weight"]
    return x @ head.T


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: hf_check.py CKPT_DIR TEXT_FILE")
    d, text = sys.argv[1], open(sys.argv[2], "rb").read()
    cfg = json.load(open(d + "/config.json"))
    w = load_safetensors(d + "/model.safetensors")
    fwd = gpt2_logits if cfg["model_type"] == "gpt2" else llama_logits
    ctx = cfg.get("n_positions") or cfg.get("max_position_embeddings")
    ids = torch.tensor(list(text), dtype=torch.long)
    nll, n = 0.0, 0
    with torch.no_grad():
        for s in range(0, len(ids), ctx):
            win = ids[s : s + ctx]
            if len(win) < 2:
                continue
            logp = torch.log_softmax(fwd(cfg, w, win[:-1]).double(), -1)
            nll -= logp[torch.arange(len(win) - 1), win[1:]].sum().item()
            n += len(win) - 1
    print(json.dumps({"nll": nll / n, "tokens": n, "model_type": cfg["model_type"]}))


if __name__ == "__main__":
    main()
