#include "core/base/version.h"

namespace reflab {

std::string reflabVersion() {
    return REFLAB_VERSION;
}

}  // namespace reflab
