#ifndef FT_CZEROMQ_SHIM_H
#define FT_CZEROMQ_SHIM_H
#include <zmq.h>
#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <poll.h>

/* errno as a function: Swift cannot read the C macro directly. */
static inline int ft_errno(void) { return errno; }
#endif
