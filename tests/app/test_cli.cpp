// reflab-cli, run as a real process: help, version, and usage errors.
#include <QtTest>

#include "tests/app/cli_runner.h"
#include "tests/test_registry.h"

using reflab::test::runCli;
using Result = reflab::test::CliResult;

class TestCli : public QObject {
    Q_OBJECT
private slots:
    void helpExitsZero() {
        const Result r = runCli({"--help"});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.contains("train"));
        QVERIFY(r.out.contains("tokenize"));
    }
    void versionNamesLibraries() {
        const Result r = runCli({"--version"});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.contains("LibTorch"));
    }
    void unknownFlagIsOneLineNamingIt() {
        const Result r = runCli({"--no-such-flag"});
        QCOMPARE(r.code, 2);
        QVERIFY(r.err.startsWith("reflab-cli: error: "));
        QVERIFY(r.err.contains("--no-such-flag"));
        QCOMPARE(r.err.trimmed().count('\n'), 0);
    }
    void unknownCommandIsAnError() {
        const Result r = runCli({"frobnicate"});
        QCOMPARE(r.code, 2);
        QVERIFY(r.err.startsWith("reflab-cli: error: "));
        QVERIFY(r.err.contains("frobnicate"));
    }
};

REFLAB_TEST_APPLESS(TestCli);
#include "test_cli.moc"
