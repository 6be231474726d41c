#include "backends/s3/s3_transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <queue>
#include <random>
#include <set>
#include <thread>

#include "backends/s3/s3_xml.h"
#include "dosna/errors.h"

namespace dosna::s3 {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxTextBytes = 64u << 20;

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw ConnectionError("s3 backend: curl_global_init failed");
    }
  });
}

// One completion barrier per run() call.
struct Batch {
  std::mutex mutex;
  std::condition_variable done;
  std::size_t remaining = 0;
};

struct Transfer {
  HttpRequest request;
  HttpResponse response;
  Batch* batch = nullptr;
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  std::size_t read_offset = 0;   // PUT payload position
  std::size_t body_seen = 0;     // body bytes seen (ranged 200 fallback)
  long status_seen = 0;          // status of the current response
  Clock::time_point not_before;  // retry time
  Clock::time_point first_start; // of the first attempt
  Clock::time_point deadline;    // first_start + deadline_seconds
  char error_buffer[CURL_ERROR_SIZE] = {};
};

std::string_view payload(const Transfer& t) {
  if (t.request.body) {
    return {reinterpret_cast<const char*>(t.request.body->data()), t.request.body->size()};
  }
  return t.request.body_text;
}

std::size_t on_read(char* out, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string_view body = payload(*t);
  const std::size_t len = std::min(size * n, body.size() - t->read_offset);
  std::memcpy(out, body.data() + t->read_offset, len);
  t->read_offset += len;
  return len;
}

int on_seek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 ||
      static_cast<std::size_t>(offset) > payload(*t).size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  t->read_offset = static_cast<std::size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

void on_header_line(Transfer* t, std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new response (after 100-continue or a retry): forget earlier headers.
    t->response.headers.clear();
    t->response.declared_bytes = -1;
    const auto sp = line.find(' ');
    t->status_seen = sp == std::string_view::npos ? 0 : std::atol(std::string(line.substr(sp + 1, 3)).c_str());
    return;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  if (name == "content-length") {
    long long n = -1;
    const auto r = std::from_chars(value.data(), value.data() + value.size(), n);
    t->response.declared_bytes = r.ec == std::errc() && n >= 0 ? n : -1;
  }
  t->response.headers[name] = std::string(value);
}

// Callbacks run on the I/O thread inside libcurl: nothing may escape them.
std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  const std::size_t len = size * n;
  try {
    on_header_line(static_cast<Transfer*>(user), std::string_view(data, len));
  } catch (...) {
    static_cast<Transfer*>(user)->response.alloc_failed = true;
    return 0;
  }
  return len;
}

// The receive buffer for the 2xx body about to arrive, sized by its
// Content-Length when that is less than expect_bytes: a record declaring a
// huge chunk never allocates the declared size for a small object. nullptr
// when the body cannot fit (more than expect_bytes; for a ranged request the
// server answered with 200, less than the range's end).
std::shared_ptr<Buffer> body_buffer(Transfer* t) {
  const HttpResponse& r = t->response;
  const std::size_t want = t->request.expect_bytes;
  if (r.declared_bytes < 0) return Buffer::allocate(want);
  const auto declared = static_cast<unsigned long long>(r.declared_bytes);
  if (t->request.ranged && t->status_seen == 200) {
    return declared >= t->request.range_offset + want ? Buffer::allocate(want) : nullptr;
  }
  return declared <= want ? Buffer::allocate(static_cast<std::size_t>(declared)) : nullptr;
}

std::size_t write_body(Transfer* t, char* data, std::size_t len) {
  const bool success = t->status_seen >= 200 && t->status_seen < 300;
  if (t->request.expect_bytes > 0 && success) {
    HttpResponse& r = t->response;
    if (!r.data && !(r.data = body_buffer(t))) {
      r.overflow = true;
      return 0;  // aborts the transfer with CURLE_WRITE_ERROR
    }
    std::string_view chunk(data, len);
    if (t->request.ranged && t->status_seen == 200) {
      // The server ignored Range and sends the whole object: keep our slice.
      const std::size_t begin = t->body_seen;
      t->body_seen += len;
      const std::size_t lo = t->request.range_offset;
      const std::size_t hi = lo + t->request.expect_bytes;
      const std::size_t a = std::max(begin, lo), b = std::min(begin + len, hi);
      if (a < b) {
        std::memcpy(r.data->data() + (a - lo), data + (a - begin), b - a);
        r.data_size = std::max(r.data_size, b - lo);
      }
      return len;
    }
    if (r.data_size + chunk.size() > r.data->size()) {
      r.overflow = true;
      return 0;  // aborts the transfer with CURLE_WRITE_ERROR
    }
    std::memcpy(r.data->data() + r.data_size, chunk.data(), chunk.size());
    r.data_size += chunk.size();
    return len;
  }
  if (t->response.text.size() + len > kMaxTextBytes) return 0;
  t->response.text.append(data, len);
  return len;
}

