#ifndef FT_CPROTOBUFC_SHIM_H
#define FT_CPROTOBUFC_SHIM_H
#include <protobuf-c/protobuf-c.h>
#endif
