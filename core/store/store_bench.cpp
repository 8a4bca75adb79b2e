// Synthetic runs and the store benchmark; see store_bench.h.
#include "core/store/store_bench.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <random>

#include "core/base/splitmix64.h"
#include "core/store/sqlite_db.h"

namespace reflab::store {

namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// CPU seconds of this process: on a shared machine the wall clock also counts the time other
// processes held the cores, so the benchmark reports both.
double cpuSeconds() {
    timespec ts{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// SplitMix64: a fast, well-mixed stream per (seed, step, rollout) so any step can be generated
// alone and in any order.
struct Rng : SplitMix64 {
    double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
};

// Special tokens of the synthetic vocabulary.
constexpr int kThink = 0, kThinkEnd = 1, kAnswer = 2, kAnswerEnd = 3, kEos = 4, kFirstWord = 5;

}  // namespace

SyntheticRun::SyntheticRun(const SyntheticOptions& options) : m_opt(options) {
    m_opt.vocab_size = std::max(m_opt.vocab_size, 64);
    m_opt.tokens = std::max(m_opt.tokens, 8);
    m_vocab.resize(static_cast<size_t>(m_opt.vocab_size));
    m_vocab[kThink] = "<think>";
    m_vocab[kThinkEnd] = "</think>";
    m_vocab[kAnswer] = "<answer>";
    m_vocab[kAnswerEnd] = "</answer>";
    m_vocab[kEos] = "<|im_end|>";
    // Word pieces of 1..8 letters, about half with a leading space, like byte-level BPE.
    Rng rng{{m_opt.seed * 7919 + 17}};
    for (size_t i = kFirstWord; i < m_vocab.size(); ++i) {
        std::string w = (rng.next() & 1) ? " " : "";
        const int len = 1 + static_cast<int>(rng.next() % 8);
        for (int k = 0; k < len; ++k) w += static_cast<char>('a' + rng.next() % 26);
        m_vocab[i] = std::move(w);
    }
}

NewRun SyntheticRun::newRun() const {
    NewRun r;
    r.name = m_opt.name;
    r.kind = "nover";
    r.recipe_json =
        nlohmann::json{
            {"kind", "nover"},
            {"model", {{"path", "synthetic"}}},
            {"generation", {{"max_new_tokens", m_opt.tokens}, {"group_size", m_opt.group_size}}},
            {"rewards", {{{"type", "format"}}, {{"type", "nover"}}}}}
            .dump();
    r.model_path = "synthetic";
    r.model_hash = "synthetic-" + std::to_string(m_opt.vocab_size);
    r.code_version = "bench";
    r.seed = m_opt.seed;
    r.steps = steps();
    r.vocabulary = m_vocab;
    return r;
}

int64_t SyntheticRun::steps() const {
    const int64_t per = static_cast<int64_t>(m_opt.prompts_per_step) * m_opt.group_size;
    return (m_opt.rollouts + per - 1) / per;
}

StepRecord SyntheticRun::step(int64_t index) const {
    StepRecord s;
    s.step = index;
    s.time = 1.7e9 + static_cast<double>(index) * 3.0;
    Rng rng{{m_opt.seed ^ (static_cast<uint64_t>(index) * 0x2545f4914f6cdd1dULL)}};
    for (int k = 0; k < m_opt.metrics_per_step; ++k)
        s.metrics.emplace_back(
            "metric/" + std::to_string(k),
            std::sin(0.01 * static_cast<double>(index) + k) + 0.1 * rng.uniform());
    const double log_v = std::log(static_cast<double>(m_opt.vocab_size - kFirstWord));
    const int body = m_opt.tokens - 6;  // <think> body </think> <answer> x </answer> <eos>
    for (int p = 0; p < m_opt.prompts_per_step; ++p) {
        const int64_t prompt = (index * m_opt.prompts_per_step + p) % m_opt.distinct_prompts;
        std::vector<double> totals;
        for (int g = 0; g < m_opt.group_size; ++g) {
            RolloutRecord r;
            r.step = index;
            r.prompt_id = "q" + std::to_string(prompt);
            r.group = p;
            r.sample = g;
            r.prompt = "<|im_start|>user\nQuestion " + std::to_string(prompt) +
                       ": what is the sum of the first " + std::to_string(prompt % 97 + 3) +
                       " odd numbers? Think step by step, then answer inside <answer> tags."
                       "<|im_end|>\n<|im_start|>assistant\n";
            r.reference = std::to_string((prompt % 97 + 3) * (prompt % 97 + 3));
            r.prompt_tokens = 48;
            r.token_ids.reserve(static_cast<size_t>(m_opt.tokens));
            r.logprobs.reserve(static_cast<size_t>(m_opt.tokens));
            const auto push = [&](int id) {
                r.token_ids.push_back(id);
                // Log-probs: mostly confident, a heavy tail (exponential, mean 0.6 nats).
                r.logprobs.push_back(static_cast<float>(0.6 * std::log(1.0 - rng.uniform())));
                // Entropies: spread where the token was improbable (no draw of the generator,
                // so the ids and log-probs stay those of a run without entropies).
                if (m_opt.entropies) r.entropies.push_back(0.1f - 1.5f * r.logprobs.back());
            };
            push(kThink);
            // Word ids log-uniform over the vocabulary: frequent pieces have small ids, as in BPE.
            for (int t = 0; t < body; ++t)
                push(kFirstWord + static_cast<int>(std::exp(rng.uniform() * log_v)) - 1);
            push(kThinkEnd);
            push(kAnswer);
            push(kFirstWord + static_cast<int>(rng.next() % 1000));
            push(kAnswerEnd);
            push(kEos);
            for (const int id : r.token_ids) r.completion += m_vocab[static_cast<size_t>(id)];
            const size_t think_end = r.completion.find("</think>");
            r.reasoning = r.completion.substr(7, think_end - 7);
            const size_t a0 = r.completion.find("<answer>") + 8;
            r.answer = r.completion.substr(a0, r.completion.find("</answer>") - a0);
            r.completion_tokens = static_cast<int>(r.token_ids.size());
            r.finish_reason = "stop";
            r.format_valid = rng.uniform() < 0.9;
            const double p_r = -std::log(rng.uniform() + 1e-9);
            const int rank = static_cast<int>(rng.next() % m_opt.group_size);
            const double nover =
                r.format_valid ? 1.0 - static_cast<double>(rank) / m_opt.group_size : 0.0;
            r.components.push_back({"format", r.format_valid ? 1.0 : 0.0, nullptr});
            r.components.push_back({"nover",
                                    nover,
                                    {{"P_r", std::round(p_r * 1000) / 1000},
                                     {"rank", rank},
                                     {"R_r", nover},
                                     {"R_e", 0}}});
            r.total_reward = r.components[0].value + r.components[1].value;
            r.is_eval = (index % 50 == 0);
            if (r.is_eval) r.correct = rng.uniform() < 0.4;
            totals.push_back(r.total_reward);
            s.rollouts.push_back(std::move(r));
        }
        double mean = 0;
        for (const double t : totals) mean += t / static_cast<double>(totals.size());
        for (size_t g = 0; g < totals.size(); ++g)
            s.rollouts[s.rollouts.size() - totals.size() + g].advantage = totals[g] - mean;
    }
    return s;
}

std::string writeSyntheticRun(Workspace& ws, const SyntheticOptions& options,
                              const std::function<void(int64_t)>& progress) {
    SyntheticRun gen(options);
    const std::string id = ws.createRun(gen.newRun());
    for (int64_t i = 0; i < gen.steps(); ++i) {
        ws.writeStep(id, gen.step(i));
        if (progress) progress(i + 1);
    }
    ws.setRunStatus(id, RunStatus::Finished);
    return id;
}

nlohmann::json benchStore(const StoreBenchOptions& options,
                          const std::function<void(const std::string&)>& log) {
    const auto say = [&log](const std::string& s) {
        if (log) log(s);
    };
    std::string path = options.path;
    if (path.empty()) {
        const char* tmp = std::getenv("TMPDIR");
        path = std::string(tmp && *tmp ? tmp : "/tmp") + "/reflab-store-bench-" +
               std::to_string(::getpid()) + ".db";
    }
    struct stat existing {};
    if (!options.path.empty() && ::stat(path.c_str(), &existing) == 0)
        throw StoreError(path + ": already exists; the store benchmark builds a new workspace");
    Workspace::removeFiles(path);

    SyntheticOptions so;
    so.rollouts = std::max<int64_t>(options.rollouts, 64);
    so.entropies = options.entropies;
    SyntheticRun gen(so);
    nlohmann::json out;
    std::string run;
    {
        auto ws = Workspace::open(path);
        run = ws.createRun(gen.newRun());
        // Time only the writes: generating the records is the trainer's work, not the store's.
        double write_s = 0, write_cpu_s = 0;
        int64_t written = 0;
        for (int64_t i = 0; i < gen.steps(); ++i) {
            const StepRecord s = gen.step(i);
            const auto t0 = Clock::now();
            const double c0 = cpuSeconds();
            ws.writeStep(run, s);
            write_cpu_s += cpuSeconds() - c0;
            write_s += msSince(t0) / 1000.0;
            written += static_cast<int64_t>(s.rollouts.size());
            if ((i + 1) % 2000 == 0)
                say("store bench: " + std::to_string(written) + " rollouts written");
        }
        ws.setRunStatus(run, RunStatus::Finished);
        out["rollouts"] = written;
        out["tokens_per_rollout"] = so.tokens;
        out["entropies"] = so.entropies;
        out["ingest_rollouts_per_s"] = static_cast<double>(written) / write_s;
        out["ingest_rollouts_per_cpu_s"] = static_cast<double>(written) / write_cpu_s;
    }
    {
        // Fold the WAL into the file so its size is the data's.
        SqliteDb db(path, false, false);
        db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    struct stat st {};
    ::stat(path.c_str(), &st);
    out["file_bytes"] = static_cast<int64_t>(st.st_size);
    out["bytes_per_rollout"] = static_cast<double>(st.st_size) / out["rollouts"].get<double>();

    auto ws = Workspace::open(path, /*read_only=*/true);
    const int64_t steps = gen.steps();
    // Page queries as the Rollouts tab makes them: first page plus four continued by keyset.
    struct Query {
        std::string name;
        RolloutFilter filter;
        RolloutSort sort;
    };
    std::vector<Query> queries;
    {
        Query q{"reward_desc_step_reward_range", {}, {}};
        q.filter.runs = {run};
        q.filter.step_min = steps / 4;
        q.filter.step_max = 3 * steps / 4;
        q.filter.reward_min = 0.5;
        q.filter.reward_max = 1.8;
        q.sort = {RolloutSortKey::TotalReward, "", true};
        queries.push_back(q);
        Query s{"step_asc_invalid_format", {}, {}};
        s.filter.runs = {run};
        s.filter.format_valid = false;
        s.sort = {RolloutSortKey::Step, "", false};
        queries.push_back(s);
        Query e{"id_eval_incorrect", {}, {}};
        e.filter.runs = {run};
        e.filter.is_eval = true;
        e.filter.correct = false;
        queries.push_back(e);
        Query c{"component_nover_desc_narrow_steps", {}, {}};
        c.filter.runs = {run};
        c.filter.step_min = steps / 2;
        c.filter.step_max = steps / 2 + 20;
        c.sort = {RolloutSortKey::Component, "nover", true};
        queries.push_back(c);
    }
    nlohmann::json per_query = nlohmann::json::object();
    double page_total = 0;
    int pages = 0;
    for (const Query& q : queries) {
        std::optional<RolloutCursor> cursor;
        double sum = 0;
        int n = 0;
        for (int k = 0; k < 5; ++k) {
            const auto t0 = Clock::now();
            const RolloutPage page = ws.rolloutPage(q.filter, q.sort, cursor, 200);
            sum += msSince(t0);
            ++n;
            if (!page.more || page.rows.empty()) break;
            cursor = page.rows.back().cursor;
        }
        per_query[q.name] = sum / n;
        page_total += sum;
        pages += n;
    }
    out["page_ms"] = page_total / pages;
    out["page_ms_by_query"] = per_query;

    Rng rng{{42}};
    const int64_t total = ws.rolloutTotal();
    double detail_ms = 0;
    const int samples = 200;
    for (int k = 0; k < samples; ++k) {
        const int64_t id = 1 + static_cast<int64_t>(rng.next() % static_cast<uint64_t>(total));
        const auto t0 = Clock::now();
        const auto d = ws.rollout(id);
        detail_ms += msSince(t0);
        if (!d || d->record.token_ids.size() != static_cast<size_t>(so.tokens))
            throw StoreError(path + ": benchmark rollout " + std::to_string(id) +
                             " read back wrong");
    }
    out["rollout_ms"] = detail_ms / samples;
    {
        RolloutFilter all;
        all.runs = {run};
        const auto t0 = Clock::now();
        const RolloutCount c = ws.rolloutCount(all);
        out["count_ms"] = msSince(t0);
        out["count"] = c.count;
    }
    if (options.path.empty() && !options.keep)
        Workspace::removeFiles(path);
    else
        out["path"] = path;
    return out;
}

}  // namespace reflab::store
