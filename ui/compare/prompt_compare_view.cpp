// The same-prompt view (see prompt_compare_view.h).
#include "ui/compare/prompt_compare_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QTextBrowser>
#include <QTimer>
#include <QVBoxLayout>

#include "core/analysis/run_compare_report.h"
#include "core/analysis/run_compare_word_diff.h"

namespace reflab::ui {

namespace {

QString esc(const std::string& s) {
    return QString::fromStdString(s).toHtmlEscaped();
}

QString rolloutHtml(const store::RolloutDetail& d) {
    const auto& r = d.record;
    QString html = QStringLiteral("<p><b>sample %1</b>%2 &nbsp; reward <b>%3</b>")
                       .arg(r.sample)
                       .arg(r.is_eval ? QObject::tr(" (eval)") : QString())
                       .arg(QString::fromStdString(analysis::formatNumber(r.total_reward)));
    if (r.correct)
        html += *r.correct ? QObject::tr(" &nbsp; correct") : QObject::tr(" &nbsp; wrong");
    html += "<br><small>";
    QStringList comps;
    for (const auto& c : r.components)
        comps << esc(c.name) + " " + QString::fromStdString(analysis::formatNumber(c.value));
    html += comps.join(" · ") + QStringLiteral(" · %1 tokens, %2</small></p>")
                                    .arg(r.completion_tokens)
                                    .arg(esc(r.finish_reason));
    html += "<pre style='white-space: pre-wrap'>" + esc(r.completion) + "</pre><hr>";
    return html;
}

}  // namespace

QString wordDiffHtml(const std::string& a, const std::string& b) {
    QString html = "<pre style='white-space: pre-wrap'>";
    for (const auto& p : analysis::wordDiff(a, b)) {
        const QString t = esc(p.text);
        switch (p.kind) {
            case analysis::WordDiffPiece::Same:
                html += t;
                break;
            case analysis::WordDiffPiece::Removed:
                html += "<span style='background:#f8c8c8; color:#800000'><s>" + t + "</s></span>";
                break;
            case analysis::WordDiffPiece::Added:
                html += "<span style='background:#c8f0c8; color:#004000'>" + t + "</span>";
                break;
        }
    }
    return html + "</pre>";
}

PromptCompareView::PromptCompareView(QWidget* parent) : QWidget(parent) {
    setObjectName("promptCompare");
    auto* layout = new QVBoxLayout(this);
    auto* bar = new QHBoxLayout;
    m_search = new QLineEdit(this);
    m_search->setObjectName("promptSearch");
    m_search->setPlaceholderText(tr("Search a prompt by id or text"));
    m_search->setClearButtonEnabled(true);
    m_step = new QSpinBox(this);
    m_step->setObjectName("promptStep");
    m_step->setRange(0, 100000000);
    m_step->setPrefix(tr("step "));
    // The chosen prompt (or what is happening) on a row of its own, the whole width, wrapped:
    // a chat-rendered prompt is long and its question comes last, which a label beside the
    // search field cut off. Plain text: a prompt's <think> and <|im_start|> are not markup.
    m_status = new QLabel(this);
    m_status->setObjectName("promptStatus");
    m_status->setTextFormat(Qt::PlainText);
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    bar->addWidget(m_search, 1);
    bar->addWidget(m_step);
    layout->addLayout(bar);
    layout->addWidget(m_status);

    m_matches = new QListWidget(this);
    m_matches->setObjectName("promptMatches");
    m_matches->setMaximumHeight(110);
    layout->addWidget(m_matches);

    auto* split = new QSplitter(Qt::Vertical, this);
    auto* scroll = new QScrollArea(split);
    scroll->setWidgetResizable(true);
    m_columnHost = new QWidget(scroll);
    m_columnLayout = new QHBoxLayout(m_columnHost);
    m_columnLayout->setContentsMargins(0, 0, 0, 0);
    scroll->setWidget(m_columnHost);

    auto* diffBox = new QWidget(split);
    auto* diffLayout = new QVBoxLayout(diffBox);
    diffLayout->setContentsMargins(0, 0, 0, 0);
    auto* pick = new QHBoxLayout;
    m_left = new QComboBox(diffBox);
    m_left->setObjectName("diffLeft");
    m_right = new QComboBox(diffBox);
    m_right->setObjectName("diffRight");
    // Long run names must not widen the panel (and squeeze the runs dock): the boxes take the
    // width the row has, their lists show the whole labels.
    for (QComboBox* box : {m_left, m_right}) {
        box->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        box->setMinimumContentsLength(16);
    }
    pick->addWidget(new QLabel(tr("Word diff:"), diffBox));
    pick->addWidget(m_left, 1);
    pick->addWidget(new QLabel(tr("against"), diffBox));
    pick->addWidget(m_right, 1);
    diffLayout->addLayout(pick);
    m_diff = new QTextBrowser(diffBox);
    m_diff->setObjectName("wordDiff");
    diffLayout->addWidget(m_diff);
    split->addWidget(scroll);
    split->addWidget(diffBox);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    split->setSizes({3000, 1000});  // the rollout columns get most of the height
    layout->addWidget(split, 1);

    // Searching as one types, after a short pause (each search is a query on the worker).
    auto* debounce = new QTimer(this);
    debounce->setSingleShot(true);
    debounce->setInterval(250);
    connect(m_search, &QLineEdit::textChanged, debounce, qOverload<>(&QTimer::start));
    connect(debounce, &QTimer::timeout, this, [this] {
        if (!m_search->text().trimmed().isEmpty()) emit searchRequested(m_search->text().trimmed());
    });
    connect(m_search, &QLineEdit::returnPressed, this, [this] {
        if (!m_search->text().trimmed().isEmpty()) emit searchRequested(m_search->text().trimmed());
    });
    connect(m_matches, &QListWidget::currentItemChanged, this, [this](QListWidgetItem* item) {
        if (item) choosePrompt(item->data(Qt::UserRole).toString());
    });
    connect(m_step, qOverload<int>(&QSpinBox::valueChanged), this, [this] { requestPrompt(); });
    connect(m_left, qOverload<int>(&QComboBox::currentIndexChanged), this,
            [this] { updateDiff(); });
    connect(m_right, qOverload<int>(&QComboBox::currentIndexChanged), this,
            [this] { updateDiff(); });
    m_status->setText(tr("Choose a prompt to see each run's rollouts of it side by side."));
}

qint64 PromptCompareView::step() const {
    return m_step->value();
}

void PromptCompareView::setStep(qint64 step) {
    m_step->setValue(static_cast<int>(step));
}

void PromptCompareView::setRuns(const QStringList& runs, const QHash<QString, RunStyle>& styles) {
    const bool changed = runs != m_runs;
    m_runs = runs;
    m_styles = styles;
    if (changed) requestPrompt();
}

void PromptCompareView::choosePrompt(const QString& prompt_id) {
    m_promptId = prompt_id;
    requestPrompt();
}

void PromptCompareView::requestPrompt() {
    if (m_promptId.isEmpty() || m_runs.isEmpty()) return;
    m_status->setText(tr("Loading %1 ...").arg(m_promptId));
    emit promptRequested(m_promptId, m_step->value());
}

void PromptCompareView::showMatches(const std::vector<store::PromptMatch>& found) {
    const QSignalBlocker block(m_matches);
    m_matches->clear();
    for (const auto& p : found) {
        QString text = QString::fromStdString(p.prompt).simplified();
        // The end of a rendered prompt is the question (the chat template comes first).
        if (text.size() > 140) text = QChar(0x2026) + text.right(140);
        auto* item = new QListWidgetItem(QString::fromStdString(p.prompt_id) + "  " + text);
        item->setData(Qt::UserRole, QString::fromStdString(p.prompt_id));
        item->setToolTip(QString::fromStdString(p.prompt));
        m_matches->addItem(item);
    }
    if (found.empty()) m_status->setText(tr("No prompt matches."));
}

void PromptCompareView::showColumns(const QString& prompt_id,
                                    const std::vector<PromptColumn>& columns) {
    m_columns = columns;
    for (QTextBrowser* v : std::as_const(m_columnViews)) v->deleteLater();
    m_columnViews.clear();
    const QSignalBlocker bl(m_left), br(m_right);
    m_left->clear();
    m_right->clear();
    QString prompt_text;
    for (size_t ci = 0; ci < columns.size(); ++ci) {
        const PromptColumn& col = columns[ci];
        const RunStyle style = m_styles.value(col.run, {col.run, Qt::gray});
        auto* view = new QTextBrowser(m_columnHost);
        view->setMinimumWidth(260);
        QString html = QStringLiteral("<h3 style='color:%1'>&#9632; %2</h3>")
                           .arg(style.color.name(), style.name.toHtmlEscaped());
        if (col.step < 0) {
            html += tr("<p><i>No rollout of this prompt in this run.</i></p>");
        } else {
            html += tr("<p>step %1%2</p>")
                        .arg(col.step)
                        .arg(col.step != step() ? tr(" (nearest to %1)").arg(step()) : QString());
            for (size_t k = 0; k < col.rollouts.size(); ++k) {
                const auto& d = col.rollouts[k];
                html += rolloutHtml(d);
                if (prompt_text.isEmpty()) prompt_text = QString::fromStdString(d.record.prompt);
                const QString label = QStringLiteral("%1 · step %2 · sample %3")
                                          .arg(style.name)
                                          .arg(col.step)
                                          .arg(d.record.sample);
                const QVariant where = QPoint(static_cast<int>(ci), static_cast<int>(k));
                m_left->addItem(label, where);
                m_right->addItem(label, where);
            }
        }
        view->setHtml(html);
        m_columnLayout->addWidget(view, 1);
        m_columnViews << view;
    }
    // Default pair: the first rollouts of the first two runs that have one.
    int second = -1;
    for (int i = 0; i < m_right->count(); ++i)
        if (m_right->itemData(i).toPoint().x() != m_left->itemData(0).toPoint().x()) {
            second = i;
            break;
        }
    m_left->setCurrentIndex(m_left->count() > 0 ? 0 : -1);
    m_right->setCurrentIndex(second >= 0 ? second : std::min(1, m_right->count() - 1));
    // The end of a rendered prompt is the question (the chat template's system part comes
    // first): a very long one keeps its end, at most three lines of a wide window.
    QString question = prompt_text.simplified();
    if (question.size() > 480) question = QChar(0x2026) + question.right(480);
    m_status->setText(tr("Prompt %1: %2").arg(prompt_id, question));
    m_status->setToolTip(prompt_text);
    updateDiff();
}

void PromptCompareView::updateDiff() {
    const auto pick = [this](QComboBox* box) -> const store::RolloutDetail* {
        if (box->currentIndex() < 0) return nullptr;
        const QPoint p = box->currentData().toPoint();
        if (p.x() < 0 || p.x() >= static_cast<int>(m_columns.size())) return nullptr;
        const auto& rs = m_columns[static_cast<size_t>(p.x())].rollouts;
        if (p.y() < 0 || p.y() >= static_cast<int>(rs.size())) return nullptr;
        return &rs[static_cast<size_t>(p.y())];
    };
    const auto* a = pick(m_left);
    const auto* b = pick(m_right);
    if (!a || !b) {
        m_diff->setHtml(tr("<i>Choose two completions to compare word by word.</i>"));
        return;
    }
    m_diff->setHtml(wordDiffHtml(a->record.completion, b->record.completion));
}

}  // namespace reflab::ui
