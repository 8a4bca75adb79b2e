// Workspace::rolloutScores: one run's rollouts as columns of numbers. Read in separate ordered
// scans, each selecting only what it needs, rather than one join that repeats every rollout
// column per reward component:
//  1. the rollouts by the (run_key, step) index, in (step, id) order, with their prompt keys;
//  2. the reward components over the rollouts' id range (the primary key's order), merged with
//     the rows by id; a join through the index instead when the run's ids are sparse in that
//     range (runs written side by side), so another run's rows are not read in bulk;
//  3. with answers, for the rollouts whose correctness was not stored: the references, one
//     look-up per distinct prompt, and the answers from the payload, scanned like (2); of a
//     tokens blob only the answer's span is decoded.
// The scans run in one read transaction, so they see one state of the file. A large read is
// split in two step ranges read by two threads, each with a read-only connection of its own
// (WAL lets readers run side by side); the parts are joined in step order.
#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <memory>
#include <optional>
#include <thread>
#include <unordered_map>

#include "core/store/store_codec.h"
#include "core/store/workspace_impl.h"

namespace reflab::store {

namespace {

// A run's rollouts are read by two threads when the steps to read number at least this many
// (a live run's update reads one or a few steps: one connection, no thread).
constexpr int64_t kSplitSteps = 64;

// PRAGMA mmap_size for the life of this object on a connection outside any transaction (SQLite
// maps at most its compiled maximum; the rest of a larger file is read as usual).
class MappedReads {
public:
    explicit MappedReads(SqliteDb& db) : m_db(db) { m_db.exec("PRAGMA mmap_size = 4294967296"); }
    ~MappedReads() {
        try {
            m_db.exec("PRAGMA mmap_size = 0");
        } catch (...) {  // a destructor must not throw; the mapping then stays until close
        }
    }
    MappedReads(const MappedReads&) = delete;
    MappedReads& operator=(const MappedReads&) = delete;

private:
    SqliteDb& m_db;
};

// A run's vocabulary with its tokens' byte lengths (tokenBlobSpan's), shared by the readers.
struct Vocabulary {
    std::shared_ptr<const std::vector<std::string>> tokens;  // null: the run stored none
    std::shared_ptr<const std::vector<uint32_t>> lengths;
};

// One step range's rollouts, read on one connection. Components are named by key here (the
// names are resolved on the Workspace's own connection afterwards).
struct ScoresPart {
    RolloutScores out;
    std::vector<int64_t> component_keys;  // key of each column of out.values
};

class ScoresReader {
public:
    ScoresReader(SqliteDb& db, const std::string& path, const Vocabulary& vocab, int64_t run_key,
                 int64_t set_key)
        : m_db(db), m_path(path), m_vocab(vocab), m_run(run_key), m_set(set_key) {}

    // Steps (after_step, last_step]; map: a bulk read (MappedReads).
    ScoresPart read(int64_t after_step, int64_t last_step, bool answers, bool map) {
        m_after = after_step;
        m_last = last_step < 0 ? std::numeric_limits<int64_t>::max() : last_step;
        const bool own = !m_db.inTransaction();
        // A bulk read maps the file instead of copying each page out of the OS cache (a fifth
        // of a million rollouts' read time); set before the transaction, undone after it.
        std::optional<MappedReads> mapping;
        if (own && map) mapping.emplace(m_db);
        std::optional<SqliteTransaction> txn;
        if (own) txn.emplace(m_db, /*immediate=*/false);
        ScoresPart part;
        readRollouts(part.out);
        if (part.out.size() > 0) {
            sortById(part.out.ids);
            readComponents(part);
            if (answers) readAnswers(part.out);
        }
        if (txn) txn->commit();
        return part;
    }

private:
    // The row of each id in ascending id order (identity when the (step, id) order is already
    // id order, as for a run written alone).
    void sortById(const std::vector<int64_t>& ids) {
        m_by_id.clear();
        if (std::is_sorted(ids.begin(), ids.end())) return;
        m_by_id.resize(ids.size());
        for (size_t i = 0; i < ids.size(); ++i) m_by_id[i] = i;
        std::sort(m_by_id.begin(), m_by_id.end(),
                  [&ids](size_t a, size_t b) { return ids[a] < ids[b]; });
    }
    size_t rowById(size_t k) const { return m_by_id.empty() ? k : m_by_id[k]; }

