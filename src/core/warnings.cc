#include "dosna/warnings.h"

#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>

namespace dosna {
namespace {

// The installed handler and how many warn() calls are running it. Handlers
// run without the lock held: one that waits for something (the Python one
// waits for the GIL) cannot block another thread's warning that holds it.
struct Installed {
  WarningHandler handler;
  int running = 0;
};

struct Registry {
  std::mutex mutex;
  std::condition_variable idle;
  std::shared_ptr<Installed> current;  // null: the default (stderr)
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

WarningHandler set_warning_handler(WarningHandler handler) {
  Registry& r = registry();
  std::unique_lock lock(r.mutex);
  std::shared_ptr<Installed> old = std::move(r.current);
  if (handler) r.current = std::make_shared<Installed>(Installed{std::move(handler)});
  // Whoever replaces a handler may destroy what it refers to next.
  r.idle.wait(lock, [&] { return !old || old->running == 0; });
  return old ? std::move(old->handler) : WarningHandler{};
}

void warn(const std::string& message) {
  Registry& r = registry();
  std::shared_ptr<Installed> installed;
  {
    std::lock_guard lock(r.mutex);
    installed = r.current;
    if (installed) ++installed->running;
  }
  if (!installed) {
    std::fprintf(stderr, "dosna: warning: %s\n", message.c_str());
    return;
  }
  struct Done {
    Registry& r;
    Installed& installed;
    ~Done() {
      std::lock_guard lock(r.mutex);
      if (--installed.running == 0) r.idle.notify_all();
    }
  } done{r, *installed};
  installed->handler(message);
}

}  // namespace dosna
