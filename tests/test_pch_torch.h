// Precompiled header of the tests that use LibTorch (model, reward, train): the same narrow part
// of LibTorch as core/torch_pch.h, plus Qt Test.
#pragma once
#include <ATen/Parallel.h>
#include <torch/autograd.h>
#include <torch/nn/functional/linear.h>
#include <torch/nn/module.h>
#include <torch/types.h>

#include <QtTest>

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>
