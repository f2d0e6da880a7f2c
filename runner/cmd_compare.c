/*
 * cmd_compare: `novabatch compare BASE NEW` and `novabatch compare
 * --across-models RUN`.
 *
 * Opens the database read-only, resolves the runs (an id, last, last~N or a
 * name), loads their results, computes the comparison once (compare.h) and
 * hands it to the writer --format names and, with --junit, to the JUnit
 * writer. Output files are opened only once everything is computed, so a
 * mistyped run never truncates them. The exit code carries the verdict.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "compare.h"
#include "junit.h"
#include "msg.h"
#include "results.h"
#include "store.h"
#include "store_query.h"

static const char compare_usage[] =
	"usage: novabatch compare BASE NEW [options]\n"
	"       novabatch compare --across-models RUN [options]\n"
	"\n"
	"Compares run NEW with the baseline run BASE (each an id, last, last~N or a\n"
	"run name), joined on (job id, model). Per model: the pass rate of the jobs'\n"
	"\"expect\" assertions, jobs newly failing and newly fixed, outputs changed,\n"
	"p50/p90 latency of the ok jobs (nearest rank), tokens and cost; then each\n"
	"job that changed, with both outputs. Only jobs in both runs are compared.\n"
	"With --across-models, shows one run's models side by side, a row per job.\n"
	"\n"
	"options:\n"
	"  --db PATH                     database file (default novabatch.db)\n"
	"  --format FORMAT               table (default), json or md (Markdown for a\n"
	"                                pull-request comment)\n"
	"  -o, --output FILE             write to FILE instead of standard output\n"
	"  --junit FILE                  also write JUnit XML: a testsuite per model, a\n"
	"                                testcase per job, a failure per regression\n"
	"  --max-latency-regression PCT  a regression when a model's p90 latency grows\n"
	"                                by more than PCT percent\n"
	"  --max-cost-regression PCT     a regression when a model's cost grows by more\n"
	"                                than PCT percent\n"
	"  --max-pass-rate-drop PCT      a regression when a model's pass rate falls by\n"
	"                                more than PCT percentage points\n"
	"  --fail-on-output-change       a regression when any output changed\n"
	"  --across-models               compare the models of one run\n"
	"  --help                        show this help\n"
	"\n"
	"A job that passed its expectations in BASE and fails them in NEW is always a\n"
	"regression.\n"
	"\n"
	"exit status: 0 no regression; 1 a regression (a job newly failing or a\n"
	"threshold crossed); 2 usage error, no such database or run, or an output\n"
	"that could not be written.\n";

enum {
	OPT_DB = 1000,
	OPT_FORMAT,
	OPT_JUNIT,
	OPT_MAX_LATENCY,
	OPT_MAX_COST,
	OPT_MAX_PASS_DROP,
	OPT_FAIL_ON_OUTPUT,
	OPT_ACROSS,
	OPT_HELP,
};

static const struct option compare_long_options[] = {
	{"db", required_argument, NULL, OPT_DB},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"output", required_argument, NULL, 'o'},
	{"junit", required_argument, NULL, OPT_JUNIT},
	{"max-latency-regression", required_argument, NULL, OPT_MAX_LATENCY},
	{"max-cost-regression", required_argument, NULL, OPT_MAX_COST},
	{"max-pass-rate-drop", required_argument, NULL, OPT_MAX_PASS_DROP},
	{"fail-on-output-change", no_argument, NULL, OPT_FAIL_ON_OUTPUT},
	{"across-models", no_argument, NULL, OPT_ACROSS},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

struct compare_format {
	const char *name;
	int (*write)(const struct compare *c, FILE *out, struct nb_err *err);
	int (*write_across)(const struct compare_across *a, FILE *out, struct nb_err *err);
};

static const struct compare_format compare_formats[] = {
	{"table", compare_write_table, compare_across_write_table},
	{"json", compare_write_json, compare_across_write_json},
	{"md", compare_write_md, compare_across_write_md},
};

struct compare_options {
	const char *db;
	const struct compare_format *format;
	const char *output; /* NULL for standard output */
	const char *junit;
	struct compare_thresholds th;
	bool across;
	const char *base, *new; /* new is NULL with --across-models */
};

