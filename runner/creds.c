#include "creds.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "creds_fetch.h"
#include "creds_profile.h"
#include "msg.h"
#include "xalloc.h"

/* The shortest wait before a scheduled renewal, so that a source handing
 * out credentials already in their margin is not asked in a loop. */
#define CREDS_MIN_REFRESH_MS 1000.0

static const char *creds_getenv(const char *name, void *data)
{
	(void)data;
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

/* A shared file's path: the variable's value, else ~/.aws/NAME. */
static char *creds_file_path(const char *var, const char *name)
{
	const char *v = creds_getenv(var, NULL);
	const char *home = creds_getenv("HOME", NULL);
	if (v && strncmp(v, "~/", 2) == 0 && home)
		return xasprintf("%s/%s", home, v + 2);
	if (v)
		return xstrdup(v);
	return xasprintf("%s/.aws/%s", home ? home : "", name);
}

/* Reads a shared file; *text stays NULL when it does not exist. */
static int creds_read_file(const char *path, char **text, struct nb_err *err)
{
	*text = NULL;
	FILE *fp = fopen(path, "r");
	if (!fp) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return err_set(err, "%s: %s", path, strerror(errno));
	}
	struct buf b;
	buf_init(&b, CREDS_PROFILE_MAX_FILE);
	char chunk[4096];
	size_t n;
	int rc = 0;
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
		if (buf_append(&b, chunk, n) < 0) {
			rc = err_set(err, "%s: larger than %d bytes", path, CREDS_PROFILE_MAX_FILE);
			break;
		}
	}
	if (rc == 0 && ferror(fp))
		rc = err_set(err, "%s: %s", path, strerror(errno));
	fclose(fp);
	if (rc == 0 && strlen(buf_str(&b)) != b.len)
		rc = err_set(err, "%s: holds a NUL byte; it is not a text file", path);
	if (rc < 0) {
		if (b.data)
			memset(b.data, 0, b.len);
		buf_cleanup(&b);
		return -1;
	}
	*text = buf_steal(&b);
	return 0;
}

static void creds_free_text(char *text)
{
	if (text) {
		memset(text, 0, strlen(text));
		free(text);
	}
}

int creds_source_load(const char *profile_option, struct creds_source *out, struct nb_err *err)
{
	char *cpath = creds_file_path("AWS_SHARED_CREDENTIALS_FILE", "credentials");
	char *fpath = creds_file_path("AWS_CONFIG_FILE", "config");
	char *ctext = NULL, *ftext = NULL;
	int rc = -1;
	if (creds_read_file(cpath, &ctext, err) < 0 || creds_read_file(fpath, &ftext, err) < 0)
		goto out;
	struct creds_inputs in = {
		.getenv = creds_getenv,
		.profile_option = profile_option,
		.credentials_path = cpath,
		.credentials_text = ctext,
		.config_path = fpath,
		.config_text = ftext,
	};
	rc = creds_resolve(&in, out, err);
	if (rc == 0) {
		creds_value_hide(&out->value);
		msg_add_secret(out->auth_token);
	}
out:
	creds_free_text(ctext);
	creds_free_text(ftext);
	free(cpath);
	free(fpath);
	return rc;
}

void creds_http_config(const struct pool_config *run, struct pool_config *http)
{
	/* Metadata endpoints are link-local or loopback: no proxy reaches
	 * them, and they answer at once or not at all. */
	*http = (struct pool_config){
		.max_connections = 2,
		.connect_timeout_ms = CREDS_HTTP_CONNECT_TIMEOUT_MS,
		.timeout_ms = CREDS_HTTP_TIMEOUT_MS,
		.ca_bundle = run->ca_bundle,
		.insecure = run->insecure,
		.no_proxy = true,
	};
}

/* ---- the first fetch, on a loop of its own ---- */

struct creds_once {
	struct creds_value *out;
	char *error;
	bool done;
};

static void creds_once_cb(struct creds_value *value, const char *error, void *data)
{
	struct creds_once *o = data;
	o->done = true;
	if (value)
		creds_value_move(o->out, value);
	else
		o->error = xstrdup(error);
}

