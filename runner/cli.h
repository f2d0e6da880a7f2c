/*
 * cli: what the commands share in facing a person: option errors, numbers
 * given as option values, and writing a result to a file or standard
 * output with every write checked. It prints (through msg.h); the modules
 * below the commands never do.
 */
#ifndef NB_CLI_H
#define NB_CLI_H

#include <stdio.h>

#include "err.h"

/* Prints the problem getopt_long just met in argv (an unknown option, or
 * one without its value) and how to get help. Returns -1. */
int cli_option_error(const char *cmd, char **argv);

/* Prints that argument is not expected, and how to get help. Returns -1. */
int cli_extra_argument(const char *cmd, const char *argument, const char *hint);

/* Parses a whole number from min to max given for --option. Returns 0, or
 * -1 after printing what is wrong. */
int cli_whole_number(const char *option, const char *text, long min, long max, long *out);

/* Parses a probability, a decimal from 0 to 1 ("0.3"), given for --option.
 * Returns 0, or -1 after printing what is wrong. */
int cli_probability(const char *option, const char *text, double *out);

/* Parses a percentage from 0 ("10", "2.5", "10%") given for --option.
 * Returns 0, or -1 after printing what is wrong. */
int cli_percent(const char *option, const char *text, double *out);

/* A writer returns 0, CLI_WRITE_ERROR when out could not be written (err:
 * the cause), or another negative code with err saying what went wrong. */
#define CLI_WRITE_ERROR (-2)
typedef int (*cli_writer)(const void *ctx, FILE *out, struct nb_err *err);

/* Runs write into path (NULL: standard output), closing and checking the
 * file. Prints any problem prefixed with cmd. Returns an exit code: 0, or 2
 * when anything failed. */
int cli_write_output(const char *cmd, const char *path, cli_writer write, const void *ctx);

#endif
