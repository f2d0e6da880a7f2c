#include "mock_fault.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "digest.h"
#include "xalloc.h"

/* Nanoseconds in a minute: a token in bucket units. */
#define MOCK_FAULT_UNIT UINT64_C(60000000000)

static const struct mock_fault_error mock_fault_errors[] = {
	[MOCK_FAULT_VALIDATION] = {400, "ValidationException" MOCK_FAULT_NS_BEDROCK,
				   "Malformed input request, please reformat your input and try "
				   "again."},
	[MOCK_FAULT_ACCESS_DENIED] = {403, "AccessDeniedException" MOCK_FAULT_NS_BEDROCK,
				      "You don't have access to the model with the specified "
				      "model ID."},
	[MOCK_FAULT_EXPIRED_TOKEN] = {403, "ExpiredTokenException" MOCK_FAULT_NS_CORAL,
				      "The security token included in the request is expired"},
	[MOCK_FAULT_NOT_FOUND] = {404, "ResourceNotFoundException" MOCK_FAULT_NS_BEDROCK,
				  "The specified resource ARN was not found. Check the ARN and "
				  "try your request again."},
	[MOCK_FAULT_MODEL_TIMEOUT] = {408, "ModelTimeoutException" MOCK_FAULT_NS_BEDROCK,
				      "Model has timed out in processing the request. Try your "
				      "request again."},
	[MOCK_FAULT_MODEL_ERROR] = {424, "ModelErrorException" MOCK_FAULT_NS_BEDROCK,
				    "The request failed due to an error while processing the "
				    "model."},
	[MOCK_FAULT_THROTTLED] = {429, "ThrottlingException" MOCK_FAULT_NS_BEDROCK,
				  "Too many requests, please wait before trying again."},
	[MOCK_FAULT_TOO_MANY_TOKENS] = {429, "ThrottlingException" MOCK_FAULT_NS_BEDROCK,
					"Too many tokens, please wait before trying again."},
	[MOCK_FAULT_NOT_READY] = {429, "ModelNotReadyException" MOCK_FAULT_NS_BEDROCK,
				  "Model is not ready to serve inference requests. Try your "
				  "request again later."},
	[MOCK_FAULT_INTERNAL] = {500, "InternalServerException" MOCK_FAULT_NS_BEDROCK,
				 "The system encountered an unexpected error during processing. "
				 "Try your request again."},
	[MOCK_FAULT_UNAVAILABLE] = {503, "ServiceUnavailableException" MOCK_FAULT_NS_BEDROCK,
				    "Bedrock is unable to process your request."},
};

const struct mock_fault_error *mock_fault_error(enum mock_fault_answer a)
{
	/* The answers that are a 200 have no entry: their status is 0. */
	if ((size_t)a >= sizeof mock_fault_errors / sizeof mock_fault_errors[0] ||
	    !mock_fault_errors[a].status)
		return NULL;
	return &mock_fault_errors[a];
}

const char *mock_fault_stream_name(enum mock_fault_answer a)
{
	switch (a) {
	case MOCK_FAULT_STREAM_ERROR:
		return "stream-error";
	case MOCK_FAULT_STREAM_THROTTLE:
		return "stream-throttle";
	case MOCK_FAULT_CORRUPT:
		return "corrupt";
	case MOCK_FAULT_CUT:
		return "cut";
	default:
		return NULL;
	}
}

enum mock_fault_answer mock_fault_on_converse(enum mock_fault_answer a)
{
	return mock_fault_stream_name(a) ? MOCK_FAULT_NONE : a;
}

/* ---- the random draw ---- */

double mock_fault_uniform(uint64_t seed, uint64_t n)
{
	uint64_t z = seed + (n + 1) * UINT64_C(0x9e3779b97f4a7c15);

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	z ^= z >> 31;
	return (double)(z >> 11) * 0x1p-53;
}

