#include "png_writer.h"

#include <png.h>
#include <zlib.h>

#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <memory>

#include "dosna/errors.h"
#include "file_errors.h"

namespace dosna::cli {
namespace {

void append_bytes(png_structp png, png_bytep data, png_size_t length) {
  auto* out = static_cast<std::string*>(png_get_io_ptr(png));
  out->append(reinterpret_cast<const char*>(data), length);
}

void no_flush(png_structp) {}

}  // namespace

std::string encode_png(const std::vector<std::uint8_t>& pixels, std::int64_t height,
                       std::int64_t width, int channels, const std::string& what) {
  if (height < 1 || width < 1 || height > 0x7fffffff || width > 0x7fffffff ||
      (channels != 1 && channels != 3) ||
      pixels.size() != static_cast<std::size_t>(height * width * channels))
    throw InvalidArgument(what + ": cannot write an image of " + std::to_string(height) + "x" +
                          std::to_string(width) + " pixels");
  std::string out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!png || !info) {
    png_destroy_write_struct(&png, &info);
    throw IoError(what + ": libpng could not start");
  }
  // libpng reports errors by longjmp; nothing with a destructor is created
  // between setjmp and the writes below.
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw IoError(what + ": libpng failed to write the image");
  }
  png_set_write_fn(png, &out, &append_bytes, &no_flush);
  // Speed over size: the viewer encodes a plane per request.
  png_set_compression_level(png, 1);
  png_set_filter(png, 0, PNG_FILTER_NONE);
  png_set_compression_strategy(png, Z_RLE);  // fast, and good on flat regions
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), 8,
               channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  const auto row_bytes = static_cast<std::size_t>(width * channels);
  for (std::int64_t r = 0; r < height; ++r)
    png_write_row(png, pixels.data() + static_cast<std::size_t>(r) * row_bytes);
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

void write_grey_png(const std::string& path, const std::vector<std::uint8_t>& pixels,
                    std::int64_t height, std::int64_t width) {
  const std::string bytes = encode_png(pixels, height, width, 1, "png '" + path + "'");
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!file) throw_errno(errno, "png '" + path + "'");
  if (std::fwrite(bytes.data(), 1, bytes.size(), file.get()) != bytes.size() ||
      std::fflush(file.get()) != 0)
    throw_errno(errno, "png '" + path + "'");
}

}  // namespace dosna::cli
