// SPDX-License-Identifier: GPL-2.0
/*
 * kvmx-balloon-relay: apply idle_tax balloon targets to stock QEMU via QMP.
 *
 * usage: kvmx-balloon-relay [--interval MS] [--once] [--verbose] [--root DIR]
 *                           VMID=QMP_SOCKET ...
 *
 * For each VM (VMID as in /sys/kernel/kvmx/vms, e.g. 1234-12), every
 * interval (default 1000 ms):
 *   - read ROOT/vms/VMID/idle_tax/balloon_target_bytes (ROOT defaults to
 *     /sys/kernel/kvmx); when it holds a new value above 0, send QMP
 *     {"execute":"balloon","arguments":{"value":BYTES}}, which asks the
 *     guest to shrink or grow to BYTES of memory;
 *   - ask {"execute":"query-balloon"} and write the "actual" size to
 *     ROOT/vms/VMID/idle_tax/balloon_actual_bytes if that file exists.
 *
 * QEMU must expose QMP on a unix socket and have a balloon device, e.g.
 *   qemu-system-x86_64 ... -device virtio-balloon \
 *       -qmp unix:/run/kvmx/vm1.qmp,server=on,wait=off
 *   kvmx-balloon-relay 1234-12=/run/kvmx/vm1.qmp
 *
 * A VM whose socket closes (QEMU exited) is dropped; the others are still
 * served. Exit status: 0 once every VM is gone or on SIGTERM/SIGINT; with
 * --once, 0 after one pass in which nothing failed; 1 when no VM could be
 * connected or (with --once) anything failed; 2 for usage errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define PROG			"kvmx-balloon-relay"
#define DEFAULT_ROOT		"/sys/kernel/kvmx"
#define DEFAULT_INTERVAL_MS	1000
#define MIN_INTERVAL_MS		10
#define MAX_INTERVAL_MS		3600000
#define REPLY_TIMEOUT_MS	5000
#define LINE_MAX_BYTES		65536

#include "kvmx_tool.h"

struct vm {
	const char *id;
	const char *sock_path;
	char *target_path;
	char *actual_path;
	int fd;			/* -1 once dropped */
	char *buf;		/* received bytes not yet split into lines */
	size_t len;
	bool skipping;		/* inside a line too long to keep */
	unsigned long long last_target;	/* last target sent, 0 for none */
	bool target_missing;	/* reported once */
	bool target_bad;	/* reported once */
	bool query_failed;	/* reported once */
	bool actual_failed;	/* reported once */
	bool failed;		/* anything failed (for --once) */
};

static bool verbose;
static bool stop;		/* SIGINT or SIGTERM arrived */
static int sig_fd = -1;		/* signalfd for both, polled with the sockets */

#define dbg(...) do { if (verbose) msg(__VA_ARGS__); } while (0)

static void print_help(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [--interval MS] [--once] [--verbose] [--root DIR]\n"
		"       %*s VMID=QMP_SOCKET ...\n"
		"Applies ROOT/vms/VMID/idle_tax/balloon_target_bytes to QEMU with\n"
		"the QMP balloon command and writes the actual size back to\n"
		"balloon_actual_bytes. ROOT defaults to " DEFAULT_ROOT ", the\n"
		"interval to %d ms (%d..%d).\n",
		(int)strlen(PROG), "", DEFAULT_INTERVAL_MS, MIN_INTERVAL_MS,
		MAX_INTERVAL_MS);
}

static void take_signals(void)
{
	struct signalfd_siginfo si;

	while (read(sig_fd, &si, sizeof(si)) == sizeof(si))
		stop = true;
}

/* ------------------------------------------------------------------ */
/* Just enough JSON for QMP: one object per line. */

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

/* @p at an opening quote; returns just past the closing one, or NULL. */
static const char *skip_string(const char *p)
{
	for (p++; *p; p++) {
		if (*p == '\\') {
			if (!*++p)
				return NULL;
		} else if (*p == '"') {
			return p + 1;
		}
	}
	return NULL;
}