enum mock_fault_answer mock_fault_draw(const struct mock_fault_odds *odds, double u)
{
	const struct {
		double p;
		enum mock_fault_answer answer;
	} steps[] = {
		{odds->throttle, MOCK_FAULT_THROTTLED},
		{odds->error500, MOCK_FAULT_INTERNAL},
		{odds->error503, MOCK_FAULT_UNAVAILABLE},
		{odds->timeout408, MOCK_FAULT_MODEL_TIMEOUT},
		{odds->reset, MOCK_FAULT_RESET},
		{odds->stream_error, MOCK_FAULT_STREAM_ERROR},
		{odds->corrupt, MOCK_FAULT_CORRUPT},
		{odds->cut, MOCK_FAULT_CUT},
	};
	double below = 0;

	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		below += steps[i].p;
		if (u < below)
			return steps[i].answer;
	}
	return MOCK_FAULT_NONE;
}

/* ---- token buckets ---- */

void mock_fault_bucket_init(struct mock_fault_bucket *b, uint64_t per_minute, uint64_t capacity,
			    uint64_t now_ns)
{
	b->capacity = capacity * MOCK_FAULT_UNIT;
	b->level = b->capacity;
	b->rate = per_minute;
	b->at_ns = now_ns;
}

void mock_fault_bucket_refill(struct mock_fault_bucket *b, uint64_t now_ns)
{
	uint64_t elapsed;

	if (now_ns <= b->at_ns)
		return;
	elapsed = now_ns - b->at_ns;
	b->at_ns = now_ns;
	/* Compared by division first: elapsed * rate can pass 64 bits after
	 * a long idle spell. */
	if (b->rate == 0 || elapsed < (b->capacity - b->level) / b->rate)
		b->level += elapsed * b->rate;
	else
		b->level = b->capacity;
}

uint64_t mock_fault_bucket_fit(const struct mock_fault_bucket *b, uint64_t n)
{
	if (n > b->capacity / MOCK_FAULT_UNIT)
		return b->level == b->capacity ? b->capacity / MOCK_FAULT_UNIT : 0;
	return b->level >= n * MOCK_FAULT_UNIT ? n : 0;
}

void mock_fault_bucket_take(struct mock_fault_bucket *b, uint64_t n)
{
	b->level -= n * MOCK_FAULT_UNIT;
}

void mock_fault_bucket_give(struct mock_fault_bucket *b, uint64_t n, uint64_t now_ns)
{
	mock_fault_bucket_refill(b, now_ns);
	if (n >= (b->capacity - b->level) / MOCK_FAULT_UNIT)
		b->level = b->capacity;
	else
		b->level += n * MOCK_FAULT_UNIT;
}

uint64_t mock_fault_bucket_tokens(const struct mock_fault_bucket *b)
{
	return b->level / MOCK_FAULT_UNIT;
}

/* ---- fail-first counts ---- */

/* Open addressing with linear probing; key 0 marks an empty slot (a key
 * that hashes to 0 is stored as 1). Grows by doubling, at most half full. */
struct mock_fault_slot {
	uint64_t key;
	unsigned long count; /* attempts seen, counted up to k only */
};

struct mock_fault_seen {
	struct mock_fault_slot *slots;
	size_t size; /* a power of two */
	size_t used;
	size_t max_entries;
};

#define MOCK_FAULT_SEEN_START 1024u

struct mock_fault_seen *mock_fault_seen_new(size_t max_entries)
{
	struct mock_fault_seen *s = xmalloc(sizeof *s);

	s->size = MOCK_FAULT_SEEN_START;
	s->slots = xcalloc(s->size, sizeof *s->slots);
	s->used = 0;
	s->max_entries = max_entries;
	return s;
}

void mock_fault_seen_free(struct mock_fault_seen *s)
{
	if (!s)
		return;
	free(s->slots);
	free(s);
}

