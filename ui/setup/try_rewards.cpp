// TryRewards (see try_rewards.h).
#include "ui/setup/try_rewards.h"

#include <QDir>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProcess>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QTemporaryFile>
#include <QVBoxLayout>

#include "ui/common/cli_path.h"

namespace reflab::ui {

TryRewards::TryRewards(QWidget* parent) : QWidget(parent) {
    auto* lay = new QVBoxLayout(this);
    auto* bar = new QHBoxLayout;
    m_prompts = new QSpinBox(this);
    m_prompts->setRange(1, 16);
    m_prompts->setValue(2);
    m_samples = new QSpinBox(this);
    m_samples->setRange(1, 32);
    m_samples->setValue(4);
    m_run = new QPushButton(tr("Try rewards"), this);
    m_run->setObjectName("tryRewardsButton");
    m_status = new QLabel(this);
    m_status->setObjectName("tryStatus");
    m_status->setWordWrap(true);
    bar->addWidget(new QLabel(tr("Prompts"), this));
    bar->addWidget(m_prompts);
    bar->addWidget(new QLabel(tr("Samples per prompt"), this));
    bar->addWidget(m_samples);
    bar->addWidget(m_run);
    bar->addWidget(m_status, 1);
    lay->addLayout(bar);
    m_table = new QTableWidget(this);
    m_table->setObjectName("tryTable");
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setAlternatingRowColors(true);
    lay->addWidget(m_table, 1);
    m_status->setText(
        tr("Samples completions of the first prompts with the recipe's model and "
           "scores them with every component of the recipe."));
    connect(m_run, &QPushButton::clicked, this, [this] {
        if (running())
            cancel();
        else
            emit startRequested();
    });
}

bool TryRewards::running() const {
    return m_process != nullptr;
}

TryRewards::~TryRewards() {
    if (!m_process) return;
    // Otherwise QProcess's destructor, run among the children, kills it and emits finished
    // into this half-destroyed widget.
    m_process->disconnect(this);
    m_process->kill();
    m_process->waitForFinished(2000);
}

void TryRewards::cancel() {
    if (!m_process) return;
    m_process->disconnect(this);
    m_process->kill();
    m_process->deleteLater();
    m_process = nullptr;
    m_run->setText(tr("Try rewards"));
    m_status->setText(tr("Cancelled."));
}

void TryRewards::fail(const QString& message) {
    if (m_process) {
        m_process->deleteLater();
        m_process = nullptr;
    }
    m_run->setText(tr("Try rewards"));
    m_status->setText("<span style='color:#c62828'>" + message.toHtmlEscaped() + "</span>");
}

void TryRewards::start(const nlohmann::json& recipe, const std::vector<nlohmann::json>& rows) {
    if (running()) return;
    if (rows.empty()) {
        fail(tr("Choose training data first: the prompts come from it."));
        return;
    }
    m_recipe = recipe;
    m_rows.assign(rows.begin(),
                  rows.begin() + std::min<size_t>(rows.size(), size_t(m_prompts->value())));
    m_next = 0;
    m_inputs = nlohmann::json::array();
    m_completions.clear();
    m_table->clear();
    m_table->setRowCount(0);
    m_run->setText(tr("Cancel"));
    generateNext();
}

nlohmann::json TryRewards::rewardRows(const nlohmann::json& generated, const std::string& reference,
                                      const std::string& group) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& c : generated.value("completions", nlohmann::json::array()))
        rows.push_back({{"prompt", generated.value("prompt", "")},
                        {"completion", c.value("completion", c.value("text", ""))},
                        {"reference", reference},
                        {"group", group},
                        {"truncated", c.value("finish", "") == "length"}});
    return rows;
}

void TryRewards::generateNext() {
    if (m_next >= m_rows.size()) {
        score();
        return;
    }
    const nlohmann::json& row = m_rows[m_next];
    const std::string pf = m_recipe["data"].value("prompt_field", "question");
    std::string question = row.contains(pf) && row[pf].is_string()
                               ? row[pf].get<std::string>()
                               : row.value(pf, nlohmann::json()).dump();
    std::string user = m_recipe["template"].value("user", std::string("{question}"));
    if (const size_t at = user.find("{question}"); at != std::string::npos)
        user.replace(at, 10, question);
    const auto& gen = m_recipe["generation"];
    QStringList args{"generate",
                     "--model",
                     QString::fromStdString(m_recipe["model"].value("path", "")),
                     "--prompt",
                     QString::fromStdString(user),
                     "--batch",
                     QString::number(m_samples->value()),
                     "--max-new-tokens",
                     QString::number(gen.value("max_new_tokens", 128)),
                     "--temperature",
                     QString::number(gen.value("temperature", 1.0)),
                     "--seed",
                     QString::number(1000 + m_next),
                     "--chat",
                     "--json"};
    const std::string system = m_recipe["template"].value("system", "");
    if (!system.empty()) args << "--system" << QString::fromStdString(system);
    m_status->setText(tr("Generating %1 completions of prompt %2 of %3...")
                          .arg(m_samples->value())
                          .arg(m_next + 1)
                          .arg(m_rows.size()));
    newCliProcess("generate", [this](const QByteArray& out) {
        const auto j = nlohmann::json::parse(out.toStdString(), nullptr, false);
        if (j.is_discarded() || !j.contains("completions")) {
            fail(tr("reflab-cli generate gave no JSON completions"));
            return;
        }
        const nlohmann::json& row = m_rows[m_next];
        const std::string rf = m_recipe["data"].value("reference_field", "answer");
        const std::string ref =
            row.contains(rf) ? (row[rf].is_string() ? row[rf].get<std::string>() : row[rf].dump())
                             : "";
        for (const auto& row : rewardRows(j, ref, "p" + std::to_string(m_next))) {
            m_completions << QString::fromStdString(row.value("completion", ""));
            m_inputs.push_back(row);
        }
        ++m_next;
        generateNext();
    });
    connect(m_process, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
        if (e == QProcess::FailedToStart) fail(tr("cannot start %1").arg(cliPath()));
    });
    m_process->start(cliPath(), args);
}

