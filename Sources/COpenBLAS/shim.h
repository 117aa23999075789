// The one door from Swift to OpenBLAS (CBLAS) and LAPACKE.
//
// Without these three macros the complex-valued CBLAS/LAPACKE prototypes use
// C99 `_Complex` types that do not import into Swift; with them they use
// plain structs and the whole headers import.
#ifndef DAE_COPENBLAS_SHIM_H
#define DAE_COPENBLAS_SHIM_H

#define FORCE_OPENBLAS_COMPLEX_STRUCT 1
#define HAVE_LAPACK_CONFIG_H 1
#define LAPACK_COMPLEX_STRUCTURE 1

#include <cblas.h>
#include <lapacke.h>

#endif