static struct mock_fault_slot *mock_fault_seen_slot(struct mock_fault_slot *slots, size_t size,
						    uint64_t key)
{
	size_t i = (size_t)(key ^ (key >> 32)) & (size - 1);

	while (slots[i].key && slots[i].key != key)
		i = (i + 1) & (size - 1);
	return &slots[i];
}

static void mock_fault_seen_grow(struct mock_fault_seen *s)
{
	size_t size = s->size * 2;
	struct mock_fault_slot *slots = xcalloc(size, sizeof *slots);

	for (size_t i = 0; i < s->size; i++)
		if (s->slots[i].key)
			*mock_fault_seen_slot(slots, size, s->slots[i].key) = s->slots[i];
	free(s->slots);
	s->slots = slots;
	s->size = size;
}

bool mock_fault_seen_first(struct mock_fault_seen *s, uint64_t key, unsigned long k)
{
	struct mock_fault_slot *slot;

	key = key ? key : 1;
	slot = mock_fault_seen_slot(s->slots, s->size, key);
	if (!slot->key) {
		if (s->used == s->max_entries)
			return false;
		if (2 * (s->used + 1) > s->size) {
			mock_fault_seen_grow(s);
			slot = mock_fault_seen_slot(s->slots, s->size, key);
		}
		slot->key = key;
		s->used++;
	}
	if (slot->count >= k)
		return false;
	slot->count++;
	return true;
}

uint64_t mock_fault_request_key(const char *model_id, const void *body, size_t len)
{
	const struct digest_part parts[] = {
		{model_id, strlen(model_id) + 1},
		{body, len},
	};
	unsigned char md[DIGEST_SHA256_LEN];
	uint64_t key = 0;

	digest_sha256(parts, 2, md);
	for (int i = 0; i < 8; i++)
		key = key << 8 | md[i];
	return key;
}

/* ---- the plan ---- */

struct mock_fault_plan_job {
	char *job_id;
	unsigned char *answers; /* enum mock_fault_answer values */
	size_t count;
	atomic_size_t next;     /* requests seen */
};

/* Sorted by job id for bsearch; nothing changes after parsing but the
 * counters, so lookups take no lock. */
struct mock_fault_plan {
	struct mock_fault_plan_job *jobs;
	size_t count;
};

#define MOCK_FAULT_ANSWERS \
	"use 200, 400, 403, 404, 408, 424, 429, 500, 503, \"reset\", \"429-not-ready\", " \
	"\"403-expired\", \"stream-error\", \"stream-throttle\", \"corrupt\" or \"cut\""

/* Maps one entry to an answer; returns -1 when it names none. */
static int mock_fault_plan_entry(const json_t *entry, enum mock_fault_answer *out)
{
	static const struct {
		json_int_t status;
		enum mock_fault_answer answer;
	} statuses[] = {
		{200, MOCK_FAULT_NONE}, {400, MOCK_FAULT_VALIDATION},
		{403, MOCK_FAULT_ACCESS_DENIED}, {404, MOCK_FAULT_NOT_FOUND},
		{408, MOCK_FAULT_MODEL_TIMEOUT}, {424, MOCK_FAULT_MODEL_ERROR},
		{429, MOCK_FAULT_THROTTLED}, {500, MOCK_FAULT_INTERNAL},
		{503, MOCK_FAULT_UNAVAILABLE},
	};
	static const struct {
		const char *name;
		enum mock_fault_answer answer;
	} names[] = {
		{"reset", MOCK_FAULT_RESET},
		{"429-not-ready", MOCK_FAULT_NOT_READY},
		{"403-expired", MOCK_FAULT_EXPIRED_TOKEN},
		{"stream-error", MOCK_FAULT_STREAM_ERROR},
		{"stream-throttle", MOCK_FAULT_STREAM_THROTTLE},
		{"corrupt", MOCK_FAULT_CORRUPT},
		{"cut", MOCK_FAULT_CUT},
	};

	for (size_t i = 0; json_is_integer(entry) && i < sizeof statuses / sizeof statuses[0]; i++)
		if (json_integer_value(entry) == statuses[i].status) {
			*out = statuses[i].answer;
			return 0;
		}
	for (size_t i = 0; json_is_string(entry) && i < sizeof names / sizeof names[0]; i++)
		if (strcmp(json_string_value(entry), names[i].name) == 0) {
			*out = names[i].answer;
			return 0;
		}
	return -1;
}

