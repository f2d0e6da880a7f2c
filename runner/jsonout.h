/*
 * jsonout: what the JSON writers (report, compare) share.
 *
 * A database string as a JSON string or null (through jtext.h, so odd bytes
 * cost a character, not the document), a cost as USD and as the exact
 * pico-USD integer, and writing a whole document with its write checked.
 * It prints only to the stream it is given.
 */
#ifndef NB_JSONOUT_H
#define NB_JSONOUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

/* s as a new JSON string, JSON null for NULL. */
json_t *jsonout_str(const char *s);

/* Sets "cost_usd" and "cost_pusd" on o; both null when the cost is not known. */
void jsonout_cost(json_t *o, bool known, int64_t pusd);

/* Writes doc (indented, reals with 15 significant digits: a latency prints
 * as measured, without binary noise) and a newline, flushes out and checks
 * it. Takes ownership of doc. Returns 0, or -1 with err holding the cause. */
int jsonout_write(json_t *doc, FILE *out, struct nb_err *err);

#endif
