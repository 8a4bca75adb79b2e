// reflab-cli tokenize --model DIR [--add-special-tokens] [--decode] [--skip-special]
//   stdin JSONL {"text": ...}  ->  stdout JSONL {"ids": [...]}
//   --add-special-tokens: the tokenizer's post_processor too (HF's default encode: Llama 3's
//   <|begin_of_text|> first)
//   --decode: stdin JSONL {"ids": [...]}  ->  stdout JSONL {"text": ...}
// DIR holds tokenizer.json. Lines are read by data::JsonlReader (blank lines skipped) one at a
// time, so each answer is written before the next line is read. A bad line stops the command
// with "<stdin>:N: ..." (exit 1); the lines before it have been answered.
#include <nlohmann/json.hpp>

#include <iostream>
#include <string>

#include "app/cli/commands.h"
#include "core/base/error.h"
#include "core/data/jsonl_reader.h"
#include "core/text/tokenizer.h"

namespace reflab::cli {
namespace {

struct TokenizeOptions {
    std::string model_dir;
    bool decode = false;
    bool skip_special = false;
    bool add_special_tokens = false;
};

void runTokenize(const TokenizeOptions& opt) {
    const text::Tokenizer tok = text::Tokenizer::fromFile(opt.model_dir + "/tokenizer.json");
    std::ios::sync_with_stdio(false);
    data::JsonlReader reader(std::cin, "<stdin>");
    while (const auto line = reader.next()) {
        const nlohmann::json& row = line->value;
        auto lineError = [&](const std::string& what) { return reader.where(*line) + ": " + what; };
        nlohmann::json out;
        if (opt.decode) {
            const auto ids = row.find("ids");
            if (ids == row.end() || !ids->is_array())
                throw reflab::Error(lineError("\"ids\" is missing or not an array"));
            std::vector<int32_t> v;
            v.reserve(ids->size());
            for (size_t k = 0; k < ids->size(); ++k) {
                const auto& id = (*ids)[k];
                if (!id.is_number_integer() || id.get<int64_t>() < 0 ||
                    id.get<int64_t>() > INT32_MAX)
                    throw reflab::Error(
                        lineError("ids[" + std::to_string(k) + "] is not a token id"));
                v.push_back(id.get<int32_t>());
            }
            out["text"] = tok.decode(v, opt.skip_special);
        } else {
            const auto text = row.find("text");
            if (text == row.end() || !text->is_string())
                throw reflab::Error(lineError("\"text\" is missing or not a string"));
            try {
                out["ids"] =
                    tok.encode(text->get_ref<const std::string&>(), opt.add_special_tokens);
            } catch (const text::TokenizerError& e) {
                throw reflab::Error(lineError(e.what()));
            }
        }
        std::cout << out.dump() << '\n' << std::flush;
    }
}

}  // namespace

void addTokenizeCommand(CLI::App& app) {
    auto opt = std::make_shared<TokenizeOptions>();
    auto* cmd = app.add_subcommand(
        "tokenize", "Encode stdin JSONL {\"text\"} to {\"ids\"} (or decode with --decode)");
    cmd->add_option("--model", opt->model_dir, "model directory holding tokenizer.json")
        ->required();
    cmd->add_flag("--add-special-tokens", opt->add_special_tokens,
                  "apply tokenizer.json's post_processor (e.g. Llama 3's <|begin_of_text|>), as "
                  "Hugging Face's encode does by default");
    cmd->add_flag("--decode", opt->decode, "read {\"ids\": [...]} and write {\"text\": ...}");
    cmd->add_flag("--skip-special", opt->skip_special,
                  "with --decode: leave special tokens (<|im_end|>, ...) out of the text");
    cmd->callback([opt] { runTokenize(*opt); });
}

}  // namespace reflab::cli