/* Writes what an entry is, for a message: its JSON text when it is a
 * number or a string, else the kind of value it is. */
static void mock_fault_describe(const json_t *v, char *out, size_t size)
{
	char *text;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		snprintf(out, size, "an object");
		break;
	case JSON_ARRAY:
		snprintf(out, size, "a list");
		break;
	case JSON_TRUE:
	case JSON_FALSE:
	case JSON_NULL:
	case JSON_INTEGER:
	case JSON_REAL:
	case JSON_STRING:
		text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		snprintf(out, size, "%s", text ? text : "a string that is not UTF-8");
		free(text);
		break;
	}
}

static int mock_fault_job_cmp(const void *a, const void *b)
{
	const struct mock_fault_plan_job *x = a, *y = b;

	return strcmp(x->job_id, y->job_id);
}

/* Parses the answers of one job into job; job_id quoted is for messages. */
static int mock_fault_plan_job(const char *name, const char *job_id, const json_t *list,
			       struct mock_fault_plan_job *job, struct nb_err *err)
{
	enum mock_fault_answer answer;
	char quoted[256], what[128];
	json_t *key = json_string(job_id);
	char *text = json_dumps(key, JSON_ENCODE_ANY);
	const json_t *entry;
	size_t i;
	int rc = -1;

	snprintf(quoted, sizeof quoted, "%s", text);
	if (!json_is_array(list)) {
		err_set(err, "%s: job %s: the answers must be a list, like [429, 503, 200]", name,
			quoted);
		goto out;
	}
	job->answers = xmalloc(json_array_size(list) + 1);
	json_array_foreach(list, i, entry) {
		if (mock_fault_plan_entry(entry, &answer) < 0) {
			mock_fault_describe(entry, what, sizeof what);
			err_set(err, "%s: job %s, entry %zu: %s is not an answer the mock knows; "
				     MOCK_FAULT_ANSWERS, name, quoted, i + 1, what);
			goto out;
		}
		job->answers[i] = (unsigned char)answer;
	}
	job->count = json_array_size(list);
	rc = 0;
out:
	free(text);
	json_decref(key);
	return rc;
}

int mock_fault_plan_parse(const char *text, size_t len, const char *name,
			  struct mock_fault_plan **out, struct nb_err *err)
{
	struct mock_fault_plan *p = xcalloc(1, sizeof *p);
	json_error_t jerr;
	const char *job_id;
	json_t *list;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	int rc = -1;

	if (!root) {
		err_set(err, "%s: line %d, column %d: %s", name, jerr.line, jerr.column, jerr.text);
		goto out;
	}
	if (!json_is_object(root)) {
		err_set(err, "%s: the plan must be a JSON object mapping job ids to lists of "
			     "answers, like {\"job-1\": [429, 503, 200]}", name);
		goto out;
	}
	p->jobs = xcalloc(json_object_size(root) + 1, sizeof *p->jobs);
	json_object_foreach(root, job_id, list) {
		struct mock_fault_plan_job *job = &p->jobs[p->count++];
		job->job_id = xstrdup(job_id);
		atomic_init(&job->next, 0);
		if (mock_fault_plan_job(name, job_id, list, job, err) < 0)
			goto out;
	}
	qsort(p->jobs, p->count, sizeof *p->jobs, mock_fault_job_cmp);
	*out = p;
	p = NULL;
	rc = 0;
out:
	mock_fault_plan_free(p);
	json_decref(root);
	return rc;
}

