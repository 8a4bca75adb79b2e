// Workspace schema v1 and its migrations; see store_schema.h.
//
// Layout, chosen for a million rollouts of 256 tokens in under 1.5 KB each:
// - rollouts holds only the narrow columns that the table view filters and sorts on, so a scan
//   touches few pages; long texts and tokens live in rollout_payload (one row per rollout).
// - prompts are stored once per distinct (prompt, reference), not once per sample.
// - rollout_payload.completion is NULL when it equals the run vocabulary's decoding of the
//   tokens; reasoning/answer are NULL when they are a substring of the completion at the given
//   byte span.
// - runs are referenced by an integer key (run_key) in the big tables, not by their text id.
// v2 adds text search and the zero-spread group flag:
// - prompt_text (rowid = prompt_key) and completion_text (rowid = rollout id): contentless FTS5
//   trigram indexes (detail=none: no positions, about a third of a full index). They only
//   narrow a search to candidates: a needle matches when all its trigrams occur, and the exact
//   substring check (reflab_text_has) confirms each candidate. Written in the step's
//   transaction; removed with the 'delete' command, which needs the indexed text back
//   (reflab_completion decodes it from the tokens).
// - rollouts.group_flat = 1 when every rollout of its group (run, step, group, train/eval) has
//   the same total reward: the group gives no learning signal. A step holds whole groups, so
//   writeStep knows it.
// v3 adds reward sets (`reflab-cli rescore`): another recipe's rewards for a run's stored
// rollouts, kept beside the originals, never replacing them.
// - reward_sets: one row per (run, name), with the recipe that scored it.
// - rollout_set_rewards: a rollout's total and format verdict under the set (one row per scored
//   rollout: its primary key is what makes a resumed re-score skip, never repeat, a rollout).
// - rollout_set_components: its component values and details, like rollout_rewards.
// Both keyed by set first, so a set reads (and a deleted run's sets go) by range.
// v4 adds tags on runs: run_tags holds one row per (run, tag), so a tag is added or removed
// without rewriting the run row, and the dock filters by a tag in one indexed look-up.
// v5 gives events a step, kind and label (NULL for plain log lines): a recipe stage's first step
// is a marked event, written in the step's transaction and dropped with it on resume.
// v6 adds rollout_payload.entropies: the entropy of the next-token distribution at each
// completion token (float16, the log-probs' encoding; NULL where the run stored none, as every
// rollout written before v6). A column of its own, not a third part of the tokens blob, so that
// an older blob needs no rewrite and a recipe can leave it out (about 2 bytes a token).
// v7 serves the Compare tab's reads without visiting the rows of the big tables:
// - metrics_series carries value and time: a metric's series and its summary (count, sum,
//   extremes and the step reaching them, last value) are one walk of contiguous index entries
//   instead of a row look-up per point in a table whose rows interleave every metric of a step
//   (4 runs x 20 metrics x 10k steps took 2.3 s to summarise and read, most of it those
//   look-ups).
// - step_totals: per (run, step), the rollouts, eval rollouts and completion tokens written,
//   kept by writeStep in the step's transaction and dropped with the step (resume truncation,
//   run deletion); a run's totals sum one row a step instead of walking every rollout (43 ms a
//   run of 256k rollouts even from an index holding the two columns).
// - rollouts_prompt (run_key, prompt_key, step): a run's rollouts of one prompt at the nearest
//   step are two seeks, also when the run never saw the prompt (before: a walk of the run's
//   whole (run_key, step) index, 226 ms for 4 runs of 256k rollouts).
// - prompts_id: a prompt id's keys without reading the prompts table's texts.
#include "core/store/store_schema.h"

#include <filesystem>
#include <functional>

