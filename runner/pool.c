#include "pool.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "clock.h"
#include "xalloc.h"

/* How often exchanges with an idle timeout are checked. */
#define POOL_IDLE_SWEEP_MS 100

/* Caps on what one answer may bring. */
#define POOL_MAX_BODY (64u * 1024 * 1024)
#define POOL_MAX_HEADERS (64u * 1024)

/* One socket curl asked us to watch. */
struct pool_sock {
	uv_poll_t poll;
	curl_socket_t fd;
	struct pool *pool;
	struct pool_sock *prev, *next;
};

/* One request, or an idle easy handle kept for reuse. */
struct pool_xfer {
	CURL *easy;
	struct pool *pool;
	struct curl_slist *headers;
	struct buf body;
	struct buf head;
	char error[CURL_ERROR_SIZE];
	uint64_t start_ns;
	uint64_t last_byte_ns; /* when the last byte of the answer came */
	uint64_t idle_ns;      /* 0: no idle timeout */
	bool idle_expired;
	pool_done_cb cb;
	pool_chunk_cb on_chunk;
	void *data;
	int streaming;       /* -1 until the status is known; 1: body to on_chunk */
	bool reader_stopped; /* on_chunk refused the stream */
	struct pool_xfer *next_idle;            /* in the idle list */
	struct pool_xfer *prev_busy, *next_busy; /* in the in-flight list */
};

struct pool {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t timer;
	uv_timer_t idle_timer; /* sweeps for exchanges gone quiet */
	struct pool_config cfg;
	struct pool_sock *socks;
	struct pool_xfer *idle;
	struct pool_xfer *busy; /* in flight */
	size_t in_flight;
	int handles_open; /* libuv handles not yet closed; the pool lives while > 0 */
	bool draining;    /* inside pool_drain, where callbacks run */
	bool close_asked; /* pool_close was called from a callback */
};

static void pool_close_now(struct pool *p);
static void pool_idle_sweep_cb(uv_timer_t *h);

static void pool_release(struct pool *p)
{
	if (--p->handles_open == 0)
		free(p);
}

static void pool_sock_closed_cb(uv_handle_t *h)
{
	struct pool_sock *s = h->data;
	struct pool *p = s->pool;
	free(s);
	pool_release(p);
}

static void pool_timer_closed_cb(uv_handle_t *h)
{
	pool_release(h->data);
}

static void pool_sock_close(struct pool_sock *s)
{
	struct pool *p = s->pool;
	if (s->prev)
		s->prev->next = s->next;
	else
		p->socks = s->next;
	if (s->next)
		s->next->prev = s->prev;
	uv_poll_stop(&s->poll);
	uv_close((uv_handle_t *)&s->poll, pool_sock_closed_cb);
}

static enum pool_transport pool_transport_of(CURLcode code)
{
	switch (code) {
	case CURLE_OK:
		return POOL_ANSWERED;
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		return POOL_CONNECT_FAILED;
	case CURLE_OPERATION_TIMEDOUT:
		return POOL_TIMED_OUT;
	case CURLE_PARTIAL_FILE:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return POOL_CUT_SHORT;
	case CURLE_FILESIZE_EXCEEDED:
		return POOL_TOO_LARGE;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
		return POOL_TLS;
	case CURLE_ABORTED_BY_CALLBACK: /* pool_abort_all */
		return POOL_ABORTED;
	case CURLE_WRITE_ERROR: /* a write callback refused: see pool_finish */
		return POOL_TOO_LARGE;
	default:
		return POOL_OTHER;
	}
}

