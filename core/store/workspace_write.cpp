// Workspace::writeStep and truncateRun: the trainer's hot path. One step is one transaction
// (BEGIN IMMEDIATE ... COMMIT) of prepared, reused inserts, so a crash at any instant leaves
// either the whole step or none of it.
#include <unistd.h>

#include <array>
#include <cmath>
#include <map>

#include "core/store/store_codec.h"
#include "core/store/workspace_impl.h"

namespace reflab::store {

namespace {

std::string where(const std::string& run, int64_t step, size_t rollout) {
    return "run '" + run + "' step " + std::to_string(step) + " rollout " + std::to_string(rollout);
}

void validate(const std::string& path, const std::string& run, const StepRecord& s) {
    for (const auto& [name, value] : s.metrics)
        if (name.empty())
            throw StoreError(path + ": run '" + run + "' step " + std::to_string(s.step) +
                             ": a metric has an empty name");
    for (size_t i = 0; i < s.rollouts.size(); ++i) {
        const RolloutRecord& r = s.rollouts[i];
        const auto bad = [&](const std::string& what) {
            return StoreError(path + ": " + where(run, s.step, i) + ": " + what);
        };
        if (!r.logprobs.empty() && r.logprobs.size() != r.token_ids.size())
            throw bad(std::to_string(r.token_ids.size()) + " token_ids but " +
                      std::to_string(r.logprobs.size()) + " logprobs");
        if (!r.entropies.empty() && r.entropies.size() != r.token_ids.size())
            throw bad(std::to_string(r.token_ids.size()) + " token_ids but " +
                      std::to_string(r.entropies.size()) + " entropies");
        if (std::isnan(r.total_reward)) throw bad("total_reward is NaN");
        if (std::isnan(r.advantage)) throw bad("advantage is NaN");
        for (const ComponentRecord& c : r.components) {
            if (c.name.empty()) throw bad("a reward component has an empty name");
            if (std::isnan(c.value)) throw bad("component '" + c.name + "' is NaN");
        }
    }
}

// Stores `part` as a byte span of `whole` when it is one (NULL text), else as its own text.
void bindSpan(SqliteStatement& st, int text_col, const std::string& whole,
              const std::string& part) {
    const size_t at = part.empty() ? std::string::npos : whole.find(part);
    if (at != std::string::npos) {
        st.bindNull(text_col).bind(text_col + 1, static_cast<int64_t>(at));
        st.bind(text_col + 2, static_cast<int64_t>(part.size()));
    } else {
        if (part.empty())
            st.bindNull(text_col);
        else
            st.bind(text_col, part);
        st.bindNull(text_col + 1).bindNull(text_col + 2);
    }
}

}  // namespace

std::string unindexCompletionsSql(const std::string& ids_sql) {
    return "INSERT INTO completion_text(completion_text, rowid, completion) SELECT 'delete', "
           "r.id, reflab_completion(r.run_key, pl.completion, pl.tokens) FROM rollouts r JOIN "
           "rollout_payload pl ON pl.rollout_id = r.id WHERE r.id IN " +
           ids_sql;
}

void Workspace::writeStep(const std::string& run, const StepRecord& s) {
    Impl& w = *m;
    const int64_t key = w.runKey(run);
    validate(w.path, run, s);
    w.lockRun(key, run);  // only the run's writer adds steps
    const auto vocab = w.vocabulary(key);
    const double t = s.time > 0 ? s.time : nowSeconds();

    if (!w.ins_metric.valid()) {
        w.ins_metric = SqliteStatement(
            w.db, "INSERT INTO metrics(run_key, step, name, value, time) VALUES (?,?,?,?,?)");
        w.ins_rollout = SqliteStatement(
            w.db,
            "INSERT INTO rollouts(run_key, step, prompt_key, grp, sample, is_eval, total_reward, "
            "advantage, prompt_tokens, completion_tokens, finish_reason, format_valid, correct, "
            "group_flat) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
        w.ins_payload = SqliteStatement(
            w.db,
            "INSERT INTO rollout_payload(rollout_id, tokens, completion, reasoning, reasoning_at, "
            "reasoning_len, answer, answer_at, answer_len, entropies) VALUES "
            "(?,?,?,?,?,?,?,?,?,?)");
        w.ins_reward = SqliteStatement(
            w.db,
            "INSERT OR REPLACE INTO rollout_rewards(rollout_id, component_key, value, details) "
            "VALUES (?,?,?,?)");
        w.ins_event = SqliteStatement(
            w.db,
            "INSERT INTO events(run_key, time, text, step, kind, label) VALUES (?,?,?,?,?,?)");
        w.upd_step = SqliteStatement(
            w.db,
            "UPDATE runs SET step = max(step, ?), updated = ?, heartbeat = ? WHERE run_key = ?");
        w.find_prompt = SqliteStatement(
            w.db, "SELECT prompt_key, prompt_id, prompt, reference FROM prompts WHERE hash = ?");
        w.ins_prompt = SqliteStatement(
            w.db, "INSERT INTO prompts(hash, prompt_id, prompt, reference) VALUES (?,?,?,?)");
        w.ins_prompt_text = SqliteStatement(
            w.db, "INSERT INTO prompt_text(rowid, prompt, reference) VALUES (?,?,?)");
        w.ins_completion_text =
            SqliteStatement(w.db, "INSERT INTO completion_text(rowid, completion) VALUES (?,?)");
        w.add_step_totals = SqliteStatement(
            w.db,
            "INSERT INTO step_totals(run_key, step, rollouts, eval_rollouts, completion_tokens) "
            "VALUES (?1,?2,?3,?4,?5) ON CONFLICT(run_key, step) DO UPDATE SET "
            "rollouts = rollouts + ?3, eval_rollouts = eval_rollouts + ?4, "
            "completion_tokens = completion_tokens + ?5");
    }

    const auto promptKey = [&w](const RolloutRecord& r) -> int64_t {
        std::string joined = r.prompt_id;
        joined += '\0';
        joined += r.prompt;
        joined += '\0';
        joined += r.reference;
        const uint64_t h = fnv1a64(joined);
        if (auto it = w.prompt_keys.find(h); it != w.prompt_keys.end()) return it->second;
        w.find_prompt.bind(1, static_cast<int64_t>(h));
        int64_t found = 0;
        while (w.find_prompt.step())
            if (w.find_prompt.text(1) == r.prompt_id && w.find_prompt.text(2) == r.prompt &&
                w.find_prompt.text(3) == r.reference) {
                found = w.find_prompt.int64(0);
                break;
            }
        w.find_prompt.reset();
        if (!found) {
            w.ins_prompt.bind(1, static_cast<int64_t>(h)).bind(2, r.prompt_id).bind(3, r.prompt);
            w.ins_prompt.bind(4, r.reference).run();
            found = w.db.lastInsertRowid();
            w.ins_prompt_text.bind(1, found).bind(2, r.prompt).bind(3, r.reference).run();
        }
        if (w.prompt_keys.size() > 200000) w.prompt_keys.clear();  // bound the cache
        w.prompt_keys[h] = found;
        return found;
    };

    // group_flat: whether every rollout of a group has one total reward (a step holds whole
    // groups). Key: (group, is_eval) -> [min, max].
    std::map<std::pair<int, bool>, std::pair<double, double>> spread;
    for (const RolloutRecord& r : s.rollouts) {
        auto [it, fresh] = spread.try_emplace({r.group, r.is_eval}, r.total_reward, r.total_reward);
        if (!fresh) {
            it->second.first = std::min(it->second.first, r.total_reward);
            it->second.second = std::max(it->second.second, r.total_reward);
        }
    }

    try {
        SqliteTransaction tx(w.db);
        for (const auto& [name, value] : s.metrics) {
            w.ins_metric.bind(1, key).bind(2, s.step).bind(3, name);
            if (std::isnan(value))
                w.ins_metric.bindNull(4);
            else
                w.ins_metric.bind(4, value);
            w.ins_metric.bind(5, t).run();
        }
        std::string decoded, tokens, entropies;
        // step -> (rollouts, eval rollouts, completion tokens): the run's totals, a row a step.
        std::map<int64_t, std::array<int64_t, 3>> totals;
        for (const RolloutRecord& r : s.rollouts) {
            SqliteStatement& ins = w.ins_rollout;
            // A rollout left at step 0 in a later StepRecord takes the record's step.
            const int64_t step = r.step == 0 && s.step != 0 ? s.step : r.step;
            auto& sum = totals[step];
            sum[0] += 1;
            sum[1] += r.is_eval ? 1 : 0;
            sum[2] += r.completion_tokens;
            ins.bind(1, key).bind(2, step);
            ins.bind(3, promptKey(r)).bind(4, r.group).bind(5, r.sample);
            ins.bind(6, static_cast<int64_t>(r.is_eval)).bind(7, r.total_reward);
            ins.bind(8, r.advantage).bind(9, r.prompt_tokens).bind(10, r.completion_tokens);
            ins.bind(11, r.finish_reason).bind(12, static_cast<int64_t>(r.format_valid));
            if (r.correct)
                ins.bind(13, static_cast<int64_t>(*r.correct));
            else
                ins.bindNull(13);
            const auto& [lo, hi] = spread.at({r.group, r.is_eval});
            ins.bind(14, static_cast<int64_t>(lo == hi));
            ins.run();
            const int64_t id = w.db.lastInsertRowid();
            // Indexed as given: reflab_completion gives exactly this text back for a delete.
            w.ins_completion_text.bind(1, id).bind(2, r.completion).run();

            SqliteStatement& pay = w.ins_payload;
            pay.bind(1, id);
            if (r.token_ids.empty()) {
                pay.bindNull(2);
            } else {
                tokens = encodeTokens(r.token_ids, r.logprobs);
                pay.bindBlob(2, tokens.data(), tokens.size());
            }
            // The completion is stored once: as the tokens when the run's vocabulary decodes them
            // to exactly this text, else as text.
            const bool derived = vocab && !r.token_ids.empty() &&
                                 detokenize(*vocab, r.token_ids, decoded) &&
                                 decoded == r.completion;
            if (derived)
                pay.bindNull(3);
            else
                pay.bind(3, r.completion);
            bindSpan(pay, 4, r.completion, r.reasoning);
            bindSpan(pay, 7, r.completion, r.answer);
            if (r.entropies.empty()) {
                pay.bindNull(10);
            } else {
                entropies = encodeHalves(r.entropies);
                pay.bindBlob(10, entropies.data(), entropies.size());
            }
            pay.run();

            for (const ComponentRecord& c : r.components) {
                w.ins_reward.bind(1, id).bind(2, w.componentKey(c.name)).bind(3, c.value);
                if (c.details.is_null() || (c.details.is_object() && c.details.empty()))
                    w.ins_reward.bindNull(4);
                else
                    w.ins_reward.bind(4, c.details.dump());
                w.ins_reward.run();
            }
        }
        for (const auto& [step, sum] : totals) {
            w.add_step_totals.bind(1, key).bind(2, step).bind(3, sum[0]).bind(4, sum[1]);
            w.add_step_totals.bind(5, sum[2]).run();
        }
        for (const std::string& e : s.events) {
            w.ins_event.bind(1, key).bind(2, t).bind(3, e);
            w.ins_event.bindNull(4).bindNull(5).bindNull(6).run();
        }
        for (const StepMark& e : s.marks) {
            w.ins_event.bind(1, key).bind(2, t).bind(3, e.text).bind(4, s.step);
            w.ins_event.bind(5, e.kind).bind(6, e.label).run();
        }
        w.upd_step.bind(1, s.step).bind(2, t).bind(3, nowSeconds()).bind(4, key).run();
        tx.commit();
    } catch (...) {
        // Reset every hot statement (a failure can leave one mid-step) and forget keys that the
        // rollback erased.
        for (SqliteStatement* st : {&w.ins_metric, &w.ins_rollout, &w.ins_payload, &w.ins_reward,
                                    &w.ins_event, &w.upd_step, &w.find_prompt, &w.ins_prompt,
                                    &w.ins_prompt_text, &w.ins_completion_text, &w.add_step_totals})
            if (st->valid()) st->reset();
        w.dropWriteCaches();
        throw;
    }
}

void Workspace::truncateRun(const std::string& run, int64_t after_step) {
    Impl& w = *m;
    const int64_t key = w.runKey(run);
    w.lockRun(key, run);
    SqliteTransaction tx(w.db);
    const std::string k = std::to_string(key), a = std::to_string(after_step);
    const std::string ids =
        "(SELECT id FROM rollouts WHERE run_key = " + k + " AND step > " + a + ")";
    w.db.exec(unindexCompletionsSql(ids));
    // The reward sets' rows of those rollouts go with them (a re-score can fill them again).
    const std::string sets = "(SELECT set_key FROM reward_sets WHERE run_key = " + k + ")";
    w.db.exec("DELETE FROM rollout_set_components WHERE set_key IN " + sets +
              " AND rollout_id IN " + ids + "; DELETE FROM rollout_set_rewards WHERE set_key IN " +
              sets + " AND rollout_id IN " + ids);
    w.db.exec("DELETE FROM rollout_rewards WHERE rollout_id IN " + ids +
              "; DELETE FROM rollout_payload WHERE rollout_id IN " + ids +
              "; DELETE FROM rollouts WHERE run_key = " + k + " AND step > " + a +
              "; DELETE FROM step_totals WHERE run_key = " + k + " AND step > " + a +
              "; DELETE FROM metrics WHERE run_key = " + k + " AND step > " + a +
              "; DELETE FROM checkpoints WHERE run_key = " + k + " AND step > " + a +
              "; DELETE FROM events WHERE run_key = " + k + " AND step > " + a +
              "; UPDATE runs SET step = min(step, " + a + ") WHERE run_key = " + k);
    tx.commit();
}

}  // namespace reflab::store