int creds_obtain(const struct creds_source *src, const struct pool_config *http,
		 struct creds_value *out, struct nb_err *err)
{
	memset(out, 0, sizeof *out);
	if (src->kind == CREDS_STATIC || src->kind == CREDS_BEARER) {
		creds_value_copy(out, &src->value);
		return 0;
	}
	uv_loop_t loop;
	struct pool *pool;
	if (uv_loop_init(&loop) != 0)
		return err_set(err, "cannot start an event loop");
	int rc = -1;
	if (pool_new(&loop, http, &pool, err) < 0)
		goto out;
	struct creds_once once = {.out = out};
	struct creds_fetch *f;
	if (creds_fetch_start(&loop, pool, src, creds_once_cb, &once, &f, err) == 0) {
		uv_run(&loop, UV_RUN_DEFAULT);
		if (once.error)
			err_set(err, "%s", once.error);
		else if (once.done)
			rc = 0;
		free(once.error);
	}
	pool_close(pool);
	uv_run(&loop, UV_RUN_DEFAULT);
out:
	if (uv_loop_close(&loop) != 0 && rc == 0)
		rc = err_set(err, "the credentials' event loop did not close cleanly");
	return rc;
}

/* ---- keeping them fresh during a run ---- */

struct creds {
	uv_loop_t *loop;
	const struct creds_source *src;
	struct creds_events ev;
	struct pool *pool;
	uv_timer_t timer;       /* the next renewal */
	struct creds_fetch *fetch; /* the renewal in progress, or NULL */
	struct creds_value value;
	unsigned generation;
	bool refused;           /* the service refused this generation as expired */
	bool gave_up;
	bool closing;
	int failures;           /* renewals failed in a row */
	long renewals;
};

static void creds_renew(struct creds *c);

static void creds_timer_cb(uv_timer_t *t)
{
	creds_renew(t->data);
}

bool creds_usable(const struct creds *c)
{
	if (c->refused || c->gave_up)
		return false;
	return c->value.expiration == 0 || time(NULL) < c->value.expiration;
}

const struct creds_value *creds_current(const struct creds *c, unsigned *generation)
{
	*generation = c->generation;
	return &c->value;
}

long creds_renewals(const struct creds *c)
{
	return c->renewals;
}

/* Sets the timer for the renewal before the current ones expire. */
static void creds_schedule(struct creds *c, time_t obtained)
{
	if (c->value.expiration == 0 || c->src->kind == CREDS_STATIC ||
	    c->src->kind == CREDS_BEARER)
		return;
	double ms = 1000.0 * creds_refresh_delay_s(obtained, c->value.expiration, time(NULL));
	uv_timer_start(&c->timer, creds_timer_cb, (uint64_t)ceil(fmax(ms, CREDS_MIN_REFRESH_MS)),
		       0);
}

static void creds_give_up(struct creds *c, const char *why)
{
	if (c->gave_up)
		return;
	c->gave_up = true;
	uv_timer_stop(&c->timer);
	if (c->ev.gave_up)
		c->ev.gave_up(why, c->ev.data);
}

static void creds_fetched_cb(struct creds_value *value, const char *error, void *data)
{
	struct creds *c = data;
	c->fetch = NULL;
	if (c->closing || c->gave_up)
		return;
	char *why = NULL;
	if (value && c->refused && value->access_key_id && c->value.access_key_id &&
	    strcmp(value->access_key_id, c->value.access_key_id) == 0 &&
	    (value->session_token && c->value.session_token
		     ? strcmp(value->session_token, c->value.session_token) == 0
		     : value->session_token == c->value.session_token))
		why = xasprintf("%s gave the same credentials the service just refused as "
				"expired", c->src->describe);
	else if (!value)
		why = xstrdup(error);
	if (!why) {
		time_t now = time(NULL);
		creds_value_move(&c->value, value);
		c->generation++;
		c->refused = false;
		c->failures = 0;
		c->renewals++;
		creds_schedule(c, now);
		if (c->ev.ready)
			c->ev.ready(c->ev.data);
		return;
	}
	c->failures++;
	if (c->failures >= CREDS_MAX_FAILURES && !creds_usable(c)) {
		char *msg = xasprintf("renewing the credentials failed %d times in a row: %s",
				      c->failures, why);
		creds_give_up(c, msg);
		free(msg);
		free(why);
		return;
	}
	double delay = creds_retry_delay_ms(c->failures);
	char *msg = xasprintf("renewing the credentials failed (%s); trying again in %.0f s%s",
			      why, delay / 1000.0,
			      creds_usable(c) ? "" : "; requests wait for new credentials");
	if (c->ev.notice)
		c->ev.notice(msg, c->ev.data);
	free(msg);
	free(why);
	uv_timer_start(&c->timer, creds_timer_cb, (uint64_t)delay, 0);
}

