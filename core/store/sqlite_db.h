// RAII wrappers over the sqlite3 C API used by core/store: one connection (SqliteDb) and one
// prepared statement (SqliteStatement). Every failure becomes a StoreError naming the database
// file, so callers never see a raw SQLite code. Not thread-safe: one thread per connection.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/store/store_error.h"

struct sqlite3;
struct sqlite3_stmt;

namespace reflab::store {

class SqliteDb;

// One prepared statement. bind*() indexes are 1-based (SQLite's); column*() are 0-based.
// step() returns true while a row is available; reset() makes it reusable with new bindings.
class SqliteStatement {
public:
    SqliteStatement() = default;
    SqliteStatement(SqliteDb& db, std::string_view sql);
    ~SqliteStatement();
    SqliteStatement(SqliteStatement&& other) noexcept;
    SqliteStatement& operator=(SqliteStatement&& other) noexcept;
    SqliteStatement(const SqliteStatement&) = delete;
    SqliteStatement& operator=(const SqliteStatement&) = delete;

    SqliteStatement& bind(int index, int64_t value);
    SqliteStatement& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
    SqliteStatement& bind(int index, double value);
    SqliteStatement& bind(int index, std::string_view text);
    SqliteStatement& bind(int index, const std::string& text) {
        return bind(index, std::string_view(text));
    }
    SqliteStatement& bind(int index, const char* text) {
        return bind(index, std::string_view(text));
    }
    SqliteStatement& bindBlob(int index, const void* data, size_t bytes);
    SqliteStatement& bindNull(int index);

    bool step();   // true: a row is ready; false: done
    void run();    // step() for statements that return no rows, then reset()
    void reset();  // clears the cursor and the bindings

    bool isNull(int col) const;
    int64_t int64(int col) const;
    double real(int col) const;
    std::string text(int col) const;
    std::vector<uint8_t> blob(int col) const;
    std::string_view blobView(int col) const;  // valid until the next step()/reset()

    bool valid() const { return m_stmt != nullptr; }

private:
    void check(int rc, const char* what);
    SqliteDb* m_db = nullptr;
    sqlite3_stmt* m_stmt = nullptr;
};

// One connection. Opening does not touch the file yet (SQLite is lazy); the first statement does.
class SqliteDb {
public:
    SqliteDb() = default;
    // immutable (read-only only): the file cannot change while open, e.g. on read-only media
    // where SQLite cannot create the WAL index (-shm) that a normal reader needs.
    SqliteDb(const std::string& path, bool read_only, bool create, bool immutable = false);
    ~SqliteDb();
    SqliteDb(SqliteDb&& other) noexcept;
    SqliteDb& operator=(SqliteDb&& other) noexcept;
    SqliteDb(const SqliteDb&) = delete;
    SqliteDb& operator=(const SqliteDb&) = delete;

    void exec(std::string_view sql);         // one or more statements, no results
    int64_t queryInt(std::string_view sql);  // first column of the first row (0 if none)
    std::string queryText(std::string_view sql);
    int64_t lastInsertRowid() const;
    int changes() const;
    bool inTransaction() const;

    sqlite3* handle() const { return m_db; }
    const std::string& path() const { return m_path; }

    // The error for a failed SQLite call: "<file>: <context>: <sqlite message>" with a hint for
    // the codes a user can act on (not a database, disk full, read-only, locked).
    [[noreturn]] void fail(int rc, const std::string& context) const;

private:
    sqlite3* m_db = nullptr;
    std::string m_path;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back by the destructor unless commit() ran. IMMEDIATE takes
// the write lock up front, so a busy writer waits in the busy handler instead of failing later
// with SQLITE_BUSY_SNAPSHOT when a read transaction tries to upgrade.
class SqliteTransaction {
public:
    explicit SqliteTransaction(SqliteDb& db, bool immediate = true);
    ~SqliteTransaction();
    SqliteTransaction(const SqliteTransaction&) = delete;
    SqliteTransaction& operator=(const SqliteTransaction&) = delete;
    void commit();

private:
    SqliteDb& m_db;
    bool m_open = false;
};

// The SQLite library's version string (sqlite3_libversion).
std::string sqliteVersion();

}  // namespace reflab::store