namespace reflab::store {

namespace {

const char* const kSchemaV1 = R"sql(
CREATE TABLE vocabularies(
  vocab_key INTEGER PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  size INTEGER NOT NULL,
  data BLOB NOT NULL);
CREATE TABLE runs(
  run_key INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: a key names one run forever
  id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  kind TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  recipe_json TEXT NOT NULL DEFAULT '{}',
  model_path TEXT NOT NULL DEFAULT '',
  model_hash TEXT NOT NULL DEFAULT '',
  seed INTEGER NOT NULL DEFAULT 0,
  code_version TEXT NOT NULL DEFAULT '',
  parent_run TEXT NOT NULL DEFAULT '',
  parent_step INTEGER NOT NULL DEFAULT -1,
  steps INTEGER NOT NULL DEFAULT 0,
  step INTEGER NOT NULL DEFAULT -1,
  created REAL NOT NULL,
  updated REAL NOT NULL,
  best_eval REAL,
  vocab_key INTEGER,
  writer_pid INTEGER NOT NULL DEFAULT 0,
  writer_host TEXT NOT NULL DEFAULT '',
  heartbeat REAL NOT NULL DEFAULT 0);
CREATE TABLE metrics(
  id INTEGER PRIMARY KEY,
  run_key INTEGER NOT NULL,
  step INTEGER NOT NULL,
  name TEXT NOT NULL,
  value REAL,
  time REAL NOT NULL);
CREATE INDEX metrics_series ON metrics(run_key, name, step);
CREATE TABLE prompts(
  prompt_key INTEGER PRIMARY KEY,
  hash INTEGER NOT NULL,
  prompt_id TEXT NOT NULL,
  prompt TEXT NOT NULL,
  reference TEXT NOT NULL);
CREATE INDEX prompts_hash ON prompts(hash);
CREATE TABLE rollouts(
  id INTEGER PRIMARY KEY,
  run_key INTEGER NOT NULL,
  step INTEGER NOT NULL,
  prompt_key INTEGER NOT NULL,
  grp INTEGER NOT NULL,
  sample INTEGER NOT NULL,
  is_eval INTEGER NOT NULL,
  total_reward REAL NOT NULL,
  advantage REAL NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  finish_reason TEXT NOT NULL,
  format_valid INTEGER NOT NULL,
  correct INTEGER);
CREATE INDEX rollouts_step ON rollouts(run_key, step);
CREATE INDEX rollouts_reward ON rollouts(run_key, total_reward, step);
CREATE TABLE rollout_payload(
  rollout_id INTEGER PRIMARY KEY,
  tokens BLOB,
  completion TEXT,
  reasoning TEXT,
  reasoning_at INTEGER,
  reasoning_len INTEGER,
  answer TEXT,
  answer_at INTEGER,
  answer_len INTEGER);
CREATE TABLE components(
  component_key INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE);
CREATE TABLE rollout_rewards(
  rollout_id INTEGER NOT NULL,
  component_key INTEGER NOT NULL,
  value REAL NOT NULL,
  details TEXT,
  PRIMARY KEY(rollout_id, component_key)) WITHOUT ROWID;
CREATE TABLE checkpoints(
  id INTEGER PRIMARY KEY,
  run_key INTEGER NOT NULL,
  step INTEGER NOT NULL,
  dir TEXT NOT NULL,
  time REAL NOT NULL);
CREATE INDEX checkpoints_run ON checkpoints(run_key, step);
CREATE TABLE events(
  id INTEGER PRIMARY KEY,
  run_key INTEGER NOT NULL,
  time REAL NOT NULL,
  text TEXT NOT NULL);
CREATE INDEX events_run ON events(run_key, id);
)sql";

const char* const kSchemaV2 = R"sql(
ALTER TABLE rollouts ADD COLUMN group_flat INTEGER NOT NULL DEFAULT 0;
UPDATE rollouts SET group_flat = 1 WHERE (run_key, step, grp, is_eval) IN (
  SELECT run_key, step, grp, is_eval FROM rollouts GROUP BY run_key, step, grp, is_eval
  HAVING min(total_reward) = max(total_reward));
CREATE VIRTUAL TABLE prompt_text USING fts5(
  prompt, reference, content='', detail=none, tokenize='trigram');
CREATE VIRTUAL TABLE completion_text USING fts5(
  completion, content='', detail=none, tokenize='trigram');
INSERT INTO prompt_text(rowid, prompt, reference) SELECT prompt_key, prompt, reference FROM prompts;
INSERT INTO completion_text(rowid, completion)
  SELECT r.id, reflab_completion(r.run_key, pl.completion, pl.tokens)
  FROM rollouts r JOIN rollout_payload pl ON pl.rollout_id = r.id;
)sql";

const char* const kSchemaV3 = R"sql(
CREATE TABLE reward_sets(
  set_key INTEGER PRIMARY KEY AUTOINCREMENT,
  run_key INTEGER NOT NULL,
  name TEXT NOT NULL,
  recipe_json TEXT NOT NULL,
  created REAL NOT NULL,
  UNIQUE(run_key, name));
CREATE TABLE rollout_set_rewards(
  set_key INTEGER NOT NULL,
  rollout_id INTEGER NOT NULL,
  total REAL NOT NULL,
  format_valid INTEGER NOT NULL,
  PRIMARY KEY(set_key, rollout_id)) WITHOUT ROWID;
CREATE TABLE rollout_set_components(
  set_key INTEGER NOT NULL,
  rollout_id INTEGER NOT NULL,
  component_key INTEGER NOT NULL,
  value REAL NOT NULL,
  details TEXT,
  PRIMARY KEY(set_key, rollout_id, component_key)) WITHOUT ROWID;
)sql";

const char* const kSchemaV4 = R"sql(
CREATE TABLE run_tags(
  run_key INTEGER NOT NULL,
  tag TEXT NOT NULL,
  PRIMARY KEY(run_key, tag)) WITHOUT ROWID;
CREATE INDEX run_tags_tag ON run_tags(tag);
)sql";

const char* const kSchemaV5 = R"sql(
ALTER TABLE events ADD COLUMN step INTEGER;
ALTER TABLE events ADD COLUMN kind TEXT;
ALTER TABLE events ADD COLUMN label TEXT;
)sql";

const char* const kSchemaV6 = R"sql(
ALTER TABLE rollout_payload ADD COLUMN entropies BLOB;
)sql";

