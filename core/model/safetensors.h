// Safetensors files, memory-mapped: the header (8-byte little-endian length + JSON) is parsed
// with nlohmann json and every entry's dtype, shape and byte range checked against the file
// before any tensor is touched. A SafetensorsIndex joins one file or the shards listed in
// model.safetensors.index.json. writeSafetensors() writes one file (used by checkpoints).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "core/model/model_config.h"

namespace reflab::model {

struct SafetensorsEntry {
    std::string dtype;  // "F32" | "BF16" | "F16" | ... as written in the header
    std::vector<int64_t> shape;
    uint64_t begin = 0, end = 0;  // byte range [begin, end) inside the data section
};

class MappedFile;  // an mmap'ed file, unmapped when the last tensor viewing it goes away

class SafetensorsFile {
public:
    // Maps `path` and validates the header; throws ModelLoadError naming the file (and the tensor).
    static SafetensorsFile open(const std::string& path);

    const std::string& path() const { return m_path; }
    const std::map<std::string, SafetensorsEntry>& entries() const { return m_entries; }
    // A tensor viewing the mapped bytes (no copy; read-only memory: clone or convert before
    // writing). Unsupported dtypes throw.
    torch::Tensor view(const std::string& name) const;

private:
    std::string m_path;
    std::shared_ptr<MappedFile> m_map;
    const uint8_t* m_data = nullptr;  // start of the data section
    std::map<std::string, SafetensorsEntry> m_entries;
};

// All tensors of a model directory: model.safetensors, or the shards named by
// model.safetensors.index.json (each shard must hold what the index says).
class SafetensorsIndex {
public:
    static SafetensorsIndex openDirectory(const std::string& model_dir);

    bool contains(const std::string& name) const { return m_where.count(name) > 0; }
    const SafetensorsEntry& entry(const std::string& name) const;
    const std::string& fileOf(const std::string& name) const;  // path of the file holding it
    torch::Tensor view(const std::string& name) const;
    std::vector<std::string> names() const;

private:
    std::vector<SafetensorsFile> m_files;
    std::map<std::string, size_t> m_where;  // tensor name -> index in m_files
};

// "F32"/"BF16"/"F16" <-> torch dtypes. Throws ModelLoadError for anything else.
torch::Dtype safetensorsDtype(const std::string& dtype, const std::string& where);
std::string safetensorsDtypeName(torch::Dtype dtype);

// Writes named CPU-contiguous copies of `tensors` to `path` (header sorted by name, data aligned
// to 8 bytes). `metadata` goes into "__metadata__".
void writeSafetensors(const std::string& path,
                      const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace reflab::model