static int compare_parse_args(int argc, char **argv, struct compare_options *opt)
{
	*opt = (struct compare_options){
		.db = NB_DEFAULT_DB,
		.format = &compare_formats[0],
		.th = {-1, -1, -1, false},
	};
	optind = 1;
	opterr = 0;
	int c;
	bool thresholds = false;
	while ((c = getopt_long(argc, argv, "o:", compare_long_options, NULL)) != -1) {
		switch (c) {
		case OPT_DB:
			opt->db = optarg;
			break;
		case OPT_FORMAT:
			opt->format = NULL;
			for (size_t i = 0; i < sizeof compare_formats / sizeof compare_formats[0]; i++)
				if (strcmp(optarg, compare_formats[i].name) == 0)
					opt->format = &compare_formats[i];
			if (!opt->format) {
				msg_error("compare: unknown format '%s' (use table, json or md)", optarg);
				return -1;
			}
			break;
		case 'o':
			opt->output = optarg;
			break;
		case OPT_JUNIT:
			opt->junit = optarg;
			break;
		case OPT_MAX_LATENCY:
			if (cli_percent("max-latency-regression", optarg, &opt->th.max_latency_pct) < 0)
				return -1;
			thresholds = true;
			break;
		case OPT_MAX_COST:
			if (cli_percent("max-cost-regression", optarg, &opt->th.max_cost_pct) < 0)
				return -1;
			thresholds = true;
			break;
		case OPT_MAX_PASS_DROP:
			if (cli_percent("max-pass-rate-drop", optarg, &opt->th.max_pass_drop_pct) < 0)
				return -1;
			thresholds = true;
			break;
		case OPT_FAIL_ON_OUTPUT:
			opt->th.fail_on_output_change = true;
			thresholds = true;
			break;
		case OPT_ACROSS:
			opt->across = true;
			break;
		case OPT_HELP:
			return 1;
		default:
			return cli_option_error("compare", argv);
		}
	}
	int want = opt->across ? 1 : 2;
	if (argc - optind < want) {
		msg_error(opt->across ? "compare: --across-models needs a run"
				      : "compare: name two runs, BASE and NEW");
		fputs("Try `novabatch compare --help`.\n", stderr);
		return -1;
	}
	if (argc - optind > want)
		return cli_extra_argument("compare", argv[optind + want], "");
	if (opt->across && thresholds) {
		msg_error("compare: the thresholds judge two runs; --across-models shows one");
		return -1;
	}
	opt->base = argv[optind];
	opt->new = opt->across ? NULL : argv[optind + 1];
	return 0;
}

struct compare_target {
	const struct compare_options *opt;
	const struct compare *c;
	const struct compare_across *a;
	const struct results *run; /* --across-models: for --junit */
};

static int compare_write(const void *ctx, FILE *out, struct nb_err *err)
{
	const struct compare_target *t = ctx;
	int rc = t->a ? t->opt->format->write_across(t->a, out, err)
		      : t->opt->format->write(t->c, out, err);
	return rc < 0 ? CLI_WRITE_ERROR : 0;
}

static int compare_write_junit(const void *ctx, FILE *out, struct nb_err *err)
{
	const struct compare_target *t = ctx;
	int rc = t->a ? junit_write_run(t->run, out, err) : junit_write_compare(t->c, out, err);
	return rc < 0 ? CLI_WRITE_ERROR : 0;
}

/* Writes the output and the JUnit file; returns an exit code. */
static int compare_emit(const struct compare_options *opt, const struct compare_target *t,
			bool regressed)
{
	int code = cli_write_output("compare", opt->output, compare_write, t);
	if (code == NB_EXIT_OK && opt->junit)
		code = cli_write_output("compare --junit", opt->junit, compare_write_junit, t);
	if (code != NB_EXIT_OK)
		return code;
	return regressed ? NB_EXIT_FAILED : NB_EXIT_OK;
}

static int compare_load(sqlite3 *db, const char *ref, struct results *r)
{
	struct nb_err err;
	int64_t run_id;
	if (store_query_run(db, ref, &run_id, &err) < 0 || results_load(db, run_id, r, &err) < 0) {
		msg_error("compare: %s", err.msg);
		return -1;
	}
	return 0;
}

int cmd_compare(int argc, char **argv)
{
	struct compare_options opt;
	int parsed = compare_parse_args(argc, argv, &opt);
	if (parsed != 0) {
		if (parsed > 0)
			fputs(compare_usage, stdout);
		return parsed > 0 ? NB_EXIT_OK : NB_EXIT_USAGE;
	}
	struct store *st = NULL;
	struct results base = {0}, new = {0};
	struct nb_err err;
	int code = NB_EXIT_USAGE;
	if (store_open(opt.db, true, &st, &err) < 0) {
		msg_error("%s", err.msg);
		goto out;
	}
	if (compare_load(store_db(st), opt.base, &base) < 0 ||
	    (!opt.across && compare_load(store_db(st), opt.new, &new) < 0))
		goto out;
	if (opt.across) {
		struct compare_across a;
		compare_across_compute(&base, &a);
		struct compare_target t = {.opt = &opt, .a = &a, .run = &base};
		code = compare_emit(&opt, &t, false);
		compare_across_cleanup(&a);
	} else {
		struct compare c;
		compare_compute(&base, &new, &opt.th, &c);
		struct compare_target t = {.opt = &opt, .c = &c};
		code = compare_emit(&opt, &t, c.nbreaches > 0);
		for (size_t i = 0; i < c.nbreaches && opt.output; i++)
			msg_error("regression: %s: %s: %s",
				  *c.breaches[i].model_id ? c.breaches[i].model_id : "(none)",
				  c.breaches[i].threshold, c.breaches[i].message);
		compare_cleanup(&c);
	}
out:
	results_cleanup(&base);
	results_cleanup(&new);
	store_free(st);
	return code;
}
