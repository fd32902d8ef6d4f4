/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmxd's per-VM policy: the configuration files, and which of their
 * sections a QEMU process gets. Plain C and libc, no kernel headers.
 *
 * Files
 * -----
 * /etc/kvmx/kvmxd.conf, then every /etc/kvmx/vms.d/NAME.conf in byte
 * order of NAME (strcmp(), so "10-a.conf" comes before "9-b.conf"). Either
 * may be missing. Of vms.d, the names that end in ".conf" and do not start
 * with '.' are read, and each must be a regular file or a link to one;
 * other names are passed over (editors' "web.conf~", "web.conf.bak").
 * Together they make one policy: a section or a key defined twice is an
 * error, also across files.
 *
 * Format
 * ------
 * One item per line:
 *
 *   # a comment: the whole line
 *   [vm web1]             # matches QEMU's -name guest=web1 or -name web1
 *   shares = 2000         # 1..1000000
 *   min_bytes = 512M      # 0..64T
 *   max_bytes = 4G        # 4096..64T, and at least min_bytes
 *   ksm_domain = 5        # 0..65535
 *
 *   [uuid 0f3c6e2a-5b1d-4c8e-9a7f-2d4b6c8e0a1f]   # matches QEMU's -uuid
 *   [libvirt web2]        # matches the libvirt domain web2
 *   [default]             # every VM that matches no other section
 *
 * - Lines end in "\n"; the last one may lack it. Blanks are spaces and
 *   tabs. Blank lines and lines whose first non-blank byte is '#' are
 *   ignored. A section line may end in a comment ('#' and anything), a
 *   key line in blanks and a comment ("2000#x" is not a number). A NUL
 *   byte, a carriage return or any other control byte than a tab is an
 *   error anywhere, comments included.
 * - A section line is '[', KIND, blanks and NAME, then ']'; [default] has
 *   no NAME. Blanks just inside the brackets are ignored. KIND is vm,
 *   uuid, libvirt or default. NAME is 1..255 bytes with no control byte,
 *   no '[' and no ']'; it may hold spaces, and is matched byte for byte.
 *   A uuid NAME is the canonical xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx
 *   form in hex digits of either case; it is matched without regard to
 *   case.
 * - A key line is KEY = VALUE, with or without blanks around '='. Every
 *   key belongs to the section line above it in its file; a key above the
 *   first section of a file is an error. Keys and kinds are lower case;
 *   unknown keys and unknown kinds are errors.
 * - Numbers are decimal digits only: no sign, no "0x", no blanks inside
 *   and no leading zero ("010" is an error, so that nobody reads it as
 *   octal; "0" is fine). min_bytes and max_bytes may end in one of K, M,
 *   G or T (or k, m, g, t), binary multiples as in the kernel's
 *   memparse(): "512M" is 536870912.
 * - The ranges are those of the modules: shares 1..1000000 and the byte
 *   limits at most 64 TiB (idle_tax), max_bytes at least one page, and,
 *   when a section sets both, a whole 4 KiB page between min_bytes and
 *   max_bytes (idle_tax refuses them otherwise); ksm_domain 0..65535
 *   (ksm_cmd). A limit above the VM's own size is for the module to
 *   refuse when kvmxd applies it.
 * - A section may set any of the keys, or none. A VM gets the keys of
 *   exactly one section: keys that section does not set are left as the
 *   modules have them, not taken from [default]. An empty [vm NAME]
 *   therefore keeps that VM out of [default].
 *
 * Limits: lines of at most 1024 bytes, files of at most 1 MiB, 4096 files
 * in vms.d, 4096 sections in all.
 *
 * Errors are "FILE:LINE: what" ("vms.d/web.conf:12: ksm_domain: 70000 is
 * out of range 0..65535"), or "FILE: what" for a whole file. A policy is
 * built complete or not at all: kvmxd_policy_load() returns a new policy
 * or NULL, and kvmxd_policy_parse() leaves the policy it adds to as it
 * was when it fails. The policy in force is never half-replaced.
 *
 * Matching
 * --------
 * kvmxd_vm_id_parse() reads a QEMU process's /proc/PID/cmdline: its -name
 * (guest= key or the implied first value), -uuid, and QMP socket. QEMU
 * option values write a comma as ",,", which is read as one comma.
 * kvmxd_policy_match() then picks, in this order:
 *   1. the [uuid] section of the VM's -uuid;
 *   2. the [libvirt] section of its name, if libvirt runs the VM
 *      (kvmxd_vm_id.libvirt: libvirt's monitor is on the command line,
 *      or libvirt says so);
 *   3. the [vm] section of its name;
 *   4. [default];
 * and NULL if there is none of these. libvirt starts QEMU with
 * "-name guest=DOMAIN,..." and "-uuid", so a [libvirt NAME] section
 * matches the same -name guest= value as [vm NAME] does, but only for a
 * VM that libvirt runs, and it wins over [vm NAME].
 *
 * A process's command line is its owner's to choose: the name and uuid of
 * a QEMU that a user starts are what that user says they are.
 */
#ifndef KVMXD_CONF_H
#define KVMXD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KVMXD_CONF_MAIN		"/etc/kvmx/kvmxd.conf"
#define KVMXD_CONF_DIR		"/etc/kvmx/vms.d"

#define KVMXD_LINE_MAX		1024		/* bytes, without the "\n" */
#define KVMXD_FILE_MAX		(1 << 20)	/* bytes */
#define KVMXD_FILES_MAX		4096		/* in the directory */
#define KVMXD_SECTIONS_MAX	4096
#define KVMXD_NAME_MAX		255
#define KVMXD_UUID_LEN		36
#define KVMXD_QMP_PATH_MAX	107		/* sun_path, less its NUL */
#define KVMXD_ERR_LEN		512

/* The modules' ranges (idle_tax_policy.h, ksm_cmd's CMD_MAX_DOMAIN). */
#define KVMXD_SHARES_MIN	1
#define KVMXD_SHARES_MAX	1000000
#define KVMXD_PAGE_SIZE		4096ULL
#define KVMXD_BYTES_MAX		(1ULL << 46)	/* 64 TiB */
#define KVMXD_DOMAIN_MAX	65535

enum kvmxd_kind {
	KVMXD_DEFAULT,
	KVMXD_UUID,
	KVMXD_LIBVIRT,
	KVMXD_VM,
};

/* Which keys a section sets. */
#define KVMXD_SET_SHARES	(1U << 0)
#define KVMXD_SET_MIN_BYTES	(1U << 1)
#define KVMXD_SET_MAX_BYTES	(1U << 2)
#define KVMXD_SET_KSM_DOMAIN	(1U << 3)

struct kvmxd_section {
	enum kvmxd_kind kind;
	char name[KVMXD_NAME_MAX + 1];	/* "" for [default]; uuids lower case */
	unsigned int set;		/* KVMXD_SET_* */
	uint32_t shares;
	uint64_t min_bytes;
	uint64_t max_bytes;
	uint32_t ksm_domain;
	const char *file;		/* where it is defined, for messages */
	unsigned int line;
	unsigned int key_line[4];	/* line of each key, by KVMXD_SET_ bit */
};

struct kvmxd_conf_err {
	unsigned int line;		/* 0 for a whole file */
	char text[KVMXD_ERR_LEN];	/* "FILE:LINE: what", or "" */
};

struct kvmxd_policy;

/* An empty policy, or NULL without memory. */
struct kvmxd_policy *kvmxd_policy_new(void);
void kvmxd_policy_free(struct kvmxd_policy *pol);

/*
 * Add the sections of @len bytes at @buf, read from a file named @file (for
 * messages), to @pol. 0, or -EINVAL (-ENOMEM, -EFBIG) with @err set and
 * @pol as it was before the call.
 */
int kvmxd_policy_parse(struct kvmxd_policy *pol, const char *file,
		       const char *buf, size_t len,
		       struct kvmxd_conf_err *err);

/*
 * Add the file at @path to @pol, as kvmxd_policy_parse(). A missing file
 * is an empty one if @missing_ok; anything but a regular file is an error.
 */
int kvmxd_policy_parse_file(struct kvmxd_policy *pol, const char *path,
			    bool missing_ok, struct kvmxd_conf_err *err);

/*
 * The policy of the file @conf and then of @dir's *.conf files in byte
 * order of their names (either may be NULL or missing). A new policy, or
 * NULL with @err set. The caller replaces the policy in force only when
 * it gets one, and frees the old one.
 */
struct kvmxd_policy *kvmxd_policy_load(const char *conf, const char *dir,
				       struct kvmxd_conf_err *err);

unsigned int kvmxd_policy_count(const struct kvmxd_policy *pol);
/* Section @i in the order of the files, or NULL past the end. */
const struct kvmxd_section *kvmxd_policy_section(const struct kvmxd_policy *pol,
						 unsigned int i);

/* What a QEMU process's command line says about the VM. */
struct kvmxd_vm_id {
	char name[KVMXD_NAME_MAX + 1];	/* -name guest=; "" if none */
	char uuid[KVMXD_UUID_LEN + 1];	/* -uuid, lower case; "" if none */
	/*
	 * Its monitor is libvirt's ("-mon chardev=charmonitor,..."). In
	 * libvirt mode kvmxd sets it from what libvirt says instead.
	 */
	bool libvirt;
	/*
	 * The first QMP monitor (-qmp, -qmp-pretty, or -mon mode=control
	 * on a -chardev socket) that QEMU serves on a unix socket, among
	 * its first 16 monitors:
	 */
	char qmp_path[KVMXD_QMP_PATH_MAX + 1];	/* its path, or "" */
	int qmp_fd;	/* or the descriptor QEMU got it on (libvirt), or -1 */
};

/*
 * Read @len bytes of /proc/PID/cmdline (NUL-separated arguments) into @id.
 * Options may start with "-" or "--". A value that kvmxd cannot use (a
 * name longer than KVMXD_NAME_MAX, a malformed uuid, a socket path longer
 * than KVMXD_QMP_PATH_MAX, an abstract socket) is left empty rather than
 * cut. A relative socket path is as QEMU got it: relative to the QEMU
 * process's working directory. 0, or -EINVAL for an empty command line
 * (a zombie or a kernel thread) or a NULL pointer.
 */
int kvmxd_vm_id_parse(struct kvmxd_vm_id *id, const char *cmdline,
		      size_t len);

/* The section for the VM @id (see "Matching" above), or NULL. */
const struct kvmxd_section *kvmxd_policy_match(const struct kvmxd_policy *pol,
					       const struct kvmxd_vm_id *id);

/* "vm", "uuid", "libvirt" or "default". */
const char *kvmxd_kind_name(enum kvmxd_kind kind);

#endif /* KVMXD_CONF_H */
