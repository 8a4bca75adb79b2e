// The BLAS environment check (core/base/blas_environment.h): which of OpenBLAS's choices are
// taken for a misdetection on this CPU, and that a test process (restarted by test_main as the
// programs restart) runs on suitable kernels with OpenMP's spin count set beside OpenBLAS's pool.
#include <dlfcn.h>
#include <QtTest>

#include "core/base/blas_environment.h"
#include "core/model/runtime.h"
#include "tests/test_registry.h"

// The CPU's features, read here as the kernels' dispatch reads them.
static bool blasTestAvx512() {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
}
static bool blasTestAvx2Fma() {
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

class TestBlasEnvironment : public QObject {
    Q_OBJECT
private slots:
    void preAvx2ChoicesAreReplaced() {
        const std::string expected =
            blasTestAvx512() ? "SkylakeX" : (blasTestAvx2Fma() ? "Haswell" : "");
        for (const char* core : {"Prescott", "PRESCOTT", "Core2", "Nehalem", "Sandybridge"})
            QCOMPARE(reflab::betterBlasCore(core), expected);
    }
    void knownChoicesAreKept() {
        for (const char* core : {"Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids", ""})
            QCOMPARE(reflab::betterBlasCore(core), std::string());
    }
    // test_main restarts on a misdetection as the programs do, so OpenBLAS in this process (it
    // comes with LibTorch) runs kernels that use the CPU's vector units.
    void thisProcessRunsSuitableKernels() {
        QVERIFY(!reflab::blasLibraryPath().empty());  // LibTorch's BLAS is loaded here
        using CoreName = char* (*)();
        const auto corename =
            reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
        if (!corename) QSKIP("the BLAS loaded is not OpenBLAS");
        const std::string core = corename();
        QVERIFY2(reflab::betterBlasCore(core).empty(), core.c_str());
        using Parallel = int (*)();
        const auto parallel =
            reinterpret_cast<Parallel>(dlsym(RTLD_DEFAULT, "openblas_get_parallel"));
        if (parallel && parallel() == 1)  // OpenBLAS's own pool beside OpenMP's
            QVERIFY(std::getenv("GOMP_SPINCOUNT") || std::getenv("OMP_WAIT_POLICY"));
    }
};

REFLAB_TEST_APPLESS(TestBlasEnvironment);
#include "test_blas_environment.moc"
