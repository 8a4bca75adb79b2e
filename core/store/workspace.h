// Workspace: one RefLab workspace file (workspace.db), the single source of truth of runs,
// metrics and rollouts. The trainer writes through createRun/writeStep/setRunStatus, the GUI and
// the CLI read through listRuns/metricsSince/rolloutPage/rollout. One sqlite3 connection per
// object: not shared across threads (each thread opens its own), movable, not copyable.
// Several processes may open one file at once (WAL): one writer per run, any number of readers.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/store/store_error.h"

namespace reflab::store {

enum class RunStatus { Running, Finished, Stopped, Failed, Interrupted };
std::string runStatusName(RunStatus);                  // "running" | "finished" | ...
RunStatus runStatusFromName(const std::string& name);  // throws StoreError on an unknown name

struct NewRun {
    std::string name, kind /*recipe kind e.g. "nover"*/, recipe_json, model_path, model_hash,
        code_version, parent_run;
    int64_t parent_step = -1;
    uint64_t seed = 0;
    int64_t steps = 0;
    // Optional: the exact bytes each token id decodes to (index = id). When given, a rollout's
    // completion text that equals the concatenation of its tokens' bytes is stored once, as the
    // tokens (about half the file), and the GUI can show each token's text. Stored once per
    // distinct vocabulary, shared by runs of one model.
    std::vector<std::string> vocabulary;
};

struct RunInfo {
    std::string id, name, kind, recipe_json, model_path, model_hash, code_version, parent_run;
    int64_t parent_step = -1, step = -1, steps = 0;
    uint64_t seed = 0;
    RunStatus status = RunStatus::Running;
    double created = 0, updated = 0;  // seconds since the Unix epoch
    std::optional<double> best_eval;
    int64_t writer_pid = 0;         // the process that writes (or last wrote) the run
    std::vector<std::string> tags;  // sorted (byte order), each once
};

struct ComponentRecord {
    std::string name;
    double value = 0;
    nlohmann::json details;  // intermediates, e.g. NOVER's P_r, rank, R_r, R_e
};

struct RolloutRecord {
    int64_t step = 0;
    std::string prompt_id;
    int group = 0, sample = 0;
    bool is_eval = false;
    std::string prompt, completion, reasoning, answer, reference, finish_reason;
    double total_reward = 0, advantage = 0;
    int prompt_tokens = 0, completion_tokens = 0;
    bool format_valid = false;
    std::optional<bool> correct;
    std::vector<ComponentRecord> components;
    std::vector<int32_t> token_ids;  // completion tokens
    std::vector<float> logprobs;     // old log-probs, one per token (stored as float16)
    // The entropy (nats) of the next-token distribution each token was drawn from, at the
    // log-probs' temperature; one per token (float16), or empty when the run stored none.
    std::vector<float> entropies;
};

// A labelled event at a step: kind "stage" marks the first step of a recipe stage (label: the
// stage's name); text is the event line the Log shows.
struct StepMark {
    std::string kind, label, text;
};

struct StepRecord {
    int64_t step = 0;
    double time = 0;                                      // seconds since the Unix epoch; 0 = now
    std::vector<std::pair<std::string, double>> metrics;  // "reward/total", "loss", ...
    std::vector<RolloutRecord> rollouts;
    std::vector<std::string> events;
    // Marked events of the step (a training stage begins): stored with the step, so a resume
    // that truncates the step drops them too, and the Dashboard draws them as markers.
    std::vector<StepMark> marks;
};

struct MetricPoint {
    int64_t rowid;
    std::string run;
    int64_t step;
    std::string name;
    double value;
    double time;
};

// ---- Rollout queries ------------------------------------------------------------------------

// Every field narrows the set; empty/nullopt = no constraint. Ranges are inclusive [min, max].
struct RolloutFilter {
    std::vector<std::string> runs;  // empty: every run
    std::optional<int64_t> step_min, step_max;
    std::optional<double> reward_min, reward_max;
    std::string component;  // with component_min/max: rollouts whose component value is in range
    std::optional<double> component_min, component_max;
    // Substring of prompt, completion or reference (ASCII case-insensitive). From 3 code points
    // on, the FTS5 trigram indexes find the candidates; shorter needles scan.
    std::string text;
    std::string finish_reason;         // exactly this finish reason ("eos", "length", ...)
    std::optional<bool> format_valid;  // true: valid format only, false: invalid only
    std::optional<bool> correct;   // true: correct only, false: incorrect only (unknown excluded)
    bool correct_unknown = false;  // only rollouts without a verdict (then `correct` is ignored)
    std::optional<bool> is_eval;   // true: evaluation rollouts only, false: training only
    // Only rollouts of a group whose total rewards are all equal (zero std: no learning signal).
    bool flat_groups_only = false;
};

enum class RolloutSortKey {
    Id,   // insertion order
    Run,  // creation order of the runs
    Step,
    PromptId,
    Group,
    Sample,
    TotalReward,
    Advantage,
    PromptTokens,
    CompletionTokens,
    FinishReason,
    FormatValid,
    Correct,
    Component  // RolloutSort::component's value (rollouts without it sort first)
};

struct RolloutSort {
    RolloutSortKey key = RolloutSortKey::Id;
    std::string component;  // for RolloutSortKey::Component
    bool descending = false;
};

// A keyset position: the sort value, step and id of one row (take it from RolloutRow::cursor).
// Pages continue strictly after (or before) it in the sort order, so a page never repeats or
// skips a row even while the trainer appends more. Ties break on id, except for TotalReward:
// on step, then id (the order of its index).
struct RolloutCursor {
    double number = 0;  // numeric sort keys
    std::string text;   // text sort keys (PromptId, FinishReason)
    int64_t step = 0;
    int64_t id = 0;
};

// One row of the rollouts table (no long texts: those come with rollout()).
struct RolloutRow {
    int64_t id = 0;
    std::string run;
    int64_t step = 0;
    std::string prompt_id;
    int group = 0, sample = 0;
    bool is_eval = false;
    double total_reward = 0, advantage = 0;
    int prompt_tokens = 0, completion_tokens = 0;
    std::string finish_reason;
    bool format_valid = false;
    std::optional<bool> correct;
    std::vector<std::pair<std::string, double>> components;  // name, value
    RolloutCursor cursor;  // this row's keyset position under the page's sort
};

struct RolloutPage {
    std::vector<RolloutRow> rows;  // in sort order
    bool more = false;             // another page follows in the direction asked
};

struct RolloutDetail {
    RolloutRecord record;  // every stored field, texts, components with details, tokens
    int64_t id = 0;
    std::string run;
    std::vector<std::string> token_texts;  // per token (empty when the run stored no vocabulary)
    std::vector<RolloutRow>
        group;  // every member of its group (same run, step, group), itself included
};

// Keyset marks of a filtered, sorted set, for random access by row number without OFFSET:
// marks[k] is the cursor of row (k + 1) * every - 1 (0-based, counted from the scan's start), so
// the page of rows [(k + 1) * every, (k + 2) * every) starts strictly after it.
struct RolloutMarks {
    std::vector<RolloutCursor> marks;
    int64_t rows = 0;    // rows scanned
    RolloutCursor last;  // the cursor of the last row scanned (continue a scan after it)
    bool done = true;    // the scan reached the end of the set
};

struct RolloutCount {
    int64_t count = 0;
    bool exact = true;  // false: an estimate (the exact count would have scanned too long)
};

// The numbers of every rollout of one run, column by column (core/analysis's input: reward
// validity and alarms read a whole run in one pass, without the texts of the rollout view).
struct RolloutScores {
    std::vector<std::string> components;  // names of the columns of `values`
    std::vector<int64_t> ids, steps;      // in (step, id) order
    std::vector<int32_t> groups, completion_tokens;
    std::vector<uint8_t> is_eval, format_valid;
    std::vector<int8_t> correct;  // 1 correct, 0 incorrect, -1 not stored
    std::vector<double> total_reward;
    std::vector<double> values;  // row-major [row * components.size() + c]; NaN: no value
    // With answers only, for the rows whose correct is -1 (other rows: empty): the parsed answer
    // and the reference, so the caller can judge correctness itself.
    std::vector<std::string> answers, references;
    size_t size() const { return ids.size(); }
};

// ---- Reward sets (`reflab-cli rescore`, workspace_reward_sets.cpp) ---------------------------

// Another recipe's rewards for a run's stored rollouts, stored beside the originals.
struct RewardSetInfo {
    int64_t id = 0;  // the set's key (writeSetRewards, rescoreInputs)
    std::string run, name, recipe_json;
    double created = 0;    // seconds since the Unix epoch
    int64_t rollouts = 0;  // rollouts scored in the set so far
};

// One rollout's rewards under a set.
struct SetRewardRecord {
    int64_t rollout_id = 0;
    double total = 0;
    bool format_valid = false;
    std::vector<ComponentRecord> components;
};

// What a re-score reads of a stored rollout: the texts the reward engine scores and the keys of
// its group; no tokens, log-probs or old rewards.
struct RescoreInput {
    int64_t id = 0, step = 0;
    int group = 0, sample = 0;
    bool is_eval = false;
    std::string prompt, completion, reference, finish_reason;
};

struct Checkpoint {
    int64_t step;
    std::string dir;
    double time;
};

struct RunEvent {
    int64_t id;
    double time;
    std::string text;
    // Marked events only (StepRecord::marks): the step, kind and label; -1 and "" otherwise.
    int64_t step = -1;
    std::string kind, label;
};

// ---- Summaries and prompt look-ups (the Compare tab, `reflab-cli compare`) --------------------

// Aggregates of one metric of one run over every stored point with a value (NULL skipped).
struct MetricSummary {
    int64_t count = 0;
    double sum = 0, min = 0, max = 0;
    int64_t min_step = 0, max_step = 0;  // the first step where min / max is reached
    int64_t last_step = 0;
    double last = 0, last_time = 0;  // the point of the highest step
};

// One metric of one run, every point in step order (a step stored twice: its points by id), as
// columns: what a chart and a summary read, without a MetricPoint's two strings a point.
struct MetricColumns {
    std::vector<int64_t> ids, steps;
    std::vector<double> values, times;  // values: NaN where none was stored
};

// Count, sum, extremes (each with the first step reaching it) and the point of the highest step
// over the non-NaN values of `columns` (in step order); nullopt when there is none.
std::optional<MetricSummary> summarizeMetric(const MetricColumns& columns);

struct RolloutTotals {
    int64_t rollouts = 0, eval_rollouts = 0;
    int64_t completion_tokens = 0;  // every rollout's, evaluation included: all it generated
};

// A stored prompt (prompts are shared across runs; one id may have several texts, e.g. under
// two templates).
struct PromptMatch {
    std::string prompt_id, prompt, reference;
};

// A run's rollouts of one prompt id at the step nearest to the one asked (ties: the earlier).
struct PromptRollouts {
    int64_t step = -1;         // -1: the run has no rollout of that prompt
    std::vector<int64_t> ids;  // rollout ids, by group then sample
};

class Workspace {
public:
    // Opens (and when writable creates and migrates) the workspace. Runs left 'running' whose
    // writer process is gone are marked 'interrupted' (writable) or reported so (read-only).
    // Throws StoreError naming the file: not a RefLab workspace, newer schema, missing or
    // read-only directory, ...
    static Workspace open(const std::string& path, bool read_only = false);
    // Deletes the workspace file and the files that live beside it (SQLite's -wal and -shm, the
    // run locks' -runlock); missing ones are fine. For temporary workspaces no one has open.
    static void removeFiles(const std::string& path);
    // Whether `path` is a RefLab workspace of an older schema, which only a writable open
    // migrates (after keeping a copy); false for anything else, errors included.
    static bool needsUpgrade(const std::string& path);
    ~Workspace();
    Workspace(Workspace&&) noexcept;
    Workspace& operator=(Workspace&&) noexcept;
    Workspace(const Workspace&) = delete;
    Workspace& operator=(const Workspace&) = delete;

