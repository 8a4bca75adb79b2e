// Export of one run's metrics or rollouts as CSV (RFC 4180 quoting) or JSON Lines, used by
// `reflab-cli export` and the GUI's export action. Streams: memory stays flat for any run size.
#pragma once
#include <ostream>
#include <string>
#include <string_view>

#include "core/store/workspace.h"

namespace reflab::store {

enum class ExportFormat { Csv, Jsonl };
enum class ExportWhat { Metrics, Rollouts };

ExportFormat exportFormatFromName(const std::string& name);  // "csv" | "jsonl"; StoreError else
ExportWhat exportWhatFromName(const std::string& name);      // "metrics" | "rollouts"

// Writes every metric point of the run, in step order:
//   csv:   run,step,name,value,time
//   jsonl: {"run": .., "step": .., "name": .., "value": .., "time": ..}   (NaN -> null)
// Returns the number of records written.
int64_t exportMetrics(Workspace& ws, const std::string& run, ExportFormat format,
                      std::ostream& out);

// Writes every rollout of the run in insertion order: identifiers, the texts (prompt,
// completion, reasoning, answer, reference), rewards and lengths, each component's value
// (csv: one column "component:<name>" each; jsonl: "components": {name: {"value", details...}})
// and, in jsonl only, "token_ids" and "logprobs" (and "entropies" where the run stored them).
int64_t exportRollouts(Workspace& ws, const std::string& run, ExportFormat format,
                       std::ostream& out);

// One rollout as one JSON Lines record (no newline): the jsonl fields of exportRollouts.
std::string rolloutJsonLine(const RolloutDetail& detail);

// One CSV field: quoted (with inner quotes doubled) when it holds a comma, quote, CR or LF.
std::string csvField(std::string_view text);

}  // namespace reflab::store
