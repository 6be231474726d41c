#include "formats/zarr/metadata.h"

#include <cmath>
#include <limits>

#include "dosna/errors.h"
#include "dosna/names.h"

namespace dosna::zarr {
namespace {

using nlohmann::json;

// Where a field of a document is, for messages: "dataset 'vol': zarr.json: field 'shape'".
struct Doc {
  const std::string& what;
  const char* file;
  // A stored document that is wrong is an IoError; an argument given to
  // create (the codecs option) an InvalidArgument.
  bool user_input = false;

  [[noreturn]] void fail(const std::string& field, const std::string& why) const {
    const std::string msg = "dataset " + quote(what) + ": " + file + ": field '" + field + "' " + why;
    if (user_input) throw InvalidArgument(msg);
    throw IoError(msg);
  }
  const json& need(const json& obj, const char* field) const {
    auto it = obj.find(field);
    if (it == obj.end()) fail(field, "is missing");
    return *it;
  }
  Shape shape(const json& j, const std::string& field, bool positive) const {
    if (!j.is_array()) fail(field, "is not a list");
    if (j.empty() || j.size() > kMaxRank)
      fail(field, "must have 1 to " + std::to_string(kMaxRank) + " axes");
    Shape out;
    for (const auto& v : j) {
      if (!v.is_number_integer()) fail(field, "holds a value that is not an integer");
      const auto x = v.get<std::int64_t>();
      if (x < (positive ? 1 : 0)) fail(field, positive ? "holds a value < 1" : "holds a negative value");
      out.push_back(x);
    }
    return out;
  }
  std::string string(const json& j, const std::string& field) const {
    if (!j.is_string()) fail(field, "is not a string");
    return j.get<std::string>();
  }
};

json parse_json(std::string_view text, const Doc& doc) {
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw IoError("dataset " + quote(doc.what) + ": " + doc.file + " is not a JSON object");
  return j;
}

json bytes_codec() { return {{"name", "bytes"}, {"configuration", {{"endian", "little"}}}}; }

}  // namespace

std::string v3_data_type(DType dtype) { return dtype.name(); }

std::optional<DType> from_v3_data_type(std::string_view name) {
  static const char* const kNames[] = {"bool",   "int8",   "int16",   "int32",    "int64",
                                       "uint8",  "uint16", "uint32",  "uint64",   "float32",
                                       "float64", "complex64", "complex128"};
  for (const char* n : kNames)
    if (name == n) return DType::parse(n);
  return std::nullopt;
}

json fill_to_json(const Scalar& fill, DType dtype) {
  const std::string r = fill.repr(dtype);
  auto real = [](double v) -> json {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
    return v;
  };
  switch (dtype.kind()) {
    case DTypeKind::kBool: return r == "True";
    case DTypeKind::kInt:
    case DTypeKind::kUInt: return json::parse(r);
    case DTypeKind::kFloat: return real(fill.as_double());
    case DTypeKind::kComplex: {
      const auto c = fill.as_complex();
      return json::array({real(c.real()), real(c.imag())});
    }
  }
  return 0;
}

Scalar fill_from_json(const json& j, DType dtype, const std::string& what) {
  const std::string field = "fill_value";
  auto bad = [&](const std::string& why) -> Scalar {
    throw IoError("dataset " + quote(what) + ": field '" + field + "' " + why);
  };
  auto real = [&](const json& v) -> double {
    if (v.is_number()) return v.get<double>();
    if (v.is_string()) {
      const auto s = v.get<std::string>();
      if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
      if (s == "Infinity") return std::numeric_limits<double>::infinity();
      if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
    }
    bad("is not a number, \"NaN\", \"Infinity\" or \"-Infinity\"");
    return 0;
  };
  Scalar out;
  if (j.is_null()) {
    out = 0;  // v2: no fill value; DosNa reads unwritten chunks as 0
  } else if (dtype.kind() == DTypeKind::kComplex) {
    if (!j.is_array() || j.size() != 2) bad("is not a [real, imaginary] pair");
    out = std::complex<double>(real(j[0]), real(j[1]));
  } else if (j.is_boolean()) {
    out = j.get<bool>();
  } else if (j.is_number_unsigned()) {
    out = j.get<std::uint64_t>();
  } else if (j.is_number_integer()) {
    out = j.get<std::int64_t>();
  } else if (dtype.kind() == DTypeKind::kFloat || j.is_number_float()) {
    out = real(j);
  } else {
    bad("is not a value of " + dtype.name());
  }
  if (const std::string why = out.unfit_reason(dtype); !why.empty())
    bad(out.repr() + " " + why);
  return out;
}

std::string ArrayMeta::chunk_key(const ChunkIndex& index) const {
  std::string key = key_prefix_c ? "c" : "";
  for (std::size_t i = 0; i < index.size(); ++i) {
    if (!key.empty()) key += separator;
    key += std::to_string(index[i]);
  }
  return key;
}

std::optional<ChunkIndex> ArrayMeta::parse_chunk_key(std::string_view key) const {
  if (key_prefix_c) {
    if (key.size() < 2 || key[0] != 'c' || key[1] != separator) return std::nullopt;
    key.remove_prefix(2);
  }
  ChunkIndex out;
  const std::size_t rank = meta.shape.size();
  while (true) {
    const std::size_t end = key.find(separator);
    const std::string_view part = key.substr(0, end);
    if (part.empty() || part.size() > 18) return std::nullopt;
    std::int64_t v = 0;
    for (char c : part) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + (c - '0');
    }
    out.push_back(v);
    if (end == std::string_view::npos) break;
    key.remove_prefix(end + 1);
  }
  if (out.size() != rank) return std::nullopt;
  return out;
}

