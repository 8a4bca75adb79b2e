// Workspace: opening (schema, migrations, crash recovery) and the keys and caches every other
// workspace_*.cpp shares. Runs live in workspace_runs.cpp, checkpoints and events in
// workspace_history.cpp, steps are written in workspace_write.cpp, metrics read in
// workspace_metrics.cpp, rollouts in workspace_rollouts.cpp.
#include "core/store/workspace.h"

#include <sqlite3.h>

#include <cstdio>

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

namespace {

std::string directoryOf(const std::string& path) {
    const size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

double nowSeconds() {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
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

std::shared_ptr<const std::vector<uint32_t>> Workspace::Impl::tokenLengths(int64_t run_key) {
    const auto vocab = vocabulary(run_key);
    if (!vocab) return nullptr;
    auto& lengths = token_lengths[run_vocab.at(run_key)];
    if (!lengths) {
        auto v = std::make_shared<std::vector<uint32_t>>();
        v->reserve(vocab->size());
        for (const std::string& t : *vocab) v->push_back(static_cast<uint32_t>(t.size()));
        lengths = std::move(v);
    }
    return lengths;
}

void Workspace::Impl::lockRun(int64_t run_key, const std::string& run) {
    if (locks.count(run_key)) return;
    RunLock lock;
    if (!lock.acquire(path, run_key)) {
        SqliteStatement st(db, "SELECT writer_pid, writer_host FROM runs WHERE run_key = ?");
        st.bind(1, run_key);
        std::string who =
            st.step() ? "process " + std::to_string(st.int64(0)) + " on '" + st.text(1) + "'"
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

void Workspace::setCancelCheck(std::function<bool()> cancelled) {
    m->cancelled = std::move(cancelled);
    // Impl lives on the heap: its address outlives moves of the Workspace.
    const auto handler = [](void* impl) -> int {
        return static_cast<Impl*>(impl)->cancelled() ? 1 : 0;
    };
    if (m->cancelled)
        sqlite3_progress_handler(m->db.handle(), 4096, handler, m.get());
    else
        sqlite3_progress_handler(m->db.handle(), 0, nullptr, nullptr);
}
Workspace::~Workspace() = default;
Workspace::Workspace(Workspace&&) noexcept = default;
Workspace& Workspace::operator=(Workspace&&) noexcept = default;

void Workspace::removeFiles(const std::string& path) {
    for (const std::string& file :
         {path, path + "-wal", path + "-shm", RunLock::lockFilePath(path)})
        std::remove(file.c_str());
}

Workspace Workspace::open(const std::string& path, bool read_only) {
    if (path.empty()) throw StoreError("workspace path is empty");
    struct stat st {};
    const bool exists = ::stat(path.c_str(), &st) == 0;
    if (exists && S_ISDIR(st.st_mode))
        throw StoreError(path + ": is a directory, not a workspace file");
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
    impl->immutable = immutable;
    impl->db = SqliteDb(path, read_only, /*create=*/true, immutable);
    try {
        registerStoreFunctions(*impl);  // the migrations use them
        impl->version = prepareSchema(impl->db, !read_only);
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

bool Workspace::needsUpgrade(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
    try {
        SqliteDb db(path, /*read_only=*/true, /*create=*/false);
        const int64_t version = db.queryInt("PRAGMA user_version");
        return db.queryInt("PRAGMA application_id") == kApplicationId && version > 0 &&
               version < kSchemaVersion;
    } catch (const std::exception&) {
        return false;
    }
}

const std::string& Workspace::path() const {
    return m->path;
}
int Workspace::schemaVersion() const {
    return m->version;
}

void Workspace::setSizeLimit(int64_t bytes) {
    const int64_t page = m->db.queryInt("PRAGMA page_size");
    m->db.queryInt("PRAGMA max_page_count = " + std::to_string(std::max<int64_t>(1, bytes / page)));
}

}  // namespace reflab::store
