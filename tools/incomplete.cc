#include "incomplete.h"

#include <cstdint>
#include <cstdio>
#include <optional>

#include "dosna/errors.h"

namespace dosna::cli {
namespace {

constexpr std::string_view kPrefix = "dosna-cp-";
constexpr std::size_t kHexDigits = 16;

void drop_mark(Connection& con, const std::string& dataset) {
  try {
    con.del_dataset(incomplete_mark(dataset));
  } catch (const NotFound&) {
  }
}

void drop_mark_quietly(Connection& con, const std::string& dataset) noexcept {
  try {
    drop_mark(con, dataset);
  } catch (...) {  // the error being reported matters more than a stray mark
  }
}

// Deletes `dataset`, also one whose record cannot be read (the store deletes
// without it); false if it does not exist and `missing_ok`.
bool remove_dataset(Connection& con, const std::string& dataset, bool missing_ok) {
  std::optional<Dataset> ds;
  try {
    ds = con.get_dataset(dataset);
  } catch (const NotFound&) {
    if (!missing_ok) throw;
    return false;
  } catch (const IoError&) {
    // Its record cannot be read (corrupt): delete it without one, below.
  }
  if (ds) ds->remove();
  else con.backend().delete_dataset(dataset);
  return true;
}

}  // namespace

std::string incomplete_mark(const std::string& dataset) {
  std::uint64_t h = 14695981039346656037ULL;  // FNV-1a, 64 bits
  for (unsigned char c : dataset) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char hex[kHexDigits + 1];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return std::string(kPrefix) + hex;
}

bool is_incomplete_mark(const std::string& name) {
  if (name.size() != kPrefix.size() + kHexDigits || !name.starts_with(kPrefix)) return false;
  for (std::size_t i = kPrefix.size(); i < name.size(); ++i)
    if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f'))) return false;
  return true;
}

bool is_incomplete(const std::set<std::string>& names, const std::string& dataset) {
  return names.count(incomplete_mark(dataset)) > 0;
}

bool is_incomplete(const Connection& con, const std::string& dataset) {
  return con.has_dataset(incomplete_mark(dataset));
}

void write_marked(Connection& con, const TargetSpec& t,
                  const std::function<void(Dataset&)>& fill) {
  if (!t.force && con.has_dataset(t.name))
    throw AlreadyExists("dataset '" + t.name + "' exists (use --force to replace it)");
  const std::string mark = incomplete_mark(t.name);
  bool own_mark = true;
  try {
    con.create_dataset(mark, Shape{1}, DType::parse("uint8"));
  } catch (const AlreadyExists&) {
    own_mark = false;  // left by an interrupted write: it marks this one too
  }
  std::optional<Dataset> dst;
  try {
    if (t.force) remove_dataset(con, t.name, true);
    dst = con.create_dataset(t.name, t.shape, t.dtype, t.chunks, t.fill, t.storage);
  } catch (...) {
    // Nothing written (a rejected shape), or someone else's dataset: unmark.
    if (own_mark) drop_mark_quietly(con, t.name);
    throw;
  }
  try {
    fill(*dst);
  } catch (...) {
    try {
      remove_with_mark(con, t.name, true);
    } catch (...) {  // what stays is still marked; the first error is the one to report
    }
    throw;
  }
  drop_mark(con, t.name);
}

bool remove_with_mark(Connection& con, const std::string& dataset, bool missing_ok) {
  bool existed = false;
  try {
    existed = remove_dataset(con, dataset, missing_ok);
  } catch (const NotFound&) {
    drop_mark_quietly(con, dataset);  // an orphan mark goes too
    throw;
  }
  drop_mark(con, dataset);
  return existed;
}

}  // namespace dosna::cli
