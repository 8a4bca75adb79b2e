// RAII sqlite3 connection, statement and transaction; see sqlite_db.h.
#include "core/store/sqlite_db.h"

#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <thread>

namespace reflab::store {

namespace {

// How long one call waits for another process's lock before giving up. A trainer's step commit
// takes milliseconds; a WAL checkpoint at most a second or two. Past this something is wrong.
constexpr int kBusyTimeoutMs = 30000;
// Extra whole-statement retries for the few SQLITE_BUSY cases the busy handler does not cover
// (WAL recovery by another connection, a reader racing a checkpoint).
constexpr int kBusyRetries = 50;

std::string hintFor(int rc) {
    switch (rc & 0xff) {
        case SQLITE_NOTADB:
            return " (the file is not a SQLite database, or it is encrypted or damaged)";
        case SQLITE_FULL:
            return " (the disk or the file size limit is full; nothing of this write was stored)";
        case SQLITE_READONLY:
            return " (the file or its directory is read-only)";
        case SQLITE_CANTOPEN:
            return " (check that the directory exists and is writable)";
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return " (another process held the workspace locked for too long)";
        case SQLITE_CORRUPT:
            return " (the file is damaged)";
        case SQLITE_IOERR:
            return " (an I/O error: the disk may be full or removed)";
        default:
            return "";
    }
}

void sleepForRetry(int attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(50, 1 + attempt * 5)));
}

}  // namespace

std::string sqliteVersion() {
    return sqlite3_libversion();
}

// ---- SqliteDb ---------------------------------------------------------------------------------

SqliteDb::SqliteDb(const std::string& path, bool read_only, bool create, bool immutable)
    : m_path(path) {
    int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if (!read_only && create) flags |= SQLITE_OPEN_CREATE;
    flags |= SQLITE_OPEN_NOMUTEX;  // one thread per connection (the header's contract)
    std::string name = path;
    if (immutable && read_only) {
        // file: URI with the path percent-encoded where URI syntax would misread it.
        name = "file:";
        for (const char c : path) {
            if (c == '%' || c == '?' || c == '#') {
                char buf[4];
                std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
                name += buf;
            } else {
                name += c;
            }
        }
        name += "?immutable=1";
        flags |= SQLITE_OPEN_URI;
    }
    const int rc = sqlite3_open_v2(name.c_str(), &m_db, flags, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = m_db ? sqlite3_errmsg(m_db) : sqlite3_errstr(rc);
        sqlite3_close_v2(m_db);
        m_db = nullptr;
        throw StoreError(m_path + ": cannot open the workspace: " + msg + hintFor(rc));
    }
    sqlite3_extended_result_codes(m_db, 1);
    sqlite3_busy_timeout(m_db, kBusyTimeoutMs);
}

SqliteDb::~SqliteDb() {
    if (m_db) sqlite3_close_v2(m_db);
}

SqliteDb::SqliteDb(SqliteDb&& other) noexcept : m_db(other.m_db), m_path(std::move(other.m_path)) {
    other.m_db = nullptr;
}

SqliteDb& SqliteDb::operator=(SqliteDb&& other) noexcept {
    if (this != &other) {
        if (m_db) sqlite3_close_v2(m_db);
        m_db = other.m_db;
        m_path = std::move(other.m_path);
        other.m_db = nullptr;
    }
    return *this;
}

void SqliteDb::fail(int rc, const std::string& context) const {
    std::string msg = m_db ? sqlite3_errmsg(m_db) : sqlite3_errstr(rc);
    if ((rc & 0xff) == SQLITE_FULL || (rc & 0xff) == SQLITE_NOTADB) msg = sqlite3_errstr(rc);
    throw StoreError(m_path + ": " + context + ": " + msg + hintFor(rc));
}

void SqliteDb::exec(std::string_view sql) {
    std::string s(sql);
    for (int attempt = 0;; ++attempt) {
        char* err = nullptr;
        const int rc = sqlite3_exec(m_db, s.c_str(), nullptr, nullptr, &err);
        if (rc == SQLITE_OK) return;
        std::string msg = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        if ((rc & 0xff) == SQLITE_BUSY && attempt < kBusyRetries && sqlite3_get_autocommit(m_db)) {
            sleepForRetry(attempt);
            continue;
        }
        fail(rc, "'" + s.substr(0, 40) + (s.size() > 40 ? "...'" : "'") + " failed");
    }
}

int64_t SqliteDb::queryInt(std::string_view sql) {
    SqliteStatement st(*this, sql);
    return st.step() ? st.int64(0) : 0;
}

std::string SqliteDb::queryText(std::string_view sql) {
    SqliteStatement st(*this, sql);
    return st.step() ? st.text(0) : std::string();
}

int64_t SqliteDb::lastInsertRowid() const {
    return sqlite3_last_insert_rowid(m_db);
}
int SqliteDb::changes() const {
    return sqlite3_changes(m_db);
}
bool SqliteDb::inTransaction() const {
    return sqlite3_get_autocommit(m_db) == 0;
}

