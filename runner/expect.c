#include "expect.h"

#include <inttypes.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jtext.h"
#include "xalloc.h"
#include "utf8.h"

/* Bytes of a quoted string or pattern shown in a failure message. */
#define EXPECT_QUOTE_MAX 80

struct expect_list {
	char **items;
	size_t n;
};

struct expect {
	int refs; /* the jobs of one line (one per model) share it */
	struct expect_list contains, not_contains;
	bool has_regex;
	regex_t regex;
	char *regex_src;
	char *equals;
	bool json;
	char *stop_reason;
	int64_t max_output_tokens; /* < 0: none */
	double max_latency_ms;     /* < 0: none */
};

static const char *const expect_keys[] = {
	"contains",    "not_contains",      "regex",          "equals", "json",
	"stop_reason", "max_output_tokens", "max_latency_ms",
};

static int expect_error(struct nb_err *err, const char *file, long line, const char *field,
			const char *what)
{
	return err_set(err, "%s:%ld: field 'expect.%s': %s", file, line, field, what);
}

static int expect_string(const json_t *v, const char *file, long line, const char *field,
			 char **out, struct nb_err *err)
{
	if (!json_is_string(v))
		return expect_error(err, file, line, field, "must be a string");
	if (json_string_length(v) > EXPECT_MAX_TEXT)
		return expect_error(err, file, line, field, "longer than 65536 bytes");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return expect_error(err, file, line, field, "must not hold a NUL character");
	*out = xstrdup(json_string_value(v));
	return 0;
}

/* A list of strings; a single string is taken as a list of one. */
static int expect_parse_list(const json_t *v, const char *file, long line, const char *field,
			     struct expect_list *out, struct nb_err *err)
{
	if (json_is_string(v)) {
		out->items = xcalloc(1, sizeof *out->items);
		if (expect_string(v, file, line, field, &out->items[0], err) < 0)
			return -1;
		out->n = 1;
		return 0;
	}
	if (!json_is_array(v))
		return expect_error(err, file, line, field, "must be a list of strings");
	if (json_array_size(v) == 0)
		return expect_error(err, file, line, field, "must hold at least one string");
	if (json_array_size(v) > EXPECT_MAX_ITEMS)
		return expect_error(err, file, line, field, "holds more than 64 strings");
	out->items = xcalloc(json_array_size(v), sizeof *out->items);
	size_t i;
	const json_t *item;
	json_array_foreach(v, i, item) {
		char name[64];
		snprintf(name, sizeof name, "%s[%zu]", field, i);
		if (expect_string(item, file, line, name, &out->items[i], err) < 0)
			return -1;
		out->n = i + 1;
	}
	return 0;
}

static int expect_parse_regex(const json_t *v, const char *file, long line, struct expect *e,
			      struct nb_err *err)
{
	if (expect_string(v, file, line, "regex", &e->regex_src, err) < 0)
		return -1;
	int rc = regcomp(&e->regex, e->regex_src, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		char why[256], what[300];
		regerror(rc, &e->regex, why, sizeof why);
		snprintf(what, sizeof what, "not a POSIX extended regular expression: %s", why);
		return expect_error(err, file, line, "regex", what);
	}
	e->has_regex = true;
	return 0;
}

/* A whole number >= 0 that fits a 64-bit count. */
static int expect_parse_limit(const json_t *v, const char *file, long line, const char *field,
			      double *out, struct nb_err *err)
{
	double d = json_is_integer(v) ? (double)json_integer_value(v)
		   : json_is_real(v)  ? json_real_value(v)
				      : -1;
	if (!json_is_number(v) || !(d >= 0) || d > 9e15)
		return expect_error(err, file, line, field, "must be a number from 0");
	*out = d;
	return 0;
}

