// TemplatePreview loads a model's tokenizer off the GUI thread: update() returns with the count
// reading "Loading the tokenizer…", and the count that arrives is the one this test computes by
// loading the same tokenizer.json itself and encoding the rendered text. A corrupt
// tokenizer.json is reported in the count's place, in red, naming the file.
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include "core/text/tokenizer.h"
#include "tests/test_registry.h"
#include "ui/setup/template_preview.h"

using namespace reflab;

class TestTemplatePreview : public QObject {
    Q_OBJECT

    static nlohmann::json templateSection() {
        return {{"system", "Answer briefly."}, {"user", "Question: {question}"}};
    }

private slots:
    void tokenizerLoadsOffTheGuiThread() {
        const QString model = QStringLiteral(REFLAB_SOURCE_DIR "/resources/models/demo");
        ui::TemplatePreview preview;
        preview.update(templateSection(), {{"question", "What is 17 + 25?"}}, "question", model);
        QVERIFY2(preview.countText().contains("Loading the tokenizer"),
                 qPrintable(preview.countText()));
        QVERIFY(preview.renderedText().contains("Question: What is 17 + 25?"));
        QTRY_VERIFY_WITH_TIMEOUT(preview.countText().contains("tokens"), 20000);
        const auto tok = text::Tokenizer::fromFile((model + "/tokenizer.json").toStdString());
        const size_t n = tok.encode(preview.renderedText().toStdString()).size();
        QVERIFY(n > 5);
        QVERIFY2(preview.countText().contains(QString("<b>%1 tokens</b>").arg(n)),
                 qPrintable(preview.countText()));
        // The next update with the same model counts at once (the tokenizer is kept).
        preview.update(templateSection(), {{"question", "2 + 2?"}}, "question", model);
        const size_t m = tok.encode(preview.renderedText().toStdString()).size();
        QVERIFY2(preview.countText().contains(QString("<b>%1 tokens</b>").arg(m)),
                 qPrintable(preview.countText()));
    }

    void corruptTokenizerIsReported() {
        QTemporaryDir dir;
        QFile f(dir.filePath("tokenizer.json"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("{\"model\": ");
        f.close();
        ui::TemplatePreview preview;
        preview.update(templateSection(), {{"question", "1 + 1?"}}, "question", dir.path());
        QTRY_VERIFY_WITH_TIMEOUT(preview.countText().contains("c62828"), 20000);
        QVERIFY2(preview.countText().contains("tokenizer.json"), qPrintable(preview.countText()));
    }
};

REFLAB_TEST_GUI(TestTemplatePreview);
#include "test_template_preview.moc"
