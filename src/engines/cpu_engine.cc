// The cpu engine: every task runs in the calling thread, in order.
#include "core/builtin.h"
#include "core/options.h"

namespace dosna {
namespace {

class CpuEngine final : public Engine {
 public:
  std::string_view kind() const override { return "cpu"; }
  void run_local(std::size_t n, const std::function<void(std::size_t)>& task) override {
    for (std::size_t i = 0; i < n; ++i) task(i);
  }
};

}  // namespace

std::shared_ptr<Engine> builtin::make_cpu_engine(const Options& options) {
  OptionReader(options, "cpu engine").finish();
  return std::make_shared<CpuEngine>();
}

}  // namespace dosna
