#include "models.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* Prices above this (USD per 1,000 tokens) are taken for a mistake; it also
 * keeps price x 1e9 well inside an int64. */
#define MODELS_MAX_PRICE 1e6

struct models_entry {
	const char *id;    /* borrowed from doc */
	const char *alias; /* borrowed from doc; NULL for none */
	struct models_price price;
};

struct models {
	json_t *doc; /* the table as read, prices rewritten to the values used */
	struct models_entry *entries;
	size_t n;
	const char *effective_date; /* borrowed from doc; NULL when absent */
};

/* The geographic cross-region inference profiles, priced as their model. */
static const char *const models_profiles[] = {"us.", "eu.", "apac."};

void models_free(struct models *m)
{
	if (!m)
		return;
	json_decref(m->doc);
	free(m->entries);
	free(m);
}

/* Reads field `key` of models[i] as USD per 1,000 tokens and converts it to
 * micro-USD per million tokens (x 1e9). An absent optional field takes
 * `fallback`. The field is written back as the rounded value, so the stored
 * table shows exactly the price used. */
static int models_read_price(json_t *entry, size_t i, const char *id, const char *key,
			     const int64_t *fallback, const char *origin, int64_t *out,
			     struct nb_err *err)
{
	json_t *v = json_object_get(entry, key);
	if (!v && fallback) {
		*out = *fallback;
	} else {
		double usd = json_number_value(v);
		if (!json_is_number(v) || !(usd >= 0 && usd <= MODELS_MAX_PRICE))
			return err_set(err,
				       "%s: models[%zu] (\"%s\"): \"%s\" must be a price in USD "
				       "per 1000 tokens (a number from 0 to %.0f)",
				       origin, i, id, key, MODELS_MAX_PRICE);
		*out = llround(usd * 1e9);
	}
	json_object_set_new(entry, key, json_real((double)*out / 1e9));
	return 0;
}

static int models_check_unit(json_t *doc, const char *key, const char *want, const char *origin,
			     struct nb_err *err)
{
	json_t *v = json_object_get(doc, key);
	if (v && !(json_is_string(v) && strcmp(json_string_value(v), want) == 0))
		return err_set(err, "%s: \"%s\" must be \"%s\"", origin, key, want);
	return 0;
}

/* Reads the optional "effective_date": the day the prices took effect, as
 * YYYY-MM-DD, shown in report headers. */
static int models_read_date(json_t *doc, const char *origin, const char **out,
			    struct nb_err *err)
{
	json_t *v = json_object_get(doc, "effective_date");
	if (!v)
		return 0;
	const char *s = json_string_value(v);
	bool ok = s && strlen(s) == 10;
	for (size_t i = 0; ok && i < 10; i++)
		ok = i == 4 || i == 7 ? s[i] == '-' : s[i] >= '0' && s[i] <= '9';
	if (!ok)
		return err_set(err, "%s: \"effective_date\" must be a date as YYYY-MM-DD", origin);
	*out = s;
	return 0;
}

static int models_from_doc(json_t *doc, const char *origin, struct models **out,
			   struct nb_err *err)
{
	struct models *m = xcalloc(1, sizeof *m);
	m->doc = doc;
	int rc = -1;
	json_t *list = json_object_get(doc, "models");
	if (!json_is_object(doc) || !json_is_array(list)) {
		err_set(err, "%s: expected an object with a \"models\" array", origin);
		goto out;
	}
	/* Prices in other units would be off by a factor: refuse them. */
	if (models_check_unit(doc, "unit", "per 1000 tokens", origin, err) < 0 ||
	    models_check_unit(doc, "currency", "USD", origin, err) < 0 ||
	    models_read_date(doc, origin, &m->effective_date, err) < 0)
		goto out;
	m->entries = xcalloc(json_array_size(list), sizeof *m->entries);
	size_t i;
	json_t *entry;
	json_array_foreach(list, i, entry) {
		const char *id = json_string_value(json_object_get(entry, "id"));
		if (!json_is_object(entry) || !id || !*id) {
			err_set(err, "%s: models[%zu]: expected an object with an \"id\" string",
				origin, i);
			goto out;
		}
		json_t *alias = json_object_get(entry, "alias");
		if (alias && !(json_is_string(alias) && json_string_length(alias) > 0)) {
			err_set(err, "%s: models[%zu]: \"alias\" must be a non-empty string", origin,
				i);
			goto out;
		}
		for (size_t j = 0; j < m->n; j++) {
			if (strcmp(m->entries[j].id, id) == 0 ||
			    (alias && m->entries[j].alias &&
			     strcmp(m->entries[j].alias, json_string_value(alias)) == 0)) {
				err_set(err, "%s: models[%zu]: \"%s\" is listed twice", origin, i,
					strcmp(m->entries[j].id, id) == 0 ? id
									  : json_string_value(alias));
				goto out;
			}
		}
		m->entries[m->n].alias = json_string_value(alias);
		struct models_price *p = &m->entries[m->n].price;
		/* Cache reads and writes default to the input rate: Bedrock bills
		 * cache writes at the input rate, and a missing cache read price
		 * should not make a cost look smaller than it may be. */
		if (models_read_price(entry, i, id, "input", NULL, origin, &p->input, err) < 0 ||
		    models_read_price(entry, i, id, "output", NULL, origin, &p->output, err) < 0 ||
		    models_read_price(entry, i, id, "cache_read", &p->input, origin,
				      &p->cache_read, err) < 0 ||
		    models_read_price(entry, i, id, "cache_write", &p->input, origin,
				      &p->cache_write, err) < 0)
			goto out;
		m->entries[m->n++].id = id;
	}
	*out = m;
	m = NULL;
	rc = 0;
out:
	models_free(m);
	return rc;
}

