// Registers a Qt Test class in the executable its folder is built into. tests/CMakeLists.txt
// builds each tests/<group> folder as one or two executables (the LibTorch tests apart), because
// an executable per file paid a link and a precompiled header load each: most of a cold build.
// test_main.cpp runs the class its first argument names, so ctest keeps one test per file.
#pragma once
#include <QObject>

#include <functional>
#include <memory>

namespace reflab::test {

// The application object a test class runs under, as Qt's QTEST_*_MAIN macros choose it.
enum class AppKind {
    None,  // QTEST_APPLESS_MAIN
    Core,  // QTEST_GUILESS_MAIN: a QCoreApplication
    Gui,   // QTEST_MAIN: a QApplication (widgets) or QGuiApplication
};

using TestFactory = std::function<std::unique_ptr<QObject>()>;

// Returns true so that it can initialise a static at namespace scope.
bool registerTest(const char* class_name, AppKind app, TestFactory make);

}  // namespace reflab::test

#define REFLAB_TEST_REGISTER_(Class, Kind)                                           \
    static const bool reflab_test_registered_##Class = ::reflab::test::registerTest( \
        #Class, ::reflab::test::AppKind::Kind, [] { return std::unique_ptr<QObject>(new Class); })
#define REFLAB_TEST_APPLESS(Class) REFLAB_TEST_REGISTER_(Class, None)
#define REFLAB_TEST_GUILESS(Class) REFLAB_TEST_REGISTER_(Class, Core)
#define REFLAB_TEST_GUI(Class) REFLAB_TEST_REGISTER_(Class, Gui)
