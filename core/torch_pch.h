// Precompiled header of the LibTorch libraries (model, reward, train): the narrow part of
// LibTorch they use. <torch/torch.h> (all of nn, optim, data, serialize) made a 622 MB header
// that every core file mapped; this one is ~440 MB and costs ~5 s per file instead of ~9.
// Files include what they use themselves; this only makes it cheap.
#pragma once
#include <ATen/Parallel.h>
#include <torch/autograd.h>
#include <torch/cuda.h>
#include <torch/nn/functional/linear.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/types.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>
