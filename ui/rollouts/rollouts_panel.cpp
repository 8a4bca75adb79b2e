// The Rollouts panel (see rollouts_panel.h).
#include "ui/rollouts/rollouts_panel.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSpinBox>
#include <QSplitter>
#include <QTableView>
#include <QTextBrowser>
#include <QVBoxLayout>

#include "core/store/workspace.h"
#include "ui/rollouts/rollouts_model.h"

namespace reflab::ui {

namespace {

QString esc(const std::string& s) {
    return QString::fromStdString(s).toHtmlEscaped();
}

QString section(const QString& title, const std::string& text) {
    return QString("<h4>%1</h4><pre style='white-space: pre-wrap'>%2</pre>")
        .arg(title, text.empty() ? QString("<i>(empty)</i>") : esc(text));
}

// A component's intermediate (P_r, rank, ...) as read, numbers to 5 significant digits.
QString detailText(const nlohmann::json& v) {
    if (v.is_number_float()) return QString::number(v.get<double>(), 'g', 5);
    if (v.is_string()) return esc(v.get<std::string>());
    return esc(v.dump());
}

}  // namespace

RolloutsPanel::RolloutsPanel(QWidget* parent) : QWidget(parent) {
    setObjectName("rolloutsPanel");
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    auto* bar = new QHBoxLayout;
    m_title = new QLabel(this);
    m_title->setObjectName("rolloutsTitle");
    m_title->setTextFormat(Qt::RichText);
    auto* stepLabel = new QLabel(tr("S&tep"), this);
    m_step = new QSpinBox(this);
    m_step->setObjectName("rolloutsStep");
    m_step->setRange(0, 1 << 30);
    m_step->setToolTip(
        tr("Show the rollouts of this step (the arrows go to the next and previous "
           "step)"));
    stepLabel->setBuddy(m_step);
    m_allSteps = new QCheckBox(tr("&All steps"), this);
    m_allSteps->setObjectName("rolloutsAllSteps");
    m_count = new QLabel(this);
    m_count->setObjectName("rolloutsCount");
    bar->addWidget(m_title, 1);
    bar->addWidget(stepLabel);
    bar->addWidget(m_step);
    bar->addWidget(m_allSteps);
    bar->addSpacing(12);
    bar->addWidget(m_count);
    layout->addLayout(bar);

    auto* split = new QSplitter(Qt::Horizontal, this);
    split->setObjectName("rolloutsSplitter");
    m_model = new RolloutsModel(this);
    m_table = new QTableView(split);
    m_table->setObjectName("rolloutsTable");
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setAlternatingRowColors(true);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(22);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_detail = new QTextBrowser(split);
    m_detail->setObjectName("rolloutDetail");
    m_detail->setOpenLinks(false);
    split->addWidget(m_table);
    split->addWidget(m_detail);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 1);
    layout->addWidget(split, 1);

    connect(m_step, qOverload<int>(&QSpinBox::valueChanged), this, [this] { reload(); });
    connect(m_allSteps, &QCheckBox::toggled, this, [this](bool all) {
        m_step->setEnabled(!all);
        reload();
    });
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &RolloutsPanel::showDetail);
    reload();
}

RolloutsPanel::~RolloutsPanel() = default;

void RolloutsPanel::setWorkspace(const QString& path) {
    m_ws.reset();
    m_path = path;
    m_run.clear();
    m_runName.clear();
    reload();
}

store::Workspace* RolloutsPanel::workspace(QString* error) {
    if (m_ws) return m_ws.get();
    try {
        m_ws = std::make_unique<store::Workspace>(
            store::Workspace::open(m_path.toStdString(), /*read_only=*/true));
    } catch (const std::exception& e) {
        *error = QString::fromStdString(e.what());
        return nullptr;
    }
    return m_ws.get();
}

void RolloutsPanel::showStep(const QString& run, qint64 step, const QString& run_name) {
    m_run = run;
    m_runName = run_name.isEmpty() ? run : run_name;
    {
        const QSignalBlocker a(m_step), b(m_allSteps);
        m_step->setValue(static_cast<int>(step));
        m_allSteps->setChecked(false);
        m_step->setEnabled(true);
    }
    reload();
}

qint64 RolloutsPanel::step() const {
    return m_step->value();
}

bool RolloutsPanel::allSteps() const {
    return m_allSteps->isChecked();
}

