// Workspace runs: create, status, best eval, rename, delete, list, recipes.
#include "core/store/workspace.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <random>

#include "core/store/store_codec.h"
#include "core/store/store_schema.h"
#include "core/store/workspace_impl.h"

namespace reflab::store {

std::string runStatusName(RunStatus s) {
    switch (s) {
        case RunStatus::Running:
            return "running";
        case RunStatus::Finished:
            return "finished";
        case RunStatus::Stopped:
            return "stopped";
        case RunStatus::Failed:
            return "failed";
        case RunStatus::Interrupted:
            return "interrupted";
    }
    return "running";
}

RunStatus runStatusFromName(const std::string& name) {
    for (RunStatus s : {RunStatus::Running, RunStatus::Finished, RunStatus::Stopped,
                        RunStatus::Failed, RunStatus::Interrupted})
        if (runStatusName(s) == name) return s;
    throw StoreError("unknown run status '" + name +
                     "' (expected running, finished, stopped, failed or interrupted)");
}

namespace {

// "20261126-061912-3fa9": sortable by creation, short enough to type, unique in practice (the
// UNIQUE constraint catches the rest and createRun draws again).
std::string newRunId() {
    static thread_local std::mt19937_64 rng{std::random_device{}() ^
                                            static_cast<uint64_t>(::getpid()) << 32};
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d%02d%02d-%02d%02d%02d-%04x", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<unsigned>(rng() & 0xffff));
    return buf;
}

std::string hostName() {
    char buf[256] = {0};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "";
    return buf;
}

}  // namespace

const char* const kRunColumns =
    "id, name, kind, recipe_json, model_path, model_hash, code_version, parent_run, parent_step, "
    "step, steps, seed, status, created, updated, best_eval, writer_pid, run_key";

RunInfo readRunRow(const SqliteStatement& st, int c) {
    RunInfo r;
    r.id = st.text(c + 0);
    r.name = st.text(c + 1);
    r.kind = st.text(c + 2);
    r.recipe_json = st.text(c + 3);
    r.model_path = st.text(c + 4);
    r.model_hash = st.text(c + 5);
    r.code_version = st.text(c + 6);
    r.parent_run = st.text(c + 7);
    r.parent_step = st.int64(c + 8);
    r.step = st.int64(c + 9);
    r.steps = st.int64(c + 10);
    r.seed = static_cast<uint64_t>(st.int64(c + 11));
    r.status = runStatusFromName(st.text(c + 12));
    r.created = st.real(c + 13);
    r.updated = st.real(c + 14);
    if (!st.isNull(c + 15)) r.best_eval = st.real(c + 15);
    r.writer_pid = st.int64(c + 16);
    return r;
}

std::string Workspace::createRun(const NewRun& nr) {
    SqliteTransaction tx(m->db);
    int64_t vocab_key = 0;
    if (!nr.vocabulary.empty()) {
        const std::string blob = encodeVocabulary(nr.vocabulary);
        char hash[32];
        std::snprintf(hash, sizeof hash, "%016llx-%zu",
                      static_cast<unsigned long long>(fnv1a64(blob)), blob.size());
        SqliteStatement find(m->db, "SELECT vocab_key FROM vocabularies WHERE hash = ?");
        find.bind(1, hash);
        if (find.step()) {
            vocab_key = find.int64(0);
        } else {
            SqliteStatement ins(m->db,
                                "INSERT INTO vocabularies(hash, size, data) VALUES (?, ?, ?)");
            ins.bind(1, hash).bind(2, static_cast<int64_t>(nr.vocabulary.size()));
            ins.bindBlob(3, blob.data(), blob.size()).run();
            vocab_key = m->db.lastInsertRowid();
        }
    }
    if (!nr.parent_run.empty() && !m->findRunKey(nr.parent_run))
        throw StoreError(m->path + ": parent run '" + nr.parent_run + "' does not exist");
    SqliteStatement ins(m->db,
                        "INSERT OR IGNORE INTO runs(id, name, kind, status, recipe_json, "
                        "model_path, model_hash, seed, code_version, parent_run, parent_step, "
                        "steps, step, created, updated, vocab_key, writer_pid, writer_host, "
                        "heartbeat) VALUES (?,?,?,'running',?,?,?,?,?,?,?,?,-1,?,?,?,?,?,?)");
    std::string id;
    for (int attempt = 0; attempt < 100; ++attempt) {
        id = newRunId();
        const double now = nowSeconds();
        ins.bind(1, id).bind(2, nr.name.empty() ? id : nr.name).bind(3, nr.kind);
        ins.bind(4, nr.recipe_json.empty() ? std::string("{}") : nr.recipe_json);
        ins.bind(5, nr.model_path).bind(6, nr.model_hash).bind(7, static_cast<int64_t>(nr.seed));
        ins.bind(8, nr.code_version).bind(9, nr.parent_run).bind(10, nr.parent_step);
        ins.bind(11, nr.steps).bind(12, now).bind(13, now);
        if (vocab_key)
            ins.bind(14, vocab_key);
        else
            ins.bindNull(14);
        ins.bind(15, static_cast<int64_t>(::getpid())).bind(16, hostName()).bind(17, now);
        ins.run();
        if (m->db.changes() == 1) break;
        id.clear();
    }
    if (id.empty()) throw StoreError(m->path + ": cannot draw a unique run id");
    const int64_t key = m->db.lastInsertRowid();
    // Take the writer lock before the row becomes visible, so no other process can see the run
    // 'running' without a live writer.
    m->lockRun(key, id);
    try {
        tx.commit();
    } catch (...) {
        m->locks.erase(key);
        throw;
    }
    m->run_keys[id] = key;
    m->run_ids[key] = id;
    m->run_vocab[key] = vocab_key;
    return id;
}

void Workspace::setRunStatus(const std::string& run, RunStatus status) {
    const int64_t key = m->runKey(run);
    // Resume: become the writer first. Any other change of a run that another process is
    // writing is refused: stopping a live run is the trainer's job (SIGTERM), else its next
    // step would land in a run already marked stopped.
    if (status == RunStatus::Running || !m->locks.count(key)) m->lockRun(key, run);
    {
        SqliteTransaction tx(m->db);
        SqliteStatement st(m->db,
                           "UPDATE runs SET status = ?, updated = ?, writer_pid = CASE WHEN ? "
                           "THEN ? ELSE writer_pid END, writer_host = CASE WHEN ? THEN ? ELSE "
                           "writer_host END WHERE run_key = ?");
        const bool mine = status == RunStatus::Running;
        st.bind(1, runStatusName(status)).bind(2, nowSeconds());
        st.bind(3, static_cast<int64_t>(mine)).bind(4, static_cast<int64_t>(::getpid()));
        st.bind(5, static_cast<int64_t>(mine)).bind(6, hostName()).bind(7, key).run();
        tx.commit();
    }
    // A final status is committed before the lock goes, so a reader never sees the run
    // 'running' and unlocked (which it would call interrupted).
    if (status != RunStatus::Running) m->locks.erase(key);
}

void Workspace::setBestEval(const std::string& run, double value) {
    const int64_t key = m->runKey(run);
    SqliteStatement st(m->db, "UPDATE runs SET best_eval = ?, updated = ? WHERE run_key = ?");
    st.bind(1, value).bind(2, nowSeconds()).bind(3, key).run();
}

void Workspace::renameRun(const std::string& run, const std::string& name) {
    const int64_t key = m->runKey(run);
    if (name.empty()) throw StoreError(m->path + ": run '" + run + "': the new name is empty");
    SqliteStatement st(m->db, "UPDATE runs SET name = ?, updated = ? WHERE run_key = ?");
    st.bind(1, name).bind(2, nowSeconds()).bind(3, key).run();
}

void Workspace::deleteRun(const std::string& run) {
    const int64_t key = m->runKey(run);
    if (!m->locks.count(key) && RunLock::isHeld(m->path, key))
        throw StoreError(m->path + ": run '" + run + "' is being written; stop it before deleting");
    SqliteTransaction tx(m->db);
    const std::string k = std::to_string(key);
    const std::string in_run = "(SELECT id FROM rollouts WHERE run_key = " + k + ")";
    m->db.exec(unindexCompletionsSql(in_run));
    // Reward sets first: their rows are found through the run's sets, by primary-key range.
    const std::string sets = "(SELECT set_key FROM reward_sets WHERE run_key = " + k + ")";
    m->db.exec("DELETE FROM rollout_set_components WHERE set_key IN " + sets +
               "; DELETE FROM rollout_set_rewards WHERE set_key IN " + sets +
               "; DELETE FROM reward_sets WHERE run_key = " + k);
    m->db.exec("DELETE FROM rollout_rewards WHERE rollout_id IN " + in_run +
               "; DELETE FROM rollout_payload WHERE rollout_id IN " + in_run +
               "; DELETE FROM rollouts WHERE run_key = " + k +
               "; DELETE FROM step_totals WHERE run_key = " + k +
               "; DELETE FROM metrics WHERE run_key = " + k +
               "; DELETE FROM checkpoints WHERE run_key = " + k +
               "; DELETE FROM events WHERE run_key = " + k +
               "; DELETE FROM run_tags WHERE run_key = " + k +
               "; DELETE FROM runs WHERE run_key = " + k);
    tx.commit();
    m->locks.erase(key);
    m->run_keys.erase(run);
    m->run_ids.erase(key);
    m->run_vocab.erase(key);
}

std::vector<RunInfo> Workspace::listRuns() {
    SqliteStatement st(m->db, std::string("SELECT ") + kRunColumns + " FROM runs ORDER BY run_key");
    std::vector<RunInfo> out;
    auto tags = readRunTags(*m);
    while (st.step()) {
        RunInfo r = readRunRow(st);
        const int64_t key = st.int64(17);
        if (auto it = tags.find(key); it != tags.end()) r.tags = std::move(it->second);
        // A reader (or a read-only connection) reports a dead writer's run as interrupted at
        // once, before any writable open records it.
        if (r.status == RunStatus::Running && !m->locks.count(key) &&
            !RunLock::isHeld(m->path, key))
            r.status = RunStatus::Interrupted;
        out.push_back(std::move(r));
    }
    return out;
}

std::optional<RunInfo> Workspace::run(const std::string& id) {
    SqliteStatement st(m->db, std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = ?");
    st.bind(1, id);
    if (!st.step()) return std::nullopt;
    RunInfo r = readRunRow(st);
    const int64_t key = st.int64(17);
    if (auto tags = readRunTags(*m, key); !tags.empty()) r.tags = std::move(tags.begin()->second);
    if (r.status == RunStatus::Running && !m->locks.count(key) && !RunLock::isHeld(m->path, key))
        r.status = RunStatus::Interrupted;
    return r;
}

std::vector<std::pair<std::string, nlohmann::json>> Workspace::recipes(
    const std::vector<std::string>& runs) {
    std::vector<std::pair<std::string, nlohmann::json>> out;
    SqliteStatement st(m->db, "SELECT recipe_json FROM runs WHERE id = ?");
    for (const std::string& run : runs) {
        st.bind(1, run);
        if (!st.step()) {
            st.reset();
            m->unknownRun(run);
        }
        const std::string text = st.text(0);
        st.reset();
        nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
        if (j.is_discarded())
            throw StoreError(m->path + ": run '" + run + "' holds a recipe that is not valid JSON");
        out.emplace_back(run, std::move(j));
    }
    return out;
}

}  // namespace reflab::store
