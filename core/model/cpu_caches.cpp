// Cache sizes of this machine (see cpu_caches.h).
#include "core/model/cpu_caches.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>

namespace reflab::model {

namespace {
// "32K", "1024K", "32M" -> bytes; 0 when unreadable.
int64_t parseSize(const std::string& s) {
    if (s.empty()) return 0;
    int64_t v = 0;
    size_t i = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') v = v * 10 + (s[i++] - '0');
    const char unit = i < s.size() ? s[i] : ' ';
    return unit == 'K' ? v << 10 : unit == 'M' ? v << 20 : unit == 'G' ? v << 30 : v;
}

// The size of cpu0's cache of `level` from sysfs (data or unified, not instruction).
int64_t sysfsCache(int level) {
    for (int index = 0; index < 8; ++index) {
        const std::string dir =
            "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/";
        std::ifstream lf(dir + "level"), tf(dir + "type"), sf(dir + "size");
        int l = 0;
        std::string type, size;
        if (!(lf >> l) || !(tf >> type) || !(sf >> size)) continue;
        if (l == level && type != "Instruction") return parseSize(size);
    }
    return 0;
}

// sysfs first: it describes the caches this CPU sees, where glibc's sysconf can report a
// sum over the socket (320 MB of L3 on the project's 32 MB-L3 virtual machine).
int64_t cacheSize(int level, int sysconf_name, int64_t fallback) {
    int64_t v = sysfsCache(level);
    if (v <= 0) v = sysconf_name ? ::sysconf(sysconf_name) : 0;
    return v > 0 ? v : fallback;
}
}  // namespace

const CpuCaches& cpuCaches() {
    static const CpuCaches c = [] {
        CpuCaches r;
#ifdef _SC_LEVEL1_DCACHE_SIZE
        r.l1d = cacheSize(1, _SC_LEVEL1_DCACHE_SIZE, 32 << 10);
        r.l2 = cacheSize(2, _SC_LEVEL2_CACHE_SIZE, 1 << 20);
        r.l3 = cacheSize(3, _SC_LEVEL3_CACHE_SIZE, 32 << 20);
#else
        r.l1d = cacheSize(1, 0, 32 << 10);
        r.l2 = cacheSize(2, 0, 1 << 20);
        r.l3 = cacheSize(3, 0, 32 << 20);
#endif
        return r;
    }();
    return c;
}

int64_t prefetchAheadBytes() {
    return std::max<int64_t>(4096, cpuCaches().l2 / 64);
}

}  // namespace reflab::model
