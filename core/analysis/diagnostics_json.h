// The JSON of `reflab-cli diagnose --json` (names kept stable for scripts; add, never rename):
// {"run", "window", "interval": "delong"|"bootstrap"|"none", "resamples", "seed", "set": reward set
// name|null, "alarm_settings": {...},
//  "validity": {"train": REPORT, "eval": REPORT}, "alarms": [ALARM, ...]}
// REPORT: {"rollouts", "signal": bool, "note": string|null, "components": [{"component",
//   "overall": POINT|null, "steps": [POINT], "windows": [POINT]}]}
// POINT: {"step", "first_step", "labelled", "correct", "auroc", "low", "high",
//   "point_biserial"} (numbers or null)
// ALARM: {"kind", "severity", "metric", "component", "start_step", "end_step", "active",
//   "value", "threshold", "message", "rollouts": [ids]}
#pragma once
#include <nlohmann/json.hpp>

#include "core/analysis/run_diagnostics.h"

namespace reflab::analysis {

nlohmann::json validityPointJson(const ValidityPoint& p);
nlohmann::json validityReportJson(const ValidityReport& r);
nlohmann::json alarmJson(const Alarm& a);
nlohmann::json diagnosticsJson(const RunDiagnostics& d);

}  // namespace reflab::analysis