static int expect_parse_key(const char *key, const json_t *v, const char *file, long line,
			    struct expect *e, struct nb_err *err)
{
	if (strcmp(key, "contains") == 0)
		return expect_parse_list(v, file, line, key, &e->contains, err);
	if (strcmp(key, "not_contains") == 0)
		return expect_parse_list(v, file, line, key, &e->not_contains, err);
	if (strcmp(key, "regex") == 0)
		return expect_parse_regex(v, file, line, e, err);
	if (strcmp(key, "equals") == 0)
		return expect_string(v, file, line, key, &e->equals, err);
	if (strcmp(key, "stop_reason") == 0)
		return expect_string(v, file, line, key, &e->stop_reason, err);
	if (strcmp(key, "json") == 0) {
		if (!json_is_boolean(v))
			return expect_error(err, file, line, key, "must be true or false");
		e->json = json_is_true(v);
		return 0;
	}
	double d = 0;
	if (expect_parse_limit(v, file, line, key, &d, err) < 0)
		return -1;
	if (strcmp(key, "max_output_tokens") == 0) {
		if (!json_is_integer(v))
			return expect_error(err, file, line, key, "must be a whole number");
		e->max_output_tokens = (int64_t)d;
	} else {
		e->max_latency_ms = d;
	}
	return 0;
}

static bool expect_known_key(const char *key)
{
	for (size_t i = 0; i < sizeof expect_keys / sizeof expect_keys[0]; i++)
		if (strcmp(key, expect_keys[i]) == 0)
			return true;
	return false;
}

int expect_parse(const json_t *spec, const char *file, long line, struct expect **out,
		 struct nb_err *err)
{
	*out = NULL;
	if (!json_is_object(spec))
		return err_set(err, "%s:%ld: field 'expect': must be an object of assertions",
			       file, line);
	struct expect *e = xcalloc(1, sizeof *e);
	e->refs = 1;
	e->max_output_tokens = -1;
	e->max_latency_ms = -1;
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)spec, key, v) {
		if (!expect_known_key(key)) {
			char field[64];
			snprintf(field, sizeof field, "expect.%.40s", key);
			err_set(err, "%s:%ld: field '%s': unknown assertion (known: contains, "
				     "not_contains, regex, equals, json, stop_reason, "
				     "max_output_tokens, max_latency_ms)",
				file, line, field);
			expect_free(e);
			return -1;
		}
		if (expect_parse_key(key, v, file, line, e, err) < 0) {
			expect_free(e);
			return -1;
		}
	}
	*out = e;
	return 0;
}

static void expect_list_free(struct expect_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
}

struct expect *expect_ref(struct expect *e)
{
	if (e)
		e->refs++;
	return e;
}

void expect_free(struct expect *e)
{
	if (!e || --e->refs > 0)
		return;
	expect_list_free(&e->contains);
	expect_list_free(&e->not_contains);
	if (e->has_regex)
		regfree(&e->regex);
	free(e->regex_src);
	free(e->equals);
	free(e->stop_reason);
	free(e);
}

static void expect_add(struct expect_verdict *v, const char *assertion, char *message)
{
	v->failures = xrealloc(v->failures, (v->nfailures + 1) * sizeof *v->failures);
	v->failures[v->nfailures].assertion = xstrdup(assertion);
	v->failures[v->nfailures].message = message;
	v->nfailures++;
}

/* s quoted for a message: at most EXPECT_QUOTE_MAX bytes, cut at a
 * character boundary. The caller frees it. */
static char *expect_quote(const char *s)
{
	size_t len = strlen(s);
	bool cut = len > EXPECT_QUOTE_MAX;
	size_t n = utf8_cut(s, len, EXPECT_QUOTE_MAX);
	return xasprintf("\"%.*s%s\"", (int)n, s, cut ? "..." : "");
}

static void expect_check_lists(const struct expect *e, const char *text, struct expect_verdict *v)
{
	for (size_t i = 0; i < e->contains.n; i++) {
		v->checked++;
		if (!strstr(text, e->contains.items[i])) {
			char *q = expect_quote(e->contains.items[i]);
			expect_add(v, "contains", xasprintf("the output does not contain %s", q));
			free(q);
		}
	}
	for (size_t i = 0; i < e->not_contains.n; i++) {
		v->checked++;
		if (strstr(text, e->not_contains.items[i])) {
			char *q = expect_quote(e->not_contains.items[i]);
			expect_add(v, "not_contains", xasprintf("the output contains %s", q));
			free(q);
		}
	}
}