static void pool_finish(struct pool *p, struct pool_xfer *x, CURLcode code)
{
	if (x->idle_expired)
		snprintf(x->error, sizeof x->error, "no byte came for %.0f s (the idle timeout)",
			 (double)x->idle_ns / 1e9);
	struct pool_result res = {
		.transport = x->reader_stopped ? POOL_READER_STOPPED : pool_transport_of(code),
		.transport_code = (int)code,
		.transport_error = code == CURLE_OK ? NULL : (x->error[0] ? x->error : curl_easy_strerror(code)),
		.body = buf_str(&x->body),
		.body_len = x->body.len,
		.start_ns = x->start_ns,
		.end_ns = clock_mono_ns(),
		.headers = buf_str(&x->head),
	};
	if (code == CURLE_OK)
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &res.http_status);
	curl_multi_remove_handle(p->multi, x->easy);
	if (x->prev_busy)
		x->prev_busy->next_busy = x->next_busy;
	else
		p->busy = x->next_busy;
	if (x->next_busy)
		x->next_busy->prev_busy = x->prev_busy;
	p->in_flight--;
	pool_done_cb cb = x->cb;
	void *data = x->data;
	cb(&res, data);
	/* Keep the handle, and the memory of its buffers, for the next request. */
	curl_slist_free_all(x->headers);
	x->headers = NULL;
	buf_reset(&x->body);
	buf_reset(&x->head);
	x->next_idle = p->idle;
	p->idle = x;
}

/* Hands finished transfers to their callbacks. */
static void pool_drain(struct pool *p)
{
	CURLMsg *msg;
	int left;
	p->draining = true;
	while (!p->close_asked && (msg = curl_multi_info_read(p->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct pool_xfer *x;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		pool_finish(p, x, msg->data.result);
	}
	p->draining = false;
	if (p->close_asked)
		pool_close_now(p);
}

static void pool_poll_cb(uv_poll_t *h, int status, int events)
{
	struct pool_sock *s = h->data;
	struct pool *p = s->pool;
	int flags = 0;
	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	int running;
	curl_multi_socket_action(p->multi, s->fd, flags, &running);
	pool_drain(p);
}

static void pool_timer_cb(uv_timer_t *h)
{
	struct pool *p = h->data;
	int running;
	curl_multi_socket_action(p->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	pool_drain(p);
}

/* CURLMOPT_TIMERFUNCTION: curl wants to be called after timeout_ms. */
static int pool_timer_fn(CURLM *multi, long timeout_ms, void *userp)
{
	(void)multi;
	struct pool *p = userp;
	if (timeout_ms < 0)
		uv_timer_stop(&p->timer);
	else
		uv_timer_start(&p->timer, pool_timer_cb, (uint64_t)timeout_ms, 0);
	return 0;
}

/* CURLMOPT_SOCKETFUNCTION: curl says which events a socket waits for. */
static int pool_socket_fn(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	(void)easy;
	struct pool *p = userp;
	struct pool_sock *s = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			curl_multi_assign(p->multi, fd, NULL);
			pool_sock_close(s);
		}
		return 0;
	}
	if (!s) {
		s = xcalloc(1, sizeof *s);
		s->fd = fd;
		s->pool = p;
		if (uv_poll_init_socket(p->loop, &s->poll, fd) != 0) {
			free(s);
			return -1;
		}
		s->poll.data = s;
		p->handles_open++;
		s->next = p->socks;
		if (s->next)
			s->next->prev = s;
		p->socks = s;
		curl_multi_assign(p->multi, fd, s);
	}
	int events = 0;
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		events |= UV_READABLE;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		events |= UV_WRITABLE;
	uv_poll_start(&s->poll, events, pool_poll_cb);
	return 0;
}

static size_t pool_body_fn(char *ptr, size_t size, size_t nmemb, void *userp)
{
	struct pool_xfer *x = userp;
	size_t n = size * nmemb;
	x->last_byte_ns = clock_mono_ns();
	if (x->streaming < 0) {
		long status = 0;
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
		x->streaming = x->on_chunk && status == 200;
	}
	if (x->streaming) {
		if (x->on_chunk(ptr, n, clock_mono_ns(), x->data) == 0)
			return n;
		x->reader_stopped = true;
		return 0;
	}
	/* Returning less than n makes curl fail the transfer: the cap holds. */
	return buf_append(&x->body, ptr, n) == 0 ? n : 0;
}

static size_t pool_header_fn(char *ptr, size_t size, size_t nmemb, void *userp)
{
	struct pool_xfer *x = userp;
	size_t n = size * nmemb;
	x->last_byte_ns = clock_mono_ns();
	/* A status line starts a new response (after a 100 Continue, say). */
	if (n > 5 && strncmp(ptr, "HTTP/", 5) == 0)
		buf_reset(&x->head);
	return buf_append(&x->head, ptr, n) == 0 ? n : 0;
}

const char *pool_result_header(const struct pool_result *res, const char *name, char *out,
			       size_t size)
{
	size_t nlen = strlen(name);
	for (const char *line = res->headers; *line;) {
		const char *end = strchr(line, '\n');
		size_t llen = end ? (size_t)(end - line) : strlen(line);
		if (llen > nlen && line[nlen] == ':' && strncasecmp(line, name, nlen) == 0) {
			const char *v = line + nlen + 1;
			const char *vend = line + llen;
			while (v < vend && (*v == ' ' || *v == '\t'))
				v++;
			while (vend > v && (vend[-1] == '\r' || vend[-1] == ' '))
				vend--;
			size_t vlen = (size_t)(vend - v);
			if (vlen >= size)
				vlen = size - 1;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return out;
		}
		if (!end)
			break;
		line = end + 1;
	}
	return NULL;
}

int pool_new(uv_loop_t *loop, const struct pool_config *cfg, struct pool **out,
	     struct nb_err *err)
{
	struct pool *p = xcalloc(1, sizeof *p);
	p->loop = loop;
	p->cfg = *cfg;
	p->multi = curl_multi_init();
	if (!p->multi) {
		free(p);
		return err_set(err, "cannot start curl's multi interface");
	}
	uv_timer_init(loop, &p->timer);
	p->timer.data = p;
	uv_timer_init(loop, &p->idle_timer);
	p->idle_timer.data = p;
	/* The sweep alone does not keep the loop running. */
	uv_unref((uv_handle_t *)&p->idle_timer);
	p->handles_open = 2;
	curl_multi_setopt(p->multi, CURLMOPT_SOCKETFUNCTION, pool_socket_fn);
	curl_multi_setopt(p->multi, CURLMOPT_SOCKETDATA, p);
	curl_multi_setopt(p->multi, CURLMOPT_TIMERFUNCTION, pool_timer_fn);
	curl_multi_setopt(p->multi, CURLMOPT_TIMERDATA, p);
	curl_multi_setopt(p->multi, CURLMOPT_MAXCONNECTS, (long)cfg->max_connections);
	*out = p;
	return 0;
}

static struct pool_xfer *pool_take_xfer(struct pool *p)
{
	struct pool_xfer *x = p->idle;
	if (x) {
		p->idle = x->next_idle;
		curl_easy_reset(x->easy);
		return x;
	}
	x = xcalloc(1, sizeof *x);
	x->easy = curl_easy_init();
	if (!x->easy) {
		free(x);
		return NULL;
	}
	x->pool = p;
	buf_init(&x->body, POOL_MAX_BODY);
	buf_init(&x->head, POOL_MAX_HEADERS);
	return x;
}

static void pool_free_xfer(struct pool_xfer *x)
{
	curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->headers);
	buf_cleanup(&x->body);
	buf_cleanup(&x->head);
	free(x);
}

