#include "creds_chain.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "creds_profile.h"
#include "xalloc.h"

static const char *creds_env(const struct creds_inputs *in, const char *name)
{
	const char *v = in->getenv(name, in->env_data);
	return v && *v ? v : NULL;
}

const char *creds_kind_name(enum creds_kind k)
{
	switch (k) {
	case CREDS_STATIC:
		return "keys";
	case CREDS_BEARER:
		return "bearer token";
	case CREDS_PROCESS:
		return "credential_process";
	case CREDS_CONTAINER:
		return "container credentials";
	case CREDS_IMDS:
		return "EC2 instance metadata";
	}
	return "unknown";
}

bool creds_container_host_ok(const char *host)
{
	static const char *const allowed[] = {
		"localhost", "[::1]", "::1", "169.254.170.2", "169.254.170.23", "[fd00:ec2::23]",
		"fd00:ec2::23",
	};
	if (strncmp(host, "127.", 4) == 0)
		return true;
	for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
		if (strcasecmp(host, allowed[i]) == 0)
			return true;
	return false;
}

/* The two files' view of one profile. */
struct creds_profiles {
	struct creds_profile cred, conf;
};

/* Keys of one file's profile: both or neither. Returns 1 when it gives
 * them, 0 when not, -1 with err set. */
static int creds_from_keys(const struct creds_profile *p, const char *path, const char *name,
			   struct creds_source *out, struct nb_err *err)
{
	if (!p->access_key_id.value && !p->secret_access_key.value)
		return 0;
	if (!p->secret_access_key.value)
		return err_set(err, "%s:%ld: profile '%s' sets aws_access_key_id but not "
				    "aws_secret_access_key", path, p->access_key_id.line, name);
	if (!p->access_key_id.value)
		return err_set(err, "%s:%ld: profile '%s' sets aws_secret_access_key but not "
				    "aws_access_key_id", path, p->secret_access_key.line, name);
	out->kind = CREDS_STATIC;
	out->value.access_key_id = xstrdup(p->access_key_id.value);
	out->value.secret_access_key = xstrdup(p->secret_access_key.value);
	if (p->session_token.value)
		out->value.session_token = xstrdup(p->session_token.value);
	out->describe = xasprintf("profile '%s' in %s", name, path);
	return 1;
}