namespace {

// The configuration of a sharding_indexed codec over shards of `shard_shape`:
// sets m's shard shape, inner chunk, inner and index codecs, index location.
void read_sharding(const json& codec, const Shape& shard_shape, const Doc& doc, ArrayMeta& m) {
  const json& sc = doc.need(codec, "configuration");
  if (!sc.is_object()) doc.fail("codecs[0].configuration", "is not an object");
  m.shard_shape = shard_shape;
  m.meta.chunk_size = doc.shape(doc.need(sc, "chunk_shape"), "sharding_indexed.chunk_shape", true);
  if (m.meta.chunk_size.size() != shard_shape.size())
    doc.fail("sharding_indexed.chunk_shape", "has a different number of axes than shape");
  for (std::size_t a = 0; a < shard_shape.size(); ++a)
    if (shard_shape[a] % m.meta.chunk_size[a] != 0)
      doc.fail("sharding_indexed.chunk_shape", "does not divide the shard shape");
  m.codecs = doc.need(sc, "codecs");
  if (!m.codecs.is_array()) doc.fail("sharding_indexed.codecs", "is not a list");
  m.index_codecs = doc.need(sc, "index_codecs");
  if (!m.index_codecs.is_array()) doc.fail("sharding_indexed.index_codecs", "is not a list");
  const std::string loc = sc.contains("index_location")
                              ? doc.string(sc["index_location"], "sharding_indexed.index_location")
                              : "end";
  if (loc != "end" && loc != "start")
    doc.fail("sharding_indexed.index_location", "is not \"start\" or \"end\"");
  m.index_at_end = loc == "end";
}

bool is_sharding(const json& codecs) {
  return codecs.is_array() && codecs.size() == 1 && codecs[0].is_object() &&
         codecs[0].value("name", "") == "sharding_indexed";
}

}  // namespace

