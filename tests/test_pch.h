// Precompiled header shared by every test executable.
#pragma once
#include <torch/torch.h>
#include <nlohmann/json.hpp>
#include <QtTest>
