// core/model loading: config parsing of the three architectures, safetensors validation (every
// bad input is one ModelLoadError naming the file and the tensor/field), save + reload.
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>

#include "core/model/language_model.h"
#include "core/model/safetensors.h"
#include "tests/core/model_test_util.h"
#include "tests/test_registry.h"

using reflab::model::LanguageModel;
using reflab::model::ModelLoadError;
namespace fs = std::filesystem;

namespace {
// A writable copy of a tiny model directory.
std::string copyModel(const QTemporaryDir& tmp, const std::string& name) {
    const fs::path dst = fs::path(tmp.path().toStdString()) / name;
    fs::copy(model_test::modelDir(name), dst, fs::copy_options::recursive);
    return dst.string();
}
nlohmann::json readJson(const fs::path& p) {
    std::ifstream in(p);
    return nlohmann::json::parse(in);
}
void writeJson(const fs::path& p, const nlohmann::json& j) {
    std::ofstream out(p);
    out << j.dump(2);
}
// Loads and returns the error message ("" when it loaded).
std::string loadError(const std::string& dir) {
    try {
        LanguageModel::load(dir);
    } catch (const ModelLoadError& e) {
        return e.what();
    } catch (const std::exception& e) {
        return std::string("WRONG EXCEPTION TYPE: ") + e.what();
    }
    return "";
}
#define QVERIFY_CONTAINS(hay, needle)                            \
    QVERIFY2(std::string(hay).find(needle) != std::string::npos, \
             (std::string(hay) + " lacks " + (needle)).c_str())
}  // namespace

class TestModelLoad : public QObject {
    Q_OBJECT
private slots:
    void parsesTheThreeArchitectures() {
        auto q2 = reflab::model::loadModelConfig(model_test::modelDir("tiny-qwen2"));
        QCOMPARE(q2.architecture, std::string("qwen2"));
        QVERIFY(q2.tie_word_embeddings);
        QVERIFY(q2.attention_bias);
        QVERIFY(!q2.qk_norm);
        QCOMPARE(q2.head_dim, int64_t(16));  // hidden 64 / 4 heads
        QCOMPARE(q2.num_key_value_heads, int64_t(2));
        QCOMPARE(q2.rms_norm_eps, 1e-6);
        QCOMPARE(q2.torch_dtype, std::string("float32"));
        // eos from config.json (<|im_end|>) and generation_config.json (+ <|endoftext|>)
        QCOMPARE(q2.eos_token_ids, (std::vector<int32_t>{298, 296}));

        auto q3 = reflab::model::loadModelConfig(model_test::modelDir("tiny-qwen3"));
        QCOMPARE(q3.architecture, std::string("qwen3"));
        QVERIFY(!q3.tie_word_embeddings);
        QVERIFY(!q3.attention_bias);
        QVERIFY(q3.qk_norm);
        QCOMPARE(q3.head_dim, int64_t(32));  // from config, not 64 / 4
        QCOMPARE(q3.torch_dtype, std::string("bfloat16"));

        auto ll = reflab::model::loadModelConfig(model_test::modelDir("tiny-llama"));
        QCOMPARE(ll.architecture, std::string("llama"));
        QVERIFY(!ll.tie_word_embeddings);
        QCOMPARE(ll.num_key_value_heads, int64_t(1));
        QCOMPARE(ll.rope_theta, 500000.0);
        QVERIFY(ll.rope_scaling.has_value());
        QCOMPARE(ll.rope_scaling->factor, 8.0);
        QCOMPARE(ll.rope_scaling->original_max_position_embeddings, int64_t(16));
        QCOMPARE(ll.rms_norm_eps, 1e-5);
    }

