// Backends and engines by name. An explicit table (no static
// self-registration): known names that this build lacks raise NotBuilt;
// unknown names raise InvalidArgument listing the available ones.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dosna/backend.h"
#include "dosna/engine.h"

namespace dosna {

std::vector<std::string> known_backends();      // ram file hdf5 ceph s3
std::vector<std::string> available_backends();  // those built in
// Whether every process of a multi-process engine sees the same data in a
// store of kind `backend` (ram: no, each process holds its own).
// InvalidArgument for an unknown kind.
bool backend_is_shared(std::string_view backend);
std::vector<std::string> known_engines();       // cpu threads jl joblib mpi
std::vector<std::string> available_engines();

// "jl" and "joblib" -> "threads"; other names unchanged.
std::string canonical_engine_name(std::string_view name);

// The option every backend kind accepts: the core's limit on chunk bytes
// (Backend::max_chunk_bytes), a positive integer. make_backend takes it out
// of `options` before the backend sees them.
inline constexpr std::string_view kMaxChunkBytesOption = "max_chunk_bytes";

// Throws InvalidArgument for an unknown kind or option, NotBuilt for a known
// kind this build lacks.
std::shared_ptr<Backend> make_backend(std::string_view kind, const std::string& name,
                                      const Options& options);
std::shared_ptr<Engine> make_engine(std::string_view kind, const Options& options);

}  // namespace dosna
