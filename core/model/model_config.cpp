// Parsing and validation of config.json into ModelConfig (see model_config.h).
#include "core/model/model_config.h"

#include <filesystem>
#include <fstream>

namespace reflab::model {
namespace fs = std::filesystem;

namespace {

struct Reader {
    const nlohmann::json& j;
    const std::string& source;

    [[noreturn]] void fail(const std::string& field, const std::string& why) const {
        throw ModelLoadError(source + ": field '" + field + "' " + why);
    }
    int64_t integer(const char* field) const {
        auto it = j.find(field);
        if (it == j.end() || it->is_null()) fail(field, "is missing");
        if (!it->is_number_integer()) fail(field, "must be an integer");
        const int64_t v = it->get<int64_t>();
        if (v <= 0) fail(field, "must be positive (got " + std::to_string(v) + ")");
        return v;
    }
    std::optional<int64_t> optInteger(const char* field) const {
        auto it = j.find(field);
        if (it == j.end() || it->is_null()) return std::nullopt;
        return integer(field);
    }
    double number(const char* field, double fallback) const {
        auto it = j.find(field);
        if (it == j.end() || it->is_null()) return fallback;
        if (!it->is_number()) fail(field, "must be a number");
        const double v = it->get<double>();
        if (!(v > 0)) fail(field, "must be positive");
        return v;
    }
    bool boolean(const char* field, bool fallback) const {
        auto it = j.find(field);
        if (it == j.end() || it->is_null()) return fallback;
        if (!it->is_boolean()) fail(field, "must be true or false");
        return it->get<bool>();
    }
};

// Token ids given as an integer or a list of integers (eos_token_id may be either).
void appendIds(const nlohmann::json& j, const char* field, const std::string& source,
               std::vector<int32_t>& out) {
    auto it = j.find(field);
    if (it == j.end() || it->is_null()) return;
    auto add = [&](const nlohmann::json& v) {
        if (!v.is_number_integer() || v.get<int64_t>() < 0)
            throw ModelLoadError(source + ": field '" + field + "' must hold token ids");
        const int32_t id = v.get<int32_t>();
        if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
    };
    if (it->is_array()) {
        for (const auto& v : *it) add(v);
    } else {
        add(*it);
    }
}

std::optional<int32_t> optId(const nlohmann::json& j, const char* field,
                             const std::string& source) {
    std::vector<int32_t> ids;
    appendIds(j, field, source, ids);
    if (ids.empty()) return std::nullopt;
    return ids.front();
}

std::string detectArchitecture(const nlohmann::json& j, const std::string& source) {
    std::string type = j.value("model_type", std::string());
    if (type.empty() && j.contains("architectures") && j["architectures"].is_array() &&
        !j["architectures"].empty() && j["architectures"][0].is_string()) {
        const std::string a = j["architectures"][0].get<std::string>();
        if (a.rfind("Qwen3", 0) == 0)
            type = "qwen3";
        else if (a.rfind("Qwen2", 0) == 0)
            type = "qwen2";
        else if (a.rfind("Llama", 0) == 0)
            type = "llama";
        else
            type = a;
    }
    if (type == "qwen2" || type == "qwen3" || type == "llama") return type;
    if (type.empty()) throw ModelLoadError(source + ": field 'model_type' is missing");
    throw ModelLoadError(source + ": field 'model_type' names an unsupported architecture '" +
                         type + "' (supported: qwen2, qwen3, llama)");
}

// HF's Qwen2Config/Qwen3Config: sliding_window counts only with use_sliding_window (else it is
// None); the sliding layers are layer_types' "sliding_attention" entries when the list is
// given, else the layers from max_window_layers on (default 28). Llama's config has no sliding
// window in HF (LlamaAttention never reads one), so its fields are not read either.
void readSlidingWindow(const nlohmann::json& j, const Reader& r, ModelConfig& c) {
    c.layer_slides.assign(static_cast<size_t>(c.num_hidden_layers), false);
    if (c.architecture == "llama" || !r.boolean("use_sliding_window", false)) return;
    const auto window = r.optInteger("sliding_window");
    if (!window) return;  // HF: use_sliding_window with sliding_window null slides nowhere
    c.sliding_window = *window;
    auto types = j.find("layer_types");
    if (types != j.end() && !types->is_null()) {
        if (!types->is_array() || static_cast<int64_t>(types->size()) != c.num_hidden_layers)
            r.fail("layer_types", "must list one attention type per layer (" +
                                      std::to_string(c.num_hidden_layers) + ")");
        for (size_t i = 0; i < types->size(); ++i) {
            const auto& t = (*types)[i];
            if (t == "sliding_attention")
                c.layer_slides[i] = true;
            else if (t != "full_attention")
                r.fail("layer_types", "entry " + std::to_string(i) +
                                          " must be \"full_attention\" or \"sliding_attention\"");
        }
        return;
    }
    int64_t from = 28;
    if (auto it = j.find("max_window_layers"); it != j.end() && !it->is_null()) {
        if (!it->is_number_integer() || it->get<int64_t>() < 0)
            r.fail("max_window_layers", "must be a non-negative integer");
        from = it->get<int64_t>();
    }
    for (int64_t i = from; i < c.num_hidden_layers; ++i)
        c.layer_slides[static_cast<size_t>(i)] = true;
}

}  // namespace

ModelConfig parseModelConfig(const nlohmann::json& j, const std::string& source) {
    if (!j.is_object()) throw ModelLoadError(source + ": expected a JSON object");
    Reader r{j, source};
    ModelConfig c;
    c.raw = j;
    c.architecture = detectArchitecture(j, source);
    c.vocab_size = r.integer("vocab_size");
    c.hidden_size = r.integer("hidden_size");
    c.intermediate_size = r.integer("intermediate_size");
    c.num_hidden_layers = r.integer("num_hidden_layers");
    c.num_attention_heads = r.integer("num_attention_heads");
    c.num_key_value_heads = r.optInteger("num_key_value_heads").value_or(c.num_attention_heads);
    c.max_position_embeddings = r.optInteger("max_position_embeddings").value_or(32768);
    if (c.num_attention_heads % c.num_key_value_heads != 0)
        r.fail("num_key_value_heads", "must divide num_attention_heads");
    if (auto hd = r.optInteger("head_dim")) {
        c.head_dim = *hd;
    } else {
        if (c.hidden_size % c.num_attention_heads != 0)
            r.fail("head_dim",
                   "is missing and hidden_size is not a multiple of num_attention_heads");
        c.head_dim = c.hidden_size / c.num_attention_heads;
    }
    if (c.head_dim % 2 != 0) r.fail("head_dim", "must be even (rotary embedding)");
    c.rms_norm_eps = r.number("rms_norm_eps", 1e-6);
    c.rope_theta = r.number("rope_theta", 10000.0);
    if (j.contains("rope_parameters") && j["rope_parameters"].is_object() &&
        !j.contains("rope_theta"))
        c.rope_theta = Reader{j["rope_parameters"], source}.number("rope_theta", c.rope_theta);
    c.tie_word_embeddings = r.boolean("tie_word_embeddings", c.architecture != "llama");
    if (c.architecture == "qwen2") {
        c.attention_bias = r.boolean("attention_bias", true);
    } else {
        c.attention_bias = r.boolean("attention_bias", false);
    }
    c.qk_norm = c.architecture == "qwen3";
    if (r.boolean("mlp_bias", false)) r.fail("mlp_bias", "true is not supported");

    auto rs = j.find("rope_scaling");
    if (rs != j.end() && !rs->is_null()) {
        if (!rs->is_object()) r.fail("rope_scaling", "must be an object");
        const std::string type = rs->value("rope_type", rs->value("type", std::string()));
        if (type == "llama3") {
            Reader s{*rs, source};
            RopeScaling sc;
            sc.factor = s.number("factor", 1.0);
            sc.low_freq_factor = s.number("low_freq_factor", 1.0);
            sc.high_freq_factor = s.number("high_freq_factor", 4.0);
            sc.original_max_position_embeddings =
                s.optInteger("original_max_position_embeddings").value_or(8192);
            if (sc.high_freq_factor <= sc.low_freq_factor)
                r.fail("rope_scaling.high_freq_factor", "must exceed low_freq_factor");
            c.rope_scaling = sc;
        } else if (type != "default" && !type.empty()) {
            r.fail("rope_scaling.rope_type", "'" + type + "' is not supported (supported: llama3)");
        }
    }
    readSlidingWindow(j, r, c);
    appendIds(j, "eos_token_id", source, c.eos_token_ids);
    c.bos_token_id = optId(j, "bos_token_id", source);
    c.pad_token_id = optId(j, "pad_token_id", source);
    c.torch_dtype = j.value("torch_dtype", j.value("dtype", std::string("float32")));
    return c;
}

ModelConfig loadModelConfig(const std::string& model_dir) {
    const fs::path path = fs::path(model_dir) / "config.json";
    std::ifstream in(path);
    if (!in)
        throw ModelLoadError(path.string() + ": cannot be opened (is this a model directory?)");
    nlohmann::json j;
    try {
        in >> j;
    } catch (const nlohmann::json::exception& e) {
        throw ModelLoadError(path.string() + ": invalid JSON (" + e.what() + ")");
    }
    ModelConfig c = parseModelConfig(j, path.string());
    // generation_config.json may name further stop ids (Llama 3 instruct: <|eot_id|>).
    const fs::path gen = fs::path(model_dir) / "generation_config.json";
    if (fs::exists(gen)) {
        std::ifstream g(gen);
        nlohmann::json gj;
        try {
            g >> gj;
        } catch (const nlohmann::json::exception& e) {
            throw ModelLoadError(gen.string() + ": invalid JSON (" + e.what() + ")");
        }
        if (gj.is_object()) {
            appendIds(gj, "eos_token_id", gen.string(), c.eos_token_ids);
            if (!c.bos_token_id) c.bos_token_id = optId(gj, "bos_token_id", gen.string());
            if (!c.pad_token_id) c.pad_token_id = optId(gj, "pad_token_id", gen.string());
        }
    }
    return c;
}

int64_t ModelConfig::parameterCount() const {
    const int64_t q = num_attention_heads * head_dim, kv = num_key_value_heads * head_dim;
    int64_t layer = hidden_size * (q + 2 * kv) + q * hidden_size +  // q k v o
                    3 * hidden_size * intermediate_size +           // gate up down
                    2 * hidden_size;                                // two norms
    if (attention_bias) layer += q + 2 * kv;
    if (qk_norm) layer += 2 * head_dim;
    int64_t total = num_hidden_layers * layer + vocab_size * hidden_size + hidden_size;
    if (!tie_word_embeddings) total += vocab_size * hidden_size;
    return total;
}

int64_t ModelConfig::windowOf(int64_t layer) const {
    const bool slides = layer >= 0 && layer < static_cast<int64_t>(layer_slides.size()) &&
                        layer_slides[static_cast<size_t>(layer)];
    return slides ? sliding_window : 0;
}

ModelConfig qwen25HalfBConfig() {
    nlohmann::json j = {{"architectures", {"Qwen2ForCausalLM"}},
                        {"model_type", "qwen2"},
                        {"vocab_size", 151936},
                        {"hidden_size", 896},
                        {"intermediate_size", 4864},
                        {"num_hidden_layers", 24},
                        {"num_attention_heads", 14},
                        {"num_key_value_heads", 2},
                        {"max_position_embeddings", 32768},
                        {"rms_norm_eps", 1e-6},
                        {"rope_theta", 1000000.0},
                        {"tie_word_embeddings", true},
                        {"bos_token_id", 151643},
                        {"eos_token_id", 151643},
                        {"torch_dtype", "bfloat16"}};
    return parseModelConfig(j, "qwen2.5-0.5b-shaped config");
}

ModelConfig qwen25OneAndHalfBConfig() {
    nlohmann::json j = {{"architectures", {"Qwen2ForCausalLM"}},
                        {"model_type", "qwen2"},
                        {"vocab_size", 151936},
                        {"hidden_size", 1536},
                        {"intermediate_size", 8960},
                        {"num_hidden_layers", 28},
                        {"num_attention_heads", 12},
                        {"num_key_value_heads", 2},
                        {"max_position_embeddings", 131072},
                        {"rms_norm_eps", 1e-6},
                        {"rope_theta", 1000000.0},
                        {"tie_word_embeddings", true},
                        {"bos_token_id", 151643},
                        {"eos_token_id", 151643},
                        {"torch_dtype", "bfloat16"}};
    return parseModelConfig(j, "qwen2.5-1.5b-shaped config");
}

}  // namespace reflab::model
