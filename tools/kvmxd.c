// SPDX-License-Identifier: GPL-2.0
/*
 * kvmxd: the kvmx host daemon. It carries out the memory advice that
 * kvmx's kernel modules ask for (idle_tax's host page-out today) with
 * process_madvise(2) on a pidfd of each VM's QEMU process. kvmx never
 * calls the kernel's unexported madvise code itself: without kvmxd that
 * work is refused.
 *
 * usage: kvmxd [--device PATH] [--verbose] [--hold-ms MS] [--fd N]
 *
 * It opens the advice channel (default /dev/kvmx_advice, see
 * include/uapi/kvmx/advice.h), waits for requests with poll(), reads all
 * that are queued and, for each VM process in the batch:
 *   - opens a pidfd for the request's pid and checks that fstat() of it
 *     has the request's pidfs inode number: a pid that now belongs to
 *     another process (the VM exited and its pid was reused) fails with
 *     ESRCH and nothing is advised;
 *   - advises its ranges with one process_madvise() call per advice
 *     (MADV_PAGEOUT, MADV_COLD or MADV_COLLAPSE), up to IOV_MAX ranges
 *     each; a range that fails is retried alone for its own errno;
 * then writes one result per request: bytes advised or -errno.
 *
 * It also applies per-VM policy (tools/lib/kvmxd_conf.h for the files and
 * their format): at start it loads --config (default /etc/kvmx/kvmxd.conf)
 * and --config-dir (default /etc/kvmx/vms.d); every --scan-ms (default
 * 200) it looks for VMs new in ROOT/vms (--sysfs, default
 * /sys/kernel/kvmx), matches each by the -uuid and -name on its QEMU
 * command line and writes what its section sets (tools/lib/kvmxd_vms.h),
 * one log line per VM, and to every VM again when ksm_cmd or idle_tax is
 * loaded (again). SIGHUP loads the files again: a policy that loads
 * is applied to every attached VM; one that does not is reported with its
 * file and line, and the policy in force stays. --no-policy reads no
 * files and leaves VMs alone.
 *
 * Failures are logged to stderr, one line each, at most 10 lines per 10 s
 * (then a count of what was left out). --verbose logs every batch.
 * SIGTERM and SIGINT stop it after the batch in hand is answered; closing
 * the device fails whatever is still queued (ENOTCONN).
 *
 * For tests: --hold-ms MS waits MS after reading a batch before carrying
 * it out; --fd N serves descriptor N, already open, instead of PATH.
 *
 * Needs root: the device wants CAP_SYS_ADMIN, process_madvise() on another
 * process CAP_SYS_NICE and ptrace read access (CAP_SYS_PTRACE for QEMU
 * processes of other users, as libvirt runs them).
 *
 * Exit status: 0 on SIGTERM/SIGINT; 1 when the device cannot be opened
 * (kvmx_core not loaded, another kvmxd attached, no privilege) or fails,
 * or when the policy files do not load at start; 2 for usage errors.
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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../include/uapi/kvmx/advice.h"
#include "lib/kvmxd_conf.h"
#include "lib/kvmxd_vms.h"

#define PROG		"kvmxd"
#define MAX_BATCH	KVMX_ADVICE_MAX_IN_FLIGHT
#define MAX_HOLD_MS	600000
#define LOG_BURST	10
#define LOG_WINDOW_MS	10000
#define SCAN_MS		200
#define MIN_SCAN_MS	10
#define MAX_SCAN_MS	60000

#ifndef MADV_COLD
#define MADV_COLD	20
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT	21
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25
#endif

#include "kvmx_tool.h"

static bool verbose;
static bool stop, reload;
static int sig_fd = -1;

/* Totals, for the exit line. */
static unsigned long long n_requests, n_failed, n_bytes;

/* Ratelimited failure log: LOG_BURST lines per LOG_WINDOW_MS. */
static long long log_window;
static int log_lines;
static unsigned long log_dropped;

