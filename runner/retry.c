#include "retry.h"

#include <math.h>
#include <string.h>

/* Backoff defaults: a hiccup clears fast, a quota needs its minute. */
#define RETRY_TRANSIENT_BASE_MS 250.0
#define RETRY_THROTTLED_BASE_MS 1000.0
#define RETRY_CAP_MS 20000.0

void retry_policy_init(struct retry_policy *p)
{
	p->max_attempts = RETRY_DEFAULT_MAX_ATTEMPTS;
	p->transient_base_ms = RETRY_TRANSIENT_BASE_MS;
	p->throttled_base_ms = RETRY_THROTTLED_BASE_MS;
	p->cap_ms = RETRY_CAP_MS;
	/* A model that timed out usually answers the same request on another
	 * try; a model that failed on this input usually fails again and
	 * bills again (see the README). */
	p->retry_model_timeout = true;
	p->retry_model_error = false;
}

static bool retry_is(const char *error_type, const char *name)
{
	return error_type && strcmp(error_type, name) == 0;
}

enum retry_class retry_classify(const struct retry_policy *p, enum pool_transport transport,
				long http_status, const char *error_type)
{
	switch (transport) {
	case POOL_ANSWERED:
		break;
	case POOL_CONNECT_FAILED: /* refused, unreachable, no DNS answer: nothing was sent */
	case POOL_TIMED_OUT:      /* may have run and been billed; still worth another try */
	case POOL_CUT_SHORT:      /* reset or closed before the answer was whole */
	case POOL_READER_STOPPED: /* a stream came garbled: the next one may not */
		return RETRY_TRANSIENT;
	case POOL_TOO_LARGE:      /* an answer past our cap will be as large again */
	case POOL_TLS:            /* a certificate problem is configuration */
	case POOL_OTHER:
		return RETRY_FINAL;
	case POOL_ABORTED:        /* we stopped it: the job waits for a resume */
		return RETRY_INTERRUPTED;
	}

	switch (http_status) {
	case 200:
		/* A 200 whose body could not be read was cut or garbled on the way. */
		return error_type ? RETRY_TRANSIENT : RETRY_SUCCESS;
	case 429:
		/* ThrottlingException, and ModelNotReadyException while a model
		 * wakes up: both say "not now", so both slow the model down. */
		return RETRY_THROTTLED;
	case 408:
		/* ModelTimeoutException: configurable, retried by default. */
		return p->retry_model_timeout ? RETRY_TRANSIENT : RETRY_FINAL;
	case 424:
		/* ModelStreamErrorException broke a stream off: the service says
		 * to retry. ModelErrorException: configurable, final by default. */
		if (retry_is(error_type, "ModelStreamErrorException"))
			return RETRY_TRANSIENT;
		return p->retry_model_error ? RETRY_TRANSIENT : RETRY_FINAL;
	case 403:
		/* ExpiredTokenException: fresh credentials will do. Every other
		 * 403 (AccessDenied, InvalidSignature, UnrecognizedClient) is
		 * configuration. */
		return retry_is(error_type, "ExpiredTokenException") ? RETRY_REFRESH : RETRY_FINAL;
	default:
		break;
	}
	/* 500 InternalServerException, 503 ServiceUnavailableException, and
	 * any other 5xx (a proxy's 502 or 504) are the service's trouble. */
	if (http_status >= 500)
		return RETRY_TRANSIENT;
	/* 400 ValidationException, 404 ResourceNotFoundException and every
	 * other answer: the request itself is wrong. */
	return RETRY_FINAL;
}

double retry_delay_ms(const struct retry_policy *p, enum retry_class c, int attempts_done,
		      double random01)
{
	double base = c == RETRY_THROTTLED ? p->throttled_base_ms : p->transient_base_ms;
	int doublings = attempts_done > 1 ? attempts_done - 1 : 0;
	/* 2^30 times any base is past any cap: stop doubling there. */
	double ceiling = doublings > 30 ? p->cap_ms : fmin(p->cap_ms, base * ldexp(1.0, doublings));
	return random01 * ceiling;
}

const char *retry_class_name(enum retry_class c)
{
	switch (c) {
	case RETRY_SUCCESS:
		return "success";
	case RETRY_THROTTLED:
		return "throttled";
	case RETRY_TRANSIENT:
		return "transient";
	case RETRY_REFRESH:
		return "refresh credentials";
	case RETRY_FINAL:
		return "final";
	case RETRY_INTERRUPTED:
		return "interrupted";
	}
	return "unknown";
}
