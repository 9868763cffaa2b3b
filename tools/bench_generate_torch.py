#!/usr/bin/python3
"""PyTorch CPU baseline for `vkt bench generate`: prefill and greedy KV-cached decode of a
Hugging Face llama-family checkpoint (Llama, Mistral, Qwen2, Qwen3), at the same prompt
length, new tokens and batch sizes, on the same prompt ids.

  bench_generate_torch.py DIR [--prompt-tokens P] [--new-tokens K] [--batches 1,16] [--runs N]

Weights are read with tools/hf_check.py's loader (bf16/f16 upcast) and computed in fp32:
torch 1.13's bf16 matmul on CPU is far slower than its fp32 one. The forward is
hf_check.py's, rewritten plainly with a KV cache (B, KV heads, P + K, D) per layer, GQA as
grouped query rows, RoPE rotate_half, Qwen3's q/k norm; sliding windows are refused.
torch.set_num_threads(os.cpu_count()).

Prints one JSON object: {"torch", "threads", "prefill_tokens_per_s" (batch 1, P tokens, one
forward to the last row's logits), "decode": {"B": tokens/s} (B * (K - 1) tokens after the
first one, which comes with the prefill), "b1_tokens": prompt 0's K greedy ids}.
Needs Debian's python3-torch and python3-numpy (measurement only, not a vkt dependency).
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_check  # noqa: E402  (the loader and the per-architecture switches)


def prompt_ids(B, P, V):
    """The ids bench_generate.c feeds: prompt b, token t."""
    return torch.tensor([[(t * 7919 + b * 104729 + 11) % V for t in range(P)] for b in range(B)],
                        dtype=torch.long)


class Cached:
    """A llama-family forward over (B, T) new tokens at positions p0.. with a KV cache."""

    def __init__(self, cfg, w, B, Lmax):
        self.C, self.H = cfg["hidden_size"], cfg["num_attention_heads"]
        self.KV, self.L = cfg.get("num_key_value_heads") or self.H, cfg["num_hidden_layers"]
        self.D = cfg.get("head_dim") or self.C // self.H
        self.eps = cfg.get("rms_norm_eps", 1e-6)
        self.arch, self.w = hf_check.arch_of(cfg), w
        if any(self.arch["window"]):
            sys.exit("bench_generate_torch: sliding-window attention is not implemented here")
        freqs = torch.outer(torch.arange(Lmax, dtype=torch.float32), hf_check.inv_freq(cfg, self.D, None))
        emb = torch.cat((freqs, freqs), -1)  # (Lmax, D)
        self.cos, self.sin = emb.cos(), emb.sin()
        self.kc = [torch.zeros(B, self.KV, Lmax, self.D) for _ in range(self.L)]
        self.vc = [torch.zeros(B, self.KV, Lmax, self.D) for _ in range(self.L)]
        tied = cfg.get("tie_word_embeddings", False)
        self.head = w["model.embed_tokens.weight"] if tied else w["lm_head.weight"]

    def rms(self, x, g):
        return g * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))

    def linear(self, x, name, has_bias):
        return F.linear(x, self.w[name + ".weight"], self.w[name + ".bias"] if has_bias else None)

    def rope(self, x, p0):  # x (B, heads, T, D)
        T, D = x.shape[2], self.D
        cos, sin = self.cos[p0:p0 + T], self.sin[p0:p0 + T]
        return x * cos + torch.cat((-x[..., D // 2:], x[..., :D // 2]), -1) * sin

    def __call__(self, idx, p0):
        """idx (B, T) at positions p0..p0+T-1 -> logits (B, V) of the last position."""
        B, T = idx.shape
        H, KV, D, G, a = self.H, self.KV, self.D, self.H // self.KV, self.arch
        n = p0 + T
        allowed = None
        if T > 1:  # causal within the new rows: query p0 + t sees keys j <= p0 + t
            allowed = (torch.arange(n)[None, :] <= (p0 + torch.arange(T))[:, None]).repeat(G, 1)
        x = self.w["model.embed_tokens.weight"][idx]  # (B, T, C)
        for i in range(self.L):
            p = f"model.layers.{i}."
            h = self.rms(x, self.w[p + "input_layernorm.weight"])
            q = self.linear(h, p + "self_attn.q_proj", a["qkv_bias"]).view(B, T, H, D)
            k = self.linear(h, p + "self_attn.k_proj", a["qkv_bias"]).view(B, T, KV, D)
            v = self.linear(h, p + "self_attn.v_proj", a["qkv_bias"]).view(B, T, KV, D)
            if a["qk_norm"]:
                q = self.rms(q, self.w[p + "self_attn.q_norm.weight"])
                k = self.rms(k, self.w[p + "self_attn.k_norm.weight"])
            q, k = self.rope(q.transpose(1, 2), p0), self.rope(k.transpose(1, 2), p0)
            self.kc[i][:, :, p0:n] = k
            self.vc[i][:, :, p0:n] = v.transpose(1, 2)
            # GQA: query head h uses kv head h // G; (B, H, T, D) -> (B, KV, G*T, D)
            qg = q.reshape(B, KV, G * T, D)
            s = (qg @ self.kc[i][:, :, :n].transpose(-1, -2)) * D ** -0.5  # (B, KV, G*T, n)
            if allowed is not None:
                s = s.masked_fill(~allowed, float("-inf"))
            y = torch.softmax(s, -1) @ self.vc[i][:, :, :n]  # (B, KV, G*T, D)
            y = y.view(B, H, T, D).transpose(1, 2).reshape(B, T, H * D)
            x = x + self.linear(y, p + "self_attn.o_proj", a["o_bias"])
            h = self.rms(x, self.w[p + "post_attention_layernorm.weight"])
            g = F.silu(self.linear(h, p + "mlp.gate_proj", a["mlp_bias"]))
            x = x + self.linear(g * self.linear(h, p + "mlp.up_proj", a["mlp_bias"]),
                                p + "mlp.down_proj", a["mlp_bias"])
        return self.rms(x[:, -1], self.w["model.norm.weight"]) @ self.head.T


def run(cfg, w, B, P, K):
    """(prefill seconds, decode seconds for tokens 2..K, prompt 0's K greedy ids)."""
    m = Cached(cfg, w, B, P + K)
    idx = prompt_ids(B, P, cfg["vocab_size"])
    t0 = time.perf_counter()
    nxt = torch.argmax(m(idx, 0), -1)  # (B,)
    t1 = time.perf_counter()
    out = [nxt]
    for step in range(1, K):
        nxt = torch.argmax(m(nxt[:, None], P + step - 1), -1)
        out.append(nxt)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, [int(o[0]) for o in out]


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def main():
    ap = argparse.ArgumentParser(usage=__doc__.split("\n\n")[1])
    ap.add_argument("dir")
    ap.add_argument("--prompt-tokens", type=int, default=128)
    ap.add_argument("--new-tokens", type=int, default=32)
    ap.add_argument("--batches", default="1,16")
    ap.add_argument("--runs", type=int, default=1)
    a = ap.parse_args()
    P, K = a.prompt_tokens, a.new_tokens
    batches = [int(b) for b in a.batches.split(",")]
    torch.set_num_threads(os.cpu_count())
    cfg = json.load(open(os.path.join(a.dir, "config.json")))
    if cfg["model_type"] == "gpt2":
        sys.exit("bench_generate_torch: gpt2 is not implemented here (llama family only)")
    w = hf_check.load_checkpoint(a.dir)  # fp32
    res = {"torch": torch.__version__, "threads": torch.get_num_threads(), "dtype": "float32",
           "decode": {}}
    with torch.inference_mode():
        for B in batches:
            run(cfg, w, B, P, 2)  # warm-up: allocator, kernels
            r = [run(cfg, w, B, P, K) for _ in range(a.runs)]
            res["decode"][str(B)] = round(B * (K - 1) / median([x[1] for x in r]), 3)
            if B == 1:
                res["prefill_tokens_per_s"] = round(P / median([x[0] for x in r]), 3)
                res["b1_tokens"] = r[-1][2]
            print(f"bench_generate_torch: batch {B} done", file=sys.stderr, flush=True)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