ArrayMeta parse_v3(std::string_view text, const std::string& what) {
  const Doc doc{what, "zarr.json"};
  const json j = parse_json(text, doc);
  ArrayMeta m;
  m.zarr_format = 3;
  const json& fmt = doc.need(j, "zarr_format");
  if (fmt != 3) doc.fail("zarr_format", "is not 3");
  if (doc.string(doc.need(j, "node_type"), "node_type") != "array")
    doc.fail("node_type", "is not \"array\" (a zarr group is not a dataset)");
  m.meta.shape = doc.shape(doc.need(j, "shape"), "shape", false);
  const std::string dt = doc.string(doc.need(j, "data_type"), "data_type");
  const auto dtype = from_v3_data_type(dt);
  if (!dtype)
    throw NotSupported("dataset " + quote(what) + ": zarr.json: data_type " + quote(dt) +
                       " is not one DosNa holds (bool, int8..uint64, float32, float64, complex64, complex128)");
  m.meta.dtype = *dtype;
  const json& grid = doc.need(j, "chunk_grid");
  if (!grid.is_object()) doc.fail("chunk_grid", "is not an object");
  if (doc.string(doc.need(grid, "name"), "chunk_grid.name") != "regular")
    throw NotSupported("dataset " + quote(what) + ": zarr.json: chunk_grid " +
                       grid["name"].dump() + " is not supported (only \"regular\")");
  const json& gconf = doc.need(grid, "configuration");
  if (!gconf.is_object()) doc.fail("chunk_grid.configuration", "is not an object");
  const Shape grid_shape =
      doc.shape(doc.need(gconf, "chunk_shape"), "chunk_grid.configuration.chunk_shape", true);
  if (grid_shape.size() != m.meta.shape.size())
    doc.fail("chunk_grid.configuration.chunk_shape", "has a different number of axes than shape");
  if (auto it = j.find("chunk_key_encoding"); it != j.end()) {
    if (!it->is_object()) doc.fail("chunk_key_encoding", "is not an object");
    const std::string name = doc.string(doc.need(*it, "name"), "chunk_key_encoding.name");
    if (name == "default") {
      m.key_prefix_c = true;
      m.separator = '/';
    } else if (name == "v2") {
      m.key_prefix_c = false;
      m.separator = '.';
    } else {
      throw NotSupported("dataset " + quote(what) + ": zarr.json: chunk_key_encoding " +
                         quote(name) + " is not supported (default, v2)");
    }
    if (auto c = it->find("configuration"); c != it->end() && c->contains("separator")) {
      const std::string sep = doc.string((*c)["separator"], "chunk_key_encoding.configuration.separator");
      if (sep != "/" && sep != ".")
        doc.fail("chunk_key_encoding.configuration.separator", "is not \"/\" or \".\"");
      m.separator = sep[0];
    }
  }
  const json& codecs = doc.need(j, "codecs");
  if (!codecs.is_array() || codecs.empty()) doc.fail("codecs", "is not a non-empty list");
  if (is_sharding(codecs)) {
    read_sharding(codecs[0], grid_shape, doc, m);
  } else {
    m.meta.chunk_size = grid_shape;
    m.codecs = codecs;
    for (const auto& c : codecs)
      if (c.is_object() && c.value("name", "") == "sharding_indexed")
        throw NotSupported("dataset " + quote(what) +
                           ": zarr.json: sharding_indexed combined with other codecs is not supported");
  }
  const json& fill = doc.need(j, "fill_value");
  if (fill.is_null()) doc.fail("fill_value", "is null (v3 requires a value)");
  m.meta.fillvalue = fill_from_json(fill, m.meta.dtype, what);
  if (auto it = j.find("attributes"); it != j.end()) {
    if (!it->is_object()) doc.fail("attributes", "is not an object");
    m.attributes = *it;
  }
  if (auto it = j.find("dimension_names"); it != j.end() && !it->is_null()) {
    if (!it->is_array() || it->size() != m.meta.shape.size())
      doc.fail("dimension_names", "is not a list of one name per axis");
    for (const auto& n : *it)
      if (!n.is_null() && !n.is_string()) doc.fail("dimension_names", "holds a value that is not a string or null");
    m.dimension_names = *it;
  }
  if (auto it = j.find("storage_transformers"); it != j.end() && !(it->is_array() && it->empty()))
    throw NotSupported("dataset " + quote(what) + ": zarr.json: storage_transformers are not supported");
  return m;
}

