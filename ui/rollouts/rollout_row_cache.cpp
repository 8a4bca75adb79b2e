// RolloutRowCache (see rollout_row_cache.h).
#include "ui/rollouts/rollout_row_cache.h"

#include <algorithm>
#include <cstdlib>

namespace reflab::ui {

RolloutRowCache::RolloutRowCache(int page_rows, int max_pages)
    : m_pageRows(std::max(1, page_rows)), m_maxPages(std::max(1, max_pages)) {}

const store::RolloutRow* RolloutRowCache::row(qint64 row) const {
    if (row < 0) return nullptr;
    const auto it = m_pages.find(pageOf(row));
    if (it == m_pages.end()) return nullptr;
    const size_t at = static_cast<size_t>(row % m_pageRows);
    return at < it->second.size() ? &it->second[at] : nullptr;
}

const std::vector<store::RolloutRow>* RolloutRowCache::page(int page) const {
    const auto it = m_pages.find(page);
    return it == m_pages.end() ? nullptr : &it->second;
}

void RolloutRowCache::put(int page, std::vector<store::RolloutRow> rows) {
    m_pages[page] = std::move(rows);
    while (static_cast<int>(m_pages.size()) > m_maxPages) {
        // The two candidates farthest from `page` are the first and the last cached.
        const int first = m_pages.begin()->first, last = m_pages.rbegin()->first;
        m_pages.erase(std::abs(page - first) >= std::abs(last - page) ? first : last);
    }
}

}  // namespace reflab::ui
