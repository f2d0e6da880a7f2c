/*
 * cmd_run: `novabatch run`, from the command line to a finished run.
 *
 * Reads the options and the environment (region, endpoint, credentials),
 * checks everything that can be checked before a request is sent (job files,
 * database, endpoint), records the run, hands the jobs to the scheduler and
 * prints what a person needs: problems as they happen, a summary at the end.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "cmd.h"
#include "models.h"
#include "msg.h"
#include "request.h"
#include "sched.h"
#include "store.h"
#include "xalloc.h"

/* Problems printed one by one before they are only counted. */
#define RUN_MAX_PRINTED_PROBLEMS 20

static const char run_usage[] =
	"usage: novabatch run [options] JOBFILE...\n"
	"\n"
	"Runs every job line of the JSONL job files against the Bedrock Converse\n"
	"API and records each answer, its token usage and latency in the database.\n"
	"\n"
	"options:\n"
	"  --db PATH              database file (default novabatch.db)\n"
	"  --endpoint-url URL     endpoint (default: AWS_ENDPOINT_URL_BEDROCK_RUNTIME,\n"
	"                         AWS_ENDPOINT_URL, then\n"
	"                         https://bedrock-runtime.REGION.amazonaws.com)\n"
	"  --region R             region (default: AWS_REGION, AWS_DEFAULT_REGION,\n"
	"                         then us-east-1)\n"
	"  --concurrency N        requests in flight at most (default 32)\n"
	"  --model ID             model for lines without modelId\n"
	"  --run-name NAME        name the run, for report --run NAME\n"
	"  --max-attempts N       attempts per job, the first included (default 8)\n"
	"  --rpm N                requests per minute per model, at most\n"
	"  --tpm N                tokens per minute per model, at most (input\n"
	"                         estimate + maxTokens reserved at send)\n"
	"  --burst N              requests sent at once under --rpm (default rpm/60)\n"
	"  --no-adaptive          do not slow a model down when it is throttled\n"
	"  --backoff-base-ms N    first backoff ceiling after a transient error (250)\n"
	"  --throttle-base-ms N   first backoff ceiling after throttling (1000)\n"
	"  --backoff-cap-ms N     largest backoff ceiling (20000)\n"
	"  --retry-model-error    retry 424 ModelErrorException (default: final)\n"
	"  --no-retry-model-timeout  do not retry 408 ModelTimeoutException\n"
	"  --timeout SEC          limit on one attempt, answer included (default 900)\n"
	"  --connect-timeout SEC  limit on connecting (default 10)\n"
	"  --no-progress          no progress line on a terminal\n"
	"  --progress             a progress line even when stderr is not a terminal\n"
	"  --quiet                print errors only\n"
	"  --help                 show this help\n"
	"\n"
	"Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and, for\n"
	"temporary credentials, AWS_SESSION_TOKEN.\n"
	"\n"
	"exit status: 0 every job ok; 1 some jobs failed or were invalid;\n"
	"2 usage, configuration or input error (nothing was sent).\n";

struct run_options {
	const char *db;
	const char *endpoint_url;
	const char *region;
	const char *model;
	const char *run_name;
	long concurrency;
	long max_attempts;
	long rpm, tpm, burst;
	bool adaptive;
	long backoff_base_ms, throttle_base_ms, backoff_cap_ms;
	bool retry_model_error;
	bool retry_model_timeout;
	long timeout_s;
	long connect_timeout_s;
	bool progress;
	bool quiet;
};

struct run_state {
	const struct run_options *opt;
	long problems;
	bool progress_shown;
};

enum {
	OPT_DB = 1000,
	OPT_ENDPOINT,
	OPT_REGION,
	OPT_CONCURRENCY,
	OPT_MODEL,
	OPT_RUN_NAME,
	OPT_MAX_ATTEMPTS,
	OPT_RPM,
	OPT_TPM,
	OPT_BURST,
	OPT_NO_ADAPTIVE,
	OPT_BACKOFF_BASE,
	OPT_THROTTLE_BASE,
	OPT_BACKOFF_CAP,
	OPT_RETRY_MODEL_ERROR,
	OPT_NO_RETRY_MODEL_TIMEOUT,
	OPT_TIMEOUT,
	OPT_CONNECT_TIMEOUT,
	OPT_NO_PROGRESS,
	OPT_PROGRESS,
	OPT_QUIET,
	OPT_HELP,
};