ArrayMeta parse_v2(std::string_view text, std::string_view attrs, const std::string& what) {
  const Doc doc{what, ".zarray"};
  const json j = parse_json(text, doc);
  ArrayMeta m;
  m.zarr_format = 2;
  m.key_prefix_c = false;
  if (doc.need(j, "zarr_format") != 2) doc.fail("zarr_format", "is not 2");
  m.meta.shape = doc.shape(doc.need(j, "shape"), "shape", false);
  m.meta.chunk_size = doc.shape(doc.need(j, "chunks"), "chunks", true);
  if (m.meta.chunk_size.size() != m.meta.shape.size())
    doc.fail("chunks", "has a different number of axes than shape");
  m.dtype_str = doc.string(doc.need(j, "dtype"), "dtype");
  std::string native = m.dtype_str;
  if (!native.empty() && native[0] == '>') native[0] = '<';  // the codec chain swaps bytes
  try {
    m.meta.dtype = DType::parse(native);
  } catch (const InvalidArgument&) {
    throw NotSupported("dataset " + quote(what) + ": .zarray: dtype " + quote(m.dtype_str) +
                       " is not one DosNa holds (bool, integers, floats, complex)");
  }
  m.compressor = doc.need(j, "compressor");
  if (!m.compressor.is_null() && !(m.compressor.is_object() && m.compressor.contains("id")))
    doc.fail("compressor", "is neither null nor an object with an 'id'");
  m.filters = j.contains("filters") ? j["filters"] : json();
  if (!m.filters.is_null() && !m.filters.is_array()) doc.fail("filters", "is neither null nor a list");
  m.order = j.contains("order") ? doc.string(j["order"], "order") : "C";
  if (m.order != "C" && m.order != "F") doc.fail("order", "is not \"C\" or \"F\"");
  m.separator = '.';
  if (auto it = j.find("dimension_separator"); it != j.end() && !it->is_null()) {
    const std::string sep = doc.string(*it, "dimension_separator");
    if (sep != "." && sep != "/") doc.fail("dimension_separator", "is not \".\" or \"/\"");
    m.separator = sep[0];
  }
  m.meta.fillvalue = fill_from_json(j.contains("fill_value") ? j["fill_value"] : json(),
                                    m.meta.dtype, what);
  if (!attrs.empty()) {
    const Doc adoc{what, ".zattrs"};
    m.attributes = parse_json(attrs, adoc);
  }
  return m;
}

std::string print_v3(const ArrayMeta& m) {
  json codecs = m.codecs;
  Shape grid = m.meta.chunk_size;
  if (!m.shard_shape.empty()) {
    grid = m.shard_shape;
    codecs = json::array({{{"name", "sharding_indexed"},
                           {"configuration",
                            {{"chunk_shape", m.meta.chunk_size},
                             {"codecs", m.codecs},
                             {"index_codecs", m.index_codecs},
                             {"index_location", m.index_at_end ? "end" : "start"}}}}});
  }
  json j = {{"zarr_format", 3},
            {"node_type", "array"},
            {"shape", m.meta.shape},
            {"data_type", v3_data_type(m.meta.dtype)},
            {"chunk_grid", {{"name", "regular"}, {"configuration", {{"chunk_shape", grid}}}}},
            {"chunk_key_encoding",
             {{"name", m.key_prefix_c ? "default" : "v2"},
              {"configuration", {{"separator", std::string(1, m.separator)}}}}},
            {"fill_value", fill_to_json(m.meta.fillvalue, m.meta.dtype)},
            {"codecs", codecs},
            {"attributes", m.attributes}};
  if (!m.dimension_names.is_null()) j["dimension_names"] = m.dimension_names;
  return j.dump(2);
}

std::string print_v2(const ArrayMeta& m) {
  json j = {{"zarr_format", 2},
            {"shape", m.meta.shape},
            {"chunks", m.meta.chunk_size},
            {"dtype", m.dtype_str.empty() ? m.meta.dtype.str() : m.dtype_str},
            {"compressor", m.compressor},
            {"fill_value", fill_to_json(m.meta.fillvalue, m.meta.dtype)},
            {"order", m.order},
            {"filters", m.filters},
            {"dimension_separator", std::string(1, m.separator)}};
  return j.dump(2);
}

std::string print_v2_attrs(const ArrayMeta& m) { return m.attributes.dump(2); }

