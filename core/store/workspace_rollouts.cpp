// Workspace rollout readers: keyset pages with filters and any sort, counts, one rollout in full.
//
// Pages never use OFFSET (SQLite would walk every skipped row): a page continues strictly after
// the (sort value, id) of the last row seen. When a single run is asked and the sort has an
// index (step, total reward), the query keeps that index as the only one usable (unary '+'
// hides the others from the planner) so a page reads ~limit index entries, not the run.
//
// A text filter is planned per use (planText) from what the trigram indexes name for it
// (its candidates among the completions and the prompts, counted up to a bound, once per needle
// and data state):
// - few candidates: temp.text_hits, the ids of every rollout that contains the needle,
//   confirmed on the stored text, built once per needle on this connection (in memory, never in
//   the file) and kept until the needle or the data changes. Pages, marks and counts then read
//   `r.id IN temp.text_hits`, and the count is exact.
// - many (a frequent needle: a word of nearly every completion), with a page or marks scan that
//   walks an index in sort order: no index at all. The scan confirms the rows it meets and stops
//   at the page's end, a few hundred rows in; building the hits would confirm every candidate
//   first (seconds for a million) and an IN list of the candidates costs as much to build.
//   The count is then an estimate from sampled id windows, and the marks scan, which walks
//   every match anyway, gives the exact count when it ends (the caller shows it).
// - many, with a sort that reads every row before the first: the candidates' IN lists narrow
//   the rows the page confirms; marks build the hits once (each slice re-sorts).
// Needles shorter than 3 code points cannot use the indexes: every row is confirmed.
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <variant>

#include "core/store/store_codec.h"
#include "core/store/workspace_impl.h"

namespace reflab::store {

namespace {

bool containsNoCase(std::string_view hay, std::string_view needle) {
    if (needle.empty()) return true;
    const auto it =
        std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) ==
                   std::tolower(static_cast<unsigned char>(b));
        });
    return it != hay.end();
}

std::string_view argText(sqlite3_value* v) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(v));
    return p ? std::string_view(p, static_cast<size_t>(sqlite3_value_bytes(v)))
             : std::string_view();
}

// The completion text of a payload row: its completion column, or (NULL there) its tokens
// decoded with the run's vocabulary. False when neither gives a text.
bool completionOf(Workspace::Impl& w, int64_t run_key, sqlite3_value* completion,
                  sqlite3_value* tokens, std::string& out) {
    if (sqlite3_value_type(completion) != SQLITE_NULL) {
        out = std::string(argText(completion));
        return true;
    }
    if (sqlite3_value_type(tokens) != SQLITE_BLOB) return false;
    const auto vocab = w.vocabulary(run_key);
    if (!vocab) return false;
    const auto* p = static_cast<const char*>(sqlite3_value_blob(tokens));
    std::vector<int32_t> ids;
    std::vector<float> lps;
    decodeTokens(std::string_view(p, static_cast<size_t>(sqlite3_value_bytes(tokens))), ids, lps,
                 w.path);
    out.clear();
    detokenize(*vocab, ids, out);
    return true;
}

// reflab_text_has(needle, run_key, completion, tokens, prompt, reference): whether the needle
// occurs in the prompt, the reference or the completion (decoded from the tokens with the run's
// vocabulary when the completion is stored as tokens).
void textHas(sqlite3_context* ctx, int, sqlite3_value** argv) {
    auto* w = static_cast<Workspace::Impl*>(sqlite3_user_data(ctx));
    const std::string_view needle = argText(argv[0]);
    bool hit = containsNoCase(argText(argv[4]), needle) || containsNoCase(argText(argv[5]), needle);
    if (!hit) {
        try {
            std::string text;
            if (completionOf(*w, sqlite3_value_int64(argv[1]), argv[2], argv[3], text))
                hit = containsNoCase(text, needle);
        } catch (const std::exception& e) {
            sqlite3_result_error(ctx, e.what(), -1);
            return;
        }
    }
    sqlite3_result_int(ctx, hit ? 1 : 0);
}