const char* const kSchemaV7 = R"sql(
DROP INDEX metrics_series;
CREATE INDEX metrics_series ON metrics(run_key, name, step, value, time);
CREATE TABLE step_totals(
  run_key INTEGER NOT NULL,
  step INTEGER NOT NULL,
  rollouts INTEGER NOT NULL,
  eval_rollouts INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  PRIMARY KEY(run_key, step)) WITHOUT ROWID;
INSERT INTO step_totals(run_key, step, rollouts, eval_rollouts, completion_tokens)
  SELECT run_key, step, count(*), sum(is_eval), sum(completion_tokens) FROM rollouts
  GROUP BY run_key, step;
CREATE INDEX rollouts_prompt ON rollouts(run_key, prompt_key, step);
CREATE INDEX prompts_id ON prompts(prompt_id);
)sql";

// migrations[v] brings a file at version v to v + 1. Append only; never edit a shipped step.
const std::vector<std::function<void(SqliteDb&)>>& migrations() {
    static const std::vector<std::function<void(SqliteDb&)>> steps = {
        [](SqliteDb& db) { db.exec(kSchemaV1); },  // 0 -> 1: the first schema
        [](SqliteDb& db) { db.exec(kSchemaV2); },  // 1 -> 2: text search, group_flat
        [](SqliteDb& db) { db.exec(kSchemaV3); },  // 2 -> 3: reward sets (re-score)
        [](SqliteDb& db) { db.exec(kSchemaV4); },  // 3 -> 4: tags on runs
        [](SqliteDb& db) { db.exec(kSchemaV5); },  // 4 -> 5: marked events (stages)
        [](SqliteDb& db) { db.exec(kSchemaV6); },  // 5 -> 6: per-token entropies
        [](SqliteDb& db) { db.exec(kSchemaV7); },  // 6 -> 7: Compare's indexes, step totals
    };
    return steps;
}

// Writes <path>.schema<v>.bak (or .schema<v>.<n>.bak when that exists) before a migration.
void keepCopy(SqliteDb& db, int version) {
    const std::string base = db.path() + ".schema" + std::to_string(version);
    std::string copy = base + ".bak";
    for (int n = 1; std::filesystem::exists(copy); ++n)
        copy = base + "." + std::to_string(n) + ".bak";
    SqliteStatement st(db, "VACUUM INTO ?");
    st.bind(1, copy);
    st.run();
}

}  // namespace

int prepareSchema(SqliteDb& db, bool writable) {
    // The first read of the file: a file that is not SQLite fails here with SQLITE_NOTADB.
    const int64_t app_id = db.queryInt("PRAGMA application_id");
    int version = static_cast<int>(db.queryInt("PRAGMA user_version"));
    const int64_t tables = db.queryInt("SELECT count(*) FROM sqlite_schema");
    if (app_id != kApplicationId && (tables > 0 || version != 0))
        throw StoreError(db.path() + ": not a RefLab workspace (a SQLite file of another program)");
    if (version > kSchemaVersion)
        throw StoreError(db.path() + ": written by a newer RefLab (workspace schema " +
                         std::to_string(version) + ", this program knows up to " +
                         std::to_string(kSchemaVersion) + "); update RefLab to open it");
    db.exec("PRAGMA foreign_keys = OFF; PRAGMA cache_size = -32768; PRAGMA temp_store = MEMORY");
    if (!writable) {
        if (version < kSchemaVersion)
            throw StoreError(db.path() + ": workspace schema " + std::to_string(version) +
                             " needs an upgrade; open it once writable");
        return version;
    }
    // 16 KiB pages for a new file: a rollout's payload row (~1.1 KB for 256 tokens) fits 14 to a
    // page instead of 3 to a 4 KiB page with a fifth of it left empty. Only possible before the
    // first table exists and before WAL mode.
    if (tables == 0 && version == 0) db.exec("PRAGMA page_size = 16384");
    // WAL lets readers (GUI, CLI) run while a trainer writes; NORMAL syncs at checkpoints only,
    // which in WAL mode still never corrupts the file (a crash may lose the last commits, never
    // half of one).
    if (db.queryText("PRAGMA journal_mode = WAL") != "wal")
        throw StoreError(db.path() + ": cannot switch the workspace to WAL mode");
    db.exec("PRAGMA synchronous = NORMAL");
    if (version < kSchemaVersion) {
        // A file with data is copied first (a consistent snapshot, WAL included): if the
        // migration or the new RefLab disappoints, the old file is still there.
        if (version > 0) keepCopy(db, version);
        SqliteTransaction tx(db);
        // Re-read inside the write lock: another process may have migrated meanwhile.
        version = static_cast<int>(db.queryInt("PRAGMA user_version"));
        for (int v = version; v < kSchemaVersion; ++v) migrations()[static_cast<size_t>(v)](db);
        db.exec("PRAGMA application_id = " + std::to_string(kApplicationId) +
                "; PRAGMA user_version = " + std::to_string(kSchemaVersion));
        tx.commit();
        version = kSchemaVersion;
    }
    return version;
}

}  // namespace reflab::store