    const std::string& path() const;
    int schemaVersion() const;
    // Caps the file at about `bytes` (a quota; PRAGMA max_page_count). A write that would pass
    // it fails like a full disk: StoreError, nothing of it stored.
    void setSizeLimit(int64_t bytes);

    // -- writing (the trainer) --
    std::string createRun(const NewRun&);  // status running; this process becomes its writer
    // ONE transaction: metrics + rollouts + components + tokens + events; sets the run's step.
    // On any error nothing of the step is stored.
    void writeStep(const std::string& run, const StepRecord&);
    void setRunStatus(const std::string& run,
                      RunStatus);  // Running = resume (takes the writer lock)
    // Resume from a checkpoint: drops the run's metrics, rollouts and checkpoints of steps
    // > after_step (written after the checkpoint, about to be trained again).
    void truncateRun(const std::string& run, int64_t after_step);
    void setBestEval(const std::string& run, double value);
    void addCheckpoint(const std::string& run, int64_t step, const std::string& dir);
    void removeCheckpoint(const std::string& run, int64_t step);  // the row only, not the files
    std::optional<std::pair<int64_t, std::string>> lastCheckpoint(const std::string& run);
    void addEvent(const std::string& run, const std::string& text);
    void renameRun(const std::string& run, const std::string& name);
    void deleteRun(const std::string& run);  // refuses a run that another process is writing
    // Tags: short labels the user puts on runs (filter the runs dock by one). A tag is trimmed of
    // surrounding white space; an empty one, one over 64 bytes or one with a line break is
    // refused (StoreError naming it). Adding a tag the run has, or removing one it lacks, is a
    // no-op. Any process may tag any run, a running one included: tags are not the writer's.
    void addTag(const std::string& run, const std::string& tag);
    void removeTag(const std::string& run, const std::string& tag);

