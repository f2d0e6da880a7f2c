/*
 * cmd: the subcommands. Each takes the arguments after its own name
 * (argv[0] is the subcommand) and returns the process exit code.
 */
#ifndef NB_CMD_H
#define NB_CMD_H

/* Exit codes, as DESIGN.md fixes them. */
enum nb_exit {
	NB_EXIT_OK = 0,
	NB_EXIT_FAILED = 1,      /* finished, but some jobs or expectations failed;
				    compare: a regression */
	NB_EXIT_USAGE = 2,       /* usage, configuration or input error */
	NB_EXIT_STOPPED = 3,     /* stopped by a limit (resumable) */
	NB_EXIT_INTERRUPTED = 130,
};

#define NB_DEFAULT_DB "novabatch.db"

int cmd_run(int argc, char **argv);
int cmd_mock(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_validate(int argc, char **argv);

#endif