static void expect_check_text(const struct expect *e, const char *text, struct expect_verdict *v)
{
	if (e->has_regex) {
		v->checked++;
		if (regexec(&e->regex, text, 0, NULL, 0) != 0) {
			char *q = expect_quote(e->regex_src);
			expect_add(v, "regex", xasprintf("the output does not match %s", q));
			free(q);
		}
	}
	if (e->equals) {
		v->checked++;
		if (strcmp(text, e->equals) != 0) {
			char *want = expect_quote(e->equals), *got = expect_quote(text);
			expect_add(v, "equals",
				   xasprintf("the output is %s, not %s", got, want));
			free(want);
			free(got);
		}
	}
	if (e->json) {
		v->checked++;
		json_error_t jerr;
		json_t *doc = json_loads(text, JSON_DECODE_ANY, &jerr);
		if (!doc)
			expect_add(v, "json",
				   xasprintf("the output is not JSON: %s (line %d, column %d)",
					     jerr.text, jerr.line, jerr.column));
		json_decref(doc);
	}
}

static void expect_check_numbers(const struct expect *e, const struct expect_answer *a,
				 struct expect_verdict *v)
{
	if (e->stop_reason) {
		v->checked++;
		const char *got = a->stop_reason ? a->stop_reason : "";
		if (strcmp(got, e->stop_reason) != 0) {
			char *q = expect_quote(got), *want = expect_quote(e->stop_reason);
			expect_add(v, "stop_reason",
				   xasprintf("the stop reason is %s, not %s", q, want));
			free(q);
			free(want);
		}
	}
	if (e->max_output_tokens >= 0) {
		v->checked++;
		if (a->output_tokens < 0)
			expect_add(v, "max_output_tokens",
				   xstrdup("the answer reported no output token count"));
		else if (a->output_tokens > e->max_output_tokens)
			expect_add(v, "max_output_tokens",
				   xasprintf("%" PRId64 " output tokens, more than %" PRId64,
					     a->output_tokens, e->max_output_tokens));
	}
	if (e->max_latency_ms >= 0) {
		v->checked++;
		if (a->latency_ms < 0)
			expect_add(v, "max_latency_ms", xstrdup("the latency was not measured"));
		else if (a->latency_ms > e->max_latency_ms)
			expect_add(v, "max_latency_ms",
				   xasprintf("a latency of %.1f ms, more than %g ms", a->latency_ms,
					     e->max_latency_ms));
	}
}

void expect_judge(const struct expect *e, const struct expect_answer *answer,
		  struct expect_verdict *v)
{
	memset(v, 0, sizeof *v);
	const char *text = answer->output_text ? answer->output_text : "";
	expect_check_lists(e, text, v);
	expect_check_text(e, text, v);
	expect_check_numbers(e, answer, v);
}

void expect_fail_all(const struct expect *e, const char *why, struct expect_verdict *v)
{
	memset(v, 0, sizeof *v);
	/* The names, in the order expect_judge judges them. */
	const struct {
		const char *name;
		size_t count;
	} present[] = {
		{"contains", e->contains.n},
		{"not_contains", e->not_contains.n},
		{"regex", e->has_regex},
		{"equals", e->equals != NULL},
		{"json", e->json},
		{"stop_reason", e->stop_reason != NULL},
		{"max_output_tokens", e->max_output_tokens >= 0},
		{"max_latency_ms", e->max_latency_ms >= 0},
	};
	for (size_t i = 0; i < sizeof present / sizeof present[0]; i++)
		for (size_t k = 0; k < present[i].count; k++) {
			v->checked++;
			expect_add(v, present[i].name, xasprintf("the job failed: %s", why));
		}
}

void expect_verdict_cleanup(struct expect_verdict *v)
{
	for (size_t i = 0; i < v->nfailures; i++) {
		free(v->failures[i].assertion);
		free(v->failures[i].message);
	}
	free(v->failures);
	memset(v, 0, sizeof *v);
}

char *expect_verdict_json(const struct expect_verdict *v)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < v->nfailures; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "assertion", json_string(v->failures[i].assertion));
		/* A message quotes model output, which may not be valid UTF-8. */
		const char *msg = v->failures[i].message;
		json_object_set_new(o, "message", jtext_new(msg, strlen(msg)));
		json_array_append_new(arr, o);
	}
	char *text = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return text;
}
