// ReverseFlow (see reverse_flow.h).
#include "ui/data/reverse_flow.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>

#include "core/reward/recipe.h"
#include "ui/data/cli_job.h"
#include "ui/data/data_panel.h"
#include "ui/data/jsonl_model.h"

namespace reflab::ui {

namespace {

enum Col { Accept, Question, Reference, Verdict, Reason, TraceText, ColCount };

QString jsonText(const nlohmann::json& row, const std::string& key) {
    const auto it = row.find(key);
    if (it == row.end() || it->is_null()) return {};
    return QString::fromStdString(it->is_string() ? it->get<std::string>() : it->dump());
}

}  // namespace

ReverseFlow::ReverseFlow(DataPanel* data, QWidget* parent)
    : QWidget(parent), m_data(data), m_reverse(new CliJob(this)), m_sft(new CliJob(this)) {
    setObjectName("reverseFlow");
    m_work =
        QDir::temp().filePath(QString("reflab-reverse-%1").arg(QCoreApplication::applicationPid()));
    auto* lay = new QVBoxLayout(this);

    // 1. Data and model.
    auto* inputs = new QGroupBox(tr("1. Data set and model"), this);
    auto* form = new QFormLayout(inputs);
    m_question = new QLineEdit("question", inputs);
    m_question->setObjectName("reverseQuestionField");
    m_reference = new QLineEdit("answer", inputs);
    m_reference->setObjectName("reverseReferenceField");
    auto* fields = new QHBoxLayout;
    fields->addWidget(new QLabel(tr("question field"), inputs));
    fields->addWidget(m_question);
    fields->addWidget(new QLabel(tr("reference field"), inputs));
    fields->addWidget(m_reference);
    form->addRow(tr("Data set (open it above)"), fields);
    m_model = new QLineEdit(inputs);
    m_model->setObjectName("reverseModel");
    m_model->setPlaceholderText(tr("model directory (Hugging Face layout)"));
    auto* browse = new QPushButton(tr("Browse..."), inputs);
    auto* modelRow = new QHBoxLayout;
    modelRow->addWidget(m_model, 1);
    modelRow->addWidget(browse);
    form->addRow(tr("Model"), modelRow);
    lay->addWidget(inputs);

    // 2. The prompt.
    auto* promptBox = new QGroupBox(tr("2. Reverse-reasoning prompt"), this);
    auto* promptLay = new QVBoxLayout(promptBox);
    m_prompt = new QPlainTextEdit(QString::fromUtf8(reward::kDefaultReversePrompt), promptBox);
    m_prompt->setObjectName("reversePrompt");
    m_prompt->setMaximumHeight(80);
    auto* promptBar = new QHBoxLayout;
    auto* reset = new QPushButton(tr("Recipe's prompt"), promptBox);
    reset->setObjectName("reversePromptReset");
    m_maxTokens = new QSpinBox(promptBox);
    m_maxTokens->setRange(1, 8192);
    m_maxTokens->setValue(256);
    m_maxTokens->setObjectName("reverseMaxTokens");
    m_batch = new QSpinBox(promptBox);
    m_batch->setRange(1, 256);
    m_batch->setValue(8);
    m_batch->setObjectName("reverseBatch");
    promptBar->addWidget(reset);
    promptBar->addStretch(1);
    promptBar->addWidget(new QLabel(tr("max new tokens"), promptBox));
    promptBar->addWidget(m_maxTokens);
    promptBar->addWidget(new QLabel(tr("batch"), promptBox));
    promptBar->addWidget(m_batch);
    promptLay->addWidget(m_prompt);
    promptLay->addLayout(promptBar);
    lay->addWidget(promptBox);

    // 3. Generate, 4. review, 5. SFT: one bar of actions over the review table.
    auto* run = new QHBoxLayout;
    m_generate = new QPushButton(tr("3. Generate traces"), this);
    m_generate->setObjectName("reverseGenerate");
    m_cancel = new QPushButton(tr("Cancel"), this);
    m_cancel->setObjectName("reverseCancel");
    m_cancel->setEnabled(false);
    m_progress = new QProgressBar(this);
    m_progress->setObjectName("reverseProgress");
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_rate = new QLabel(this);
    m_rate->setObjectName("reverseRate");
    run->addWidget(m_generate);
    run->addWidget(m_cancel);
    run->addWidget(m_progress, 1);
    run->addWidget(m_rate);
    lay->addLayout(run);
    m_status = new QLabel(this);
    m_status->setObjectName("reverseStatus");
    m_status->setWordWrap(true);
    lay->addWidget(m_status);

    m_table = new QTableWidget(this);
    m_table->setObjectName("reverseTraces");
    m_table->setColumnCount(ColCount);
    m_table->setHorizontalHeaderLabels(
        {tr("Accept"), tr("Question"), tr("Reference"), tr("Filter"), tr("Reason"), tr("Trace")});
    m_table->verticalHeader()->hide();
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setWordWrap(false);
    m_table->horizontalHeader()->setStretchLastSection(true);
    lay->addWidget(m_table, 1);

    auto* sftBar = new QHBoxLayout;
    m_save = new QPushButton(tr("4. Save accepted as SFT JSONL..."), this);
    m_save->setObjectName("reverseSave");
    m_save->setEnabled(false);
    m_epochs = new QSpinBox(this);
    m_epochs->setRange(1, 100);
    m_epochs->setValue(3);
    m_epochs->setObjectName("sftEpochs");
    m_train = new QPushButton(tr("5. Train SFT model"), this);
    m_train->setObjectName("sftStart");
    m_train->setEnabled(false);
    m_use = new QPushButton(tr("Use in Setup"), this);
    m_use->setObjectName("sftUse");
    m_use->setEnabled(false);
    sftBar->addWidget(m_save);
    sftBar->addStretch(1);
    sftBar->addWidget(new QLabel(tr("epochs"), this));
    sftBar->addWidget(m_epochs);
    sftBar->addWidget(m_train);
    sftBar->addWidget(m_use);
    lay->addLayout(sftBar);

    connect(m_question, &QLineEdit::editingFinished, this, &ReverseFlow::applyNeededFields);
    connect(m_reference, &QLineEdit::editingFinished, this, &ReverseFlow::applyNeededFields);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Model directory"));
        if (!dir.isEmpty()) m_model->setText(dir);
    });
    connect(reset, &QPushButton::clicked, this, [this] {
        const auto it = m_recipe.find("reverse_reasoning");
        const QString p = it != m_recipe.end() && it->is_object() && it->contains("prompt") &&
                                  (*it)["prompt"].is_string()
                              ? QString::fromStdString((*it)["prompt"].get<std::string>())
                              : QString::fromUtf8(reward::kDefaultReversePrompt);
        m_prompt->setPlainText(p);
    });
    connect(m_generate, &QPushButton::clicked, this, [this] {
        QString error;
        if (!generate(&error))
            setStatus("<span style='color:#c62828'>" + error.toHtmlEscaped() + "</span>");
    });
    connect(m_cancel, &QPushButton::clicked, this, &ReverseFlow::cancel);
    for (CliJob* job : {m_reverse, m_sft}) {
        connect(job, &CliJob::progress, this, [this, job](qint64 done, qint64 total) {
            m_progress->setRange(0, int(std::max<qint64>(total, 1)));
            m_progress->setValue(int(done));
            m_progress->setFormat(QString("%v / %m"));
            m_rate->setText(job->rateText());
        });
    }
    connect(m_reverse, &CliJob::finished, this, [this](bool ok, const QString& error) {
        m_generate->setEnabled(true);
        m_cancel->setEnabled(false);
        if (!ok) {
            setStatus(error == tr("cancelled")
                          ? tr("Generation cancelled; no trace file was left.")
                          : "<span style='color:#c62828'>" + error.toHtmlEscaped() + "</span>");
            emit failed(error);
            return;
        }
        loadTraces();
    });
    connect(m_sft, &CliJob::finished, this, [this](bool ok, const QString& error) {
        m_train->setEnabled(true);
        m_cancel->setEnabled(false);
        if (!ok) {
            QDir(m_sftOut).removeRecursively();  // a cancelled or failed model is no model
            setStatus(error == tr("cancelled")
                          ? tr("SFT cancelled; its model folder was removed.")
                          : "<span style='color:#c62828'>" + error.toHtmlEscaped() + "</span>");
        } else {
            setStatus(tr("SFT model written to %1. \"Use in Setup\" puts it in the recipe.")
                          .arg(m_sftOut.toHtmlEscaped()));
        }
        m_use->setEnabled(ok);
        emit sftFinished(ok, ok ? m_sftOut : QString(), error);
    });
    connect(m_data, &DataPanel::usableSaved, this,
            [this](const QString& path, qint64, const QString& error) {
                if (path != m_pendingUsable) return;
                m_pendingUsable.clear();
                if (!error.isEmpty()) {
                    m_generate->setEnabled(true);
                    setStatus("<span style='color:#c62828'>" + error.toHtmlEscaped() + "</span>");
                    emit failed(error);
                    return;
                }
                startReverse(path);
            });
    connect(m_save, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Save accepted traces"), QDir(m_work).filePath("sft-" + stamp() + ".jsonl"),
            tr("JSON Lines (*.jsonl)"));
        QString error;
        if (path.isEmpty()) return;
        if (!saveAccepted(path, &error)) setStatus(error.toHtmlEscaped());
    });
    connect(m_train, &QPushButton::clicked, this, [this] {
        QString error;
        if (!startSft(m_train->property("data").toString(),
                      QDir(m_work).filePath("sft-model-" + stamp()), &error))
            setStatus("<span style='color:#c62828'>" + error.toHtmlEscaped() + "</span>");
    });
    connect(m_use, &QPushButton::clicked, this, [this] { emit modelReady(m_sftOut); });
    connect(m_table, &QTableWidget::itemChanged, this, [this](QTableWidgetItem* item) {
        if (item->column() == Accept) {
            int n = 0;
            for (bool a : accepted()) n += a;
            m_save->setEnabled(n > 0);
        }
    });
}

