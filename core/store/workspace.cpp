// Workspace: opening, runs, checkpoints, events and crash recovery. Steps are written in
// workspace_write.cpp, metrics read in workspace_metrics.cpp, rollouts in workspace_rollouts.cpp.
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

double nowSeconds() {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

std::string runStatusName(RunStatus s) {
    switch (s) {
        case RunStatus::Running: return "running";
        case RunStatus::Finished: return "finished";
        case RunStatus::Stopped: return "stopped";
        case RunStatus::Failed: return "failed";
        case RunStatus::Interrupted: return "interrupted";
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

std::string directoryOf(const std::string& path) {
    const size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

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

// ---- Impl helpers ---------------------------------------------------------------------------

void Workspace::Impl::unknownRun(const std::string& run) const {
    throw StoreError(path + ": no run '" + run + "' in this workspace");
}

std::optional<int64_t> Workspace::Impl::findRunKey(const std::string& run) {
    if (auto it = run_keys.find(run); it != run_keys.end()) return it->second;
    SqliteStatement st(db, "SELECT run_key FROM runs WHERE id = ?");
    st.bind(1, run);
    if (!st.step()) return std::nullopt;
    const int64_t key = st.int64(0);
    run_keys[run] = key;
    run_ids[key] = run;
    return key;
}

int64_t Workspace::Impl::runKey(const std::string& run) {
    if (auto key = findRunKey(run)) return *key;
    unknownRun(run);
}

std::string Workspace::Impl::runId(int64_t run_key) {
    if (auto it = run_ids.find(run_key); it != run_ids.end()) return it->second;
    SqliteStatement st(db, "SELECT id FROM runs WHERE run_key = ?");
    st.bind(1, run_key);
    std::string id = st.step() ? st.text(0) : std::string();
    if (!id.empty()) {
        run_ids[run_key] = id;
        run_keys[id] = run_key;
    }
    return id;
}

std::string Workspace::Impl::componentName(int64_t key) {
    if (auto it = component_names.find(key); it != component_names.end()) return it->second;
    SqliteStatement st(db, "SELECT name FROM components WHERE component_key = ?");
    st.bind(1, key);
    std::string name = st.step() ? st.text(0) : std::string();
    component_names[key] = name;
    component_keys[name] = key;
    return name;
}

int64_t Workspace::Impl::componentKey(const std::string& name) {
    if (auto it = component_keys.find(name); it != component_keys.end()) return it->second;
    SqliteStatement find(db, "SELECT component_key FROM components WHERE name = ?");
    find.bind(1, name);
    int64_t key = 0;
    if (find.step()) {
        key = find.int64(0);
    } else {
        if (!ins_component.valid())
            ins_component = SqliteStatement(db, "INSERT INTO components(name) VALUES (?)");
        ins_component.bind(1, name).run();
        key = db.lastInsertRowid();
    }
    component_keys[name] = key;
    component_names[key] = name;
    return key;
}

std::shared_ptr<const std::vector<std::string>> Workspace::Impl::vocabulary(int64_t run_key) {
    int64_t vocab_key = 0;
    if (auto it = run_vocab.find(run_key); it != run_vocab.end()) {
        vocab_key = it->second;
    } else {
        SqliteStatement st(db, "SELECT coalesce(vocab_key, 0) FROM runs WHERE run_key = ?");
        st.bind(1, run_key);
        vocab_key = st.step() ? st.int64(0) : 0;
        run_vocab[run_key] = vocab_key;
    }
    if (vocab_key == 0) return nullptr;
    if (auto it = vocabularies.find(vocab_key); it != vocabularies.end()) return it->second;
    SqliteStatement st(db, "SELECT data FROM vocabularies WHERE vocab_key = ?");
    st.bind(1, vocab_key);
    if (!st.step()) return nullptr;
    auto vocab = std::make_shared<const std::vector<std::string>>(
        decodeVocabulary(st.blobView(0), path + ": vocabulary " + std::to_string(vocab_key)));
    vocabularies[vocab_key] = vocab;
    return vocab;
}

void Workspace::Impl::lockRun(int64_t run_key, const std::string& run) {
    if (locks.count(run_key)) return;
    RunLock lock;
    if (!lock.acquire(path, run_key)) {
        SqliteStatement st(db, "SELECT writer_pid, writer_host FROM runs WHERE run_key = ?");
        st.bind(1, run_key);
        std::string who = st.step() ? "process " + std::to_string(st.int64(0)) + " on '" +
                                          st.text(1) + "'"
                                    : "another process";
        throw StoreError(path + ": run '" + run + "' is being written by " + who);
    }
    locks.emplace(run_key, std::move(lock));
}

void Workspace::Impl::recoverInterrupted() {
    const auto orphans = [this] {
        std::vector<int64_t> keys;
        SqliteStatement st(db, "SELECT run_key FROM runs WHERE status = 'running'");
        while (st.step())
            if (!locks.count(st.int64(0)) && !RunLock::isHeld(path, st.int64(0)))
                keys.push_back(st.int64(0));
        return keys;
    };
    if (orphans().empty()) return;
    // Decide again inside the write lock: a writer that finished or resumed meanwhile has
    // committed its status before releasing (or after taking) its lock.
    SqliteTransaction tx(db);
    SqliteStatement upd(db,
                        "UPDATE runs SET status = 'interrupted', updated = ? "
                        "WHERE run_key = ? AND status = 'running'");
    for (const int64_t key : orphans()) upd.bind(1, nowSeconds()).bind(2, key).run();
    tx.commit();
}

void Workspace::Impl::dropWriteCaches() {
    component_keys.clear();
    component_names.clear();
    prompt_keys.clear();
}

// ---- Workspace ------------------------------------------------------------------------------

Workspace::Workspace(std::unique_ptr<Impl> impl) : m(std::move(impl)) {}
Workspace::~Workspace() = default;
Workspace::Workspace(Workspace&&) noexcept = default;
Workspace& Workspace::operator=(Workspace&&) noexcept = default;

Workspace Workspace::open(const std::string& path, bool read_only) {
    if (path.empty()) throw StoreError("workspace path is empty");
    struct stat st {};
    const bool exists = ::stat(path.c_str(), &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) throw StoreError(path + ": is a directory, not a workspace file");
    if (!exists) {
        const std::string dir = directoryOf(path);
        struct stat dst {};
        if (::stat(dir.c_str(), &dst) != 0 || !S_ISDIR(dst.st_mode))
            throw StoreError(path + ": cannot create the workspace: directory '" + dir +
                             "' does not exist");
        if (read_only) throw StoreError(path + ": no such workspace file");
        if (::access(dir.c_str(), W_OK) != 0)
            throw StoreError(path + ": cannot create the workspace: directory '" + dir +
                             "' is read-only");
    } else if (!read_only && ::access(path.c_str(), W_OK) != 0) {
        throw StoreError(path + ": the workspace file is read-only (open it read-only to view it)");
    }
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    impl->read_only = read_only;
    // A reader on read-only media (a mailed workspace on a CD, a read-only mount) cannot create
    // the WAL index beside the file: nobody can write there either, so read it as immutable.
    const bool immutable = read_only && ::access(directoryOf(path).c_str(), W_OK) != 0 &&
                           ::access((path + "-shm").c_str(), F_OK) != 0;
    impl->db = SqliteDb(path, read_only, /*create=*/true, immutable);
    try {
        impl->version = prepareSchema(impl->db, !read_only);
        registerStoreFunctions(*impl);
        if (!read_only) impl->recoverInterrupted();
    } catch (const StoreError& e) {
        const std::string what = e.what();
        // SQLite reports a read-only directory (no room for the -wal file) as a generic I/O or
        // open failure on the first write: say what the user can act on.
        if (!read_only && exists && ::access(directoryOf(path).c_str(), W_OK) != 0)
            throw StoreError(path + ": directory '" + directoryOf(path) +
                             "' is read-only, so the workspace cannot be written (" + what + ")");
        throw;
    }
    return Workspace(std::move(impl));
}

const std::string& Workspace::path() const { return m->path; }
int Workspace::schemaVersion() const { return m->version; }

void Workspace::setSizeLimit(int64_t bytes) {
    const int64_t page = m->db.queryInt("PRAGMA page_size");
    m->db.queryInt("PRAGMA max_page_count = " + std::to_string(std::max<int64_t>(1, bytes / page)));
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
            SqliteStatement ins(m->db, "INSERT INTO vocabularies(hash, size, data) VALUES (?, ?, ?)");
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
        if (vocab_key) ins.bind(14, vocab_key); else ins.bindNull(14);
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

void Workspace::addCheckpoint(const std::string& run, int64_t step, const std::string& dir) {
    const int64_t key = m->runKey(run);
    SqliteStatement st(m->db, "INSERT INTO checkpoints(run_key, step, dir, time) VALUES (?,?,?,?)");
    st.bind(1, key).bind(2, step).bind(3, dir).bind(4, nowSeconds()).run();
}

void Workspace::removeCheckpoint(const std::string& run, int64_t step) {
    const int64_t key = m->runKey(run);
    SqliteStatement st(m->db, "DELETE FROM checkpoints WHERE run_key = ? AND step = ?");
    st.bind(1, key).bind(2, step).run();
}

std::optional<std::pair<int64_t, std::string>> Workspace::lastCheckpoint(const std::string& run) {
    const int64_t key = m->runKey(run);
    SqliteStatement st(m->db,
                       "SELECT step, dir FROM checkpoints WHERE run_key = ? "
                       "ORDER BY step DESC, id DESC LIMIT 1");
    st.bind(1, key);
    if (!st.step()) return std::nullopt;
    return std::make_pair(st.int64(0), st.text(1));
}

std::vector<Checkpoint> Workspace::checkpoints(const std::string& run) {
    const int64_t key = m->runKey(run);
    SqliteStatement st(m->db,
                       "SELECT step, dir, time FROM checkpoints WHERE run_key = ? ORDER BY step, id");
    st.bind(1, key);
    std::vector<Checkpoint> out;
    while (st.step()) out.push_back({st.int64(0), st.text(1), st.real(2)});
    return out;
}

void Workspace::addEvent(const std::string& run, const std::string& text) {
    const int64_t key = m->runKey(run);
    SqliteStatement st(m->db, "INSERT INTO events(run_key, time, text) VALUES (?,?,?)");
    st.bind(1, key).bind(2, nowSeconds()).bind(3, text).run();
}

std::vector<RunEvent> Workspace::events(const std::string& run, int64_t after_id) {
    const int64_t key = m->runKey(run);
    SqliteStatement st(m->db,
                       "SELECT id, time, text FROM events WHERE run_key = ? AND id > ? ORDER BY id");
    st.bind(1, key).bind(2, after_id);
    std::vector<RunEvent> out;
    while (st.step()) out.push_back({st.int64(0), st.real(1), st.text(2)});
    return out;
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
    m->db.exec("DELETE FROM rollout_rewards WHERE rollout_id IN " + in_run +
               "; DELETE FROM rollout_payload WHERE rollout_id IN " + in_run +
               "; DELETE FROM rollouts WHERE run_key = " + k +
               "; DELETE FROM metrics WHERE run_key = " + k +
               "; DELETE FROM checkpoints WHERE run_key = " + k +
               "; DELETE FROM events WHERE run_key = " + k +
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
    while (st.step()) {
        RunInfo r = readRunRow(st);
        const int64_t key = st.int64(17);
        // A reader (or a read-only connection) reports a dead writer's run as interrupted at
        // once, before any writable open records it.
        if (r.status == RunStatus::Running && !m->locks.count(key) && !RunLock::isHeld(m->path, key))
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
