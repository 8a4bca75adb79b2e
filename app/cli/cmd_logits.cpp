// reflab-cli logits: the full-forward logits of one id sequence, written as float32
// little-endian [T, vocab] row-major (the contract in ARCHITECTURE.md). Used by the GPU check
// and by anyone comparing RefLab with another implementation.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "app/cli/commands.h"
#include "core/base/error.h"
#include "core/model/language_model.h"

namespace reflab::cli {

namespace {
struct LogitsArgs {
    std::string model, ids, out, dtype = "float32", device = "cpu";
};

std::vector<int64_t> parseIds(const std::string& text) {
    std::vector<int64_t> ids;
    std::string tok;
    std::istringstream in(text);
    while (in >> tok) {
        size_t used = 0;
        long long v = -1;
        try {
            v = std::stoll(tok, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != tok.size() || v < 0)
            throw reflab::Error("--ids: '" + tok + "' is not a token id");
        ids.push_back(v);
    }
    if (ids.empty()) throw reflab::Error("--ids: no token ids given");
    return ids;
}

void runLogits(const LogitsArgs& a) {
    const std::vector<int64_t> ids = parseIds(a.ids);
    auto lm = model::LanguageModel::load(a.model, model::loadOptionsFrom(a.dtype, a.device));
    for (int64_t id : ids)
        if (id >= lm->config().vocab_size)
            throw reflab::Error("--ids: " + std::to_string(id) + " is outside the vocabulary of " +
                                a.model + " (vocab_size " +
                                std::to_string(lm->config().vocab_size) + ")");
    torch::InferenceMode guard;
    torch::Tensor logits =
        lm->forward(torch::tensor(ids, torch::kInt64).view({1, -1}))[0];  // (T, V)
    logits = logits.to(torch::kCPU, torch::kFloat32).contiguous();
    std::ofstream out(a.out, std::ios::binary | std::ios::trunc);
    if (!out) throw reflab::Error(a.out + ": cannot be written");
    static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the file format is little-endian");
    out.write(static_cast<const char*>(logits.data_ptr()),
              static_cast<std::streamsize>(logits.numel() * 4));
    if (!out) throw reflab::Error(a.out + ": write failed");
    std::fprintf(stderr, "wrote %lld x %lld float32 logits to %s\n", (long long)logits.size(0),
                 (long long)logits.size(1), a.out.c_str());
}
}  // namespace

void addLogitsCommand(CLI::App& app) {
    auto args = std::make_shared<LogitsArgs>();
    auto* cmd =
        app.add_subcommand("logits", "Full-forward logits of token ids, float32 LE [T, vocab]");
    cmd->add_option("--model", args->model, "Hugging Face model directory")
        ->required()
        ->check(CLI::ExistingDirectory);
    cmd->add_option("--ids", args->ids, "token ids, space-separated (\"1 2 3\")")->required();
    cmd->add_option("--out", args->out, "output file")->required();
    cmd->add_option("--dtype", args->dtype, "compute dtype: float32 | bfloat16")
        ->capture_default_str();
    cmd->add_option("--device", args->device, "cpu | cuda | cuda:N")->capture_default_str();
    cmd->callback([args] { runLogits(*args); });
}

}  // namespace reflab::cli
