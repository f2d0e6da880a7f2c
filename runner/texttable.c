#include "texttable.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"
#include "utf8.h"

void texttable_init(struct texttable *t, const char *align)
{
	t->align = align;
	t->ncols = strlen(align);
	t->ncells = 0;
	t->cells = NULL;
}

void texttable_cell(struct texttable *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *cell = xmalloc((size_t)(n < 0 ? 0 : n) + 1);
	va_start(ap, fmt);
	vsnprintf(cell, (size_t)(n < 0 ? 0 : n) + 1, fmt, ap);
	va_end(ap);
	t->cells = xrealloc(t->cells, (t->ncells + 1) * sizeof *t->cells);
	t->cells[t->ncells++] = cell;
}

/* Prints the grid and frees its cells. */
void texttable_flush(struct texttable *t, FILE *out)
{
	size_t *width = xcalloc(t->ncols, sizeof *width);
	for (size_t i = 0; i < t->ncells; i++)
		if (strlen(t->cells[i]) > width[i % t->ncols])
			width[i % t->ncols] = strlen(t->cells[i]);
	for (size_t i = 0; i < t->ncells; i++) {
		size_t col = i % t->ncols;
		bool last = col == t->ncols - 1;
		int w = t->align[col] == 'r' ? (int)width[col] : last ? 0 : -(int)width[col];
		fprintf(out, "%s%*s", col ? "  " : "", w, t->cells[i]);
		if (last)
			fputc('\n', out);
		free(t->cells[i]);
	}
	free(t->cells);
	free(width);
	texttable_init(t, t->align);
}

void texttable_cell_line(struct texttable *t, const char *s, size_t max)
{
	size_t len = strlen(s);
	bool cut = len > max;
	size_t n = utf8_cut(s, len, max);
	char *line = xstrndup(s, n);
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	texttable_cell(t, "%s%s", line, cut ? "..." : "");
	free(line);
}
