// DosNa: N-dimensional arrays stored as chunks in object stores.
#pragma once

#include "dosna/array.h"
#include "dosna/backend.h"
#include "dosna/chunk_cache.h"
#include "dosna/chunk_grid.h"
#include "dosna/connection.h"
#include "dosna/copy.h"
#include "dosna/dataset.h"
#include "dosna/dtype.h"
#include "dosna/engine.h"
#include "dosna/error_kinds.h"
#include "dosna/errors.h"
#include "dosna/registry.h"
#include "dosna/scalar.h"
#include "dosna/selection.h"
#include "dosna/store_uri.h"
#include "dosna/warnings.h"
