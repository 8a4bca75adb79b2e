// core/text Tokenizer on the real Qwen3 tokenizer.json: every vector built by the Hugging Face
// tokenizers JS library (tests/tools/tokenizer/make_vectors.mjs) must come out id for id, and
// decode(encode(x)) must give back NFC(x). Also logs the encode throughput (no timed assert).
#include <utf8proc.h>
#include <QtTest>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <ctime>
#include <fstream>
#include <thread>

#include "core/text/tokenizer.h"
#include "tests/test_registry.h"

using reflab::text::Tokenizer;
using reflab::text::TokenizerError;

namespace {

const std::string kDir = REFLAB_TEST_DATA "/tokenizers/qwen3";

const Tokenizer& qwen3() {
    static const Tokenizer tok = Tokenizer::fromFile(kDir + "/tokenizer.json");
    return tok;
}

struct Vector {
    std::string text;
    std::vector<int32_t> ids;
};

const std::vector<Vector>& vectors() {
    static const std::vector<Vector> v = [] {
        std::vector<Vector> out;
        std::ifstream in(kDir + "/vectors.jsonl");
        std::string line;
        while (std::getline(in, line)) {
            if (line.empty()) continue;
            const auto j = nlohmann::json::parse(line);
            out.push_back(
                {j.at("text").get<std::string>(), j.at("ids").get<std::vector<int32_t>>()});
        }
        return out;
    }();
    return v;
}

// NFC of the whole text (with its NUL bytes: utf8proc_map takes the length).
std::string nfc(const std::string& s) {
    utf8proc_uint8_t* out = nullptr;
    const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                                static_cast<utf8proc_ssize_t>(s.size()), &out,
                                static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
    std::string r(reinterpret_cast<const char*>(out), n > 0 ? static_cast<size_t>(n) : 0);
    std::free(out);
    return r;
}

std::string show(const std::vector<int32_t>& ids) {
    std::string s = "[";
    for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
    return s + "]";
}

}  // namespace

class TestTokenizer : public QObject {
    Q_OBJECT
private slots:
    void loadsQwen3() {
        QCOMPARE(qwen3().vocabSize(), 151669);  // 151643 BPE tokens + 26 added tokens
        QCOMPARE(qwen3().tokenId("<|im_start|>").value(), 151644);
        QCOMPARE(qwen3().tokenId("<|im_end|>").value(), 151645);
        QCOMPARE(qwen3().tokenId("<think>").value(), 151667);
        QCOMPARE(qwen3().tokenId("Hello").value(), 9707);
        QCOMPARE(qwen3().tokenId("Ġworld").value(), 1879);
        QVERIFY(!qwen3().tokenId("no such token here").has_value());
        QCOMPARE(qwen3().tokenText(1879), std::string("Ġworld"));
        QCOMPARE(qwen3().tokenText(151645), std::string("<|im_end|>"));
        QVERIFY_THROWS_EXCEPTION(TokenizerError, qwen3().tokenText(151669));
        QVERIFY_THROWS_EXCEPTION(TokenizerError, qwen3().tokenText(-1));
        QVERIFY(qwen3().isSpecial(151643));   // <|endoftext|>
        QVERIFY(qwen3().isSpecial(151644));   // <|im_start|>
        QVERIFY(!qwen3().isSpecial(151667));  // <think> is an added token but not special
        QVERIFY(!qwen3().isSpecial(9707));
    }

    void matchesHuggingFaceVectors() {
        QVERIFY(vectors().size() >= 300);
        int failures = 0;
        std::string first;
        for (const Vector& v : vectors()) {
            const std::vector<int32_t> got = qwen3().encode(v.text);
            if (got != v.ids) {
                if (failures < 5)
                    first += "\n  text " + nlohmann::json(v.text).dump() + "\n   want " +
                             show(v.ids) + "\n   got  " + show(got);
                ++failures;
            }
        }
        QVERIFY2(failures == 0, (std::to_string(failures) + " of " +
                                 std::to_string(vectors().size()) + " vectors differ:" + first)
                                    .c_str());
    }

    void decodeInvertsEncodeUpToNfc() {
        int failures = 0;
        std::string first;
        for (const Vector& v : vectors()) {
            const std::string back = qwen3().decode(qwen3().encode(v.text));
            if (back != nfc(v.text)) {
                if (failures < 3) first += "\n  " + nlohmann::json(v.text).dump();
                ++failures;
            }
        }
        QVERIFY2(failures == 0,
                 (std::to_string(failures) + " round trips differ:" + first).c_str());
    }

    void handWrittenCases() {
        // Written out from the vocabulary, not from the C++ code: "Hello"=9707, "Ġworld"=1879.
        QCOMPARE(qwen3().encode("Hello world"), (std::vector<int32_t>{9707, 1879}));
        QCOMPARE(qwen3().encode(""), std::vector<int32_t>{});
        // Special tokens are matched before splitting: exactly one id each.
        const auto ids = qwen3().encode("<|im_start|>user\nHi<|im_end|>");
        QCOMPARE(ids.front(), 151644);
        QCOMPARE(ids.back(), 151645);
        // \p{N} splits numbers into single digits: "2024" is four tokens, one per digit.
        const auto digits = qwen3().encode("2024");
        QCOMPARE(digits.size(), size_t(4));
        QCOMPARE(digits[0], qwen3().tokenId("2").value());
        QCOMPARE(digits[1], qwen3().tokenId("0").value());
    }

    void decodeSkipsSpecialOnRequest() {
        const auto ids =
            qwen3().encode("<|im_start|>assistant\n<think>\nx\n</think>\n\nHi<|im_end|>");
        QCOMPARE(qwen3().decode(ids),
                 std::string("<|im_start|>assistant\n<think>\nx\n</think>\n\nHi<|im_end|>"));
        // <think> is not special, so it stays.
        QCOMPARE(qwen3().decode(ids, true), std::string("assistant\n<think>\nx\n</think>\n\nHi"));
    }

