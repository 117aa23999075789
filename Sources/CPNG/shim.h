// libpng, for reading and writing the PNG figures and the user's images.
#ifndef DAE_CPNG_SHIM_H
#define DAE_CPNG_SHIM_H
#include <png.h>
#endif