/* Returns just past the value at @p, or NULL if it is malformed. */
static const char *skip_value(const char *p)
{
	const char *start;
	int depth = 0;

	p = skip_ws(p);
	if (*p == '"')
		return skip_string(p);
	if (*p == '{' || *p == '[') {
		while (*p) {
			if (*p == '"') {
				p = skip_string(p);
				if (!p)
					return NULL;
				continue;
			}
			if (*p == '{' || *p == '[') {
				depth++;
			} else if (*p == '}' || *p == ']') {
				if (--depth == 0)
					return p + 1;
			}
			p++;
		}
		return NULL;
	}
	start = p;
	while (*p && !strchr(",}] \t\r\n", *p))
		p++;
	return p == start ? NULL : p;
}

/* The value of member @key of the object at @p, or NULL. */
static const char *json_get(const char *p, const char *key)
{
	size_t klen = strlen(key);

	p = skip_ws(p);
	if (*p != '{')
		return NULL;
	p = skip_ws(p + 1);
	while (*p == '"') {
		const char *k = p + 1, *end = skip_string(p);

		if (!end)
			return NULL;
		p = skip_ws(end);
		if (*p != ':')
			return NULL;
		p = skip_ws(p + 1);
		if ((size_t)(end - 1 - k) == klen && !memcmp(k, key, klen))
			return p;
		p = skip_value(p);
		if (!p)
			return NULL;
		p = skip_ws(p);
		if (*p != ',')
			return NULL;
		p = skip_ws(p + 1);
	}
	return NULL;
}

/* A non-negative integer value at @p. */
static bool json_u64(const char *p, unsigned long long *v)
{
	char *end;

	if (!p || *p < '0' || *p > '9')
		return false;
	errno = 0;
	*v = strtoull(p, &end, 10);
	return !errno && (!*end || strchr(",}] \t\r\n", *end));
}

/* Copy the string value at @p into @out (escapes kept simple). */
static void json_str(const char *p, char *out, size_t size)
{
	size_t n = 0;

	if (!size)
		return;
	if (p && *p == '"') {
		for (p++; *p && *p != '"' && n + 1 < size; p++) {
			if (*p == '\\' && p[1]) {
				p++;
				out[n++] = *p == 'n' ? ' ' : *p == 't' ? ' ' : *p;
			} else {
				out[n++] = *p;
			}
		}
	}
	out[n] = '\0';
	if (!n)
		snprintf(out, size, "(no description)");
}

/* ------------------------------------------------------------------ */
/* QMP connection */

static void drop_vm(struct vm *vm, const char *why)
{
	if (vm->fd < 0)
		return;
	msg("%s: %s, dropping it", vm->id, why);
	close(vm->fd);
	vm->fd = -1;
	vm->failed = true;
}

/*
 * Read whatever is available (waiting up to @timeout_ms, -1 forever)
 * into the buffer. 1 if bytes arrived, 0 on timeout, -1 on EOF or error.
 */
