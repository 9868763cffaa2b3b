// make_synthetic.mjs: writes the small synthetic tokenizer.json files of this folder (and
// corpus.jsonl, the strings they are checked on). Each file exercises pipeline parts that
// the five real tokenizers (qwen3, llama3, gemma3, gpt2, llama2) do not use. Vocabularies are
// an alphabet plus BPE merges learned here from TOY_TEXT, so the files stay a few kB.
//
//   node tests/data/tokenizers/synthetic/make_synthetic.mjs
//   then for each NAME: node tools/tokenizer_ref.mjs FIXTURES --synthetic NAME [--rust DIR]
//
// Deterministic: the same script writes the same bytes.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

const TOY_TEXT = `The small model learns to read. It reads the text one token at a time, and
it guesses the next one. When the guess is wrong, the weights move a little. After many
steps the guesses get better, and the loss goes down. Hello world! Hello again, world.
A cat sat on the mat; the dog did not. Is this the end? No, it's only the start.
We're testing tokenizers: they split text into pieces, then merge pieces into tokens.
Numbers like 2024, 3.14 and 1,000,000 appear in text too. So do names like Alice and Bob.
def train(model, data):
    for step in range(1000):
        loss = model(data)
        loss.backward()
    return model
int main(void) { return 0; }
Caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00fcber stra\u00dfe se\u00f1or
\u4f60\u597d\u4e16\u754c \u3053\u3093\u306b\u3061\u306f \uc548\ub155\ud558\uc138\uc694
the the the and and of of to to in in is is it it that that with with for for
reading reader readers token tokens tokenizer tokenizers merge merges merged
`;

// ---- BPE training -----------------------------------------------------------------

// words: Map(key -> {syms: string[], count}); join(a, b) names a merge's result.
// Most frequent pair first; ties go to the smaller pair in code-unit order.
function trainMerges(words, nMerges, join) {
  const merges = [];
  for (let m = 0; m < nMerges; m++) {
    const counts = new Map();
    for (const w of words.values()) {
      for (let i = 0; i + 1 < w.syms.length; i++) {
        const k = w.syms[i] + '\u0000' + w.syms[i + 1];
        counts.set(k, (counts.get(k) || 0) + w.count);
      }
    }
    let best = null;
    let bestCount = 1; // a merge seen once teaches nothing
    for (const [k, c] of counts) {
      if (c > bestCount || (c === bestCount && best !== null && k < best)) {
        best = k;
        bestCount = c;
      }
    }
    if (best === null) break;
    const [a, b] = best.split('\u0000');
    const ab = join(a, b);
    merges.push([a, b, ab]);
    for (const w of words.values()) {
      const out = [];
      for (let i = 0; i < w.syms.length; i++) {
        if (i + 1 < w.syms.length && w.syms[i] === a && w.syms[i + 1] === b) {
          out.push(ab);
          i++;
        } else out.push(w.syms[i]);
      }
      w.syms = out;
    }
  }
  return merges;
}

function addWord(words, key, syms) {
  const w = words.get(key);
  if (w) w.count++;
  else words.set(key, { syms, count: 1 });
}

// GPT-2's byte to printable-character map.
const BYTE_CHARS = (() => {
  const bs = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const map = new Array(256);
  bs.forEach((b, i) => { map[b] = String.fromCharCode(cs[i]); });
  return map;
})();
const byteLevel = (s) => Array.from(Buffer.from(s, 'utf8'), (b) => BYTE_CHARS[b]).join('');
const GPT2_RE = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

const ASCII = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)); // ' '..'~'
const BYTE_TOKENS = Array.from({ length: 256 },
  (_, i) => '<0x' + i.toString(16).toUpperCase().padStart(2, '0') + '>');

// Vocabulary: leading tokens, then each new symbol in order, then merge results.
function vocabOf(first, alphabet, merges) {
  const vocab = {};
  let id = 0;
  const add = (t) => { if (!(t in vocab)) vocab[t] = id++; };
  first.forEach(add);
  alphabet.forEach(add);
  merges.forEach((m) => add(m[2]));
  return vocab;
}

function textChars(text) {
  return [...new Set(Array.from(text))].filter((c) => c !== '\n').sort();
}

