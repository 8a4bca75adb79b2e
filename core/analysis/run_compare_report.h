// Run comparison as text: the JSON of `reflab-cli compare --json`, its Markdown, and the
// summary table (one row per run) that the CLI, the Compare tab and its CSV/Markdown export
// share.
#pragma once
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "core/analysis/run_compare.h"

namespace reflab::analysis {

struct TableCell {
    std::string text;
    std::optional<double> number;  // numeric cells sort by this
};

struct Table {
    std::vector<std::string> headers;
    std::vector<std::vector<TableCell>> rows;
};

// Columns: run, name, then "<metric> final" and "<metric> best" per metric, best eval, its step,
// steps, steps/s, wall time (s), tokens generated, rollouts.
Table summaryTable(const Comparison& c);
std::string tableMarkdown(const Table& t);
std::string tableCsv(const Table& t);  // RFC 4180, CRLF line ends

nlohmann::json comparisonJson(const Comparison& c);
std::string comparisonMarkdown(const Comparison& c);

// A number as the tables show it: up to 6 significant digits.
std::string formatNumber(double v);

}  // namespace reflab::analysis
