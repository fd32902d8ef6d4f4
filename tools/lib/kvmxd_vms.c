// SPDX-License-Identifier: GPL-2.0
/* kvmxd: the attached VMs, and a policy section written into their files. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvmxd_vms.h"

/* A whole small file into @buf, NUL-terminated; its length or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	ssize_t got, total = 0;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((size_t)total < size - 1) {
		got = read(fd, buf + total, size - 1 - total);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			close(fd);
			return -err;
		}
		if (!got)
			break;
		total += got;
	}
	close(fd);
	buf[total] = '\0';
	return total;
}

/*
 * VM @id's attached_ns, which tells one attach from another; 0 while the
 * file is not there yet (kvmx_core makes it once the VM's files are all
 * in place).
 */
static unsigned long long attach_stamp(const char *root, const char *id)
{
	char path[PATH_MAX], buf[32], *end;
	unsigned long long v;

	snprintf(path, sizeof(path), "%s/vms/%s/attached_ns", root, id);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return 0;
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno || end == buf || (*end != '\n' && *end))
		return 0;
	return v;
}

/* "<pid>-<fd>", both decimal without leading zeros: the pid, or -1. */
static int parse_vm_name(const char *name)
{
	const char *p = name;
	long pid = 0, fd = 0;

	if (*p < '1' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		pid = pid * 10 + (*p - '0');
		if (pid > INT_MAX)
			return -1;
	}
	if (*p++ != '-' || *p < '0' || *p > '9' || (*p == '0' && p[1]))
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		fd = fd * 10 + (*p - '0');
		if (fd > INT_MAX)
			return -1;
	}
	return *p ? -1 : (int)pid;
}

static struct kvmxd_vm *find(struct kvmxd_vms *vms, const char *id)
{
	unsigned int i;

	for (i = 0; i < vms->n; i++)
		if (!strcmp(vms->vm[i].id, id))
			return &vms->vm[i];
	return NULL;
}

int kvmxd_vms_scan(struct kvmxd_vms *vms,
		   void (*fresh)(const struct kvmxd_vm *vm, void *arg),
		   void *arg)
{
	char path[PATH_MAX];
	struct kvmxd_vm *vm;
	struct dirent *de;
	unsigned long long start;
	unsigned int i, j;
	DIR *dir;
	int pid;

	snprintf(path, sizeof(path), "%s/vms", vms->root);
	dir = opendir(path);
	if (!dir)
		return -errno;
	for (i = 0; i < vms->n; i++)
		vms->vm[i].seen = false;
	while ((de = readdir(dir))) {
		pid = parse_vm_name(de->d_name);
		if (pid < 0 || strlen(de->d_name) >= KVMXD_VM_ID_MAX)
			continue;
		start = attach_stamp(vms->root, de->d_name);
		vm = find(vms, de->d_name);
		if (!start) {
			/* Not ready: a VM being attached is seen next scan. */
			if (vm)
				vm->seen = true;
			continue;
		}
		if (vm && vm->start == start) {
			vm->seen = true;
			continue;
		}
		if (!vm) {
			if (vms->n == vms->cap) {
				unsigned int cap = vms->cap ? 2 * vms->cap : 16;
				struct kvmxd_vm *v;

				v = realloc(vms->vm, cap * sizeof(*v));
				if (!v)
					continue;	/* seen again next scan */
				vms->vm = v;
				vms->cap = cap;
			}
			vm = &vms->vm[vms->n++];
			snprintf(vm->id, sizeof(vm->id), "%s", de->d_name);
		}
		vm->pid = pid;
		vm->start = start;
		vm->seen = true;
		if (fresh)
			fresh(vm, arg);
	}
	closedir(dir);
	for (i = j = 0; i < vms->n; i++)
		if (vms->vm[i].seen)
			vms->vm[j++] = vms->vm[i];
	vms->n = j;
	return 0;
}

void kvmxd_vms_free(struct kvmxd_vms *vms)
{
	free(vms->vm);
	vms->vm = NULL;
	vms->n = vms->cap = 0;
}

int kvmxd_vm_identify(int pid, struct kvmxd_vm_id *id)
{
	static char buf[1 << 16];
	char path[64];
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	len = read_small(path, buf, sizeof(buf));
	if (len < 0)
		return (int)len;
	return kvmxd_vm_id_parse(id, buf, (size_t)len);
}

/* Append to @buf (of @len) what @fmt says, cut if it is full. */
static void add(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* Write "@value\n" to @root/vms/@id/@file: 0 or -errno. */
static int put(const char *root, const char *id, const char *file,
	       unsigned long long value)
{
	char path[PATH_MAX], text[32];
	int fd, n, err = 0;
	ssize_t w;

	snprintf(path, sizeof(path), "%s/vms/%s/%s", root, id, file);
	n = snprintf(text, sizeof(text), "%llu\n", value);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do {
		w = write(fd, text, (size_t)n);
	} while (w < 0 && errno == EINTR);
	if (w < 0)
		err = -errno;
	else if (w != n)
		err = -EIO;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

static int apply_one(const char *root, const char *id, const char *file,
		     const char *key, unsigned long long value,
		     char *done, char *failed, size_t len, bool report)
{
	int err = put(root, id, file, value);

	if (!err)
		add(done, len, "%s%s=%llu", *done ? " " : "", key, value);
	else if (report)
		add(failed, len, "%s%s: %s%s", *failed ? "; " : "", file,
		    strerror(-err),
		    err == -ENOENT ? " (module not loaded)" : "");
	return err;
}

int kvmxd_apply(const char *root, const char *id,
		const struct kvmxd_section *sec,
		char *done, char *failed, size_t len)
{
	int bad = 0, max_err = 0;

	*done = *failed = '\0';
	if (sec->set & KVMXD_SET_KSM_DOMAIN)
		bad += !!apply_one(root, id, "ksm_domain", "ksm_domain",
				   sec->ksm_domain, done, failed, len, true);
	if (sec->set & KVMXD_SET_MAX_BYTES)
		max_err = apply_one(root, id, "idle_tax/max_bytes",
				    "max_bytes", sec->max_bytes, done, failed,
				    len, !(sec->set & KVMXD_SET_MIN_BYTES));
	if (sec->set & KVMXD_SET_MIN_BYTES)
		bad += !!apply_one(root, id, "idle_tax/min_bytes", "min_bytes",
				   sec->min_bytes, done, failed, len, true);
	if (max_err && (sec->set & KVMXD_SET_MIN_BYTES))
		max_err = apply_one(root, id, "idle_tax/max_bytes",
				    "max_bytes", sec->max_bytes, done, failed,
				    len, true);
	bad += !!max_err;
	if (sec->set & KVMXD_SET_SHARES)
		bad += !!apply_one(root, id, "idle_tax/shares", "shares",
				   sec->shares, done, failed, len, true);
	return bad;
}
