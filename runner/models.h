/*
 * models: the price table (schemas/models.json, or a file given later by
 * `--pricing FILE`).
 *
 * Owns the parsed table and its prices, converted once from the JSON's USD
 * per 1,000 tokens to integer micro-USD per million tokens, so that costs are
 * sums of integers: tokens x (micro-USD per 1M tokens) is a cost in pico-USD,
 * exact for any run below 9.2 million USD. It matches a model id, an
 * inference-profile id (`us.`, `eu.`, `apac.`) or an ARN to a price, and
 * an alias ("lite") to the model id a region calls. It does not know which
 * models a region offers.
 */
#ifndef NB_MODELS_H
#define NB_MODELS_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

/* Prices in micro-USD per million tokens (= pico-USD per token). */
struct models_price {
	int64_t input;
	int64_t output;
	int64_t cache_read;
	int64_t cache_write;
};

struct models;

/* The embedded schemas/models.json, NUL-terminated. */
extern const char nb_models_json[];

/* Parses a price table from JSON text; origin names it in messages ("the
 * built-in price table", a file name). Returns 0, or -1 with err naming the
 * entry and field at fault. */
int models_load_text(const char *text, const char *origin, struct models **out,
		     struct nb_err *err);
/* Parses the price table compiled into the binary. */
int models_load_builtin(struct models **out, struct nb_err *err);
/* Reads and parses a price table file. */
int models_load_file(const char *path, struct models **out, struct nb_err *err);
/* NULL does nothing. */
void models_free(struct models *m);

/* The table's "effective_date" (YYYY-MM-DD, the day its prices took
 * effect), borrowed until models_free; NULL when the table has none. */
const char *models_effective_date(const struct models *m);

/* Finds the price of model_id: a base id ("amazon.nova-lite-v1:0"), a
 * geographic inference profile of it ("us.", "eu.", "apac." + base id), or an
 * ARN whose last '/'-separated part is one of those. Returns true and fills
 * price, or false when the table does not know the model. */
bool models_price_for(const struct models *m, const char *model_id, struct models_price *price);

/* The model id an alias names in a region ("lite" in us-east-1 ->
 * "us.amazon.nova-lite-v1:0": the geographic inference profile us., eu. or
 * apac. of its region, the base id elsewhere), as a string the caller
 * frees; NULL when name is not an alias of the table. */
char *models_resolve(const struct models *m, const char *name, const char *region);

/* The table's aliases, comma-separated, for messages; cut to size. */
void models_alias_names(const struct models *m, char *out, size_t size);

/* The cost in pico-USD of the given token counts at price. */
int64_t models_cost_pusd(const struct models_price *price, int64_t input_tokens,
			 int64_t output_tokens, int64_t cache_read_tokens,
			 int64_t cache_write_tokens);

/* The table as compact JSON text in the format it was read in (what a run
 * stores in runs.prices; models_load_text reads it back to the same prices).
 * The caller frees it. */
char *models_to_json(const struct models *m);

#endif
