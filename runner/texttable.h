/*
 * texttable: aligned plain-text tables for a terminal (report and compare).
 *
 * Cells are filled row by row and printed at once, each column as wide as
 * its widest cell. It owns the cells until texttable_flush prints and
 * frees them; it checks nothing of the output (its callers do).
 */
#ifndef NB_TEXTTABLE_H
#define NB_TEXTTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* A grid of cells filled row by row. align[i] is 'l' or 'r' for column i;
 * a left-aligned last column is not padded. */
struct texttable {
	const char *align;
	size_t ncols;
	size_t ncells;
	char **cells;
};

void texttable_init(struct texttable *t, const char *align);
/* Adds the next cell, formatted. */
void texttable_cell(struct texttable *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Adds s as a cell on one line: control characters (a newline, a terminal
 * escape) become spaces, and past max bytes it is cut at a character
 * boundary and marked "...". */
void texttable_cell_line(struct texttable *t, const char *s, size_t max);
/* Prints the grid and frees its cells; t is empty again after. */
void texttable_flush(struct texttable *t, FILE *out);

#endif