static int fill(struct vm *vm, int timeout_ms)
{
	struct pollfd pfd[2] = {
		{ .fd = vm->fd, .events = POLLIN },
		{ .fd = sig_fd, .events = POLLIN },
	};
	ssize_t r;
	int p;

	p = poll(pfd, 2, timeout_ms);
	if (p < 0)
		return errno == EINTR ? 0 : -1;
	if (pfd[1].revents)
		take_signals();
	if (!pfd[0].revents)
		return 0;
	if (vm->len == LINE_MAX_BYTES) {
		/* a line longer than we keep: forget it up to its end */
		vm->len = 0;
		vm->skipping = true;
		dbg("%s: skipping an overlong QMP line", vm->id);
	}
	r = read(vm->fd, vm->buf + vm->len, LINE_MAX_BYTES - vm->len);
	if (r < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -1;
	if (!r)
		return -1;
	vm->len += r;
	return 1;
}

/* Take one complete line out of the buffer into @line; false if none. */
static bool take_line(struct vm *vm, char *line)
{
	char *nl;
	size_t n;

	for (;;) {
		nl = memchr(vm->buf, '\n', vm->len);
		if (!nl)
			return false;
		n = nl - vm->buf;
		memcpy(line, vm->buf, n);
		line[n] = '\0';
		if (n && line[n - 1] == '\r')
			line[n - 1] = '\0';
		memmove(vm->buf, nl + 1, vm->len - n - 1);
		vm->len -= n + 1;
		if (!vm->skipping)
			return true;
		vm->skipping = false;
	}
}

/*
 * Next line from QEMU that is not an event, within REPLY_TIMEOUT_MS.
 * 0 with the line in @line; -1 if the VM was dropped.
 */
static int next_reply(struct vm *vm, char *line)
{
	long long deadline = now_ms() + REPLY_TIMEOUT_MS;
	const char *ev;
	char name[128];
	int r;

	for (;;) {
		while (take_line(vm, line)) {
			if (!*skip_ws(line))
				continue;
			ev = json_get(line, "event");
			if (!ev)
				return 0;
			json_str(ev, name, sizeof(name));
			dbg("%s: event %s", vm->id, name);
		}
		if (stop)
			return -1;	/* shutting down */
		r = fill(vm, (int)(deadline - now_ms() > 0 ?
				   deadline - now_ms() : 0));
		if (r < 0) {
			drop_vm(vm, "QMP socket closed");
			return -1;
		}
		if (!r && now_ms() >= deadline) {
			drop_vm(vm, "no reply from QEMU");
			return -1;
		}
	}
}

static int send_all(struct vm *vm, const char *s)
{
	size_t len = strlen(s);
	ssize_t w;

	while (len) {
		w = send(vm->fd, s, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			drop_vm(vm, "QMP socket closed");
			return -1;
		}
		s += w;
		len -= w;
	}
	return 0;
}

/*
 * Run one QMP command. 0 with the "return" line in @line; 1 if QEMU
 * answered with an error (its description in @err); -1 if the VM was
 * dropped.
 */
static int qmp(struct vm *vm, const char *cmd, char *line, char *err,
	       size_t err_size)
{
	const char *e;

	dbg("%s: -> %s", vm->id, cmd);
	if (send_all(vm, cmd) || send_all(vm, "\n"))
		return -1;
	for (;;) {
		if (next_reply(vm, line))
			return -1;
		dbg("%s: <- %s", vm->id, line);
		if (json_get(line, "return"))
			return 0;
		e = json_get(line, "error");
		if (e) {
			json_str(json_get(e, "desc"), err, err_size);
			return 1;
		}
		dbg("%s: ignoring unexpected QMP line", vm->id);
	}
}

static int connect_vm(struct vm *vm, char *line)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char err[256];

	vm->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (vm->fd < 0) {
		msg("%s: socket: %s", vm->id, strerror(errno));
		vm->failed = true;
		return -1;
	}
	/* length checked in main */
	memcpy(sa.sun_path, vm->sock_path, strlen(vm->sock_path) + 1);
	if (connect(vm->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		msg("%s: cannot connect to %s: %s", vm->id, vm->sock_path,
		    strerror(errno));
		close(vm->fd);
		vm->fd = -1;
		vm->failed = true;
		return -1;
	}
	if (next_reply(vm, line))
		return -1;
	if (!json_get(line, "QMP")) {
		drop_vm(vm, "no QMP greeting on the socket");
		return -1;
	}
	switch (qmp(vm, "{\"execute\":\"qmp_capabilities\"}", line, err,
		    sizeof(err))) {
	case 0:
		dbg("%s: connected to %s", vm->id, vm->sock_path);
		return 0;
	case 1:
		msg("%s: qmp_capabilities failed: %s", vm->id, err);
		drop_vm(vm, "QMP negotiation failed");
		return -1;
	default:
		return -1;
	}
}

/* ------------------------------------------------------------------ */
/* One pass over a VM */

/*
 * The target in bytes: 1 with a value, 0 if there is none to apply
 * (missing, empty or bad file).
 */
static int read_target(struct vm *vm, unsigned long long *target)
{
	char text[64], *end;
	ssize_t n;
	int fd;

	fd = open(vm->target_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (!vm->target_missing)
			dbg("%s: %s: %s", vm->id, vm->target_path,
			    strerror(errno));
		vm->target_missing = true;
		return 0;
	}
	vm->target_missing = false;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n < 0) {
		msg("%s: reading %s: %s", vm->id, vm->target_path,
		    strerror(errno));
		return 0;
	}
	text[n] = '\0';
	if (!*skip_ws(text))
		return 0;	/* empty: being rewritten, or nothing yet */
	errno = 0;
	*target = strtoull(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || errno || *skip_ws(end)) {
		if (!vm->target_bad)
			msg("%s: %s does not hold a byte count", vm->id,
			    vm->target_path);
		vm->target_bad = true;
		return 0;
	}
	vm->target_bad = false;
	return 1;
}

