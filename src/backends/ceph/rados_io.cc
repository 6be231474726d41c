#include "backends/ceph/rados_io.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/options.h"
#include "dosna/errors.h"

namespace dosna::ceph {

std::string errno_text(int rc) {
  const int e = rc < 0 ? -rc : rc;
  return std::string(std::strerror(e)) + " (errno " + std::to_string(e) + ")";
}

void throw_rados(int rc, const std::string& what, std::string_view who) {
  const std::string msg = std::string(who) + ": " + what + ": " + errno_text(rc);
  switch (-rc) {
    case EACCES:
    case EPERM:
      throw PermissionDenied(msg);
    case ENOTCONN:
    case ESHUTDOWN:
      throw ConnectionError(msg);
    default:
      throw IoError(msg, -rc);
  }
}

CephOptions parse_options(const Options& options, const std::string& who) {
  OptionReader reader(options, who);
  CephOptions out;
  if (auto conffile = reader.take("conffile")) {
    out.conffile = *conffile;
  } else if (const char* env = std::getenv("CEPH_CONF"); env && *env) {
    out.conffile = env;
  } else {
    out.conffile = "ceph.conf";
  }
  out.timeout = reader.take_double("timeout", 5);
  if (!(out.timeout > 0))
    throw InvalidArgument(who + ": timeout must be > 0 seconds, got " +
                          std::to_string(out.timeout));
  std::string id = reader.take_string("client_id", "admin");
  if (id.empty()) throw InvalidArgument(who + ": client_id must not be empty");
  out.client_name = id.starts_with("client.") ? id : "client." + id;
  out.op_timeout = reader.take_double("op_timeout", 30);
  if (!(out.op_timeout >= 0))
    throw InvalidArgument(who + ": op_timeout must be >= 0 seconds (0 = wait forever), got " +
                          std::to_string(out.op_timeout));
  out.conditional_update = reader.take_bool("conditional_update", true);
  reader.finish();
  return out;
}

namespace {

std::string seconds_text(double s) {
  std::string t = std::to_string(s);
  t.erase(t.find_last_not_of('0') + 1);
  if (!t.empty() && t.back() == '.') t.pop_back();
  return t;
}

}  // namespace

Handles::~Handles() {
  if (io) rados_ioctx_destroy(io);
  if (rados) rados_shutdown(rados);
}

std::shared_ptr<Handles> open_pool(const CephOptions& options, const std::string& pool,
                                   const std::string& who) {
  rados_t rados = nullptr;
  if (int rc = rados_create2(&rados, "ceph", options.client_name.c_str(), 0); rc < 0)
    throw_rados(rc, "cannot create a cluster handle for " + options.client_name, who);
  auto fail = [&](auto error) {
    rados_shutdown(rados);
    throw error;
  };
  if (int rc = rados_conf_read_file(rados, options.conffile.c_str()); rc < 0) {
    const std::string what =
        who + ": cannot read conffile '" + options.conffile + "': " + errno_text(rc);
    if (rc == -ENOENT) fail(NotFound(what));
    if (rc == -EACCES) fail(PermissionDenied(what));
    fail(ConnectionError(what));
  }
  const std::string timeout = seconds_text(options.timeout);
  const std::string op_timeout = seconds_text(options.op_timeout);
  for (auto [key, value] : {std::pair<const char*, const std::string*>{"client_mount_timeout", &timeout},
                            {"rados_mon_op_timeout", &op_timeout},
                            {"rados_osd_op_timeout", &op_timeout}}) {
    if (int rc = rados_conf_set(rados, key, value->c_str()); rc < 0)
      fail(InvalidArgument(who + ": cannot set " + std::string(key) + "=" + *value + ": " +
                           errno_text(rc)));
  }
  if (int rc = rados_connect(rados); rc < 0) {
    const std::string where = " to the cluster of '" + options.conffile + "' as " +
                              options.client_name + " (timeout " + timeout + " s)";
    if (rc == -EACCES || rc == -EPERM)
      fail(PermissionDenied(who + ": authentication refused connecting" + where + ": " +
                            errno_text(rc)));
    fail(ConnectionError(who + ": cannot connect" + where + ": " + errno_text(rc)));
  }
  rados_ioctx_t io = nullptr;
  if (int rc = rados_ioctx_create(rados, pool.c_str(), &io); rc < 0) {
    if (rc == -ENOENT) fail(NotFound(who + ": pool '" + pool + "' does not exist"));
    fail(ConnectionError(who + ": cannot open pool '" + pool + "': " + errno_text(rc)));
  }
  auto handles = std::make_shared<Handles>();
  handles->rados = rados;
  handles->io = io;
  return handles;
}

Session::Session(const Cluster& c) : handles_(c.current()) {
  if (!handles_) throw ConnectionError(c.who + ": pool '" + c.pool + "' is not connected");
}

Completion::Completion() {
  if (int rc = rados_aio_create_completion2(nullptr, nullptr, &c_); rc < 0)
    throw_rados(rc, "cannot create an aio completion");
}

Completion::~Completion() {
  if (c_) rados_aio_release(c_);
}

int Completion::wait() {
  rados_aio_wait_for_complete(c_);
  return rados_aio_get_return_value(c_);
}

void for_each_object(rados_ioctx_t io, const std::string& pool,
                     const std::function<void(std::string_view)>& fn, std::string_view who) {
  rados_list_ctx_t ctx = nullptr;
  if (int rc = rados_nobjects_list_open(io, &ctx); rc < 0)
    throw_rados(rc, "cannot list pool '" + pool + "'", who);
  struct Closer {
    rados_list_ctx_t ctx;
    ~Closer() { rados_nobjects_list_close(ctx); }
  } closer{ctx};
  for (;;) {
    const char* entry = nullptr;
    const char* key = nullptr;
    const char* nspace = nullptr;
    int rc = rados_nobjects_list_next(ctx, &entry, &key, &nspace);
    if (rc == -ENOENT) break;
    if (rc < 0) throw_rados(rc, "cannot list pool '" + pool + "'", who);
    if (nspace && *nspace) continue;
    fn(std::string_view(entry));
  }
}

void ReadOp::submit(rados_ioctx_t io, const std::string& oid, std::vector<ByteRange> wanted,
                    std::uint64_t assert_version) {
  ranges = std::move(wanted);
  std::size_t total = 0;
  for (const auto& r : ranges) total += r.length;
  buffer = Buffer::allocate(total);
  bytes_read = std::make_unique<std::size_t[]>(ranges.size());
  read_rval = std::make_unique<int[]>(ranges.size());
  if (assert_version) rados_read_op_assert_version(op, assert_version);
  rados_read_op_stat(op, &size, &mtime, &stat_rval);
  char* out = reinterpret_cast<char*>(buffer->data());
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    if (ranges[i].length == 0) continue;  // librados reads length 0 as "to the end"
    rados_read_op_read(op, ranges[i].offset, ranges[i].length, out, &bytes_read[i],
                       &read_rval[i]);
    out += ranges[i].length;
  }
  if (int rc = rados_aio_read_op_operate(op, io, completion.get(), oid.c_str(),
                                         LIBRADOS_OPERATION_NOFLAG);
      rc < 0)
    throw_rados(rc, "cannot submit the read of object '" + oid + "'");
}

ChunkData ReadOp::finish(const std::string& oid, std::uint64_t expected_size) {
  int rc = completion.wait();
  if (rc == -ENOENT) return nullptr;
  if (rc < 0) throw_rados(rc, "read of object '" + oid + "' failed");
  if (stat_rval < 0) throw_rados(stat_rval, "stat of object '" + oid + "' failed");
  bool complete = true;
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    if (read_rval[i] < 0) throw_rados(read_rval[i], "read of object '" + oid + "' failed");
    complete &= bytes_read[i] == ranges[i].length;
  }
  if (size != expected_size || !complete)
    throw IoError("ceph backend: chunk object '" + oid + "' holds " + std::to_string(size) +
                      " bytes, expected " + std::to_string(expected_size),
                  EIO);
  return std::move(buffer);
}

}  // namespace dosna::ceph
