// reflab-cli generate: sample completions of one prompt (optionally through the model's chat
// template) with the KV-cache generator; plain text or --json (one object with every
// completion, its raw text and the text training scores, its tokens, log-probs and finish
// reason, and the speed).
#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <iostream>

#include "app/cli/commands.h"
#include "core/base/error.h"
#include "core/model/generation.h"
#include "core/model/language_model.h"
#include "core/train/rollouts.h"

namespace reflab::cli {

namespace {
struct GenerateArgs {
    std::string model, prompt, dtype = "float32", device = "cpu", system;
    int64_t max_new_tokens = 64, top_k = 0, batch = 1;
    double temperature = 1.0, top_p = 1.0;
    uint64_t seed = 0;
    bool greedy = false, chat = false, json = false;
    std::vector<std::string> stop;
};

void runGenerate(const GenerateArgs& a) {
    if (a.batch < 1) throw reflab::Error("--batch must be at least 1");
    if (a.temperature < 0) throw reflab::Error("--temperature must be >= 0");
    if (a.top_p <= 0 || a.top_p > 1) throw reflab::Error("--top-p must be in (0, 1]");
    auto lm = model::LanguageModel::load(a.model, model::loadOptionsFrom(a.dtype, a.device));
    model::SamplingConfig cfg;
    cfg.max_new_tokens = a.max_new_tokens;
    cfg.temperature = a.temperature;
    cfg.top_p = a.top_p;
    cfg.top_k = a.top_k;
    cfg.greedy = a.greedy || a.temperature == 0;
    cfg.stop_strings = a.stop;
    std::string text = a.prompt;
    if (a.chat) {
        const text::ChatTemplate& tpl = lm->chatTemplate();
        std::vector<text::ChatMessage> msgs;
        if (!a.system.empty()) msgs.push_back({"system", a.system});
        msgs.push_back({"user", a.prompt});
        text = tpl.render(msgs, /*add_generation_prompt=*/true);
        for (const auto& s : tpl.stopStrings()) cfg.stop_strings.push_back(s);
    }
    // As HF: a chat-rendered prompt as encodePrompt makes it (the template writes BOS), a raw
    // one as tokenizer(text) with its default add_special_tokens=True.
    const std::vector<int32_t> ids =
        a.chat ? lm->encodePrompt(text) : lm->tokenizer().encode(text, /*add_special_tokens=*/true);
    if (ids.empty()) throw reflab::Error("--prompt: the prompt encodes to no tokens");
    auto gen = at::detail::createCPUGenerator(a.seed);
    auto t0 = std::chrono::steady_clock::now();
    auto out = model::generate(*lm, std::vector<std::vector<int32_t>>(a.batch, ids), cfg, gen);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    int64_t total = 0;
    for (const auto& g : out) total += static_cast<int64_t>(g.tokens.size());
    if (a.json) {
        nlohmann::json j = {{"prompt", text},
                            {"prompt_tokens", ids.size()},
                            {"seconds", secs},
                            {"tokens_per_s", total / std::max(secs, 1e-9)},
                            {"completions", nlohmann::json::array()}};
        // "completion" is the text training scores (stop string / EOS cut), "text" the raw one.
        for (const auto& g : out)
            j["completions"].push_back(train::completionJson(*lm, g, cfg.stop_strings));
        std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
    } else {
        for (size_t i = 0; i < out.size(); ++i) {
            if (out.size() > 1)
                std::cout << "--- completion " << i << " ("
                          << model::finishReasonName(out[i].finish) << ")\n";
            std::cout << out[i].text << "\n";
        }
        std::cerr << total << " tokens in " << secs << " s\n";
    }
}
}  // namespace

void addGenerateCommand(CLI::App& app) {
    auto a = std::make_shared<GenerateArgs>();
    auto* cmd =
        app.add_subcommand("generate", "Sample completions of a prompt (KV cache, batched)");
    cmd->add_option("--model", a->model, "Hugging Face model directory")
        ->required()
        ->check(CLI::ExistingDirectory);
    cmd->add_option("--prompt", a->prompt, "prompt text")->required();
    cmd->add_option("--max-new-tokens", a->max_new_tokens, "tokens to generate at most")
        ->capture_default_str();
    cmd->add_option("--temperature", a->temperature, "sampling temperature (0: greedy)")
        ->capture_default_str();
    cmd->add_option("--top-p", a->top_p, "nucleus sampling mass")->capture_default_str();
    cmd->add_option("--top-k", a->top_k, "keep the k most likely tokens (0: all)")
        ->capture_default_str();
    cmd->add_option("--batch", a->batch, "completions of the prompt, sampled together")
        ->capture_default_str();
    cmd->add_option("--seed", a->seed, "sampling seed")->capture_default_str();
    cmd->add_option("--stop", a->stop, "stop string (repeatable)");
    cmd->add_option("--system", a->system, "system message (with --chat)");
    cmd->add_flag("--greedy", a->greedy, "argmax decoding");
    cmd->add_flag("--chat", a->chat,
                  "wrap the prompt in the model's chat template as a user message");
    cmd->add_flag("--json", a->json, "one JSON object on stdout");
    cmd->add_option("--dtype", a->dtype, "compute dtype: float32 | bfloat16")
        ->capture_default_str();
    cmd->add_option("--device", a->device, "cpu | cuda | cuda:N")->capture_default_str();
    cmd->callback([a] { runGenerate(*a); });
}

}  // namespace reflab::cli
