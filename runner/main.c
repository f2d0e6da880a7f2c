/*
 * main: picks the subcommand. Everything else lives in the cmd_*.c files.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "xalloc.h"

static const char main_usage[] =
	"usage: novabatch COMMAND [options]\n"
	"\n"
	"Runs prompt workloads against the Amazon Bedrock Converse API and\n"
	"records every answer, its token usage and latency in SQLite.\n"
	"\n"
	"commands:\n"
	"  run JOBFILE...   run the jobs in JSONL files, record into the database\n"
	"  report           summarize a run: jobs, tokens, cost, latency, errors\n"
	"  compare BASE NEW compare a run with a baseline: expectations, outputs,\n"
	"                   latency, cost; exit 1 on a regression\n"
	"  export           print one row per job and model (JSON lines or CSV)\n"
	"  validate FILE... check job files as run would, estimate tokens and cost\n"
	"  mock             serve a local Bedrock-compatible endpoint for tests\n"
	"\n"
	"Run `novabatch COMMAND --help` for a command's options.\n"
	"  --help       show this help\n"
	"  --version    print the version\n";

struct main_command {
	const char *name;
	int (*fn)(int argc, char **argv);
};

static const struct main_command main_commands[] = {
	{"run", cmd_run},
	{"report", cmd_report},
	{"compare", cmd_compare},
	{"export", cmd_export},
	{"validate", cmd_validate},
	{"mock", cmd_mock},
};

int main(int argc, char **argv)
{
	/* jansson allocates through xmalloc too: out of memory aborts in one place. */
	json_set_alloc_funcs(xmalloc, free);
	if (argc < 2) {
		fputs(main_usage, stderr);
		return NB_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(main_usage, stdout);
		return NB_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("novabatch %s\n", NB_VERSION);
		return NB_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof main_commands / sizeof main_commands[0]; i++)
		if (strcmp(argv[1], main_commands[i].name) == 0)
			return main_commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "novabatch: error: unknown command '%s'\n\n%s", argv[1], main_usage);
	return NB_EXIT_USAGE;
}
