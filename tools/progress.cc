#include "progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace dosna::cli {

std::string human_bytes(double bytes) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024.0 && u < 4) {
    bytes /= 1024.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return buf;
}

bool Progress::stderr_is_tty() { return isatty(STDERR_FILENO) == 1; }

Progress::Progress(std::string label, std::uint64_t total_bytes, bool enabled)
    : label_(std::move(label)),
      total_(total_bytes),
      enabled_(enabled),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {
  if (enabled_) draw(false);
}

Progress::~Progress() { finish(); }

double Progress::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::print_stats(const std::string& op) const {
  const double secs = elapsed();
  const double bytes = static_cast<double>(done());
  std::printf("{\"op\":\"%s\",\"bytes\":%.0f,\"seconds\":%.6f,\"mb_per_s\":%.1f}\n", op.c_str(),
              bytes, secs, secs > 0 ? bytes / secs / 1e6 : 0.0);
  std::fflush(stdout);
}

void Progress::add(std::uint64_t bytes) {
  done_.fetch_add(bytes, std::memory_order_relaxed);
  if (!enabled_) return;
  std::unique_lock lock(draw_mutex_, std::try_to_lock);
  if (!lock.owns_lock() || finished_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  draw(false);
}

void Progress::finish() {
  if (!enabled_) return;
  std::lock_guard lock(draw_mutex_);
  if (finished_) return;
  finished_ = true;
  draw(true);
  std::fputc('\n', stderr);
  std::fflush(stderr);
}

void Progress::draw(bool final) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double done = static_cast<double>(done_.load(std::memory_order_relaxed));
  const double total = static_cast<double>(total_);
  const double frac = total > 0 ? std::min(1.0, done / total) : 1.0;
  const double rate = elapsed > 0 ? done / elapsed : 0.0;
  constexpr int kWidth = 24;
  const int filled = static_cast<int>(frac * kWidth);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.append(static_cast<std::size_t>(kWidth - filled), '.');
  std::string eta = "--:--";
  if (final) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "done in %.2f s", elapsed);
    eta = buf;
  } else if (rate > 0 && total >= done) {
    const auto secs = static_cast<long>(std::ceil((total - done) / rate));
    char buf[32];
    std::snprintf(buf, sizeof buf, "%ld:%02ld", secs / 60, secs % 60);
    eta = buf;
  }
  std::fprintf(stderr, "\r%s [%s] %3.0f%% %s / %s  %s/s  %s%s\x1b[K", label_.c_str(), bar.c_str(),
               frac * 100.0, human_bytes(done).c_str(), human_bytes(total).c_str(),
               human_bytes(rate).c_str(), final ? "" : "ETA ", eta.c_str());
  std::fflush(stderr);
}

}  // namespace dosna::cli
