// normalize() and Selection::parse against results checked with numpy
// (np.arange(n)[sel] per axis, and the result shape of a[sel]).
#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dosna/errors.h"
#include "dosna/selection.h"

namespace dosna {
namespace {

struct AxisExpect {
  std::vector<std::int64_t> positions;
  bool squeeze = false;
};

std::vector<std::int64_t> positions(const AxisRange& a) {
  std::vector<std::int64_t> out;
  for (std::int64_t i = 0; i < a.count; ++i) out.push_back(a.start + i * a.step);
  return out;
}

std::vector<std::int64_t> range(std::int64_t n) {
  std::vector<std::int64_t> out;
  for (std::int64_t i = 0; i < n; ++i) out.push_back(i);
  return out;
}

void expect_axes(const Shape& shape, const Selection& sel, const std::vector<AxisExpect>& want,
                 const Shape& result_shape) {
  SCOPED_TRACE("shape " + shape_to_string(shape) + " selection '" + sel.to_string() + "'");
  const NormalizedSelection n = normalize(sel, shape);
  ASSERT_EQ(n.axes.size(), want.size());
  std::int64_t size = 1;
  Shape box;
  for (std::size_t d = 0; d < want.size(); ++d) {
    EXPECT_EQ(positions(n.axes[d]), want[d].positions) << "axis " << d;
    EXPECT_EQ(n.axes[d].squeeze, want[d].squeeze) << "axis " << d;
    size *= static_cast<std::int64_t>(want[d].positions.size());
    box.push_back(static_cast<std::int64_t>(want[d].positions.size()));
  }
  EXPECT_EQ(n.result_shape(), result_shape);
  EXPECT_EQ(n.box_shape(), box);
  EXPECT_EQ(n.size(), size);
}

const std::nullopt_t None = std::nullopt;

TEST(Normalize, EmptySelectionTakesEverything) {
  expect_axes({10}, {}, {{range(10)}}, {10});
}

TEST(Normalize, SlicesFollowNumpyClamping) {
  expect_axes({10}, {slice(None, None, -1)}, {{{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}}}, {10});
  expect_axes({10}, {slice(-3, None)}, {{{7, 8, 9}}}, {3});
  expect_axes({10}, {slice(2, 100, 3)}, {{{2, 5, 8}}}, {3});
  expect_axes({10}, {slice(100, None, -2)}, {{{9, 7, 5, 3, 1}}}, {5});
  expect_axes({10}, {slice(-100, 5)}, {{{0, 1, 2, 3, 4}}}, {5});
  expect_axes({10}, {slice(-1, -11, -1)}, {{{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}}}, {10});
  expect_axes({10}, {slice(-1, -100, -3)}, {{{9, 6, 3, 0}}}, {4});
  expect_axes({10}, {slice(None, -100, -1)}, {{{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}}}, {10});
  expect_axes({10}, {slice(3, None, -1)}, {{{3, 2, 1, 0}}}, {4});
  expect_axes({10}, {slice(None, 3, -1)}, {{{9, 8, 7, 6, 5, 4}}}, {6});
  expect_axes({7}, {slice(1, 6, 2)}, {{{1, 3, 5}}}, {3});
  expect_axes({7}, {slice(6, 0, -2)}, {{{6, 4, 2}}}, {3});
  expect_axes({3}, {slice(None, None, 5)}, {{{0}}}, {1});
  expect_axes({5}, {slice(-2, -5, -1)}, {{{3, 2, 1}}}, {3});
}

TEST(Normalize, EmptySlices) {
  expect_axes({10}, {slice(5, 2)}, {{{}}}, {0});
  expect_axes({10}, {slice(2, 5, -1)}, {{{}}}, {0});
  expect_axes({3}, {slice(5, 10)}, {{{}}}, {0});
  expect_axes({5}, {slice(-7, -5)}, {{{}}}, {0});
  expect_axes({0}, {}, {{{}}}, {0});
  expect_axes({0}, {slice(None, None, -1)}, {{{}}}, {0});
  expect_axes({4, 0, 3}, {1}, {{{1}, true}, {{}}, {range(3)}}, {0, 3});
}

TEST(Normalize, IntegersWrapAndSqueeze) {
  expect_axes({10}, {-1}, {{{9}, true}}, {});
  expect_axes({10}, {0}, {{{0}, true}}, {});
  expect_axes({3}, {-3}, {{{0}, true}}, {});
  expect_axes({4, 5, 6}, {1}, {{{1}, true}, {range(5)}, {range(6)}}, {5, 6});
  expect_axes({4, 5, 6}, {1, 2, 3}, {{{1}, true}, {{2}, true}, {{3}, true}}, {});
}

TEST(Normalize, Ellipsis) {
  expect_axes({4, 5, 6}, {ellipsis, -1}, {{range(4)}, {range(5)}, {{5}, true}}, {4, 5});
  expect_axes({2, 3, 4, 5}, {0, ellipsis, 1}, {{{0}, true}, {range(3)}, {range(4)}, {{1}, true}},
              {3, 4});
  expect_axes({4, 5, 6}, {1, 2, ellipsis, 3}, {{{1}, true}, {{2}, true}, {{3}, true}}, {});
  expect_axes({4, 5, 6}, {slice(None, None, 2), ellipsis}, {{{0, 2}}, {range(5)}, {range(6)}},
              {2, 5, 6});
  expect_axes({4, 5, 6}, {ellipsis}, {{range(4)}, {range(5)}, {range(6)}}, {4, 5, 6});
}

TEST(Normalize, ExtremeValuesDoNotOverflow) {
  constexpr std::int64_t kMax = INT64_MAX, kMin = INT64_MIN;
  expect_axes({10}, {slice(kMin, kMax)}, {{range(10)}}, {10});
  expect_axes({10}, {slice(kMax, kMin, -1)}, {{{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}}}, {10});
  expect_axes({10}, {slice(None, None, kMax)}, {{{0}}}, {1});
  expect_axes({10}, {slice(None, None, -kMax)}, {{{9}}}, {1});
  expect_axes({10}, {slice(kMax - 1, None, kMax)}, {{{}}}, {0});
  expect_axes({10}, {slice(kMin, None, -1)}, {{{}}}, {0});
  expect_axes({10}, {slice(3, kMax, kMax - 1)}, {{{3}}}, {1});
  expect_axes({10}, {slice(None, None, kMin)}, {{{9}}}, {1});
  expect_axes({10}, {slice(kMin, kMin, kMin)}, {{{}}}, {0});
  EXPECT_THROW(normalize({kMin}, {10}), IndexOutOfRange);
  EXPECT_THROW(normalize({kMax}, {10}), IndexOutOfRange);
}

TEST(Normalize, BoxShapeKeepsSqueezedAxesAsOne) {
  const NormalizedSelection n = normalize({0, ellipsis, 1}, {2, 3, 4, 5});
  EXPECT_EQ(n.box_shape(), (Shape{1, 3, 4, 1}));
  EXPECT_EQ(n.result_shape(), (Shape{3, 4}));
}

TEST(Normalize, ZeroDimensional) {
  for (const Selection& sel : {Selection{}, Selection{ellipsis}}) {
    const NormalizedSelection n = normalize(sel, {});
    EXPECT_TRUE(n.axes.empty());
    EXPECT_EQ(n.result_shape(), Shape{});
    EXPECT_EQ(n.size(), 1);
  }
}

TEST(Normalize, Errors) {
  EXPECT_THROW(normalize({10}, {10}), IndexOutOfRange);
  EXPECT_THROW(normalize({-11}, {10}), IndexOutOfRange);
  EXPECT_THROW(normalize({0}, {0}), IndexOutOfRange);
  EXPECT_THROW(normalize({all, 5}, {4, 5}), IndexOutOfRange);
  EXPECT_THROW(normalize({slice(None, None, 0)}, {10}), InvalidArgument);
  EXPECT_THROW(normalize({1, 2, 3}, {4, 5}), InvalidArgument);
  EXPECT_THROW(normalize({ellipsis, ellipsis}, {4, 5}), InvalidArgument);
  EXPECT_THROW(normalize({0}, {}), InvalidArgument);
  EXPECT_NO_THROW(normalize({ellipsis, 1, 2}, {4, 5}));
}

TEST(Normalize, ErrorsNameWhatAndValue) {
  try {
    normalize({all, 17}, {4, 5}, "volume_x");
    FAIL() << "no IndexOutOfRange";
  } catch (const IndexOutOfRange& e) {
    EXPECT_NE(std::string(e.what()).find("volume_x"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("17"), std::string::npos) << e.what();
  }
}

// --- Selection::parse

::testing::AssertionResult same_items(const Selection& got, const std::vector<IndexItem>& want) {
  const auto& g = got.items();
  if (g.size() != want.size())
    return ::testing::AssertionFailure() << g.size() << " items, want " << want.size();
  for (std::size_t i = 0; i < g.size(); ++i) {
    if (g[i].index() != want[i].index())
      return ::testing::AssertionFailure() << "item " << i << " has the wrong kind";
    if (const auto* v = std::get_if<std::int64_t>(&g[i])) {
      if (*v != std::get<std::int64_t>(want[i]))
        return ::testing::AssertionFailure() << "item " << i << " = " << *v;
    } else if (const auto* s = std::get_if<Slice>(&g[i])) {
      const Slice& w = std::get<Slice>(want[i]);
      if (s->start != w.start || s->stop != w.stop || s->step != w.step)
        return ::testing::AssertionFailure() << "item " << i << " is a different slice";
    }
  }
  return ::testing::AssertionSuccess();
}

TEST(SelectionParse, NumpyText) {
  EXPECT_TRUE(same_items(Selection::parse("50,:,:"), {std::int64_t{50}, all, all}));
  EXPECT_TRUE(same_items(Selection::parse("...,-1"), {ellipsis, std::int64_t{-1}}));
  EXPECT_TRUE(same_items(Selection::parse("::2, 3:7"),
                         {slice(None, None, 2), slice(3, 7)}));
  EXPECT_TRUE(same_items(Selection::parse(""), {}));
  EXPECT_TRUE(same_items(Selection::parse(" -3 : "), {slice(-3, None)}));
  EXPECT_TRUE(same_items(Selection::parse(":-3"), {slice(None, -3)}));
  EXPECT_TRUE(same_items(Selection::parse("::-1"), {slice(None, None, -1)}));
  EXPECT_TRUE(same_items(Selection::parse("1:2:3"), {slice(1, 2, 3)}));
  EXPECT_TRUE(same_items(Selection::parse("1:2:"), {slice(1, 2)}));
  EXPECT_TRUE(same_items(Selection::parse("..."), {ellipsis}));
  EXPECT_TRUE(same_items(Selection::parse("0"), {std::int64_t{0}}));
}

TEST(SelectionParse, ParsedTextSelectsWhatNumpySelects) {
  // a = np.arange(120).reshape(4, 5, 6); a[1:, ..., ::-2].shape == (3, 5, 3)
  const NormalizedSelection n = normalize(Selection::parse("1:, ..., ::-2"), {4, 5, 6});
  EXPECT_EQ(n.result_shape(), (Shape{3, 5, 3}));
  EXPECT_EQ(positions(n.axes[2]), (std::vector<std::int64_t>{5, 3, 1}));
}

TEST(SelectionParse, RejectsMalformedText) {
  for (const char* text : {"a", "1:2:3:4", "1,,2", "1.5", ":::", "1 2", ",1", "1:x", "--"}) {
    SCOPED_TRACE(text);
    try {
      Selection::parse(text);
      ADD_FAILURE() << "accepted '" << text << "'";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
  }
}

TEST(SelectionParse, ToStringRoundTrips) {
  const std::vector<Selection> sels = {
      {},
      {std::int64_t{3}},
      {ellipsis, std::int64_t{-1}},
      {slice(None, None, -1), all, slice(2, 9, 3)},
      {slice(-4, None), ellipsis, slice(None, -2)},
  };
  for (const auto& s : sels) {
    // to_string() writes "[...]" for messages; parse() takes what is inside.
    std::string text = s.to_string();
    SCOPED_TRACE(text);
    ASSERT_GE(text.size(), 2u);
    ASSERT_EQ(text.front(), '[');
    ASSERT_EQ(text.back(), ']');
    EXPECT_TRUE(same_items(Selection::parse(text.substr(1, text.size() - 2)), s.items()));
  }
}

TEST(ShapeToString, NumpyForm) {
  EXPECT_EQ(shape_to_string({100, 100, 100}), "(100, 100, 100)");
  EXPECT_EQ(shape_to_string({7}), "(7,)");
  EXPECT_EQ(shape_to_string({}), "()");
}

}  // namespace
}  // namespace dosna
