// The Data tab's reverse-reasoning flow end to end on the tiny test model, through real
// `reflab-cli reverse` and `reflab-cli sft` children: a data set with a line that is not JSON and
// one lacking the reference field is refused until the user skips them; the traces' table shows
// the filter's verdict and reason of every row as the child wrote them; the accepted rows are
// saved as SFT JSONL and trained on; the SFT model loads (`reflab-cli generate` runs on it) and
// is offered to Setup. A cancelled generation leaves neither its output nor a part file.
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include "tests/test_registry.h"
#include "ui/data/cli_job.h"
#include "ui/data/data_panel.h"
#include "ui/data/reverse_flow.h"

using namespace reflab::ui;

namespace {
const QString kModel = QStringLiteral(REFLAB_TEST_DATA "/models/tiny-qwen2");
}

class TestReverseFlow : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

    QString write(const QString& name, const QByteArray& text) {
        const QString path = m_dir.filePath(name);
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly) || f.write(text) != text.size()) return {};
        return path;
    }

private slots:
    void initTestCase() { qputenv("REFLAB_CLI", REFLAB_BIN_DIR "/reflab-cli"); }

    void generateReviewSaveTrain() {
        const QString data = write("pairs.jsonl",
                                   "{\"question\":\"2+2?\",\"answer\":\"4\"}\n"
                                   "this line is not JSON\n"
                                   "{\"question\":\"3+3?\",\"answer\":\"6\"}\n"
                                   "{\"question\":\"no answer here\"}\n"
                                   "{\"question\":\"1+1?\",\"answer\":\"2\"}\n");
        DataPanel panel;
        ReverseFlow* flow = panel.reverseFlow();
        flow->setWorkFolder(m_dir.filePath("work"));
        QSignalSpy opened(&panel, &DataPanel::opened);
        panel.openFile(data);
        QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 10000);
        flow->setFields("question", "answer");
        flow->setModelDir(kModel);
        flow->findChild<QSpinBox*>("reverseMaxTokens")->setValue(8);
        flow->findChild<QSpinBox*>("reverseBatch")->setValue(2);

        // Lines 2 and 4 cannot be used: named, and no generation without consent.
        QString error;
        QVERIFY(!flow->generate(&error));
        QVERIFY2(error.contains("2 lines"), qPrintable(error));
        QVERIFY(!QDir(m_dir.filePath("work")).exists());
        panel.consentToSkip();
        QSignalSpy loaded(flow, &ReverseFlow::tracesLoaded);
        QSignalSpy failed(flow, &ReverseFlow::failed);
        QSignalSpy progress(flow->reverseJob(), &CliJob::progress);
        QVERIFY2(flow->generate(&error), qPrintable(error));
        QTRY_VERIFY_WITH_TIMEOUT(loaded.count() + failed.count() > 0, 120000);
        QVERIFY2(failed.isEmpty(), qPrintable(failed.value(0).value(0).toString()));
        QCOMPARE(loaded[0][0].toInt(), 3);
        QVERIFY(!progress.isEmpty());
        QCOMPARE(progress.last()[0].toLongLong(), qint64(3));
        QCOMPARE(progress.last()[1].toLongLong(), qint64(3));

        // The table against the child's own file: question, verdict and reason per row.
        QFile traces(flow->tracesPath());
        QVERIFY(traces.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = traces.readAll().trimmed().split('\n');
        QCOMPARE(lines.size(), 3);
        QTableWidget* table = flow->table();
        QCOMPARE(table->rowCount(), 3);
        const QStringList questions = {"2+2?", "3+3?", "1+1?"};
        for (int i = 0; i < 3; ++i) {
            const QJsonObject o = QJsonDocument::fromJson(lines[i]).object();
            QCOMPARE(o["question"].toString(), questions[i]);
            QCOMPARE(table->item(i, 1)->text(), questions[i]);
            QCOMPARE(table->item(i, 3)->text(),
                     o["kept"].toBool() ? QString("kept") : QString("dropped"));
            QCOMPARE(table->item(i, 4)->text(), o["reason"].toString().replace('\n', " / "));
            QCOMPARE(table->item(i, 0)->checkState() == Qt::Checked, o["kept"].toBool());
            QCOMPARE(o["reason"].toString().isEmpty(), o["kept"].toBool());
        }

        // Accept rows 0 and 2 by hand (whatever the filter said), save as SFT JSONL.
        flow->setAccepted(0, true);
        flow->setAccepted(1, false);
        flow->setAccepted(2, true);
        const QString sft = m_dir.filePath("sft.jsonl");
        QVERIFY2(flow->saveAccepted(sft, &error), qPrintable(error));
        QFile sftFile(sft);
        QVERIFY(sftFile.open(QIODevice::ReadOnly));
        const QList<QByteArray> rows = sftFile.readAll().trimmed().split('\n');
        QCOMPARE(rows.size(), 2);
        QCOMPARE(QJsonDocument::fromJson(rows[1]).object()["prompt"].toString(), QString("1+1?"));
        QCOMPARE(QJsonDocument::fromJson(rows[1]).object()["completion"].toString(),
                 QJsonDocument::fromJson(lines[2]).object()["completion"].toString());

        // SFT on them; the model it writes loads and generates; Setup is offered it.
        QSignalSpy trained(flow, &ReverseFlow::sftFinished);
        const QString out = m_dir.filePath("sft-model");
        flow->findChild<QSpinBox*>("sftEpochs")->setValue(1);
        QVERIFY2(flow->startSft(sft, out, &error), qPrintable(error));
        QTRY_COMPARE_WITH_TIMEOUT(trained.count(), 1, 180000);
        QVERIFY2(trained[0][0].toBool(), qPrintable(trained[0][2].toString()));
        QCOMPARE(trained[0][1].toString(), out);
        QProcess gen;
        gen.start(REFLAB_BIN_DIR "/reflab-cli",
                  {"generate", "--model", out, "--prompt", "1+1?", "--max-new-tokens", "2"});
        QVERIFY(gen.waitForFinished(60000));
        QVERIFY2(gen.exitCode() == 0, gen.readAllStandardError().constData());
        QSignalSpy ready(flow, &ReverseFlow::modelReady);
        auto* use = flow->findChild<QPushButton*>("sftUse");
        QVERIFY(use->isEnabled());
        use->click();
        QCOMPARE(ready.count(), 1);
        QCOMPARE(ready[0][0].toString(), out);
    }

    void cancelLeavesNoFile() {
        // Many rows, one a batch: the child is still generating when cancel comes.
        QByteArray rows;
        for (int i = 0; i < 3000; ++i)
            rows += QStringLiteral("{\"question\":\"%1+1?\",\"answer\":\"%2\"}\n")
                        .arg(i)
                        .arg(i + 1)
                        .toUtf8();
        const QString data = write("many.jsonl", rows);
        DataPanel panel;
        ReverseFlow* flow = panel.reverseFlow();
        flow->setWorkFolder(m_dir.filePath("work-cancel"));
        QSignalSpy opened(&panel, &DataPanel::opened);
        panel.openFile(data);
        QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 10000);
        flow->setFields("question", "answer");
        flow->setModelDir(kModel);
        flow->findChild<QSpinBox*>("reverseMaxTokens")->setValue(4);
        flow->findChild<QSpinBox*>("reverseBatch")->setValue(1);
        QSignalSpy progress(flow->reverseJob(), &CliJob::progress);
        QSignalSpy finished(flow->reverseJob(), &CliJob::finished);
        QString error;
        QVERIFY2(flow->generate(&error), qPrintable(error));
        QTRY_VERIFY_WITH_TIMEOUT(!progress.isEmpty(), 60000);
        QVERIFY(!flow->findChild<QLabel*>("reverseRate")->text().isEmpty());
        flow->cancel();
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 20000);
        QCOMPARE(finished[0][0].toBool(), false);
        QCOMPARE(finished[0][1].toString(), QString("cancelled"));
        QVERIFY(progress.last()[0].toLongLong() < 3000);
        QVERIFY(!QFile::exists(flow->tracesPath()));
        QVERIFY(!QFile::exists(flow->tracesPath() + ".part"));
        QCOMPARE(flow->table()->rowCount(), 0);
    }
};

REFLAB_TEST_GUI(TestReverseFlow);
#include "test_reverse_flow.moc"
