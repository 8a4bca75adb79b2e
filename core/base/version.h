// RefLab's own version (About dialog, run records, --version). The versions of LibTorch and
// SQLite are told by the libraries that wrap them: model/runtime.h and store/sqlite_db.h.
#pragma once
#include <string>

namespace reflab {

std::string reflabVersion();

}  // namespace reflab