// Byte-level BPE (GPT-2 style): 256 byte characters + merges over the regex's pieces.
function byteLevelModel(nMerges, lower) {
  const words = new Map();
  const text = lower ? TOY_TEXT.toLowerCase() : TOY_TEXT;
  for (const piece of text.match(GPT2_RE)) addWord(words, piece, Array.from(byteLevel(piece)));
  const merges = trainMerges(words, nMerges, (a, b) => a + b);
  const alphabet = Array.from({ length: 256 }, (_, b) => BYTE_CHARS[b]);
  return { vocab: vocabOf([], alphabet, merges), merges };
}

// Character BPE over words marked with a leading '▁' (SentencePiece style) or plain words.
function charModel({ first = [], metaspace = true, nMerges = 150, byteTokens = BYTE_TOKENS,
  extraChars = [], lower = false }) {
  const words = new Map();
  const text = lower ? TOY_TEXT.toLowerCase() : TOY_TEXT;
  for (const w of text.split(/\s+/).filter((x) => x)) {
    const word = metaspace ? '\u2581' + w : w;
    addWord(words, word, Array.from(word));
  }
  const merges = trainMerges(words, nMerges, (a, b) => a + b);
  const alphabet = [...byteTokens, ...new Set([...(metaspace ? ['\u2581'] : []), ...ASCII,
    ...extraChars, ...textChars(text)])];
  return { vocab: vocabOf(first, alphabet, merges), merges };
}

// Character BPE trained on whole lines (the toy text's and the corpus's), so that merges
// cross spaces, digits and punctuation: where a pre-tokenizer cuts shows in the ids.
function crossModel(nMerges) {
  const words = new Map();
  // non-ASCII digits twice, so that they get merges and a cut between them shows
  const digits = ['\u0663\u0664 \u00b2\u00b3 \u00bd \u2167', '\uff11\uff12\uff13',
    'a\u00b2b x\u00bd y\u2167 z\u0663'];
  const lines = [...TOY_TEXT.split('\n'), ...CORPUS.map((c) => c[1]), ...digits, ...digits];
  for (const line of lines) if (line.length > 0) addWord(words, line, Array.from(line));
  const merges = trainMerges(words, nMerges, (a, b) => a + b);
  const alphabet = [...BYTE_TOKENS, ...new Set([...ASCII, ...textChars(lines.join(''))])];
  return { vocab: vocabOf([], alphabet, merges), merges };
}

// WordPiece-like BPE: non-first symbols carry PREFIX, the last one SUFFIX; a merge (a, b)
// makes a + b without b's prefix, as the Rust library builds it.
function affixModel(prefix, suffix, first, nMerges) {
  const words = new Map();
  for (const w of TOY_TEXT.match(/\w+|[^\w\s]+/g)) {
    const syms = Array.from(w).map((c, i, arr) =>
      (i > 0 ? prefix : '') + c + (i === arr.length - 1 ? suffix : ''));
    addWord(words, w, syms);
  }
  const merges = trainMerges(words, nMerges, (a, b) => a + b.slice(prefix.length));
  const chars = [...new Set([...ASCII.slice(1), ...textChars(TOY_TEXT).filter((c) => c !== ' ')])];
  const alphabet = [];
  for (const c of chars) alphabet.push(c, prefix + c, c + suffix, prefix + c + suffix);
  return { vocab: vocabOf(first, alphabet, merges), merges };
}

// ---- tokenizer.json pieces ----------------------------------------------------------

function bpe(m, opt = {}) {
  return {
    type: 'BPE', dropout: null, unk_token: opt.unk ?? null,
    continuing_subword_prefix: opt.prefix ?? null, end_of_word_suffix: opt.suffix ?? null,
    fuse_unk: opt.fuse_unk ?? false, byte_fallback: opt.byte_fallback ?? false,
    ignore_merges: opt.ignore_merges ?? false, vocab: m.vocab,
    // both serializations of merges occur in the wild: pairs (tokenizers >= 0.20) and "a b"
    merges: m.merges.map((x) => (opt.string_merges ? x[0] + ' ' + x[1] : [x[0], x[1]])),
  };
}

function added(id, content, o = {}) {
  return { id, content, single_word: o.single_word ?? false, lstrip: o.lstrip ?? false,
    rstrip: o.rstrip ?? false, normalized: o.normalized ?? false, special: o.special ?? true };
}

