/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the kvmx tools share: messages, usage errors and a monotonic clock.
 * Include after defining PROG and declaring print_help().
 */
#ifndef KVMX_TOOL_H
#define KVMX_TOOL_H

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static void print_help(FILE *f);

static void vmsg(const char *fmt, va_list ap)
{
	fprintf(stderr, PROG ": ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* "PROG: message" on stderr. */
static void msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

/* A bad command line: the message, then the help; exit status 2. */
static int bad_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	print_help(stderr);
	return 2;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif /* KVMX_TOOL_H */
