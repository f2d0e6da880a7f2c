#include "junit.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "xalloc.h"

/* The length of the valid UTF-8 sequence at s (of n bytes) holding a
 * character XML 1.0 allows, or 0. */
static size_t junit_char_len(const unsigned char *s, size_t n)
{
	uint32_t c;
	size_t len;
	if (s[0] < 0x80) {
		c = s[0];
		len = 1;
	} else if ((s[0] & 0xE0) == 0xC0) {
		c = s[0] & 0x1F;
		len = 2;
	} else if ((s[0] & 0xF0) == 0xE0) {
		c = s[0] & 0x0F;
		len = 3;
	} else if ((s[0] & 0xF8) == 0xF0) {
		c = s[0] & 0x07;
		len = 4;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3F);
	}
	static const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
	if (c < least[len])
		return 0; /* overlong */
	bool allowed = c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
		       (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
	return allowed ? len : 0;
}

void junit_text(FILE *out, const char *s, bool attr)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		size_t len = junit_char_len(p + i, n - i);
		if (len == 0) {
			fputs("\xEF\xBF\xBD", out); /* U+FFFD for what XML cannot hold */
			i++;
			continue;
		}
		switch (p[i]) {
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
			fputs(attr ? "&quot;" : "\"", out);
			break;
		case '\'':
			fputs(attr ? "&apos;" : "'", out);
			break;
		case '\t':
		case '\n':
		case '\r':
			if (attr)
				fprintf(out, "&#%d;", p[i]);
			else
				fputc(p[i], out);
			break;
		default:
			fwrite(p + i, 1, len, out);
		}
		i += len;
	}
}

static void junit_attr(FILE *out, const char *name, const char *value)
{
	fprintf(out, " %s=\"", name);
	junit_text(out, value, true);
	fputc('"', out);
}

struct junit_counts {
	long tests, failures, errors, skipped;
};

static void junit_suite_open(FILE *out, const char *model, const struct junit_counts *c)
{
	fputs("  <testsuite", out);
	junit_attr(out, "name", *model ? model : "(none)");
	fprintf(out, " tests=\"%ld\" failures=\"%ld\" errors=\"%ld\" skipped=\"%ld\">\n", c->tests,
		c->failures, c->errors, c->skipped);
}

static void junit_case_open(FILE *out, const char *model, const char *name, double latency_ms)
{
	fputs("    <testcase", out);
	junit_attr(out, "classname", *model ? model : "(none)");
	junit_attr(out, "name", name);
	fprintf(out, " time=\"%.3f\">\n", latency_ms > 0 ? latency_ms / 1000.0 : 0.0);
}

/* <failure> or <error> with a message, a type and a text; text may be NULL. */
static void junit_problem(FILE *out, const char *element, const char *type, const char *message,
			  const char *text)
{
	fprintf(out, "      <%s", element);
	junit_attr(out, "message", message);
	junit_attr(out, "type", type);
	if (!text) {
		fputs("/>\n", out);
		return;
	}
	fputc('>', out);
	junit_text(out, text, false);
	fprintf(out, "</%s>\n", element);
}

static void junit_system_out(FILE *out, const char *text)
{
	fputs("      <system-out>", out);
	junit_text(out, text, false);
	fputs("</system-out>\n", out);
}

/* The failed assertions of a job (its expect_failures JSON): the first as
 * "expect.NAME: message" (and how many more), all of them one a line, and
 * the first's name as the type. All three are the caller's. */