// TemplateProcessing "BOS $A EOS" (pair: "BOS $A EOS $B:1 EOS:1"); bos/eos are [token, id].
function template(bos, eos) {
  const sp = (t, type) => ({ SpecialToken: { id: t[0], type_id: type } });
  const seq = (id, type) => ({ Sequence: { id, type_id: type } });
  const single = [];
  const pair = [];
  if (bos) { single.push(sp(bos, 0)); pair.push(sp(bos, 0)); }
  single.push(seq('A', 0));
  pair.push(seq('A', 0));
  if (eos) { single.push(sp(eos, 0)); pair.push(sp(eos, 0)); }
  pair.push(seq('B', 1));
  if (eos) pair.push(sp(eos, 1));
  const special_tokens = {};
  for (const t of [bos, eos]) {
    if (t) special_tokens[t[0]] = { id: t[0], ids: [t[1]], tokens: [t[0]] };
  }
  return { type: 'TemplateProcessing', single, pair, special_tokens };
}

const seqN = (...normalizers) => ({ type: 'Sequence', normalizers });
const seqP = (...pretokenizers) => ({ type: 'Sequence', pretokenizers });
const seqD = (...decoders) => ({ type: 'Sequence', decoders });
const str = (s) => ({ String: s });
const re = (s) => ({ Regex: s });
const replace = (pattern, content) => ({ type: 'Replace', pattern, content });
const strip = (l, r) => ({ type: 'Strip', strip_left: l, strip_right: r });
const metaspace = (scheme, split) => ({ type: 'Metaspace', replacement: '\u2581',
  prepend_scheme: scheme, split });
const split = (pattern, behavior, invert) => ({ type: 'Split', pattern, behavior, invert });
const byteLevelPre = (prefix) => ({ type: 'ByteLevel', add_prefix_space: prefix,
  trim_offsets: true, use_regex: true });
const BYTELEVEL_DEC = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true,
  use_regex: true };
const BYTE_FUSE = seqD({ type: 'ByteFallback' }, { type: 'Fuse' });

function tokenizer(parts) {
  return { version: '1.0', truncation: null, padding: null, added_tokens: parts.added ?? [],
    normalizer: parts.normalizer ?? null, pre_tokenizer: parts.pre ?? null,
    post_processor: parts.post ?? null, decoder: parts.decoder ?? null, model: parts.model };
}

const SPM_FIRST = ['<unk>', '<s>', '</s>'];
const SPM_ADDED = [added(0, '<unk>'), added(1, '<s>'), added(2, '</s>')];
const nextId = (m) => Object.keys(m.vocab).length;

