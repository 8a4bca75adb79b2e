// Run colours: a fixed qualitative palette indexed by a run's creation order.
#include "ui/common/run_colors.h"

#include <array>

namespace reflab::ui {

QColor runColor(int creation_index) {
    static const std::array<QRgb, 12> kPalette = {
        0x4e79a7, 0xf28e2b, 0xe15759, 0x76b7b2, 0x59a14f, 0xedc948,
        0xb07aa1, 0xff9da7, 0x9c755f, 0x6b6ecf, 0x17becf, 0x8c8c2c,
    };
    const int n = static_cast<int>(kPalette.size());
    const int i = ((creation_index % n) + n) % n;
    return QColor(kPalette[static_cast<size_t>(i)]);
}

}  // namespace reflab::ui
