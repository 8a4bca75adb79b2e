// JSON of the diagnostics; see diagnostics_json.h.
#include "core/analysis/diagnostics_json.h"

namespace reflab::analysis {

namespace {
nlohmann::json opt(const std::optional<double>& x) {
    return x ? nlohmann::json(*x) : nlohmann::json();
}
}  // namespace

nlohmann::json validityPointJson(const ValidityPoint& p) {
    return {{"step", p.step},         {"first_step", p.first_step},
            {"labelled", p.labelled}, {"correct", p.correct},
            {"auroc", opt(p.auroc)},  {"low", opt(p.low)},
            {"high", opt(p.high)},    {"point_biserial", opt(p.point_biserial)}};
}

nlohmann::json validityReportJson(const ValidityReport& r) {
    nlohmann::json comps = nlohmann::json::array();
    for (const auto& c : r.components) {
        nlohmann::json steps = nlohmann::json::array(), windows = nlohmann::json::array();
        for (const auto& p : c.steps) steps.push_back(validityPointJson(p));
        for (const auto& p : c.windows) windows.push_back(validityPointJson(p));
        comps.push_back({{"component", c.component},
                         {"overall", c.overall ? validityPointJson(*c.overall) : nlohmann::json()},
                         {"steps", std::move(steps)},
                         {"windows", std::move(windows)}});
    }
    return {{"rollouts", r.rollouts},
            {"signal", r.has_signal},
            {"note", r.note.empty() ? nlohmann::json() : nlohmann::json(r.note)},
            {"components", std::move(comps)}};
}

nlohmann::json alarmJson(const Alarm& a) {
    return {{"kind", alarmKindName(a.kind)},
            {"severity", alarmSeverityName(a.severity)},
            {"metric", a.metric},
            {"component", a.component.empty() ? nlohmann::json() : nlohmann::json(a.component)},
            {"start_step", a.start_step},
            {"end_step", a.end_step},
            {"active", a.active},
            {"value", a.value},
            {"threshold", a.threshold},
            {"message", a.message},
            {"rollouts", a.rollouts}};
}

nlohmann::json diagnosticsJson(const RunDiagnostics& d) {
    nlohmann::json alarms = nlohmann::json::array();
    for (const auto& a : d.alarms()) alarms.push_back(alarmJson(a));
    const ValidityOptions& v = d.options().validity;
    return {{"run", d.run()},
            {"window", v.window},
            {"interval", intervalMethodName(v.interval)},
            {"resamples", v.resamples},
            {"seed", v.seed},
            {"set", d.options().reward_set.empty() ? nlohmann::json()
                                                   : nlohmann::json(d.options().reward_set)},
            {"alarm_settings", d.alarmSettings().resolved},
            {"validity",
             {{"train", validityReportJson(d.validity())},
              {"eval", validityReportJson(d.evalValidity())}}},
            {"alarms", std::move(alarms)}};
}

}  // namespace reflab::analysis
