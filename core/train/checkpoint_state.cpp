// Trainer state files of a checkpoint: JSON for the scalars, a torch archive for tensors.
#include "core/train/checkpoint_state.h"

#include <torch/serialize/archive.h>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "core/train/train_error.h"

namespace reflab::train {

namespace fs = std::filesystem;

std::string checkpointDirName(int64_t step) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "step-%06lld", static_cast<long long>(step));
    return buf;
}

void saveTrainerState(const std::string& dir, const TrainerState& state,
                      const PolicyOptimizer& optimizer, at::Generator& generator,
                      const NamedTensors& extra_tensors) {
    const fs::path json_path = fs::path(dir) / kTrainerStateJson;
    const fs::path pt_path = fs::path(dir) / kTrainerStateArchive;
    nlohmann::json j = {{"format", 1},
                        {"step", state.step},
                        {"seed", state.seed},
                        {"sampler_position", state.sampler_position},
                        {"run_id", state.run_id},
                        {"optimizer_step", optimizer.stepCount()},
                        {"extra", state.extra}};
    {
        std::ofstream out(json_path);
        out << j.dump(2) << "\n";
        if (!out) throw TrainError(json_path.string() + ": cannot write the trainer state");
    }
    torch::serialize::OutputArchive ar;
    optimizer.save(ar);
    {
        std::lock_guard<std::mutex> lock(generator.mutex());
        ar.write("rng/generate", generator.get_state());
    }
    for (const auto& [name, t] : extra_tensors) ar.write("extra/" + name, t.detach());
    try {
        ar.save_to(pt_path.string());
    } catch (const c10::Error& e) {
        throw TrainError(pt_path.string() + ": cannot write the trainer state (" +
                         e.what_without_backtrace() + ")");
    }
}

TrainerState loadTrainerState(const std::string& dir, PolicyOptimizer& optimizer,
                              at::Generator& generator, const NamedTensors& extra_tensors) {
    const fs::path json_path = fs::path(dir) / kTrainerStateJson;
    const fs::path pt_path = fs::path(dir) / kTrainerStateArchive;
    std::ifstream in(json_path);
    if (!in) throw TrainError(json_path.string() + ": the checkpoint has no trainer state");
    nlohmann::json j;
    try {
        in >> j;
    } catch (const nlohmann::json::exception& e) {
        throw TrainError(json_path.string() + ": not valid JSON (" + e.what() + ")");
    }
    TrainerState s;
    try {
        s.step = j.at("step").get<int64_t>();
        s.seed = j.at("seed").get<uint64_t>();
        s.sampler_position = j.at("sampler_position").get<int64_t>();
        s.run_id = j.at("run_id").get<std::string>();
        s.extra = j.value("extra", nlohmann::json::object());
    } catch (const nlohmann::json::exception& e) {
        throw TrainError(json_path.string() + ": " + e.what());
    }
    torch::serialize::InputArchive ar;
    try {
        ar.load_from(pt_path.string());
    } catch (const c10::Error& e) {
        throw TrainError(pt_path.string() + ": cannot read the trainer state (" +
                         e.what_without_backtrace() + ")");
    }
    try {
        optimizer.load(ar);
    } catch (const TrainError& e) {
        throw TrainError(pt_path.string() + ": " + e.what());
    }
    torch::Tensor rng;
    if (!ar.try_read("rng/generate", rng))
        throw TrainError(pt_path.string() + ": rng/generate is missing");
    {
        std::lock_guard<std::mutex> lock(generator.mutex());
        generator.set_state(rng);
    }
    torch::NoGradGuard ng;
    for (const auto& [name, t] : extra_tensors) {
        torch::Tensor v;
        if (!ar.try_read("extra/" + name, v))
            throw TrainError(pt_path.string() + ": extra/" + name + " is missing");
        if (v.sizes() != t.sizes())
            throw TrainError(pt_path.string() + ": extra/" + name + " has shape " +
                             c10::str(v.sizes()) + ", expected " + c10::str(t.sizes()));
        t.detach().copy_(v);
    }
    return s;
}

}  // namespace reflab::train