    void parameterCountMatchesTheWeights() {
        for (const char* name : {"tiny-qwen2", "tiny-qwen3", "tiny-llama"}) {
            auto lm = LanguageModel::load(model_test::modelDir(name));
            int64_t n = 0;
            for (const auto& p : lm->parameters()) n += p.numel();
            QCOMPARE(lm->config().parameterCount(), n);
        }
        // Hand count of tiny-qwen2: embedding 320*64 (tied) + final norm 64 + 2 layers of
        // q 64*64+64, k 32*64+32, v 32*64+32, o 64*64, mlp 3*64*128, norms 2*64.
        const int64_t layer = (64 * 64 + 64) + 2 * (32 * 64 + 32) + 64 * 64 + 3 * 64 * 128 + 2 * 64;
        QCOMPARE(LanguageModel::load(model_test::modelDir("tiny-qwen2"))->config().parameterCount(),
                 int64_t(320 * 64 + 64 + 2 * layer));
    }

    void namesFollowHuggingFace() {
        auto lm = LanguageModel::load(model_test::modelDir("tiny-qwen3"));
        std::vector<std::string> names;
        for (const auto& [n, t] : lm->namedParameters()) names.push_back(n);
        auto has = [&](const std::string& n) {
            return std::find(names.begin(), names.end(), n) != names.end();
        };
        QVERIFY(has("model.embed_tokens.weight"));
        QVERIFY(has("model.layers.1.self_attn.q_norm.weight"));
        QVERIFY(has("model.layers.0.mlp.down_proj.weight"));
        QVERIFY(has("lm_head.weight"));
        QVERIFY(!has("model.layers.0.self_attn.q_proj.bias"));
        auto tied = LanguageModel::load(model_test::modelDir("tiny-qwen2"));
        for (const auto& [n, t] : tied->namedParameters()) QVERIFY(n != "lm_head.weight");
    }

    void loadsBf16IntoEitherDtype() {
        reflab::model::LoadOptions o;
        o.dtype = torch::kBFloat16;
        auto b = LanguageModel::load(model_test::modelDir("tiny-qwen3"), o);
        auto f = LanguageModel::load(model_test::modelDir("tiny-qwen3"));
        for (const auto& p : b->parameters()) QCOMPARE(p.scalar_type(), torch::kBFloat16);
        for (const auto& p : f->parameters()) QCOMPARE(p.scalar_type(), torch::kFloat32);
        // bf16 stored values are exact in float32
        QCOMPARE(model_test::maxAbsDiff(b->parameters()[0], f->parameters()[0]), 0.0);
    }

    void shardedIndexIsFollowed() {
        reflab::model::SafetensorsIndex idx =
            reflab::model::SafetensorsIndex::openDirectory(model_test::modelDir("tiny-llama"));
        QVERIFY(idx.fileOf("lm_head.weight").find("model-0000") != std::string::npos);
        QVERIFY(idx.fileOf("model.embed_tokens.weight") != idx.fileOf("model.norm.weight") ||
                idx.fileOf("lm_head.weight") != idx.fileOf("model.norm.weight"));
    }