int pool_post(struct pool *p, const struct pool_request *req, struct nb_err *err)
{
	struct pool_xfer *x = pool_take_xfer(p);
	if (!x)
		return err_set(err, "cannot create a curl handle");
	for (size_t i = 0; req->headers[i]; i++)
		x->headers = curl_slist_append(x->headers, req->headers[i]);
	x->error[0] = '\0';
	x->cb = req->done;
	x->on_chunk = req->on_chunk;
	x->data = req->data;
	x->streaming = -1;
	x->reader_stopped = false;
	CURL *e = x->easy;
	const char *url = req->url;
	curl_easy_setopt(e, CURLOPT_URL, url);
	if (req->method && strcmp(req->method, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		if (req->method && strcmp(req->method, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, pool_body_fn);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, pool_header_fn);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->error);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	/* Over TLS, HTTP/2 can carry many requests on one connection: wait for
	 * it rather than racing new ones. Plain HTTP/1.1 has nothing to wait
	 * for, and waiting would queue the first burst behind one request. */
	if (strncmp(url, "https:", 6) == 0)
		curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	/* Redirects are never followed: a signed request goes where it was signed for. */
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	/* Certificates are always checked unless the user asked otherwise
	 * (--insecure, with a warning from the command). curl reads
	 * HTTPS_PROXY, https_proxy, http_proxy and NO_PROXY by itself. */
	if (p->cfg.ca_bundle)
		curl_easy_setopt(e, CURLOPT_CAINFO, p->cfg.ca_bundle);
	if (p->cfg.insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (p->cfg.no_proxy)
		curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	if (p->cfg.connect_timeout_ms > 0)
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, p->cfg.connect_timeout_ms);
	if (p->cfg.timeout_ms > 0)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, p->cfg.timeout_ms);
	x->start_ns = x->last_byte_ns = clock_mono_ns();
	x->idle_ns = req->idle_timeout_ms > 0 ? (uint64_t)req->idle_timeout_ms * 1000000u : 0;
	x->idle_expired = false;
	if (x->idle_ns && !uv_is_active((uv_handle_t *)&p->idle_timer))
		uv_timer_start(&p->idle_timer, pool_idle_sweep_cb, POOL_IDLE_SWEEP_MS,
			       POOL_IDLE_SWEEP_MS);
	CURLMcode mc = curl_multi_add_handle(p->multi, e);
	if (mc != CURLM_OK) {
		pool_free_xfer(x);
		return err_set(err, "cannot start a request: %s", curl_multi_strerror(mc));
	}
	x->prev_busy = NULL;
	x->next_busy = p->busy;
	if (p->busy)
		p->busy->prev_busy = x;
	p->busy = x;
	p->in_flight++;
	return 0;
}

