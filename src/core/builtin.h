// Factories of the compiled-in backends and engines, used by the registry.
// Each is defined in its own folder; the DOSNA_HAVE_* macros say which exist.
#pragma once

#include <memory>
#include <string>

#include "dosna/backend.h"
#include "dosna/engine.h"
#include "dosna/kvstore.h"

namespace dosna::builtin {

std::shared_ptr<Backend> make_ram_backend(const std::string& name, const Options& options);
std::shared_ptr<Backend> make_hdf5_backend(const std::string& name, const Options& options);
std::shared_ptr<Backend> make_ceph_backend(const std::string& name, const Options& options);
std::shared_ptr<Backend> make_s3_backend(const std::string& name, const Options& options);

std::shared_ptr<KvStore> make_ram_kvstore(const std::string& name, const Options& options);
std::shared_ptr<KvStore> make_file_kvstore(const std::string& name, const Options& options);
std::shared_ptr<KvStore> make_ceph_kvstore(const std::string& name, const Options& options);
std::shared_ptr<KvStore> make_s3_kvstore(const std::string& name, const Options& options);

std::shared_ptr<Engine> make_cpu_engine(const Options& options);
std::shared_ptr<Engine> make_threads_engine(const Options& options);
std::shared_ptr<Engine> make_mpi_engine(const Options& options);

}  // namespace dosna::builtin