QString ReverseFlow::stamp() const {
    return QDateTime::currentDateTime().toString("yyyyMMdd-hhmmss-zzz");
}

void ReverseFlow::setStatus(const QString& text) {
    m_status->setText(text);
}

void ReverseFlow::setRecipe(const nlohmann::json& recipe) {
    m_recipe = recipe;
}

void ReverseFlow::setModelDir(const QString& dir) {
    m_model->setText(dir);
}

QString ReverseFlow::modelDir() const {
    return m_model->text().trimmed();
}

void ReverseFlow::applyNeededFields() {
    const QStringList fields = {m_question->text().trimmed(), m_reference->text().trimmed()};
    if (m_data->neededFields() != fields) m_data->setNeededFields(fields);
}

void ReverseFlow::setFields(const QString& question, const QString& reference) {
    m_question->setText(question);
    m_reference->setText(reference);
    m_data->setNeededFields({question, reference});
}

void ReverseFlow::setWorkFolder(const QString& dir) {
    m_work = dir;
}

bool ReverseFlow::generate(QString* error) {
    const auto fail = [error](const QString& why) {
        if (error) *error = why;
        return false;
    };
    if (m_reverse->running() || m_sft->running() || !m_pendingUsable.isEmpty())
        return fail(tr("A generation or SFT is running; cancel it first."));
    const JsonlIndex* index = m_data->model()->jsonlIndex();
    if (!index) return fail(tr("Open a data set in the Data tab first."));
    const QString q = m_question->text().trimmed(), r = m_reference->text().trimmed();
    if (q.isEmpty() || r.isEmpty()) return fail(tr("Name the question and reference fields."));
    if (m_data->neededFields() != QStringList{q, r}) m_data->setNeededFields({q, r});
    const qint64 bad = m_data->unusable().rows.size();
    if (bad > 0 && !m_data->skipConsented())
        return fail(tr("%1 lines of the data set cannot be used (named in the list above): skip "
                       "them with \"Skip %1 bad lines\", or fix the file.")
                        .arg(bad));
    if (bad == index->rows()) return fail(tr("No line of the data set can be used."));
    const QString model = m_model->text().trimmed();
    if (model.isEmpty() || !QFileInfo(model).isDir())
        return fail(tr("Model: '%1' is not a directory.").arg(model));
    if (!QDir().mkpath(m_work)) return fail(tr("%1: cannot create the folder").arg(m_work));
    m_generate->setEnabled(false);
    if (bad > 0) {
        // The consented copy without the bad lines is what the child reads.
        m_pendingUsable = QDir(m_work).filePath("usable-" + stamp() + ".jsonl");
        QString e;
        if (!m_data->saveUsable(m_pendingUsable, &e)) {
            m_pendingUsable.clear();
            m_generate->setEnabled(true);
            return fail(e);
        }
        setStatus(tr("Writing the %1 usable rows...").arg(index->rows() - bad));
        return true;
    }
    startReverse(index->path);
    return true;
}

