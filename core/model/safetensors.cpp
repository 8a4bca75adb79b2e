// Memory-mapped safetensors reading and writing (see safetensors.h).
#include "core/model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace reflab::model {
namespace fs = std::filesystem;

class MappedFile {
public:
    MappedFile(const std::string& path) {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            throw ModelLoadError(path + ": cannot be opened (" + std::strerror(errno) + ")");
        struct stat st {};
        if (::fstat(fd, &st) != 0) {
            ::close(fd);
            throw ModelLoadError(path + ": cannot be read");
        }
        m_size = static_cast<size_t>(st.st_size);
        if (m_size > 0) {
            void* p = ::mmap(nullptr, m_size, PROT_READ, MAP_PRIVATE, fd, 0);
            if (p == MAP_FAILED) {
                ::close(fd);
                throw ModelLoadError(path + ": cannot be memory-mapped (" + std::strerror(errno) +
                                     ")");
            }
            m_data = static_cast<const uint8_t*>(p);
        }
        ::close(fd);
    }
    ~MappedFile() {
        if (m_data) ::munmap(const_cast<uint8_t*>(m_data), m_size);
    }
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    const uint8_t* data() const { return m_data; }
    size_t size() const { return m_size; }

private:
    const uint8_t* m_data = nullptr;
    size_t m_size = 0;
};

torch::Dtype safetensorsDtype(const std::string& dtype, const std::string& where) {
    if (dtype == "F32") return torch::kFloat32;
    if (dtype == "BF16") return torch::kBFloat16;
    if (dtype == "F16") return torch::kFloat16;
    throw ModelLoadError(where + ": dtype '" + dtype + "' is not supported (F32, BF16, F16)");
}

std::string safetensorsDtypeName(torch::Dtype dtype) {
    switch (dtype) {
        case torch::kFloat32:
            return "F32";
        case torch::kBFloat16:
            return "BF16";
        case torch::kFloat16:
            return "F16";
        default:
            throw ModelLoadError("safetensors: cannot write dtype " +
                                 std::string(c10::toString(dtype)));
    }
}

namespace {
int64_t dtypeSize(const std::string& dtype) {
    if (dtype == "F64" || dtype == "I64" || dtype == "U64") return 8;
    if (dtype == "F32" || dtype == "I32" || dtype == "U32") return 4;
    if (dtype == "F16" || dtype == "BF16" || dtype == "I16" || dtype == "U16") return 2;
    if (dtype == "I8" || dtype == "U8" || dtype == "BOOL" || dtype == "F8_E4M3" ||
        dtype == "F8_E5M2")
        return 1;
    return 0;
}
}  // namespace

SafetensorsFile SafetensorsFile::open(const std::string& path) {
    SafetensorsFile f;
    f.m_path = path;
    f.m_map = std::make_shared<MappedFile>(path);
    const size_t size = f.m_map->size();
    if (size < 8)
        throw ModelLoadError(path + ": truncated (shorter than the 8-byte header length)");
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | f.m_map->data()[i];
    if (header_len == 0 || header_len > size - 8)
        throw ModelLoadError(path + ": corrupt or truncated (header length " +
                             std::to_string(header_len) + " does not fit in " +
                             std::to_string(size) + " bytes)");
    const char* hdr = reinterpret_cast<const char*>(f.m_map->data() + 8);
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(hdr, hdr + header_len);
    } catch (const nlohmann::json::exception& e) {
        throw ModelLoadError(path + ": corrupt header (" + std::string(e.what()) + ")");
    }
    if (!j.is_object()) throw ModelLoadError(path + ": corrupt header (not a JSON object)");
    f.m_data = f.m_map->data() + 8 + header_len;
    const uint64_t data_size = size - 8 - header_len;
    for (auto it = j.begin(); it != j.end(); ++it) {
        if (it.key() == "__metadata__") continue;
        const std::string where = path + ": tensor '" + it.key() + "'";
        const auto& v = it.value();
        if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") ||
            !v.contains("data_offsets") || !v["dtype"].is_string() || !v["shape"].is_array() ||
            !v["data_offsets"].is_array() || v["data_offsets"].size() != 2)
            throw ModelLoadError(where + " has a malformed header entry");
        SafetensorsEntry e;
        e.dtype = v["dtype"].get<std::string>();
        int64_t numel = 1;
        for (const auto& d : v["shape"]) {
            if (!d.is_number_integer() || d.get<int64_t>() < 0)
                throw ModelLoadError(where + " has a malformed shape");
            e.shape.push_back(d.get<int64_t>());
            numel *= e.shape.back();
        }
        const auto& off = v["data_offsets"];
        if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned())
            throw ModelLoadError(where + " has malformed data_offsets");
        e.begin = off[0].get<uint64_t>();
        e.end = off[1].get<uint64_t>();
        const int64_t esize = dtypeSize(e.dtype);
        if (esize == 0) throw ModelLoadError(where + " has an unknown dtype '" + e.dtype + "'");
        if (e.end < e.begin || e.end - e.begin != static_cast<uint64_t>(numel * esize))
            throw ModelLoadError(where + ": byte range [" + std::to_string(e.begin) + ", " +
                                 std::to_string(e.end) + ") does not match its shape and dtype");
        if (e.end > data_size)
            throw ModelLoadError(where + ": byte range ends at " + std::to_string(e.end) +
                                 " beyond the data section (" + std::to_string(data_size) +
                                 " bytes): the file is truncated");
        f.m_entries.emplace(it.key(), std::move(e));
    }
    return f;
}

