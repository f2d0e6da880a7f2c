/*
 * cmd_run: `novabatch run`, from the command line to a finished run.
 *
 * Reads the options and the environment (region, endpoint, TLS, where the
 * credentials come from: creds.h),
 * checks everything that can be checked before a request is sent (job files,
 * database, endpoint), records the run, hands the jobs to the scheduler and
 * prints what a person needs: problems as they happen, a summary at the end.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "cmd.h"
#include "creds.h"
#include "jobfile.h"
#include "junit.h"
#include "models.h"
#include "modelsel.h"
#include "msg.h"
#include "request.h"
#include "progress.h"
#include "report.h"
#include "results.h"
#include "sched.h"
#include "spend.h"
#include "store.h"
#include "store_query.h"
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
	"                         https://bedrock-runtime.REGION.amazonaws.com, or\n"
	"                         bedrock-runtime-fips.REGION... with\n"
	"                         AWS_USE_FIPS_ENDPOINT=true)\n"
	"  --region R             region (default: AWS_REGION, AWS_DEFAULT_REGION,\n"
	"                         the profile's region, then us-east-1)\n"
	"  --profile NAME         credentials and region from this profile of\n"
	"                         ~/.aws/credentials and ~/.aws/config (the\n"
	"                         environment's keys are then not used)\n"
	"  --ca-bundle FILE       CA certificates (PEM) to verify the endpoint with\n"
	"                         (default: AWS_CA_BUNDLE, then the system's)\n"
	"  --insecure             do not verify the endpoint's certificate (tests only)\n"
	"  --concurrency N        requests in flight at most (default 32)\n"
	"  --model ID|ALIAS       model for lines that name none (aliases: micro, lite,\n"
	"                         pro, premier, with the region's inference profile)\n"
	"  --models A,B,C         run every job on each of these models (ids or\n"
	"                         aliases), in place of the lines' own\n"
	"  --stream               ConverseStream for every job (a line may say\n"
	"                         \"stream\": true for itself); records time to first\n"
	"                         token, output tokens/s and the gaps between chunks\n"
	"  --idle-timeout SEC     a stream that sends nothing this long fails the\n"
	"                         attempt, which is retried (default 60)\n"
	"  --run-name NAME        name the run, for report --run NAME\n"
	"  --junit FILE           write the run as JUnit XML: a testsuite per model, a\n"
	"                         testcase per job, a failure per job whose \"expect\"\n"
	"                         assertions failed\n"
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
	"  --resume[=RUN]         continue run RUN (an id, last, last~N or a name;\n"
	"                         default last) in the same run: jobs it recorded ok,\n"
	"                         failed or invalid are skipped, the others run. With\n"
	"                         no JOBFILE, the run's own job files are read again\n"
	"  --retry-failed         with --resume: run the failed jobs again too\n"
	"  --pricing FILE         price the run with FILE (the format of\n"
	"                         schemas/models.json) instead of the built-in table;\n"
	"                         the run stores the table for --max-cost and reports\n"
	"  --max-cost USD         stop sending once what is spent, plus the worst case\n"
	"                         of the requests in flight and of the next one, would\n"
	"                         pass USD (the run's total, earlier sessions included)\n"
	"  --grace SEC            after SIGINT or SIGTERM, wait this long for the\n"
	"                         requests in flight before aborting them (default 30)\n"
	"  --batch-size N         database changes per commit (default 256)\n"
	"  --commit-interval-ms N longest time between commits (default 1000)\n"
	"  --no-progress          no progress line on a terminal\n"
	"  --progress             a progress line even when stderr is not a terminal\n"
	"  --log-interval SEC     without a progress line, a summary line this often\n"
	"                         (default 30; 0 for none)\n"
	"  --quiet                print errors only\n"
	"  --help                 show this help\n"
	"\n"
	"Credentials: the first of --profile NAME; AWS_ACCESS_KEY_ID and\n"
	"AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN); AWS_BEARER_TOKEN_BEDROCK;\n"
	"the profile (AWS_PROFILE, else default) in the shared files: keys, then\n"
	"credential_process; container credentials; EC2 instance metadata. Those\n"
	"that expire are renewed during the run (see the README).\n"
	"\n"
	"A kill loses at most the results of the last uncommitted batch: a resume\n"
	"sends again at most --concurrency + --batch-size requests per crash.\n"
	"\n"
	"exit status: 0 every job ok; 1 some jobs failed or were invalid, or an\n"
	"expectation failed; 2 usage, configuration or input error (nothing was\n"
	"sent), or the --junit file could not be written; 3 stopped by --max-cost,\n"
	"or renewing the credentials kept failing; 130 interrupted by a signal\n"
	"(3 and 130: resume it).\n";

struct run_options {
	const char *db;
	const char *endpoint_url;
	const char *region;
	const char *region_from; /* where the region came from, for the log */
	const char *profile;
	const char *ca_bundle;
	bool insecure;
	const char *model;
	const char *models;
	const char *run_name;
	const char *junit;
	long concurrency;
	long max_attempts;
	long rpm, tpm, burst;
	bool adaptive;
	long backoff_base_ms, throttle_base_ms, backoff_cap_ms;
	bool retry_model_error;
	bool retry_model_timeout;
	long timeout_s;
	long connect_timeout_s;
	bool stream;
	long idle_timeout_s;
	bool progress;
	long log_interval_s;
	bool quiet;
	bool resume;
	const char *resume_ref; /* NULL: the last run */
	bool retry_failed;
	int64_t max_cost_pusd;  /* SPEND_NO_LIMIT when not given */
	const char *pricing;    /* a price table file; NULL for the built-in one */
	long grace_s;
	long batch_size;
	long commit_interval_ms;
};