ArrayMeta make_array_meta(const DatasetMeta& meta, const StorageOptions& options,
                          const std::string& what) {
  ArrayMeta m;
  m.meta = meta;
  const bool v3 = options.format == "zarr3";
  auto bad = [&](const std::string& why) {
    throw InvalidArgument("dataset " + quote(what) + ": " + why);
  };
  if (!v3 && options.format != "zarr2") bad("format " + quote(options.format) + " is not a zarr format");
  std::optional<int> level = options.compression_level;
  json v3_codec, v2_compressor;
  if (options.compression) {
    const std::string& c = *options.compression;
    if (c == "zstd") {
      const int l = level.value_or(3);
      v3_codec = {{"name", "zstd"}, {"configuration", {{"level", l}, {"checksum", false}}}};
      v2_compressor = {{"id", "zstd"}, {"level", l}};
    } else if (c == "gzip") {
      const int l = level.value_or(5);
      if (l < 0 || l > 9) bad("compression_level " + std::to_string(l) + " of gzip is not 0..9");
      v3_codec = {{"name", "gzip"}, {"configuration", {{"level", l}}}};
      v2_compressor = {{"id", "gzip"}, {"level", l}};
    } else if (c == "blosc-lz4" || c == "blosc-zstd") {
      const int l = level.value_or(5);
      if (l < 0 || l > 9) bad("compression_level " + std::to_string(l) + " of blosc is not 0..9");
      const std::string cname = c.substr(6);
      v3_codec = {{"name", "blosc"},
                  {"configuration",
                   {{"cname", cname}, {"clevel", l}, {"shuffle", "shuffle"},
                    {"typesize", meta.dtype.itemsize()}, {"blocksize", 0}}}};
      v2_compressor = {{"id", "blosc"}, {"cname", cname}, {"clevel", l}, {"shuffle", 1}, {"blocksize", 0}};
    } else {
      throw NotSupported("dataset " + quote(what) + ": compression " + quote(c) +
                         " is not supported (zstd, gzip, blosc-lz4, blosc-zstd, or none)");
    }
  } else if (level) {
    bad("compression_level given without compression");
  }
  if (v3) {
    m.zarr_format = 3;
    if (!options.codecs.empty()) {
      if (options.compression) bad("codecs and compression are both given (codecs replaces it)");
      json c = json::parse(options.codecs, nullptr, false);
      if (c.is_discarded() || !c.is_array()) bad("codecs is not a JSON list of zarr v3 codecs");
      m.codecs = c;
    } else {
      m.codecs = json::array({bytes_codec()});
      if (!v3_codec.is_null()) m.codecs.push_back(v3_codec);
    }
    if (!options.shard_shape.empty()) {
      if (options.shard_shape.size() != meta.shape.size())
        bad("shard_shape has " + std::to_string(options.shard_shape.size()) + " axes, the shape " +
            std::to_string(meta.shape.size()));
      for (std::size_t a = 0; a < meta.shape.size(); ++a)
        if (options.shard_shape[a] < 1 || options.shard_shape[a] % meta.chunk_size[a] != 0)
          bad("shard_shape must be a positive multiple of chunk_size on every axis");
    }
    if (is_sharding(m.codecs)) {
      // An expert's full sharding_indexed codec: its chunk_shape is the inner
      // chunk (= chunk_size), the shard grid comes from shard_shape.
      if (options.shard_shape.empty()) bad("codecs with sharding_indexed needs shard_shape");
      const json sharding = m.codecs[0];  // read_sharding replaces m.codecs
      read_sharding(sharding, options.shard_shape, Doc{what, "codecs", true}, m);
      if (m.meta.chunk_size != meta.chunk_size)
        bad("sharding_indexed.chunk_shape differs from chunk_size (the inner chunk)");
    } else if (!options.shard_shape.empty()) {
      m.shard_shape = options.shard_shape;
      m.index_codecs = json::array({bytes_codec(), {{"name", "crc32c"}}});
    }
  } else {
    m.zarr_format = 2;
    m.key_prefix_c = false;
    m.separator = '.';
    if (!options.shard_shape.empty()) bad("shard_shape needs format zarr3 (zarr v2 has no sharding)");
    if (!options.codecs.empty()) bad("codecs needs format zarr3 (zarr v2 uses compression)");
    m.compressor = v2_compressor;
    m.filters = json();
    m.dtype_str = meta.dtype.str();
  }
  return m;
}

}  // namespace dosna::zarr
