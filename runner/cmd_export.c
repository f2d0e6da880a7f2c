/*
 * cmd_export: `novabatch export`, every job of a run as one JSON object per
 * line or one CSV row, for scripts, notebooks and spreadsheets.
 *
 * Opens the database read-only (an export works while a run writes),
 * resolves --run, then streams the rows to the output as they are read.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "export.h"
#include "msg.h"
#include "store.h"
#include "store_query.h"

static const char export_usage[] =
	"usage: novabatch export [options]\n"
	"\n"
	"Prints every job of a run, one record per job and model: job_id,\n"
	"model_id, status, attempts, output_text, stop_reason, tokens,\n"
	"latency_ms, ttft_ms, error_type, error_message and more.\n"
	"\n"
	"options:\n"
	"  --db PATH          database file (default novabatch.db)\n"
	"  --run RUN          a run id, last, last~N (N runs before the last) or a\n"
	"                     run name (its latest run); default last\n"
	"  --format FORMAT    jsonl (default: one JSON object per line) or csv\n"
	"                     (a header row, then one row per job; RFC 4180 with\n"
	"                     CRLF line ends, an empty field for NULL)\n"
	"  -o, --output FILE  write to FILE instead of standard output\n"
	"  --help             show this help\n"
	"\n"
	"exit status: 0 written; 2 usage error, no such database or run, or the\n"
	"output could not be written.\n";

enum { OPT_DB = 1000, OPT_RUN, OPT_FORMAT, OPT_HELP };

static const struct option export_long_options[] = {
	{"db", required_argument, NULL, OPT_DB},
	{"run", required_argument, NULL, OPT_RUN},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"output", required_argument, NULL, 'o'},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

struct export_format {
	const char *name;
	int (*write)(sqlite3 *db, int64_t run_id, FILE *out, struct nb_err *err);
};

static const struct export_format export_formats[] = {
	{"jsonl", export_jsonl},
	{"csv", export_csv},
};

struct export_options {
	const char *db;
	const char *run;
	const struct export_format *format;
	const char *output; /* NULL for standard output */
};

static const struct export_format *export_find_format(const char *name)
{
	for (size_t i = 0; i < sizeof export_formats / sizeof export_formats[0]; i++)
		if (strcmp(name, export_formats[i].name) == 0)
			return &export_formats[i];
	return NULL;
}

/* Returns 0, 1 for --help, or -1 after printing the problem. */
static int export_parse_args(int argc, char **argv, struct export_options *opt)
{
	*opt = (struct export_options){
		.db = NB_DEFAULT_DB,
		.run = "last",
		.format = &export_formats[0],
	};
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "o:", export_long_options, NULL)) != -1) {
		switch (c) {
		case OPT_DB:
			opt->db = optarg;
			break;
		case OPT_RUN:
			opt->run = optarg;
			break;
		case OPT_FORMAT:
			opt->format = export_find_format(optarg);
			if (!opt->format) {
				msg_error("export: unknown format '%s' (use jsonl or csv)", optarg);
				return -1;
			}
			break;
		case 'o':
			opt->output = optarg;
			break;
		case OPT_HELP:
			return 1;
		default:
			return cli_option_error("export", argv);
		}
	}
	if (optind < argc)
		return cli_extra_argument("export", argv[optind], " (name the run with --run)");
	return 0;
}

struct export_target {
	const struct export_format *format;
	sqlite3 *db;
	int64_t run_id;
};

static int export_write(const void *ctx, FILE *out, struct nb_err *err)
{
	const struct export_target *t = ctx;
	int rc = t->format->write(t->db, t->run_id, out, err);
	return rc == EXPORT_WRITE_ERROR ? CLI_WRITE_ERROR : rc;
}

int cmd_export(int argc, char **argv)
{
	struct export_options opt;
	int parsed = export_parse_args(argc, argv, &opt);
	if (parsed != 0) {
		if (parsed > 0)
			fputs(export_usage, stdout);
		return parsed > 0 ? NB_EXIT_OK : NB_EXIT_USAGE;
	}

	struct store *st = NULL;
	struct nb_err err;
	struct export_target target;
	int code = NB_EXIT_USAGE;
	if (store_open(opt.db, true, &st, &err) < 0 ||
	    store_query_run(store_db(st), opt.run, &target.run_id, &err) < 0) {
		msg_error("%s", err.msg);
		goto out;
	}
	target.format = opt.format;
	target.db = store_db(st);
	code = cli_write_output("export", opt.output, export_write, &target);
out:
	store_free(st);
	return code;
}