    // -- runs --
    std::vector<RunInfo> listRuns();     // oldest first
    std::vector<std::string> allTags();  // every tag of any run, sorted, each once
    std::optional<RunInfo> run(const std::string& id);
    std::vector<Checkpoint> checkpoints(const std::string& run);
    std::vector<RunEvent> events(const std::string& run, int64_t after_id = 0);
    // The run's marked events of that kind ("stage"), by step.
    std::vector<RunEvent> markedEvents(const std::string& run, const std::string& kind);
    // Resolved recipe JSON per run, in the order asked (input of the Compare tab's config diff).
    std::vector<std::pair<std::string, nlohmann::json>> recipes(
        const std::vector<std::string>& runs);

    // -- metrics --
    std::vector<std::string> metricNames(const std::vector<std::string>& runs);
    // Points with rowid > after_rowid, in rowid order (live tailing: pass the last rowid seen).
    std::vector<MetricPoint> metricsSince(const std::vector<std::string>& runs, int64_t after_rowid,
                                          int64_t limit = 100000);
    // One metric of one run for a plot of about `buckets` buckets over steps [step_min, step_max]:
    // each bucket keeps its first, minimum, maximum and last point (in step order), so no
    // extreme is ever dropped. Short series come back whole.
    std::vector<MetricPoint> metricSeries(const std::string& run, const std::string& name,
                                          int buckets = 1000,
                                          std::optional<int64_t> step_min = std::nullopt,
                                          std::optional<int64_t> step_max = std::nullopt);

