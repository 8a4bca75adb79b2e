// Builds a small Llama-3-style tokenizer.json for the post-processor tests and its vectors with
// @huggingface/tokenizers (pure JS, independent of RefLab's C++ code):
//   tests/data/tokenizers/llama3-style/tokenizer.json: byte-level BPE over the 256 byte
//     characters and a few merges, Llama 3's Split regex, the special tokens <|begin_of_text|>
//     (300) and <|end_of_text|> (301), and Llama 3.1's post_processor written out (a Sequence
//     of ByteLevel and a TemplateProcessing whose single template is <|begin_of_text|> $A).
//   tests/data/tokenizers/llama3-style/vectors.jsonl: {"text", "ids", "ids_special"}: the ids
//     without and with add_special_tokens.
//   cd tests/tools/tokenizer && npm install && node make_llama3_style.mjs
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Tokenizer } from "@huggingface/tokenizers";

const here = dirname(fileURLToPath(import.meta.url));
const dataDir = join(here, "..", "..", "data", "tokenizers", "llama3-style");

// GPT-2's bytes_to_unicode.
const byteChars = (() => {
  const bs = [];
  for (let c = 33; c <= 126; ++c) bs.push(c);
  for (let c = 161; c <= 172; ++c) bs.push(c);
  for (let c = 174; c <= 255; ++c) bs.push(c);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; ++b)
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  const out = new Array(256);
  bs.forEach((b, i) => (out[b] = String.fromCharCode(cs[i])));
  return out;
})();

const vocab = {};
for (let b = 0; b < 256; ++b) vocab[byteChars[b]] = b;
const sp = byteChars[32];
const merges = [["h", "e"], ["l", "l"], ["he", "ll"], ["hell", "o"], [sp, "w"], [sp + "w", "o"],
                ["r", "l"], [sp + "wo", "rl"], [sp + "worl", "d"]];
let next = 256;
for (const [a, b] of merges) vocab[a + b] = next++;

const special = (id, content) => ({ id, content, single_word: false, lstrip: false, rstrip: false,
                                    normalized: false, special: true });
const bos = "<|begin_of_text|>";
const tokenizer = {
  version: "1.0",
  truncation: null,
  padding: null,
  added_tokens: [special(300, bos), special(301, "<|end_of_text|>")],
  normalizer: null,
  pre_tokenizer: {
    type: "Sequence",
    pretokenizers: [
      { type: "Split",
        pattern: { Regex: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" },
        behavior: "Isolated", invert: false },
      { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false },
    ],
  },
  post_processor: {
    type: "Sequence",
    processors: [
      { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
      { type: "TemplateProcessing",
        single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
        pair: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } },
               { SpecialToken: { id: bos, type_id: 1 } }, { Sequence: { id: "B", type_id: 1 } }],
        special_tokens: { [bos]: { id: bos, ids: [300], tokens: [bos] } } },
    ],
  },
  decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
  model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: null,
           end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: true,
           vocab, merges },
};

const texts = ["hello world", "", "Hello, world!", "hello<|end_of_text|>", bos + "hello",
               "x 12345 hello\n\nworld", "héllo wörld"];
const tok = new Tokenizer(tokenizer, {});
const lines = texts.map((text) => JSON.stringify({
  text,
  ids: tok.encode(text, { add_special_tokens: false }).ids,
  ids_special: tok.encode(text, { add_special_tokens: true }).ids,
}));
mkdirSync(dataDir, { recursive: true });
writeFileSync(join(dataDir, "tokenizer.json"), JSON.stringify(tokenizer, null, 1) + "\n");
writeFileSync(join(dataDir, "vectors.jsonl"), lines.join("\n") + "\n");
console.log(lines.join("\n"));