    // Whether the rows `rows` (row indices of `out`, ascending by id) fill their id range densely
    // enough that scanning the range costs less than seeking each: the range holds at most about
    // as many other ids as ours.
    static bool dense(const std::vector<int64_t>& ids, const std::vector<size_t>& rows) {
        if (rows.empty()) return true;
        const auto span = static_cast<uint64_t>(ids[rows.back()] - ids[rows.front()]) + 1;
        return span <= 2 * rows.size() + 4096;
    }

    void readRollouts(RolloutScores& out) {
        SqliteStatement st(
            m_db,
            m_set == 0
                ? "SELECT r.id, r.step, r.grp, r.is_eval, r.total_reward, r.completion_tokens, "
                  "r.format_valid, r.correct, r.prompt_key FROM rollouts r WHERE r.run_key = ?1 "
                  "AND r.step > ?2 AND r.step <= ?3 ORDER BY r.step, r.id"
                // A reward set's rows replace the total, the format verdict and the components.
                : "SELECT r.id, r.step, r.grp, r.is_eval, s.total, r.completion_tokens, "
                  "s.format_valid, r.correct, r.prompt_key FROM rollouts r JOIN "
                  "rollout_set_rewards s ON s.set_key = ?4 AND s.rollout_id = r.id WHERE "
                  "r.run_key = ?1 AND r.step > ?2 AND r.step <= ?3 ORDER BY r.step, r.id");
        st.bind(1, m_run).bind(2, m_after).bind(3, m_last);
        if (m_set != 0) st.bind(4, m_set);
        m_prompts.clear();
        while (st.step()) {
            out.ids.push_back(st.int64(0));
            out.steps.push_back(st.int64(1));
            out.groups.push_back(static_cast<int32_t>(st.int64(2)));
            out.is_eval.push_back(st.int64(3) != 0 ? 1 : 0);
            out.total_reward.push_back(st.real(4));
            out.completion_tokens.push_back(static_cast<int32_t>(st.int64(5)));
            out.format_valid.push_back(st.int64(6) != 0 ? 1 : 0);
            out.correct.push_back(st.isNull(7) ? -1 : (st.int64(7) != 0 ? 1 : 0));
            m_prompts.push_back(st.int64(8));
        }
    }

    // (rollout id, component key, value) rows, merged into the rows of out by id: either over
    // the id range (rows in id order, other runs' skipped) or joined through the step index
    // (rows in the rollouts' order).
    void readComponents(ScoresPart& part) {
        RolloutScores& out = part.out;
        const size_t n = out.size();
        std::vector<size_t> all(n);
        for (size_t k = 0; k < n; ++k) all[k] = rowById(k);
        const bool range = dense(out.ids, all);
        const char* table = m_set == 0 ? "rollout_rewards" : "rollout_set_components";
        const std::string set = m_set == 0 ? "" : "x.set_key = ?4 AND ";
        SqliteStatement st(
            m_db, range
                      ? "SELECT x.rollout_id, x.component_key, x.value FROM " + std::string(table) +
                            " x WHERE " + set + "x.rollout_id BETWEEN ?1 AND ?2"
                      : "SELECT x.rollout_id, x.component_key, x.value FROM rollouts r JOIN " +
                            std::string(table) + " x ON " + set +
                            "x.rollout_id = r.id WHERE r.run_key = ?1 AND r.step > ?2 AND "
                            "r.step <= ?3 ORDER BY r.step, r.id");
        if (range)
            st.bind(1, out.ids[all.front()]).bind(2, out.ids[all.back()]);
        else
            st.bind(1, m_run).bind(2, m_after).bind(3, m_last);
        if (m_set != 0) st.bind(4, m_set);
        std::unordered_map<int64_t, size_t> column;                       // component key -> column
        std::vector<std::pair<size_t, std::pair<size_t, double>>> cells;  // row, column, value
        cells.reserve(2 * n);
        size_t k = 0;
        while (st.step()) {
            const int64_t id = st.int64(0);
            size_t row;
            if (range) {
                while (k < n && out.ids[all[k]] < id) ++k;
                if (k == n) break;
                if (out.ids[all[k]] != id) continue;  // another run's rollout
                row = all[k];
            } else {
                while (k < n && out.ids[k] != id) ++k;
                if (k == n) break;
                row = k;
            }
            const int64_t key = st.int64(1);
            auto it = column.find(key);
            if (it == column.end()) {
                it = column.emplace(key, part.component_keys.size()).first;
                part.component_keys.push_back(key);
            }
            cells.push_back({row, {it->second, st.real(2)}});
        }
        // Columns in the order the rows first have them (a row's own by key), whichever order
        // the cells came in: the order of one join over the rollouts in (step, id) order.
        const size_t width = part.component_keys.size();
        std::vector<size_t> first(width, n), order(width), rank(width);
        for (const auto& [row, cell] : cells) first[cell.first] = std::min(first[cell.first], row);
        for (size_t c = 0; c < width; ++c) order[c] = c;
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
            return std::pair(first[a], part.component_keys[a]) <
                   std::pair(first[b], part.component_keys[b]);
        });
        std::vector<int64_t> keys(width);
        for (size_t c = 0; c < width; ++c) {
            rank[order[c]] = c;
            keys[c] = part.component_keys[order[c]];
        }
        part.component_keys.swap(keys);
        out.values.assign(n * width, kNaN);
        for (const auto& [row, cell] : cells)
            out.values[row * width + rank[cell.first]] = cell.second;
    }

