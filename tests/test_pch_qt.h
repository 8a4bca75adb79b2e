// Precompiled header of the tests that do not use LibTorch (text, data, store, ui, CLI).
#pragma once
#include <QtTest>

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>
