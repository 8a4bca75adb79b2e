// reflab::Error: the root of every exception the core throws. Each layer derives its own
// (ModelLoadError, TokenizerError, StoreError, RecipeError, ...) whose message is one sentence
// naming the file, field or line at fault, so the CLI and the GUI can show it as it is.
#pragma once
#include <stdexcept>
#include <string>

namespace reflab {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace reflab
