#include "viewer_server.h"

#include <httplib.h>
#include <pthread.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "colour_map.h"
#include "dataset_json.h"
#include "dosna/error_kinds.h"
#include "dosna/errors.h"
#include "grey_map.h"
#include "npy.h"
#include "png_writer.h"
#include "viewer_assets.h"

namespace dosna::cli {
namespace {

using httplib::Request;
using httplib::Response;
using nlohmann::json;

// A request the API refuses, with its HTTP status.
class HttpError : public std::runtime_error {
 public:
  HttpError(int status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

// Limits that keep one request from exhausting the server.
constexpr std::int64_t kMaxPlaneElements = std::int64_t{1} << 26;  // 256 MiB of float32
constexpr std::int64_t kMaxChunkMapCells = std::int64_t{1} << 22;
constexpr std::int64_t kMaxViewport = 65536;

void send_json(Response& res, int status, const json& body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(body.dump(), "application/json");
}

void send_error(Response& res, int status, const std::string& message) {
  send_json(res, status, json{{"error", message}, {"status", status}});
}

std::optional<std::string> param(const Request& req, const char* name) {
  if (!req.has_param(name)) return std::nullopt;
  return req.get_param_value(name);
}

std::int64_t int_param(const Request& req, const char* name, std::int64_t fallback,
                       std::int64_t lo, std::int64_t hi) {
  const auto text = param(req, name);
  if (!text) return fallback;
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(text->c_str(), &end, 10);
  if (text->empty() || text->size() > 20 || *end != '\0' || errno == ERANGE ||
      std::isspace(static_cast<unsigned char>((*text)[0])))
    throw HttpError(400, "parameter '" + std::string(name) + "': '" + *text +
                             "' is not an integer");
  if (v < lo || v > hi)
    throw HttpError(400, "parameter '" + std::string(name) + "': " + *text + " is outside [" +
                             std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return v;
}

std::optional<double> real_param(const Request& req, const char* name) {
  const auto text = param(req, name);
  if (!text) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(text->c_str(), &end);
  if (text->empty() || text->size() > 64 || *end != '\0' || !std::isfinite(v) ||
      std::isspace(static_cast<unsigned char>((*text)[0])))
    throw HttpError(400, "parameter '" + std::string(name) + "': '" + *text +
                             "' is not a finite number");
  return v;
}

Dataset open_dataset(const Connection& con, const Request& req) {
  const auto name = param(req, "dataset");
  if (!name || name->empty()) throw HttpError(400, "parameter 'dataset' is required");
  try {
    return con.get_dataset(*name);
  } catch (const InvalidArgument& e) {
    // A name the store cannot hold cannot name a dataset in it.
    throw HttpError(404, e.what());
  }
}

// One plane of a 2-D or 3-D dataset, read every `stride` elements.
struct Plane {
  int axis = -1;           // the axis held fixed (-1 for a 2-D dataset)
  std::int64_t index = 0;  // its position
  int row_axis = 0, col_axis = 1;
  std::int64_t rows = 0, cols = 0;  // full-resolution plane
  std::int64_t stride = 1;
};

Plane plane_of(const Dataset& ds, const Request& req) {
  Plane p;
  const auto& shape = ds.shape();
  if (ds.ndim() == 2) {
    if (req.has_param("axis") || req.has_param("index"))
      throw HttpError(400, "dataset '" + ds.name() + "' is 2-D: it has no 'axis' or 'index'");
  } else if (ds.ndim() == 3) {
    p.axis = static_cast<int>(int_param(req, "axis", 0, 0, 2));
    const std::int64_t extent = shape[static_cast<std::size_t>(p.axis)];
    if (extent == 0) throw HttpError(400, "dataset '" + ds.name() + "' is empty along axis " +
                                              std::to_string(p.axis));
    p.index = int_param(req, "index", extent / 2, 0, extent - 1);
    p.row_axis = p.axis == 0 ? 1 : 0;
    p.col_axis = p.axis == 2 ? 1 : 2;
  } else {
    throw HttpError(400, "dataset '" + ds.name() + "' has " + std::to_string(ds.ndim()) +
                             " dimensions; the viewer shows 2-D and 3-D datasets");
  }
  p.rows = shape[static_cast<std::size_t>(p.row_axis)];
  p.cols = shape[static_cast<std::size_t>(p.col_axis)];
  return p;
}

// Chooses the stride from `max` (the longest side wanted, in pixels) and
// refuses planes too large to send.
void choose_stride(Plane& p, const Request& req) {
  const std::int64_t longest = std::max<std::int64_t>({p.rows, p.cols, 1});
  const std::int64_t max = int_param(req, "max", longest, 1, kMaxViewport);
  p.stride = (longest + max - 1) / max;
  const std::int64_t r = (p.rows + p.stride - 1) / p.stride, c = (p.cols + p.stride - 1) / p.stride;
  if (r * c > kMaxPlaneElements)
    throw HttpError(413, "plane of " + std::to_string(r) + "x" + std::to_string(c) +
                             " elements is too large; ask for fewer with max=N");
  if (r == 0 || c == 0) throw HttpError(400, "the plane is empty");
}

NdArray read_plane(const Dataset& ds, const Plane& p) {
  std::vector<IndexItem> items(ds.ndim(), IndexItem{slice(std::nullopt, std::nullopt, p.stride)});
  if (p.axis >= 0) items[static_cast<std::size_t>(p.axis)] = p.index;
  return ds.read(Selection(std::move(items)));
}

void set_plane_headers(Response& res, const Plane& p) {
  res.set_header("X-Dosna-Stride", std::to_string(p.stride));
  res.set_header("X-Dosna-Plane", std::to_string(p.rows) + "," + std::to_string(p.cols));
  res.set_header("Cache-Control", "no-store");
}

json info_json(const Dataset& ds) {
  json j = dataset_json(ds, true);
  j["format"] = "dosna";
  j["codecs"] = json::array();  // chunks are stored raw
  j["attributes"] = json::object();
  return j;
}

void api_datasets(const Connection& con, Response& res) {
  json list = json::array();
  for (const auto& name : con.list_datasets()) {
    try {
      json j = dataset_json(con.get_dataset(name), false);
      j["format"] = "dosna";
      list.push_back(std::move(j));
    } catch (const Error& e) {
      list.push_back(json{{"name", name}, {"error", e.what()}});
    }
  }
  send_json(res, 200, json{{"store", con.backend().name()},
                           {"backend", std::string(con.backend().kind())},
                           {"datasets", std::move(list)}});
}

void api_chunkmap(const Connection& con, const Request& req, Response& res) {
  const Dataset ds = open_dataset(con, req);
  const Plane p = plane_of(ds, req);
  const auto& grid = ds.chunk_grid();
  const std::int64_t gr = grid[static_cast<std::size_t>(p.row_axis)];
  const std::int64_t gc = grid[static_cast<std::size_t>(p.col_axis)];
  if (gr * gc > kMaxChunkMapCells)
    throw HttpError(413, "chunk map of " + std::to_string(gr) + "x" + std::to_string(gc) +
                             " chunks is too large");
  const std::int64_t fixed =
      p.axis >= 0 ? p.index / ds.chunk_size()[static_cast<std::size_t>(p.axis)] : 0;
  std::string exists(static_cast<std::size_t>(gr * gc), '0');
  for (const auto& idx : ds.backend().chunks(ds.name(), ds.meta())->list()) {
    if (idx.size() != ds.ndim()) continue;
    if (p.axis >= 0 && idx[static_cast<std::size_t>(p.axis)] != fixed) continue;
    const auto r = idx[static_cast<std::size_t>(p.row_axis)];
    const auto c = idx[static_cast<std::size_t>(p.col_axis)];
    if (r >= 0 && r < gr && c >= 0 && c < gc) exists[static_cast<std::size_t>(r * gc + c)] = '1';
  }
  send_json(res, 200,
            json{{"dataset", ds.name()},
                 {"axis", p.axis},
                 {"index", p.index},
                 {"grid", {gr, gc}},
                 {"chunk", {ds.chunk_size()[static_cast<std::size_t>(p.row_axis)],
                            ds.chunk_size()[static_cast<std::size_t>(p.col_axis)]}},
                 {"exists", exists}});
}

void api_slice_npy(const Connection& con, const Request& req, Response& res) {
  const Dataset ds = open_dataset(con, req);
  Plane p = plane_of(ds, req);
  choose_stride(p, req);
  const NdArray data = read_plane(ds, p);
  std::string body = make_npy_header(data.dtype(), data.shape());
  body.append(reinterpret_cast<const char*>(data.bytes()), data.nbytes());
  set_plane_headers(res, p);
  res.set_content(std::move(body), "application/octet-stream");
}

void api_slice_png(const Connection& con, const Request& req, Response& res) {
  const Dataset ds = open_dataset(con, req);
  Plane p = plane_of(ds, req);
  choose_stride(p, req);
  const auto vmin = real_param(req, "vmin"), vmax = real_param(req, "vmax");
  if (vmin && vmax && *vmin > *vmax)
    throw HttpError(400, "parameters 'vmin' and 'vmax': vmin must not exceed vmax");
  const ColourTable& table = colour_table(param(req, "cmap").value_or("grey"));
  if (ds.dtype().kind() == DTypeKind::kComplex)
    throw HttpError(400, "dataset '" + ds.name() + "' is complex; fetch slice.npy instead");
  const NdArray data = read_plane(ds, p);
  GreyImage img;
  try {
    img = grey_map(data, vmin, vmax);
  } catch (const InvalidArgument& e) {
    // One limit given, the other taken from the data, the wrong way round.
    throw HttpError(400, std::string("parameters 'vmin'/'vmax': ") + e.what());
  }
  const bool grey = &table == &colour_table("grey");
  const std::string png =
      grey ? encode_png(img.pixels, data.shape()[0], data.shape()[1], 1, "slice")
           : encode_png(apply_colour_table(img.pixels, table), data.shape()[0], data.shape()[1],
                        3, "slice");
  set_plane_headers(res, p);
  res.set_header("X-Dosna-Vmin", json(img.vmin).dump());
  res.set_header("X-Dosna-Vmax", json(img.vmax).dump());
  res.set_content(png, "image/png");
}

void api_colormap(const Request& req, Response& res) {
  const std::string name = param(req, "name").value_or("grey");
  const ColourTable& t = colour_table(name);
  send_json(res, 200, json{{"name", name}, {"rgb", std::vector<int>(t.begin(), t.end())}});
}

// Runs an API handler and turns what it throws into a JSON error.
template <class F>
httplib::Server::Handler guarded(F fn) {
  return [fn](const Request& req, Response& res) {
    try {
      fn(req, res);
    } catch (const HttpError& e) {
      send_error(res, e.status(), e.what());
    } catch (const Error& e) {
      send_error(res, error_kind_info(e).http_status, e.what());
    } catch (const std::bad_alloc&) {
      send_error(res, 503, "out of memory serving this request");
    } catch (const std::exception& e) {
      send_error(res, 500, e.what());
    }
  };
}

// Compares without an early exit, so response time says nothing about how
// much of a guess was right.
bool same_secret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

std::optional<std::string> cookie(const Request& req, const std::string& name) {
  const std::string all = req.get_header_value("Cookie");
  std::size_t pos = 0;
  while (pos < all.size()) {
    std::size_t end = all.find(';', pos);
    if (end == std::string::npos) end = all.size();
    std::string item = all.substr(pos, end - pos);
    item.erase(0, item.find_first_not_of(' '));
    if (item.rfind(name + "=", 0) == 0) return item.substr(name.size() + 1);
    pos = end + 1;
  }
  return std::nullopt;
}

constexpr const char* kTokenCookie = "dosna_token";

// Whether the request carries the token: ?token=, "Authorization: Bearer",
// or the cookie set when a page was opened with ?token=.
bool has_token(const Request& req, const std::string& token) {
  if (const auto q = param(req, "token")) return same_secret(*q, token);
  const std::string auth = req.get_header_value("Authorization");
  if (auth.rfind("Bearer ", 0) == 0) return same_secret(auth.substr(7), token);
  if (const auto c = cookie(req, kTokenCookie)) return same_secret(*c, token);
  return false;
}

// The host part of a Host header ("127.0.0.1:8765", "[::1]:80").
std::string host_of(const std::string& header) {
  if (!header.empty() && header[0] == '[') return header.substr(1, header.find(']') - 1);
  return header.substr(0, header.find(':'));
}

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// Stops the server when SIGINT or SIGTERM arrives (see block_stop_signals).
class StopOnSignal {
 public:
  explicit StopOnSignal(httplib::Server& server) {
    block_stop_signals();
    thread_ = std::thread([&server] {
      const sigset_t set = stop_signals();
      int sig = 0;
      sigwait(&set, &sig);
      server.stop();
    });
  }
  ~StopOnSignal() {
    pthread_kill(thread_.native_handle(), SIGTERM);
    thread_.join();
  }
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;

 private:
  std::thread thread_;
};

}  // namespace

void block_stop_signals() {
  const sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

void serve(const Connection& con, const ServeOptions& options,
           const std::function<void(const std::string& url)>& on_ready) {
  const bool loopback = is_loopback_host(options.host);
  if (!loopback && options.token.empty())
    throw InvalidArgument("serving on '" + options.host +
                          "' (not a loopback address) needs --token");
  if (options.port < 0 || options.port > 65535)
    throw InvalidArgument("--port " + std::to_string(options.port) + " is outside 0..65535");

  httplib::Server server;
  const int threads = std::max(1, options.threads);
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_payload_max_length(1 << 16);
  // httplib's default adds SO_REUSEPORT, which lets a second server share a
  // port that is in use; only SO_REUSEADDR (restart after TIME_WAIT) is kept.
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  const std::string token = options.token;
  server.set_pre_routing_handler([token, loopback](const Request& req, Response& res) {
    if (req.method != "GET" && req.method != "HEAD") {
      send_error(res, 405, "the viewer is read-only: " + req.method + " is not allowed");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (token.empty()) {
      // Without a token only pages of this machine may ask: a foreign page
      // reaching 127.0.0.1 through its own DNS name carries another Host.
      if (loopback && !is_loopback_host(host_of(req.get_header_value("Host")))) {
        send_error(res, 403, "Host '" + req.get_header_value("Host") + "' is not this machine");
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    }
    if (!has_token(req, token)) {
      send_error(res, 401, "missing or wrong token (give ?token=, or Authorization: Bearer)");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.has_param("token"))
      res.set_header("Set-Cookie", std::string(kTokenCookie) + "=" + token +
                                       "; Path=/; HttpOnly; SameSite=Strict");
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server.set_post_routing_handler([](const Request&, Response& res) {
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
  });
  server.set_error_handler([](const Request& req, Response& res) {
    if (res.body.empty() && res.status == 404)
      send_error(res, 404, "no such page or API: '" + req.path + "'");
    else if (res.body.empty())
      send_error(res, res.status, "bad request");
  });

  for (const ViewerAsset& asset : viewer_assets()) {
    const auto handler = [asset](const Request&, Response& res) {
      res.set_header("Content-Security-Policy",
                     "default-src 'self'; img-src 'self' data: blob:; style-src 'self'");
      res.set_content(std::string(asset.body), std::string(asset.content_type).c_str());
    };
    std::string pattern;  // the path as a regular expression matching only itself
    for (char ch : asset.path) {
      if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '/' && ch != '_') pattern += '\\';
      pattern += ch;
    }
    server.Get(pattern, handler);
    if (asset.path == "/index.html") server.Get("/", handler);
  }
  const Connection* c = &con;
  server.Get("/api/datasets", guarded([c](const Request&, Response& res) { api_datasets(*c, res); }));
  server.Get("/api/info", guarded([c](const Request& req, Response& res) {
               send_json(res, 200, info_json(open_dataset(*c, req)));
             }));
  server.Get("/api/chunkmap",
             guarded([c](const Request& req, Response& res) { api_chunkmap(*c, req, res); }));
  server.Get("/api/slice.npy",
             guarded([c](const Request& req, Response& res) { api_slice_npy(*c, req, res); }));
  server.Get("/api/slice.png",
             guarded([c](const Request& req, Response& res) { api_slice_png(*c, req, res); }));
  server.Get("/api/colormap", guarded([](const Request& req, Response& res) {
               api_colormap(req, res);
             }));

  StopOnSignal stop(server);
  int port = options.port;
  if (port == 0) {
    port = server.bind_to_any_port(options.host);
    if (port < 0) throw IoError("cannot listen on '" + options.host + "' (any port)");
  } else if (!server.bind_to_port(options.host, port)) {
    throw IoError("cannot listen on '" + options.host + "' port " + std::to_string(port) +
                  " (in use, or not an address of this machine)");
  }
  const bool v6 = options.host.find(':') != std::string::npos;
  on_ready("http://" + (v6 ? "[" + options.host + "]" : options.host) + ":" +
           std::to_string(port) + "/");
  if (!server.listen_after_bind()) throw IoError("the server stopped with a socket error");
}

}  // namespace dosna::cli