void ReverseFlow::startReverse(const QString& data) {
    m_traces = QDir(m_work).filePath("traces-" + stamp() + ".jsonl");
    QStringList args{"reverse",
                     "--model",
                     m_model->text().trimmed(),
                     "--data",
                     data,
                     "--out",
                     m_traces,
                     "--prompt",
                     m_prompt->toPlainText(),
                     "--prompt-field",
                     m_question->text().trimmed(),
                     "--reference-field",
                     m_reference->text().trimmed(),
                     "--max-new-tokens",
                     QString::number(m_maxTokens->value()),
                     "--batch",
                     QString::number(m_batch->value()),
                     "--all"};
    if (m_recipe.is_object()) {
        // The recipe's template tags shape the completions; written beside the outputs.
        const QString recipe = QDir(m_work).filePath("recipe-" + stamp() + ".json");
        QFile f(recipe);
        const std::string text = m_recipe.dump(2);
        if (f.open(QIODevice::WriteOnly) &&
            f.write(text.data(), qint64(text.size())) == qint64(text.size())) {
            f.close();
            args << "--recipe" << recipe;
        }
    }
    m_rows.clear();
    m_table->setRowCount(0);
    m_save->setEnabled(false);
    m_progress->setRange(0, 0);  // busy until the first batch reports
    m_rate->clear();
    m_generate->setEnabled(false);
    m_cancel->setEnabled(true);
    setStatus(tr("Generating traces with %1 ...").arg(QFileInfo(m_model->text()).fileName()));
    m_reverse->start(args, {m_traces, m_traces + ".part"});
}

