#include "core/base/version.h"

#include <sqlite3.h>
#include <torch/version.h>

namespace reflab {

std::string reflabVersion() { return REFLAB_VERSION; }
std::string torchVersion() { return TORCH_VERSION; }
std::string sqliteVersion() { return sqlite3_libversion(); }

}  // namespace reflab
