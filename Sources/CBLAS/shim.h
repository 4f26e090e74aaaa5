#ifndef RINGWATT_CBLAS_SHIM_H
#define RINGWATT_CBLAS_SHIM_H
#include <cblas.h>
#endif