// ---- SqliteStatement --------------------------------------------------------------------------

SqliteStatement::SqliteStatement(SqliteDb& db, std::string_view sql) : m_db(&db) {
    for (int attempt = 0;; ++attempt) {
        const int rc = sqlite3_prepare_v3(db.handle(), sql.data(), static_cast<int>(sql.size()),
                                          SQLITE_PREPARE_PERSISTENT, &m_stmt, nullptr);
        if (rc == SQLITE_OK) return;
        // Preparing reads the schema, which can meet a lock while another connection recovers
        // the WAL.
        if ((rc & 0xff) == SQLITE_BUSY && attempt < kBusyRetries) {
            sleepForRetry(attempt);
            continue;
        }
        db.fail(rc, "cannot prepare '" + std::string(sql.substr(0, 60)) + "'");
    }
}

SqliteStatement::~SqliteStatement() {
    if (m_stmt) sqlite3_finalize(m_stmt);
}

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : m_db(other.m_db), m_stmt(other.m_stmt) {
    other.m_stmt = nullptr;
}

SqliteStatement& SqliteStatement::operator=(SqliteStatement&& other) noexcept {
    if (this != &other) {
        if (m_stmt) sqlite3_finalize(m_stmt);
        m_db = other.m_db;
        m_stmt = other.m_stmt;
        other.m_stmt = nullptr;
    }
    return *this;
}

void SqliteStatement::check(int rc, const char* what) {
    if (rc != SQLITE_OK) m_db->fail(rc, what);
}

SqliteStatement& SqliteStatement::bind(int index, int64_t value) {
    check(sqlite3_bind_int64(m_stmt, index, value), "cannot bind an integer");
    return *this;
}

SqliteStatement& SqliteStatement::bind(int index, double value) {
    check(sqlite3_bind_double(m_stmt, index, value), "cannot bind a number");
    return *this;
}

SqliteStatement& SqliteStatement::bind(int index, std::string_view text) {
    check(
        sqlite3_bind_text64(m_stmt, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
        "cannot bind a text");
    return *this;
}

SqliteStatement& SqliteStatement::bindBlob(int index, const void* data, size_t bytes) {
    // A zero-length blob must still be a blob, not NULL: pass a non-null pointer.
    static const char kEmpty = 0;
    check(sqlite3_bind_blob64(m_stmt, index, bytes ? data : &kEmpty, bytes, SQLITE_TRANSIENT),
          "cannot bind a blob");
    return *this;
}

SqliteStatement& SqliteStatement::bindNull(int index) {
    check(sqlite3_bind_null(m_stmt, index), "cannot bind NULL");
    return *this;
}

bool SqliteStatement::step() {
    for (int attempt = 0;; ++attempt) {
        const int rc = sqlite3_step(m_stmt);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        // Outside an explicit transaction a busy statement can simply run again (SQLite's
        // documented rule); inside one the caller's transaction must be retried as a whole.
        if ((rc & 0xff) == SQLITE_BUSY && attempt < kBusyRetries &&
            sqlite3_get_autocommit(m_db->handle())) {
            sqlite3_reset(m_stmt);
            sleepForRetry(attempt);
            continue;
        }
        const char* sql = sqlite3_sql(m_stmt);
        std::string s = sql ? sql : "";
        sqlite3_reset(m_stmt);
        m_db->fail(rc, "'" + s.substr(0, 60) + (s.size() > 60 ? "...'" : "'") + " failed");
    }
}

void SqliteStatement::run() {
    step();
    reset();
}

void SqliteStatement::reset() {
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
}

bool SqliteStatement::isNull(int col) const {
    return sqlite3_column_type(m_stmt, col) == SQLITE_NULL;
}
int64_t SqliteStatement::int64(int col) const {
    return sqlite3_column_int64(m_stmt, col);
}
double SqliteStatement::real(int col) const {
    return sqlite3_column_double(m_stmt, col);
}

std::string SqliteStatement::text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(m_stmt, col)))
             : std::string();
}

std::string_view SqliteStatement::blobView(int col) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(m_stmt, col));
    return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(m_stmt, col)))
             : std::string_view();
}

std::vector<uint8_t> SqliteStatement::blob(int col) const {
    const std::string_view v = blobView(col);
    return std::vector<uint8_t>(v.begin(), v.end());
}

// ---- SqliteTransaction ------------------------------------------------------------------------

SqliteTransaction::SqliteTransaction(SqliteDb& db, bool immediate) : m_db(db) {
    m_db.exec(immediate ? "BEGIN IMMEDIATE" : "BEGIN");
    m_open = true;
}

SqliteTransaction::~SqliteTransaction() {
    if (m_open && m_db.inTransaction())
        sqlite3_exec(m_db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void SqliteTransaction::commit() {
    m_db.exec("COMMIT");
    m_open = false;
}

}  // namespace reflab::store