QString RolloutsPanel::title() const {
    return m_title->text();
}

void RolloutsPanel::reload() {
    m_detail->clear();
    if (m_path.isEmpty() || m_run.isEmpty()) {
        m_model->setRows({}, {});
        m_title->setText(
            tr("<b>Rollouts</b> &nbsp; Click a point of a Dashboard chart to see "
               "the rollouts of that run and step."));
        m_count->clear();
        return;
    }
    m_title->setText(
        allSteps()
            ? tr("<b>%1</b> &nbsp; all steps").arg(m_runName.toHtmlEscaped())
            : tr("<b>%1</b> &nbsp; step %2").arg(m_runName.toHtmlEscaped()).arg(m_step->value()));
    QString error;
    store::Workspace* ws = workspace(&error);
    if (!ws) {
        m_model->setRows({}, {});
        m_count->setText(error);
        return;
    }
    try {
        store::RolloutFilter filter;
        filter.runs = {m_run.toStdString()};
        if (!allSteps()) filter.step_min = filter.step_max = m_step->value();
        store::RolloutSort sort;
        sort.key = store::RolloutSortKey::Step;
        store::RolloutPage page = ws->rolloutPage(filter, sort, std::nullopt, kPageRows);
        QStringList components;
        for (const std::string& c : ws->componentNames({m_run.toStdString()}))
            components << QString::fromStdString(c);
        const int n = static_cast<int>(page.rows.size());
        m_model->setRows(std::move(page.rows), components);
        m_count->setText(page.more ? tr("first %1 rollouts").arg(n)
                                   : tr("%n rollout(s)", nullptr, n));
    } catch (const std::exception& e) {
        m_model->setRows({}, {});
        m_count->setText(QString::fromStdString(e.what()));
        return;
    }
    if (m_model->rowCount() > 0) m_table->selectRow(0);
}

void RolloutsPanel::showDetail() {
    const QModelIndex current = m_table->currentIndex();
    QString error;
    store::Workspace* ws = current.isValid() ? workspace(&error) : nullptr;
    if (!ws) {
        m_detail->setPlainText(error);
        return;
    }
    std::optional<store::RolloutDetail> d;
    try {
        d = ws->rollout(current.data(RolloutsModel::RolloutIdRole).toLongLong(),
                        /*with_group=*/true);
    } catch (const std::exception& e) {
        m_detail->setPlainText(QString::fromStdString(e.what()));
        return;
    }
    if (!d) return;
    const store::RolloutRecord& r = d->record;
    QString html = tr("<p><b>Step %1</b>, prompt %2, group %3, sample %4%5 &nbsp; finish: %6</p>")
                       .arg(r.step)
                       .arg(esc(r.prompt_id))
                       .arg(r.group)
                       .arg(r.sample)
                       .arg(r.is_eval ? tr(" (eval)") : QString())
                       .arg(esc(r.finish_reason));
    html += tr("<h4>Reward %1 &nbsp; advantage %2</h4><table cellspacing='0' cellpadding='2'>")
                .arg(r.total_reward, 0, 'g', 5)
                .arg(r.advantage, 0, 'g', 4);
    for (const store::ComponentRecord& c : r.components) {
        QString details;
        if (c.details.is_object())
            for (auto it = c.details.begin(); it != c.details.end(); ++it)
                details += QString("%1 = %2 &nbsp; ").arg(esc(it.key()), detailText(it.value()));
        html += QString("<tr><td><b>%1</b></td><td align='right'>%2</td><td>%3</td></tr>")
                    .arg(esc(c.name))
                    .arg(c.value, 0, 'g', 5)
                    .arg(details);
    }
    html += "</table>";
    html += section(tr("Prompt"), r.prompt);
    html += section(tr("Reasoning"), r.reasoning);
    html += section(tr("Answer"), r.answer);
    html += section(tr("Reference"), r.reference);
    if (d->group.size() > 1) {
        html += tr("<h4>Its group</h4><table cellspacing='0' cellpadding='2'>");
        for (const store::RolloutRow& g : d->group)
            html += QString("<tr><td>%1sample %2</td><td align='right'>%3</td></tr>")
                        .arg(g.id == d->id ? QString("&#9654; ") : QString())
                        .arg(g.sample)
                        .arg(g.total_reward, 0, 'g', 4);
        html += "</table>";
    }
    m_detail->setHtml(html);
}

}  // namespace reflab::ui