    // -- rollouts --
    // Keyset pagination: `limit` rows strictly after `from` (or strictly before it when
    // backward, still returned in sort order); no `from` = the first (backward: last) page.
    RolloutPage rolloutPage(const RolloutFilter&, const RolloutSort& = {},
                            const std::optional<RolloutCursor>& from = std::nullopt,
                            int limit = 200, bool backward = false);
    // Scans at most `limit` rows (<= 0: all) strictly after `from`, reading only the sort key,
    // step and id, and returns the cursor of every `every`-th. A scan in slices (from = the
    // previous slice's last) counts the rows exactly; `every` should divide the rows of a slice.
    RolloutMarks rolloutMarks(const RolloutFilter&, const RolloutSort&, int every,
                              const std::optional<RolloutCursor>& from = std::nullopt,
                              int64_t limit = 0);
    // Exact, except with a text filter that would confirm more than exact_limit rows one by one
    // (a needle of fewer than 3 code points, or a frequent one: more than 100,000 candidates in
    // the text index, or matching prompts of many samples): then an estimate from about
    // exact_limit sampled rows (exact = false); a marks scan of the same filter to its end
    // counts it exactly. A needle with fewer candidates has its matches found once per
    // connection and needle, confirmed (the first count or marks, or a first page of fewer
    // than 20,000 candidates, pays for it; the others read them).
    RolloutCount rolloutCount(const RolloutFilter&, int64_t exact_limit = 20000);
    std::optional<RolloutDetail> rollout(int64_t id, bool with_group = true);
    // The runs' component names, then the columns of their reward sets ("set:NAME/total",
    // "set:NAME/COMPONENT"), which pages, sorts and filters take like any component.
    std::vector<std::string> componentNames(const std::vector<std::string>& runs);
    int64_t rolloutTotal();  // every rollout in the workspace
    // A check called every few thousand steps of a running query: when it returns true the
    // query stops with a StoreError (its caller has been asked something newer meanwhile: a
    // text search's matches for a needle the user has typed past). Empty: none.
    void setCancelCheck(std::function<bool()> cancelled);
    // Every rollout of a run with step > after_step (training and evaluation rollouts alike).
    // A step is written in one transaction, so the rows of a step come whole or not at all.
    // With `reward_set`: only the rollouts that set scored, with its totals, format verdicts
    // and components (StoreError when the run has no such set).
    RolloutScores rolloutScores(const std::string& run, int64_t after_step = -1,
                                bool answers = false, const std::string& reward_set = "");

