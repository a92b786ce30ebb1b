/* Umbrella header of the CSchema module: protoc-c's generated code for every .proto file. */
#ifndef FT_CSCHEMA_H
#define FT_CSCHEMA_H
#include "registry.h"
#endif