function build() {
  const t = {};

  // NFKC then Lowercase, ByteLevel with a prefix space, BOS/EOS added outside the vocab.
  {
    const m = byteLevelModel(300, true);
    const bos = ['<|bos|>', nextId(m)];
    const eos = ['<|eos|>', nextId(m) + 1];
    t.nfkc_lower_bytelevel = tokenizer({
      normalizer: seqN({ type: 'NFKC' }, { type: 'Lowercase' }),
      pre: byteLevelPre(true), model: bpe(m, { string_merges: true }),
      added: [added(bos[1], bos[0]), added(eos[1], eos[0])],
      post: template(bos, eos), decoder: BYTELEVEL_DEC });
  }

  // NFD + Strip, Whitespace pre-tokenizer, "##" prefix and "</w>" suffix, [UNK] unfused.
  {
    const m = affixModel('##', '</w>', ['[UNK]'], 200);
    t.nfd_strip_whitespace_affixes = tokenizer({
      normalizer: seqN({ type: 'NFD' }, strip(true, true)),
      pre: { type: 'Whitespace' },
      model: bpe(m, { unk: '[UNK]', prefix: '##', suffix: '</w>' }),
      added: [added(0, '[UNK]')],
      // (no Strip with stop > 0: tokenizers 0.23.2 panics on it for an empty decode)
      decoder: seqD(replace(str('##'), ''), replace(str('</w>'), ' '), { type: 'Fuse' }) });
  }

  // Accents stripped by a regex Replace, Lowercase, left Strip; WhitespaceSplit.
  {
    const m = charModel({ metaspace: false, lower: true });
    t.strip_accents_wssplit = tokenizer({
      normalizer: seqN({ type: 'NFD' }, replace(re('\\p{Mn}'), ''), { type: 'Lowercase' },
        strip(true, false)),
      pre: { type: 'WhitespaceSplit' },
      model: bpe(m, { byte_fallback: true }), decoder: BYTE_FUSE });
  }

  // Metaspace always + split; byte fallback with fused unknowns; <s> $A </s>.
  {
    const m = charModel({ first: SPM_FIRST });
    t.metaspace_always_split = tokenizer({
      pre: metaspace('always', true),
      model: bpe(m, { unk: '<unk>', byte_fallback: true, fuse_unk: true }),
      added: SPM_ADDED, post: template(['<s>', 1], ['</s>', 2]),
      decoder: seqD(metaspace('always', true), { type: 'ByteFallback' }, { type: 'Fuse' }) });
  }

  // Metaspace first, no split; ignore_merges with whole-section vocab entries; NFC.
  {
    const m = charModel({ first: SPM_FIRST, byteTokens: [] });
    for (const w of ['\u2581hello\u2581world', '\u2581the\u2581end', '\u2581x\u2581y']) {
      if (!(w in m.vocab)) m.vocab[w] = nextId(m);
    }
    const sp = ['<|sp|>', nextId(m)];
    t.metaspace_first_ignore_merges = tokenizer({
      normalizer: { type: 'NFC' },
      pre: metaspace('first', false),
      model: bpe(m, { unk: '<unk>', ignore_merges: true, string_merges: true }),
      added: [...SPM_ADDED, added(sp[1], sp[0])],
      decoder: metaspace('first', false) });
  }

  // Metaspace never + split.
  {
    const m = charModel({ first: SPM_FIRST });
    t.metaspace_never_split = tokenizer({
      pre: metaspace('never', true),
      model: bpe(m, { unk: '<unk>', byte_fallback: true }),
      added: SPM_ADDED,
      decoder: seqD(metaspace('never', true), { type: 'ByteFallback' }, { type: 'Fuse' }) });
  }

  // The pre-0.19 Metaspace format (add_prefix_space, no split field) still in old files.
  {
    const m = charModel({ first: SPM_FIRST });
    t.metaspace_legacy = tokenizer({
      pre: { type: 'Metaspace', replacement: '\u2581', add_prefix_space: true,
        prepend_scheme: 'first' },
      model: bpe(m, { unk: '<unk>', byte_fallback: true }),
      added: SPM_ADDED, post: template(['<s>', 1], null),
      decoder: seqD({ type: 'Metaspace', replacement: '\u2581', add_prefix_space: true },
        { type: 'ByteFallback' }, { type: 'Fuse' }) });
  }

  // Llama-2-like normalizers (left Strip, Prepend, Replace) and a String Split on "▁".
  {
    const m = charModel({ first: SPM_FIRST });
    t.prepend_replace_split = tokenizer({
      normalizer: seqN(strip(true, false), { type: 'Prepend', prepend: '\u2581' },
        replace(str(' '), '\u2581')),
      pre: split(str('\u2581'), 'MergedWithNext', false),
      model: bpe(m, { unk: '<unk>', byte_fallback: true }),
      added: SPM_ADDED, post: template(['<s>', 1], ['</s>', 2]),
      decoder: seqD(replace(str('\u2581'), ' '), { type: 'ByteFallback' }, { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 }) });
  }

  // Split with every behavior, plain and inverted.
  {
    const m = crossModel(300);
    const behaviors = [['removed', 'Removed'], ['isolated', 'Isolated'],
      ['merged_prev', 'MergedWithPrevious'], ['merged_next', 'MergedWithNext'],
      ['contiguous', 'Contiguous']];
    for (const [name, b] of behaviors) {
      for (const invert of [false, true]) {
        t['split_' + name + (invert ? '_invert' : '')] = tokenizer({
          pre: split(re('\\s+|\\d'), b, invert),
          model: bpe(m, { byte_fallback: true }), decoder: BYTE_FUSE });
      }
    }
  }

  // Digits (individual) after WhitespaceSplit; Punctuation (Isolated) then grouped Digits;
  // Punctuation Contiguous.
  {
    const m = crossModel(300);
    t.digits_individual = tokenizer({
      pre: seqP({ type: 'WhitespaceSplit' }, { type: 'Digits', individual_digits: true }),
      model: bpe(m, { byte_fallback: true }), decoder: BYTE_FUSE });
    t.punct_isolated_digits = tokenizer({
      pre: seqP({ type: 'Punctuation', behavior: 'Isolated' },
        { type: 'Digits', individual_digits: false }),
      model: bpe(m, { byte_fallback: true }), decoder: BYTE_FUSE });
    t.punct_contiguous = tokenizer({
      pre: { type: 'Punctuation', behavior: 'Contiguous' },
      model: bpe(m, { byte_fallback: true }), decoder: BYTE_FUSE });
  }

  // Added tokens: lstrip, rstrip, single_word, special and not, in and outside the vocab.
  {
    const m = byteLevelModel(200, false);
    let id = nextId(m);
    const inVocab = m.merges.map((x) => x[2]).find((x) => /^[a-z]{3,}$/.test(x));
    const list = [
      added(id++, '<s>'), added(id++, '</s>'),
      added(id++, '<L>', { lstrip: true }), added(id++, '<R>', { rstrip: true }),
      added(id++, '<LR>', { lstrip: true, rstrip: true, special: false }),
      added(id++, 'cat', { single_word: true, special: false }),
      added(m.vocab[inVocab], inVocab, { special: false }), // a word already in the vocab
      added(id++, 'dog', { special: false }),
    ];
    t.added_strip_single = tokenizer({
      pre: byteLevelPre(false), model: bpe(m, {}), added: list,
      post: template(['<s>', list[0].id], ['</s>', list[1].id]), decoder: BYTELEVEL_DEC });
  }

  // Added tokens matched before (normalized: false) and after (true) a Lowercase normalizer.
  {
    const m = byteLevelModel(200, true);
    let id = nextId(m);
    t.added_normalized = tokenizer({
      normalizer: { type: 'Lowercase' }, pre: byteLevelPre(false), model: bpe(m, {}),
      added: [
        added(id++, '<Tag>'),
        added(id++, 'MiXeD', { normalized: true, special: false }),
        added(id++, 'Hello World', { normalized: true, special: false }),
        added(id++, 'UPPER', { normalized: false, special: false }),
        added(id++, '<Norm>', { normalized: true, special: true }),
      ],
      decoder: BYTELEVEL_DEC });
  }

  // Byte fallback with bytes 0xF0..0xFF missing: 4-byte characters fall to <unk>, fused.
  {
    const m = charModel({ first: SPM_FIRST, byteTokens: BYTE_TOKENS.slice(0, 0xf0) });
    t.byte_fallback_partial = tokenizer({
      pre: metaspace('always', true),
      model: bpe(m, { unk: '<unk>', byte_fallback: true, fuse_unk: true }),
      added: SPM_ADDED,
      decoder: seqD(metaspace('always', true), { type: 'ByteFallback' }, { type: 'Fuse' }) });
  }

  // No byte fallback, fused unknowns (letters only), and no decoder (ids join with " ").
  {
    const letters = Array.from({ length: 26 }, (_, i) => String.fromCharCode(97 + i));
    const words = new Map();
    for (const w of TOY_TEXT.toLowerCase().match(/[a-z]+/g)) addWord(words, w, Array.from(w));
    const merges = trainMerges(words, 100, (a, b) => a + b);
    const alphabet = [...letters, ...letters.map((c) => c.toUpperCase())];
    const m = { vocab: vocabOf(['<unk>'], alphabet, merges), merges };
    t.unk_fuse_no_decoder = tokenizer({
      pre: { type: 'WhitespaceSplit' },
      model: bpe(m, { unk: '<unk>', fuse_unk: true }), added: [added(0, '<unk>')] });
  }
  return t;
}