static void fail_msg(const char *fmt, ...)
{
	long long now = now_ms();
	va_list ap;

	if (now - log_window >= LOG_WINDOW_MS) {
		if (log_dropped)
			msg("%lu more failures not logged", log_dropped);
		log_window = now;
		log_lines = 0;
		log_dropped = 0;
	}
	if (log_lines >= LOG_BURST) {
		log_dropped++;
		return;
	}
	log_lines++;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

#define dbg(...) do { if (verbose) msg(__VA_ARGS__); } while (0)

static void print_help(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [--device PATH] [--config FILE] [--config-dir DIR]\n"
		"             [--sysfs ROOT] [--scan-ms MS] [--no-policy] [--verbose]\n"
		"             [--hold-ms MS] [--fd N]\n"
		"Carries out kvmx's memory advice on VMs with process_madvise(2),\n"
		"and applies per-VM policy from FILE (" KVMXD_CONF_MAIN ")\n"
		"and DIR/*.conf (" KVMXD_CONF_DIR ") to every VM kvmx_core\n"
		"attaches under ROOT (" KVMXD_SYSFS_ROOT "), looked for every\n"
		"MS (%d..%d, default %d). SIGHUP reloads the policy.\n"
		"PATH defaults to " KVMX_ADVICE_DEVICE ". For tests: --hold-ms waits\n"
		"MS (0..%d) before carrying out each batch, --fd serves an open\n"
		"descriptor instead of PATH.\n", MIN_SCAN_MS, MAX_SCAN_MS, SCAN_MS,
		MAX_HOLD_MS);
}

static const char *advice_name(int advice)
{
	switch (advice) {
	case MADV_PAGEOUT:
		return "pageout";
	case MADV_COLD:
		return "cold";
	case MADV_COLLAPSE:
		return "collapse";
	}
	return "?";
}

