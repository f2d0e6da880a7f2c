/*
 * clock: the two clocks novabatch reads. Latencies come from the monotonic
 * clock; timestamps stored in the database are UTC wall time. Pure modules
 * take times as arguments and never call these.
 */
#ifndef NB_CLOCK_H
#define NB_CLOCK_H

#include <stdint.h>
#include <time.h>

#define CLOCK_ISO_LEN 32

/* Monotonic time in nanoseconds (uv_hrtime). */
uint64_t clock_mono_ns(void);
/* Milliseconds between two monotonic readings, with fractions. */
double clock_ms_between(uint64_t start_ns, uint64_t end_ns);
/* Writes the current UTC time as "2026-11-25T02:11:05.123Z". */
void clock_utc_iso(char out[CLOCK_ISO_LEN]);
/* Current UTC time in seconds, for signing. */
time_t clock_utc_seconds(void);

#endif
