// Workspace::Impl: the connection, the prepared statements and caches behind a Workspace. Shared
// by the workspace_*.cpp files of core/store only; never included outside core/store.
#pragma once
#include <limits>
#include <map>
#include <memory>
#include <unordered_map>

#include "core/store/run_lock.h"
#include "core/store/sqlite_db.h"
#include "core/store/workspace.h"

namespace reflab::store {

// A missing metric or score, as the store's readers return it.
inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double nowSeconds();

struct Workspace::Impl {
    std::string path;
    bool read_only = false;
    bool immutable = false;  // opened as immutable (read-only media): so is any other connection
    int version = 0;
    SqliteDb db;  // declared first: destroyed after the statements below

    std::map<int64_t, RunLock> locks;  // run_key -> writer lock this object holds

    std::unordered_map<std::string, int64_t> run_keys;  // run id -> run_key
    std::unordered_map<int64_t, std::string> run_ids;   // run_key -> run id
    std::unordered_map<std::string, int64_t> component_keys;
    std::unordered_map<int64_t, std::string> component_names;
    std::unordered_map<uint64_t, int64_t> prompt_keys;  // (prompt, reference, id) hash -> key
    std::unordered_map<int64_t, int64_t> run_vocab;     // run_key -> vocab_key (0: none)
    std::unordered_map<int64_t, std::shared_ptr<const std::vector<std::string>>> vocabularies;
    // vocab_key -> each token's byte length (tokenBlobSpan, tokenBlobText)
    std::unordered_map<int64_t, std::shared_ptr<const std::vector<uint32_t>>> token_lengths;

    // The needle whose matches temp.text_hits holds (workspace_rollouts.cpp), and the state of
    // the data it was built from: PRAGMA data_version (other connections' commits) and this
    // connection's change count (its own writes). Empty needle: none built.
    struct TextHits {
        std::string needle;
        int64_t data_version = -1, changes = -1;
    } text_hits;
    // What the trigram indexes name for a needle (workspace_rollouts.cpp): its candidates among
    // the completions and the prompts, each counted up to a bound, for the same data state.
    struct TextCandidates {
        std::string needle;
        int64_t data_version = -1, changes = -1;
        int64_t completions = 0, prompts = 0, prompt_keys = 0;
    } text_candidates;
    std::function<bool()> cancelled;  // setCancelCheck's; SQLite's progress handler calls it

    // Prepared once, reused for every step (the writer's hot path).
    SqliteStatement ins_metric, ins_rollout, ins_payload, ins_reward, ins_event, upd_step,
        find_prompt, ins_prompt, ins_component, ins_prompt_text, ins_completion_text,
        add_step_totals;

    // run id -> run_key; throws StoreError naming the run when it does not exist.
    int64_t runKey(const std::string& run);
    std::optional<int64_t> findRunKey(const std::string& run);
    std::string runId(int64_t run_key);
    std::string componentName(int64_t key);
    int64_t componentKey(const std::string& name);  // creates it (inside the caller's transaction)
    // The decoded vocabulary of a run (null: none stored).
    std::shared_ptr<const std::vector<std::string>> vocabulary(int64_t run_key);
    // Its tokens' byte lengths (null: no vocabulary), computed once per vocabulary.
    std::shared_ptr<const std::vector<uint32_t>> tokenLengths(int64_t run_key);
    // Takes this process's writer lock of the run; throws when another process holds it.
    void lockRun(int64_t run_key, const std::string& run);
    // Marks runs left 'running' without a live writer as 'interrupted' (writable connections).
    void recoverInterrupted();
    // Forget cached keys after a rolled-back transaction (they may name rows that never landed).
    void dropWriteCaches();
    [[noreturn]] void unknownRun(const std::string& run) const;
};

// Registers the SQL functions the rollout filters and the text index use (reflab_text_has,
// reflab_completion). Called by open() before the schema is migrated.
void registerStoreFunctions(Workspace::Impl& w);

// The run row columns in RunInfo order, and the reader shared by listRuns() and run().
extern const char* const kRunColumns;

// SQL that removes the completions of the rollouts `ids_sql` (a SELECT of rollout ids) from the
// text index; run it before their payload rows are deleted.
std::string unindexCompletionsSql(const std::string& ids_sql);
RunInfo readRunRow(const SqliteStatement& st, int first_col = 0);
// run_key -> its tags in byte order: of one run, or of every run (workspace_tags.cpp).
std::unordered_map<int64_t, std::vector<std::string>> readRunTags(
    Workspace::Impl& w, std::optional<int64_t> run_key = std::nullopt);

// A reward set's column in the rollout table (workspace_reward_sets.cpp): "set:NAME/COMPONENT",
// or "set:NAME/total" for the set's total. Null for any other name.
struct SetColumn {
    std::string set, component;
};
std::optional<SetColumn> parseSetColumn(const std::string& name);
// The SQL value of that column for rollouts r (NULL where the set did not score the rollout):
// the sets named c.set of the runs `run_keys` (empty: of every run). "" when no such set or
// component exists.
std::string setColumnSql(Workspace::Impl& w, const SetColumn& c,
                         const std::vector<int64_t>& run_keys);
// Adds the set columns of each row's run to its components, by rollout id (one query per page).
void attachSetColumns(Workspace::Impl& w, std::vector<RolloutRow>& rows);
// "set:NAME/reward/total", a reward set's curve among the metrics (Workspace::setRewardSeries):
// NAME, else null.
std::optional<std::string> setOfMetric(const std::string& metric);
// The set metric names of the runs `run_keys`.
std::vector<std::string> setMetricNames(Workspace::Impl& w, const std::vector<int64_t>& run_keys);

// The set columns of the runs `run_keys` (empty: every run): per set "set:NAME/total", then
// "set:NAME/COMPONENT" for each component of its recipe.
std::vector<std::string> setColumnNames(Workspace::Impl& w, const std::vector<int64_t>& run_keys);

}  // namespace reflab::store
