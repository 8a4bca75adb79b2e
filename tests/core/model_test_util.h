// Shared helpers of the core/model tests: paths of the tiny models and their golden logits
// (written by tests/tools/models/reference_forward.py, an independent PyTorch forward).
#pragma once
#include <torch/types.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/model/bf16_dot.h"

namespace model_test {

// The decode kernels' bf16 dot named in a _data() row: "native" or "emulated" (bf16_dot.h).
inline reflab::model::Bf16Dot bf16DotNamed(const std::string& name) {
    return name == "native" ? reflab::model::Bf16Dot::Native : reflab::model::Bf16Dot::Emulated;
}

// Whether this CPU runs `dot`: Native needs AVX512-BF16, Emulated AVX-512 F/BW/DQ/VL.
inline bool bf16DotRunsHere(reflab::model::Bf16Dot dot) {
    return static_cast<int>(dot) <= static_cast<int>(reflab::model::bf16DotSupported());
}

// The reason a test gives when it skips a dot this CPU lacks.
inline const char* bf16DotMissing(reflab::model::Bf16Dot dot) {
    return dot == reflab::model::Bf16Dot::Native ? "this CPU has no AVX512-BF16"
                                                 : "this CPU has no AVX-512";
}

inline std::string modelDir(const std::string& name) {
    return std::string(REFLAB_TEST_DATA) + "/models/" + name;
}

inline nlohmann::json goldenMeta() {
    std::ifstream in(std::string(REFLAB_TEST_DATA) + "/models/golden/golden.json");
    return nlohmann::json::parse(in);
}

// The golden logits of `model` in compute dtype `dtype` ("float32" | "bfloat16"), one (T, V)
// tensor per sequence of golden.json.
// With `transformers`, the logits Hugging Face transformers computed on CUDA for the same
// sequences (scripts/gpu_check.sh, golden/transformers/).
inline std::vector<torch::Tensor> goldenLogits(const std::string& model, const std::string& dtype,
                                               int64_t vocab, bool transformers = false) {
    const nlohmann::json meta = goldenMeta();
    const std::string file = transformers
                                 ? "transformers/" + model + ".transformers." + dtype + ".bin"
                                 : meta["files"][model + "/" + dtype].get<std::string>();
    std::ifstream in(std::string(REFLAB_TEST_DATA) + "/models/golden/" + file, std::ios::binary);
    std::vector<torch::Tensor> out;
    for (const auto& seq : meta["sequences"]) {
        const int64_t T = static_cast<int64_t>(seq.size());
        torch::Tensor t = torch::empty({T, vocab}, torch::kFloat32);
        in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(T * vocab * 4));
        if (!in) throw std::runtime_error("golden file " + file + " is short");
        out.push_back(t);
    }
    return out;
}

inline std::vector<std::vector<int32_t>> goldenSequences() {
    std::vector<std::vector<int32_t>> out;
    const nlohmann::json meta = goldenMeta();  // (a range-for over goldenMeta()[..] would dangle)
    for (const auto& s : meta["sequences"]) out.push_back(s.get<std::vector<int32_t>>());
    return out;
}

inline torch::Tensor idsTensor(const std::vector<int32_t>& ids) {
    std::vector<int64_t> v(ids.begin(), ids.end());
    return torch::tensor(v, torch::kInt64).view({1, -1});
}

inline double maxAbsDiff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a.to(torch::kFloat32) - b.to(torch::kFloat32)).abs().max().item<double>();
}

}  // namespace model_test
