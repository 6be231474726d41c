#include "image.h"

#include <png.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

#include "dosna/errors.h"

namespace dosna::conv {

void write_png(const std::string& path, const NdArray& slice) {
  if (slice.ndim() != 2 || !(slice.dtype() == DType::of<float>()))
    throw InvalidArgument("write_png: needs a 2-D float32 slice, got " + slice.dtype().str() + " " +
                          shape_to_string(slice.shape()));
  const auto h = static_cast<png_uint_32>(slice.shape()[0]);
  const auto w = static_cast<png_uint_32>(slice.shape()[1]);
  const auto v = slice.values<float>();
  float lo = 0, hi = 1;
  if (!v.empty()) {
    const auto [mn, mx] = std::minmax_element(v.begin(), v.end());
    lo = *mn;
    hi = *mx > *mn ? *mx : *mn + 1;
  }
  std::vector<png_byte> pixels(v.size());
  for (std::size_t i = 0; i < v.size(); ++i)
    pixels[i] = static_cast<png_byte>(std::clamp((v[i] - lo) / (hi - lo) * 255.0f + 0.5f, 0.0f, 255.0f));

  std::unique_ptr<FILE, int (*)(FILE*)> fp(std::fopen(path.c_str(), "wb"), std::fclose);
  if (!fp) throw IoError("write_png: cannot open " + path + " for writing");
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!info) {
    png_destroy_write_struct(&png, nullptr);
    throw IoError("write_png: libpng could not start for " + path);
  }
  std::vector<png_bytep> rows(h);
  for (png_uint_32 y = 0; y < h; ++y) rows[y] = pixels.data() + static_cast<std::size_t>(y) * w;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw IoError("write_png: libpng failed writing " + path);
  }
  png_init_io(png, fp.get());
  png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
}

}  // namespace dosna::conv
