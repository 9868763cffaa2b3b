// bench_tokenize_js.mjs: encoding speed of the JavaScript reference tokenizer
// (@lenml/tokenizers, transformers.js's tokenizers), the baseline `vkt bench tokenize`
// prints next to vkt's own.
//
//   node tools/bench_tokenize_js.mjs TOKENIZER_DIR CORPUS_FILE [--repeat N] [--lines]
//
// Loads TOKENIZER_DIR/tokenizer.json, encodes the whole corpus file (UTF-8, special-token
// text parsed, add_special_tokens=false) once to warm up, then N times timed (encoding
// only), and prints one JSON object on stdout:
//   {"impl": "js", "bytes": B, "seconds": S, "mb_per_s": B / 1e6 / S, "tokens": T, "repeat": N}
// with B and T for one pass and S the mean time of a pass. --lines encodes each line
// on its own instead of the file as one text.
// The library comes from $VKT_FIXTURES, else the node_modules above TOKENIZER_DIR, else
// ${XDG_CACHE_HOME:-~/.cache}/vkt/fixtures (tools/fetch_fixtures.sh installs it there).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

function fail(msg, code) {
  process.stderr.write('bench_tokenize_js: ' + msg + '\n');
  process.exit(code);
}

function usage(msg) {
  fail((msg ? msg + '\n' : '') +
    'usage: node tools/bench_tokenize_js.mjs TOKENIZER_DIR CORPUS_FILE [--repeat N] [--lines]', 2);
}

function parseArgs(argv) {
  const a = { dir: null, corpus: null, repeat: 1, lines: false };
  const pos = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--repeat') {
      a.repeat = Number(argv[++i]);
      if (!Number.isInteger(a.repeat) || a.repeat < 1) usage('--repeat takes a positive integer');
    } else if (argv[i] === '--lines') a.lines = true;
    else if (argv[i].startsWith('--')) usage('unknown option ' + argv[i]);
    else pos.push(argv[i]);
  }
  if (pos.length !== 2) usage();
  [a.dir, a.corpus] = pos;
  return a;
}

// The library's entry point: where the fixtures were installed.
function findLibrary(tokDir) {
  const rel = path.join('node_modules', '@lenml', 'tokenizers', 'dist', 'main.mjs');
  const tried = [];
  if (process.env.VKT_FIXTURES) tried.push(path.join(process.env.VKT_FIXTURES, rel));
  for (let d = path.resolve(tokDir); ; d = path.dirname(d)) {
    tried.push(path.join(d, rel));
    if (path.dirname(d) === d) break;
  }
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  tried.push(path.join(cache, 'vkt', 'fixtures', rel));
  const found = tried.find((p) => fs.existsSync(p));
  if (!found) {
    fail('@lenml/tokenizers not found (run tools/fetch_fixtures.sh); tried ' + tried.join(', '), 1);
  }
  return found;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const jsonPath = path.join(a.dir, 'tokenizer.json');
  if (!fs.existsSync(jsonPath)) fail(jsonPath + ' not found', 1);
  const L = await import(pathToFileURL(findLibrary(a.dir)).href);
  const json = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
  // The base class with an empty config: the tokenizer.json pipeline alone, as vkt runs it.
  const tok = new L.tokenizers.PreTrainedTokenizer(json, { clean_up_tokenization_spaces: false });

  const buf = fs.readFileSync(a.corpus);
  const text = new TextDecoder('utf-8').decode(buf);
  const texts = a.lines ? text.split('\n') : [text];
  const encodeAll = () => {
    let n = 0;
    for (const t of texts) {
      if (t.length > 0) n += tok.encode(t, { add_special_tokens: false }).length;
    }
    return n;
  };

  const tokens = encodeAll(); // warm-up: fills the BPE cache, compiles the hot paths
  let seconds = 0;
  for (let r = 0; r < a.repeat; r++) {
    const t0 = performance.now();
    const n = encodeAll();
    seconds += (performance.now() - t0) / 1000;
    if (n !== tokens) fail(`pass ${r + 1} gave ${n} tokens, the warm-up ${tokens}`, 1);
  }
  seconds /= a.repeat;
  const out = { impl: 'js', bytes: buf.length, seconds: Number(seconds.toFixed(6)),
    mb_per_s: Number((buf.length / 1e6 / seconds).toFixed(3)), tokens, repeat: a.repeat };
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => fail(String((e && e.stack) || e), 1));
