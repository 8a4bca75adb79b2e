// Run comparison as JSON, Markdown and the summary table; see run_compare_report.h.
#include "core/analysis/run_compare_report.h"

#include <cmath>
#include <cstdio>

namespace reflab::analysis {

namespace {

using nlohmann::json;

TableCell numberCell(std::optional<double> v) {
    if (!v || std::isnan(*v)) return {"", std::nullopt};
    return {formatNumber(*v), *v};
}

TableCell intCell(std::optional<int64_t> v) {
    if (!v) return {"", std::nullopt};
    return {std::to_string(*v), static_cast<double>(*v)};
}

json optional(const std::optional<double>& v) {
    return v && !std::isnan(*v) ? json(*v) : json();
}

std::string markdownCell(const std::string& text) {
    std::string out;
    for (const char c : text) {
        if (c == '|')
            out += "\\|";
        else if (c == '\n' || c == '\r')
            out += ' ';
        else
            out += c;
    }
    return out;
}

std::string csvField(const std::string& text) {
    if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

std::string runLabel(const store::RunInfo& r) {
    return r.name.empty() ? r.id : r.name;
}

void markdownRow(std::string& out, const std::vector<std::string>& cells) {
    out += "|";
    for (const auto& c : cells) out += " " + markdownCell(c) + " |";
    out += "\n";
}

void diffMarkdown(std::string& out, const Comparison& c, const std::vector<DiffRow>& rows) {
    std::vector<std::string> head = {"key"};
    for (const auto& r : c.runs) head.push_back(runLabel(r));
    markdownRow(out, head);
    markdownRow(out, std::vector<std::string>(head.size(), "---"));
    for (const auto& row : rows) {
        std::vector<std::string> cells = {row.kind == DiffKind::Same ? row.key
                                                                     : "**" + row.key + "**"};
        for (const auto& v : row.values) cells.push_back(diffCellText(v));
        markdownRow(out, cells);
    }
}

json diffJson(const std::vector<DiffRow>& rows) {
    json arr = json::array();
    for (const auto& row : rows) {
        json values = json::array(), present = json::array();
        for (const auto& v : row.values) {
            values.push_back(v ? *v : json());
            present.push_back(v.has_value());
        }
        arr.push_back({{"key", row.key},
                       {"kind", diffKindName(row.kind)},
                       {"values", values},
                       {"present", present}});
    }
    return arr;
}

}  // namespace

std::string formatNumber(double v) {
    if (std::isnan(v)) return "nan";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

Table summaryTable(const Comparison& c) {
    Table t;
    t.headers = {"run", "name"};
    for (const auto& m : c.metrics) {
        t.headers.push_back(m + " final");
        t.headers.push_back(m + " best");
    }
    for (const char* h : {"best eval", "best eval step", "steps", "steps/s", "wall time (s)",
                          "tokens generated", "rollouts"})
        t.headers.push_back(h);
    for (const auto& s : c.summaries) {
        std::vector<TableCell> row = {{s.run, std::nullopt}, {s.name, std::nullopt}};
        for (const auto& m : s.metrics) {
            row.push_back(numberCell(m.finalValue()));
            row.push_back(numberCell(m.bestValue()));
        }
        row.push_back(numberCell(s.best_eval));
        row.push_back(intCell(s.best_eval_step));
        row.push_back(intCell(s.steps_done));
        row.push_back(numberCell(s.steps_per_s));
        row.push_back(numberCell(s.wall_time_s));
        row.push_back(intCell(s.tokens_generated));
        row.push_back(intCell(s.rollouts));
        t.rows.push_back(std::move(row));
    }
    return t;
}

std::string tableMarkdown(const Table& t) {
    std::string out;
    markdownRow(out, t.headers);
    markdownRow(out, std::vector<std::string>(t.headers.size(), "---"));
    for (const auto& row : t.rows) {
        std::vector<std::string> cells;
        for (const auto& cell : row) cells.push_back(cell.text);
        markdownRow(out, cells);
    }
    return out;
}

std::string tableCsv(const Table& t) {
    std::string out;
    auto line = [&out](const std::vector<std::string>& cells) {
        for (size_t i = 0; i < cells.size(); ++i) out += (i ? "," : "") + csvField(cells[i]);
        out += "\r\n";
    };
    line(t.headers);
    for (const auto& row : t.rows) {
        std::vector<std::string> cells;
        for (const auto& cell : row) cells.push_back(cell.text);
        line(cells);
    }
    return out;
}

json comparisonJson(const Comparison& c) {
    json runs = json::array();
    for (const auto& r : c.runs)
        runs.push_back({{"id", r.id},
                        {"name", r.name},
                        {"status", store::runStatusName(r.status)},
                        {"kind", r.kind},
                        {"model_path", r.model_path},
                        {"model_hash", r.model_hash},
                        {"seed", r.seed},
                        {"code_version", r.code_version},
                        {"parent_run", r.parent_run.empty() ? json() : json(r.parent_run)},
                        {"parent_step", r.parent_run.empty() ? json() : json(r.parent_step)}});
    json lineage = json::array();
    for (const auto& l : c.lineage)
        lineage.push_back({{"run", l.run},
                           {"parent_run", l.parent_run},
                           {"parent_step", l.parent_step},
                           {"parent_compared", l.parent_compared}});
    json summary = json::array();
    for (const auto& s : c.summaries) {
        json metrics = json::object();
        for (const auto& m : s.metrics) {
            json jm = {{"higher_is_better", m.higher_is_better}};
            if (m.summary) {
                jm["final"] = m.summary->last;
                jm["final_step"] = m.summary->last_step;
                jm["best"] = *m.bestValue();
                jm["best_step"] = *m.bestStep();
                jm["points"] = m.summary->count;
            } else {
                jm["final"] = jm["best"] = jm["final_step"] = jm["best_step"] = json();
                jm["points"] = 0;
            }
            metrics[m.metric] = jm;
        }
        summary.push_back({{"run", s.run},
                           {"name", s.name},
                           {"steps", s.steps_done},
                           {"steps_per_s", optional(s.steps_per_s)},
                           {"wall_time_s", optional(s.wall_time_s)},
                           {"tokens_generated", s.tokens_generated},
                           {"rollouts", s.rollouts},
                           {"best_eval", optional(s.best_eval)},
                           {"best_eval_step", s.best_eval_step ? json(*s.best_eval_step) : json()},
                           {"metrics", metrics}});
    }
    return {{"runs", runs},
            {"warnings", c.warnings},
            {"identity", diffJson(c.identity)},
            {"diff", diffJson(c.diff)},
            {"lineage", lineage},
            {"metrics", c.metrics},
            {"summary", summary}};
}

std::string comparisonMarkdown(const Comparison& c) {
    std::string out = "# Run comparison\n\n";
    for (const auto& w : c.warnings) out += "> Warning: " + w + "\n";
    if (!c.warnings.empty()) out += "\n";
    out += "## Set-up\n\n";
    diffMarkdown(out, c, c.identity);
    out += "\n## Recipe diff\n\n";
    if (c.diff.empty())
        out += "The recipes are identical.\n";
    else
        diffMarkdown(out, c, c.diff);
    if (!c.lineage.empty()) {
        out += "\n## Lineage\n\n";
        for (const auto& l : c.lineage)
            out += "- " + l.run + " forks " + l.parent_run + " at step " +
                   std::to_string(l.parent_step) + "\n";
    }
    out += "\n## Summary\n\n" + tableMarkdown(summaryTable(c));
    return out;
}

}  // namespace reflab::analysis
