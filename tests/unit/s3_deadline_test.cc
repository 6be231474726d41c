// Deadlines of the s3 backend: an endpoint that accepts connections and never
// answers, one that answers and then falls silent, a frozen (SIGSTOP) and a
// stopped radosgw. Every request ends within its deadline, errors that cannot
// heal are not retried, and the error says how long it tried.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "dosna/connection.h"
#include "dosna/errors.h"
#include "dosna/registry.h"
#include "s3_test_util.h"

namespace dosna::testing {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Headroom for a loaded machine on top of the bound a test checks.
constexpr double kSlack = 4.0;

// A listening socket on 127.0.0.1 that never accepts: the kernel completes
// the TCP handshakes, nobody ever reads or answers.
class SilentSocket {
 public:
  SilentSocket() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd_, 64) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      throw std::runtime_error("SilentSocket: cannot listen on 127.0.0.1");
    }
    port_ = ntohs(a.sin_port);
  }
  ~SilentSocket() { ::close(fd_); }
  SilentSocket(const SilentSocket&) = delete;
  SilentSocket& operator=(const SilentSocket&) = delete;
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// An HTTP endpoint that answers the first `answers` requests with an empty
// ListBuckets reply and then reads requests without ever answering.
class FallsSilent {
 public:
  explicit FallsSilent(int answers) : answers_(answers) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
        ::listen(listener_, 64) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      throw std::runtime_error("FallsSilent: cannot listen on 127.0.0.1");
    }
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~FallsSilent() {
    stop_ = true;
    acceptor_.join();
    for (auto& t : clients_) t.join();
    ::close(listener_);
  }
  FallsSilent(const FallsSilent&) = delete;
  FallsSilent& operator=(const FallsSilent&) = delete;
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_.load(); }

 private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd >= 0) clients_.emplace_back([this, fd] { serve(fd); });
    }
  }

  void serve(int fd) {
    std::string in;
    char buf[4096];
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      in.append(buf, static_cast<std::size_t>(n));
      for (std::size_t end; (end = in.find("\r\n\r\n")) != std::string::npos;) {
        in.erase(0, end + 4);  // requests here carry no body
        if (requests_++ >= answers_) continue;
        const std::string body =
            "<ListAllMyBucketsResult><Buckets></Buckets></ListAllMyBucketsResult>";
        const std::string reply = "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: " +
                                  std::to_string(body.size()) + "\r\n\r\n" + body;
        if (::write(fd, reply.data(), reply.size()) < 0) break;
      }
    }
    ::close(fd);
  }

  int answers_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread acceptor_;
  std::vector<std::thread> clients_;  // touched by the acceptor thread only, joined after it
};

// Keys for endpoints that check none.
class FakeKeys {
 public:
  FakeKeys() : ak_("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"), sk_("AWS_SECRET_ACCESS_KEY", "fakesecret") {}

 private:
  ScopedEnv ak_, sk_;
};

std::string connect_error(Backend& backend) {
  try {
    backend.connect();
  } catch (const ConnectionError& e) {
    return e.what();
  }
  ADD_FAILURE() << "connect succeeded";
  return "";
}

TEST(S3Deadline, SilentEndpointFailsAtTheFirstStallWithTheDefaults) {
  FakeKeys keys;
  SilentSocket silent;
  auto backend = make_backend("s3", "silent", {{"endpoint_url", silent.url()}});
  const auto t0 = Clock::now();
  const std::string what = connect_error(*backend);
  const double took = seconds_since(t0);
  // Defaults: stall_timeout 20 s; an endpoint that never answered is not retried.
  EXPECT_GE(took, 19.0) << what;
  EXPECT_LT(took, 20.0 + kSlack) << what;
  EXPECT_NE(what.find(silent.url()), std::string::npos) << what;
  EXPECT_NE(what.find("1 attempt in"), std::string::npos) << what;
  EXPECT_NE(what.find("not retried"), std::string::npos) << what;
}

TEST(S3Deadline, SilentEndpointEndsByTheDeadline) {
  FakeKeys keys;
  SilentSocket silent;
  auto backend = make_backend("s3", "silent", {{"endpoint_url", silent.url()}, {"deadline", "1.5"}});
  const auto t0 = Clock::now();
  const std::string what = connect_error(*backend);
  const double took = seconds_since(t0);
  EXPECT_GE(took, 1.4) << what;
  EXPECT_LT(took, 1.5 + kSlack) << what;
  EXPECT_NE(what.find("1 attempt in 1."), std::string::npos) << what;
}

TEST(S3Deadline, EndpointFallingSilentIsRetriedUntilTheDeadline) {
  FakeKeys keys;
  FallsSilent server(1);  // answers the connect probe only
  auto backend = make_backend("s3", "fall", {{"endpoint_url", server.url()},
                                             {"deadline", "3"},
                                             {"stall_timeout", "0.8"},
                                             {"retry_base", "0.05"}});
  backend->connect();
  const auto t0 = Clock::now();
  try {
    backend->list_datasets();
    FAIL() << "list_datasets on a silent endpoint succeeded";
  } catch (const ConnectionError& e) {
    const double took = seconds_since(t0);
    const std::string what = e.what();
    EXPECT_GE(took, 2.5) << what;
    EXPECT_LT(took, 3.0 + kSlack) << what;
    EXPECT_NE(what.find("deadline 3.0 s reached"), std::string::npos) << what;
    EXPECT_EQ(what.find("1 attempt in"), std::string::npos) << what;  // it did retry
    EXPECT_EQ(what.find("fakesecret"), std::string::npos) << what;
  }
  EXPECT_GE(server.requests(), 3);  // the probe and at least two attempts
}