torch::Tensor SafetensorsFile::view(const std::string& name) const {
    auto it = m_entries.find(name);
    if (it == m_entries.end()) throw ModelLoadError(m_path + ": tensor '" + name + "' is missing");
    const SafetensorsEntry& e = it->second;
    const torch::Dtype dt = safetensorsDtype(e.dtype, m_path + ": tensor '" + name + "'");
    void* ptr = const_cast<uint8_t*>(m_data + e.begin);
    auto keep = m_map;  // the mapping lives as long as the tensor
    torch::Tensor t = torch::from_blob(
        ptr, e.shape, [keep](void*) {}, torch::TensorOptions().dtype(dt));
    // Offsets are not promised to be aligned; a misaligned view is copied to aligned memory.
    const auto align = static_cast<uintptr_t>(torch::elementSize(dt));
    if (reinterpret_cast<uintptr_t>(ptr) % align != 0) t = t.clone();
    return t;
}

SafetensorsIndex SafetensorsIndex::openDirectory(const std::string& model_dir) {
    SafetensorsIndex idx;
    const fs::path dir(model_dir);
    const fs::path single = dir / "model.safetensors";
    const fs::path index = dir / "model.safetensors.index.json";
    if (fs::exists(index)) {
        std::ifstream in(index);
        nlohmann::json j;
        try {
            in >> j;
        } catch (const nlohmann::json::exception& e) {
            throw ModelLoadError(index.string() + ": invalid JSON (" + e.what() + ")");
        }
        if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
            throw ModelLoadError(index.string() + ": field 'weight_map' is missing");
        std::map<std::string, size_t> file_pos;
        for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
            if (!it.value().is_string())
                throw ModelLoadError(index.string() + ": weight_map['" + it.key() +
                                     "'] must be a file name");
            const std::string file = it.value().get<std::string>();
            if (file.find('/') != std::string::npos || file.find("..") != std::string::npos)
                throw ModelLoadError(index.string() + ": weight_map['" + it.key() +
                                     "'] names a file outside the directory");
            auto fp = file_pos.find(file);
            if (fp == file_pos.end()) {
                idx.m_files.push_back(SafetensorsFile::open((dir / file).string()));
                fp = file_pos.emplace(file, idx.m_files.size() - 1).first;
            }
            if (!idx.m_files[fp->second].entries().count(it.key()))
                throw ModelLoadError(idx.m_files[fp->second].path() + ": tensor '" + it.key() +
                                     "' is missing (listed in model.safetensors.index.json)");
            idx.m_where[it.key()] = fp->second;
        }
    } else if (fs::exists(single)) {
        idx.m_files.push_back(SafetensorsFile::open(single.string()));
        for (const auto& [name, e] : idx.m_files[0].entries()) idx.m_where[name] = 0;
    } else {
        throw ModelLoadError(single.string() +
                             ": is missing (no model.safetensors or "
                             "model.safetensors.index.json in the directory)");
    }
    return idx;
}

const SafetensorsEntry& SafetensorsIndex::entry(const std::string& name) const {
    return m_files[m_where.at(name)].entries().at(name);
}
const std::string& SafetensorsIndex::fileOf(const std::string& name) const {
    return m_files[m_where.at(name)].path();
}
torch::Tensor SafetensorsIndex::view(const std::string& name) const {
    return m_files[m_where.at(name)].view(name);
}
std::vector<std::string> SafetensorsIndex::names() const {
    std::vector<std::string> out;
    for (const auto& [n, i] : m_where) out.push_back(n);
    return out;
}

void writeSafetensors(const std::string& path,
                      const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
    std::vector<std::pair<std::string, torch::Tensor>> sorted;
    for (const auto& [n, t] : tensors)
        sorted.emplace_back(n, t.detach().to(torch::kCPU).contiguous());
    std::sort(sorted.begin(), sorted.end(), [](auto& a, auto& b) { return a.first < b.first; });
    nlohmann::json header = nlohmann::json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    uint64_t offset = 0;
    for (const auto& [n, t] : sorted) {
        const uint64_t bytes = t.numel() * t.element_size();
        header[n] = {{"dtype", safetensorsDtypeName(t.scalar_type())},
                     {"shape", t.sizes().vec()},
                     {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string h = header.dump();
    while ((8 + h.size()) % 8 != 0) h.push_back(' ');  // data section starts 8-aligned
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw ModelLoadError(path + ": cannot be written");
    uint8_t len[8];
    uint64_t n = h.size();
    for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(n >> (8 * i));
    out.write(reinterpret_cast<const char*>(len), 8);
    out.write(h.data(), static_cast<std::streamsize>(h.size()));
    for (const auto& [name, t] : sorted)
        out.write(static_cast<const char*>(t.data_ptr()),
                  static_cast<std::streamsize>(t.numel() * t.element_size()));
    if (!out) throw ModelLoadError(path + ": write failed (disk full?)");
}

}  // namespace reflab::model
