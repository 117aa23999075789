// zlib, for reading gzip-compressed IDX files (Foundation has no zlib on Linux).
#ifndef DAE_CZLIB_SHIM_H
#define DAE_CZLIB_SHIM_H
#include <zlib.h>
#endif