static void creds_renew(struct creds *c)
{
	if (c->fetch || c->closing || c->gave_up)
		return;
	uv_timer_stop(&c->timer);
	struct nb_err err;
	if (!c->pool) {
		creds_fetched_cb(NULL, "curl's multi interface could not be started", c);
		return;
	}
	if (creds_fetch_start(c->loop, c->pool, c->src, creds_fetched_cb, c, &c->fetch, &err) < 0) {
		c->fetch = NULL;
		creds_fetched_cb(NULL, err.msg, c);
	}
}

void creds_expired(struct creds *c, unsigned generation)
{
	if (generation != c->generation || c->refused || c->gave_up)
		return;
	c->refused = true;
	if (c->src->kind == CREDS_STATIC || c->src->kind == CREDS_BEARER) {
		char *why = xasprintf("the service says the credentials from %s have expired, "
				      "and that source cannot give new ones",
				      c->src->describe);
		creds_give_up(c, why);
		free(why);
		return;
	}
	creds_renew(c);
}

struct creds *creds_new(uv_loop_t *loop, const struct creds_source *src,
			struct creds_value *initial, const struct pool_config *http,
			const struct creds_events *ev)
{
	struct creds *c = xcalloc(1, sizeof *c);
	c->loop = loop;
	c->src = src;
	c->ev = *ev;
	creds_value_move(&c->value, initial);
	uv_timer_init(loop, &c->timer);
	c->timer.data = c;
	struct nb_err err;
	/* Without a pool (curl could not start) renewals fail with the reason. */
	if (pool_new(loop, http, &c->pool, &err) < 0)
		c->pool = NULL;
	creds_schedule(c, time(NULL));
	return c;
}

static void creds_closed_cb(uv_handle_t *h)
{
	struct creds *c = h->data;
	creds_value_cleanup(&c->value);
	free(c);
}

void creds_close(struct creds *c)
{
	if (!c)
		return;
	c->closing = true;
	if (c->fetch)
		creds_fetch_cancel(c->fetch);
	c->fetch = NULL;
	if (c->pool) {
		pool_abort_all(c->pool);
		pool_close(c->pool);
	}
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->timer, creds_closed_cb);
}

static const char *creds_env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

const char *creds_region(const char *given, const struct creds_source *src,
			 char from[CREDS_REGION_FROM_LEN])
{
	const char *region;
	if (given) {
		snprintf(from, CREDS_REGION_FROM_LEN, "--region");
		return given;
	}
	if ((region = creds_env("AWS_REGION"))) {
		snprintf(from, CREDS_REGION_FROM_LEN, "AWS_REGION");
		return region;
	}
	if ((region = creds_env("AWS_DEFAULT_REGION"))) {
		snprintf(from, CREDS_REGION_FROM_LEN, "AWS_DEFAULT_REGION");
		return region;
	}
	if (src->profile_region) {
		snprintf(from, CREDS_REGION_FROM_LEN, "profile '%s', %s", src->profile,
			 src->profile_region_where);
		return src->profile_region;
	}
	snprintf(from, CREDS_REGION_FROM_LEN,
		 "the default: no --region, AWS_REGION, AWS_DEFAULT_REGION or profile region");
	return "us-east-1";
}