/* What is printed while the run goes on. */
struct run_state {
	const struct run_options *opt;
	long problems;
	long notices;
	long expect_failures;
	bool progress_shown;
	long total;        /* jobs the files hold; < 0 when unknown */
	uint64_t start_ns; /* this session's start */
};

enum {
	OPT_DB = 1000,
	OPT_ENDPOINT,
	OPT_REGION,
	OPT_PROFILE,
	OPT_CA_BUNDLE,
	OPT_INSECURE,
	OPT_CONCURRENCY,
	OPT_MODEL,
	OPT_MODELS,
	OPT_RUN_NAME,
	OPT_JUNIT,
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
	OPT_STREAM,
	OPT_IDLE_TIMEOUT,
	OPT_LOG_INTERVAL,
	OPT_RESUME,
	OPT_RETRY_FAILED,
	OPT_MAX_COST,
	OPT_PRICING,
	OPT_GRACE,
	OPT_BATCH_SIZE,
	OPT_COMMIT_INTERVAL,
	OPT_HELP,
};

static const struct option run_long_options[] = {
	{"db", required_argument, NULL, OPT_DB},
	{"endpoint-url", required_argument, NULL, OPT_ENDPOINT},
	{"region", required_argument, NULL, OPT_REGION},
	{"profile", required_argument, NULL, OPT_PROFILE},
	{"ca-bundle", required_argument, NULL, OPT_CA_BUNDLE},
	{"insecure", no_argument, NULL, OPT_INSECURE},
	{"concurrency", required_argument, NULL, OPT_CONCURRENCY},
	{"model", required_argument, NULL, OPT_MODEL},
	{"models", required_argument, NULL, OPT_MODELS},
	{"run-name", required_argument, NULL, OPT_RUN_NAME},
	{"junit", required_argument, NULL, OPT_JUNIT},
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
	{"stream", no_argument, NULL, OPT_STREAM},
	{"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
	{"log-interval", required_argument, NULL, OPT_LOG_INTERVAL},
	{"resume", optional_argument, NULL, OPT_RESUME},
	{"retry-failed", no_argument, NULL, OPT_RETRY_FAILED},
	{"max-cost", required_argument, NULL, OPT_MAX_COST},
	{"pricing", required_argument, NULL, OPT_PRICING},
	{"grace", required_argument, NULL, OPT_GRACE},
	{"batch-size", required_argument, NULL, OPT_BATCH_SIZE},
	{"commit-interval-ms", required_argument, NULL, OPT_COMMIT_INTERVAL},
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
		.log_interval_s = 30,
		.idle_timeout_s = 60,
		.max_cost_pusd = SPEND_NO_LIMIT,
		.grace_s = 30,
		.batch_size = 256,
		.commit_interval_ms = 1000,
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
		case OPT_PROFILE:
			if (!*optarg) {
				msg_error("--profile: the profile name is empty");
				return -1;
			}
			opt->profile = optarg;
			break;
		case OPT_CA_BUNDLE:
			opt->ca_bundle = optarg;
			break;
		case OPT_INSECURE:
			opt->insecure = true;
			break;
		case OPT_CONCURRENCY:
			if (cli_whole_number("concurrency", optarg, 1, 4096, &opt->concurrency) < 0)
				return -1;
			break;
		case OPT_MODEL:
			opt->model = optarg;
			break;
		case OPT_MODELS:
			opt->models = optarg;
			break;
		case OPT_RUN_NAME:
			opt->run_name = optarg;
			break;
		case OPT_JUNIT:
			opt->junit = optarg;
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
		case OPT_STREAM:
			opt->stream = true;
			break;
		case OPT_IDLE_TIMEOUT:
			if (cli_whole_number("idle-timeout", optarg, 1, 86400, &opt->idle_timeout_s) < 0)
				return -1;
			break;
		case OPT_LOG_INTERVAL:
			if (cli_whole_number("log-interval", optarg, 0, 86400, &opt->log_interval_s) < 0)
				return -1;
			break;
		case OPT_RESUME:
			opt->resume = true;
			opt->resume_ref = optarg;
			break;
		case OPT_RETRY_FAILED:
			opt->retry_failed = true;
			break;
		case OPT_MAX_COST:
			if (spend_parse_usd(optarg, &opt->max_cost_pusd) < 0) {
				msg_error("--max-cost: '%s' is not an amount of USD (for example "
					  "25 or 2.50)", optarg);
				return -1;
			}
			break;
		case OPT_PRICING:
			opt->pricing = optarg;
			break;
		case OPT_GRACE:
			if (cli_whole_number("grace", optarg, 0, 86400, &opt->grace_s) < 0)
				return -1;
			break;
		case OPT_BATCH_SIZE:
			if (cli_whole_number("batch-size", optarg, 1, 1000000, &opt->batch_size) < 0)
				return -1;
			break;
		case OPT_COMMIT_INTERVAL:
			if (cli_whole_number("commit-interval-ms", optarg, 1, 3600000,
					     &opt->commit_interval_ms) < 0)
				return -1;
			break;
		case OPT_HELP:
			return 1;
		default:
			return cli_option_error("run", argv);
		}
	}
	/* `--resume RUN FILE`: a bare --resume takes the next word as the run
	 * when it is not a job file (`--resume=NAME` is never ambiguous). */
	struct stat st;
	if (opt->resume && !opt->resume_ref && optind < argc && stat(argv[optind], &st) != 0)
		opt->resume_ref = argv[optind++];
	if (optind == argc && !opt->resume) {
		msg_error("run: no job file given");
		fputs("Try `novabatch run --help`.\n", stderr);
		return -1;
	}
	if (opt->retry_failed && !opt->resume) {
		msg_error("--retry-failed: only with --resume");
		return -1;
	}
	/* A run is priced with one table from start to end, so its cost and
	 * its --max-cost stay consistent across sessions. */
	if (opt->pricing && opt->resume) {
		msg_error("--pricing: a resumed run keeps the price table it started with "
			  "(`report --pricing FILE` prices it with another)");
		return -1;
	}
	return 0;
}