static const struct option run_long_options[] = {
	{"db", required_argument, NULL, OPT_DB},
	{"endpoint-url", required_argument, NULL, OPT_ENDPOINT},
	{"region", required_argument, NULL, OPT_REGION},
	{"concurrency", required_argument, NULL, OPT_CONCURRENCY},
	{"model", required_argument, NULL, OPT_MODEL},
	{"run-name", required_argument, NULL, OPT_RUN_NAME},
	{"max-attempts", required_argument, NULL, OPT_MAX_ATTEMPTS},
	{"rpm", required_argument, NULL, OPT_RPM},
	{"tpm", required_argument, NULL, OPT_TPM},
	{"burst", required_argument, NULL, OPT_BURST},
	{"no-adaptive", no_argument, NULL, OPT_NO_ADAPTIVE},
	{"backoff-base-ms", required_argument, NULL, OPT_BACKOFF_BASE},
	{"throttle-base-ms", required_argument, NULL, OPT_THROTTLE_BASE},
	{"backoff-cap-ms", required_argument, NULL, OPT_BACKOFF_CAP},
	{"retry-model-error", no_argument, NULL, OPT_RETRY_MODEL_ERROR},
	{"no-retry-model-timeout", no_argument, NULL, OPT_NO_RETRY_MODEL_TIMEOUT},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
	{"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
	{"progress", no_argument, NULL, OPT_PROGRESS},
	{"quiet", no_argument, NULL, OPT_QUIET},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

static const char *run_env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

/* Returns 0, 1 for --help, or -1 after printing the problem. */
static int run_parse_args(int argc, char **argv, struct run_options *opt)
{
	struct retry_policy defaults;
	retry_policy_init(&defaults);
	*opt = (struct run_options){
		.db = NB_DEFAULT_DB,
		.concurrency = 32,
		.max_attempts = RETRY_DEFAULT_MAX_ATTEMPTS,
		.adaptive = true,
		.backoff_base_ms = (long)defaults.transient_base_ms,
		.throttle_base_ms = (long)defaults.throttled_base_ms,
		.backoff_cap_ms = (long)defaults.cap_ms,
		.retry_model_timeout = true,
		.timeout_s = 900,
		.connect_timeout_s = 10,
		.progress = isatty(STDERR_FILENO),
	};
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "", run_long_options, NULL)) != -1) {
		switch (c) {
		case OPT_DB:
			opt->db = optarg;
			break;
		case OPT_ENDPOINT:
			opt->endpoint_url = optarg;
			break;
		case OPT_REGION:
			opt->region = optarg;
			break;
		case OPT_CONCURRENCY:
			if (cli_whole_number("concurrency", optarg, 1, 4096, &opt->concurrency) < 0)
				return -1;
			break;
		case OPT_MODEL:
			opt->model = optarg;
			break;
		case OPT_RUN_NAME:
			opt->run_name = optarg;
			break;
		case OPT_MAX_ATTEMPTS:
			if (cli_whole_number("max-attempts", optarg, 1, 100, &opt->max_attempts) < 0)
				return -1;
			break;
		case OPT_RPM:
			if (cli_whole_number("rpm", optarg, 1, 100000000, &opt->rpm) < 0)
				return -1;
			break;
		case OPT_TPM:
			if (cli_whole_number("tpm", optarg, 1, 1000000000, &opt->tpm) < 0)
				return -1;
			break;
		case OPT_BURST:
			if (cli_whole_number("burst", optarg, 1, 1000000, &opt->burst) < 0)
				return -1;
			break;
		case OPT_NO_ADAPTIVE:
			opt->adaptive = false;
			break;
		case OPT_BACKOFF_BASE:
			if (cli_whole_number("backoff-base-ms", optarg, 0, 3600000,
					     &opt->backoff_base_ms) < 0)
				return -1;
			break;
		case OPT_THROTTLE_BASE:
			if (cli_whole_number("throttle-base-ms", optarg, 0, 3600000,
					     &opt->throttle_base_ms) < 0)
				return -1;
			break;
		case OPT_BACKOFF_CAP:
			if (cli_whole_number("backoff-cap-ms", optarg, 0, 3600000,
					     &opt->backoff_cap_ms) < 0)
				return -1;
			break;
		case OPT_RETRY_MODEL_ERROR:
			opt->retry_model_error = true;
			break;
		case OPT_NO_RETRY_MODEL_TIMEOUT:
			opt->retry_model_timeout = false;
			break;
		case OPT_TIMEOUT:
			if (cli_whole_number("timeout", optarg, 1, 86400, &opt->timeout_s) < 0)
				return -1;
			break;
		case OPT_CONNECT_TIMEOUT:
			if (cli_whole_number("connect-timeout", optarg, 1, 3600,
					   &opt->connect_timeout_s) < 0)
				return -1;
			break;
		case OPT_NO_PROGRESS:
			opt->progress = false;
			break;
		case OPT_PROGRESS:
			opt->progress = true;
			break;
		case OPT_QUIET:
			opt->quiet = true;
			break;
		case OPT_HELP:
			return 1;
		default:
			return cli_option_error("run", argv);
		}
	}
	if (optind == argc) {
		msg_error("run: no job file given");
		fputs("Try `novabatch run --help`.\n", stderr);
		return -1;
	}
	if (opt->model && !*opt->model) {
		msg_error("--model: the model id is empty");
		return -1;
	}
	if (!opt->region)
		opt->region = run_env("AWS_REGION");
	if (!opt->region)
		opt->region = run_env("AWS_DEFAULT_REGION");
	if (!opt->region)
		opt->region = "us-east-1";
	return 0;
}

