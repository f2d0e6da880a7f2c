/*
 * svg: small charts drawn as inline SVG for an HTML page (report_html.c),
 * and the escaping of text that HTML and SVG share.
 *
 * Pure formatting: each function writes to a FILE and neither reads data
 * nor checks the stream (its caller checks once at the end). Charts have a
 * fixed width (SVG_WIDTH) and use no fonts, images or scripts of their own:
 * the page's style sets the font. Every text a chart shows goes through
 * svg_text, so labels from a database cannot add markup.
 */
#ifndef NB_SVG_H
#define NB_SVG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SVG_WIDTH 720
#define SVG_MAX_SERIES 4

/* Writes at most max bytes of s (SIZE_MAX: all; a cut ends at a character
 * boundary and adds "...") as text for HTML or SVG, in element content or a
 * quoted attribute: & < > " ' become references, control characters become
 * spaces. */
void svg_text(FILE *out, const char *s, size_t max);

/* Vertical bars over an axis of numbers: bar i covers [x0 + i dx,
 * x0 + (i + 1) dx) x_unit and has height a[i], with b[i] stacked on it when
 * b is not NULL. For histograms and counts over time. */
struct svg_columns {
	const char *title;
	const char *x_unit; /* "ms", "min" */
	double x0, dx;
	size_t n;
	const int64_t *a;
	const int64_t *b;   /* NULL for one series */
	const char *a_name; /* the legend, with b */
	const char *b_name;
};
void svg_columns(FILE *out, const struct svg_columns *c);

/* Horizontal bars, one a row, each of up to SVG_MAX_SERIES stacked parts,
 * with the row's label on the left and value_text after the bar. */
struct svg_row {
	const char *label;
	double values[SVG_MAX_SERIES];
	const char *value_text;
};
struct svg_hbars {
	const char *title;
	size_t nseries;
	const char *series[SVG_MAX_SERIES]; /* the legend, when nseries > 1 */
	size_t n;
	const struct svg_row *rows;
};
void svg_hbars(FILE *out, const struct svg_hbars *h);

#endif
