// Versions of RefLab and the libraries it runs on (About dialog, run records, --version).
#pragma once
#include <string>

namespace reflab {

std::string reflabVersion();
std::string torchVersion();
std::string sqliteVersion();

}  // namespace reflab
