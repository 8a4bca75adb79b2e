// Workspace::rolloutScores: one run's rollouts as columns of numbers, read in one pass over the
// (run_key, step) index joined to the reward components; the texts (answer, reference) only for
// rollouts whose correctness was not stored, and only when asked.
#include <cmath>
#include <limits>

#include "core/store/store_codec.h"
#include "core/store/workspace_impl.h"

namespace reflab::store {

namespace {

// The answers and references of the rows of `out` whose correct is -1 (rows in (step, id)
// order, as the query below returns them).
// set_key > 0: only the rollouts of that reward set (the rows of `out`).
void readAnswers(Workspace::Impl& w, int64_t run_key, int64_t after_step, int64_t set_key,
                 RolloutScores& out) {
    out.answers.assign(out.size(), std::string());
    out.references.assign(out.size(), std::string());
    SqliteStatement st(w.db,
                       "SELECT r.id, p.reference, pl.tokens, pl.completion, pl.answer, "
                       "pl.answer_at, pl.answer_len FROM rollouts r JOIN prompts p ON "
                       "p.prompt_key = r.prompt_key LEFT JOIN rollout_payload pl ON "
                       "pl.rollout_id = r.id WHERE r.run_key = ?1 AND r.step > ?2 AND "
                       "r.correct IS NULL AND (?3 = 0 OR EXISTS (SELECT 1 FROM "
                       "rollout_set_rewards x WHERE x.set_key = ?3 AND x.rollout_id = r.id)) "
                       "ORDER BY r.step, r.id");
    st.bind(1, run_key).bind(2, after_step).bind(3, set_key);
    const auto vocab = w.vocabulary(run_key);
    size_t row = 0;
    std::vector<int32_t> ids;
    std::string completion;
    const std::string prefix = w.path + ": rollout ";
    std::string what = prefix;
    while (st.step()) {
        const int64_t id = st.int64(0);
        while (row < out.size() && out.ids[row] != id) ++row;
        if (row == out.size()) break;  // a row written after the first query: not ours
        out.references[row] = st.text(1);
        if (out.references[row].empty()) continue;  // nothing to judge against
        if (st.isNull(5)) {
            out.answers[row] = st.text(4);
            continue;
        }
        // The answer is a span of the completion, itself stored as text or as tokens; of tokens
        // only the ids are read (not the log-probs) and only the span's bytes are copied (not
        // the completion). The error's subject is built in a reused buffer.
        what.resize(prefix.size());
        what += std::to_string(id);
        const auto at = static_cast<size_t>(st.int64(5));
        const auto len = static_cast<size_t>(st.int64(6));
        size_t size = 0;
        if (!st.isNull(3)) {
            completion = st.text(3);
            size = completion.size();
            if (at <= size) out.answers[row] = completion.substr(at, len);
        } else {
            decodeTokenIds(st.blobView(2), ids, what);
            if (!vocab || !detokenizeSpan(*vocab, ids, at, len, out.answers[row], size))
                throw StoreError(what + ": its completion cannot be decoded");
        }
        if (at > size) throw StoreError(what + ": the answer lies outside it");
    }
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
    RolloutScores out;
    // component_key -> column; columns appear in the order first met.
    std::unordered_map<int64_t, size_t> column;
    std::vector<std::pair<size_t, std::pair<size_t, double>>> cells;  // row, column, value
    // A reward set's rows replace the total, the format verdict and the components.
    SqliteStatement st(
        w.db, set_key == 0
                  ? "SELECT r.id, r.step, r.grp, r.is_eval, r.total_reward, r.completion_tokens, "
                    "r.format_valid, r.correct, x.component_key, x.value FROM rollouts r LEFT "
                    "JOIN rollout_rewards x ON x.rollout_id = r.id WHERE r.run_key = ?1 AND "
                    "r.step > ?2 ORDER BY r.step, r.id"
                  : "SELECT r.id, r.step, r.grp, r.is_eval, s.total, r.completion_tokens, "
                    "s.format_valid, r.correct, x.component_key, x.value FROM rollouts r JOIN "
                    "rollout_set_rewards s ON s.set_key = ?3 AND s.rollout_id = r.id LEFT JOIN "
                    "rollout_set_components x ON x.set_key = ?3 AND x.rollout_id = r.id WHERE "
                    "r.run_key = ?1 AND r.step > ?2 ORDER BY r.step, r.id");
    st.bind(1, run_key).bind(2, after_step);
    if (set_key != 0) st.bind(3, set_key);
    int64_t last_id = std::numeric_limits<int64_t>::min();
    while (st.step()) {
        const int64_t id = st.int64(0);
        if (id != last_id) {
            last_id = id;
            out.ids.push_back(id);
            out.steps.push_back(st.int64(1));
            out.groups.push_back(static_cast<int32_t>(st.int64(2)));
            out.is_eval.push_back(st.int64(3) != 0 ? 1 : 0);
            out.total_reward.push_back(st.real(4));
            out.completion_tokens.push_back(static_cast<int32_t>(st.int64(5)));
            out.format_valid.push_back(st.int64(6) != 0 ? 1 : 0);
            out.correct.push_back(st.isNull(7) ? -1 : (st.int64(7) != 0 ? 1 : 0));
        }
        if (st.isNull(8)) continue;
        const int64_t key = st.int64(8);
        auto it = column.find(key);
        if (it == column.end()) {
            it = column.emplace(key, out.components.size()).first;
            out.components.push_back(w.componentName(key));
        }
        cells.push_back({out.ids.size() - 1, {it->second, st.real(9)}});
    }
    const size_t width = out.components.size();
    out.values.assign(out.size() * width, kNaN);
    for (const auto& [row, cell] : cells) out.values[row * width + cell.first] = cell.second;
    if (answers) readAnswers(w, run_key, after_step, set_key, out);
    return out;
}

}  // namespace reflab::store
