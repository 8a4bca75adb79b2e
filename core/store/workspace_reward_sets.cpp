// Workspace reward sets: another recipe's rewards for a run's stored rollouts (`reflab-cli
// rescore`), written beside the originals in schema v3's tables (store_schema.cpp). The writer
// takes whole batches in one transaction each, and the reader hands back only the rollouts a set
// has not scored yet, so a re-score that was killed continues where its last batch committed.
#include <algorithm>
#include <cmath>

#include "core/store/store_codec.h"
#include "core/store/workspace_impl.h"

namespace reflab::store {

namespace {

const char* const kSetColumns =
    "s.set_key, s.name, s.recipe_json, s.created, (SELECT count(*) FROM rollout_set_rewards x "
    "WHERE x.set_key = s.set_key)";

RewardSetInfo readSet(const SqliteStatement& st, const std::string& run) {
    RewardSetInfo info;
    info.id = st.int64(0);
    info.run = run;
    info.name = st.text(1);
    info.recipe_json = st.text(2);
    info.created = st.real(3);
    info.rollouts = st.int64(4);
    return info;
}

// The run_key of a set; throws StoreError naming the set when there is none.
int64_t setRunKey(Workspace::Impl& w, int64_t set) {
    SqliteStatement st(w.db, "SELECT run_key FROM reward_sets WHERE set_key = ?");
    st.bind(1, set);
    if (!st.step()) throw StoreError(w.path + ": no reward set " + std::to_string(set));
    return st.int64(0);
}

// "(k1,k2)" of the sets named `name` of the runs (empty: of every run); "" when none.
std::string setKeyList(Workspace::Impl& w, const std::string& name,
                       const std::vector<int64_t>& run_keys) {
    SqliteStatement st(w.db, "SELECT set_key, run_key FROM reward_sets WHERE name = ?");
    st.bind(1, name);
    std::string list;
    while (st.step()) {
        const int64_t run = st.int64(1);
        if (!run_keys.empty() && std::find(run_keys.begin(), run_keys.end(), run) == run_keys.end())
            continue;
        list += (list.empty() ? "" : ",") + std::to_string(st.int64(0));
    }
    return list.empty() ? "" : "(" + list + ")";
}

std::string inList(const std::vector<int64_t>& keys) {
    std::string list;
    for (const int64_t k : keys) list += (list.empty() ? "" : ",") + std::to_string(k);
    return "(" + list + ")";
}

}  // namespace

std::optional<SetColumn> parseSetColumn(const std::string& name) {
    if (name.rfind("set:", 0) != 0) return std::nullopt;
    // The component after the LAST slash: a set's name may hold one, a component's cannot
    // (recipe component names are identifiers).
    const size_t slash = name.rfind('/');
    if (slash == std::string::npos || slash <= 4 || slash + 1 == name.size()) return std::nullopt;
    return SetColumn{name.substr(4, slash - 4), name.substr(slash + 1)};
}

std::string setColumnSql(Workspace::Impl& w, const SetColumn& c,
                         const std::vector<int64_t>& run_keys) {
    const std::string sets = setKeyList(w, c.set, run_keys);
    if (sets.empty()) return "";
    if (c.component == "total")
        return "(SELECT total FROM rollout_set_rewards WHERE set_key IN " + sets +
               " AND rollout_id = r.id)";
    SqliteStatement st(w.db, "SELECT component_key FROM components WHERE name = ?");
    st.bind(1, c.component);
    if (!st.step()) return "";
    return "(SELECT value FROM rollout_set_components WHERE set_key IN " + sets +
           " AND rollout_id = r.id AND component_key = " + std::to_string(st.int64(0)) + ")";
}

void attachSetColumns(Workspace::Impl& w, std::vector<RolloutRow>& rows) {
    if (rows.empty() || w.db.queryInt("SELECT count(*) FROM reward_sets") == 0) return;
    std::vector<int64_t> ids;
    std::unordered_map<int64_t, size_t> at;
    for (size_t i = 0; i < rows.size(); ++i) {
        ids.push_back(rows[i].id);
        at[rows[i].id] = i;
    }
    // Every set's key with the rollout ids: primary-key seeks, never a scan of a set.
    const std::string where =
        " WHERE x.set_key IN (SELECT set_key FROM reward_sets) AND "
        "x.rollout_id IN " +
        inList(ids);
    SqliteStatement tot(w.db,
                        "SELECT x.rollout_id, s.name, x.total FROM rollout_set_rewards x JOIN "
                        "reward_sets s ON s.set_key = x.set_key" +
                            where + " ORDER BY x.set_key");
    while (tot.step())
        rows[at[tot.int64(0)]].components.emplace_back("set:" + tot.text(1) + "/total",
                                                       tot.real(2));
    SqliteStatement comp(w.db,
                         "SELECT x.rollout_id, s.name, x.component_key, x.value FROM "
                         "rollout_set_components x JOIN reward_sets s ON s.set_key = x.set_key" +
                             where + " ORDER BY x.set_key, x.component_key");
    while (comp.step())
        rows[at[comp.int64(0)]].components.emplace_back(
            "set:" + comp.text(1) + "/" + w.componentName(comp.int64(2)), comp.real(3));
}

std::vector<std::string> setColumnNames(Workspace::Impl& w, const std::vector<int64_t>& run_keys) {
    std::string sql = "SELECT name, recipe_json FROM reward_sets";
    if (!run_keys.empty()) sql += " WHERE run_key IN " + inList(run_keys);
    SqliteStatement st(w.db, sql + " ORDER BY name, set_key");
    std::vector<std::string> out;
    const auto add = [&](const std::string& column) {
        if (std::find(out.begin(), out.end(), column) == out.end()) out.push_back(column);
    };
    while (st.step()) {
        const std::string prefix = "set:" + st.text(0) + "/";
        add(prefix + "total");
        // The components come from the set's recipe: no scan of its rows.
        const auto recipe = nlohmann::json::parse(st.text(1), nullptr, false);
        if (!recipe.is_object() || !recipe.contains("rewards") || !recipe["rewards"].is_array())
            continue;
        for (const auto& c : recipe["rewards"])
            if (c.is_object() && c.contains("name") && c["name"].is_string())
                add(prefix + c["name"].get<std::string>());
    }
    return out;
}

std::optional<std::string> setOfMetric(const std::string& metric) {
    static const std::string kPrefix = "set:", kSuffix = "/reward/total";
    if (metric.size() <= kPrefix.size() + kSuffix.size() || metric.rfind(kPrefix, 0) != 0 ||
        metric.compare(metric.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0)
        return std::nullopt;
    return metric.substr(kPrefix.size(), metric.size() - kPrefix.size() - kSuffix.size());
}

std::vector<std::string> setMetricNames(Workspace::Impl& w, const std::vector<int64_t>& run_keys) {
    std::vector<std::string> out;
    if (run_keys.empty()) return out;
    SqliteStatement st(w.db, "SELECT DISTINCT name FROM reward_sets WHERE run_key IN " +
                                 inList(run_keys) + " ORDER BY name");
    while (st.step()) out.push_back("set:" + st.text(0) + "/reward/total");
    return out;
}

std::vector<MetricPoint> Workspace::setRewardSeries(const std::string& run,
                                                    const std::string& name) {
    Impl& w = *m;
    const auto set = rewardSet(run, name);
    if (!set) return {};
    SqliteStatement st(w.db,
                       "SELECT r.step, avg(x.total) FROM rollout_set_rewards x JOIN rollouts r ON "
                       "r.id = x.rollout_id WHERE x.set_key = ? AND r.is_eval = 0 GROUP BY "
                       "r.step ORDER BY r.step");
    st.bind(1, set->id);
    std::vector<MetricPoint> out;
    const std::string metric = "set:" + name + "/reward/total";
    while (st.step()) out.push_back({0, run, st.int64(0), metric, st.real(1), set->created});
    return out;
}

RewardSetInfo Workspace::openRewardSet(const std::string& run, const std::string& name,
                                       const std::string& recipe_json) {
    Impl& w = *m;
    const int64_t key = w.runKey(run);
    if (name.empty()) throw StoreError(w.path + ": run '" + run + "': a reward set needs a name");
    if (auto found = rewardSet(run, name)) return *found;
    SqliteStatement ins(w.db,
                        "INSERT OR IGNORE INTO reward_sets(run_key, name, recipe_json, created) "
                        "VALUES (?,?,?,?)");
    ins.bind(1, key).bind(2, name).bind(3, recipe_json).bind(4, nowSeconds()).run();
    // OR IGNORE: another process may have created it since the look-up; theirs is the set.
    return *rewardSet(run, name);
}

std::optional<RewardSetInfo> Workspace::rewardSet(const std::string& run, const std::string& name) {
    Impl& w = *m;
    SqliteStatement st(w.db, std::string("SELECT ") + kSetColumns +
                                 " FROM reward_sets s WHERE s.run_key = ? AND s.name = ?");
    st.bind(1, w.runKey(run)).bind(2, name);
    if (!st.step()) return std::nullopt;
    return readSet(st, run);
}

std::vector<RewardSetInfo> Workspace::rewardSets(const std::string& run) {
    Impl& w = *m;
    SqliteStatement st(w.db, std::string("SELECT ") + kSetColumns +
                                 " FROM reward_sets s WHERE s.run_key = ? ORDER BY s.set_key");
    st.bind(1, w.runKey(run));
    std::vector<RewardSetInfo> out;
    while (st.step()) out.push_back(readSet(st, run));
    return out;
}

void Workspace::writeSetRewards(int64_t set, const std::vector<SetRewardRecord>& records) {
    Impl& w = *m;
    const int64_t run_key = setRunKey(w, set);
    for (const SetRewardRecord& r : records) {
        const auto bad = [&](const std::string& what) {
            return StoreError(w.path + ": reward set " + std::to_string(set) + " rollout " +
                              std::to_string(r.rollout_id) + ": " + what);
        };
        if (std::isnan(r.total)) throw bad("total is NaN");
        for (const ComponentRecord& c : r.components) {
            if (c.name.empty()) throw bad("a reward component has an empty name");
            if (std::isnan(c.value)) throw bad("component '" + c.name + "' is NaN");
        }
    }
    // INSERT ... SELECT from the rollout row: a rollout of another run (or none) inserts
    // nothing, which changes() reports. A rollout already in the set fails its primary key.
    SqliteStatement total(w.db,
                          "INSERT INTO rollout_set_rewards(set_key, rollout_id, total, "
                          "format_valid) SELECT ?1, id, ?3, ?4 FROM rollouts WHERE id = ?2 AND "
                          "run_key = ?5");
    SqliteStatement comp(w.db,
                         "INSERT INTO rollout_set_components(set_key, rollout_id, component_key, "
                         "value, details) VALUES (?,?,?,?,?)");
    try {
        SqliteTransaction tx(w.db);
        for (const SetRewardRecord& r : records) {
            total.bind(1, set).bind(2, r.rollout_id).bind(3, r.total);
            total.bind(4, static_cast<int64_t>(r.format_valid)).bind(5, run_key).run();
            if (w.db.changes() != 1)
                throw StoreError(w.path + ": reward set " + std::to_string(set) + ": rollout " +
                                 std::to_string(r.rollout_id) + " is not a rollout of its run");
            for (const ComponentRecord& c : r.components) {
                comp.bind(1, set).bind(2, r.rollout_id).bind(3, w.componentKey(c.name));
                comp.bind(4, c.value);
                if (c.details.is_null() || (c.details.is_object() && c.details.empty()))
                    comp.bindNull(5);
                else
                    comp.bind(5, c.details.dump());
                comp.run();
            }
        }
        tx.commit();
    } catch (...) {
        w.dropWriteCaches();  // component keys made in the rolled-back transaction
        throw;
    }
}

std::vector<int64_t> Workspace::rolloutSteps(const std::string& run, int64_t step_min,
                                             int64_t step_max) {
    Impl& w = *m;
    SqliteStatement st(w.db,
                       "SELECT DISTINCT step FROM rollouts WHERE run_key = ? AND step BETWEEN ? "
                       "AND ? ORDER BY step");
    st.bind(1, w.runKey(run)).bind(2, step_min).bind(3, step_max);
    std::vector<int64_t> out;
    while (st.step()) out.push_back(st.int64(0));
    return out;
}

std::vector<RescoreInput> Workspace::rescoreInputs(int64_t set, int64_t step) {
    Impl& w = *m;
    const int64_t run_key = setRunKey(w, set);
    SqliteStatement st(w.db,
                       "SELECT r.id, r.grp, r.sample, r.is_eval, r.finish_reason, p.prompt, "
                       "p.reference, pl.tokens, pl.completion FROM rollouts r JOIN prompts p ON "
                       "p.prompt_key = r.prompt_key LEFT JOIN rollout_payload pl ON "
                       "pl.rollout_id = r.id WHERE r.run_key = ?1 AND r.step = ?2 AND NOT EXISTS "
                       "(SELECT 1 FROM rollout_set_rewards x WHERE x.set_key = ?3 AND "
                       "x.rollout_id = r.id) ORDER BY r.is_eval, r.grp, r.sample, r.id");
    st.bind(1, run_key).bind(2, step).bind(3, set);
    const auto vocab = w.vocabulary(run_key);
    const auto lengths = w.tokenLengths(run_key);
    std::vector<RescoreInput> out;
    std::vector<int32_t> ids;
    // The error's subject, built in a reused buffer (no allocation per rollout).
    const std::string prefix = w.path + ": rollout ";
    std::string what = prefix;
    while (st.step()) {
        RescoreInput in;
        in.id = st.int64(0);
        in.step = step;
        in.group = static_cast<int>(st.int64(1));
        in.sample = static_cast<int>(st.int64(2));
        in.is_eval = st.int64(3) != 0;
        in.finish_reason = st.text(4);
        in.prompt = st.text(5);
        in.reference = st.text(6);
        if (!st.isNull(8)) {
            in.completion = st.text(8);
        } else if (!st.isNull(7)) {
            // Stored once, as the tokens that the run's vocabulary decodes to the completion.
            what.resize(prefix.size());
            what += std::to_string(in.id);
            // The text is built in place, in one allocation of its exact size.
            if (!vocab ||
                !tokenBlobText(st.blobView(7), *vocab, *lengths, ids, in.completion, what))
                throw StoreError(what + ": its completion cannot be decoded");
        }
        out.push_back(std::move(in));
    }
    return out;
}

std::pair<int64_t, int64_t> Workspace::rescoreProgress(int64_t set, int64_t step_min,
                                                       int64_t step_max) {
    Impl& w = *m;
    const int64_t run_key = setRunKey(w, set);
    SqliteStatement st(w.db,
                       "SELECT count(*), count(x.rollout_id) FROM rollouts r LEFT JOIN "
                       "rollout_set_rewards x ON x.set_key = ?3 AND x.rollout_id = r.id WHERE "
                       "r.run_key = ?1 AND r.step BETWEEN ?2 AND ?4");
    st.bind(1, run_key).bind(2, step_min).bind(3, set).bind(4, step_max);
    st.step();
    return {st.int64(0), st.int64(1)};
}

}  // namespace reflab::store
