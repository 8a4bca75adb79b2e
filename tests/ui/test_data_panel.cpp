// The Data panel's data set viewer: a JSONL file of 20,000 rows (with blank lines, a line that
// is not JSON, one that is not an object, empty values and duplicates) is indexed on the worker;
// the row count, field statistics and bad lines equal what this test counted while writing the
// file; the table reads only the rows asked for; lines unusable for the needed fields are named
// and skipped only with the user's consent.
#include <QFile>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include "tests/test_registry.h"
#include "ui/data/data_panel.h"
#include "ui/data/jsonl_model.h"

using namespace reflab::ui;

class TestDataPanel : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void indexesStatsAndBadLines() {
        const QString path = m_dir.filePath("d.jsonl");
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        // Row i: {"id": "r<i>", "question": "q<i % 100>", "answer": "" for i % 10 == 0}.
        // Duplicates of question: 20000 - 100; empties of answer: 2000. Line 5001 is blank,
        // line 7001 is broken JSON and line 9001 an array (both still rows, named as bad).
        qint64 line = 0;
        int rows = 0;
        for (int i = 0; i < 20000; ++i) {
            ++line;
            if (line == 5001) {
                f.write("\n");
                ++line;
            }
            if (line == 7001) {
                f.write("{\"id\": broken\n");
                ++line;
                ++rows;
            }
            if (line == 9001) {
                f.write("[1, 2]\n");
                ++line;
                ++rows;
            }
            const QString answer = i % 10 == 0 ? QString() : QString::number(i);
            f.write(QStringLiteral("{\"id\": \"r%1\", \"question\": \"q%2\", \"answer\": \"%3\"}\n")
                        .arg(i)
                        .arg(i % 100)
                        .arg(answer)
                        .toUtf8());
            ++rows;
        }
        f.close();

