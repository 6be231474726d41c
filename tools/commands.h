// The `dosna` subcommands. Each returns the process exit code on success
// and throws dosna::Error (mapped to exit codes in main.cc) on failure.
#pragma once

#include "cli_args.h"

namespace dosna::cli {

int cmd_ls(const Args& args);      // ls STORE
int cmd_info(const Args& args);    // info STORE NAME
int cmd_create(const Args& args);  // create STORE NAME --shape ...
int cmd_rm(const Args& args);      // rm STORE NAME
int cmd_cp(const Args& args);      // cp SRC_STORE SRC_NAME DST_STORE [DST_NAME]
int cmd_import(const Args& args);  // import FILE STORE NAME
int cmd_export(const Args& args);  // export STORE NAME FILE
int cmd_slice(const Args& args);   // slice STORE NAME SELECTION [--png FILE]
int cmd_serve(const Args& args);   // serve STORE [--host H] [--port P] [--token T]
// Replaces this process by dosna-bench (next to this binary); returns only
// on failure (throws).
int cmd_bench(const Args& args);

}  // namespace dosna::cli
