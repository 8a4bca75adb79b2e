// The detail pane's HTML (see rollout_detail_html.h).
#include "ui/rollouts/rollout_detail_html.h"

#include <QColor>
#include <algorithm>
#include <cmath>

namespace reflab::ui {

namespace {

QString esc(const std::string& s) {
    return QString::fromStdString(s).toHtmlEscaped();
}

QString textSection(const QString& title, const std::string& text) {
    return QString("<h4>%1</h4><pre style='white-space: pre-wrap'>%2</pre>")
        .arg(title, text.empty() ? QString("<i>(empty)</i>") : esc(text));
}

QString scalar(const nlohmann::json& v) {
    if (v.is_number_float()) return QString::number(v.get<double>(), 'g', 5);
    if (v.is_string()) return esc(v.get<std::string>());
    return esc(v.dump());
}

// Rows "key | value" for one component's details; objects nest as "key.sub", arrays of scalars
// show inline, arrays of objects one row per element ("key[i].sub").
void detailRows(const nlohmann::json& v, const QString& key, QString& html) {
    if (v.is_object()) {
        for (auto it = v.begin(); it != v.end(); ++it)
            detailRows(it.value(), key.isEmpty() ? esc(it.key()) : key + "." + esc(it.key()), html);
        return;
    }
    if (v.is_array()) {
        bool scalars = true;
        for (const auto& e : v) scalars = scalars && !e.is_structured();
        if (!scalars) {
            for (size_t i = 0; i < v.size(); ++i)
                detailRows(v[i], QString("%1[%2]").arg(key).arg(i), html);
            return;
        }
        QStringList items;
        for (const auto& e : v) items << scalar(e);
        html += QString("<tr><td></td><td>%1</td><td>[%2]</td></tr>").arg(key, items.join(", "));
        return;
    }
    html += QString("<tr><td></td><td>%1</td><td>%2</td></tr>").arg(key, scalar(v));
}

}  // namespace

QString logprobColor(float logprob) {
    const double p = std::isfinite(logprob) ? std::exp(std::min(0.0f, logprob)) : 0.0;
    // White at p = 1 to a strong red at p = 0, through orange; the text stays black.
    const QColor c = QColor::fromHsvF(0.08 * p, 0.75 * (1.0 - p), 1.0);
    return c.name();
}

QString entropyColor(float entropy) {
    const double x =
        std::isfinite(entropy) ? std::clamp(double(entropy) / kEntropyFullScale, 0.0, 1.0) : 1.0;
    // White at 0 nats to a strong blue at the full scale: another hue than the log-prob scale,
    // so a picture says which one it shows.
    const QColor c = QColor::fromHsvF(0.6, 0.7 * x, 1.0);
    return c.name();
}

QString tokenColourLegend(TokenColour by) {
    QString html = "<small>";
    const auto swatch = [&html](const QString& colour, const QString& label) {
        html += QString("<span style='background-color:%1; color:#000000'>&nbsp;%2&nbsp;</span> ")
                    .arg(colour, label);
    };
    if (by == TokenColour::Entropy) {
        html += QObject::tr("entropy (nats): ");
        for (const float h : {0.0f, 1.0f, 2.0f, 3.0f})
            swatch(entropyColor(h), QString::number(double(h), 'g', 2));
        swatch(entropyColor(kEntropyFullScale), QString("&ge; %1").arg(double(kEntropyFullScale)));
    } else {
        html += QObject::tr("probability: ");
        for (const double p : {1.0, 0.5, 0.2, 0.05, 0.01})
            swatch(logprobColor(float(std::log(p))), QString::number(p, 'g', 2));
    }
    return html + "</small>";
}

QString tokenToolTip(const store::RolloutDetail& d, int index) {
    const auto& ids = d.record.token_ids;
    if (index < 0 || size_t(index) >= ids.size()) return {};
    const QString text = size_t(index) < d.token_texts.size()
                             ? QString::fromStdString(d.token_texts[size_t(index)])
                             : QString();
    QString tip = QString("token %1: '%2' · id %3").arg(index).arg(text).arg(ids[size_t(index)]);
    if (size_t(index) < d.record.logprobs.size()) {
        const float lp = d.record.logprobs[size_t(index)];
        tip += QString(" · log-prob %1 (p = %2)")
                   .arg(double(lp), 0, 'f', 3)
                   .arg(std::exp(double(lp)), 0, 'f', 3);
    }
    if (size_t(index) < d.record.entropies.size())
        tip +=
            QString(" · entropy %1 nats").arg(double(d.record.entropies[size_t(index)]), 0, 'f', 3);
    return tip;
}

QString tokensHtml(const store::RolloutDetail& d, TokenColour by) {
    const auto& r = d.record;
    if (r.token_ids.empty()) return {};
    if (r.entropies.size() != r.token_ids.size()) by = TokenColour::LogProb;
    QString html =
        QObject::tr(
            "<h4>Completion tokens (%1) <small>coloured by %2; hover for each token</small>"
            "</h4>")
            .arg(r.token_ids.size())
            .arg(by == TokenColour::Entropy ? QObject::tr("entropy") : QObject::tr("log-prob"));
    html += "<p>" + tokenColourLegend(by) + "</p>";
    if (d.token_texts.size() != r.token_ids.size())
        return html + QObject::tr(
                          "<p><i>The run stored no vocabulary: token texts are not "
                          "available.</i></p>");
    html += "<p style='white-space: pre-wrap; font-family: monospace'>";
    html.reserve(html.size() + int(r.token_ids.size()) * 120);
    for (size_t i = 0; i < r.token_ids.size(); ++i) {
        const QString bg = by == TokenColour::Entropy
                               ? entropyColor(r.entropies[i])
                               : (i < r.logprobs.size() ? logprobColor(r.logprobs[i]) : "#ffffff");
        QString text = esc(d.token_texts[i]);
        if (text.isEmpty()) text = "&#8203;";
        html += QString(
                    "<a href='tok:%1' style='background-color:%2; color:#000000; "
                    "text-decoration:none'>%3</a>")
                    .arg(i)
                    .arg(bg, text);
    }
    return html + "</p>";
}

QString rewardBreakdownHtml(const store::RolloutRecord& r) {
    QString html = QObject::tr(
                       "<h4>Reward %1 &nbsp; advantage %2</h4>"
                       "<table cellspacing='0' cellpadding='3' border='1' "
                       "style='border-collapse: collapse; border-color: #999'>"
                       "<tr><th align='left'>Component</th><th align='left'>Intermediate</th>"
                       "<th align='left'>Value</th></tr>")
                       .arg(r.total_reward, 0, 'g', 5)
                       .arg(r.advantage, 0, 'g', 4);
    for (const store::ComponentRecord& c : r.components) {
        html += QString("<tr><td><b>%1</b></td><td></td><td><b>%2</b></td></tr>")
                    .arg(esc(c.name))
                    .arg(c.value, 0, 'g', 5);
        if (!c.details.is_null()) detailRows(c.details, {}, html);
    }
    return html + "</table>";
}

QString rolloutDetailHtml(const store::RolloutDetail& d, TokenColour by) {
    const store::RolloutRecord& r = d.record;
    QString html =
        QObject::tr(
            "<p><b>Step %1</b> &nbsp; prompt %2 &nbsp; group %3 &nbsp; sample %4%5 &nbsp; "
            "finish: %6 &nbsp; format: %7 &nbsp; correct: %8 &nbsp; tokens: %9 + %10</p>")
            .arg(r.step)
            .arg(esc(r.prompt_id))
            .arg(r.group)
            .arg(r.sample)
            .arg(r.is_eval ? QObject::tr(" (eval)") : QString())
            .arg(esc(r.finish_reason))
            .arg(r.format_valid ? QObject::tr("valid") : QObject::tr("invalid"))
            .arg(r.correct ? (*r.correct ? QObject::tr("yes") : QObject::tr("no")) : "–")
            .arg(r.prompt_tokens)
            .arg(r.completion_tokens);
    html += rewardBreakdownHtml(r);
    // What decides the reward first (answer against reference, the tokens), the long texts last.
    html += textSection(QObject::tr("Answer"), r.answer);
    html += textSection(QObject::tr("Reference"), r.reference);
    const QString tokens = tokensHtml(d, by);
    html += tokens.isEmpty() ? textSection(QObject::tr("Completion"), r.completion) : tokens;
    html += textSection(QObject::tr("Reasoning"), r.reasoning);
    html += textSection(QObject::tr("Prompt"), r.prompt);
    return html;
}

}  // namespace reflab::ui
