// CSV / JSONL export of a run's metrics and rollouts; see store_export.h.
#include "core/store/store_export.h"

#include <cmath>

namespace reflab::store {

namespace {

// Shortest text that reads back to the same double (nlohmann's number formatting); NaN -> "".
std::string number(double v) {
    if (std::isnan(v)) return "";
    return nlohmann::json(v).dump();
}

nlohmann::json jsonNumber(double v) {
    return std::isnan(v) ? nlohmann::json() : nlohmann::json(v);
}

void writeCsvRow(std::ostream& out, const std::vector<std::string>& fields) {
    for (size_t i = 0; i < fields.size(); ++i) out << (i ? "," : "") << csvField(fields[i]);
    out << "\r\n";  // RFC 4180 line ends; a newline inside a quoted field stays as it was
}

constexpr auto kDumpStrict = nlohmann::json::error_handler_t::replace;  // invalid UTF-8 -> U+FFFD

}  // namespace

ExportFormat exportFormatFromName(const std::string& name) {
    if (name == "csv") return ExportFormat::Csv;
    if (name == "jsonl") return ExportFormat::Jsonl;
    throw StoreError("--format: unknown export format '" + name + "' (expected csv or jsonl)");
}

ExportWhat exportWhatFromName(const std::string& name) {
    if (name == "metrics") return ExportWhat::Metrics;
    if (name == "rollouts") return ExportWhat::Rollouts;
    throw StoreError("--what: unknown export '" + name + "' (expected metrics or rollouts)");
}

std::string csvField(std::string_view text) {
    if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
    std::string q = "\"";
    for (const char c : text) {
        if (c == '"') q += '"';
        q += c;
    }
    q += '"';
    return q;
}

int64_t exportMetrics(Workspace& ws, const std::string& run, ExportFormat format,
                      std::ostream& out) {
    if (!ws.run(run)) throw StoreError(ws.path() + ": no run '" + run + "' in this workspace");
    if (format == ExportFormat::Csv) writeCsvRow(out, {"run", "step", "name", "value", "time"});
    int64_t n = 0;
    // metricsSince pages by rowid; rows of one step are contiguous and steps ascend in a run's
    // insertion order, which is the order written.
    int64_t after = 0;
    for (;;) {
        const auto points = ws.metricsSince({run}, after, 50000);
        if (points.empty()) break;
        for (const MetricPoint& p : points) {
            if (format == ExportFormat::Csv) {
                writeCsvRow(
                    out, {p.run, std::to_string(p.step), p.name, number(p.value), number(p.time)});
            } else {
                nlohmann::json j = {{"run", p.run},
                                    {"step", p.step},
                                    {"name", p.name},
                                    {"value", jsonNumber(p.value)},
                                    {"time", p.time}};
                out << j.dump(-1, ' ', false, kDumpStrict) << '\n';
            }
            ++n;
        }
        after = points.back().rowid;
    }
    return n;
}

std::string rolloutJsonLine(const RolloutDetail& detail) {
    const RolloutDetail* d = &detail;
    const RolloutRecord& r = detail.record;
    nlohmann::json comps = nlohmann::json::object();
    for (const ComponentRecord& c : r.components) {
        nlohmann::json cj = c.details.is_object() ? c.details : nlohmann::json::object();
        if (!c.details.is_null() && !c.details.is_object()) cj["details"] = c.details;
        cj["value"] = c.value;
        comps[c.name] = std::move(cj);
    }
    nlohmann::json j = {{"id", d->id},
                        {"run", d->run},
                        {"step", r.step},
                        {"prompt_id", r.prompt_id},
                        {"group", r.group},
                        {"sample", r.sample},
                        {"is_eval", r.is_eval},
                        {"prompt", r.prompt},
                        {"completion", r.completion},
                        {"reasoning", r.reasoning},
                        {"answer", r.answer},
                        {"reference", r.reference},
                        {"total_reward", r.total_reward},
                        {"advantage", r.advantage},
                        {"prompt_tokens", r.prompt_tokens},
                        {"completion_tokens", r.completion_tokens},
                        {"finish_reason", r.finish_reason},
                        {"format_valid", r.format_valid},
                        {"correct", r.correct ? nlohmann::json(*r.correct) : nlohmann::json()},
                        {"components", std::move(comps)},
                        {"token_ids", r.token_ids},
                        {"logprobs", r.logprobs}};
    if (!r.entropies.empty()) j["entropies"] = r.entropies;  // where the run stored them
    return j.dump(-1, ' ', false, kDumpStrict);
}

int64_t exportRollouts(Workspace& ws, const std::string& run, ExportFormat format,
                       std::ostream& out) {
    if (!ws.run(run)) throw StoreError(ws.path() + ": no run '" + run + "' in this workspace");
    RolloutFilter filter;
    filter.runs = {run};
    const std::vector<std::string> components = ws.componentNames({run});
    const std::vector<std::string> fixed = {"id",
                                            "run",
                                            "step",
                                            "prompt_id",
                                            "group",
                                            "sample",
                                            "is_eval",
                                            "prompt",
                                            "completion",
                                            "reasoning",
                                            "answer",
                                            "reference",
                                            "total_reward",
                                            "advantage",
                                            "prompt_tokens",
                                            "completion_tokens",
                                            "finish_reason",
                                            "format_valid",
                                            "correct"};
    if (format == ExportFormat::Csv) {
        std::vector<std::string> header = fixed;
        for (const std::string& c : components) header.push_back("component:" + c);
        writeCsvRow(out, header);
    }
    int64_t n = 0;
    std::optional<RolloutCursor> cursor;
    for (;;) {
        const RolloutPage page = ws.rolloutPage(filter, {}, cursor, 1000);
        for (const RolloutRow& row : page.rows) {
            const auto d = ws.rollout(row.id, /*with_group=*/false);
            if (!d) continue;  // deleted meanwhile
            const RolloutRecord& r = d->record;
            const std::string correct = r.correct ? (*r.correct ? "1" : "0") : "";
            if (format == ExportFormat::Csv) {
                std::vector<std::string> f = {std::to_string(d->id),
                                              d->run,
                                              std::to_string(r.step),
                                              r.prompt_id,
                                              std::to_string(r.group),
                                              std::to_string(r.sample),
                                              r.is_eval ? "1" : "0",
                                              r.prompt,
                                              r.completion,
                                              r.reasoning,
                                              r.answer,
                                              r.reference,
                                              number(r.total_reward),
                                              number(r.advantage),
                                              std::to_string(r.prompt_tokens),
                                              std::to_string(r.completion_tokens),
                                              r.finish_reason,
                                              r.format_valid ? "1" : "0",
                                              correct};
                for (const std::string& c : components) {
                    std::string v;
                    for (const ComponentRecord& cr : r.components)
                        if (cr.name == c) v = number(cr.value);
                    f.push_back(v);
                }
                writeCsvRow(out, f);
            } else {
                out << rolloutJsonLine(*d) << '\n';
            }
            ++n;
        }
        if (!page.more || page.rows.empty()) break;
        cursor = page.rows.back().cursor;
    }
    return n;
}

}  // namespace reflab::store