int mock_fault_plan_load(const char *path, struct mock_fault_plan **out, struct nb_err *err)
{
	struct buf text;
	char chunk[65536];
	size_t n;
	int rc = -1;
	FILE *f = fopen(path, "rb");

	buf_init(&text, MOCK_FAULT_MAX_PLAN_BYTES);
	if (!f) {
		err_set(err, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (buf_append(&text, chunk, n) < 0) {
			err_set(err, "%s: a plan may hold at most %u bytes", path,
				MOCK_FAULT_MAX_PLAN_BYTES);
			goto out;
		}
	if (ferror(f)) {
		err_set(err, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	rc = mock_fault_plan_parse(buf_str(&text), text.len, path, out, err);
out:
	if (f)
		fclose(f);
	buf_cleanup(&text);
	return rc;
}

size_t mock_fault_plan_jobs(const struct mock_fault_plan *p)
{
	return p->count;
}

bool mock_fault_plan_next(struct mock_fault_plan *p, const char *job_id, size_t len,
			  enum mock_fault_answer *out)
{
	struct mock_fault_plan_job key = {.job_id = (char *)job_id}, *job;
	size_t n;

	/* A job id holding a NUL matches no JSON key (jansson refuses them). */
	if (strlen(job_id) != len)
		return false;
	job = bsearch(&key, p->jobs, p->count, sizeof *p->jobs, mock_fault_job_cmp);
	if (!job || atomic_load(&job->next) >= job->count)
		return false;
	n = atomic_fetch_add(&job->next, 1);
	if (n >= job->count)
		return false;
	*out = (enum mock_fault_answer)job->answers[n];
	return true;
}

void mock_fault_plan_free(struct mock_fault_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->count; i++) {
		free(p->jobs[i].job_id);
		free(p->jobs[i].answers);
	}
	free(p->jobs);
	free(p);
}

/* ---- the shared state ---- */

struct mock_fault_model {
	char *model_id;
	struct mock_fault_bucket requests, tokens;
};

struct mock_fault {
	struct mock_fault_config cfg;  /* owns cfg.plan */
	bool random;                   /* some probability is above 0 */
	atomic_uint_least64_t draws;   /* numbers the random draws */
	pthread_mutex_t seen_lock;
	struct mock_fault_seen *seen;  /* NULL without fail-first */
	pthread_mutex_t quota_lock;
	struct mock_fault_model models[MOCK_FAULT_MAX_MODELS];
	size_t nmodels;
};

struct mock_fault *mock_fault_new(const struct mock_fault_config *cfg)
{
	struct mock_fault *f = xcalloc(1, sizeof *f);
	const struct mock_fault_odds *o = &cfg->odds;

	f->cfg = *cfg;
	if (f->cfg.rpm && !f->cfg.burst)
		f->cfg.burst = f->cfg.rpm / 60 ? f->cfg.rpm / 60 : 1;
	f->random = o->throttle > 0 || o->error500 > 0 || o->error503 > 0 || o->timeout408 > 0 ||
		    o->reset > 0 || o->stream_error > 0 || o->corrupt > 0 || o->cut > 0;
	atomic_init(&f->draws, 0);
	pthread_mutex_init(&f->seen_lock, NULL);
	pthread_mutex_init(&f->quota_lock, NULL);
	if (cfg->fail_first)
		f->seen = mock_fault_seen_new(MOCK_FAULT_MAX_REQUESTS);
	return f;
}

bool mock_fault_planned(struct mock_fault *f, const char *job_id, size_t len,
			enum mock_fault_answer *out)
{
	return f->cfg.plan && job_id && mock_fault_plan_next(f->cfg.plan, job_id, len, out);
}

bool mock_fault_fail_first(struct mock_fault *f, const char *model_id, const void *body,
			   size_t len)
{
	uint64_t key;
	bool first;

	if (!f->seen)
		return false;
	key = mock_fault_request_key(model_id, body, len);
	pthread_mutex_lock(&f->seen_lock);
	first = mock_fault_seen_first(f->seen, key, f->cfg.fail_first);
	pthread_mutex_unlock(&f->seen_lock);
	return first;
}

/* The buckets of model_id, made full at now_ns on its first request; NULL
 * when MOCK_FAULT_MAX_MODELS others came first. Called under quota_lock. */
static struct mock_fault_model *mock_fault_model(struct mock_fault *f, const char *model_id,
						 uint64_t now_ns)
{
	struct mock_fault_model *model;

	for (size_t i = 0; i < f->nmodels; i++)
		if (strcmp(f->models[i].model_id, model_id) == 0)
			return &f->models[i];
	if (f->nmodels == MOCK_FAULT_MAX_MODELS)
		return NULL;
	model = &f->models[f->nmodels++];
	model->model_id = xstrdup(model_id);
	/* The tokens bucket holds a minute's worth: any request that fits
	 * the quota at all can pass, as with the service. */
	mock_fault_bucket_init(&model->requests, (uint64_t)f->cfg.rpm, (uint64_t)f->cfg.burst,
			       now_ns);
	mock_fault_bucket_init(&model->tokens, (uint64_t)f->cfg.tpm, (uint64_t)f->cfg.tpm, now_ns);
	return model;
}

enum mock_fault_quota mock_fault_admit(struct mock_fault *f, const char *model_id,
				       uint64_t tokens, uint64_t now_ns, uint64_t *taken)
{
	struct mock_fault_model *model;
	enum mock_fault_quota verdict = MOCK_FAULT_ADMITTED;
	uint64_t fit = 0;

	*taken = 0;
	if (!f->cfg.rpm && !f->cfg.tpm)
		return MOCK_FAULT_ADMITTED;
	pthread_mutex_lock(&f->quota_lock);
	model = mock_fault_model(f, model_id, now_ns);
	if (!model)
		goto out;
	mock_fault_bucket_refill(&model->requests, now_ns);
	mock_fault_bucket_refill(&model->tokens, now_ns);
	if (f->cfg.rpm && !mock_fault_bucket_fit(&model->requests, 1)) {
		verdict = MOCK_FAULT_OVER_RPM;
		goto out;
	}
	if (f->cfg.tpm && !(fit = mock_fault_bucket_fit(&model->tokens, tokens))) {
		verdict = MOCK_FAULT_OVER_TPM;
		goto out;
	}
	if (f->cfg.rpm)
		mock_fault_bucket_take(&model->requests, 1);
	if (f->cfg.tpm)
		mock_fault_bucket_take(&model->tokens, fit);
	*taken = fit;
out:
	pthread_mutex_unlock(&f->quota_lock);
	return verdict;
}

void mock_fault_release(struct mock_fault *f, const char *model_id, uint64_t taken,
			uint64_t used, uint64_t now_ns)
{
	struct mock_fault_model *model;

	if (taken <= used)
		return;
	pthread_mutex_lock(&f->quota_lock);
	/* Something was taken: the model has its buckets already. */
	model = mock_fault_model(f, model_id, now_ns);
	if (model)
		mock_fault_bucket_give(&model->tokens, taken - used, now_ns);
	pthread_mutex_unlock(&f->quota_lock);
}

enum mock_fault_answer mock_fault_random(struct mock_fault *f)
{
	if (!f->random)
		return MOCK_FAULT_NONE;
	return mock_fault_draw(&f->cfg.odds,
			       mock_fault_uniform(f->cfg.seed, atomic_fetch_add(&f->draws, 1)));
}

void mock_fault_free(struct mock_fault *f)
{
	if (!f)
		return;
	mock_fault_plan_free(f->cfg.plan);
	mock_fault_seen_free(f->seen);
	for (size_t i = 0; i < f->nmodels; i++)
		free(f->models[i].model_id);
	pthread_mutex_destroy(&f->seen_lock);
	pthread_mutex_destroy(&f->quota_lock);
	free(f);
}