void TryRewards::score() {
    QTemporaryFile recipeFile(QDir::tempPath() + "/reflab-try-XXXXXX.json");
    recipeFile.setAutoRemove(false);
    if (!recipeFile.open()) {
        fail(tr("cannot write a temporary recipe file"));
        return;
    }
    recipeFile.write(QByteArray::fromStdString(m_recipe.dump(2)));
    recipeFile.close();
    m_recipePath = recipeFile.fileName();
    m_status->setText(tr("Scoring %1 completions...").arg(m_inputs.size()));
    newCliProcess("reward", [this](const QByteArray& out) {
        showScores(m_completions, out);
        m_run->setText(tr("Try rewards"));
    });
    m_process->start(cliPath(), {"reward", "--recipe", m_recipePath, "--model",
                                 QString::fromStdString(m_recipe["model"].value("path", ""))});
    std::string input;
    for (const auto& r : m_inputs) input += r.dump() + "\n";
    m_process->write(QByteArray::fromStdString(input));
    m_process->closeWriteChannel();
}

void TryRewards::newCliProcess(const QString& command,
                               std::function<void(const QByteArray&)> on_success) {
    m_process = new QProcess(this);
    connect(m_process, &QProcess::finished, this,
            [this, command, on_success](int code, QProcess::ExitStatus st) {
                const QByteArray out = m_process->readAllStandardOutput();
                const QString err = QString::fromUtf8(m_process->readAllStandardError()).trimmed();
                m_process->deleteLater();
                m_process = nullptr;
                if (command == "reward") QFile::remove(m_recipePath);
                if (st != QProcess::NormalExit || code != 0) {
                    fail(err.isEmpty() ? tr("reflab-cli %1 failed (exit %2)").arg(command).arg(code)
                                       : err);
                    return;
                }
                on_success(out);
            });
}

void TryRewards::showScores(const QStringList& completions, const QByteArray& reward_jsonl) {
    // Columns: completion, total, then per component its value and each intermediate, in the
    // order they first appear.
    std::vector<nlohmann::json> results;
    QStringList columns;
    for (const QByteArray& line : reward_jsonl.split('\n')) {
        if (line.trimmed().isEmpty()) continue;
        auto j = nlohmann::json::parse(line.toStdString(), nullptr, false);
        if (j.is_discarded() || !j.is_object()) continue;
        for (auto c = j["components"].begin(); c != j["components"].end(); ++c) {
            const QString comp = QString::fromStdString(c.key());
            if (!columns.contains(comp)) columns << comp;
            if (!c.value().is_object()) continue;
            for (auto k = c.value().begin(); k != c.value().end(); ++k) {
                if (k.key() == "value") continue;
                const QString col = comp + "." + QString::fromStdString(k.key());
                if (!columns.contains(col)) columns << col;
            }
        }
        results.push_back(std::move(j));
    }
    QStringList headers{tr("Completion"), tr("Total")};
    headers += columns;
    m_table->clear();
    m_table->setColumnCount(int(headers.size()));
    m_table->setHorizontalHeaderLabels(headers);
    m_table->setRowCount(int(results.size()));
    for (int r = 0; r < int(results.size()); ++r) {
        const auto& j = results[size_t(r)];
        const QString text = r < completions.size() ? completions[r] : QString();
        auto* item = new QTableWidgetItem(QString(text.left(160)).replace('\n', ' '));
        item->setToolTip(text.left(4000));
        m_table->setItem(r, 0, item);
        m_table->setItem(r, 1,
                         new QTableWidgetItem(QString::number(j.value("total", 0.0), 'g', 4)));
        for (int c = 0; c < columns.size(); ++c) {
            const QString comp = columns[c].section('.', 0, 0);
            const QString key = columns[c].contains('.') ? columns[c].section('.', 1) : "value";
            const auto& cj = j["components"].value(comp.toStdString(), nlohmann::json::object());
            if (!cj.is_object() || !cj.contains(key.toStdString())) continue;
            const auto& v = cj[key.toStdString()];
            const QString s = v.is_number() ? QString::number(v.get<double>(), 'g', 4)
                                            : QString::fromStdString(v.dump());
            auto* cell = new QTableWidgetItem(s);
            cell->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            m_table->setItem(r, c + 2, cell);
        }
    }
    m_table->resizeColumnsToContents();
    m_table->setColumnWidth(0, std::min(m_table->columnWidth(0), 360));
    m_status->setText(tr("%1 completions scored.").arg(results.size()));
}

}  // namespace reflab::ui
