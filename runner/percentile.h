/*
 * percentile: the nearest-rank definition every report, comparison and
 * stream timing uses, in one place.
 *
 * Percentile p of n values is the value of rank ceil(p / 100 x n) in
 * ascending order (p = 100 gives the maximum). A pure core.
 */
#ifndef NB_PERCENTILE_H
#define NB_PERCENTILE_H

#include <stddef.h>
#include <stdint.h>

/* The rank, within [1, n], of percentile p among n > 0 values. With p
 * whole, p x n is exact, so a whole quotient (p90 of 100 values) is never
 * pushed past itself by rounding. */
int64_t percentile_rank(double p, int64_t n);

/* Sorts v ascending, for percentile_of. */
void percentile_sort(double *v, size_t n);

/* Percentile p of the n > 0 sorted values of v. */
double percentile_of(const double *v, size_t n, double p);

#endif
