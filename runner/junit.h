/*
 * junit: JUnit XML for CI systems, from a run's results or a comparison.
 *
 * One <testsuite> per model (name and every testcase's classname: the
 * model id), one <testcase> per job (name: the job id), with tests,
 * failures, errors and skipped counted on each suite and on <testsuites>.
 * For a run: a <failure> for a job whose expectations failed (its message
 * names the first failed assertion, its text lists them all), an <error>
 * for a failed or invalid job without expectations, <skipped> for a job
 * with no result. For a comparison: a <failure> for a job newly failing
 * its expectations (naming the assertions) or, under
 * --fail-on-output-change, a changed output; and one testcase per model
 * threshold given ("threshold max-latency-regression", ...), failed when
 * crossed. The output excerpt goes into <system-out>.
 *
 * Text is escaped for XML 1.0: the five markup characters as entities,
 * tab, line feed and carriage return kept (as character references in
 * attributes, which a parser would otherwise fold into spaces), the other
 * control characters (which XML 1.0 forbids even as references) and bytes
 * that are not valid UTF-8 replaced by U+FFFD. It computes nothing and
 * reads no clock; each writer checks its output.
 */
#ifndef NB_JUNIT_H
#define NB_JUNIT_H

#include <stdbool.h>
#include <stdio.h>

#include "compare.h"
#include "err.h"
#include "results.h"

/* Writes s as XML character data (attr: as an attribute value). */
void junit_text(FILE *out, const char *s, bool attr);

int junit_write_run(const struct results *r, FILE *out, struct nb_err *err);
int junit_write_compare(const struct compare *c, FILE *out, struct nb_err *err);

#endif
