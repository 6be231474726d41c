#include "core/metadata_codec.h"

#include <cctype>
#include <charconv>

#include "dosna/errors.h"
#include "dosna/names.h"

namespace dosna::codec {

std::string format_ints(const Shape& values) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += "::";
    out += std::to_string(values[i]);
  }
  return out;
}

Shape parse_ints(std::string_view text, std::string_view dataset, std::string_view field) {
  auto bad = [&] {
    return IoError("dataset " + quote(dataset) + ": corrupt metadata field '" +
                   std::string(field) + "' = " + quote(text));
  };
  std::string s;
  for (char c : text)
    if (c != '(' && c != ')' && c != '[' && c != ']' && c != ' ') s += c;
  std::string normalized;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s.compare(i, 2, "::") == 0) {
      normalized += ',';
      ++i;
    } else {
      normalized += s[i];
    }
  }
  if (!normalized.empty() && normalized.back() == ',') normalized.pop_back();  // "(5,)"
  Shape out;
  std::size_t pos = 0;
  if (normalized.empty()) throw bad();
  while (pos <= normalized.size()) {
    std::size_t comma = normalized.find(',', pos);
    if (comma == std::string::npos) comma = normalized.size();
    std::int64_t v = 0;
    auto r = std::from_chars(normalized.data() + pos, normalized.data() + comma, v);
    if (r.ec != std::errc() || r.ptr != normalized.data() + comma || comma == pos ||
        out.size() == kMaxRank)
      throw bad();
    out.push_back(v);
    pos = comma + 1;
  }
  return out;
}

std::map<std::string, std::string> encode(const DatasetMeta& meta) {
  return {{kShape, format_ints(meta.shape)},
          {kDtype, meta.dtype.str()},
          {kFillvalue, meta.fillvalue.stored_form(meta.dtype)},
          {kChunkGrid, format_ints(meta.chunk_grid())},
          {kChunkSize, format_ints(meta.chunk_size)}};
}

DatasetMeta decode(const std::map<std::string, std::string>& fields, std::string_view dataset) {
  auto field = [&](const char* name) -> const std::string& {
    auto it = fields.find(name);
    if (it == fields.end())
      throw IoError("dataset '" + std::string(dataset) + "': metadata field '" + name +
                    "' is missing");
    return it->second;
  };
  DatasetMeta meta;
  meta.shape = parse_ints(field(kShape), dataset, kShape);
  meta.chunk_size = parse_ints(field(kChunkSize), dataset, kChunkSize);
  try {
    meta.dtype = DType::parse(field(kDtype));
    meta.fillvalue = Scalar::parse(field(kFillvalue));
  } catch (const InvalidArgument& e) {
    throw IoError("dataset '" + std::string(dataset) + "': corrupt metadata: " + e.what());
  }
  try {
    meta.validate(dataset);
  } catch (const InvalidArgument& e) {
    throw IoError(std::string("corrupt metadata: ") + e.what());
  }
  auto grid_it = fields.find(kChunkGrid);
  if (grid_it != fields.end() &&
      parse_ints(grid_it->second, dataset, kChunkGrid) != meta.chunk_grid())
    throw IoError("dataset " + quote(dataset) + ": corrupt metadata: chunk_grid " +
                  quote(grid_it->second) + " does not match shape and chunk_size");
  return meta;
}

std::string join_index(const ChunkIndex& index, char separator) {
  std::string out;
  for (std::size_t i = 0; i < index.size(); ++i) {
    if (i) out += separator;
    out += std::to_string(index[i]);
  }
  return out;
}

std::optional<ChunkIndex> split_index(std::string_view text, char separator, std::size_t ndim) {
  ChunkIndex out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t sep = text.find(separator, pos);
    if (sep == std::string_view::npos) sep = text.size();
    std::int64_t v = 0;
    auto r = std::from_chars(text.data() + pos, text.data() + sep, v);
    if (r.ec != std::errc() || r.ptr != text.data() + sep || sep == pos || v < 0) return std::nullopt;
    out.push_back(v);
    pos = sep + 1;
  }
  if (out.size() != ndim) return std::nullopt;
  return out;
}

}  // namespace dosna::codec
