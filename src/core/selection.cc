#include "dosna/selection.h"

#include <cctype>
#include <charconv>
#include <cstdint>

#include "dosna/array.h"
#include "dosna/errors.h"

namespace dosna {
namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::optional<std::int64_t> parse_int(const std::string& text, std::string_view whole) {
  if (text.empty()) return std::nullopt;
  std::int64_t v = 0;
  const char* first = text.data() + (text[0] == '+' ? 1 : 0);
  auto r = std::from_chars(first, text.data() + text.size(), v);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size())
    throw InvalidArgument("invalid selection '" + std::string(whole) + "': '" + text +
                          "' is not an integer");
  return v;
}

// numpy's PySlice_AdjustIndices.
AxisRange resolve_slice(const Slice& s, std::int64_t n, std::string_view what) {
  // CPython clamps a step of -2**63 to -(2**63 - 1), so -step cannot overflow.
  const std::int64_t step = std::max(s.step.value_or(1), -INT64_MAX);
  if (step == 0) throw InvalidArgument(std::string(what) + ": slice step cannot be zero");
  std::int64_t start, stop;
  if (step > 0) {
    start = s.start.value_or(0);
    stop = s.stop.value_or(n);
    if (start < 0) start = std::max<std::int64_t>(start + n, 0);
    else start = std::min(start, n);
    if (stop < 0) stop = std::max<std::int64_t>(stop + n, 0);
    else stop = std::min(stop, n);
  } else {
    start = s.start.value_or(n - 1);
    stop = s.stop.has_value() ? *s.stop : -n - 1;
    if (start < 0) start = std::max<std::int64_t>(start + n, -1);
    else start = std::min(start, n - 1);
    if (stop < 0) stop = std::max<std::int64_t>(stop + n, -1);
    else stop = std::min(stop, n - 1);
  }
  std::int64_t count = 0;
  if (step > 0 && stop > start) count = (stop - start - 1) / step + 1;
  if (step < 0 && start > stop) count = (start - stop - 1) / (-step) + 1;
  if (count == 0) start = 0;
  return {start, step, count, false};
}

}  // namespace

Selection Selection::parse(std::string_view text) {
  std::vector<IndexItem> items;
  const std::string all_text = trim(text);
  if (all_text.empty()) return Selection();
  std::size_t pos = 0;
  while (pos <= all_text.size()) {
    std::size_t comma = all_text.find(',', pos);
    if (comma == std::string::npos) comma = all_text.size();
    const std::string part = trim(std::string_view(all_text).substr(pos, comma - pos));
    if (part == "...") {
      items.emplace_back(ellipsis);
    } else if (part.find(':') != std::string::npos) {
      Slice s;
      std::vector<std::string> fields;
      std::size_t p = 0;
      while (true) {
        std::size_t c = part.find(':', p);
        fields.push_back(trim(std::string_view(part).substr(p, c == std::string::npos ? c : c - p)));
        if (c == std::string::npos) break;
        p = c + 1;
      }
      if (fields.size() > 3) throw InvalidArgument("invalid selection '" + all_text + "': '" + part + "'");
      s.start = parse_int(fields[0], all_text);
      s.stop = parse_int(fields[1], all_text);
      if (fields.size() == 3) s.step = parse_int(fields[2], all_text);
      items.emplace_back(s);
    } else if (part.empty()) {
      if (comma == all_text.size() && !items.empty()) break;  // trailing comma
      throw InvalidArgument("invalid selection '" + all_text + "': empty index");
    } else {
      items.emplace_back(*parse_int(part, all_text));
    }
    pos = comma + 1;
    if (comma == all_text.size()) break;
  }
  return Selection(std::move(items));
}

std::string Selection::to_string() const {
  auto opt = [](const std::optional<std::int64_t>& v) { return v ? std::to_string(*v) : ""; };
  std::string out;
  for (const auto& item : items_) {
    if (!out.empty()) out += ", ";
    if (const auto* i = std::get_if<std::int64_t>(&item)) out += std::to_string(*i);
    else if (const auto* s = std::get_if<Slice>(&item))
      out += opt(s->start) + ":" + opt(s->stop) + (s->step ? ":" + opt(s->step) : "");
    else out += "...";
  }
  return "[" + out + "]";
}

Shape NormalizedSelection::result_shape() const {
  Shape out;
  for (const auto& a : axes)
    if (!a.squeeze) out.push_back(a.count);
  return out;
}

Shape NormalizedSelection::box_shape() const {
  Shape out;
  for (const auto& a : axes) out.push_back(a.count);
  return out;
}

std::int64_t NormalizedSelection::size() const {
  std::int64_t n = 1;
  for (const auto& a : axes) n *= a.count;
  return n;
}

NormalizedSelection normalize(const Selection& selection, const Shape& shape, std::string_view what) {
  const auto& items = selection.items();
  std::size_t n_ellipsis = 0;
  for (const auto& it : items) n_ellipsis += std::holds_alternative<EllipsisType>(it);
  if (n_ellipsis > 1)
    throw InvalidArgument(std::string(what) + ": an index can only have a single ellipsis ('...')");
  const std::size_t explicit_dims = items.size() - n_ellipsis;
  if (explicit_dims > shape.size())
    throw InvalidArgument(std::string(what) + ": too many indices: array is " +
                          std::to_string(shape.size()) + "-dimensional, but " +
                          std::to_string(explicit_dims) + " were indexed");
  NormalizedSelection out;
  out.axes.reserve(shape.size());
  std::size_t dim = 0;
  auto add = [&](const IndexItem& item) {
    const std::int64_t n = shape[dim];
    if (const auto* i = std::get_if<std::int64_t>(&item)) {
      std::int64_t v = *i < 0 ? *i + n : *i;
      if (v < 0 || v >= n)
        throw IndexOutOfRange(std::string(what) + ": index " + std::to_string(*i) +
                              " is out of bounds for axis " + std::to_string(dim) + " with size " +
                              std::to_string(n));
      out.axes.push_back({v, 1, 1, true});
    } else {
      out.axes.push_back(resolve_slice(std::get<Slice>(item), n, what));
    }
    ++dim;
  };
  for (const auto& item : items) {
    if (std::holds_alternative<EllipsisType>(item)) {
      const std::size_t fill = shape.size() - explicit_dims;
      for (std::size_t k = 0; k < fill; ++k) add(Slice{});
    } else {
      add(item);
    }
  }
  while (dim < shape.size()) add(Slice{});
  return out;
}

std::string shape_to_string(const Shape& shape) {
  std::string out = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(shape[i]);
  }
  if (shape.size() == 1) out += ",";
  return out + ")";
}

}  // namespace dosna