/* --region, AWS_REGION, AWS_DEFAULT_REGION, the profile's, us-east-1. */
static void run_resolve_region(struct run_options *opt, const struct creds_source *src)
{
	static char from[CREDS_REGION_FROM_LEN];
	opt->region = creds_region(opt->region, src, from);
	opt->region_from = from;
}

/* --ca-bundle, else AWS_CA_BUNDLE: a readable file. Returns 0 or -1. */
static int run_resolve_tls(struct run_options *opt)
{
	const char *from = "--ca-bundle";
	if (!opt->ca_bundle && (opt->ca_bundle = run_env("AWS_CA_BUNDLE")))
		from = "AWS_CA_BUNDLE";
	if (opt->ca_bundle && access(opt->ca_bundle, R_OK) != 0) {
		msg_error("%s %s: %s", from, opt->ca_bundle, strerror(errno));
		return -1;
	}
	if (opt->insecure)
		msg_warn("--insecure: THE ENDPOINT'S CERTIFICATE IS NOT VERIFIED. Anyone on the "
			 "network path can read and change the requests and answers. Use "
			 "--ca-bundle FILE instead for a private certificate authority.");
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

/* Clears the progress line so a message starts on a clean line. */
static void run_clear_progress(struct run_state *rs)
{
	if (rs->progress_shown) {
		fputs("\r\033[K", stderr);
		rs->progress_shown = false;
	}
}

static void run_problem_cb(const char *message, void *data)
{
	struct run_state *rs = data;
	run_clear_progress(rs);
	rs->problems++;
	if (rs->problems <= RUN_MAX_PRINTED_PROBLEMS)
		msg_error("%s", message);
	else if (rs->problems == RUN_MAX_PRINTED_PROBLEMS + 1)
		msg_error("more problems follow; they are recorded in the database "
			  "(novabatch report, novabatch export)");
}

static void run_notice_cb(const char *message, void *data)
{
	struct run_state *rs = data;
	if (rs->opt->quiet)
		return;
	run_clear_progress(rs);
	rs->notices++;
	if (rs->notices <= RUN_MAX_PRINTED_PROBLEMS)
		msg_info("%s", message);
	else if (rs->notices == RUN_MAX_PRINTED_PROBLEMS + 1)
		msg_info("more notices follow; they are not printed");
}

static void run_expect_cb(const char *message, void *data)
{
	struct run_state *rs = data;
	run_clear_progress(rs);
	rs->expect_failures++;
	if (rs->expect_failures <= RUN_MAX_PRINTED_PROBLEMS)
		msg_warn("%s", message);
	else if (rs->expect_failures == RUN_MAX_PRINTED_PROBLEMS + 1)
		msg_warn("more expectations failed; they are recorded in the database "
			 "(novabatch report, novabatch export)");
}

/* On a terminal the line is redrawn in place; elsewhere it is logged. */
static void run_progress_cb(const struct sched_totals *t, void *data)
{
	struct run_state *rs = data;
	char line[PROGRESS_LINE_LEN];
	progress_line(t, rs->total, clock_ms_between(rs->start_ns, clock_mono_ns()) / 1000.0,
		      line);
	if (rs->opt->progress) {
		fprintf(stderr, "\r\033[Knovabatch: %s", line);
		rs->progress_shown = true;
	} else {
		msg_info("%s", line);
	}
}

/* The run this session works on: a new one, or the one --resume names. */
struct run_target {
	int64_t run_id;
	int session;
	char *const *files; /* the command line's job files, or the run's own */
	int nfiles;
	char **recorded_files; /* owned when the files came from the run's record */
	struct models *prices;
	int64_t spent_pusd; /* what earlier sessions spent, at the run's prices */
	bool spent_known;
};

static void run_target_cleanup(struct run_target *t)
{
	for (int i = 0; t->recorded_files && i < t->nfiles; i++)
		free(t->recorded_files[i]);
	free(t->recorded_files);
	models_free(t->prices);
}

/* Starts a new run: its row, with the options that matter and the prices. */
static int run_begin_new(const struct run_options *opt, struct store *st,
			 const struct request_endpoint *ep, char **argv, int argc,
			 struct run_target *t)
{
	struct nb_err err;
	/* A --pricing table is already loaded (run_execute). */
	if (!t->prices && models_load_builtin(&t->prices, &err) < 0) {
		msg_error("%s", err.msg);
		return -1;
	}
	char *prices_json = models_to_json(t->prices);
	char *files_json = run_json_array(t->files, t->nfiles);
	char *args_json = run_json_array(argv + 1, argc - 1);
	struct store_run_info info = {
		.name = opt->run_name,
		.version = NB_VERSION,
		.endpoint = ep->base_url,
		.region = opt->region,
		.concurrency = (int)opt->concurrency,
		.job_files = files_json,
		.command_line = args_json,
		.prices = prices_json,
	};
	int rc = store_run_begin(st, &info, &t->run_id, &err);
	if (rc < 0)
		msg_error("%s", err.msg);
	t->session = 1;
	t->spent_known = true;
	free(prices_json);
	free(files_json);
	free(args_json);
	return rc;
}

/* The job files a run recorded, for a resume that names none. */
static int run_recorded_files(const char *json, struct run_target *t)
{
	json_t *arr = json_loads(json ? json : "", 0, NULL);
	size_t n = json_array_size(arr);
	if (n == 0 || n > INT_MAX) {
		json_decref(arr);
		msg_error("--resume: the run recorded no job files; name them after the options");
		return -1;
	}
	t->recorded_files = xcalloc(n, sizeof *t->recorded_files);
	for (size_t i = 0; i < n; i++) {
		const char *path = json_string_value(json_array_get(arr, i));
		t->recorded_files[i] = xstrdup(path ? path : "");
	}
	t->files = t->recorded_files;
	t->nfiles = (int)n;
	json_decref(arr);
	return 0;
}

struct run_spent {
	const struct models *prices;
	int64_t pusd;
	bool known;
};

static void run_add_spent(const char *model_id, int64_t input, int64_t output,
			  int64_t cache_read, int64_t cache_write, void *data)
{
	struct run_spent *sp = data;
	struct models_price price;
	if (models_price_for(sp->prices, model_id, &price))
		sp->pusd += models_cost_pusd(&price, input, output, cache_read, cache_write);
	else
		sp->known = false;
}

/* Takes up the run --resume names: its files (unless the command line
 * gives them), its prices, what it spent, and a new session. */
static int run_begin_resume(const struct run_options *opt, struct store *st,
			    struct run_target *t)
{
	sqlite3 *db = store_db(st);
	struct store_query_resume info = {0};
	struct nb_err err;
	int rc = -1;
	const char *ref = opt->resume_ref ? opt->resume_ref : "last";
	if (store_query_run(db, ref, &t->run_id, &err) < 0 ||
	    store_query_resume_info(db, t->run_id, &info, &err) < 0) {
		msg_error("--resume: %s", err.msg);
		store_query_resume_cleanup(&info);
		return -1;
	}
	if (t->nfiles == 0 &&
	    (run_recorded_files(info.job_files, t) < 0 || run_check_files(t->files, t->nfiles) < 0))
		goto out;
	int prices_rc = info.prices ? models_load_text(info.prices, "the run's price table",
						       &t->prices, &err)
				    : models_load_builtin(&t->prices, &err);
	if (prices_rc < 0) {
		msg_error("--resume: %s", err.msg);
		goto out;
	}
	struct run_spent sp = {.prices = t->prices, .known = true};
	if (store_query_ok_tokens(db, t->run_id, run_add_spent, &sp, &err) < 0) {
		msg_error("--resume: %s", err.msg);
		goto out;
	}
	t->spent_pusd = sp.pusd;
	t->spent_known = sp.known;
	if (strcmp(info.status, "running") == 0 && !opt->quiet)
		msg_warn("run %lld is marked running: it ended without closing (a crash or a "
			 "kill), or another novabatch is running it now; if so, stop that one first",
			 (long long)t->run_id);
	if (store_run_resume(st, t->run_id, &t->session, &err) < 0) {
		msg_error("%s", err.msg);
		goto out;
	}
	rc = 0;
out:
	store_query_resume_cleanup(&info);
	return rc;
}

/* The jobs the files hold, for the progress line: lines, times --models.
 * A line's own "models" list is not read here, so such lines count once
 * (the line then shows the done count as the total once it passes it).
 * -1 when a file is a pipe or cannot be counted. */
static long run_count_jobs(char *const *files, int n, const struct job_models *jm)
{
	long total = 0;
	for (int i = 0; i < n; i++) {
		struct stat st;
		long count;
		struct nb_err err;
		if (stat(files[i], &st) != 0 || !S_ISREG(st.st_mode) ||
		    jobfile_count(files[i], &count, &err) < 0)
			return -1;
		total += count;
	}
	return jm->noverride > 0 ? total * (long)jm->noverride : total;
}

static const char *run_status_of(enum sched_ending e)
{
	switch (e) {
	case SCHED_FINISHED:
		return "done";
	case SCHED_INTERRUPTED:
		return "interrupted";
	case SCHED_STOPPED:
	case SCHED_NO_CREDENTIALS:
		return "stopped";
	}
	return "interrupted";
}

/* The last words of a session, and its exit code. expect_passed and
 * expect_failed count the whole run's jobs, earlier sessions included. */
static int run_summary(const struct run_options *opt, const struct run_target *target,
		       const struct sched_totals *t, int64_t expect_passed,
		       int64_t expect_failed, double seconds)
{
	char usd[REPORT_USD_LEN];
	report_usd_text(t->cost_pusd, usd);
	char earlier[64] = "";
	if (t->skipped)
		snprintf(earlier, sizeof earlier, " (%ld recorded earlier)", t->skipped);
	char creds[128] = "";
	if (t->expired || t->renewals)
		snprintf(creds, sizeof creds, ", %ld refused as expired; credentials renewed %ld "
			 "time%s", t->expired, t->renewals, t->renewals == 1 ? "" : "s");
	if (!opt->quiet || t->ending != SCHED_FINISHED)
		msg_info("run %lld %s in %.2f s: %ld jobs%s, %ld ok, %ld failed, %ld invalid; "
			 "%ld attempts, %ld retries, %ld throttled%s; %lld input and %lld output "
			 "tokens; $%s%s",
			 (long long)target->run_id,
			 t->ending == SCHED_FINISHED ? "done" : run_status_of(t->ending), seconds,
			 t->ok + t->failed + t->invalid, earlier, t->ok, t->failed, t->invalid,
			 t->attempts, t->retries, t->throttled, creds, (long long)t->input_tokens,
			 (long long)t->output_tokens, usd,
			 t->cost_known && target->spent_known ? "" : " (some models have no price)");
	if (expect_failed)
		msg_error("run %lld: %lld of %lld jobs with expectations failed them "
			  "(novabatch report shows the pass rate per model)",
			  (long long)target->run_id, (long long)expect_failed,
			  (long long)(expect_passed + expect_failed));
	else if (expect_passed && !opt->quiet)
		msg_info("run %lld: all %lld jobs with expectations passed them",
			 (long long)target->run_id, (long long)expect_passed);
	if (t->ending == SCHED_FINISHED)
		return t->failed || t->invalid || expect_failed ? NB_EXIT_FAILED : NB_EXIT_OK;
	if (t->ending == SCHED_NO_CREDENTIALS) {
		msg_error("run %lld stopped: %s; once credentials work again, resume it: novabatch "
			  "run --db %s --resume=%lld",
			  (long long)target->run_id, t->stop_message, opt->db,
			  (long long)target->run_id);
		return NB_EXIT_STOPPED;
	}
	if (t->ending == SCHED_STOPPED) {
		char limit[REPORT_USD_LEN];
		report_usd_text(opt->max_cost_pusd, limit);
		msg_error("run %lld stopped at its cost limit of $%s (%s); to go on, resume it "
			  "with a higher limit: novabatch run --db %s --resume=%lld --max-cost USD",
			  (long long)target->run_id, limit, t->stop_message, opt->db,
			  (long long)target->run_id);
		return NB_EXIT_STOPPED;
	}
	msg_error("run %lld interrupted by %s; to go on: novabatch run --db %s --resume=%lld",
		  (long long)target->run_id, t->stop_message, opt->db, (long long)target->run_id);
	return NB_EXIT_INTERRUPTED;
}

/* Writes the run as JUnit XML into out, and closes it. Returns 0, or -1
 * after printing the problem. */
static int run_write_junit(const struct run_options *opt, struct store *st, int64_t run_id,
			   FILE *out)
{
	struct results r;
	struct nb_err err;
	int rc = results_load(store_db(st), run_id, &r, &err);
	if (rc < 0)
		msg_error("--junit: %s", err.msg);
	else if ((rc = junit_write_run(&r, out, &err)) < 0)
		msg_error("--junit: cannot write %s: %s", opt->junit, err.msg);
	results_cleanup(&r);
	if (fclose(out) != 0 && rc == 0) {
		msg_error("--junit: cannot write %s: %s", opt->junit, strerror(errno));
		rc = -1;
	}
	return rc;
}

static int run_execute(const struct run_options *opt, const struct modelsel *models,
		       const struct creds_source *src,
		       char *const *files, int nfiles, char **argv, int argc)
{
	if (run_check_files(files, nfiles) < 0)
		return NB_EXIT_USAGE;
	struct stat dbst;
	if (opt->resume && stat(opt->db, &dbst) != 0) {
		msg_error("--resume: no database %s to resume a run from: %s", opt->db,
			  strerror(errno));
		return NB_EXIT_USAGE;
	}

	const char *url = opt->endpoint_url;
	if (!url)
		url = run_env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME");
	if (!url)
		url = run_env("AWS_ENDPOINT_URL");
	const char *fips = run_env("AWS_USE_FIPS_ENDPOINT");
	bool use_fips = fips && strcasecmp(fips, "true") == 0;
	char *default_url = xasprintf("https://bedrock-runtime%s.%s.amazonaws.com",
				      use_fips ? "-fips" : "", opt->region);
	struct request_endpoint ep;
	struct nb_err err;
	struct store *st = NULL;
	struct run_target target = {.files = files, .nfiles = nfiles};
	FILE *junit = NULL;
	struct creds_value first = {0};
	int code = NB_EXIT_USAGE;
	if (request_endpoint_init(&ep, url ? url : default_url, opt->region, &err) < 0) {
		msg_error("%s", err.msg);
		free(default_url);
		return NB_EXIT_USAGE;
	}
	/* A bad price file stops the run before the database is touched. */
	if (opt->pricing && models_load_file(opt->pricing, &target.prices, &err) < 0) {
		msg_error("--pricing: %s", err.msg);
		goto out;
	}
	/* Opened before anything is sent: a path that cannot be written stops
	 * the run before it costs anything. */
	if (opt->junit && !(junit = fopen(opt->junit, "w"))) {
		msg_error("--junit: cannot write %s: %s", opt->junit, strerror(errno));
		goto out;
	}
	struct pool_config tls = {.ca_bundle = opt->ca_bundle, .insecure = opt->insecure};
	struct pool_config http;
	creds_http_config(&tls, &http);
	if (creds_obtain(src, &http, &first, &err) < 0) {
		if (src->kind == CREDS_IMDS)
			msg_error("no credentials: none in the environment or in profile '%s' of the "
				  "shared files, no container credentials, and %s (set "
				  "AWS_EC2_METADATA_DISABLED=true to skip instance metadata)",
				  src->profile, err.msg);
		else
			msg_error("credentials: %s", err.msg);
		goto out;
	}
	if (!opt->quiet)
		msg_info("credentials: %s%s", src->describe,
			 first.expiration ? ", renewed before they expire" : "");
	if (store_open(opt->db, false, &st, &err) < 0) {
		msg_error("%s", err.msg);
		goto out;
	}
	store_set_batch_size(st, (int)opt->batch_size);
	if ((opt->resume ? run_begin_resume(opt, st, &target)
			 : run_begin_new(opt, st, &ep, argv, argc, &target)) < 0)
		goto out;
	if (!opt->quiet)
		msg_info("run %lld%s%s%s: %s, region %s (%s), concurrency %ld",
			 (long long)target.run_id, opt->run_name ? " " : "",
			 opt->run_name ? opt->run_name : "",
			 target.session > 1 ? " resumed" : "", ep.base_url, opt->region,
			 opt->region_from, opt->concurrency);

	struct run_state rs = {
		.opt = opt,
		.total = opt->quiet ? -1 : run_count_jobs(target.files, target.nfiles, &models->jm),
		.start_ns = clock_mono_ns(),
	};
	long progress_ms = opt->quiet	   ? 0
			   : opt->progress ? 100
					   : opt->log_interval_s * 1000;
	struct sched_config cfg = {
		.files = target.files,
		.nfiles = target.nfiles,
		.models = models->jm,
		.concurrency = (int)opt->concurrency,
		.connect_timeout_ms = opt->connect_timeout_s * 1000,
		.timeout_ms = opt->timeout_s * 1000,
		.stream = opt->stream,
		.idle_timeout_ms = opt->idle_timeout_s * 1000,
		.rate = {
			.rpm = (double)opt->rpm,
			.tpm = (double)opt->tpm,
			.burst = (double)opt->burst,
			.adaptive = opt->adaptive,
		},
		.endpoint = &ep,
		.creds_source = src,
		.creds = &first,
		.ca_bundle = opt->ca_bundle,
		.insecure = opt->insecure,
		.store = st,
		.run_id = target.run_id,
		.session = target.session,
		.retry_failed = opt->retry_failed,
		.prices = target.prices,
		.spent_pusd = target.spent_pusd,
		.max_cost_pusd = opt->max_cost_pusd,
		.grace_ms = opt->grace_s * 1000,
		.commit_interval_ms = opt->commit_interval_ms,
		.progress_interval_ms = progress_ms,
		.cb = {run_problem_cb, run_notice_cb, run_expect_cb, run_progress_cb, &rs},
	};
	retry_policy_init(&cfg.retry);
	cfg.retry.max_attempts = (int)opt->max_attempts;
	cfg.retry.retry_model_error = opt->retry_model_error;
	cfg.retry.retry_model_timeout = opt->retry_model_timeout;
	cfg.retry.transient_base_ms = (double)opt->backoff_base_ms;
	cfg.retry.throttled_base_ms = (double)opt->throttle_base_ms;
	cfg.retry.cap_ms = (double)opt->backoff_cap_ms;
	struct sched_totals t;
	int rc = sched_run(&cfg, &t, &err);
	run_clear_progress(&rs);
	struct nb_err ferr;
	const char *status = rc == 0 ? run_status_of(t.ending) : "interrupted";
	if (store_run_finish(st, target.run_id, status, &ferr) < 0 && rc == 0) {
		rc = -1;
		err = ferr;
	}
	if (rc < 0) {
		msg_error("run %lld stopped: %s", (long long)target.run_id, err.msg);
		code = NB_EXIT_FAILED;
		goto out;
	}
	int64_t passed, failed;
	if (store_query_expect_counts(store_db(st), target.run_id, &passed, &failed, &err) < 0) {
		msg_error("run %lld: %s", (long long)target.run_id, err.msg);
		code = NB_EXIT_FAILED;
		goto out;
	}
	code = run_summary(opt, &target, &t, passed, failed,
			   clock_ms_between(rs.start_ns, clock_mono_ns()) / 1000.0);
	if (junit && run_write_junit(opt, st, target.run_id, junit) < 0)
		code = NB_EXIT_USAGE;
	junit = NULL;
out:
	if (junit)
		fclose(junit);
	store_free(st);
	run_target_cleanup(&target);
	creds_value_cleanup(&first);
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
	struct creds_source src;
	struct modelsel models = {0};
	struct nb_err err;
	int code = NB_EXIT_USAGE;
	if (creds_source_load(opt.profile, &src, &err) < 0) {
		msg_error("credentials: %s", err.msg);
	} else {
		/* The region may come from the profile; aliases resolve for it. */
		run_resolve_region(&opt, &src);
		if (modelsel_init(&models, opt.model, opt.models, opt.region, &err) < 0)
			msg_error("%s", err.msg);
		else if (run_resolve_tls(&opt) == 0)
			code = run_execute(&opt, &models, &src, argv + optind, argc - optind, argv,
					   argc);
		creds_source_cleanup(&src);
	}
	modelsel_cleanup(&models);
	msg_forget_secrets();
	return code;
}