static void write_actual(struct vm *vm, unsigned long long actual)
{
	char text[32];
	int fd, n;

	fd = open(vm->actual_path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT && !vm->actual_failed)
			msg("%s: %s: %s", vm->id, vm->actual_path,
			    strerror(errno));
		vm->actual_failed = errno != ENOENT;
		return;
	}
	n = snprintf(text, sizeof(text), "%llu\n", actual);
	if (write(fd, text, n) != n) {
		if (!vm->actual_failed)
			msg("%s: writing %s: %s", vm->id, vm->actual_path,
			    strerror(errno));
		vm->actual_failed = true;
	} else {
		vm->actual_failed = false;
	}
	close(fd);
}

static void serve(struct vm *vm, char *line)
{
	unsigned long long target, actual;
	char cmd[128], err[256];
	int r;

	if (!read_target(vm, &target))
		return;
	if (target && target != vm->last_target) {
		snprintf(cmd, sizeof(cmd),
			 "{\"execute\":\"balloon\",\"arguments\":{\"value\":%llu}}",
			 target);
		r = qmp(vm, cmd, line, err, sizeof(err));
		if (r < 0)
			return;
		/* an error is reported once; retried when the target changes */
		vm->last_target = target;
		if (r) {
			msg("%s: balloon to %llu bytes failed: %s", vm->id,
			    target, err);
			vm->failed = true;
		} else {
			msg("%s: balloon target %llu bytes", vm->id, target);
		}
	}

	r = qmp(vm, "{\"execute\":\"query-balloon\"}", line, err, sizeof(err));
	if (r < 0)
		return;
	if (r) {
		if (!vm->query_failed)
			msg("%s: query-balloon failed: %s", vm->id, err);
		vm->query_failed = true;
		vm->failed = true;
		return;
	}
	if (!json_u64(json_get(json_get(line, "return"), "actual"), &actual)) {
		if (!vm->query_failed)
			msg("%s: query-balloon reply without \"actual\"",
			    vm->id);
		vm->query_failed = true;
		vm->failed = true;
		return;
	}
	vm->query_failed = false;
	dbg("%s: actual %llu bytes", vm->id, actual);
	write_actual(vm, actual);
}

/*
 * Between passes: wait until @deadline, reading (and discarding) events
 * and noticing sockets that close.
 */
static void idle_until(struct vm *vms, int nr, struct pollfd *pfd,
		       long long deadline, char *line)
{
	int i, live, left;

	while (!stop && (left = (int)(deadline - now_ms())) > 0) {
		live = 0;
		for (i = 0; i <= nr; i++) {
			pfd[i].fd = i < nr ? vms[i].fd : sig_fd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
			live += i < nr && vms[i].fd >= 0;
		}
		if (!live)
			return;
		if (poll(pfd, nr + 1, left) <= 0)
			continue;
		if (pfd[nr].revents)
			take_signals();
		for (i = 0; i < nr; i++) {
			if (vms[i].fd < 0 || !pfd[i].revents)
				continue;
			if (fill(&vms[i], 0) < 0) {
				drop_vm(&vms[i], "QMP socket closed");
				continue;
			}
			while (take_line(&vms[i], line)) {
				const char *ev = json_get(line, "event");
				char name[128];

				if (!ev)
					continue;
				json_str(ev, name, sizeof(name));
				dbg("%s: event %s", vms[i].id, name);
			}
		}
	}
}

/* ------------------------------------------------------------------ */