TEST(S3Deadline, RefusedAndWrongProtocolFailAtOnce) {
  FakeKeys keys;
  int port = 0;
  {
    SilentSocket closed;  // a port that was free a moment ago and is closed now
    port = std::stoi(closed.url().substr(closed.url().rfind(':') + 1));
  }
  for (const std::string& url : {"http://127.0.0.1:" + std::to_string(port),
                                "https://127.0.0.1:" + std::to_string(port)}) {
    auto backend = make_backend("s3", "refused", {{"endpoint_url", url}});
    const auto t0 = Clock::now();
    const std::string what = connect_error(*backend);
    EXPECT_LT(seconds_since(t0), 0.5 + kSlack) << what;
    EXPECT_NE(what.find("1 attempt in"), std::string::npos) << what;
  }
}

// HTTPS against radosgw's plain port and HTTP against its TLS port.
TEST(S3Deadline, WrongSchemeAgainstRadosgwFailsAtOnceWithAHint) {
  DOSNA_ENV_OR_SKIP(http, "DOSNA_S3_ENDPOINT");
  DOSNA_ENV_OR_SKIP(https, "DOSNA_S3_HTTPS_ENDPOINT");
  DOSNA_ENV_OR_SKIP(ca, "DOSNA_S3_CA_BUNDLE");
  const std::string tls_on_plain = "https://" + http.substr(7);
  const std::string plain_on_tls = "http://" + https.substr(8);
  const std::pair<std::string, std::string> cases[] = {
      {tls_on_plain, "is it a plain http:// endpoint?"},
      {plain_on_tls, "is it an https:// endpoint?"}};
  for (const auto& [url, hint] : cases) {
    auto backend = make_backend("s3", "scheme", {{"endpoint_url", url}, {"verify", ca}});
    const auto t0 = Clock::now();
    const std::string what = connect_error(*backend);
    EXPECT_LT(seconds_since(t0), 0.5 + kSlack) << what;
    EXPECT_NE(what.find(hint), std::string::npos) << what;
    EXPECT_NE(what.find("1 attempt in"), std::string::npos) << what;
  }
}

// The pid radosgw runs as, from the services' DIR/pids ("rgw PID").
int radosgw_pid() {
  std::ifstream in(std::filesystem::path(services_dir()) / "pids");
  std::string name;
  int pid = 0, found = 0;
  while (in >> name >> pid) {
    if (name == "rgw") found = pid;
  }
  return found;
}

// Whether every thread of `pid` is stopped, waiting up to 10 s: SIGSTOP
// takes effect when the thread that takes it is scheduled, and on a loaded
// machine other threads answer requests until then.
bool all_threads_stopped(int pid) {
  const auto until = Clock::now() + std::chrono::seconds(10);
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  while (Clock::now() < until) {
    bool all = true;
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator(tasks, ec)) {
      std::ifstream stat(task.path() / "stat");
      std::string line;
      std::getline(stat, line);
      const auto close = line.rfind(')');  // "tid (comm) S ..."
      if (close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'T') all = false;
    }
    if (!ec && all) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// Frozen and then stopped radosgw, on the shared services: a fault test (runs
// alone). Both end by the deadline; the same connection heals afterwards.
TEST(S3Fault, FrozenOrStoppedRadosgwEndsByTheDeadline) {
  DOSNA_S3_STORE_OR_SKIP(store);
  const int pid = radosgw_pid();
  if (pid <= 0 || !std::filesystem::exists(services_script())) {
    if (services_required()) FAIL() << "no radosgw pid in " << services_dir() << "/pids";
    GTEST_SKIP() << "radosgw pid unknown (DOSNA_SERVICES_DIR or CEPH_CONF)";
  }
  Options options = store.config.options;
  options["deadline"] = "3";
  options["stall_timeout"] = "1";
  options["connect_timeout"] = "1";
  Connection con(store.config.name, options, "s3");
  con.connect();
  const std::string name = s3_dataset_name("frozen");
  Dataset ds = con.create_dataset(name, {8, 8}, DType::parse("<i4"), {4, 4}, Scalar(0));
  struct Thaw {
    int pid;
    const std::string& name;
    Connection& con;
    ~Thaw() {
      ::kill(pid, SIGCONT);
      services("rgw-start");  // idempotent
      try {
        con.del_dataset(name);
      } catch (const std::exception&) {
      }
    }
  } thaw{pid, name, con};

  auto expect_bounded = [&](const char* what_state) {
    const auto t0 = Clock::now();
    try {
      (void)ds.read();
      ADD_FAILURE() << "read from a " << what_state << " radosgw succeeded";
    } catch (const ConnectionError& e) {
      const double took = seconds_since(t0);
      EXPECT_LT(took, 3.0 + kSlack) << what_state << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find("deadline 3.0 s reached"), std::string::npos)
          << what_state << ": " << e.what();
    }
  };
  ASSERT_EQ(::kill(pid, SIGSTOP), 0);
  ASSERT_TRUE(all_threads_stopped(pid)) << "radosgw " << pid << " did not stop within 10 s";
  expect_bounded("frozen");
  ASSERT_EQ(::kill(pid, SIGCONT), 0);
  EXPECT_NO_THROW(ds.read());  // healed: same connection, no reconnect

  ASSERT_EQ(services("rgw-stop"), 0);
  expect_bounded("stopped");
  ASSERT_EQ(services("rgw-start"), 0);
  EXPECT_NO_THROW(ds.read());
}

}  // namespace
}  // namespace dosna::testing
