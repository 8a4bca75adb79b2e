// The machine's cache sizes, read once at run time, so that the CPU kernels' tile sizes and
// prefetch distances follow the machine they run on instead of constants fitted to one.
#pragma once
#include <cstdint>

namespace reflab::model {

struct CpuCaches {
    int64_t l1d = 0, l2 = 0, l3 = 0;  // bytes per core (l3: per socket, as the OS reports it)
};

// /sys/devices/system/cpu/cpu0/cache/index*/, else sysconf(_SC_LEVEL*_CACHE_SIZE), else
// 32 KB / 1 MB / 32 MB (a common x86-64 server core).
const CpuCaches& cpuCaches();

// How far ahead of its reads a streaming kernel prefetches weight rows, per thread, in bytes:
// 1/64 of the L2 (16 KB of a 1 MB L2). The prefetched window must survive in the L2 until it
// is read, beside the rows of x being multiplied and the hardware prefetcher's own streams, so
// it scales with the L2; a window far above bandwidth x latency (about 2 KB per thread at
// 15 GB/s and 100 ns) gains nothing, so 4 KB is the floor. On the project's 1 MB-L2 machine
// 16 KB moved 8-row decode from 16 to 21 GB/s; the roofline bench reports the read rate at
// half and twice this distance, so another machine shows whether the rule holds there.
int64_t prefetchAheadBytes();

}  // namespace reflab::model
