// Loading, cloning and saving a LanguageModel (see language_model.h).
#include "core/model/language_model.h"

#include <torch/cuda.h>
#include "core/model/runtime.h"

#include <filesystem>
#include <fstream>
#include <set>

#include "core/model/safetensors.h"

namespace reflab::model {
namespace fs = std::filesystem;

namespace {

std::string shapeText(c10::IntArrayRef s) {
    std::string out = "[";
    for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + "]";
}

void checkOptions(const LoadOptions& o) {
    if (o.dtype != torch::kFloat32 && o.dtype != torch::kBFloat16 && o.dtype != torch::kFloat16)
        throw ModelLoadError("LoadOptions.dtype must be float32, bfloat16 or float16");
}

// Tensors that checkpoints may carry but the model does not use.
bool ignorable(const std::string& name, const ModelConfig& c) {
    if (name.find("rotary_emb.inv_freq") != std::string::npos) return true;
    return c.tie_word_embeddings && name == "lm_head.weight";
}

}  // namespace

LoadOptions loadOptionsFrom(const std::string& dtype, const std::string& device) {
    LoadOptions o;
    if (dtype == "float32" || dtype == "f32" || dtype == "fp32")
        o.dtype = torch::kFloat32;
    else if (dtype == "bfloat16" || dtype == "bf16")
        o.dtype = torch::kBFloat16;
    else if (dtype == "float16" || dtype == "f16" || dtype == "fp16")
        o.dtype = torch::kFloat16;
    else
        throw reflab::Error("dtype '" + dtype + "' is not one of float32, bfloat16, float16");
    try {
        o.device = torch::Device(device);
    } catch (const std::exception&) {
        throw reflab::Error("device '" + device + "' is not a device (cpu, cuda, cuda:N)");
    }
    if (o.device.is_cuda() && !torch::cuda::is_available())
        throw reflab::Error("device '" + device + "': this build of LibTorch has no usable CUDA");
    return o;
}

std::string dtypeName(torch::Dtype dtype) {
    return dtype == torch::kBFloat16  ? "bfloat16"
           : dtype == torch::kFloat16 ? "float16"
                                      : "float32";
}

std::shared_ptr<LanguageModel> LanguageModel::load(const std::string& dir,
                                                   const LoadOptions& options) {
    checkOptions(options);
    std::shared_ptr<LanguageModel> m(new LanguageModel());
    m->m_dir = dir;
    m->m_options = options;
    m->m_config = loadModelConfig(dir);
    fitThreadsToModel(m->m_config.parameterCount());
    const SafetensorsIndex index = SafetensorsIndex::openDirectory(dir);
    const std::string index_name = fs::exists(fs::path(dir) / "model.safetensors.index.json")
                                       ? (fs::path(dir) / "model.safetensors.index.json").string()
                                       : (fs::path(dir) / "model.safetensors").string();
    m->m_net = Transformer(m->m_config);
    auto params = m->m_net->named_parameters();

    // Validate everything before copying anything.
    std::set<std::string> expected;
    for (const auto& p : params) {
        const std::string& name = p.key();
        expected.insert(name);
        if (!index.contains(name))
            throw ModelLoadError(index_name + ": tensor '" + name + "' is missing");
        const SafetensorsEntry& e = index.entry(name);
        safetensorsDtype(e.dtype, index.fileOf(name) + ": tensor '" + name + "'");
        if (c10::IntArrayRef(e.shape) != p.value().sizes())
            throw ModelLoadError(index.fileOf(name) + ": tensor '" + name + "' has shape " +
                                 shapeText(e.shape) + ", config.json implies " +
                                 shapeText(p.value().sizes()));
    }
    for (const std::string& name : index.names())
        if (!expected.count(name) && !ignorable(name, m->m_config))
            throw ModelLoadError(index.fileOf(name) + ": tensor '" + name + "' is not part of a " +
                                 m->m_config.architecture + " model with " +
                                 std::to_string(m->m_config.num_hidden_layers) +
                                 " layers as config.json describes");

    {
        torch::NoGradGuard no_grad;
        auto opts = torch::TensorOptions().dtype(options.dtype).device(options.device);
        for (auto& p : params) {
            torch::Tensor src = index.view(p.key());  // mmap'ed, read-only
            torch::Tensor dst = torch::empty(src.sizes(), opts);
            dst.copy_(src);
            p.value().set_data(dst);
        }
    }
    const fs::path tok = fs::path(dir) / "tokenizer.json";
    if (fs::exists(tok)) m->m_tokenizer = text::Tokenizer::fromFile(tok.string());
    try {
        m->m_template = text::ChatTemplate::fromModelDir(dir);
    } catch (const reflab::Error& e) {
        m->m_template_error = e.what();
    }
    return m;
}

std::shared_ptr<LanguageModel> LanguageModel::random(const ModelConfig& config,
                                                     const LoadOptions& options, uint64_t seed) {
    checkOptions(options);
    std::shared_ptr<LanguageModel> m(new LanguageModel());
    m->m_options = options;
    m->m_config = config;
    fitThreadsToModel(config.parameterCount());
    m->m_net = Transformer(config);
    m->m_net->initRandom(seed);
    m->m_net->to(options.device, options.dtype);
    m->m_template_error = "a random-weight model has no chat template";
    return m;
}

std::shared_ptr<LanguageModel> LanguageModel::clone() const {
    std::shared_ptr<LanguageModel> m(new LanguageModel(*this));
    m->m_net = Transformer(m_config);
    torch::NoGradGuard no_grad;
    auto src = m_net->named_parameters();
    for (auto& p : m->m_net->named_parameters()) p.value().set_data(src[p.key()].detach().clone());
    return m;
}

const text::Tokenizer& LanguageModel::tokenizer() const {
    if (!m_tokenizer)
        throw ModelLoadError(
            (m_dir.empty() ? std::string("this model") : m_dir + "/tokenizer.json") +
            ": no tokenizer (tokenizer.json is missing)");
    return *m_tokenizer;
}

std::vector<int32_t> LanguageModel::promptPrefix() const {
    // Post-processor tokens that follow the text (Bert's [SEP]) are not added: a prompt is
    // continued, never closed. Causal LMs' post-processors (Llama 3, Qwen) put none there.
    if (chatTemplate().name() != "plain") return {};
    return tokenizer().specialPrefix();
}

std::vector<int32_t> LanguageModel::encodePrompt(const std::string& text) const {
    std::vector<int32_t> ids = promptPrefix();
    const std::vector<int32_t> own = tokenizer().encode(text);
    ids.insert(ids.end(), own.begin(), own.end());
    return ids;
}

const text::ChatTemplate& LanguageModel::chatTemplate() const {
    if (!m_template)
        throw ModelLoadError(m_template_error.empty() ? "no chat template" : m_template_error);
    return *m_template;
}

std::vector<torch::Tensor> LanguageModel::parameters() const {
    return m_net->parameters();
}

std::vector<std::pair<std::string, torch::Tensor>> LanguageModel::namedParameters() const {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (const auto& p : m_net->named_parameters()) out.emplace_back(p.key(), p.value());
    return out;
}

torch::Tensor LanguageModel::forward(const torch::Tensor& ids,
                                     const torch::Tensor& attention_mask) const {
    TORCH_CHECK(ids.dim() == 2, "forward: ids must be (B, T)");
    torch::Tensor x = ids.to(m_options.device, torch::kInt64);
    torch::Tensor mask =
        attention_mask.defined() ? attention_mask.to(m_options.device) : attention_mask;
    TransformerImpl& net = transformer();
    return net.logits(net.hidden(x, mask));
}

void LanguageModel::saveHfDirectory(const std::string& out_dir) const {
    fs::create_directories(out_dir);
    nlohmann::json cfg = m_config.raw;
    cfg["torch_dtype"] = dtypeName(m_options.dtype);
    {
        std::ofstream out(fs::path(out_dir) / "config.json");
        out << cfg.dump(2) << "\n";
        if (!out) throw ModelLoadError(out_dir + "/config.json: cannot be written");
    }
    // Write to a temporary name, then rename: a crash never leaves a half-written checkpoint.
    const fs::path st = fs::path(out_dir) / "model.safetensors";
    const fs::path tmp = fs::path(out_dir) / "model.safetensors.tmp";
    writeSafetensors(tmp.string(), namedParameters(), {{"format", "pt"}});
    fs::rename(tmp, st);
    fs::remove(fs::path(out_dir) / "model.safetensors.index.json");
    if (m_dir.empty()) return;
    std::error_code ec;
    if (fs::equivalent(m_dir, out_dir, ec)) return;
    for (const char* f :
         {"tokenizer.json", "tokenizer_config.json", "generation_config.json",
          "special_tokens_map.json", "vocab.json", "merges.txt", "added_tokens.json", "LICENSE"}) {
        const fs::path src = fs::path(m_dir) / f;
        if (fs::exists(src))
            fs::copy_file(src, fs::path(out_dir) / f, fs::copy_options::overwrite_existing);
    }
}

}  // namespace reflab::model
