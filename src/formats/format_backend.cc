#include "formats/format_backend.h"

#include <algorithm>
#include <mutex>
#include <set>

#include "dosna/errors.h"
#include "dosna/names.h"
#include "formats/zarr/zarr_format.h"

namespace dosna::formats {
namespace {

bool is_metadata_key(std::string_view key) {
  for (std::string_view m : {"/zarr.json", "/.zarray", "/.zattrs"})
    if (key.size() >= m.size() && key.substr(key.size() - m.size()) == m) return true;
  return false;
}

class FormatBackend : public Backend {
 public:
  FormatBackend(std::string kind, std::string name, std::shared_ptr<Backend> native,
                std::function<std::shared_ptr<KvStore>()> make_kv, std::string default_format)
      : kind_(std::move(kind)),
        name_(std::move(name)),
        native_(std::move(native)),
        make_kv_(std::move(make_kv)),
        default_format_(std::move(default_format)) {
    if (default_format_ != "dosna" && default_format_ != "zarr3" && default_format_ != "zarr2")
      throw InvalidArgument(describe() + ": option format='" + default_format_ +
                            "' is not dosna, zarr3 or zarr2");
    if (default_format_ == "dosna" && !native_)
      throw InvalidArgument(describe() + ": option format=dosna: this store holds only zarr3 and zarr2");
  }

  std::string_view kind() const override { return kind_; }
  const std::string& name() const override { return name_; }

  // The byte-key store is opened on first use: a connection that only
  // touches dosna datasets never opens it.
  void connect() override {
    std::lock_guard lock(mu_);
    if (open_) return;
    if (native_) native_->connect();
    open_ = true;
  }
  void disconnect() noexcept override {
    std::shared_ptr<KvStore> kv;
    {
      std::lock_guard lock(mu_);
      open_ = false;
      kv = std::move(kv_);
      if (kv) closed_ = kv;
    }
    if (native_) native_->disconnect();
    if (kv) kv->close();
  }
  bool connected() const override {
    std::lock_guard lock(mu_);
    return open_;
  }

  void create_dataset(const std::string& dataset, const DatasetMeta& meta) override {
    create_dataset(dataset, meta, StorageOptions{});
  }
  void create_dataset(const std::string& dataset, const DatasetMeta& meta,
                      const StorageOptions& options) override {
    StorageOptions o = options;
    if (o.format.empty()) o.format = default_format_;
    if (o.format == "dosna") {
      if (!native_)
        throw NotSupported(describe() + ": dataset " + quote(dataset) +
                           ": format dosna is not held by this store (zarr3, zarr2)");
      check_dosna_options(o, describe(), dataset);
      if (zarr::read_array(*kv(), dataset))
        throw AlreadyExists("dataset " + quote(dataset) + " already exists in " + describe() +
                            " as a zarr array");
      native_->create_dataset(dataset, meta);
      return;
    }
    const zarr::ArrayMeta array = zarr::make_array_meta(meta, o, dataset);
    if (native_ && native_->read_dataset(dataset))
      throw AlreadyExists("dataset " + quote(dataset) + " already exists in " + describe());
    zarr::create_array(*kv(), dataset, array);
  }

  std::optional<DatasetMeta> read_dataset(const std::string& dataset) override {
    if (native_)
      if (auto m = native_->read_dataset(dataset)) return m;
    if (auto a = zarr::read_array(*kv(), dataset)) return a->meta;
    return std::nullopt;
  }

  void delete_dataset(const std::string& dataset) override {
    if (native_) {
      try {
        return native_->delete_dataset(dataset);
      } catch (const DatasetNotFound&) {
      }
    }
    auto store = kv();
    std::vector<std::string> keys = store->list(dataset + "/");
    if (keys.empty())
      throw DatasetNotFound("dataset " + quote(dataset) + " not found in " + describe());
    // Chunks first, the metadata last: a delete cut short leaves an array
    // that still lists and can be deleted again.
    std::stable_partition(keys.begin(), keys.end(),
                          [](const std::string& k) { return !is_metadata_key(k); });
    for (const auto& k : keys) store->erase(k);
    store->erase_prefix(dataset + "/");
  }