/* Every job file must be a readable regular file before anything is sent. */
static int run_check_files(char *const *files, int n)
{
	for (int i = 0; i < n; i++) {
		struct stat st;
		if (stat(files[i], &st) != 0) {
			msg_error("job file %s: %s", files[i], strerror(errno));
			return -1;
		}
		if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
			msg_error("job file %s: not a regular file", files[i]);
			return -1;
		}
		if (access(files[i], R_OK) != 0) {
			msg_error("job file %s: %s", files[i], strerror(errno));
			return -1;
		}
	}
	return 0;
}

static char *run_json_array(char *const *items, int n)
{
	json_t *arr = json_array();
	for (int i = 0; i < n; i++) {
		char *safe = msg_redact(items[i]);
		json_array_append_new(arr, json_string(safe));
		free(safe);
	}
	char *text = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return text;
}

static void run_problem_cb(const char *message, void *data)
{
	struct run_state *rs = data;
	rs->problems++;
	if (rs->progress_shown) {
		fputs("\r\033[K", stderr);
		rs->progress_shown = false;
	}
	if (rs->problems <= RUN_MAX_PRINTED_PROBLEMS)
		msg_error("%s", message);
	else if (rs->problems == RUN_MAX_PRINTED_PROBLEMS + 1)
		msg_error("more problems follow; they are recorded in the database "
			  "(novabatch report, novabatch export)");
}

static void run_progress_cb(const struct sched_totals *t, void *data)
{
	struct run_state *rs = data;
	fprintf(stderr,
		"\r\033[Knovabatch: %ld done (%ld ok, %ld failed, %ld invalid), %zu in flight, "
		"%ld retries, %ld throttled",
		t->ok + t->failed + t->invalid, t->ok, t->failed, t->invalid, t->in_flight, t->retries,
		t->throttled);
	rs->progress_shown = true;
}

/* Credentials from the environment, registered as secrets at once. */
static int run_credentials(struct sigv4_credentials *creds)
{
	creds->access_key_id = run_env("AWS_ACCESS_KEY_ID");
	creds->secret_access_key = run_env("AWS_SECRET_ACCESS_KEY");
	creds->session_token = run_env("AWS_SESSION_TOKEN");
	msg_add_secret(creds->secret_access_key);
	msg_add_secret(creds->session_token);
	if (!creds->access_key_id || !creds->secret_access_key) {
		msg_error("no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
			  "(and AWS_SESSION_TOKEN for temporary credentials)");
		return -1;
	}
	return 0;
}