static void take_signals(void)
{
	struct signalfd_siginfo si;

	while (read(sig_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			reload = true;
		else
			stop = true;
	}
}

/* Sleep @ms, or less if a signal arrives (the batch is served anyway). */
static void hold(long ms)
{
	long long end = now_ms() + ms;
	struct pollfd p = { .fd = sig_fd, .events = POLLIN };
	int left;

	while (!stop && (left = (int)(end - now_ms())) > 0) {
		if (poll(&p, 1, left) > 0)
			take_signals();
	}
}

/* ------------------------------------------------------------------ */

static long page_size;

/* 0, or -EINVAL for a request kvmx_core should never have sent. */
static int check_request(const struct kvmx_advice_request *r)
{
	if (r->advice != MADV_PAGEOUT && r->advice != MADV_COLD &&
	    r->advice != MADV_COLLAPSE)
		return -EINVAL;
	if (r->pid <= 0 || !r->len || r->start + r->len < r->start ||
	    (r->start | r->len) & (page_size - 1))
		return -EINVAL;
	return 0;
}

/* The VM's process, or -errno: ESRCH if @pid is now another process. */
static int open_vm(const struct kvmx_advice_request *r)
{
	struct stat st;
	int fd, err;

	fd = syscall(SYS_pidfd_open, r->pid, 0);
	if (fd < 0) {
		err = errno;
		fail_msg("request %llu: VM process %d: %s: not advised",
			 (unsigned long long)r->id, r->pid, strerror(err));
		return -err;
	}
	if (fstat(fd, &st)) {
		err = errno;
		close(fd);
		fail_msg("request %llu: pidfd of %d: %s: not advised",
			 (unsigned long long)r->id, r->pid, strerror(err));
		return -err;
	}
	if ((unsigned long long)st.st_ino != r->pid_ino) {
		close(fd);
		fail_msg("request %llu: pid %d is no longer the VM's process (pidfd inode %llu, the VM's %llu): not advised",
			 (unsigned long long)r->id, r->pid,
			 (unsigned long long)st.st_ino,
			 (unsigned long long)r->pid_ino);
		return -ESRCH;
	}
	return fd;
}

static long madvise_ranges(int pidfd, const struct iovec *iov, int n,
			   int advice)
{
	long ret = syscall(SYS_process_madvise, pidfd, iov, (size_t)n, advice,
			   0U);

	return ret < 0 ? -errno : ret;
}

/*
 * Advise requests @idx[0..n) of @rq, all of one process and one advice,
 * setting their results in @res.
 */
static void advise_group(const struct kvmx_advice_request *rq,
			 struct kvmx_advice_result *res, const int *idx, int n,
			 struct iovec *iov)
{
	const struct kvmx_advice_request *r0 = &rq[idx[0]];
	int pidfd, i, pos, cnt;
	long ret;

	pidfd = open_vm(r0);
	if (pidfd < 0) {
		for (i = 0; i < n; i++)
			res[idx[i]].result = pidfd;
		return;
	}
	dbg("pid %d: %s of %d ranges", r0->pid, advice_name(r0->advice), n);
	for (i = 0; i < n; i++) {
		iov[i].iov_base = (void *)(uintptr_t)rq[idx[i]].start;
		iov[i].iov_len = rq[idx[i]].len;
	}
	pos = 0;
	while (pos < n) {
		cnt = n - pos < IOV_MAX ? n - pos : IOV_MAX;
		ret = madvise_ranges(pidfd, iov + pos, cnt, r0->advice);
		if (ret < 0) {
			/* Nothing was advised: the first range failed. */
			res[idx[pos++]].result = ret;
			continue;
		}
		/* Whole ranges were advised, in order, up to a failing one. */
		for (i = pos; i < pos + cnt && (size_t)ret >= iov[i].iov_len;
		     i++) {
			res[idx[i]].result = iov[i].iov_len;
			ret -= iov[i].iov_len;
		}
		if (i < pos + cnt) {
			/* Ask again for that one alone, to learn its errno. */
			res[idx[i]].result = madvise_ranges(pidfd, &iov[i], 1,
							    r0->advice);
			i++;
		}
		pos = i;
	}
	close(pidfd);
	for (i = 0; i < n; i++) {
		const struct kvmx_advice_request *r = &rq[idx[i]];

		if (res[idx[i]].result < 0)
			fail_msg("request %llu: %s of %llu bytes at 0x%llx in pid %d: %s",
				 (unsigned long long)r->id,
				 advice_name(r->advice),
				 (unsigned long long)r->len,
				 (unsigned long long)r->start, r->pid,
				 strerror((int)-res[idx[i]].result));
	}
}

/* Carry out @n requests, filling @res. */
static void serve(const struct kvmx_advice_request *rq,
		  struct kvmx_advice_result *res, int n)
{
	static int idx[MAX_BATCH];
	static struct iovec iov[MAX_BATCH];
	static bool grouped[MAX_BATCH];
	int i, j, k;

	for (i = 0; i < n; i++) {
		res[i].id = rq[i].id;
		res[i].result = check_request(&rq[i]);
		grouped[i] = res[i].result != 0;
		if (grouped[i])
			fail_msg("request %llu: malformed (advice %d, pid %d, 0x%llx+%llu)",
				 (unsigned long long)rq[i].id, rq[i].advice,
				 rq[i].pid, (unsigned long long)rq[i].start,
				 (unsigned long long)rq[i].len);
	}
	/* One group per process and advice, in the order they came. */
	for (i = 0; i < n; i++) {
		if (grouped[i])
			continue;
		k = 0;
		for (j = i; j < n; j++) {
			if (grouped[j] || rq[j].pid != rq[i].pid ||
			    rq[j].pid_ino != rq[i].pid_ino ||
			    rq[j].advice != rq[i].advice)
				continue;
			grouped[j] = true;
			idx[k++] = j;
		}
		advise_group(rq, res, idx, k, iov);
	}
	for (i = 0; i < n; i++) {
		n_requests++;
		if (res[i].result < 0)
			n_failed++;
		else
			n_bytes += res[i].result;
	}
}

/* Hand back @n results; the kernel rejecting one is logged and skipped. */
static int answer(int dev, const struct kvmx_advice_result *res, int n)
{
	int done = 0;
	ssize_t w;

	while (done < n) {
		w = write(dev, res + done, (n - done) * sizeof(*res));
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno != ENOENT && errno != EALREADY &&
			    errno != EINVAL) {
				msg("writing results: %s", strerror(errno));
				return -1;
			}
			fail_msg("result of request %llu refused: %s",
				 (unsigned long long)res[done].id,
				 strerror(errno));
			done++;
			continue;
		}
		done += w / sizeof(*res);
	}
	return 0;
}

/* --- per-VM policy ------------------------------------------------ */

static struct kvmxd_policy *policy;	/* NULL with --no-policy */
static const char *conf_file = KVMXD_CONF_MAIN, *conf_dir = KVMXD_CONF_DIR;
static struct kvmxd_vms vms = { .root = KVMXD_SYSFS_ROOT };

/* Load the policy files: a new policy, or NULL with the error logged. */
static struct kvmxd_policy *load_policy(void)
{
	struct kvmxd_conf_err err;
	struct kvmxd_policy *pol;

	pol = kvmxd_policy_load(conf_file, conf_dir, &err);
	if (!pol)
		msg("policy: %s", err.text[0] ? err.text : strerror(ENOMEM));
	return pol;
}

