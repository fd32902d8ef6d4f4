// SPDX-License-Identifier: GPL-2.0
/*
 * sysfs input for every kvmx module: kvmx_core's exported face of
 * knob_parse.c, where the grammar lives.
 */
#include <linux/export.h>
#include <kvmx/core.h>

#include "knob_parse.h"

int kvmx_parse_u64(const char *buf, size_t count, u64 *v)
{
	return knob_parse_u64(buf, count, 0, v);
}
EXPORT_SYMBOL_GPL(kvmx_parse_u64);

int kvmx_parse_uint(const char *buf, size_t count, unsigned int *v)
{
	return knob_parse_u32(buf, count, v);
}
EXPORT_SYMBOL_GPL(kvmx_parse_uint);

int kvmx_parse_bytes(const char *buf, size_t count, u64 *v)
{
	return knob_parse_u64(buf, count, KNOB_SIZE, v);
}
EXPORT_SYMBOL_GPL(kvmx_parse_bytes);

int kvmx_parse_u64s(const char *buf, size_t count, char sep, u64 *v,
		    unsigned int n)
{
	return knob_parse_u64s(buf, count, sep, v, n);
}
EXPORT_SYMBOL_GPL(kvmx_parse_u64s);

int kvmx_parse_fixed(const char *buf, size_t count, unsigned int decimals,
		     u64 *v)
{
	return knob_parse_fixed(buf, count, decimals, v);
}
EXPORT_SYMBOL_GPL(kvmx_parse_fixed);

int kvmx_parse_bool(const char *buf, size_t count, bool *v)
{
	return knob_parse_bool(buf, count, v);
}
EXPORT_SYMBOL_GPL(kvmx_parse_bool);

int kvmx_parse_word(const char *buf, size_t count, const char *const *words,
		    unsigned int n)
{
	return knob_parse_word(buf, count, words, n);
}
EXPORT_SYMBOL_GPL(kvmx_parse_word);
