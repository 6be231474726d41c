// A progress bar on stderr (bytes done, rate, ETA) for long operations.
// Drawn only when enabled (stderr is a terminal and --quiet was not given);
// otherwise every call is a cheap no-op. add() is thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace dosna::cli {

class Progress {
 public:
  Progress(std::string label, std::uint64_t total_bytes, bool enabled);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Records `bytes` more done; redraws at most ten times a second.
  void add(std::uint64_t bytes);
  // Draws the final state and ends the line (also done by the destructor).
  void finish();

  std::uint64_t done() const { return done_.load(std::memory_order_relaxed); }
  // Seconds since construction.
  double elapsed() const;
  // Prints one JSON line on stdout: {"op", "bytes", "seconds", "mb_per_s"}
  // (MB = 1e6 bytes, as dosna-bench reports).
  void print_stats(const std::string& op) const;

  // Whether stderr is a terminal.
  static bool stderr_is_tty();

 private:
  void draw(bool final);

  std::string label_;
  std::uint64_t total_;
  bool enabled_;
  bool finished_ = false;
  std::atomic<std::uint64_t> done_{0};
  std::mutex draw_mutex_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

// "12.5 MiB" style.
std::string human_bytes(double bytes);

}  // namespace dosna::cli
