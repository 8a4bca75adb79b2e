// The workspace schema: its version (PRAGMA user_version), the forward migrations that bring an
// older file up to it, and the checks that refuse a file that is not a RefLab workspace or was
// written by a newer RefLab.
#pragma once
#include "core/store/sqlite_db.h"

namespace reflab::store {

// 'RFLB': PRAGMA application_id of every RefLab workspace (file(1) shows it).
constexpr int kApplicationId = 0x52464c42;
constexpr int kSchemaVersion = 7;

// Sets the connection's pragmas (WAL, synchronous=NORMAL, foreign keys off, cache) and, when
// writable, creates or migrates the schema in one transaction, after keeping a copy of a file
// that holds data (<path>.schema<old version>.bak). Returns the file's version. The migrations
// call the store's SQL functions: register them (registerStoreFunctions) first.
int prepareSchema(SqliteDb& db, bool writable);

}  // namespace reflab::store