    void saveAndReloadGivesTheSameLogits_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<bool>("bf16");
        QTest::newRow("qwen2/f32") << "tiny-qwen2" << false;
        QTest::newRow("qwen3/bf16") << "tiny-qwen3" << true;
        QTest::newRow("llama/f32 (sharded in, single out)") << "tiny-llama" << false;
    }
    void saveAndReloadGivesTheSameLogits() {
        QFETCH(QString, model);
        QFETCH(bool, bf16);
        QTemporaryDir tmp;
        reflab::model::LoadOptions o;
        o.dtype = bf16 ? torch::kBFloat16 : torch::kFloat32;
        auto lm = LanguageModel::load(model_test::modelDir(model.toStdString()), o);
        const std::string out = tmp.path().toStdString() + "/saved";
        lm->saveHfDirectory(out);
        QVERIFY(fs::exists(out + "/tokenizer.json"));
        QVERIFY(fs::exists(out + "/tokenizer_config.json"));
        QCOMPARE(readJson(out + "/config.json")["torch_dtype"].get<std::string>(),
                 std::string(bf16 ? "bfloat16" : "float32"));
        auto back = LanguageModel::load(out, o);
        torch::NoGradGuard ng;
        torch::Tensor ids = model_test::idsTensor({4, 8, 15, 16, 23, 42});
        QCOMPARE(model_test::maxAbsDiff(lm->forward(ids), back->forward(ids)), 0.0);
        // A clone is a deep copy: changing it leaves the original alone.
        auto c = lm->clone();
        QCOMPARE(model_test::maxAbsDiff(lm->forward(ids), c->forward(ids)), 0.0);
        c->parameters()[0].add_(1.0);
        QVERIFY(model_test::maxAbsDiff(lm->parameters()[0], c->parameters()[0]) > 0.5);
    }

    // ---- bad input: one ModelLoadError naming the file and the tensor or field ----
    void truncatedSafetensors() {
        QTemporaryDir tmp;
        const std::string dir = copyModel(tmp, "tiny-qwen2");
        const fs::path st = fs::path(dir) / "model.safetensors";
        fs::resize_file(st, fs::file_size(st) - 100);
        const std::string err = loadError(dir);
        QVERIFY_CONTAINS(err, "model.safetensors");
        QVERIFY_CONTAINS(err, "truncated");
        QVERIFY_CONTAINS(err, "tensor '");
        fs::resize_file(st, 5);
        QVERIFY_CONTAINS(loadError(dir), "truncated");
    }
    void corruptHeader() {
        QTemporaryDir tmp;
        const std::string dir = copyModel(tmp, "tiny-qwen2");
        const fs::path st = fs::path(dir) / "model.safetensors";
        {
            std::fstream f(st, std::ios::in | std::ios::out | std::ios::binary);
            f.seekp(8);
            f.write("#garbage", 8);
        }
        std::string err = loadError(dir);
        QVERIFY_CONTAINS(err, "model.safetensors");
        QVERIFY_CONTAINS(err, "corrupt header");
        {
            std::fstream f(st, std::ios::in | std::ios::out | std::ios::binary);
            const char huge[8] = {char(0xff), char(0xff), char(0xff), char(0xff), 0, 0, 0, 0};
            f.write(huge, 8);
        }
        err = loadError(dir);
        QVERIFY_CONTAINS(err, "header length");
    }
    void missingTensor() {
        QTemporaryDir tmp;
        const std::string dir = copyModel(tmp, "tiny-qwen3");
        auto lm = LanguageModel::load(dir);
        auto params = lm->namedParameters();
        params.erase(
            std::remove_if(params.begin(), params.end(),
                           [](auto& p) { return p.first == "model.layers.1.mlp.up_proj.weight"; }),
            params.end());
        reflab::model::writeSafetensors(dir + "/model.safetensors", params);
        const std::string err = loadError(dir);
        QVERIFY_CONTAINS(err, "model.safetensors");
        QVERIFY_CONTAINS(err, "'model.layers.1.mlp.up_proj.weight' is missing");
    }
    void missingTensorInAShard() {
        QTemporaryDir tmp;
        const std::string dir = copyModel(tmp, "tiny-llama");
        const fs::path index = fs::path(dir) / "model.safetensors.index.json";
        nlohmann::json j = readJson(index);
        j["weight_map"].erase("model.norm.weight");
        writeJson(index, j);
        std::string err = loadError(dir);
        QVERIFY_CONTAINS(err, "model.safetensors.index.json");
        QVERIFY_CONTAINS(err, "'model.norm.weight' is missing");
        // The index names a tensor that its shard does not hold.
        j["weight_map"]["model.norm.weight"] =
            j["weight_map"]["lm_head.weight"] == "model-00001-of-00002.safetensors"
                ? "model-00001-of-00002.safetensors"
                : "model-00002-of-00002.safetensors";
        j["weight_map"]["model.extra.weight"] = "model-00001-of-00002.safetensors";
        writeJson(index, j);
        err = loadError(dir);
        QVERIFY_CONTAINS(err, "model-0000");
        QVERIFY_CONTAINS(err, "'model.extra.weight' is missing");
    }
    void wrongShape() {
        QTemporaryDir tmp;
        const std::string dir = copyModel(tmp, "tiny-qwen2");
        const fs::path cfg = fs::path(dir) / "config.json";
        nlohmann::json j = readJson(cfg);
        j["intermediate_size"] = 96;
        writeJson(cfg, j);
        const std::string err = loadError(dir);
        QVERIFY_CONTAINS(err, "model.safetensors");
        QVERIFY_CONTAINS(err, "mlp.");
        QVERIFY_CONTAINS(err, "[128, 64]");
        QVERIFY_CONTAINS(err, "[96, 64]");
    }
    void extraLayerInWeights() {
        QTemporaryDir tmp;
        const std::string dir = copyModel(tmp, "tiny-qwen2");
        const fs::path cfg = fs::path(dir) / "config.json";
        nlohmann::json j = readJson(cfg);
        j["num_hidden_layers"] = 1;
        writeJson(cfg, j);
        const std::string err = loadError(dir);
        QVERIFY_CONTAINS(err, "model.layers.1.");
        QVERIFY_CONTAINS(err, "1 layers");
    }
    void unknownArchitecture() {
        QTemporaryDir tmp;
        const std::string dir = copyModel(tmp, "tiny-qwen2");
        const fs::path cfg = fs::path(dir) / "config.json";
        nlohmann::json j = readJson(cfg);
        j["model_type"] = "gpt2";
        j["architectures"] = {"GPT2LMHeadModel"};
        writeJson(cfg, j);
        const std::string err = loadError(dir);
        QVERIFY_CONTAINS(err, "config.json");
        QVERIFY_CONTAINS(err, "model_type");
        QVERIFY_CONTAINS(err, "gpt2");
    }
    void missingConfigField_data() {
        QTest::addColumn<QString>("field");
        for (const char* f : {"hidden_size", "vocab_size", "num_hidden_layers",
                              "num_attention_heads", "intermediate_size"})
            QTest::newRow(f) << QString(f);
    }
    void missingConfigField() {
        QFETCH(QString, field);
        QTemporaryDir tmp;
        const std::string dir = copyModel(tmp, "tiny-llama");
        const fs::path cfg = fs::path(dir) / "config.json";
        nlohmann::json j = readJson(cfg);
        j.erase(field.toStdString());
        writeJson(cfg, j);
        const std::string err = loadError(dir);
        QVERIFY_CONTAINS(err, "config.json");
        QVERIFY_CONTAINS(err, "'" + field.toStdString() + "' is missing");
    }
    void badConfigValues() {
        QTemporaryDir tmp;
        const std::string dir = copyModel(tmp, "tiny-qwen2");
        const fs::path cfg = fs::path(dir) / "config.json";
        nlohmann::json j = readJson(cfg);
        j["hidden_size"] = "wide";
        writeJson(cfg, j);
        QVERIFY_CONTAINS(loadError(dir), "'hidden_size' must be an integer");
        j = readJson(model_test::modelDir("tiny-qwen2") + "/config.json");
        j["num_key_value_heads"] = 3;
        writeJson(cfg, j);
        QVERIFY_CONTAINS(loadError(dir), "num_key_value_heads");
        {
            std::ofstream out(cfg);
            out << "{ not json";
        }
        QVERIFY_CONTAINS(loadError(dir), "config.json: invalid JSON");
        fs::remove(cfg);
        QVERIFY_CONTAINS(loadError(dir), "config.json: cannot be opened");
    }
    void unsupportedDtype() {
        QTemporaryDir tmp;
        const std::string dir = copyModel(tmp, "tiny-qwen2");
        const fs::path st = fs::path(dir) / "model.safetensors";
        std::string bytes;
        {
            std::ifstream in(st, std::ios::binary);
            bytes.assign(std::istreambuf_iterator<char>(in), {});
        }
        const size_t at = bytes.find("\"F32\"");
        QVERIFY(at != std::string::npos);
        bytes.replace(at, 5, "\"I32\"");  // same size, a dtype models never use
        {
            std::ofstream out(st, std::ios::binary | std::ios::trunc);
            out << bytes;
        }
        const std::string err = loadError(dir);
        QVERIFY_CONTAINS(err, "model.safetensors: tensor '");
        QVERIFY_CONTAINS(err, "'I32' is not supported");
    }
};

REFLAB_TEST_APPLESS(TestModelLoad);
#include "test_model_load.moc"
