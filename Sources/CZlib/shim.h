#ifndef RINGWATT_CZLIB_SHIM_H
#define RINGWATT_CZLIB_SHIM_H
#include <zlib.h>
#endif