/* Give VM @vm what its section sets, and say so. */
static void apply_vm(const struct kvmxd_vm *vm, void *arg)
{
	char done[512], failed[512], who[KVMXD_NAME_MAX + 128];
	const struct kvmxd_section *sec;
	struct kvmxd_vm_id id;
	int err;

	(void)arg;
	err = kvmxd_vm_identify(vm->pid, &id);
	if (err) {
		/* Gone already, or not a process kvmxd can read. */
		dbg("%s: command line: %s", vm->id, strerror(-err));
		return;
	}
	if (id.uuid[0])
		snprintf(who, sizeof(who), "%s (%s, uuid %s)", vm->id,
			 id.name[0] ? id.name : "no name", id.uuid);
	else
		snprintf(who, sizeof(who), "%s (%s)", vm->id,
			 id.name[0] ? id.name : "no name");
	sec = kvmxd_policy_match(policy, &id);
	if (!sec) {
		dbg("%s: no section", who);
		return;
	}
	kvmxd_apply(vms.root, vm->id, sec, done, failed, sizeof(done));
	msg("%s: [%s%s%s] of %s:%u: %s%s%s", who, kvmxd_kind_name(sec->kind),
	    sec->name[0] ? " " : "", sec->name, sec->file, sec->line,
	    done[0] ? done : "nothing set", failed[0] ? "; failed: " : "",
	    failed);
}

/*
 * Whether a module kvmxd writes for (ksm_cmd, idle_tax) was loaded since
 * the last call: its directory under ROOT is another one. A module loaded
 * again starts every VM with its defaults (domain 0), so every VM gets its
 * policy again.
 */
static bool modules_reloaded(void)
{
	static const char *const dirs[] = { "ksm_cmd", "idle_tax" };
	static ino_t ino[2];
	char path[PATH_MAX];
	bool again = false;
	struct stat st;
	unsigned int i;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", vms.root, dirs[i]);
		if (stat(path, &st))
			st.st_ino = 0;
		if (st.st_ino && st.st_ino != ino[i])
			again = true;
		ino[i] = st.st_ino;
	}
	return again;
}

/* Look for new VMs; with @all, apply the policy to every VM again. */
static void scan_vms(bool all)
{
	static int last_err;
	unsigned int i;
	int err;

	if (!policy)
		return;
	if (modules_reloaded() && vms.n) {
		msg("policy: a module was loaded; applying to %u VMs", vms.n);
		all = true;
	}
	err = kvmxd_vms_scan(&vms, apply_vm, NULL);
	if (err && err != last_err)
		msg("%s/vms: %s: is kvmx_core loaded?", vms.root,
		    strerror(-err));
	last_err = err;
	if (all && !err)
		for (i = 0; i < vms.n; i++)
			apply_vm(&vms.vm[i], NULL);
}

/* SIGHUP: the new policy if it loads, the old one otherwise. */
static void reload_policy(void)
{
	struct kvmxd_policy *pol;

	reload = false;
	if (!policy)
		return;
	pol = load_policy();
	if (!pol) {
		msg("policy: keeping the policy in force");
		return;
	}
	kvmxd_policy_free(policy);
	policy = pol;
	msg("policy: reloaded, %u sections; applying to %u VMs",
	    kvmxd_policy_count(policy), vms.n);
	scan_vms(true);
}

