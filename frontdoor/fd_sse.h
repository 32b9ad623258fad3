/* fd_sse: the live inventory stream (Server-Sent Events) of GET
 * /api/v1/events/{eventId}/inventory/stream. One subscriber thread owns a Redis pub/sub
 * connection (pattern bx:invfeed:*) and a second Redis handle for resume reads; it hands
 * each change to the watching connections' bounded buffers under one mutex and resumes
 * their suspended MHD connections. MHD threads only copy bytes out of those buffers. */
#ifndef FD_SSE_H
#define FD_SSE_H

#include "fd.h"

/* Ends every open stream (their clients see the end of the response) and stops the
 * subscriber thread. Call before the HTTP daemon stops: MHD must not be stopped while
 * a connection is suspended. Safe when no stream was ever opened. */
void fd_sse_stop(void);

/* Streams open now and streams dropped as too slow since start (for tests and metrics). */
void fd_sse_counts(long *open, long *dropped);

#endif
