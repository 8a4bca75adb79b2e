// StoreError: every failure of core/store (bad file, newer schema, disk full, unknown run, ...).
// The message is one sentence that names the workspace file.
#pragma once
#include "core/base/error.h"

namespace reflab::store {

class StoreError : public reflab::Error {
public:
    explicit StoreError(const std::string& what) : reflab::Error(what) {}
};

}  // namespace reflab::store
