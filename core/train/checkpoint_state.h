// The trainer's side of a checkpoint: everything beyond the model weights that a resumed run
// needs to take the same next steps as an uninterrupted one. A checkpoint directory is
//   step-000010/                 a Hugging Face model directory (config.json, model.safetensors,
//                                tokenizer files), written by LanguageModel::saveHfDirectory
//   step-000010/trainer_state.json   step, seed, sampler position, reward/filter state (readable)
//   step-000010/trainer_state.pt     torch archive: optimizer (step count, Adam moments, master
//                                    low bits), generator RNG state, extra tensors (nover proxy)
// The directory is written under a temporary name and renamed, so a checkpoint that exists
// is complete.
#pragma once
#include <ATen/core/Generator.h>
#include <torch/types.h>
#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

#include "core/train/optimizer.h"

namespace reflab::train {

inline constexpr const char* kTrainerStateJson = "trainer_state.json";
inline constexpr const char* kTrainerStateArchive = "trainer_state.pt";

struct TrainerState {
    int64_t step = 0;              // steps completed when the checkpoint was taken
    uint64_t seed = 0;             // the recipe's seed
    int64_t sampler_position = 0;  // PromptSampler::position()
    std::string run_id;
    nlohmann::json extra = nlohmann::json::object();  // e.g. rlpr std-filter EMA
};

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// "step-000010": the directory name of the checkpoint after `step` steps.
std::string checkpointDirName(int64_t step);

// Writes trainer_state.json and trainer_state.pt into dir (which must exist).
void saveTrainerState(const std::string& dir, const TrainerState& state,
                      const PolicyOptimizer& optimizer, at::Generator& generator,
                      const NamedTensors& extra_tensors = {});

// Reads them back: restores the optimizer and the generator in place and copies each extra
// tensor (by name, same shape) into the given tensors. Throws TrainError naming the file and
// entry when anything is missing or does not fit.
TrainerState loadTrainerState(const std::string& dir, PolicyOptimizer& optimizer,
                              at::Generator& generator, const NamedTensors& extra_tensors = {});

}  // namespace reflab::train