std::size_t on_write(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  try {
    return write_body(t, data, size * n);
  } catch (...) {  // std::bad_alloc of a declared chunk size the host cannot hold
    t->response.alloc_failed = true;
    return 0;
  }
}

// Transport errors that can heal on their own (a restarted or briefly
// overloaded server, a kept-alive connection the server closed). They are
// retried only once the endpoint has answered the transport: before that they
// mean a wrong address, protocol or a silent endpoint.
bool retryable_curl(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_READ_ERROR:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string uri_encode(std::string_view text, bool keep_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

struct Transport::Impl {
  S3Settings settings;
  std::string sigv4;  // "aws:amz:REGION:s3"
  CURLM* multi = nullptr;
  std::thread loop_thread;

  std::mutex mutex;  // guards incoming and stopping
  std::vector<Transfer*> incoming;
  bool stopping = false;

  // Owned by the loop thread.
  std::deque<Transfer*> pending;
  struct Later {
    bool operator()(const Transfer* a, const Transfer* b) const {
      return a->not_before > b->not_before;
    }
  };
  std::priority_queue<Transfer*, std::vector<Transfer*>, Later> delayed;
  std::vector<CURL*> idle_handles;
  std::size_t active = 0;
  std::set<Transfer*> running;
  std::mt19937_64 rng{std::random_device{}()};
  bool answered = false;  // some response arrived on this transport

  explicit Impl(const S3Settings& s)
      : settings(s),
        sigv4("aws:amz:" + s.region + ":s3") {
    global_init();
    multi = curl_multi_init();
    if (multi == nullptr) throw ConnectionError("s3 backend '" + s.label + "': curl_multi_init failed");
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(settings.max_in_flight));
    loop_thread = std::thread([this] { loop(); });
  }

  ~Impl() {
    {
      std::lock_guard lock(mutex);
      stopping = true;
    }
    curl_multi_wakeup(multi);
    loop_thread.join();
    for (CURL* e : idle_handles) curl_easy_cleanup(e);
    curl_multi_cleanup(multi);
  }

  void submit(std::vector<Transfer*>& transfers) {
    {
      std::lock_guard lock(mutex);
      if (stopping) {
        for (Transfer* t : transfers) {
          t->response.transport_error = "connection closed";
          finish(t);
        }
        return;
      }
      incoming.insert(incoming.end(), transfers.begin(), transfers.end());
    }
    curl_multi_wakeup(multi);
  }

  static void finish(Transfer* t) {
    Batch* b = t->batch;
    std::lock_guard lock(b->mutex);
    if (--b->remaining == 0) b->done.notify_all();
  }

  void start(Transfer* t) {
    CURL* e;
    if (!idle_handles.empty()) {
      e = idle_handles.back();
      idle_handles.pop_back();
      curl_easy_reset(e);
    } else {
      e = curl_easy_init();
      if (e == nullptr) {
        t->response.transport_error = "curl_easy_init failed";
        finish(t);
        return;
      }
    }
    t->easy = e;
    const auto now = Clock::now();
    if (t->response.attempts == 0) {
      t->first_start = now;
      t->deadline = now + seconds(settings.deadline_seconds);
    }
    t->read_offset = 0;
    t->body_seen = 0;
    t->status_seen = 0;
    t->error_buffer[0] = '\0';
    HttpResponse& r = t->response;
    r.status = 0;
    r.curl_code = 0;
    r.transport_error.clear();
    r.headers.clear();
    r.text.clear();
    r.data.reset();
    r.data_size = 0;
    r.overflow = false;
    r.alloc_failed = false;
    r.declared_bytes = -1;
    ++r.attempts;

    const HttpRequest& q = t->request;
    std::string url = settings.endpoint_url + q.path;
    if (!q.query.empty()) url += "?" + q.query;
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error_buffer);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_AWS_SIGV4, sigv4.c_str());
    curl_easy_setopt(e, CURLOPT_USERNAME, settings.access_key.c_str());
    curl_easy_setopt(e, CURLOPT_PASSWORD, settings.secret_key.c_str());
    // Each attempt ends by the request's deadline.
    const double left = std::chrono::duration<double>(t->deadline - now).count();
    auto ms = [](double s) { return std::max(1L, static_cast<long>(s * 1000)); };
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ms(std::min(settings.connect_timeout_seconds, left)));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ms(std::min(settings.timeout_seconds, left)));
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, static_cast<long>(std::ceil(settings.stall_seconds)));
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, settings.verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, settings.verify ? 2L : 0L);
    if (!settings.ca_bundle.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, settings.ca_bundle.c_str());
    // Larger socket buffers: fewer callbacks and syscalls per MiB of chunk.
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 256L * 1024);
    curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 256L * 1024);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);

    if (q.method == "GET") {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (q.method == "HEAD") {
      curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (q.method == "PUT" || q.method == "POST") {
      curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
      curl_easy_setopt(e, CURLOPT_READDATA, t);
      curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
      curl_easy_setopt(e, CURLOPT_SEEKDATA, t);
      curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(payload(*t).size()));
      if (q.method == "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "POST");
    } else {
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, q.method.c_str());
    }

    curl_slist_free_all(t->header_list);
    t->header_list = nullptr;
    auto add = [&](const std::string& h) { t->header_list = curl_slist_append(t->header_list, h.c_str()); };
    add("x-amz-content-sha256: UNSIGNED-PAYLOAD");
    if (!settings.session_token.empty()) add("x-amz-security-token: " + settings.session_token);
    if (q.ranged) {
      add("Range: bytes=" + std::to_string(q.range_offset) + "-" +
          std::to_string(q.range_offset + q.expect_bytes - 1));
    }
    // libcurl's SigV4 signs every header in this list, including an empty
    // "Expect:" that is never sent, so 100-continue cannot be switched off
    // this way (radosgw answers 100 at once anyway).
    for (const auto& h : q.headers) add(h);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->header_list);

    curl_multi_add_handle(multi, e);
    running.insert(t);
    ++active;
  }

  double backoff_seconds(int attempt) {
    const double d = std::min(settings.retry_cap_seconds,
                              settings.retry_base_seconds * std::ldexp(1.0, std::min(attempt, 30)));
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    return d * jitter(rng);
  }

  static Clock::duration seconds(double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  }

  // Whether the failure can heal by retrying (not whether time is left).
  bool can_heal(const Transfer& t, CURLcode code) const {
    if (code != CURLE_OK) {
      return answered && !t.response.overflow && !t.response.alloc_failed && retryable_curl(code);
    }
    const long s = t.response.status;
    if (s == 500 || s == 502 || s == 503 || s == 504 || s == 429) return true;
    if (s == 400) {
      const auto code_msg = parse_error(t.response.text).first;
      return code_msg == "RequestTimeout" || code_msg == "RequestTimeTooSkewed";
    }
    return false;
  }

  void complete(CURL* e, CURLcode code) {
    Transfer* t = nullptr;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
    curl_multi_remove_handle(multi, e);
    running.erase(t);
    --active;
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    // An overflow aborted a response that did arrive: keep its status so the
    // caller can tell "too big" from "unreachable".
    HttpResponse& r = t->response;
    const bool aborted_by_us = r.overflow || r.alloc_failed;
    r.status = code == CURLE_OK || aborted_by_us ? status : 0;
    r.curl_code = code;
    r.first_contact = !answered && r.status == 0;
    if (status > 0) answered = true;
    r.tls_untrusted = code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE ||
                      code == CURLE_SSL_CERTPROBLEM || code == CURLE_SSL_ISSUER_ERROR ||
                      code == CURLE_SSL_PINNEDPUBKEYNOTMATCH;
    r.hint.clear();
    if (code == CURLE_SSL_CONNECT_ERROR) r.hint = "the TLS handshake failed: is it a plain http:// endpoint?";
    if (code == CURLE_GOT_NOTHING && settings.endpoint_url.rfind("http://", 0) == 0) {
      r.hint = "no reply: is it an https:// endpoint?";
    }
    if (code != CURLE_OK) {
      r.transport_error = t->error_buffer[0] ? t->error_buffer : curl_easy_strerror(code);
    }
    idle_handles.push_back(e);
    t->easy = nullptr;
    const auto now = Clock::now();
    r.seconds = std::chrono::duration<double>(now - t->first_start).count();
    if (!r.tls_untrusted && r.attempts <= settings.max_retries && can_heal(*t, code)) {
      const auto due = now + seconds(backoff_seconds(r.attempts - 1));
      // A retry must have a useful part of the deadline left.
      if (due + std::chrono::milliseconds(50) < t->deadline) {
        t->not_before = due;
        delayed.push(t);
        return;
      }
      r.deadline_reached = true;
    }
    curl_slist_free_all(t->header_list);
    t->header_list = nullptr;
    finish(t);
  }

  void loop() {
    for (;;) {
      {
        std::lock_guard lock(mutex);
        if (stopping) break;
        pending.insert(pending.end(), incoming.begin(), incoming.end());
        incoming.clear();
      }
      const auto now = Clock::now();
      while (!delayed.empty() && delayed.top()->not_before <= now) {
        pending.push_front(delayed.top());
        delayed.pop();
      }
      while (active < static_cast<std::size_t>(settings.max_in_flight) && !pending.empty()) {
        Transfer* t = pending.front();
        pending.pop_front();
        start(t);
      }
      int running = 0;
      curl_multi_perform(multi, &running);
      int left = 0;
      while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
        if (m->msg == CURLMSG_DONE) complete(m->easy_handle, m->data.result);
      }
      if (!pending.empty() && active < static_cast<std::size_t>(settings.max_in_flight)) continue;
      int wait_ms = 1000;
      if (!delayed.empty()) {
        const auto due = std::chrono::duration_cast<std::chrono::milliseconds>(
            delayed.top()->not_before - Clock::now());
        wait_ms = static_cast<int>(std::clamp<long long>(due.count() + 1, 0, 1000));
      }
      curl_multi_poll(multi, nullptr, 0, wait_ms, nullptr);
    }
    // Shutdown: fail whatever is still queued or running.
    std::vector<Transfer*> left_over(pending.begin(), pending.end());
    while (!delayed.empty()) {
      left_over.push_back(delayed.top());
      delayed.pop();
    }
    {
      std::lock_guard lock(mutex);
      left_over.insert(left_over.end(), incoming.begin(), incoming.end());
      incoming.clear();
    }
    for (Transfer* t : running) {
      curl_multi_remove_handle(multi, t->easy);
      idle_handles.push_back(t->easy);
      t->easy = nullptr;
      left_over.push_back(t);
    }
    running.clear();
    for (Transfer* t : left_over) {
      t->response.status = 0;
      t->response.transport_error = "connection closed";
      curl_slist_free_all(t->header_list);
      t->header_list = nullptr;
      finish(t);
    }
  }
};

Transport::Transport(const S3Settings& settings) : impl_(std::make_unique<Impl>(settings)) {}
Transport::~Transport() = default;

std::vector<HttpResponse> Transport::run(std::vector<HttpRequest> requests) {
  std::vector<Transfer> transfers(requests.size());
  Batch batch;
  batch.remaining = requests.size();
  std::vector<Transfer*> ptrs;
  ptrs.reserve(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    transfers[i].request = std::move(requests[i]);
    transfers[i].batch = &batch;
    ptrs.push_back(&transfers[i]);
  }
  if (!ptrs.empty()) {
    impl_->submit(ptrs);
    std::unique_lock lock(batch.mutex);
    batch.done.wait(lock, [&] { return batch.remaining == 0; });
  }
  std::vector<HttpResponse> out;
  out.reserve(transfers.size());
  for (auto& t : transfers) out.push_back(std::move(t.response));
  return out;
}

HttpResponse Transport::run(HttpRequest request) {
  std::vector<HttpRequest> one;
  one.push_back(std::move(request));
  return std::move(run(std::move(one)).front());
}

}  // namespace dosna::s3