    // The reference of each row whose correct is -1, then the answers of those with one.
    void readAnswers(RolloutScores& out) {
        const size_t n = out.size();
        out.answers.assign(n, std::string());
        out.references.assign(n, std::string());
        SqliteStatement ref(m_db, "SELECT reference FROM prompts WHERE prompt_key = ?1");
        std::unordered_map<int64_t, std::string> references;  // prompt_key -> reference
        std::vector<size_t> rows;                             // to judge, ascending by id
        for (size_t k = 0; k < n; ++k) {
            const size_t row = rowById(k);
            if (out.correct[row] >= 0) continue;
            auto it = references.find(m_prompts[row]);
            if (it == references.end()) {
                ref.bind(1, m_prompts[row]);
                it = references.emplace(m_prompts[row], ref.step() ? ref.text(0) : "").first;
                ref.reset();
            }
            out.references[row] = it->second;
            if (!it->second.empty()) rows.push_back(row);  // else nothing to judge against
        }
        if (rows.empty()) return;
        const bool range = dense(out.ids, rows);
        SqliteStatement st(
            m_db, range ? "SELECT pl.rollout_id, pl.tokens, pl.completion, pl.answer, "
                          "pl.answer_at, pl.answer_len FROM rollout_payload pl WHERE "
                          "pl.rollout_id BETWEEN ?1 AND ?2"
                        : "SELECT r.id, pl.tokens, pl.completion, pl.answer, pl.answer_at, "
                          "pl.answer_len FROM rollouts r JOIN rollout_payload pl ON "
                          "pl.rollout_id = r.id WHERE r.run_key = ?1 AND r.step > ?2 AND "
                          "r.step <= ?3 AND r.correct IS NULL ORDER BY r.step, r.id");
        if (range)
            st.bind(1, out.ids[rows.front()]).bind(2, out.ids[rows.back()]);
        else
            st.bind(1, m_run).bind(2, m_after).bind(3, m_last);
        const std::string prefix = m_path + ": rollout ";
        std::string what = prefix;
        size_t k = 0;
        while (st.step()) {
            const int64_t id = st.int64(0);
            size_t row;
            if (range) {
                while (k < rows.size() && out.ids[rows[k]] < id) ++k;
                if (k == rows.size()) break;
                if (out.ids[rows[k]] != id) continue;  // not one to judge
                row = rows[k];
            } else {
                while (k < n && out.ids[k] != id) ++k;
                if (k == n) break;
                row = k;
                if (out.references[row].empty()) continue;
            }
            if (st.isNull(4)) {
                out.answers[row] = st.text(3);
                continue;
            }
            // The answer is a span of the completion, itself stored as text or as tokens; of
            // tokens only the span's bytes are produced (no id vector, no log-prob). The error's
            // subject is built in a reused buffer.
            what.resize(prefix.size());
            what += std::to_string(id);
            const auto at = static_cast<size_t>(st.int64(4));
            const auto len = static_cast<size_t>(st.int64(5));
            size_t size = 0;
            if (!st.isNull(2)) {
                const std::string_view completion = st.blobView(2);
                size = completion.size();
                if (at <= size) out.answers[row].assign(completion.substr(at, len));
            } else if (!m_vocab.tokens ||
                       !tokenBlobSpan(st.blobView(1), *m_vocab.tokens, *m_vocab.lengths, at, len,
                                      out.answers[row], size, what)) {
                throw StoreError(what + ": its completion cannot be decoded");
            }
            if (at > size) throw StoreError(what + ": the answer lies outside it");
        }
    }

    SqliteDb& m_db;
    const std::string& m_path;
    const Vocabulary& m_vocab;
    int64_t m_run, m_set, m_after = -1, m_last = -1;
    std::vector<int64_t> m_prompts;  // prompt key of each row
    std::vector<size_t> m_by_id;     // rows in id order (empty: identity)
};

