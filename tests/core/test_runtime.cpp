// core/base: runtime set-up (threads, BLAS) and the error type.
#include <QtTest>

#include "core/base/error.h"
#include "core/base/version.h"
#include "core/model/runtime.h"
#include "core/store/sqlite_db.h"
#include "tests/test_registry.h"

class TestRuntime : public QObject {
    Q_OBJECT
private slots:
    void setsThreadsToRequested() {
        const reflab::RuntimeInfo info = reflab::runtimeInit(2);
        QCOMPARE(info.intra_op_threads, 2);
        QCOMPARE(at::get_num_threads(), 2);
    }
    void defaultsToAllCores() {
        const reflab::RuntimeInfo info = reflab::runtimeInit();
        QCOMPARE(info.intra_op_threads, static_cast<int>(std::thread::hardware_concurrency()));
    }
    void findsAFastBlas() {
        // Debian's LibTorch takes sgemm_ from libblas.so.3; with libopenblas0-pthread
        // installed (scripts/ install it) the alternative must resolve to OpenBLAS.
        const reflab::RuntimeInfo info = reflab::runtimeInit();
        QVERIFY2(info.blas_is_fast, info.blas_path.c_str());
    }
    void errorCarriesItsMessage() {
        try {
            throw reflab::Error("model.safetensors: tensor 'lm_head.weight' is missing");
        } catch (const std::runtime_error& e) {
            QCOMPARE(QString(e.what()),
                     QString("model.safetensors: tensor 'lm_head.weight' is missing"));
        }
    }
    void versionsAreKnown() {
        QVERIFY(!reflab::torchVersion().empty());
        QVERIFY(reflab::store::sqliteVersion().rfind("3.", 0) == 0);
    }
};

REFLAB_TEST_APPLESS(TestRuntime);
#include "test_runtime.moc"