  std::vector<std::string> list_datasets() override {
    std::set<std::string> out;
    if (native_)
      for (auto& n : native_->list_datasets()) out.insert(std::move(n));
    auto store = kv();
    for (const auto& child : store->list_children("")) {
      for (const char* m : {"/zarr.json", "/.zarray"})
        if (store->get(child + m, ReadRange::bytes(0, 0)).value) {
          out.insert(child);
          break;
        }
    }
    return {out.begin(), out.end()};
  }

  std::shared_ptr<ChunkStore> chunks(const std::string& dataset, const DatasetMeta& meta) override {
    if (native_ && native_->read_dataset(dataset)) return native_->chunks(dataset, meta);
    auto array = zarr::read_array(*kv(), dataset);
    if (array) return zarr::array_chunks([this] { return kv(); }, dataset, *array);
    // Neither layout holds it: what the native store gives for a name it
    // does not hold (its chunk store, which finds no chunks).
    if (native_) return native_->chunks(dataset, meta);
    throw DatasetNotFound("dataset " + quote(dataset) + " not found in " + describe());
  }

  std::string dataset_format(const std::string& dataset) override {
    if (native_ && native_->read_dataset(dataset)) return "dosna";
    auto array = zarr::read_array(*kv(), dataset);
    if (!array) throw DatasetNotFound("dataset " + quote(dataset) + " not found in " + describe());
    return array->zarr_format == 3 ? "zarr3" : "zarr2";
  }

  std::string read_attributes(const std::string& dataset) override {
    if (native_ && native_->read_dataset(dataset)) return native_->read_attributes(dataset);
    auto array = zarr::read_array(*kv(), dataset);
    if (!array) throw DatasetNotFound("dataset " + quote(dataset) + " not found in " + describe());
    return array->attributes.dump();
  }
  void write_attributes(const std::string& dataset, const std::string& json_object) override {
    if (native_ && native_->read_dataset(dataset)) return native_->write_attributes(dataset, json_object);
    const nlohmann::json attributes = nlohmann::json::parse(json_object);
    zarr::update_array(*kv(), dataset, [&](zarr::ArrayMeta& m) { m.attributes = attributes; });
  }
  void resize_dataset(const std::string& dataset, const DatasetMeta& meta) override {
    if (native_ && native_->read_dataset(dataset)) return native_->resize_dataset(dataset, meta);
    zarr::update_array(*kv(), dataset, [&](zarr::ArrayMeta& m) { m.meta.shape = meta.shape; });
  }

  std::string dataset_location(const std::string& dataset) override {
    if (dataset_format(dataset) == "dosna") return "";
    return kv()->location(dataset + "/");
  }

 private:
  std::string describe() const { return kind_ + " store " + quote(name_); }
  std::shared_ptr<KvStore> kv() const {
    std::lock_guard lock(mu_);
    if (!open_) throw ConnectionError(describe() + ": the connection is closed");
    if (!kv_) {
      kv_ = make_kv_();
      closed_.reset();
    }
    return kv_;
  }
  std::string kind_, name_;
  std::shared_ptr<Backend> native_;
  std::function<std::shared_ptr<KvStore>()> make_kv_;
  std::string default_format_;
  mutable std::mutex mu_;
  bool open_ = false;
  mutable std::shared_ptr<KvStore> kv_;
  // The store closed by disconnect(), kept until kv() opened the next
  // one: the ram store's values live as long as one store of its name does.
  mutable std::shared_ptr<KvStore> closed_;
};

}  // namespace

std::shared_ptr<Backend> make_format_backend(std::string kind, std::string name,
                                             std::shared_ptr<Backend> native,
                                             std::function<std::shared_ptr<KvStore>()> make_kv,
                                             std::string default_format) {
  return std::make_shared<FormatBackend>(std::move(kind), std::move(name), std::move(native),
                                         std::move(make_kv), std::move(default_format));
}

}  // namespace dosna::formats
