// Store URIs: one string naming a store and its connection options.
//
//   ram://NAME                      ceph://POOL?conffile=/etc/ceph/ceph.conf
//   hdf5:///abs/dir/NAME            s3://LABEL?endpoint_url=http://127.0.0.1:7480
//   hdf5://relative/dir/NAME        file:///data/store
//
// The scheme is the store kind (known_backends()). For the stores that live
// on a filesystem (hdf5, file) the path's last component is the store name
// and the rest the `directory` option (`hdf5://name`: no directory option,
// the store's default); for the others the whole path is the name. The
// query's `key=value` items are connection options (the store's README
// names), keys and values percent-decoded.
#pragma once

#include <string>
#include <string_view>

#include "dosna/backend.h"

namespace dosna {

struct StoreUri {
  std::string backend;  // store kind: ram | file | hdf5 | ceph | s3
  std::string name;     // store name: ram name, directory name, pool, label
  Options options;      // connection options, `directory` included
};

// Whether `text` is written as a URI (has "://"), not as a bare store name.
bool is_store_uri(std::string_view text);

// Parses `text`. Throws InvalidArgument naming the URI and what is wrong:
// no "://", an unknown kind, no store name, a bad %XX escape, a query item
// that is not key=value, a key given twice or one the path sets (`name`;
// `directory` for filesystem stores). Option names and values are not
// checked here: the store rejects unknown ones by name when it is built.
StoreUri parse_store_uri(std::string_view text);

// The URI of `store`, parsing back to the same store and options, with one
// exception: credentials (s3's aws_access_key_id, aws_secret_access_key,
// aws_session_token) are never printed. Options print in key order, reserved
// characters percent-encoded. Throws InvalidArgument for an unknown kind.
std::string to_string(const StoreUri& store);

// Whether `a` and `b` name the same store: the same kind and, for
// filesystem stores, the same resolved path (however spelt), else the same
// name and options.
bool same_store(const StoreUri& a, const StoreUri& b);

// The filesystem directory holding a filesystem store's data
// (`directory`/`name`, `directory` defaulting to "."); empty for the other
// stores.
std::string store_path(const StoreUri& store);

// "hdf5 store 'dir/name'"-like description of `store` for messages.
std::string describe(const StoreUri& store);

// Decodes the %XX escapes of a URI component ('+' stays a plus: paths).
// Throws InvalidArgument naming `text` for a bad escape.
std::string percent_decode(std::string_view text);

}  // namespace dosna
