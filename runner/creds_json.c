#include "creds_json.h"

#include <ctype.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "xalloc.h"

int creds_json_time(const char *text, time_t *out)
{
	struct tm tm = {0};
	int n = 0;
	if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || n != 19)
		return -1;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	const char *p = text + n;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	long offset = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int hh, mm, m = 0;
		if (sscanf(p + 1, "%2d:%2d%n", &hh, &mm, &m) != 2 || m != 5 || hh > 23 || mm > 59)
			return -1;
		offset = (hh * 3600L + mm * 60L) * (*p == '+' ? 1 : -1);
		p += 6;
	} else {
		return -1;
	}
	if (*p)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = t - offset;
	return 0;
}

/* A string member: required ones must be there and non-empty. */
static int creds_json_string(json_t *doc, const char *name, bool required, const char *what,
			     const char **out, struct nb_err *err)
{
	json_t *v = json_object_get(doc, name);
	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return err_set(err, "%s: field '%s' is missing", what, name);
		return 0;
	}
	if (!json_is_string(v))
		return err_set(err, "%s: field '%s' must be a string", what, name);
	if (json_string_length(v) == 0) {
		if (required)
			return err_set(err, "%s: field '%s' is empty", what, name);
		return 0;
	}
	if (strlen(json_string_value(v)) != json_string_length(v))
		return err_set(err, "%s: field '%s' holds a NUL character", what, name);
	*out = json_string_value(v);
	return 0;
}

int creds_json_parse(const char *text, size_t len, enum creds_json_kind kind, const char *what,
		     struct creds_value *out, struct nb_err *err)
{
	if (len > CREDS_JSON_MAX)
		return err_set(err, "%s: the answer is larger than %d bytes", what, CREDS_JSON_MAX);
	json_error_t jerr;
	json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	int ret = -1;
	if (!doc) {
		/* jansson's text may quote the input, which may hold a secret:
		 * only the position is given. */
		err_set(err, "%s: not JSON (line %d, column %d)", what, jerr.line, jerr.column);
		goto out;
	}
	if (!json_is_object(doc)) {
		err_set(err, "%s: expected a JSON object", what);
		goto out;
	}
	if (kind == CREDS_JSON_PROCESS) {
		json_t *version = json_object_get(doc, "Version");
		if (!version) {
			err_set(err, "%s: field 'Version' is missing (it must be 1)", what);
			goto out;
		}
		if (!json_is_integer(version) || json_integer_value(version) != 1) {
			err_set(err, "%s: field 'Version' must be 1, the only version known", what);
			goto out;
		}
	} else {
		const char *code;
		if (creds_json_string(doc, "Code", false, what, &code, err) < 0)
			goto out;
		if (code && strcmp(code, "Success") != 0) {
			const char *message = json_string_value(json_object_get(doc, "Message"));
			err_set(err, "%s: field 'Code' is '%.64s'%s%.200s", what, code,
				message ? ": " : "", message ? message : "");
			goto out;
		}
	}
	const char *key, *secret, *token, *expiration;
	if (creds_json_string(doc, "AccessKeyId", true, what, &key, err) < 0 ||
	    creds_json_string(doc, "SecretAccessKey", true, what, &secret, err) < 0 ||
	    creds_json_string(doc, kind == CREDS_JSON_PROCESS ? "SessionToken" : "Token", false,
			      what, &token, err) < 0 ||
	    creds_json_string(doc, "Expiration", false, what, &expiration, err) < 0)
		goto out;
	time_t when = 0;
	if (expiration && creds_json_time(expiration, &when) < 0) {
		err_set(err, "%s: field 'Expiration' is '%.64s', not an ISO 8601 time such as "
			"2024-05-01T12:00:00Z", what, expiration);
		goto out;
	}
	*out = (struct creds_value){
		.access_key_id = xstrdup(key),
		.secret_access_key = xstrdup(secret),
		.session_token = token ? xstrdup(token) : NULL,
		.expiration = when,
	};
	ret = 0;
out:
	if (doc) {
		/* The document held the secrets: wipe them before jansson frees it. */
		const char *names[] = {"SecretAccessKey", "SessionToken", "Token"};
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
			json_t *v = json_object_get(doc, names[i]);
			if (json_is_string(v))
				memset((char *)json_string_value(v), 0, json_string_length(v));
		}
		json_decref(doc);
	}
	return ret;
}