int models_load_text(const char *text, const char *origin, struct models **out,
		     struct nb_err *err)
{
	json_error_t jerr;
	json_t *doc = json_loads(text, 0, &jerr);
	if (!doc)
		return err_set(err, "%s: line %d, column %d: %s", origin, jerr.line, jerr.column,
			       jerr.text);
	return models_from_doc(doc, origin, out, err);
}

int models_load_builtin(struct models **out, struct nb_err *err)
{
	return models_load_text(nb_models_json, "the built-in price table", out, err);
}

int models_load_file(const char *path, struct models **out, struct nb_err *err)
{
	json_error_t jerr;
	json_t *doc = json_load_file(path, 0, &jerr);
	if (!doc) {
		if (jerr.line < 0)
			return err_set(err, "%s", jerr.text);
		return err_set(err, "%s: line %d, column %d: %s", path, jerr.line, jerr.column,
			       jerr.text);
	}
	return models_from_doc(doc, path, out, err);
}

const char *models_effective_date(const struct models *m)
{
	return m->effective_date;
}

static const struct models_entry *models_find(const struct models *m, const char *id)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->entries[i].id, id) == 0)
			return &m->entries[i];
	return NULL;
}

bool models_price_for(const struct models *m, const char *model_id, struct models_price *price)
{
	/* An ARN ends in ".../us.amazon.nova-lite-v1:0". */
	const char *slash = strrchr(model_id, '/');
	const char *id = slash ? slash + 1 : model_id;
	const struct models_entry *e = models_find(m, id);
	for (size_t i = 0; !e && i < sizeof models_profiles / sizeof models_profiles[0]; i++) {
		size_t n = strlen(models_profiles[i]);
		if (strncmp(id, models_profiles[i], n) == 0)
			e = models_find(m, id + n);
	}
	if (!e)
		return false;
	*price = e->price;
	return true;
}

int64_t models_cost_pusd(const struct models_price *price, int64_t input_tokens,
			 int64_t output_tokens, int64_t cache_read_tokens,
			 int64_t cache_write_tokens)
{
	return input_tokens * price->input + output_tokens * price->output +
	       cache_read_tokens * price->cache_read + cache_write_tokens * price->cache_write;
}

char *models_to_json(const struct models *m)
{
	/* Prices are whole micro-USD per million tokens, so their values per
	 * 1,000 tokens have at most 15 significant digits: printed with 15,
	 * they read back to the same doubles and the same integer prices. */
	char *text = json_dumps(m->doc, JSON_COMPACT | JSON_REAL_PRECISION(15));
	if (!text)
		abort(); /* jansson fails here only when out of memory */
	return text;
}

/* The geographic inference profile of a region: us-east-1 -> "us.". Regions
 * without one (and GovCloud, whose profiles differ) call the base model. */
static const char *models_region_prefix(const char *region)
{
	if (strncmp(region, "us-gov-", 7) == 0)
		return "";
	if (strncmp(region, "us-", 3) == 0)
		return "us.";
	if (strncmp(region, "eu-", 3) == 0)
		return "eu.";
	if (strncmp(region, "ap-", 3) == 0)
		return "apac.";
	return "";
}

char *models_resolve(const struct models *m, const char *name, const char *region)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->entries[i].alias && strcmp(m->entries[i].alias, name) == 0)
			return xasprintf("%s%s", models_region_prefix(region), m->entries[i].id);
	return NULL;
}

void models_alias_names(const struct models *m, char *out, size_t size)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < m->n && used < size; i++) {
		if (!m->entries[i].alias)
			continue;
		int n = snprintf(out + used, size - used, "%s%s", used ? ", " : "",
				 m->entries[i].alias);
		used += n > 0 ? (size_t)n : 0;
	}
}
