#include "percentile.h"

#include <math.h>
#include <stdlib.h>

int64_t percentile_rank(double p, int64_t n)
{
	int64_t rank = (int64_t)ceil(p * (double)n / 100.0);
	return rank < 1 ? 1 : rank > n ? n : rank;
}

static int percentile_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void percentile_sort(double *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof *v, percentile_cmp);
}

double percentile_of(const double *v, size_t n, double p)
{
	return v[percentile_rank(p, (int64_t)n) - 1];
}