static void junit_failures(const char *json, char **message, char **text, char **type)
{
	json_t *arr = json_loads(json ? json : "[]", 0, NULL);
	size_t n = json_array_size(arr);
	char *all = xstrdup("");
	for (size_t i = 0; i < n; i++) {
		const json_t *f = json_array_get(arr, i);
		const char *a = json_string_value(json_object_get(f, "assertion"));
		const char *m = json_string_value(json_object_get(f, "message"));
		char *next = xasprintf("%sexpect.%s: %s\n", all, a ? a : "?", m ? m : "");
		free(all);
		all = next;
		if (i == 0) {
			*type = xasprintf("expect.%s", a ? a : "?");
			*message = n > 1 ? xasprintf("expect.%s: %s (and %zu more)", a ? a : "?",
						     m ? m : "", n - 1)
					 : xasprintf("expect.%s: %s", a ? a : "?", m ? m : "");
		}
	}
	if (n == 0) {
		*type = xstrdup("expect");
		*message = xstrdup("expectations failed");
	}
	*text = all;
	json_decref(arr);
}

static int junit_finish(FILE *out, struct nb_err *err)
{
	fputs("</testsuites>\n", out);
	if (fflush(out) != 0 || ferror(out))
		return err_set(err, "%s", strerror(errno ? errno : EIO));
	return 0;
}

/* Rows [from, to) of r share a model. */
static size_t junit_model_end(const struct results *r, size_t from)
{
	size_t to = from;
	while (to < r->n && strcmp(r->jobs[to].model_id, r->jobs[from].model_id) == 0)
		to++;
	return to;
}

static void junit_run_count(const struct results_job *j, struct junit_counts *c)
{
	c->tests++;
	if (j->expect_status && strcmp(j->expect_status, "failed") == 0)
		c->failures++;
	else if (j->error)
		c->errors++;
	else if (strcmp(j->status, "pending") == 0)
		c->skipped++;
}

static void junit_run_case(FILE *out, const struct results_job *j)
{
	junit_case_open(out, j->model_id, j->job_id, j->latency_ms);
	if (j->expect_status && strcmp(j->expect_status, "failed") == 0) {
		char *message, *text, *type;
		junit_failures(j->expect_failures, &message, &text, &type);
		junit_problem(out, "failure", type, message, text);
		free(message);
		free(text);
		free(type);
	} else if (j->error) {
		junit_problem(out, "error", j->status, j->error, NULL);
	} else if (strcmp(j->status, "pending") == 0) {
		fputs("      <skipped message=\"no result recorded (resume the run)\"/>\n", out);
	}
	if (j->excerpt)
		junit_system_out(out, j->excerpt);
	fputs("    </testcase>\n", out);
}

int junit_write_run(const struct results *r, FILE *out, struct nb_err *err)
{
	errno = 0;
	struct junit_counts all = {0};
	for (size_t i = 0; i < r->n; i++)
		junit_run_count(&r->jobs[i], &all);
	char *label = results_label(r);
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites", out);
	junit_attr(out, "name", label);
	fprintf(out, " tests=\"%ld\" failures=\"%ld\" errors=\"%ld\" skipped=\"%ld\">\n", all.tests,
		all.failures, all.errors, all.skipped);
	free(label);
	for (size_t from = 0, to; from < r->n; from = to) {
		to = junit_model_end(r, from);
		struct junit_counts c = {0};
		for (size_t i = from; i < to; i++)
			junit_run_count(&r->jobs[i], &c);
		junit_suite_open(out, r->jobs[from].model_id, &c);
		for (size_t i = from; i < to; i++)
			junit_run_case(out, &r->jobs[i]);
		fputs("  </testsuite>\n", out);
	}
	return junit_finish(out, err);
}

/* The model thresholds, each a testcase when given. */
static const char *const junit_thresholds[] = {
	"max-latency-regression",
	"max-cost-regression",
	"max-pass-rate-drop",
};

static bool junit_threshold_given(const struct compare_thresholds *th, size_t i)
{
	const double v[] = {th->max_latency_pct, th->max_cost_pct, th->max_pass_drop_pct};
	return v[i] >= 0;
}

/* Whether a pair fails in the comparison's JUnit file. */
static bool junit_pair_fails(const struct compare *c, const struct compare_pair *p)
{
	return (p->flags & COMPARE_NEWLY_FAILING) ||
	       (c->th.fail_on_output_change && (p->flags & COMPARE_OUTPUT_CHANGED));
}