void ReverseFlow::cancel() {
    m_reverse->cancel();
    m_sft->cancel();
}

void ReverseFlow::loadTraces() {
    QFile f(m_traces);
    if (!f.open(QIODevice::ReadOnly)) {
        const QString e = tr("%1: %2").arg(m_traces, f.errorString());
        setStatus(e.toHtmlEscaped());
        emit failed(e);
        return;
    }
    const std::string q = m_question->text().trimmed().toStdString(),
                      r = m_reference->text().trimmed().toStdString();
    m_rows.clear();
    qint64 line = 0;
    while (!f.atEnd()) {
        const QByteArray raw = f.readLine();
        ++line;
        if (raw.trimmed().isEmpty()) continue;
        const auto row = nlohmann::json::parse(raw.constData(), raw.constData() + raw.size(),
                                               nullptr, /*allow_exceptions=*/false);
        if (!row.is_object()) {
            const QString e = tr("%1:%2: not a JSON object").arg(m_traces).arg(line);
            setStatus(e.toHtmlEscaped());
            emit failed(e);
            return;
        }
        Trace t;
        t.question = jsonText(row, q);
        t.reference = jsonText(row, r);
        t.reasoning = jsonText(row, "reasoning");
        t.completion = jsonText(row, "completion");
        t.reason = jsonText(row, "reason");
        t.kept = row.value("kept", false);
        m_rows.push_back(t);
    }
    QSignalBlocker block(m_table);
    m_table->setRowCount(int(m_rows.size()));
    int kept = 0;
    for (int i = 0; i < m_rows.size(); ++i) {
        const Trace& t = m_rows[i];
        kept += t.kept;
        auto* accept = new QTableWidgetItem;
        accept->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable | Qt::ItemIsSelectable);
        accept->setCheckState(t.kept ? Qt::Checked : Qt::Unchecked);
        m_table->setItem(i, Accept, accept);
        const auto text = [&](int col, const QString& s) {
            auto* item = new QTableWidgetItem(QString(s).replace('\n', " / "));
            item->setToolTip(s);
            m_table->setItem(i, col, item);
            return item;
        };
        text(Question, t.question);
        text(Reference, t.reference);
        text(Verdict, t.kept ? tr("kept") : tr("dropped"))
            ->setForeground(t.kept ? QColor(0x2e7d32) : QColor(0xc62828));
        text(Reason, t.reason);
        text(TraceText, t.reasoning);
    }
    m_table->resizeColumnsToContents();
    for (int c = Question; c < TraceText; ++c)
        m_table->setColumnWidth(c, std::min(m_table->columnWidth(c), 260));
    m_save->setEnabled(kept > 0);
    m_progress->setRange(0, 1);
    m_progress->setValue(1);
    setStatus(tr("%1 traces: %2 kept by the filter, %3 dropped. Tick the ones to train on.")
                  .arg(m_rows.size())
                  .arg(kept)
                  .arg(m_rows.size() - kept));
    emit tracesLoaded(int(m_rows.size()));
}