// reflab_completion(run_key, completion, tokens): the completion text as writeStep indexed it
// (the migration fills completion_text with it, deletes hand it back to the index).
void completionText(sqlite3_context* ctx, int, sqlite3_value** argv) {
    auto* w = static_cast<Workspace::Impl*>(sqlite3_user_data(ctx));
    try {
        std::string text;
        if (!completionOf(*w, sqlite3_value_int64(argv[0]), argv[1], argv[2], text)) text.clear();
        sqlite3_result_text(ctx, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    } catch (const std::exception& e) {
        sqlite3_result_error(ctx, e.what(), -1);
    }
}

// The FTS5 query that finds the candidates of a substring search in a trigram index: every
// trigram (3 code points) of the needle, each quoted. Empty when the needle is shorter than
// 3 code points (a trigram index cannot narrow it: the search scans).
std::string trigramQuery(const std::string& needle) {
    std::vector<size_t> starts;  // byte offset of each UTF-8 code point
    for (size_t i = 0; i < needle.size(); ++i)
        if ((static_cast<unsigned char>(needle[i]) & 0xC0) != 0x80) starts.push_back(i);
    if (starts.size() < 3) return {};
    starts.push_back(needle.size());
    std::string q;
    for (size_t i = 0; i + 3 < starts.size(); ++i) {
        std::string tri = needle.substr(starts[i], starts[i + 3] - starts[i]);
        std::string quoted = "\"";
        for (const char c : tri) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
        q += (q.empty() ? "" : " AND ") + quoted + "\"";
    }
    return q;
}

// Whether the trigram indexes can narrow this needle (3 code points or more).
bool indexedNeedle(const std::string& needle) {
    return !trigramQuery(needle).empty();
}

// PRAGMA data_version and this connection's change count: what temp.text_hits was built from.
std::pair<int64_t, int64_t> dataState(Workspace::Impl& w) {
    return {w.db.queryInt("PRAGMA data_version"),
            static_cast<int64_t>(sqlite3_total_changes64(w.db.handle()))};
}

bool textHitsReady(Workspace::Impl& w, const std::string& needle) {
    const auto& h = w.text_hits;
    return h.needle == needle && dataState(w) == std::make_pair(h.data_version, h.changes);
}

// Completion candidates up to which a first page builds a needle's hits rather than scanning,
// and up to which a count or marks scan builds them (about 0.25 s for 100,000).
constexpr int64_t kFewCandidates = 20000;
constexpr int64_t kManyCandidates = 100000;

// The needle's (indexedNeedle) candidates in the completion and prompt indexes, each counted up
// to kManyCandidates + 1, and the prompt keys in use; kept per needle and data state.
const Workspace::Impl::TextCandidates& textCandidates(Workspace::Impl& w,
                                                      const std::string& needle) {
    auto& c = w.text_candidates;
    const auto state = dataState(w);
    if (c.needle == needle && state == std::make_pair(c.data_version, c.changes)) return c;
    const auto bounded = [&](const char* table) {
        SqliteStatement st(w.db, std::string("SELECT count(*) FROM (SELECT rowid FROM ") + table +
                                     " WHERE " + table + " MATCH ?1 LIMIT ?2)");
        st.bind(1, trigramQuery(needle)).bind(2, kManyCandidates + 1);
        return st.step() ? st.int64(0) : 0;
    };
    c.completions = bounded("completion_text");
    c.prompts = bounded("prompt_text");
    c.prompt_keys = w.db.queryInt("SELECT coalesce(max(prompt_key), 0) FROM prompts");
    c.needle = needle;
    c.data_version = state.first;
    c.changes = state.second;
    return c;
}

// How a text filter is answered (see the file comment): from temp.text_hits (built first when
// missing), by confirming the candidates of the trigram indexes' IN lists, or by confirming
// every row the query meets.
enum class TextPlan { Hits, Candidates, Scan };
enum class TextUse { Page, Marks, Count };

// ordered: the query walks an index in sort order and stops at its LIMIT (no sort of every
// row first). For a Count, Scan means: estimate.
TextPlan planText(Workspace::Impl& w, const std::string& needle, TextUse use, bool ordered) {
    if (!indexedNeedle(needle)) return TextPlan::Scan;
    if (textHitsReady(w, needle)) return TextPlan::Hits;
    const auto& c = textCandidates(w, needle);
    // A matching prompt stands for every sample of it: the hits of a few matching prompts
    // (of many) are cheap, those of most prompts are most rollouts.
    const bool few_prompts = c.prompts == 0 || c.prompts * 50 <= c.prompt_keys;
    const bool cheap = c.completions <= kManyCandidates && few_prompts;
    switch (use) {
        case TextUse::Page:
            if (c.completions <= kFewCandidates && c.prompts == 0) return TextPlan::Hits;
            if (ordered) return TextPlan::Scan;
            return cheap ? TextPlan::Candidates : TextPlan::Scan;
        case TextUse::Marks:
            return cheap || !ordered ? TextPlan::Hits : TextPlan::Scan;
        case TextUse::Count:
            return cheap ? TextPlan::Hits : TextPlan::Scan;
    }
    return TextPlan::Scan;
}

// Fills temp.text_hits with the ids of the rollouts matching `needle` (indexedNeedle), unless
// it holds them already for the current data.
void ensureTextHits(Workspace::Impl& w, const std::string& needle) {
    if (textHitsReady(w, needle)) return;
    auto& h = w.text_hits;
    h.needle.clear();
    w.db.exec(
        "CREATE TEMP TABLE IF NOT EXISTS text_hits(id INTEGER PRIMARY KEY);"
        "CREATE TEMP TABLE IF NOT EXISTS text_prompts(prompt_key INTEGER PRIMARY KEY);"
        "DELETE FROM temp.text_hits; DELETE FROM temp.text_prompts");
    const int64_t version = w.db.queryInt("PRAGMA data_version");
    const std::string fts = trigramQuery(needle);
    // The prompts whose prompt or reference holds the needle (a prompt row is shared by
    // every sample of it)...
    SqliteStatement prompts(
        w.db,
        "INSERT INTO temp.text_prompts SELECT p.prompt_key FROM prompt_text CROSS JOIN prompts p "
        "ON p.prompt_key = prompt_text.rowid WHERE prompt_text MATCH ?1 AND "
        "reflab_text_has(?2, 0, '', NULL, p.prompt, p.reference)");
    prompts.bind(1, fts).bind(2, needle).run();
    // ...the rollouts whose completion does (the index's candidates, each confirmed)...
    SqliteStatement completions(
        w.db,
        "INSERT INTO temp.text_hits SELECT r.id FROM completion_text CROSS JOIN rollouts r ON "
        "r.id = completion_text.rowid LEFT JOIN rollout_payload pl ON pl.rollout_id = r.id "
        "WHERE completion_text MATCH ?1 AND reflab_text_has(?2, r.run_key, pl.completion, "
        "pl.tokens, NULL, NULL)");
    completions.bind(1, fts).bind(2, needle).run();
    // ...and those of the matching prompts (a scan of the narrow table, only when some match).
    if (w.db.queryInt("SELECT count(*) FROM temp.text_prompts") > 0)
        w.db.exec(
            "INSERT OR IGNORE INTO temp.text_hits SELECT r.id FROM rollouts r WHERE "
            "r.prompt_key IN temp.text_prompts");
    h.needle = needle;
    h.data_version = version;
    h.changes = static_cast<int64_t>(sqlite3_total_changes64(w.db.handle()));
}

// The component key standing for a reward set's column ("set:NAME/COMPONENT").
constexpr int64_t kSetComponent = -2;

bool isTextKey(RolloutSortKey k) {
    return k == RolloutSortKey::PromptId || k == RolloutSortKey::FinishReason;
}

// The SQL expression of a sort key over rollouts r. Nullable keys are folded to a sentinel so
// that (value, id) is a total order usable by the keyset comparison.
// A reward set's column sorts on `component_sql` (setColumnSql; "" for an unknown one).
std::string sortExpr(RolloutSortKey k, int64_t component_key, const std::string& component_sql) {
    switch (k) {
        case RolloutSortKey::Id:
            return "r.id";
        case RolloutSortKey::Run:
            return "r.run_key";
        case RolloutSortKey::Step:
            return "r.step";
        case RolloutSortKey::PromptId:
            return "(SELECT prompt_id FROM prompts WHERE prompt_key = r.prompt_key)";
        case RolloutSortKey::Group:
            return "r.grp";
        case RolloutSortKey::Sample:
            return "r.sample";
        case RolloutSortKey::TotalReward:
            return "r.total_reward";
        case RolloutSortKey::Advantage:
            return "r.advantage";
        case RolloutSortKey::PromptTokens:
            return "r.prompt_tokens";
        case RolloutSortKey::CompletionTokens:
            return "r.completion_tokens";
        case RolloutSortKey::FinishReason:
            return "r.finish_reason";
        case RolloutSortKey::FormatValid:
            return "r.format_valid";
        case RolloutSortKey::Correct:
            return "coalesce(r.correct, -1)";
        case RolloutSortKey::Component:
            if (component_key == kSetComponent)
                return "coalesce(" + (component_sql.empty() ? "NULL" : component_sql) + ", -1e308)";
            return "coalesce((SELECT value FROM rollout_rewards WHERE rollout_id = r.id AND "
                   "component_key = " +
                   std::to_string(component_key) + "), -1e308)";
    }
    return "r.id";
}

// Bound values of a query. add() returns a numbered placeholder ("?3"), so the SQL text may be
// assembled in any order of evaluation.
struct Binds {
    std::vector<std::variant<int64_t, double, std::string>> values;
    template <class T>
    std::string add(const T& v) {
        values.emplace_back(v);
        return "?" + std::to_string(values.size());
    }
    void apply(SqliteStatement& st) const {
        for (size_t i = 0; i < values.size(); ++i) {
            const int idx = static_cast<int>(i + 1);
            std::visit([&](const auto& x) { st.bind(idx, x); }, values[i]);
        }
    }
};

struct FilterSql {
    std::string from;   // FROM clause with the joins the filter needs
    std::string where;  // " AND ..." terms (starts with "1")
    bool none = false;  // the filter can match nothing (unknown run or component)
    std::vector<int64_t> run_keys;
};

// Which index the page query may use; the others are hidden with unary '+'.
enum class IndexUse { Any, Step, Reward, RowidOnly };

// runs_by_caller: leave the run constraint out of `where` (the caller adds one per run).
// text_plan: how a text filter is answered (planText; Scan for a needle too short for the
// trigram indexes whatever is asked).
FilterSql buildFilter(Workspace::Impl& w, const RolloutFilter& f, Binds& b, IndexUse use,
                      bool runs_by_caller = false, TextPlan text_plan = TextPlan::Scan) {
    FilterSql q;
    q.from = "rollouts r";
    q.where = "1";
    for (const std::string& run : f.runs) {
        if (auto key = w.findRunKey(run)) q.run_keys.push_back(*key);
    }
    if (!f.runs.empty() && q.run_keys.empty()) q.none = true;
    const std::string run_col = use == IndexUse::RowidOnly ? "+r.run_key" : "r.run_key";
    if (runs_by_caller) {
        // nothing here
    } else if (q.run_keys.size() == 1) {
        q.where += " AND " + run_col + " = " + b.add(q.run_keys[0]);
    } else if (!q.run_keys.empty()) {
        std::string list;
        for (const int64_t k : q.run_keys) list += (list.empty() ? "" : ",") + std::to_string(k);
        q.where += " AND " + run_col + " IN (" + list + ")";
    }
    const std::string step_col =
        use == IndexUse::Step || use == IndexUse::Any ? "r.step" : "+r.step";
    const std::string reward_col =
        use == IndexUse::Reward || use == IndexUse::Any ? "r.total_reward" : "+r.total_reward";
    if (f.step_min) q.where += " AND " + step_col + " >= " + b.add(*f.step_min);
    if (f.step_max) q.where += " AND " + step_col + " <= " + b.add(*f.step_max);
    if (f.reward_min) q.where += " AND " + reward_col + " >= " + b.add(*f.reward_min);
    if (f.reward_max) q.where += " AND " + reward_col + " <= " + b.add(*f.reward_max);
    if (const auto set = f.component.empty() ? std::nullopt : parseSetColumn(f.component)) {
        const std::string v = setColumnSql(w, *set, q.run_keys);
        if (v.empty()) {
            q.none = true;
        } else {
            q.where += " AND " + v + " IS NOT NULL";
            if (f.component_min) q.where += " AND " + v + " >= " + b.add(*f.component_min);
            if (f.component_max) q.where += " AND " + v + " <= " + b.add(*f.component_max);
        }
    } else if (!f.component.empty()) {
        SqliteStatement st(w.db, "SELECT component_key FROM components WHERE name = ?");
        st.bind(1, f.component);
        if (!st.step()) {
            q.none = true;
        } else {
            std::string sub =
                "EXISTS (SELECT 1 FROM rollout_rewards x WHERE x.rollout_id = r.id "
                "AND x.component_key = " +
                std::to_string(st.int64(0));
            if (f.component_min) sub += " AND x.value >= " + b.add(*f.component_min);
            if (f.component_max) sub += " AND x.value <= " + b.add(*f.component_max);
            q.where += " AND " + sub + ")";
        }
    }
    if (!f.finish_reason.empty()) q.where += " AND r.finish_reason = " + b.add(f.finish_reason);
    if (f.format_valid)
        q.where += std::string(" AND r.format_valid = ") + (*f.format_valid ? "1" : "0");
    if (f.correct_unknown)
        q.where += " AND r.correct IS NULL";
    else if (f.correct)
        q.where += std::string(" AND r.correct = ") + (*f.correct ? "1" : "0");
    if (f.is_eval) q.where += std::string(" AND r.is_eval = ") + (*f.is_eval ? "1" : "0");
    if (f.flat_groups_only) q.where += " AND r.group_flat = 1";
    if (f.text.empty()) return q;
    if (!indexedNeedle(f.text)) text_plan = TextPlan::Scan;
    if (text_plan == TextPlan::Hits) {
        // Confirmed matches, built once per needle (see the file comment).
        ensureTextHits(w, f.text);
        q.where += " AND r.id IN temp.text_hits";
        return q;
    }
    if (text_plan == TextPlan::Candidates) {
        // The trigram indexes name the candidates (each IN list is built once per statement).
        const std::string m = b.add(trigramQuery(f.text));
        q.where += " AND (r.prompt_key IN (SELECT rowid FROM prompt_text WHERE prompt_text MATCH " +
                   m +
                   ") OR r.id IN (SELECT rowid FROM completion_text WHERE completion_text MATCH " +
                   m + "))";
    }
    // reflab_text_has confirms each row the query meets (each candidate, with Candidates).
    q.from +=
        " CROSS JOIN prompts p ON p.prompt_key = r.prompt_key"
        " LEFT JOIN rollout_payload pl ON pl.rollout_id = r.id";
    q.where += " AND reflab_text_has(" + b.add(f.text) +
               ", r.run_key, pl.completion, pl.tokens, p.prompt, p.reference)";
    return q;
}

const char* const kRowColumns =
    "r.id, r.run_key, r.step, (SELECT prompt_id FROM prompts WHERE prompt_key = r.prompt_key), "
    "r.grp, r.sample, r.is_eval, r.total_reward, r.advantage, r.prompt_tokens, "
    "r.completion_tokens, r.finish_reason, r.format_valid, r.correct";

RolloutRow readRow(Workspace::Impl& w, const SqliteStatement& st) {
    RolloutRow row;
    row.id = st.int64(0);
    row.run = w.runId(st.int64(1));
    row.step = st.int64(2);
    row.prompt_id = st.text(3);
    row.group = static_cast<int>(st.int64(4));
    row.sample = static_cast<int>(st.int64(5));
    row.is_eval = st.int64(6) != 0;
    row.total_reward = st.real(7);
    row.advantage = st.real(8);
    row.prompt_tokens = static_cast<int>(st.int64(9));
    row.completion_tokens = static_cast<int>(st.int64(10));
    row.finish_reason = st.text(11);
    row.format_valid = st.int64(12) != 0;
    if (!st.isNull(13)) row.correct = st.int64(13) != 0;
    row.cursor.id = row.id;
    return row;
}

// Fills each row's component values with one query over the page's ids.
void attachComponents(Workspace::Impl& w, std::vector<RolloutRow>& rows) {
    if (rows.empty()) return;
    std::string ids;
    std::unordered_map<int64_t, size_t> at;
    for (size_t i = 0; i < rows.size(); ++i) {
        ids += (i ? "," : "") + std::to_string(rows[i].id);
        at[rows[i].id] = i;
    }
    SqliteStatement st(w.db,
                       "SELECT rollout_id, component_key, value FROM rollout_rewards "
                       "WHERE rollout_id IN (" +
                           ids + ") ORDER BY rollout_id, component_key");
    while (st.step())
        rows[at[st.int64(0)]].components.emplace_back(w.componentName(st.int64(1)), st.real(2));
}

}  // namespace