static bool valid_vmid(const char *s, size_t len)
{
	size_t i, dash = 0, ndash = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '-') {
			dash = i;
			ndash++;
		} else if (s[i] < '0' || s[i] > '9') {
			return false;
		}
	}
	return ndash == 1 && dash > 0 && dash < len - 1 && len < 32;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "once", no_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "root", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *root = DEFAULT_ROOT;
	long interval = DEFAULT_INTERVAL_MS;
	bool once = false, failed = false;
	struct pollfd *pfd = NULL;
	struct sockaddr_un sa_un;	/* for its size */
	struct vm *vms = NULL;
	char *line = NULL, *end;
	sigset_t sigs;
	long long next;
	int c, i, j, nr, live, status;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			errno = 0;
			interval = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end ||
			    interval < MIN_INTERVAL_MS ||
			    interval > MAX_INTERVAL_MS)
				return bad_usage("--interval: %s is not %d..%d ms",
						 optarg, MIN_INTERVAL_MS,
						 MAX_INTERVAL_MS);
			break;
		case 'o':
			once = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'r':
			if (!*optarg)
				return bad_usage("--root: empty directory");
			root = optarg;
			break;
		case 'h':
			print_help(stdout);
			return 0;
		case ':':
			return bad_usage("%s needs a value", argv[optind - 1]);
		default:
			return bad_usage("unknown option %s", argv[optind - 1]);
		}
	}
	nr = argc - optind;
	if (nr < 1)
		return bad_usage("no VMID=QMP_SOCKET given");

	/* check every argument before anything is allocated */
	for (i = 0; i < nr; i++) {
		char *arg = argv[optind + i], *eq = strchr(arg, '=');

		if (!eq || !valid_vmid(arg, eq - arg))
			return bad_usage("%s: expected VMID=QMP_SOCKET with a VMID like 1234-12",
					 arg);
		if (!eq[1] || strlen(eq + 1) >= sizeof(sa_un.sun_path))
			return bad_usage("%s: socket path empty or too long",
					 arg);
		*eq = '\0';
		for (j = 0; j < i; j++)
			if (!strcmp(argv[optind + j], arg))
				return bad_usage("VM %s given twice", arg);
	}

	vms = calloc(nr, sizeof(*vms));
	pfd = calloc(nr + 1, sizeof(*pfd));
	line = malloc(LINE_MAX_BYTES + 1);
	if (!vms || !pfd || !line)
		goto out_of_memory;
	for (i = 0; i < nr; i++) {
		struct vm *vm = &vms[i];

		vm->id = argv[optind + i];
		vm->sock_path = vm->id + strlen(vm->id) + 1;
		vm->fd = -1;
		if (asprintf(&vm->target_path, "%s/vms/%s/idle_tax/%s", root,
			     vm->id, "balloon_target_bytes") < 0 ||
		    asprintf(&vm->actual_path, "%s/vms/%s/idle_tax/%s", root,
			     vm->id, "balloon_actual_bytes") < 0) {
			vm->target_path = NULL;
			vm->actual_path = NULL;
			goto out_of_memory;
		}
		vm->buf = malloc(LINE_MAX_BYTES);
		if (!vm->buf)
			goto out_of_memory;
	}

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sig_fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sig_fd < 0) {
		msg("signalfd: %s", strerror(errno));
		status = 1;
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);

	live = 0;
	for (i = 0; i < nr; i++)
		live += !connect_vm(&vms[i], line);
	if (!live) {
		msg("no VM could be connected");
		status = 1;
		goto out;
	}

	for (;;) {
		next = now_ms() + interval;
		for (i = 0; i < nr && !stop; i++)
			if (vms[i].fd >= 0)
				serve(&vms[i], line);
		if (once || stop)
			break;
		idle_until(vms, nr, pfd, next, line);
		live = 0;
		for (i = 0; i < nr; i++)
			live += vms[i].fd >= 0;
		if (!live) {
			dbg("no VM left");
			break;
		}
	}

	for (i = 0; i < nr; i++)
		failed |= vms[i].failed;
	status = once && failed ? 1 : 0;
	goto out;

out_of_memory:
	msg("out of memory");
	status = 1;
out:
	for (i = 0; vms && i < nr; i++) {
		if (vms[i].fd >= 0)
			close(vms[i].fd);
		free(vms[i].buf);
		free(vms[i].target_path);
		free(vms[i].actual_path);
	}
	if (sig_fd >= 0)
		close(sig_fd);
	free(vms);
	free(pfd);
	free(line);
	return status;
}
