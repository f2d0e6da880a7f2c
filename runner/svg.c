#include "svg.h"
#include "utf8.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

/* One colour per series, told apart in grey too. */
static const char *const svg_colours[SVG_MAX_SERIES] = {"#3b6fb6", "#d9822b", "#6aa84f",
							 "#a64d79"};

/* Labels longer than this many bytes are cut. */
#define SVG_LABEL_MAX 44

void svg_text(FILE *out, const char *s, size_t max)
{
	size_t len = strlen(s);
	bool cut = len > max;
	size_t n = utf8_cut(s, len, max);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		default:
			fputc(c < 0x20 || c == 0x7f ? ' ' : c, out);
		}
	}
	if (cut)
		fputs("...", out);
}

/* The smallest round step (1, 2 or 5 x 10^k, at least min) with ticks
 * steps reaching v. */
static double svg_step(double v, int ticks, double min)
{
	double raw = v / ticks;
	if (!(raw > min))
		return min;
	double p = pow(10, floor(log10(raw)));
	static const double m[] = {1, 2, 5, 10};
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
		if (m[i] * p >= raw)
			return m[i] * p;
	return 10 * p;
}

static void svg_open(FILE *out, int height, const char *title)
{
	fprintf(out,
		"<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">"
		"<title>",
		SVG_WIDTH, height, SVG_WIDTH, height);
	svg_text(out, title, SIZE_MAX);
	fputs("</title><text x=\"0\" y=\"16\" font-size=\"14\" font-weight=\"bold\">", out);
	svg_text(out, title, SIZE_MAX);
	fputs("</text>\n", out);
}

static void svg_legend(FILE *out, int x, int y, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++, x += 130) {
		fprintf(out,
			"<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
			"<text x=\"%d\" y=\"%d\" font-size=\"12\">",
			x, y - 9, svg_colours[i], x + 14, y);
		svg_text(out, names[i], SVG_LABEL_MAX);
		fputs("</text>\n", out);
	}
}

void svg_columns(FILE *out, const struct svg_columns *c)
{
	enum { H = 250, LEFT = 56, RIGHT = 12, TOP = 40, BOTTOM = 44 };
	const double pw = SVG_WIDTH - LEFT - RIGHT, ph = H - TOP - BOTTOM;
	svg_open(out, H, c->title);
	int64_t top = 0;
	for (size_t i = 0; i < c->n; i++) {
		int64_t v = c->a[i] + (c->b ? c->b[i] : 0);
		if (v > top)
			top = v;
	}
	double step = svg_step((double)top, 4, 1);
	double ymax = 4 * step;
	/* The grid and the y axis: counts. */
	for (int t = 0; t <= 4; t++) {
		double y = TOP + ph - ph * t / 4;
		fprintf(out,
			"<line x1=\"%d\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
			"<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%.0f</text>\n",
			LEFT, LEFT + pw, y, y, LEFT - 6, y + 4, step * t);
	}
	double bw = c->n ? pw / (double)c->n : pw;
	double gap = bw > 4 ? 1 : 0;
	for (size_t i = 0; i < c->n; i++) {
		double x = LEFT + bw * (double)i;
		double lo = c->x0 + c->dx * (double)i;
		double base = TOP + ph;
		for (int s = 0; s < (c->b ? 2 : 1); s++) {
			int64_t v = s ? c->b[i] : c->a[i];
			if (v <= 0)
				continue;
			double h = ph * (double)v / ymax;
			fprintf(out,
				"<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
				"fill=\"%s\"><title>%g to %g ",
				x + gap / 2, base - h, bw - gap, h, svg_colours[s], lo, lo + c->dx);
			svg_text(out, c->x_unit, SVG_LABEL_MAX);
			fprintf(out, ": %" PRId64 "</title></rect>\n", v);
			base -= h;
		}
	}
	/* The x axis: a label at most every tenth of the width. */
	size_t every = c->n > 10 ? (c->n + 9) / 10 : 1;
	fprintf(out, "<line x1=\"%d\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>\n",
		LEFT, LEFT + pw, TOP + ph, TOP + ph);
	for (size_t i = 0; i <= c->n; i += every)
		fprintf(out,
			"<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">%g</text>\n",
			LEFT + bw * (double)i, TOP + ph + 16, c->x0 + c->dx * (double)i);
	fprintf(out, "<text x=\"%.1f\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">",
		LEFT + pw / 2, H - 6);
	svg_text(out, c->x_unit, SVG_LABEL_MAX);
	fputs("</text>\n", out);
	if (c->b) {
		const char *names[] = {c->a_name, c->b_name};
		svg_legend(out, LEFT, 34, names, 2);
	}
	fputs("</svg>\n", out);
}

void svg_hbars(FILE *out, const struct svg_hbars *h)
{
	enum { TOP = 44, ROW = 24, LABEL = 300, TEXT = 110 };
	const int height = TOP + ROW * (int)h->n + 8;
	const double pw = SVG_WIDTH - LABEL - TEXT;
	svg_open(out, height, h->title);
	if (h->nseries > 1)
		svg_legend(out, 0, 36, h->series, h->nseries);
	double top = 0;
	for (size_t i = 0; i < h->n; i++) {
		double sum = 0;
		for (size_t s = 0; s < h->nseries; s++)
			sum += h->rows[i].values[s];
		if (sum > top)
			top = sum;
	}
	for (size_t i = 0; i < h->n; i++) {
		const struct svg_row *row = &h->rows[i];
		double y = TOP + ROW * (double)i;
		fprintf(out, "<text x=\"%d\" y=\"%.1f\" font-size=\"12\" text-anchor=\"end\">",
			LABEL - 8, y + 15);
		svg_text(out, row->label, SVG_LABEL_MAX);
		fputs("</text>\n", out);
		double x = LABEL;
		for (size_t s = 0; s < h->nseries; s++) {
			double w = top > 0 && row->values[s] > 0 ? pw * row->values[s] / top : 0;
			if (w <= 0)
				continue;
			fprintf(out,
				"<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%d\" fill=\"%s\">"
				"<title>",
				x, y + 3, w, ROW - 6, svg_colours[s]);
			svg_text(out, h->series[s], SVG_LABEL_MAX);
			fprintf(out, ": %.15g</title></rect>\n", row->values[s]);
			x += w;
		}
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">", x + 6, y + 15);
		svg_text(out, row->value_text, SVG_LABEL_MAX);
		fputs("</text>\n", out);
	}
	fputs("</svg>\n", out);
}
