// core/text Tokenizer on small hand-made tokenizer.json files whose ids are worked out by hand
// below: merges by rank in both file forms, added tokens' lstrip/rstrip/single_word/normalized
// flags and leftmost-longest matching, ignore_merges, the post_processor's templates, and every
// load/encode error.
#include <QTemporaryDir>
#include <QtTest>
#include <nlohmann/json.hpp>

#include <fstream>

#include "core/text/tokenizer.h"
#include "tests/test_registry.h"

using nlohmann::json;
using reflab::text::Tokenizer;
using reflab::text::TokenizerError;
using Ids = std::vector<int32_t>;

namespace {

// GPT-2's bytes_to_unicode written out again here (not taken from core/): printable Latin-1
// bytes stand for themselves, the other 68 take U+0100.. in byte order.
std::string byteChar(int b) {
    static std::vector<std::string> table = [] {
        std::vector<std::string> t(256);
        int next = 256;
        for (int c = 0; c < 256; ++c) {
            const bool printable =
                (c >= 33 && c <= 126) || (c >= 161 && c <= 172) || (c >= 174 && c <= 255);
            const int cp = printable ? c : next++;
            t[static_cast<size_t>(c)] = QString(QChar(cp)).toStdString();
        }
        return t;
    }();
    return table[static_cast<size_t>(b)];
}

// Vocab: byte b has id b; then he=256, ll=257, hell=258, hello=259, Ġw=260.
json baseTokenizer(bool merges_as_strings) {
    json vocab = json::object();
    for (int b = 0; b < 256; ++b) vocab[byteChar(b)] = b;
    vocab["he"] = 256;
    vocab["ll"] = 257;
    vocab["hell"] = 258;
    vocab["hello"] = 259;
    vocab[byteChar(' ') + "w"] = 260;
    const std::vector<std::pair<std::string, std::string>> merges = {
        {"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {byteChar(' '), "w"}};
    json m = json::array();
    for (const auto& [a, b] : merges)
        m.push_back(merges_as_strings ? json(a + " " + b) : json::array({a, b}));
    const auto added = [](int id, const std::string& content, bool special, bool lstrip,
                          bool rstrip, bool normalized, bool single_word) {
        return json{{"id", id},
                    {"content", content},
                    {"special", special},
                    {"lstrip", lstrip},
                    {"rstrip", rstrip},
                    {"normalized", normalized},
                    {"single_word", single_word}};
    };
    return json{
        {"version", "1.0"},
        {"added_tokens",
         json::array({added(300, "<s>", true, false, false, false, false),
                      added(301, "[L]", false, true, false, false, false),
                      added(302, "[R]", false, false, true, false, false),
                      added(303, "word", false, false, false, false, true),
                      added(304, "\xC3\xA9", false, false, false, true, false),  // é, normalized
                      added(305, "<s>>", false, false, false, false, false),
                      added(306, "\xC3\x85", false, false, false, false, false)})},  // Å, raw
        {"normalizer", {{"type", "NFC"}}},
        {"pre_tokenizer",
         {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
        {"decoder", {{"type", "ByteLevel"}}},
        {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", m}}}};
}

class Files {
public:
    std::string write(const std::string& name, const std::string& text) {
        const std::string path = m_dir.path().toStdString() + "/" + name;
        std::ofstream(path, std::ios::binary) << text;
        return path;
    }
    std::string write(const std::string& name, const json& j) { return write(name, j.dump()); }

private:
    QTemporaryDir m_dir;
};

// The message of the TokenizerError that loading `path` throws ("" if none).
std::string loadError(const std::string& path) {
    try {
        Tokenizer::fromFile(path);
    } catch (const TokenizerError& e) {
        return e.what();
    }
    return "";
}

bool has(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

}  // namespace

class TestTokenizerSynthetic : public QObject {
    Q_OBJECT
private slots:
    void mergesByRankInBothFileForms() {
        Files f;
        for (const bool as_strings : {true, false}) {
            const Tokenizer tok = Tokenizer::fromFile(f.write("t.json", baseTokenizer(as_strings)));
            // h e l l o -> he (rank 0), ll (1), hell (2), hello (3)
            QCOMPARE(tok.encode("hello"), (Ids{259}));
            // GPT-2 regex keeps the space with the word: Ġ h e l l o -> Ġ=32, hello
            QCOMPARE(tok.encode(" hello"), (Ids{32, 259}));
            // "hel": he + l ("ll" needs two l's)
            QCOMPARE(tok.encode("hel"), (Ids{256, 108}));
            QCOMPARE(tok.vocabSize(), 307);
        }
    }

    void addedTokenFlags() {
        Files f;
        const Tokenizer tok = Tokenizer::fromFile(f.write("t.json", baseTokenizer(true)));
        // lstrip: the space before [L] belongs to the token.
        QCOMPARE(tok.encode("a [L]b"), (Ids{97, 301, 98}));
        // rstrip: the spaces after [R] belong to the token.
        QCOMPARE(tok.encode("a[R]  b"), (Ids{97, 302, 98}));
        // single_word: "word" alone or before '.', not inside "words" or "aword".
        // " words" -> Ġw(260) o r d s; " aword" -> Ġ a w o r d; " " -> Ġ
        QCOMPARE(tok.encode("word words aword word."),
                 (Ids{303, 260, 111, 114, 100, 115, 32, 97, 119, 111, 114, 100, 32, 303, 46}));
        // Leftmost-longest: "<s>>" beats "<s>".
        QCOMPARE(tok.encode("<s>>"), (Ids{305}));
        QCOMPARE(tok.encode("<s>x"), (Ids{300, 120}));
        // normalized=true: matched after NFC, so e + U+0301 is the token too.
        QCOMPARE(tok.encode("\xC3\xA9"), (Ids{304}));
        QCOMPARE(tok.encode("e\xCC\x81"), (Ids{304}));
        // normalized=false: matched on the raw text only; A + U+030A becomes Å by NFC
        // afterwards and is then plain bytes C3 85.
        QCOMPARE(tok.encode("\xC3\x85"), (Ids{306}));
        QCOMPARE(tok.encode("A\xCC\x8A"), (Ids{195, 133}));
        QVERIFY(tok.isSpecial(300));
        QVERIFY(!tok.isSpecial(301));
        QCOMPARE(tok.decode({300, 259, 32, 259}), std::string("<s>hello hello"));
        QCOMPARE(tok.decode({300, 259, 32, 259}, true), std::string("hello hello"));
    }

    void ignoreMergesTakesWholeWords() {
        Files f;
        json j = baseTokenizer(true);
        j["model"]["vocab"]["abc"] = 400;
        QCOMPARE(Tokenizer::fromFile(f.write("a.json", j)).encode("abc"), (Ids{97, 98, 99}));
        j["model"]["ignore_merges"] = true;
        QCOMPARE(Tokenizer::fromFile(f.write("b.json", j)).encode("abc"), (Ids{400}));
    }

    void splitBehaviors() {
        Files f;
        json j = baseTokenizer(true);
        // Split on a literal with each behavior, then ByteLevel without its regex; "hello"
        // alone would merge to 259, so each result shows where the word boundaries fell.
        const auto withSplit = [&](const std::string& literal, const std::string& behavior,
                                   bool invert) {
            j["pre_tokenizer"] = {
                {"type", "Sequence"},
                {"pretokenizers", json::array({{{"type", "Split"},
                                                {"pattern", {{"String", literal}}},
                                                {"behavior", behavior},
                                                {"invert", invert}},
                                               {{"type", "ByteLevel"}, {"use_regex", false}}})}};
            return Tokenizer::fromFile(f.write("split.json", j)).encode("hello");
        };
        // h | e | llo -> h e ll o
        QCOMPARE(withSplit("e", "Isolated", false), (Ids{104, 101, 257, 111}));
        // h | llo
        QCOMPARE(withSplit("e", "Removed", false), (Ids{104, 257, 111}));
        // he | llo -> he ll o
        QCOMPARE(withSplit("e", "MergedWithPrevious", false), (Ids{256, 257, 111}));
        // h | ello -> h e ll o
        QCOMPARE(withSplit("e", "MergedWithNext", false), (Ids{104, 101, 257, 111}));
        // he | l | l | o (each "l" a match) vs Contiguous: he | ll | o
        QCOMPARE(withSplit("l", "Isolated", false), (Ids{256, 108, 108, 111}));
        QCOMPARE(withSplit("l", "Contiguous", false), (Ids{256, 257, 111}));
        // invert + Removed keeps the matches only: l | l
        QCOMPARE(withSplit("l", "Removed", true), (Ids{108, 108}));
    }

    void loadErrorsNameFileAndField() {
        Files f;
        std::string e = loadError("/no/such/dir/tokenizer.json");
        QVERIFY2(has(e, "/no/such/dir/tokenizer.json") && has(e, "cannot read"), e.c_str());

        const std::string bad_json =
            f.write("bad.json", std::string("{\"model\": {\"type\": \"BPE\",}"));
        e = loadError(bad_json);
        QVERIFY2(has(e, bad_json) && has(e, "invalid JSON at byte 26"), e.c_str());

        for (const std::string type : {"WordPiece", "Unigram", "WordLevel"}) {
            json j = baseTokenizer(true);
            j["model"]["type"] = type;
            const std::string p = f.write(type + ".json", j);
            e = loadError(p);
            QVERIFY2(has(e, p) && has(e, "model.type") && has(e, type) && has(e, "only BPE"),
                     e.c_str());
        }
        {
            json j = baseTokenizer(true);
            j["model"].erase("vocab");
            e = loadError(f.write("novocab.json", j));
            QVERIFY2(has(e, "novocab.json") && has(e, "model.vocab: missing"), e.c_str());
        }
        {
            json j = baseTokenizer(true);
            j["model"].erase("merges");
            e = loadError(f.write("nomerges.json", j));
            QVERIFY2(has(e, "nomerges.json") && has(e, "model.merges: missing"), e.c_str());
        }
        {
            json j = baseTokenizer(true);
            j["model"]["merges"].push_back("hello zzz");
            e = loadError(f.write("unknown.json", j));
            QVERIFY2(has(e, "unknown.json") && has(e, "model.merges[5]") && has(e, "\"zzz\"") &&
                         has(e, "not in model.vocab"),
                     e.c_str());
        }
        {
            json j = baseTokenizer(false);
            j["model"]["merges"].push_back(json::array({"a", "b"}));  // "ab" is not in the vocab
            e = loadError(f.write("result.json", j));
            QVERIFY2(has(e, "model.merges[5]") && has(e, "\"ab\""), e.c_str());
        }
        {
            json j = baseTokenizer(true);
            j["model"]["merges"].push_back("abc");
            e = loadError(f.write("shape.json", j));
            QVERIFY2(has(e, "model.merges[5]") && has(e, "two tokens"), e.c_str());
        }
        {
            json j = baseTokenizer(true);
            j["normalizer"] = {{"type", "Lowercase"}};
            e = loadError(f.write("norm.json", j));
            QVERIFY2(has(e, "normalizer.type \"Lowercase\" is not supported"), e.c_str());
        }
        {
            json j = baseTokenizer(true);
            j["pre_tokenizer"] = {
                {"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}};
            e = loadError(f.write("regex.json", j));
            QVERIFY2(has(e, "pre_tokenizer.pattern.Regex") && has(e, "does not compile"),
                     e.c_str());
        }
        {
            json j = baseTokenizer(true);
            j["pre_tokenizer"] = {{"type", "Whitespace"}};
            e = loadError(f.write("ws.json", j));
            QVERIFY2(has(e, "pre_tokenizer.type \"Whitespace\" is not supported"), e.c_str());
        }
        {
            json j = baseTokenizer(true);
            j["added_tokens"][0].erase("content");
            e = loadError(f.write("added.json", j));
            QVERIFY2(has(e, "added_tokens[0].content"), e.c_str());
        }
        // Every message is one line.
        QVERIFY(!has(e, "\n"));
    }

    // The post_processor with add_special_tokens (HF's default encode): TemplateProcessing's
    // single template (specials before and after $A, several ids per special token),
    // RobertaProcessing's cls/sep, ByteLevel adding nothing, a Sequence applying each in turn;
    // without add_special_tokens nothing is added.
    void postProcessorTemplates() {
        Files f;
        const auto withPost = [&](const json& post) {
            json j = baseTokenizer(true);
            j["post_processor"] = post;
            return Tokenizer::fromFile(f.write("post.json", j));
        };
        const json bos = {{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}};
        const json eos = {{"SpecialToken", {{"id", "</s>"}, {"type_id", 0}}}};
        const json seqA = {{"Sequence", {{"id", "A"}, {"type_id", 0}}}};
        const json specials = {{"<s>", {{"id", "<s>"}, {"ids", {300}}, {"tokens", {"<s>"}}}},
                               {"</s>", {{"id", "</s>"}, {"ids", {2, 3}}, {"tokens", {"a", "b"}}}}};
        const json templ = {{"type", "TemplateProcessing"},
                            {"single", {bos, seqA, eos}},
                            {"special_tokens", specials}};
        Tokenizer t = withPost(templ);
        QCOMPARE(t.encode("hello"), (Ids{259}));
        QCOMPARE(t.encode("hello", false), (Ids{259}));
        QCOMPARE(t.encode("hello", true), (Ids{300, 259, 2, 3}));
        QCOMPARE(t.encode("", true), (Ids{300, 2, 3}));
        t = withPost({{"type", "RobertaProcessing"}, {"cls", {"<s>", 300}}, {"sep", {"x", 7}}});
        QCOMPARE(t.encode("hello", true), (Ids{300, 259, 7}));
        t = withPost({{"type", "ByteLevel"}, {"trim_offsets", false}});
        QCOMPARE(t.encode("hello", true), (Ids{259}));
        t = withPost(nullptr);
        QCOMPARE(t.encode("hello", true), (Ids{259}));
        // Sequence: ByteLevel, the template, then Roberta around the template's output.
        t = withPost({{"type", "Sequence"},
                      {"processors",
                       {{{"type", "ByteLevel"}},
                        templ,
                        {{"type", "RobertaProcessing"}, {"cls", {"c", 9}}, {"sep", {"s", 8}}}}}});
        QCOMPARE(t.encode("hello", true), (Ids{9, 300, 259, 2, 3, 8}));

        // Errors name post_processor and the field.
        const auto postError = [&](const json& post) {
            json j = baseTokenizer(true);
            j["post_processor"] = post;
            return loadError(f.write("bad.json", j));
        };
        std::string e = postError({{"type", "BlingFire"}});
        QVERIFY2(has(e, "post_processor.type \"BlingFire\" is not supported"), e.c_str());
        json bad = templ;
        bad["single"] = {bos, {{"SpecialToken", {{"id", "<pad>"}, {"type_id", 0}}}}, seqA};
        e = postError(bad);
        QVERIFY2(has(e, "post_processor.single[1]: special token \"<pad>\""), e.c_str());
        bad["single"] = {bos};
        e = postError(bad);
        QVERIFY2(has(e, "post_processor.single: no $A"), e.c_str());
        bad["single"] = {seqA, {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}};
        e = postError(bad);
        QVERIFY2(has(e, "post_processor.single[1].Sequence"), e.c_str());
        e = postError({{"type", "Sequence"}, {"processors", {{{"type", "Nope"}}}}});
        QVERIFY2(has(e, "post_processor.processors[0].type \"Nope\""), e.c_str());
        e = postError({{"type", "RobertaProcessing"}, {"cls", {"<s>", -1}}, {"sep", {"x", 7}}});
        QVERIFY2(has(e, "post_processor.cls: expected [token, id]"), e.c_str());
        QVERIFY(!has(e, "\n"));
    }

    void invalidUtf8IsRefused() {
        Files f;
        const Tokenizer tok = Tokenizer::fromFile(f.write("t.json", baseTokenizer(true)));
        try {
            tok.encode(std::string("hello \xE4\xB8 world"));
            QFAIL("no error");
        } catch (const TokenizerError& e) {
            QVERIFY2(has(e.what(), "not valid UTF-8 at byte offset 6"), e.what());
        }
    }
};

REFLAB_TEST_APPLESS(TestTokenizerSynthetic);
#include "test_tokenizer_synthetic.moc"
