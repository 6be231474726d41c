#include "png_writer.h"

#include <png.h>

#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <memory>

#include "dosna/errors.h"
#include "file_errors.h"

namespace dosna::cli {

void write_grey_png(const std::string& path, const std::vector<std::uint8_t>& pixels,
                    std::int64_t height, std::int64_t width) {
  if (height < 1 || width < 1 || height > 0x7fffffff || width > 0x7fffffff)
    throw InvalidArgument("png '" + path + "': cannot write an image of " + std::to_string(height) +
                          "x" + std::to_string(width) + " pixels");
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!file) throw_errno(errno, "png '" + path + "'");
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!png || !info) {
    png_destroy_write_struct(&png, &info);
    throw IoError("png '" + path + "': libpng could not start");
  }
  // libpng reports errors by longjmp; nothing with a destructor is created
  // between setjmp and the writes below.
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw IoError("png '" + path + "': libpng failed to write the image");
  }
  png_init_io(png, file.get());
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), 8,
               PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (std::int64_t r = 0; r < height; ++r)
    png_write_row(png, pixels.data() + static_cast<std::size_t>(r * width));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  if (std::fflush(file.get()) != 0) throw_errno(errno, "png '" + path + "'");
}

}  // namespace dosna::cli