void ReverseFlow::setAccepted(int row, bool on) {
    if (auto* item = m_table->item(row, Accept))
        item->setCheckState(on ? Qt::Checked : Qt::Unchecked);
}

QVector<bool> ReverseFlow::accepted() const {
    QVector<bool> out;
    for (int i = 0; i < m_table->rowCount(); ++i) {
        const auto* item = m_table->item(i, Accept);
        out << (item && item->checkState() == Qt::Checked);
    }
    return out;
}

bool ReverseFlow::saveAccepted(const QString& path, QString* error) {
    const QVector<bool> take = accepted();
    std::string text;
    int n = 0;
    for (int i = 0; i < m_rows.size() && i < take.size(); ++i) {
        if (!take[i]) continue;
        const nlohmann::json row = {{"prompt", m_rows[i].question.toStdString()},
                                    {"completion", m_rows[i].completion.toStdString()}};
        text += row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
        ++n;
    }
    if (n == 0) {
        if (error) *error = tr("No trace is accepted: tick at least one.");
        return false;
    }
    // Whole or not at all: a .part file renamed when written.
    const QString part = path + ".part";
    QFile f(part);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) ||
        f.write(text.data(), qint64(text.size())) != qint64(text.size()) || !f.flush()) {
        if (error) *error = tr("%1: %2").arg(part, f.errorString());
        f.close();
        QFile::remove(part);
        return false;
    }
    f.close();
    QFile::remove(path);
    if (!QFile::rename(part, path)) {
        QFile::remove(part);
        if (error) *error = tr("%1: cannot write it").arg(path);
        return false;
    }
    m_train->setProperty("data", path);
    m_train->setEnabled(true);
    setStatus(tr("%1 accepted traces saved to %2.").arg(n).arg(path.toHtmlEscaped()));
    return true;
}

bool ReverseFlow::startSft(const QString& data, const QString& out_dir, QString* error) {
    if (m_reverse->running() || m_sft->running()) {
        if (error) *error = tr("A generation or SFT is running; cancel it first.");
        return false;
    }
    const QString model = m_model->text().trimmed();
    if (data.isEmpty() || !QFileInfo::exists(data)) {
        if (error) *error = tr("Save the accepted traces first.");
        return false;
    }
    if (model.isEmpty() || !QFileInfo(model).isDir()) {
        if (error) *error = tr("Model: '%1' is not a directory.").arg(model);
        return false;
    }
    m_sftOut = out_dir;
    m_use->setEnabled(false);
    m_train->setEnabled(false);
    m_cancel->setEnabled(true);
    m_progress->setRange(0, 0);
    m_rate->clear();
    setStatus(tr("Training the SFT model into %1 ...").arg(out_dir.toHtmlEscaped()));
    m_sft->start({"sft", "--model", model, "--data", data, "--out", out_dir, "--prompt-field",
                  "prompt", "--target-field", "completion", "--epochs",
                  QString::number(m_epochs->value())});
    return true;
}

}  // namespace reflab::ui
