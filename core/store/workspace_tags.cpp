// Workspace tags on runs: add, remove, list (schema v3's run_tags table).
#include <algorithm>

#include "core/store/workspace.h"
#include "core/store/workspace_impl.h"

namespace reflab::store {

namespace {

// Tags are shown in a combo box and a table cell, one line each: trimmed, short, single-line.
std::string checkedTag(const std::string& path, const std::string& run, const std::string& tag) {
    const auto first = tag.find_first_not_of(" \t\r\n");
    const auto last = tag.find_last_not_of(" \t\r\n");
    const std::string t = first == std::string::npos ? "" : tag.substr(first, last - first + 1);
    if (t.empty()) throw StoreError(path + ": run '" + run + "': a tag cannot be empty");
    if (t.size() > 64)
        throw StoreError(path + ": run '" + run + "': tag '" + t.substr(0, 64) +
                         "...' is longer than 64 bytes");
    if (t.find_first_of("\r\n") != std::string::npos)
        throw StoreError(path + ": run '" + run + "': a tag cannot hold a line break");
    return t;
}

}  // namespace

void Workspace::addTag(const std::string& run, const std::string& tag) {
    const int64_t key = m->runKey(run);
    SqliteStatement st(m->db, "INSERT OR IGNORE INTO run_tags(run_key, tag) VALUES (?, ?)");
    st.bind(1, key).bind(2, checkedTag(m->path, run, tag)).run();
}

void Workspace::removeTag(const std::string& run, const std::string& tag) {
    const int64_t key = m->runKey(run);
    SqliteStatement st(m->db, "DELETE FROM run_tags WHERE run_key = ? AND tag = ?");
    st.bind(1, key).bind(2, checkedTag(m->path, run, tag)).run();
}

std::vector<std::string> Workspace::allTags() {
    SqliteStatement st(m->db, "SELECT DISTINCT tag FROM run_tags ORDER BY tag");
    std::vector<std::string> out;
    while (st.step()) out.push_back(st.text(0));
    return out;
}

std::unordered_map<int64_t, std::vector<std::string>> readRunTags(Workspace::Impl& w,
                                                                  std::optional<int64_t> run_key) {
    std::unordered_map<int64_t, std::vector<std::string>> out;
    SqliteStatement st(w.db, run_key ? "SELECT run_key, tag FROM run_tags WHERE run_key = ? "
                                       "ORDER BY tag"
                                     : "SELECT run_key, tag FROM run_tags ORDER BY run_key, tag");
    if (run_key) st.bind(1, *run_key);
    while (st.step()) out[st.int64(0)].push_back(st.text(1));
    return out;
}

}  // namespace reflab::store
