// DataError: what the data layer throws; the message names the file and line at fault.
#pragma once
#include "core/base/error.h"

namespace reflab::data {

class DataError : public reflab::Error {
public:
    explicit DataError(const std::string& what) : reflab::Error(what) {}
};

}  // namespace reflab::data
