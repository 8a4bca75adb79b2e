// RolloutRowCache: the pages of rollout rows a RolloutsModel has fetched, at most max_pages of
// them. Adding a page past the bound evicts the cached page farthest from the one added (the
// viewport moved there), so memory stays bounded however far the user scrolls. Page p holds
// rows [p * page_rows, (p + 1) * page_rows). Not thread-safe (the GUI thread's).
#pragma once
#include <QtGlobal>
#include <map>
#include <vector>

#include "core/store/workspace.h"

namespace reflab::ui {

class RolloutRowCache {
public:
    RolloutRowCache(int page_rows, int max_pages);

    int pageRows() const { return m_pageRows; }
    int pageOf(qint64 row) const { return static_cast<int>(row / m_pageRows); }
    const store::RolloutRow* row(qint64 row) const;  // null: its page is not cached
    const std::vector<store::RolloutRow>* page(int page) const;
    bool has(int page) const { return m_pages.count(page) > 0; }
    void put(int page, std::vector<store::RolloutRow> rows);
    void clear() { m_pages.clear(); }
    int size() const { return static_cast<int>(m_pages.size()); }

private:
    int m_pageRows;
    int m_maxPages;
    std::map<int, std::vector<store::RolloutRow>> m_pages;
};

}  // namespace reflab::ui
