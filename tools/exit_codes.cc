#include "exit_codes.h"

namespace dosna::cli {

int exit_code_for(const std::exception& e) { return error_kind_info(e).exit_code; }

}  // namespace dosna::cli
