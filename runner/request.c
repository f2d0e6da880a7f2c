#include "request.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "uri.h"
#include "xalloc.h"

#define REQUEST_SERVICE "bedrock"

int request_endpoint_init(struct request_endpoint *ep, const char *url, const char *region,
			  struct nb_err *err)
{
	memset(ep, 0, sizeof *ep);
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL;
	int ret = -1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
		err_set(err, "endpoint URL '%s' is not a valid URL", url);
		goto out;
	}
	curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	curl_url_get(u, CURLUPART_HOST, &host, 0);
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	curl_url_get(u, CURLUPART_PATH, &path, 0);
	curl_url_get(u, CURLUPART_QUERY, &query, 0);
	if (!scheme || (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
		err_set(err, "endpoint URL '%s' must start with http:// or https://", url);
		goto out;
	}
	if (!host || !*host) {
		err_set(err, "endpoint URL '%s' has no host", url);
		goto out;
	}
	if (query) {
		err_set(err, "endpoint URL '%s' must not have a query", url);
		goto out;
	}
	/* curl leaves a default port out of the Host header; so must the signer. */
	bool default_port = port && ((strcmp(scheme, "https") == 0 && strcmp(port, "443") == 0) ||
				     (strcmp(scheme, "http") == 0 && strcmp(port, "80") == 0));
	ep->host = port && !default_port ? xasprintf("%s:%s", host, port) : xstrdup(host);
	ep->base_url = xasprintf("%s://%s", scheme, ep->host);
	size_t plen = path ? strlen(path) : 0;
	while (plen && path[plen - 1] == '/')
		plen--;
	ep->path_prefix = xstrndup(path ? path : "", plen);
	ep->region = xstrdup(region);
	ret = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	curl_url_cleanup(u);
	return ret;
}

void request_endpoint_cleanup(struct request_endpoint *ep)
{
	free(ep->base_url);
	free(ep->host);
	free(ep->path_prefix);
	free(ep->region);
	memset(ep, 0, sizeof *ep);
}

static void request_add_job_header(struct request *req, size_t n, const char *job_id)
{
	struct buf id;
	buf_init(&id, 0);
	buf_append_str(&id, "X-Novabatch-Job: ");
	uri_encode(&id, job_id, false);
	req->headers[n++] = buf_steal(&id);
	req->headers[n] = NULL;
}

/* A Bedrock API key: no signature, no date, the key as a bearer token. */
static int request_build_bearer(struct request *req, const struct request_endpoint *ep,
				const struct request_job *job, const char *token)
{
	char *model_path = uri_model_path(job->model_id, job->stream ? "converse-stream" : "converse");
	req->url = xasprintf("%s%s%s", ep->base_url, ep->path_prefix, model_path);
	free(model_path);
	size_t n = 0;
	req->headers[n++] = xstrdup("Content-Type: application/json");
	req->headers[n++] = xstrdup(job->stream ? "Accept: application/vnd.amazon.eventstream"
					       : "Accept: application/json");
	req->headers[n++] = xasprintf("Authorization: Bearer %s", token);
	req->headers[n++] = xstrdup("Expect:");
	request_add_job_header(req, n, job->id);
	return 0;
}

int request_build(struct request *req, const struct request_endpoint *ep,
		  const struct request_job *job, const struct request_auth *auth,
		  time_t now, struct nb_err *err)
{
	memset(req, 0, sizeof *req);
	if (auth->bearer_token)
		return request_build_bearer(req, ep, job, auth->bearer_token);
	const struct sigv4_credentials *creds = &auth->sigv4;
	char *model_path = uri_model_path(job->model_id, job->stream ? "converse-stream" : "converse");
	char *path = xasprintf("%s%s", ep->path_prefix, model_path);
	free(model_path);
	char amz_date[17];
	sigv4_amz_date(now, amz_date);

	struct sigv4_header signed_headers[4] = {
		{"Content-Type", "application/json"},
		{"Host", ep->host},
		{"X-Amz-Date", amz_date},
	};
	size_t nsigned = 3;
	if (creds->session_token && *creds->session_token)
		signed_headers[nsigned++] =
			(struct sigv4_header){"X-Amz-Security-Token", creds->session_token};

	struct sigv4_request sreq = {
		.method = "POST",
		.path = path,
		.headers = signed_headers,
		.nheaders = nsigned,
		.body = job->body,
		.body_len = job->body_len,
	};
	struct sigv4_params params = {
		.region = ep->region,
		.service = REQUEST_SERVICE,
		.when = now,
		.double_encode = true,
		.normalize = true,
	};
	struct sigv4_result sig;
	if (sigv4_sign(&sreq, creds, &params, &sig, err) < 0) {
		free(path);
		return -1;
	}
	req->url = xasprintf("%s%s", ep->base_url, path);
	size_t n = 0;
	req->headers[n++] = xstrdup("Content-Type: application/json");
	req->headers[n++] = xstrdup(job->stream ? "Accept: application/vnd.amazon.eventstream"
					       : "Accept: application/json");
	req->headers[n++] = xasprintf("X-Amz-Date: %s", amz_date);
	if (nsigned == 4)
		req->headers[n++] = xasprintf("X-Amz-Security-Token: %s", creds->session_token);
	req->headers[n++] = xasprintf("Authorization: %s", sig.authorization);
	/* curl would otherwise ask for 100-continue on large bodies. */
	req->headers[n++] = xstrdup("Expect:");
	request_add_job_header(req, n, job->id);
	sigv4_result_cleanup(&sig);
	free(path);
	return 0;
}

void request_cleanup(struct request *req)
{
	free(req->url);
	/* The Authorization and token headers carry secrets: wiped. */
	for (size_t i = 0; req->headers[i]; i++) {
		memset(req->headers[i], 0, strlen(req->headers[i]));
		free(req->headers[i]);
	}
	memset(req, 0, sizeof *req);
}
