// The main of every test executable: runs the one registered test class named by the first
// argument (ctest passes it), with the application object QTest's own main would have made.
// Arguments after the class name go to QTest (test functions, -o, -v2, ...).
#include <QtTest>
#ifdef QT_WIDGETS_LIB
#include <QApplication>
#elif defined(QT_GUI_LIB)
#include <QGuiApplication>
#endif

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "core/base/blas_environment.h"
#include "tests/test_registry.h"

namespace reflab::test {

namespace {

struct Entry {
    AppKind app;
    TestFactory make;
};

std::map<std::string, Entry>& registry() {
    static std::map<std::string, Entry> tests;
    return tests;
}

std::unique_ptr<QCoreApplication> makeApplication(AppKind kind, int& argc, char** argv) {
    switch (kind) {
        case AppKind::None:
            return nullptr;
        case AppKind::Core:
            return std::make_unique<QCoreApplication>(argc, argv);
        case AppKind::Gui: {
#ifdef QT_WIDGETS_LIB
            auto app = std::make_unique<QApplication>(argc, argv);
#elif defined(QT_GUI_LIB)
            auto app = std::make_unique<QGuiApplication>(argc, argv);
#else
            auto app = std::make_unique<QCoreApplication>(argc, argv);
#endif
            QCoreApplication::setAttribute(Qt::AA_Use96Dpi, true);  // as QTEST_MAIN does
            return app;
        }
    }
    return nullptr;
}

}  // namespace

bool registerTest(const char* class_name, AppKind app, TestFactory make) {
    return registry().emplace(class_name, Entry{app, std::move(make)}).second;
}

}  // namespace reflab::test

int main(int argc, char** argv) {
    // As the programs do: the tests measure and exercise the BLAS kernels a user gets.
    reflab::restartWithBlasEnvironment(argv);
    auto& tests = reflab::test::registry();
    const auto it = argc >= 2 ? tests.find(argv[1]) : tests.end();
    if (it == tests.end()) {
        std::fprintf(stderr, "usage: %s TEST_CLASS [QTest arguments]\ntest classes here:\n",
                     argv[0]);
        for (const auto& [name, entry] : tests) std::fprintf(stderr, "  %s\n", name.c_str());
        return 2;
    }
    // QTest sees the program name and the arguments after the class name.
    std::vector<char*> args{argv[0]};
    for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
    args.push_back(nullptr);
    int qtest_argc = static_cast<int>(args.size()) - 1;
    auto app = reflab::test::makeApplication(it->second.app, qtest_argc, args.data());
    // Named after the class, as its own executable was: QSettings (panel state, column layout)
    // stay apart per test instead of leaking from one test class into the next.
    QCoreApplication::setApplicationName(QString::fromLatin1(argv[1]));
    std::unique_ptr<QObject> test = it->second.make();
    return QTest::qExec(test.get(), qtest_argc, args.data());
}