static int open_device(const char *path)
{
	int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	switch (errno) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		msg("%s: %s: is kvmx_core loaded?", path, strerror(errno));
		break;
	case EBUSY:
		msg("%s: another kvmxd is attached", path);
		break;
	case EACCES:
	case EPERM:
		msg("%s: %s: kvmxd needs root (CAP_SYS_ADMIN)", path,
		    strerror(errno));
		break;
	default:
		msg("%s: %s", path, strerror(errno));
	}
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "hold-ms", required_argument, NULL, 'H' },
		{ "fd", required_argument, NULL, 'f' },
		{ "config", required_argument, NULL, 'c' },
		{ "config-dir", required_argument, NULL, 'C' },
		{ "sysfs", required_argument, NULL, 's' },
		{ "scan-ms", required_argument, NULL, 'S' },
		{ "no-policy", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct kvmx_advice_request rq[MAX_BATCH];
	static struct kvmx_advice_result res[MAX_BATCH];
	const char *path = KVMX_ADVICE_DEVICE;
	long hold_ms = 0, fd_arg = -1, scan_ms = SCAN_MS;
	long long next_scan = 0;
	bool use_policy = true;
	int timeout;
	struct pollfd pfd[2];
	sigset_t sigs;
	char *end;
	ssize_t got;
	int c, dev, status = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (!*optarg)
				return bad_usage("--device: empty path");
			path = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		case 'H':
			errno = 0;
			hold_ms = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || hold_ms < 0 ||
			    hold_ms > MAX_HOLD_MS)
				return bad_usage("--hold-ms: %s is not 0..%d",
						 optarg, MAX_HOLD_MS);
			break;
		case 'f':
			errno = 0;
			fd_arg = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || fd_arg < 0 ||
			    fd_arg > INT_MAX)
				return bad_usage("--fd: %s is not a descriptor",
						 optarg);
			break;
		case 'c':
			if (!*optarg)
				return bad_usage("--config: empty path");
			conf_file = optarg;
			break;
		case 'C':
			if (!*optarg)
				return bad_usage("--config-dir: empty path");
			conf_dir = optarg;
			break;
		case 's':
			if (!*optarg || strlen(optarg) > PATH_MAX / 2)
				return bad_usage("--sysfs: empty or too long");
			vms.root = optarg;
			break;
		case 'S':
			errno = 0;
			scan_ms = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end ||
			    scan_ms < MIN_SCAN_MS || scan_ms > MAX_SCAN_MS)
				return bad_usage("--scan-ms: %s is not %d..%d",
						 optarg, MIN_SCAN_MS,
						 MAX_SCAN_MS);
			break;
		case 'n':
			use_policy = false;
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
	if (optind < argc)
		return bad_usage("unexpected argument %s", argv[optind]);
	page_size = sysconf(_SC_PAGESIZE);

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sig_fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sig_fd < 0) {
		msg("signalfd: %s", strerror(errno));
		return 1;
	}

	if (fd_arg >= 0) {
		dev = (int)fd_arg;
		if (fcntl(dev, F_SETFL, fcntl(dev, F_GETFL) | O_NONBLOCK)) {
			msg("--fd %d: %s", dev, strerror(errno));
			close(sig_fd);
			return 1;
		}
		path = "--fd";
	} else {
		dev = open_device(path);
		if (dev < 0) {
			close(sig_fd);
			return 1;
		}
	}
	if (use_policy) {
		policy = load_policy();
		if (!policy) {
			close(dev);
			close(sig_fd);
			return 1;
		}
		msg("policy: %u sections from %s and %s/*.conf",
		    kvmxd_policy_count(policy), conf_file, conf_dir);
	}
	msg("serving %s", path);

	while (!stop) {
		if (reload)
			reload_policy();
		if (policy && now_ms() >= next_scan) {
			scan_vms(false);
			next_scan = now_ms() + scan_ms;
		}
		timeout = policy ? (int)(next_scan - now_ms()) : -1;
		if (policy && timeout < 0)
			timeout = 0;
		pfd[0] = (struct pollfd){ .fd = dev, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = sig_fd, .events = POLLIN };
		if (poll(pfd, 2, timeout) < 0) {
			if (errno == EINTR)
				continue;
			msg("poll: %s", strerror(errno));
			status = 1;
			break;
		}
		if (pfd[1].revents)
			take_signals();
		if (pfd[0].revents & (POLLERR | POLLNVAL)) {
			msg("%s: poll error", path);
			status = 1;
			break;
		}
		if (!(pfd[0].revents & (POLLIN | POLLHUP)))
			continue;
		got = read(dev, rq, sizeof(rq));
		if (got < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			msg("reading %s: %s", path, strerror(errno));
			status = 1;
			break;
		}
		if (!got) {
			msg("%s: end of file", path);
			status = 1;
			break;
		}
		if (got % sizeof(rq[0]))
			msg("%s: read %zd bytes, not whole requests", path,
			    got);
		got /= sizeof(rq[0]);
		if (hold_ms)
			hold(hold_ms);
		serve(rq, res, (int)got);
		if (answer(dev, res, (int)got)) {
			status = 1;
			break;
		}
	}
	close(dev);
	close(sig_fd);
	kvmxd_policy_free(policy);
	kvmxd_vms_free(&vms);
	if (log_dropped)
		msg("%lu more failures not logged", log_dropped);
	msg("exiting: %llu requests, %llu failed, %llu bytes advised",
	    n_requests, n_failed, n_bytes);
	return status;
}