// b appended to a (a's steps all before b's); components by key, in the order first met.
void appendPart(ScoresPart& a, ScoresPart&& b) {
    RolloutScores& x = a.out;
    RolloutScores& y = b.out;
    if (x.size() == 0 && a.component_keys.empty()) {
        a = std::move(b);
        return;
    }
    std::vector<size_t> column;  // b's column -> a's
    for (const int64_t key : b.component_keys) {
        const auto it = std::find(a.component_keys.begin(), a.component_keys.end(), key);
        column.push_back(static_cast<size_t>(it - a.component_keys.begin()));
        if (it == a.component_keys.end()) a.component_keys.push_back(key);
    }
    const size_t old_width = x.size() == 0 ? 0 : x.values.size() / x.size();
    const size_t width = a.component_keys.size();
    const size_t rows = x.size() + y.size();
    if (width != old_width) {  // widen a's rows
        std::vector<double> v(x.size() * width, kNaN);
        for (size_t r = 0; r < x.size(); ++r)
            std::copy_n(x.values.begin() + static_cast<std::ptrdiff_t>(r * old_width), old_width,
                        v.begin() + static_cast<std::ptrdiff_t>(r * width));
        x.values.swap(v);
    }
    x.values.resize(rows * width, kNaN);
    const size_t bw = b.component_keys.size();
    for (size_t r = 0; r < y.size(); ++r)
        for (size_t c = 0; c < bw; ++c)
            x.values[(x.size() + r) * width + column[c]] = y.values[r * bw + c];
    const auto cat = [](auto& to, auto& from) {
        to.insert(to.end(), std::make_move_iterator(from.begin()),
                  std::make_move_iterator(from.end()));
    };
    cat(x.ids, y.ids);
    cat(x.steps, y.steps);
    cat(x.groups, y.groups);
    cat(x.completion_tokens, y.completion_tokens);
    cat(x.is_eval, y.is_eval);
    cat(x.format_valid, y.format_valid);
    cat(x.correct, y.correct);
    cat(x.total_reward, y.total_reward);
    cat(x.answers, y.answers);
    cat(x.references, y.references);
}

}  // namespace

RolloutScores Workspace::rolloutScores(const std::string& run, int64_t after_step, bool answers,
                                       const std::string& reward_set) {
    Impl& w = *m;
    const int64_t run_key = w.runKey(run);
    int64_t set_key = 0;
    if (!reward_set.empty()) {
        const auto set = rewardSet(run, reward_set);
        if (!set)
            throw StoreError(w.path + ": run '" + run + "' has no reward set '" + reward_set + "'");
        set_key = set->id;
    }
    Vocabulary vocab;
    if (answers) {
        vocab.tokens = w.vocabulary(run_key);
        vocab.lengths = w.tokenLengths(run_key);
    }
    // The steps to read (two index seeks): a long range is split in two, the later half read by
    // a thread on a connection of its own. Its upper bound is fixed here, so a step committed
    // meanwhile is read by neither part (the next call reads it).
    int64_t first = 0, last = -1;
    {
        SqliteStatement st(w.db,
                           "SELECT min(step), max(step) FROM rollouts WHERE run_key = ?1 AND "
                           "step > ?2");
        st.bind(1, run_key).bind(2, after_step);
        if (st.step() && !st.isNull(0)) {
            first = st.int64(0);
            last = st.int64(1);
        }
    }
    ScoresPart part;
    if (last < 0) {
        // no rollouts after after_step
    } else if (last - first + 1 < kSplitSteps) {
        part = ScoresReader(w.db, w.path, vocab, run_key, set_key)
                   .read(after_step, last, answers, /*map=*/false);
    } else {
        const int64_t mid = first + (last - first) / 2;
        ScoresPart later;
        std::exception_ptr error;
        std::thread reader([&] {
            try {
                SqliteDb db(w.path, /*read_only=*/true, /*create=*/false, w.immutable);
                later = ScoresReader(db, w.path, vocab, run_key, set_key)
                            .read(mid, last, answers, true);
            } catch (...) {
                error = std::current_exception();
            }
        });
        try {
            part = ScoresReader(w.db, w.path, vocab, run_key, set_key)
                       .read(after_step, mid, answers, true);
        } catch (...) {
            reader.join();
            throw;
        }
        reader.join();
        if (error) std::rethrow_exception(error);
        appendPart(part, std::move(later));
    }
    for (const int64_t key : part.component_keys)
        part.out.components.push_back(w.componentName(key));
    return std::move(part.out);
}

}  // namespace reflab::store
