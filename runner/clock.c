#include "clock.h"

#include <stdio.h>
#include <uv.h>

uint64_t clock_mono_ns(void)
{
	return uv_hrtime();
}

double clock_ms_between(uint64_t start_ns, uint64_t end_ns)
{
	return end_ns > start_ns ? (double)(end_ns - start_ns) / 1e6 : 0.0;
}

void clock_utc_iso(char out[CLOCK_ISO_LEN])
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(out, CLOCK_ISO_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, CLOCK_ISO_LEN - n, ".%03dZ", (int)(ts.tv_nsec / 1000000));
}

time_t clock_utc_seconds(void)
{
	return time(NULL);
}
