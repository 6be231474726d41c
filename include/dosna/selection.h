// numpy basic indexing: integers, slices (with steps, negative values and
// numpy's clamping), Ellipsis, and fewer indices than dimensions.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace dosna {

using Shape = std::vector<std::int64_t>;
using ChunkIndex = std::vector<std::int64_t>;

// start:stop:step; an empty optional is Python's None.
struct Slice {
  std::optional<std::int64_t> start, stop, step;
};
struct EllipsisType {};
inline constexpr EllipsisType ellipsis{};

inline Slice slice(std::optional<std::int64_t> start, std::optional<std::int64_t> stop,
                   std::optional<std::int64_t> step = std::nullopt) {
  return {start, stop, step};
}
inline const Slice all{};  // ":"

using IndexItem = std::variant<std::int64_t, Slice, EllipsisType>;

// One index expression, e.g. {0, slice(2, 10), ellipsis}. An empty selection
// selects everything, like ds[...].
class Selection {
 public:
  Selection() = default;
  Selection(std::initializer_list<IndexItem> items) : items_(items) {}
  explicit Selection(std::vector<IndexItem> items) : items_(std::move(items)) {}

  // Parses numpy-style text: "50,:,:", "...,-1", "::2, 3:7", "" (everything).
  // Throws InvalidArgument naming the text.
  static Selection parse(std::string_view text);
  std::string to_string() const;

  const std::vector<IndexItem>& items() const { return items_; }

 private:
  std::vector<IndexItem> items_;
};

// One axis of a normalised selection: `count` positions start, start+step, ...
// (step may be negative). `squeeze` marks an integer index (the axis is dropped
// from the result's shape).
struct AxisRange {
  std::int64_t start = 0;
  std::int64_t step = 1;
  std::int64_t count = 0;
  bool squeeze = false;
  friend bool operator==(const AxisRange&, const AxisRange&) = default;
};

// A selection resolved against a shape: exactly one AxisRange per dimension.
struct NormalizedSelection {
  std::vector<AxisRange> axes;

  // Shape of the result (squeezed axes dropped), as numpy gives it.
  Shape result_shape() const;
  // Shape with squeezed axes kept as 1 (same element order as result_shape).
  Shape box_shape() const;
  std::int64_t size() const;
};

// Applies numpy's rules. Throws IndexOutOfRange for an integer outside its
// axis, InvalidArgument for too many indices, two ellipses or step 0.
// `what` names the dataset in messages.
NormalizedSelection normalize(const Selection& selection, const Shape& shape,
                              std::string_view what = "array");

// "(100, 100, 100)" — numpy's shape text, for messages.
std::string shape_to_string(const Shape& shape);

}  // namespace dosna