static void pool_idle_sweep_cb(uv_timer_t *h)
{
	struct pool *p = h->data;
	uint64_t now = clock_mono_ns();
	bool watched = false;
	bool was_draining = p->draining;
	p->draining = true;
	/* A finished exchange leaves the list, and its callback may add
	 * others: after each, look again from the start. */
	for (struct pool_xfer *x = p->busy; x && !p->close_asked;) {
		if (x->idle_ns && now - x->last_byte_ns >= x->idle_ns) {
			x->idle_expired = true;
			pool_finish(p, x, CURLE_OPERATION_TIMEDOUT);
			x = p->busy;
			continue;
		}
		watched |= x->idle_ns > 0;
		x = x->next_busy;
	}
	p->draining = was_draining;
	if (p->close_asked) {
		if (!was_draining)
			pool_close_now(p);
		return;
	}
	if (!watched)
		uv_timer_stop(&p->idle_timer);
}

void pool_abort_all(struct pool *p)
{
	/* The callbacks may ask to close the pool: that waits for the loop. */
	bool was_draining = p->draining;
	p->draining = true;
	while (p->busy) {
		snprintf(p->busy->error, sizeof p->busy->error, "aborted before an answer came");
		pool_finish(p, p->busy, CURLE_ABORTED_BY_CALLBACK);
	}
	p->draining = was_draining;
	if (!was_draining && p->close_asked)
		pool_close_now(p);
}

size_t pool_in_flight(const struct pool *p)
{
	return p->in_flight;
}

void pool_close(struct pool *p)
{
	/* A callback may close the pool; the transfer it came from is put away
	 * first, so the closing waits for the drain loop to end. */
	if (p->draining)
		p->close_asked = true;
	else
		pool_close_now(p);
}

static void pool_close_now(struct pool *p)
{
	while (p->idle) {
		struct pool_xfer *x = p->idle;
		p->idle = x->next_idle;
		pool_free_xfer(x);
	}
	/* Cleaning up the multi handle closes the cached connections; curl may
	 * tell pool_socket_fn to remove their sockets as it does. */
	curl_multi_cleanup(p->multi);
	p->multi = NULL;
	while (p->socks)
		pool_sock_close(p->socks);
	uv_timer_stop(&p->timer);
	uv_close((uv_handle_t *)&p->timer, pool_timer_closed_cb);
	uv_close((uv_handle_t *)&p->idle_timer, pool_timer_closed_cb);
}
