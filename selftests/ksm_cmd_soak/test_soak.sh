#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make soak: the ksm_cmd integrity test with 110 s per phase (five
# classifiers with the unique-page filter and none without it, 11 minutes
# of merging and rewriting, four guests and two stand-in VMs), every page
# verified after each phase.
# kvmx-timeout: 1500
KVMX_SOAK_PHASE=110 exec bash "$(dirname "$0")/../ksm_cmd/test_integrity.sh"