static int run_execute(const struct run_options *opt, char *const *files, int nfiles,
		       char **argv, int argc)
{
	struct sigv4_credentials creds;
	if (run_check_files(files, nfiles) < 0 || run_credentials(&creds) < 0)
		return NB_EXIT_USAGE;

	const char *url = opt->endpoint_url;
	if (!url)
		url = run_env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME");
	if (!url)
		url = run_env("AWS_ENDPOINT_URL");
	char *default_url = xasprintf("https://bedrock-runtime.%s.amazonaws.com", opt->region);
	struct request_endpoint ep;
	struct nb_err err;
	struct store *st = NULL;
	struct models *prices = NULL;
	char *prices_json = NULL, *files_json = NULL, *args_json = NULL;
	int code = NB_EXIT_USAGE;
	if (request_endpoint_init(&ep, url ? url : default_url, opt->region, &err) < 0) {
		msg_error("%s", err.msg);
		free(default_url);
		return NB_EXIT_USAGE;
	}
	if (models_load_builtin(&prices, &err) < 0 || store_open(opt->db, false, &st, &err) < 0) {
		msg_error("%s", err.msg);
		goto out;
	}
	prices_json = models_to_json(prices);
	files_json = run_json_array(files, nfiles);
	args_json = run_json_array(argv + 1, argc - 1);
	struct store_run_info info = {
		.name = opt->run_name,
		.version = NB_VERSION,
		.endpoint = ep.base_url,
		.region = opt->region,
		.concurrency = (int)opt->concurrency,
		.job_files = files_json,
		.command_line = args_json,
		.prices = prices_json,
	};
	int64_t run_id;
	if (store_run_begin(st, &info, &run_id, &err) < 0) {
		msg_error("%s", err.msg);
		goto out;
	}
	if (!opt->quiet)
		msg_info("run %lld%s%s: %s, region %s, concurrency %ld", (long long)run_id,
			 opt->run_name ? " " : "", opt->run_name ? opt->run_name : "", ep.base_url,
			 opt->region, opt->concurrency);

	struct run_state rs = {.opt = opt};
	struct sched_config cfg = {
		.files = files,
		.nfiles = nfiles,
		.default_model = opt->model,
		.concurrency = (int)opt->concurrency,
		.connect_timeout_ms = opt->connect_timeout_s * 1000,
		.timeout_ms = opt->timeout_s * 1000,
		.rate = {
			.rpm = (double)opt->rpm,
			.tpm = (double)opt->tpm,
			.burst = (double)opt->burst,
			.adaptive = opt->adaptive,
		},
		.endpoint = &ep,
		.creds = creds,
		.store = st,
		.run_id = run_id,
		.commit_interval_ms = 1000,
		.progress_interval_ms = opt->progress && !opt->quiet ? 100 : 0,
		.cb = {run_problem_cb, run_progress_cb, &rs},
	};
	retry_policy_init(&cfg.retry);
	cfg.retry.max_attempts = (int)opt->max_attempts;
	cfg.retry.retry_model_error = opt->retry_model_error;
	cfg.retry.retry_model_timeout = opt->retry_model_timeout;
	cfg.retry.transient_base_ms = (double)opt->backoff_base_ms;
	cfg.retry.throttled_base_ms = (double)opt->throttle_base_ms;
	cfg.retry.cap_ms = (double)opt->backoff_cap_ms;
	uint64_t start = clock_mono_ns();
	struct sched_totals t;
	int rc = sched_run(&cfg, &t, &err);
	if (rs.progress_shown)
		fputs("\r\033[K", stderr);
	struct nb_err ferr;
	if (store_run_finish(st, run_id, rc == 0 ? "done" : "interrupted", &ferr) < 0 && rc == 0) {
		rc = -1;
		err = ferr;
	}
	if (rc < 0) {
		msg_error("run %lld stopped: %s", (long long)run_id, err.msg);
		code = NB_EXIT_FAILED;
		goto out;
	}
	if (!opt->quiet)
		msg_info("run %lld done in %.2f s: %ld jobs, %ld ok, %ld failed, %ld invalid; "
			 "%ld attempts, %ld retries, %ld throttled; "
			 "%lld input and %lld output tokens",
			 (long long)run_id, clock_ms_between(start, clock_mono_ns()) / 1000.0,
			 t.ok + t.failed + t.invalid, t.ok, t.failed, t.invalid, t.attempts,
			 t.retries, t.throttled, (long long)t.input_tokens,
			 (long long)t.output_tokens);
	code = t.failed || t.invalid ? NB_EXIT_FAILED : NB_EXIT_OK;
out:
	store_free(st);
	models_free(prices);
	free(prices_json);
	free(files_json);
	free(args_json);
	free(default_url);
	request_endpoint_cleanup(&ep);
	return code;
}

int cmd_run(int argc, char **argv)
{
	struct run_options opt;
	int rc = run_parse_args(argc, argv, &opt);
	if (rc != 0) {
		if (rc > 0)
			fputs(run_usage, stdout);
		return rc > 0 ? NB_EXIT_OK : NB_EXIT_USAGE;
	}
	int code = run_execute(&opt, argv + optind, argc - optind, argv, argc);
	msg_forget_secrets();
	return code;
}