void registerStoreFunctions(Workspace::Impl& w) {
    int rc = sqlite3_create_function_v2(w.db.handle(), "reflab_text_has", 6, SQLITE_UTF8, &w,
                                        textHas, nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(w.db.handle(), "reflab_completion", 3, SQLITE_UTF8, &w,
                                        completionText, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) w.db.fail(rc, "cannot register the text search functions");
}

namespace {

struct PageQuery {
    std::string sql;
    Binds binds;
    bool none = false;      // matches nothing
    bool text_key = false;  // the sort value is text
};

// The SQL of a page (limit > 0: limit + 1 rows, the extra one tells whether more follow) or of
// every row from `from` on (limit <= 0). Selects `columns`, then the sort value.
PageQuery pageQuery(Workspace::Impl& w, const RolloutFilter& f, const RolloutSort& sort,
                    const std::optional<RolloutCursor>& from, int limit, bool backward,
                    const std::string& columns, TextUse text_use) {
    PageQuery pq;

    int64_t component_key = 0;
    std::string component_sql;
    if (sort.key == RolloutSortKey::Component && parseSetColumn(sort.component)) {
        component_key = kSetComponent;
        std::vector<int64_t> run_keys;
        for (const std::string& run : f.runs)
            if (auto key = w.findRunKey(run)) run_keys.push_back(*key);
        component_sql = setColumnSql(w, *parseSetColumn(sort.component), run_keys);
    } else if (sort.key == RolloutSortKey::Component) {
        SqliteStatement st(w.db, "SELECT component_key FROM components WHERE name = ?");
        st.bind(1, sort.component);
        component_key = st.step() ? st.int64(0) : -1;
    }
    // Pick the one index that serves this page (see the file comment). Over several runs an
    // indexed sort reads each run's index separately and merges: one LIMIT-ed range per run
    // instead of sorting every row of every run.
    const bool indexed_sort =
        sort.key == RolloutSortKey::Step || sort.key == RolloutSortKey::TotalReward;
    std::vector<int64_t> merge_keys;
    if (indexed_sort && f.runs.size() != 1) {
        if (f.runs.empty()) {
            SqliteStatement st(w.db, "SELECT run_key FROM runs ORDER BY run_key");
            while (st.step()) merge_keys.push_back(st.int64(0));
        } else {
            for (const std::string& run : f.runs)
                if (auto key = w.findRunKey(run)) merge_keys.push_back(*key);
        }
        if (merge_keys.size() < 2 || merge_keys.size() > 64) merge_keys.clear();
    }
    IndexUse use = IndexUse::Any;
    if (f.runs.size() == 1 || !merge_keys.empty()) {
        if (sort.key == RolloutSortKey::Step)
            use = IndexUse::Step;
        else if (sort.key == RolloutSortKey::TotalReward)
            use = IndexUse::Reward;
        else if (sort.key == RolloutSortKey::Id)
            use = IndexUse::RowidOnly;
        if (use == IndexUse::Reward && (f.step_min || f.step_max) && f.runs.size() == 1) {
            // A narrow step range (a few percent of the run) is cheaper to read whole and sort.
            if (auto key = w.findRunKey(f.runs[0])) {
                // Two subqueries: SQLite answers a lone min() or max() with one index seek,
                // but min() and max() together with a scan of the whole run.
                SqliteStatement st(w.db,
                                   "SELECT (SELECT min(step) FROM rollouts WHERE run_key = ?1), "
                                   "(SELECT max(step) FROM rollouts WHERE run_key = ?1)");
                st.bind(1, *key);
                if (st.step() && !st.isNull(0)) {
                    const int64_t lo = std::max(st.int64(0), f.step_min.value_or(st.int64(0)));
                    const int64_t hi = std::min(st.int64(1), f.step_max.value_or(st.int64(1)));
                    const double span = static_cast<double>(st.int64(1) - st.int64(0) + 1);
                    if (static_cast<double>(hi - lo + 1) / span < 0.05) use = IndexUse::Step;
                }
            }
        }
    } else if (sort.key == RolloutSortKey::Id) {
        use = IndexUse::RowidOnly;
    }

    // Whether the rows come in sort order from an index (the LIMIT stops the walk) rather than
    // all of them sorted first.
    const bool ordered = sort.key == RolloutSortKey::Id ||
                         (sort.key == RolloutSortKey::Step && use == IndexUse::Step) ||
                         (sort.key == RolloutSortKey::TotalReward && use == IndexUse::Reward);
    const TextPlan text_plan =
        f.text.empty() ? TextPlan::Scan : planText(w, f.text, text_use, ordered);
    Binds& b = pq.binds;
    FilterSql q = buildFilter(w, f, b, use, /*runs_by_caller=*/!merge_keys.empty(), text_plan);
    if (q.none) {
        pq.none = true;
        return pq;
    }
    const std::string e = sortExpr(sort.key, component_key, component_sql);
    const bool text_key = isTextKey(sort.key);
    pq.text_key = text_key;
    // Scan direction: descending sort, or forward... flipped when paging backward.
    const bool desc = sort.descending != backward;
    if (from) {
        const std::string op = desc ? "<" : ">";
        if (sort.key == RolloutSortKey::Id) {
            q.where += " AND r.id " + op + " " + b.add(from->id);
        } else if (text_key) {
            const std::string v1 = b.add(from->text);
            const std::string v2 = b.add(from->text);
            const std::string id = b.add(from->id);
            q.where += " AND (" + e + " " + op + " " + v1 + " OR (" + e + " = " + v2 +
                       " AND r.id " + op + " " + id + "))";
        } else if (sort.key == RolloutSortKey::TotalReward) {
            // Ties of a reward sort break on (step, id): the order of the (run_key,
            // total_reward, step) index, whose step lets the step filter reject rows without
            // reading them. The extra inclusive bound starts the index range at the cursor.
            const std::string v = b.add(from->number);
            const std::string st = b.add(from->step);
            const std::string id = b.add(from->id);
            // '+' keeps the OR's members out of the planner's index choice: the range comes
            // from the inclusive bound alone, never from a union over other indexes.
            q.where += " AND " + e + " " + op + "= " + v + " AND (+" + e + " " + op + " " + v +
                       " OR +r.step " + op + " " + st + " OR (+r.step = " + st + " AND +r.id " +
                       op + " " + id + "))";
        } else {
            const std::string v = b.add(from->number);
            const std::string id = b.add(from->id);
            q.where += " AND " + e + " " + op + "= " + v + " AND (+" + e + " " + op + " " + v +
                       " OR +r.id " + op + " " + id + ")";
        }
    }
    const std::string dir = desc ? " DESC" : "";
    std::string order = e + dir + ", r.id" + dir;
    if (sort.key == RolloutSortKey::Id) order = "r.id" + dir;
    if (sort.key == RolloutSortKey::TotalReward)
        order = e + dir + ", r.step" + dir + ", r.id" + dir;
    const std::string lim = limit > 0 ? " LIMIT " + std::to_string(limit + 1) : "";
    std::string sql;
    if (merge_keys.empty()) {
        sql = "SELECT " + columns + ", " + e + " FROM " + q.from + " WHERE " + q.where +
              " ORDER BY " + order + lim;
    } else {
        // One LIMIT-ed branch per run, merged; the numbered placeholders serve every branch.
        for (size_t i = 0; i < merge_keys.size(); ++i)
            sql += std::string(i ? " UNION ALL " : "") + "SELECT * FROM (SELECT " + columns + ", " +
                   e + " AS sort_value, r.step AS sort_step, r.id AS sort_id FROM " + q.from +
                   " WHERE r.run_key = " + std::to_string(merge_keys[i]) + " AND " + q.where +
                   " ORDER BY " + order + lim + ")";
        const std::string outer = sort.key == RolloutSortKey::TotalReward
                                      ? "sort_value" + dir + ", sort_step" + dir + ", sort_id" + dir
                                      : "sort_value" + dir + ", sort_id" + dir;
        sql = "SELECT * FROM (" + sql + ") ORDER BY " + outer + lim;
    }
    pq.sql = std::move(sql);
    return pq;
}

}  // namespace

RolloutPage Workspace::rolloutPage(const RolloutFilter& f, const RolloutSort& sort,
                                   const std::optional<RolloutCursor>& from, int limit,
                                   bool backward) {
    Impl& w = *m;
    RolloutPage page;
    limit = std::max(1, limit);
    const PageQuery pq = pageQuery(w, f, sort, from, limit, backward, kRowColumns, TextUse::Page);
    if (pq.none) return page;
    const bool text_key = pq.text_key;
    SqliteStatement st(w.db, pq.sql);
    pq.binds.apply(st);
    while (st.step()) {
        if (static_cast<int>(page.rows.size()) == limit) {
            page.more = true;
            break;
        }
        RolloutRow row = readRow(w, st);
        if (text_key)
            row.cursor.text = st.text(14);
        else
            row.cursor.number = st.real(14);
        row.cursor.step = row.step;
        page.rows.push_back(std::move(row));
    }
    if (backward) std::reverse(page.rows.begin(), page.rows.end());
    attachComponents(w, page.rows);
    attachSetColumns(w, page.rows);
    return page;
}

RolloutMarks Workspace::rolloutMarks(const RolloutFilter& f, const RolloutSort& sort, int every,
                                     const std::optional<RolloutCursor>& from, int64_t limit) {
    Impl& w = *m;
    RolloutMarks marks;
    every = std::max(1, every);
    // pageQuery's LIMIT (its limit + 1) also bounds each run's branch of a merged sort.
    limit = std::clamp<int64_t>(limit, 0, std::numeric_limits<int>::max());
    const PageQuery pq = pageQuery(w, f, sort, from, limit > 1 ? static_cast<int>(limit - 1) : 0,
                                   false, "r.id, r.step", TextUse::Marks);
    if (pq.none) return marks;
    SqliteStatement st(w.db, pq.sql + (limit == 1 ? " LIMIT 1" : ""));
    pq.binds.apply(st);
    RolloutCursor c;
    while (st.step()) {
        c.id = st.int64(0);
        c.step = st.int64(1);
        if (pq.text_key)
            c.text = st.text(2);
        else
            c.number = st.real(2);
        if (++marks.rows % every == 0) marks.marks.push_back(c);
    }
    marks.last = c;
    marks.done = limit <= 0 || marks.rows < limit;
    return marks;
}

RolloutCount Workspace::rolloutCount(const RolloutFilter& f, int64_t exact_limit) {
    Impl& w = *m;
    // The rows of `filter` (with ids in [window.first, window.second] when given).
    const auto countOf = [&](const RolloutFilter& filter, TextPlan plan,
                             std::optional<std::pair<int64_t, int64_t>> window = {}) {
        Binds b;
        // A window reads its id range of the table, and the hits their ids, no index: the
        // planner would otherwise prefer a run's index and walk all of it (0.2 s a million rows
        // for 2,000 hits; 2 ms by id).
        const bool by_id = window || (plan == TextPlan::Hits && !filter.text.empty());
        FilterSql q =
            buildFilter(w, filter, b, by_id ? IndexUse::RowidOnly : IndexUse::Any, false, plan);
        if (q.none) return int64_t(0);
        if (window)
            q.where +=
                " AND r.id BETWEEN " + b.add(window->first) + " AND " + b.add(window->second);
        SqliteStatement st(w.db, "SELECT count(*) FROM " + q.from + " WHERE " + q.where);
        b.apply(st);
        return st.step() ? st.int64(0) : int64_t(0);
    };
    if (f.text.empty() || planText(w, f.text, TextUse::Count, false) == TextPlan::Hits)
        return {countOf(f, TextPlan::Hits), true};

    // A needle too short for the trigram indexes, or a frequent one: confirming every row of the
    // other filters takes about a second a million rows. Up to exact_limit of them, confirm
    // them all; past that, estimate from the rows of 16 evenly spaced id windows (about
    // exact_limit ids in all): the matches among them, scaled to the other filters' rows.
    RolloutFilter rest = f;
    rest.text.clear();
    const int64_t rows = countOf(rest, TextPlan::Scan);
    if (rows <= exact_limit) return {countOf(f, TextPlan::Scan), true};
    const int64_t lo = w.db.queryInt("SELECT coalesce(min(id), 0) FROM rollouts");
    const int64_t hi = w.db.queryInt("SELECT coalesce(max(id), 0) FROM rollouts");
    constexpr int kWindows = 16;
    const int64_t width = std::max<int64_t>(1, exact_limit / kWindows);
    const double span = double(hi - lo + 1);
    int64_t sampled = 0, hits = 0;
    for (int i = 0; i < kWindows; ++i) {
        const int64_t start = lo + int64_t(span * (i + 0.5) / kWindows) - width / 2;
        const std::pair<int64_t, int64_t> window{start, start + width - 1};
        sampled += countOf(rest, TextPlan::Scan, window);
        hits += countOf(f, TextPlan::Scan, window);
    }
    if (sampled >= 200)
        return {int64_t(std::llround(double(rows) * double(hits) / double(sampled))), false};

    // The other filters keep few rows of the windows (one run of many, a narrow step range): a
    // systematic sample of about exact_limit of their rows, every k-th id.
    const int64_t stride = (rows + exact_limit - 1) / std::max<int64_t>(1, exact_limit);
    // The cheap sampling term first: SQLite evaluates the WHERE terms of a scan in order.
    Binds b;
    FilterSql q = buildFilter(w, f, b, IndexUse::Any, false, TextPlan::Scan);
    SqliteStatement st(w.db, "SELECT count(*) FROM " + q.from + " WHERE r.id % " +
                                 std::to_string(stride) + " = 0 AND " + q.where);
    b.apply(st);
    return {(st.step() ? st.int64(0) : 0) * stride, false};
}

std::optional<RolloutDetail> Workspace::rollout(int64_t id, bool with_group) {
    Impl& w = *m;
    SqliteStatement st(w.db,
                       std::string("SELECT ") + kRowColumns +
                           ", p.prompt, p.reference, pl.tokens, pl.completion, pl.reasoning, "
                           "pl.reasoning_at, pl.reasoning_len, pl.answer, pl.answer_at, "
                           "pl.answer_len, pl.entropies FROM rollouts r JOIN prompts p ON "
                           "p.prompt_key = "
                           "r.prompt_key LEFT JOIN rollout_payload pl ON pl.rollout_id = r.id "
                           "WHERE r.id = ?");
    st.bind(1, id);
    if (!st.step()) return std::nullopt;
    const RolloutRow row = readRow(w, st);
    const int64_t run_key = st.int64(1);
    RolloutDetail d;
    d.id = row.id;
    d.run = row.run;
    RolloutRecord& r = d.record;
    r.step = row.step;
    r.prompt_id = row.prompt_id;
    r.group = row.group;
    r.sample = row.sample;
    r.is_eval = row.is_eval;
    r.total_reward = row.total_reward;
    r.advantage = row.advantage;
    r.prompt_tokens = row.prompt_tokens;
    r.completion_tokens = row.completion_tokens;
    r.finish_reason = row.finish_reason;
    r.format_valid = row.format_valid;
    r.correct = row.correct;
    r.prompt = st.text(14);
    r.reference = st.text(15);
    const std::string what = w.path + ": rollout " + std::to_string(id);
    decodeTokens(st.blobView(16), r.token_ids, r.logprobs, what);
    if (!st.isNull(24)) {
        r.entropies = decodeHalves(st.blobView(24), what + " entropies");
        if (r.entropies.size() != r.token_ids.size())
            throw StoreError(what + ": " + std::to_string(r.entropies.size()) + " entropies for " +
                             std::to_string(r.token_ids.size()) + " tokens");
    }
    const auto vocab = w.vocabulary(run_key);
    if (!st.isNull(17)) {
        r.completion = st.text(17);
    } else if (vocab) {
        if (!detokenize(*vocab, r.token_ids, r.completion))
            throw StoreError(what + ": a token id lies outside the run's vocabulary");
    }
    const auto span = [&](int text_col) {
        if (st.isNull(text_col + 1)) return st.text(text_col);
        const auto at = static_cast<size_t>(st.int64(text_col + 1));
        const auto len = static_cast<size_t>(st.int64(text_col + 2));
        if (at > r.completion.size())
            throw StoreError(what + ": a text span lies outside the completion");
        return r.completion.substr(at, len);
    };
    r.reasoning = span(18);
    r.answer = span(21);
    if (vocab) {
        d.token_texts.reserve(r.token_ids.size());
        for (const int32_t t : r.token_ids)
            d.token_texts.push_back(t >= 0 && static_cast<size_t>(t) < vocab->size()
                                        ? (*vocab)[static_cast<size_t>(t)]
                                        : std::string());
    }
    SqliteStatement comp(w.db,
                         "SELECT component_key, value, details FROM rollout_rewards "
                         "WHERE rollout_id = ? ORDER BY component_key");
    comp.bind(1, id);
    while (comp.step()) {
        ComponentRecord c;
        c.name = w.componentName(comp.int64(0));
        c.value = comp.real(1);
        if (!comp.isNull(2)) {
            c.details = nlohmann::json::parse(comp.text(2), nullptr, /*allow_exceptions=*/false);
            if (c.details.is_discarded())
                throw StoreError(what + ": component '" + c.name + "' has malformed details");
        }
        r.components.push_back(std::move(c));
    }
    if (!with_group) return d;
    SqliteStatement grp(w.db,
                        std::string("SELECT ") + kRowColumns +
                            " FROM rollouts r WHERE r.run_key = ? AND r.step = ? AND r.grp = ? "
                            "AND r.is_eval = ? ORDER BY r.sample, r.id");
    grp.bind(1, run_key)
        .bind(2, row.step)
        .bind(3, row.group)
        .bind(4, static_cast<int64_t>(row.is_eval));
    while (grp.step()) d.group.push_back(readRow(w, grp));
    attachComponents(w, d.group);
    attachSetColumns(w, d.group);
    return d;
}

std::vector<std::string> Workspace::componentNames(const std::vector<std::string>& runs) {
    Impl& w = *m;
    std::vector<std::string> names;
    if (runs.empty()) {
        SqliteStatement st(w.db, "SELECT name FROM components ORDER BY name");
        while (st.step()) names.push_back(st.text(0));
        for (std::string& c : setColumnNames(w, {})) names.push_back(std::move(c));
        return names;
    }
    // A run's components come from its recipe: its first and last steps show them all.
    SqliteStatement st(w.db,
                       "SELECT DISTINCT x.component_key FROM rollout_rewards x WHERE x.rollout_id "
                       "IN (SELECT id FROM rollouts WHERE run_key = ?1 AND step IN ((SELECT "
                       "min(step) FROM rollouts WHERE run_key = ?1), (SELECT max(step) FROM "
                       "rollouts WHERE run_key = ?1)))");
    for (const std::string& run : runs) {
        const auto key = w.findRunKey(run);
        if (!key) continue;
        st.bind(1, *key);
        while (st.step()) names.push_back(w.componentName(st.int64(0)));
        st.reset();
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    std::vector<int64_t> run_keys;
    for (const std::string& run : runs)
        if (auto key = w.findRunKey(run)) run_keys.push_back(*key);
    if (!run_keys.empty())
        for (std::string& c : setColumnNames(w, run_keys)) names.push_back(std::move(c));
    return names;
}

int64_t Workspace::rolloutTotal() {
    return m->db.queryInt("SELECT count(*) FROM rollouts");
}

}  // namespace reflab::store
