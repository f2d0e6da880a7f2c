/*
 * cmd_validate: `novabatch validate`, job files checked without sending.
 *
 * Prints each problem as `FILE:LINE: field 'F': message`, then per model
 * the jobs, the estimated input tokens, the maxTokens reserved and the
 * most they could cost at list price. The checks are run's own
 * (validate.h), so a file that passes here runs there.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "cmd.h"
#include "creds.h"
#include "modelsel.h"
#include "msg.h"
#include "report.h"
#include "validate.h"

static const char validate_usage[] =
	"usage: novabatch validate [options] JOBFILE...\n"
	"\n"
	"Checks job lines exactly as `run` would, without sending anything: each\n"
	"problem is printed as FILE:LINE: field 'F': message. Then, per model: the\n"
	"jobs, the estimated input tokens, the maxTokens reserved, and the most\n"
	"the jobs could cost at list price (input estimate + maxTokens).\n"
	"\n"
	"options:\n"
	"  --model ID|ALIAS   model for lines that name none (as for run)\n"
	"  --models A,B,C     every job on each of these models (as for run)\n"
	"  --region R         the region aliases resolve for (as for run: AWS_REGION,\n"
	"                     AWS_DEFAULT_REGION, the profile's region, us-east-1)\n"
	"  --profile NAME     the profile whose region counts (as for run)\n"
	"  --quiet            print the problems only\n"
	"  --help             show this help\n"
	"\n"
	"exit status: 0 every line is valid; 1 some are not; 2 usage error or a\n"
	"file that cannot be read.\n";

enum { OPT_MODEL = 1000, OPT_MODELS, OPT_REGION, OPT_PROFILE, OPT_QUIET, OPT_HELP };

static const struct option validate_long_options[] = {
	{"model", required_argument, NULL, OPT_MODEL},
	{"models", required_argument, NULL, OPT_MODELS},
	{"region", required_argument, NULL, OPT_REGION},
	{"profile", required_argument, NULL, OPT_PROFILE},
	{"quiet", no_argument, NULL, OPT_QUIET},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

struct validate_options {
	const char *model, *models, *region, *profile;
	int quiet;
};

static void validate_problem_cb(const char *message, void *data)
{
	(void)data;
	fprintf(stdout, "%s\n", message);
}

static void validate_print(const struct validate_result *r)
{
	printf("%ld line%s: %ld job%s to run, %ld invalid\n", r->lines, r->lines == 1 ? "" : "s",
	       r->jobs, r->jobs == 1 ? "" : "s", r->invalid);
	if (r->nmodels == 0)
		return;
	printf("\n%-44s %8s %14s %14s %14s\n", "model", "jobs", "input tokens", "max output",
	       "max cost USD");
	int64_t total = 0;
	bool all_priced = true;
	for (size_t i = 0; i < r->nmodels; i++) {
		const struct validate_model *m = &r->models[i];
		char usd[REPORT_USD_LEN] = "unpriced";
		if (m->priced)
			report_usd_text(m->max_cost_pusd, usd);
		printf("%-44s %8ld %14.0f %14.0f %14s\n", m->model_id, m->jobs, m->input_tokens,
		       m->max_output_tokens, usd);
		total += m->max_cost_pusd;
		all_priced &= m->priced;
	}
	char usd[REPORT_USD_LEN];
	report_usd_text(total, usd);
	printf("%-44s %8ld %14s %14s %14s%s\n", "total", r->jobs, "", "", usd,
	       all_priced ? "" : " (priced models only)");
	puts("\nInput tokens are estimated (4 bytes of text a token, 1000 a media block).");
}

int cmd_validate(int argc, char **argv)
{
	struct validate_options opt = {0};
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "", validate_long_options, NULL)) != -1) {
		switch (c) {
		case OPT_MODEL:
			opt.model = optarg;
			break;
		case OPT_MODELS:
			opt.models = optarg;
			break;
		case OPT_REGION:
			opt.region = optarg;
			break;
		case OPT_PROFILE:
			opt.profile = optarg;
			break;
		case OPT_QUIET:
			opt.quiet = 1;
			break;
		case OPT_HELP:
			fputs(validate_usage, stdout);
			return NB_EXIT_OK;
		default:
			return cli_option_error("validate", argv);
		}
	}
	if (optind == argc) {
		msg_error("validate: no job file given");
		fputs("Try `novabatch validate --help`.\n", stderr);
		return NB_EXIT_USAGE;
	}
	struct creds_source src;
	struct modelsel models;
	struct validate_result r;
	struct nb_err err;
	int code = NB_EXIT_USAGE;
	/* The region is run's, so aliases name the same models here. */
	if (creds_source_load(opt.profile, &src, &err) < 0) {
		msg_error("%s", err.msg);
		return NB_EXIT_USAGE;
	}
	char from[CREDS_REGION_FROM_LEN];
	/* models borrows the region from src: both live to the end. */
	if (modelsel_init(&models, opt.model, opt.models, creds_region(opt.region, &src, from),
			  &err) < 0) {
		msg_error("%s", err.msg);
		modelsel_cleanup(&models);
		creds_source_cleanup(&src);
		msg_forget_secrets();
		return NB_EXIT_USAGE;
	}
	if (validate_files(argv + optind, argc - optind, &models.jm, models.catalog,
			   validate_problem_cb, NULL, &r, &err) < 0) {
		msg_error("%s", err.msg);
	} else {
		if (!opt.quiet)
			validate_print(&r);
		code = r.invalid ? NB_EXIT_FAILED : NB_EXIT_OK;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		msg_error("validate: cannot write the output");
		code = NB_EXIT_USAGE;
	}
	validate_result_cleanup(&r);
	modelsel_cleanup(&models);
	creds_source_cleanup(&src);
	msg_forget_secrets();
	return code;
}