    // -- summaries and prompt look-ups (workspace_summary.cpp) --
    std::optional<MetricSummary> metricSummary(const std::string& run, const std::string& name);
    // Every point of one metric of one run (a reward set's curve too): for a stored metric one
    // walk of the metrics_series index, no table row read.
    MetricColumns metricColumns(const std::string& run, const std::string& name);
    RolloutTotals rolloutTotals(const std::string& run);
    // Prompts whose id starts with `query` or whose text contains it (ASCII case-insensitive),
    // exact id matches first; at most `limit`.
    std::vector<PromptMatch> findPrompts(const std::string& query, int limit = 50);
    PromptRollouts promptRollouts(const std::string& run, const std::string& prompt_id,
                                  int64_t step);

    // -- reward sets (workspace_reward_sets.cpp) --
    // The set `name` of `run`, created (empty, with `recipe_json`) when it does not exist yet. An
    // existing set comes back as it is: the caller compares its recipe. Throws StoreError for an
    // unknown run or an empty name.
    RewardSetInfo openRewardSet(const std::string& run, const std::string& name,
                                const std::string& recipe_json);
    std::vector<RewardSetInfo> rewardSets(const std::string& run);  // oldest first
    std::optional<RewardSetInfo> rewardSet(const std::string& run, const std::string& name);
    // ONE transaction: every record's total and components. A rollout already in the set, or
    // one that is not a rollout of the set's run, fails the whole batch (nothing stored).
    void writeSetRewards(int64_t set, const std::vector<SetRewardRecord>& records);
    // The steps of the set's run that hold rollouts, in [step_min, step_max], ascending.
    std::vector<int64_t> rolloutSteps(const std::string& run, int64_t step_min, int64_t step_max);
    // The rollouts of one step of the set's run that the set has not scored yet, in (is_eval,
    // group, sample, id) order: the order the trainer scored them in.
    std::vector<RescoreInput> rescoreInputs(int64_t set, int64_t step);
    // Rollouts of the set's run in [step_min, step_max]: (all, already in the set).
    std::pair<int64_t, int64_t> rescoreProgress(int64_t set, int64_t step_min, int64_t step_max);
    // The set's reward curve: per step, the mean total of its training rollouts (what the
    // run's "reward/total" metric is of the original rewards), as metric points named
    // "set:NAME/reward/total" (time: the set's creation). metricNames lists that name for a run
    // with sets, and metricSeries/metricSummary answer it.
    std::vector<MetricPoint> setRewardSeries(const std::string& run, const std::string& name);

    struct Impl;

private:
    explicit Workspace(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m;
};

}  // namespace reflab::store