    void decodeReplacesBrokenUtf8() {
        // "中" is E4 B8 AD; the byte-level tokens for E4 ("ä") and B8 ("¸") alone are an
        // incomplete sequence: one U+FFFD for the maximal invalid part, then "a".
        const int32_t e4 = qwen3().tokenId("ä").value();
        const int32_t b8 = qwen3().tokenId("¸").value();
        const int32_t a = qwen3().tokenId("a").value();
        QCOMPARE(qwen3().decode({e4, b8, a}), std::string("\xEF\xBF\xBD"
                                                          "a"));
        QCOMPARE(qwen3().decode({b8, b8}), std::string("\xEF\xBF\xBD\xEF\xBF\xBD"));
        // Ids with no token (a model's padded embedding rows) decode to nothing, as in HF.
        QCOMPARE(qwen3().decode({a, 151900, a}), std::string("aa"));
    }

    void byteVocabularyGivesEachTokensBytes() {
        const auto vocab = qwen3().byteVocabulary();
        QCOMPARE(int(vocab.size()), qwen3().vocabSize());
        // The byte-level alphabet by hand: "ä" stands for byte E4, "¸" for B8, "Ġ" for a space.
        QCOMPARE(vocab[size_t(qwen3().tokenId("ä").value())], std::string("\xE4"));
        QCOMPARE(vocab[size_t(qwen3().tokenId("¸").value())], std::string("\xB8"));
        QCOMPARE(vocab[size_t(qwen3().tokenId("Ġthe").value())], std::string(" the"));
        QCOMPARE(vocab[size_t(qwen3().tokenId("<|im_end|>").value())], std::string("<|im_end|>"));
        // Any text's tokens put back together byte for byte, including characters split
        // across tokens: the input is the expected value.
        for (const std::string text :
             {std::string("Hello, world! 12 + 30 = 42"),
              std::string("中文 測試 emoji \xF0\x9F\x98\x80 done"),
              std::string("<think>\nx\n</think>\n\n<answer> 7 </answer>")}) {
            std::string joined;
            for (const int32_t id : qwen3().encode(text)) joined += vocab[size_t(id)];
            QCOMPARE(joined, text);
        }
    }

    void invalidUtf8NamesTheOffset() {
        const std::string cases[] = {std::string("ab\xFF"), std::string("abc\xC3"),
                                     std::string("ab\xED\xA0\x80"),       // a surrogate
                                     std::string("ab\xC0\xAF"),           // overlong '/'
                                     std::string("ab\xF4\x90\x80\x80")};  // past U+10FFFF
        for (const std::string& s : cases) {
            try {
                qwen3().encode(s);
                QFAIL("no error for invalid UTF-8");
            } catch (const TokenizerError& e) {
                const std::string what = e.what();
                QVERIFY2(what.find("byte offset 2") != std::string::npos ||
                             what.find("byte offset 3") != std::string::npos,
                         what.c_str());
                QVERIFY(what.find("UTF-8") != std::string::npos);
            }
        }
        try {
            qwen3().encode(std::string("abc\xC3"));
        } catch (const TokenizerError& e) {
            QVERIFY(std::string(e.what()).find("byte offset 3") != std::string::npos);
        }
    }

    void copiesShareAndAreThreadSafe() {
        const Tokenizer copy = qwen3();
        std::vector<std::thread> threads;
        std::atomic<int> bad{0};
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&, t] {
                for (size_t i = static_cast<size_t>(t); i < vectors().size(); i += 4)
                    if (copy.encode(vectors()[i].text) != vectors()[i].ids) ++bad;
            });
        for (auto& th : threads) th.join();
        QCOMPARE(bad.load(), 0);
    }

    void logsEncodeThroughput() {
        // A few MB of the vectors' mixed text (multilingual, code, emoji, special tokens).
        std::string corpus;
        for (int rep = 0; corpus.size() < 4u << 20; ++rep)
            for (const Vector& v : vectors()) corpus += v.text + "\n" + std::to_string(rep) + " ";
        const Tokenizer fresh = Tokenizer::fromFile(kDir + "/tokenizer.json");  // empty cache
        // CPU time as well as wall time: the build machine is shared, wall time is noisy.
        const auto t0 = std::chrono::steady_clock::now();
        const std::clock_t c0 = std::clock();
        const auto cold = fresh.encode(corpus);
        const auto t1 = std::chrono::steady_clock::now();
        const std::clock_t c1 = std::clock();
        const auto warm = fresh.encode(corpus);
        const auto t2 = std::chrono::steady_clock::now();
        const std::clock_t c2 = std::clock();
        QCOMPARE(cold, warm);
        const double mb = static_cast<double>(corpus.size()) / 1e6;
        const auto secs = [](auto a, auto b) {
            return std::chrono::duration<double>(b - a).count();
        };
        const auto cpu = [](std::clock_t a, std::clock_t b) {
            return static_cast<double>(b - a) / CLOCKS_PER_SEC;
        };
        qInfo(
            "encode throughput (one thread): %.2f MB of mixed text, %zu tokens; cold cache "
            "%.1f MB/s wall, %.1f MB/s CPU; warm cache %.1f MB/s wall, %.1f MB/s CPU",
            mb, cold.size(), mb / secs(t0, t1), mb / cpu(c0, c1), mb / secs(t1, t2),
            mb / cpu(c1, c2));
    }
};

REFLAB_TEST_APPLESS(TestTokenizer);
#include "test_tokenizer.moc"
