// Supervised fine-tuning on (prompt, target) pairs: the prompt through the model's chat
// template (user message, optional system message, generation prompt), the target after it
// followed by the template's end of turn; cross-entropy on the target tokens only (mean over
// the batch's target tokens). AdamW with fp32 masters as in RL. Writes an HF directory.
// It builds the demo model and trains on reverse-reasoning traces (METHODS.md, RAVR).
#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace reflab::train {

struct SftOptions {
    std::string model_dir, data_path, out_dir;
    std::string prompt_field = "prompt", target_field = "target";
    std::string system;  // system message ("" = none)
    int64_t epochs = 1, batch = 8;
    double lr = 1e-5, weight_decay = 0.0, max_grad_norm = 1.0;
    int64_t warmup_steps = 0;
    std::string schedule = "constant";  // "constant" | "cosine"
    std::string dtype = "float32";
    uint64_t seed = 1;
    int64_t max_tokens = 2048;  // prompt + target longer than this is an error naming the line
};

struct SftStepReport {
    int64_t step = 0, steps = 0, epoch = 0;
    double loss = 0, lr = 0, tokens_per_s = 0, eta_seconds = 0, grad_norm = 0;
};

struct SftResult {
    int64_t steps = 0;
    double first_loss = 0, last_loss = 0;
    bool stopped = false;  // a stop signal ended it early (the model is still written)
};

// Throws DataError / TrainError / ModelLoadError naming the file, line or field.
SftResult runSft(const SftOptions& options,
                 const std::function<void(const SftStepReport&)>& on_step = {});

}  // namespace reflab::train
