// The viewer page's static files, compiled into the binary from tools/viewer/
// (tools/embed_assets.cmake).
#pragma once

#include <span>
#include <string_view>

namespace dosna::cli {

struct ViewerAsset {
  std::string_view path;          // "/index.html"
  std::string_view content_type;  // "text/html; charset=utf-8"
  std::string_view body;
};

// Every embedded file.
std::span<const ViewerAsset> viewer_assets();

}  // namespace dosna::cli