        DataPanel panel;
        QSignalSpy opened(&panel, &DataPanel::opened);
        panel.openFile(path);
        QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 20000);
        const JsonlIndex* index = panel.model()->jsonlIndex();
        QCOMPARE(index->rows(), rows);
        QCOMPARE(panel.model()->rowCount(), 20002);
        QCOMPARE(index->fields, QStringList({"answer", "id", "question"}));
        QCOMPARE(index->stats["question"].present, qint64(20000));
        QCOMPARE(index->stats["question"].duplicates, qint64(20000 - 100));
        QCOMPARE(index->stats["answer"].empty, qint64(2000));
        QCOMPARE(index->stats["id"].duplicates, qint64(0));
        QCOMPARE(index->stats["id"].min_length, qint64(2));  // "r0"
        QCOMPARE(index->stats["id"].max_length, qint64(6));  // "r19999"
        QCOMPARE(index->bad.size(), 2);
        QCOMPARE(index->bad[0].line, qint64(7001));
        QCOMPARE(index->bad[1].line, qint64(9001));
        QCOMPARE(panel.badLines()->count(), 2);
        QVERIFY(panel.badLines()->item(0)->text().startsWith("line 7001"));
        QCOMPARE(panel.statsTable()->rowCount(), 3);
        QCOMPARE(panel.statsTable()->item(2, 3)->text(), QString("19900"));

        // Rows on demand: the 15,000th row (after one blank line and two bad rows before it).
        const int reads = panel.model()->rowReads();
        QVERIFY2(reads <= 200, qPrintable(QString::number(reads)));
        const int r = 15000 + 2;  // two bad rows precede data row 15000
        QCOMPARE(panel.model()->row(r)["id"].toString(), QString("r15000"));
        QCOMPARE(panel.model()->data(panel.model()->index(r, 3)).toLongLong(),
                 qint64(15000 + 1 + 3));  // its line: one blank and two bad lines before it
        QVERIFY(panel.model()->data(panel.model()->index(6999, 0)).toString().contains("bad line"));
    }

    // Needed fields: lines that are not JSON or lack a needed field are named by line, and left
    // out only after "Skip N bad lines"; the usable rows are then written, byte for byte, to a
    // new file (the expected text is the lines this test wrote as good).
    void badLinesSkippedOnlyWithConsent() {
        const QString path = m_dir.filePath("mixed.jsonl");
        const QByteArray good1 = R"({"question": "q1", "answer": "1"})";
        const QByteArray good2 = R"({"answer": "2", "question": "q2", "extra": [1]})";
        const QByteArray good3 = R"({"question": "q3", "answer": ""})";
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(good1 + "\n");         // line 1
        f.write("not json at all\n");  // line 2: not JSON
        f.write(R"({"question": "q only"})"
                "\n");            // line 3: lacks answer
        f.write("\n");            // line 4: blank, not a row
        f.write(good2 + "\r\n");  // line 5 (CRLF)
        f.write(R"({"answer": "a only"})"
                "\n");   // line 6: lacks question
        f.write(good3);  // line 7, no final newline
        f.close();

        DataPanel panel;
        QSignalSpy opened(&panel, &DataPanel::opened);
        panel.openFile(path);
        QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 10000);
        // No needed field: only the line that is not JSON is unusable.
        QCOMPARE(panel.unusable().rows, QVector<int>({1}));
        QCOMPARE(panel.badLines()->count(), 1);

        panel.setNeededFields({"question", "answer"});
        const Unusable& u = panel.unusable();
        QVector<qint64> lines;
        for (const auto& b : u.lines) lines << b.line;
        QCOMPARE(lines, QVector<qint64>({2, 3, 6}));
        QCOMPARE(u.not_object, qint64(1));
        QCOMPARE(u.lacking, qint64(2));
        QCOMPARE(u.lines[1].reason, QString("lacks \"answer\""));
        QCOMPARE(u.lines[2].reason, QString("lacks \"question\""));
        QCOMPARE(panel.badLines()->count(), 3);
        QVERIFY(panel.badLines()->item(1)->text().startsWith("line 3: lacks"));
        QVERIFY(!panel.skipBanner()->isHidden());
        auto* skip = panel.findChild<QPushButton*>("skipButton");
        QCOMPARE(skip->text(), QString("Skip 3 bad lines"));
        QVERIFY(panel.findChild<QLabel*>("skipText")->text().contains("line 2, 3, 6"));

        // Without consent nothing is written.
        const QString out = m_dir.filePath("usable.jsonl");
        QString error;
        QVERIFY(!panel.saveUsable(out, &error));
        QVERIFY(error.contains("3 lines"));
        QVERIFY(!panel.findChild<QPushButton*>("saveUsable")->isEnabled());
        QVERIFY(!QFile::exists(out));

        skip->click();
        QVERIFY(panel.skipConsented());
        QVERIFY(!skip->isEnabled());
        QVERIFY(panel.findChild<QPushButton*>("saveUsable")->isEnabled());
        QVERIFY(!panel.saveUsable(path, &error));  // never over the source
        QSignalSpy saved(&panel, &DataPanel::usableSaved);
        QVERIFY2(panel.saveUsable(out, &error), qPrintable(error));
        QTRY_COMPARE_WITH_TIMEOUT(saved.count(), 1, 10000);
        QCOMPARE(saved[0][2].toString(), QString());
        QCOMPARE(saved[0][1].toLongLong(), qint64(3));
        QFile written(out);
        QVERIFY(written.open(QIODevice::ReadOnly));
        QCOMPARE(written.readAll(), good1 + "\n" + good2 + "\n" + good3 + "\n");
        QVERIFY(!QFile::exists(out + ".part"));

        // Another needed field withdraws the consent.
        panel.setNeededFields({"extra"});
        QVERIFY(!panel.skipConsented());
        QCOMPARE(panel.unusable().rows.size(), 5);  // every row but line 5
    }

    void missingFileFails() {
        DataPanel panel;
        QSignalSpy failed(panel.scan(), &JsonlScan::failed);
        panel.openFile(m_dir.filePath("nope.jsonl"));
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 5000);
        QVERIFY(panel.summary()->text().contains("nope.jsonl"));
    }
};

REFLAB_TEST_GUI(TestDataPanel);
#include "test_data_panel.moc"
