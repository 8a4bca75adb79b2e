// Workspace checkpoints and events: what a run leaves behind besides its steps.
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
    SqliteStatement st(
        m->db, "SELECT step, dir, time FROM checkpoints WHERE run_key = ? ORDER BY step, id");
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

namespace {

std::vector<RunEvent> readEvents(SqliteStatement& st) {
    std::vector<RunEvent> out;
    while (st.step())
        out.push_back({st.int64(0), st.real(1), st.text(2), st.isNull(3) ? -1 : st.int64(3),
                       st.isNull(4) ? "" : st.text(4), st.isNull(5) ? "" : st.text(5)});
    return out;
}

}  // namespace

std::vector<RunEvent> Workspace::events(const std::string& run, int64_t after_id) {
    const int64_t key = m->runKey(run);
    SqliteStatement st(m->db,
                       "SELECT id, time, text, step, kind, label FROM events WHERE run_key = ? "
                       "AND id > ? ORDER BY id");
    st.bind(1, key).bind(2, after_id);
    return readEvents(st);
}

std::vector<RunEvent> Workspace::markedEvents(const std::string& run, const std::string& kind) {
    const int64_t key = m->runKey(run);
    SqliteStatement st(m->db,
                       "SELECT id, time, text, step, kind, label FROM events WHERE run_key = ? "
                       "AND kind = ? ORDER BY step, id");
    st.bind(1, key).bind(2, kind);
    return readEvents(st);
}

}  // namespace reflab::store