// Pretty JSON with the vocabulary and merges kept compact (they are most of each file).
function format(obj) {
  const { vocab, merges } = obj.model;
  const shell = { ...obj, model: { ...obj.model, vocab: '@VOCAB@', merges: '@MERGES@' } };
  return JSON.stringify(shell, null, 2)
    .replace('"@VOCAB@"', JSON.stringify(vocab))
    .replace('"@MERGES@"', JSON.stringify(merges)) + '\n';
}

// The strings the synthetic tokenizers are checked on.
const CORPUS = [
  ['empty', ''],
  ['space', ' '],
  ['spaces3', '   '],
  ['lead_spaces', '  hello'],
  ['trail_spaces', 'hello  '],
  ['double_space', 'hello  world'],
  ['tabs_newlines', '\thello\n\nworld\r\n'],
  ['sentence', 'The small model reads the text.'],
  ['case_mix', 'Hello WORLD, HeLLo wOrLd'],
  ['nfc_nfd', 'caf\u00e9 cafe\u0301 r\u00e9sum\u00e9'],
  ['fullwidth', '\uff28\uff45\uff4c\uff4c\uff4f\uff01 \uff11\uff12\uff13'],
  ['ligatures', '\ufb01ne \ufb02ow \u2460\u2461 x\u00b2 \u2122'],
  ['final_sigma', '\u039f\u0394\u039f\u03a3 \u03a3\u039f\u03a6\u039f\u03a3'],
  ['dotted_i', '\u0130stanbul \u0130I'],
  ['eszett', 'Stra\u00dfe \u1e9e'],
  ['digits', '12345 3.14 1,000,000'],
  ['digits_mixed', 'a1b22c333d4444'],
  ['digits_unicode', '\u0663\u0664 \u00b2\u00b3 \u00bd \u2167'],
  ['digits_attached', 'a\u00b2b x\u00bd y\u2167 z\u0663'],
  ['punct', 'Hello, world!!! (yes)... a--b'],
  ['punct_unicode', '\u00bfQu\u00e9? \u00abno\u00bb \u2014 \u2026'],
  ['contraction', "don't it's we're"],
  ['cjk', '\u4f60\u597d\u4e16\u754c\u3002\u3053\u3093\u306b\u3061\u306f'],
  ['emoji', 'ok \u{1F44D}\u{1F3FD}\u{1F600}\u{1F600} end'],
  ['emoji_zwj', '\u{1F468}\u200d\u{1F469}\u200d\u{1F467}'],
  ['sp_s', '<s>hello</s>'],
  ['sp_s_spaced', '<s> hello </s> '],
  ['sp_unk', '<unk> x <unk>'],
  ['sp_sp', '<|sp|>hello <|sp|> world'],
  ['sp_start', '<|sp|> start'],
  ['sp_bos_eos', '<|bos|>x<|eos|>'],
  ['lstrip_rstrip', 'a   <L>   b   <R>   c'],
  ['lstrip_rstrip_both', 'x  <LR>  y\t<LR>\tz'],
  ['lstrip_at_edges', '<L> start end <R>'],
  ['single_word', 'cat concatenate cat. (cat) a cat sat cats'],
  ['added_in_vocab', 'the theme other the'],
  ['nonspecial_dog', 'hotdog dog dogs'],
  ['normalized_mixed', 'MiXeD mixed MIXED mIxEd'],
  ['normalized_space', 'Hello World hello world HELLO WORLD'],
  ['raw_upper', 'UPPER upper Upper'],
  ['tag_case', '<Tag> <tag> <TAG> <Norm> <norm> <NORM>'],
  ['ignore_merges_words', 'hello world'],
  ['ignore_merges_the_end', 'the end'],
  ['x_y', 'x y'],
  ['metaspace_literal', '\u2581 \u2581\u2581x a\u2581b'],
  ['byte_token_text', '<0x41> <0xFF>'],
  ['unk_text', '[UNK] ## </w>'],
  ['ws_unicode', 'a\u00a0b\u3000c\u0085d\ufeffe'],
  ['combining_alone', '\u0301x\u0308'],
  ['long_word', 'abc'.repeat(50)],
  ['code', 'def f(x):\n    return x*2\n'],
  ['split_mix', 'ab 12  cd\t3 4e5'],
  ['only_digits', '0123456789'],
  ['only_punct', '!?.,;:'],
  ['only_ws', ' \t\n '],
  ['url', 'https://example.com/a?b=1&c=2'],
  ['numbers_words', 'in 2024 we ran 1000 steps'],
];
const CORPUS_HEX = [['bad_cont', '80'], ['bad_trunc', 'e4b8'], ['bad_mixed', '68c3a9ff6c']];

function main() {
  const all = build();
  for (const [name, obj] of Object.entries(all)) {
    fs.writeFileSync(path.join(HERE, name + '.tokenizer.json'), format(obj));
  }
  const lines = CORPUS.map(([name, text]) => JSON.stringify({ name, text }))
    .concat(CORPUS_HEX.map(([name, hex]) => JSON.stringify({ name, hex })));
  fs.writeFileSync(path.join(HERE, 'corpus.jsonl'), lines.join('\n') + '\n');
  process.stderr.write(`${Object.keys(all).length} tokenizers, ${lines.length} corpus lines\n`);
  process.stdout.write(Object.keys(all).join('\n') + '\n');
}

main();