static void junit_compare_count(const struct compare *c, const struct compare_model *m,
				struct junit_counts *k)
{
	for (size_t i = 0; i < m->npairs; i++) {
		k->tests++;
		if (m->pairs[i].flags & COMPARE_ONLY_BASE)
			k->skipped++;
		else if (junit_pair_fails(c, &m->pairs[i]))
			k->failures++;
	}
	for (size_t t = 0; t < sizeof junit_thresholds / sizeof junit_thresholds[0]; t++) {
		if (!junit_threshold_given(&c->th, t))
			continue;
		k->tests++;
		k->failures += compare_breach_for(c, m->model_id, junit_thresholds[t]) != NULL;
	}
}

static void junit_compare_case(FILE *out, const struct compare *c, const struct compare_pair *p)
{
	const struct results_job *j = p->new ? p->new : p->base;
	junit_case_open(out, j->model_id, j->job_id, p->new ? p->new->latency_ms : 0);
	if (p->flags & COMPARE_ONLY_BASE) {
		fputs("      <skipped message=\"not in the new run\"/>\n", out);
	} else if (p->flags & COMPARE_NEWLY_FAILING) {
		char *message, *text, *type;
		junit_failures(p->new->expect_failures, &message, &text, &type);
		char *full = xasprintf("regression: %s", message);
		junit_problem(out, "failure", type, full, text);
		free(full);
		free(message);
		free(text);
		free(type);
	} else if (junit_pair_fails(c, p)) {
		junit_problem(out, "failure", "fail-on-output-change",
			      "output changed (--fail-on-output-change)", NULL);
	}
	if (p->base && p->new) {
		char *text = xasprintf("base: %s\nnew: %s\n",
				       p->base->excerpt ? p->base->excerpt : "(no output)",
				       p->new->excerpt ? p->new->excerpt : "(no output)");
		junit_system_out(out, text);
		free(text);
	} else if (j->excerpt) {
		junit_system_out(out, j->excerpt);
	}
	fputs("    </testcase>\n", out);
}

static void junit_compare_thresholds(FILE *out, const struct compare *c,
				     const struct compare_model *m)
{
	for (size_t t = 0; t < sizeof junit_thresholds / sizeof junit_thresholds[0]; t++) {
		if (!junit_threshold_given(&c->th, t))
			continue;
		char *name = xasprintf("threshold %s", junit_thresholds[t]);
		junit_case_open(out, m->model_id, name, 0);
		const struct compare_breach *b = compare_breach_for(c, m->model_id,
								    junit_thresholds[t]);
		if (b) {
			char *message = xasprintf("--%s: %s", b->threshold, b->message);
			junit_problem(out, "failure", b->threshold, message, NULL);
			free(message);
		}
		fputs("    </testcase>\n", out);
		free(name);
	}
}

int junit_write_compare(const struct compare *c, FILE *out, struct nb_err *err)
{
	errno = 0;
	struct junit_counts all = {0};
	for (size_t i = 0; i < c->nmodels; i++)
		junit_compare_count(c, &c->models[i], &all);
	char *base = results_label(c->base), *new = results_label(c->new);
	char *label = xasprintf("novabatch compare %s with %s", new, base);
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites", out);
	junit_attr(out, "name", label);
	fprintf(out, " tests=\"%ld\" failures=\"%ld\" errors=\"%ld\" skipped=\"%ld\">\n", all.tests,
		all.failures, all.errors, all.skipped);
	free(label);
	free(base);
	free(new);
	for (size_t i = 0; i < c->nmodels; i++) {
		const struct compare_model *m = &c->models[i];
		struct junit_counts k = {0};
		junit_compare_count(c, m, &k);
		junit_suite_open(out, m->model_id, &k);
		for (size_t p = 0; p < m->npairs; p++)
			junit_compare_case(out, c, &m->pairs[p]);
		junit_compare_thresholds(out, c, m);
		fputs("  </testsuite>\n", out);
	}
	return junit_finish(out, err);
}
