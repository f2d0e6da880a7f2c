/*
 * cmd_report: `novabatch report`, a summary of one run per model: jobs,
 * attempts, throttling, tokens, cost, latency percentiles and errors.
 *
 * Opens the database read-only (a report works while a run writes), reads a
 * --pricing table, resolves --run, computes the report once (with the
 * charts' data for html) and hands it to the writer --format names.
 * The output file is opened only once the report is computed, so a mistyped
 * run never truncates it.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "models.h"
#include "msg.h"
#include "report.h"
#include "store.h"
#include "store_query.h"

static const char report_usage[] =
	"usage: novabatch report [options]\n"
	"\n"
	"Summarizes a run per model: jobs, attempts, throttling, tokens, cost in\n"
	"USD, latency percentiles (nearest rank) and errors.\n"
	"\n"
	"options:\n"
	"  --db PATH          database file (default novabatch.db)\n"
	"  --run RUN          a run id, last, last~N (N runs before the last) or a\n"
	"                     run name (its latest run); default last\n"
	"  --format FORMAT    table (default), json, csv (one row per model and a\n"
	"                     total row, RFC 4180 with CRLF line ends), md\n"
	"                     (Markdown tables for a pull-request comment) or html\n"
	"                     (one self-contained page with tables and charts)\n"
	"  -o, --output FILE  write to FILE instead of standard output\n"
	"  --by GROUP         model (default) or tag: one row per tag of the job\n"
	"                     lines (a job counts under each of its tags; \"(no\n"
	"                     tag)\" for jobs without any); not with html\n"
	"  --pricing FILE     price the run with FILE (the format of\n"
	"                     schemas/models.json) instead of the table the run\n"
	"                     stored\n"
	"  --help             show this help\n"
	"\n"
	"exit status: 0 written; 2 usage error, no such database or run, or the\n"
	"output could not be written.\n";

enum { OPT_DB = 1000, OPT_RUN, OPT_FORMAT, OPT_BY, OPT_PRICING, OPT_HELP };

static const struct option report_long_options[] = {
	{"db", required_argument, NULL, OPT_DB},
	{"run", required_argument, NULL, OPT_RUN},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"output", required_argument, NULL, 'o'},
	{"by", required_argument, NULL, OPT_BY},
	{"pricing", required_argument, NULL, OPT_PRICING},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

struct report_format {
	const char *name;
	int (*write)(const struct report *r, FILE *out, struct nb_err *err);
};

static const struct report_format report_formats[] = {
	{"table", report_write_table},
	{"json", report_write_json},
	{"csv", report_write_csv},
	{"md", report_write_md},
	{"html", report_write_html},
};

struct report_cli {
	const char *db;
	const char *run;
	const struct report_format *format;
	const char *output; /* NULL for standard output */
	const char *pricing; /* NULL: the run's own prices */
	bool by_tag;
};

static const struct report_format *report_find_format(const char *name)
{
	for (size_t i = 0; i < sizeof report_formats / sizeof report_formats[0]; i++)
		if (strcmp(name, report_formats[i].name) == 0)
			return &report_formats[i];
	return NULL;
}

/* Returns 0, 1 for --help, or -1 after printing the problem. */
static int report_parse_args(int argc, char **argv, struct report_cli *opt)
{
	*opt = (struct report_cli){
		.db = NB_DEFAULT_DB,
		.run = "last",
		.format = &report_formats[0],
	};
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "o:", report_long_options, NULL)) != -1) {
		switch (c) {
		case OPT_DB:
			opt->db = optarg;
			break;
		case OPT_RUN:
			opt->run = optarg;
			break;
		case OPT_FORMAT:
			opt->format = report_find_format(optarg);
			if (!opt->format) {
				msg_error("report: unknown format '%s' (use table, json, csv, md or "
					  "html)",
					  optarg);
				return -1;
			}
			break;
		case 'o':
			opt->output = optarg;
			break;
		case OPT_BY:
			if (strcmp(optarg, "model") != 0 && strcmp(optarg, "tag") != 0) {
				msg_error("report: --by: '%s' is not model or tag", optarg);
				return -1;
			}
			opt->by_tag = strcmp(optarg, "tag") == 0;
			break;
		case OPT_PRICING:
			opt->pricing = optarg;
			break;
		case OPT_HELP:
			return 1;
		default:
			return cli_option_error("report", argv);
		}
	}
	if (optind < argc)
		return cli_extra_argument("report", argv[optind], " (name the run with --run)");
	if (opt->by_tag && opt->format->write == report_write_html) {
		msg_error("report: --by tag is not drawn as html; use table, json, csv or md");
		return -1;
	}
	return 0;
}

struct report_target {
	const struct report_format *format;
	const struct report *report;
};

/* The writers fail only when their output does. */
static int report_write(const void *ctx, FILE *out, struct nb_err *err)
{
	const struct report_target *t = ctx;
	return t->format->write(t->report, out, err) < 0 ? CLI_WRITE_ERROR : 0;
}

int cmd_report(int argc, char **argv)
{
	struct report_cli opt;
	int parsed = report_parse_args(argc, argv, &opt);
	if (parsed != 0) {
		if (parsed > 0)
			fputs(report_usage, stdout);
		return parsed > 0 ? NB_EXIT_OK : NB_EXIT_USAGE;
	}

	struct store *st = NULL;
	struct models *prices = NULL;
	struct report r = {0};
	struct nb_err err;
	int64_t run_id;
	int code = NB_EXIT_USAGE;
	if (opt.pricing && models_load_file(opt.pricing, &prices, &err) < 0) {
		msg_error("report: --pricing: %s", err.msg);
		goto out;
	}
	struct report_options ropt = {
		.prices = prices,
		.prices_file = opt.pricing,
		.series = opt.format->write == report_write_html,
		.by_tag = opt.by_tag,
	};
	if (store_open(opt.db, true, &st, &err) < 0 ||
	    store_query_run(store_db(st), opt.run, &run_id, &err) < 0 ||
	    report_compute_with(store_db(st), run_id, &ropt, &r, &err) < 0) {
		msg_error("%s", err.msg);
		goto out;
	}
	struct report_target target = {opt.format, &r};
	code = cli_write_output("report", opt.output, report_write, &target);
out:
	report_cleanup(&r);
	models_free(prices);
	store_free(st);
	return code;
}
