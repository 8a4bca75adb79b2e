// SplitMix64: a tiny, well-mixed generator whose output is fixed by its definition, so seeded
// data (the demo task, synthetic workspaces, bootstrap resamples) is the same with every
// standard library (whose distributions differ). One owner; callers add their own draws.
#pragma once
#include <cstdint>

namespace reflab {

struct SplitMix64 {
    uint64_t state;
    uint64_t next() {
        uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
};

}  // namespace reflab