/* Container credentials from the environment. Returns 1, 0 or -1. */
static int creds_from_container(const struct creds_inputs *in, struct creds_source *out,
				struct nb_err *err)
{
	const char *rel = creds_env(in, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = creds_env(in, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
	if (rel) {
		if (rel[0] != '/')
			return err_set(err, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with '/'");
		out->url = xasprintf("%s%s", CREDS_CONTAINER_HOST, rel);
	} else if (full) {
		CURLU *u = curl_url();
		char *scheme = NULL, *host = NULL;
		int rc = 0;
		if (curl_url_set(u, CURLUPART_URL, full, 0) != CURLUE_OK ||
		    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
		    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
			rc = err_set(err, "AWS_CONTAINER_CREDENTIALS_FULL_URI '%s' is not a URL", full);
		else if (strcmp(scheme, "https") != 0 &&
			 !(strcmp(scheme, "http") == 0 && creds_container_host_ok(host)))
			rc = err_set(err, "AWS_CONTAINER_CREDENTIALS_FULL_URI '%s': plain http is "
					  "only allowed to a loopback address or the ECS/EKS "
					  "address; use https", full);
		curl_free(scheme);
		curl_free(host);
		curl_url_cleanup(u);
		if (rc < 0)
			return -1;
		out->url = xstrdup(full);
	} else {
		return 0;
	}
	out->kind = CREDS_CONTAINER;
	const char *file = creds_env(in, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *token = creds_env(in, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
	if (file)
		out->auth_token_file = xstrdup(file);
	else if (token)
		out->auth_token = xstrdup(token);
	out->describe = xasprintf("container credentials from %s", out->url);
	return 1;
}

static int creds_from_files(const struct creds_inputs *in, const struct creds_profiles *ps,
			    const char *name, struct creds_source *out, struct nb_err *err)
{
	const struct creds_profile *cred = &ps->cred, *conf = &ps->conf;
	const char *cpath = in->credentials_path, *fpath = in->config_path;
	const struct creds_profile *unsup = cred->unsupported.value ? cred
					    : conf->unsupported.value ? conf
								       : NULL;
	if (unsup)
		return err_set(err, "%s:%ld: profile '%s' uses %s, which novabatch does not "
				    "support; give the profile keys or a credential_process (for "
				    "example `aws configure export-credentials --profile %s "
				    "--format process`)",
			       unsup == cred ? cpath : fpath, unsup->unsupported.line, name,
			       unsup->unsupported.value, name);
	int rc = creds_from_keys(cred, cpath, name, out, err);
	if (rc != 0)
		return rc;
	const struct creds_profile *proc = cred->credential_process.value ? cred
					   : conf->credential_process.value ? conf
									     : NULL;
	if (proc) {
		out->kind = CREDS_PROCESS;
		out->command = xstrdup(proc->credential_process.value);
		out->describe = xasprintf("credential_process of profile '%s' (%s:%ld)", name,
					  proc == cred ? cpath : fpath,
					  proc->credential_process.line);
		return 1;
	}
	return creds_from_keys(conf, fpath, name, out, err);
}

static int creds_read_profiles(const struct creds_inputs *in, const char *name,
			       struct creds_profiles *ps, struct nb_err *err)
{
	memset(ps, 0, sizeof *ps);
	if (in->credentials_text &&
	    creds_profile_read(in->credentials_text, in->credentials_path, false, name, &ps->cred,
			       err) < 0)
		return -1;
	if (in->config_text &&
	    creds_profile_read(in->config_text, in->config_path, true, name, &ps->conf, err) < 0)
		return -1;
	return 0;
}

int creds_resolve(const struct creds_inputs *in, struct creds_source *out, struct nb_err *err)
{
	memset(out, 0, sizeof *out);
	const char *env_profile = creds_env(in, "AWS_PROFILE");
	const char *name = in->profile_option ? in->profile_option
			   : env_profile	  ? env_profile
						  : "default";
	bool named = in->profile_option || env_profile;
	out->profile = xstrdup(name);
	struct creds_profiles ps;
	int rc = creds_read_profiles(in, name, &ps, err);
	if (rc < 0)
		goto out;
	rc = -1;
	if (named && !ps.cred.found && !ps.conf.found) {
		err_set(err, "profile '%s' (from %s) is in neither %s nor %s",
			name, in->profile_option ? "--profile" : "AWS_PROFILE",
			in->credentials_path, in->config_path);
		goto out;
	}
	const struct creds_profile *rp = ps.conf.region.value ? &ps.conf
					 : ps.cred.region.value ? &ps.cred
								: NULL;
	if (rp) {
		out->profile_region = xstrdup(rp->region.value);
		out->profile_region_where = xasprintf("%s:%ld", rp == &ps.conf ? in->config_path
									      : in->credentials_path,
						      rp->region.line);
	}

	if (!in->profile_option) {
		const char *key = creds_env(in, "AWS_ACCESS_KEY_ID");
		const char *secret = creds_env(in, "AWS_SECRET_ACCESS_KEY");
		if (key && !secret) {
			err_set(err, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set "
				     "both, or neither");
			goto out;
		}
		if (secret && !key) {
			err_set(err, "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not: set "
				     "both, or neither");
			goto out;
		}
		if (key) {
			const char *token = creds_env(in, "AWS_SESSION_TOKEN");
			out->kind = CREDS_STATIC;
			out->value.access_key_id = xstrdup(key);
			out->value.secret_access_key = xstrdup(secret);
			out->value.session_token = token ? xstrdup(token) : NULL;
			out->describe = xstrdup("environment (AWS_ACCESS_KEY_ID)");
			rc = 0;
			goto out;
		}
		const char *bearer = creds_env(in, "AWS_BEARER_TOKEN_BEDROCK");
		if (bearer) {
			out->kind = CREDS_BEARER;
			out->value.bearer_token = xstrdup(bearer);
			out->describe = xstrdup("environment (AWS_BEARER_TOKEN_BEDROCK)");
			rc = 0;
			goto out;
		}
	}
	int found = creds_from_files(in, &ps, name, out, err);
	if (found == 0 && in->profile_option)
		err_set(err, "profile '%s' has no credentials: neither keys nor a "
			     "credential_process in %s or %s",
			name, in->credentials_path, in->config_path);
	if (found != 0 || in->profile_option) {
		rc = found > 0 ? 0 : -1;
		goto out;
	}
	found = creds_from_container(in, out, err);
	if (found != 0) {
		rc = found > 0 ? 0 : -1;
		goto out;
	}
	const char *disabled = creds_env(in, "AWS_EC2_METADATA_DISABLED");
	if (disabled && strcasecmp(disabled, "true") == 0) {
		err_set(err, "no credentials found: set AWS_ACCESS_KEY_ID and "
			     "AWS_SECRET_ACCESS_KEY, AWS_BEARER_TOKEN_BEDROCK, or give profile "
			     "'%s' keys or a credential_process in %s or %s (instance metadata "
			     "is off: AWS_EC2_METADATA_DISABLED)",
			name, in->credentials_path, in->config_path);
		goto out;
	}
	const char *endpoint = creds_env(in, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
	size_t elen = strlen(endpoint ? endpoint : CREDS_IMDS_ENDPOINT);
	while (endpoint && elen && endpoint[elen - 1] == '/')
		elen--;
	out->kind = CREDS_IMDS;
	out->url = xstrndup(endpoint ? endpoint : CREDS_IMDS_ENDPOINT, elen);
	out->describe = xasprintf("EC2 instance metadata at %s", out->url);
	rc = 0;
out:
	creds_profile_cleanup(&ps.cred);
	creds_profile_cleanup(&ps.conf);
	if (rc < 0)
		creds_source_cleanup(out);
	return rc;
}

void creds_source_cleanup(struct creds_source *s)
{
	free(s->describe);
	free(s->profile);
	free(s->profile_region);
	free(s->profile_region_where);
	creds_value_cleanup(&s->value);
	free(s->command);
	free(s->url);
	if (s->auth_token) {
		memset(s->auth_token, 0, strlen(s->auth_token));
		free(s->auth_token);
	}
	free(s->auth_token_file);
	memset(s, 0, sizeof *s);
}
