/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * systemd-machined, where it answers (docs/stage1.md, "machined"): pods are
 * registered with it (nspawn --register=yes) so that machinectl and
 * journalctl -M know them; elsewhere (no systemd as PID 1, no D-Bus, no
 * machined) nspawn runs with --register=no --keep-unit. Detected at run
 * time, never assumed: rkt's host flavor always registered and failed on
 * such hosts.
 */

/* 1 if org.freedesktop.machine1 answers a ping on the system bus
 * ($DBUS_SYSTEM_BUS_ADDRESS or the default socket) within a short timeout,
 * 0 if there is no bus or no machined on it. */
int machined_available(void);

/* The cgroup machined gives machine `name`: "/machine.slice/machine-<name,
 * unit-escaped>.scope", as nspawn --register=yes moves itself there. */
int machined_scope_path(const char *name, char **ret);

/* Asks machined to forget machine `name` (TerminateMachine), if there is a
 * machined and it knows the machine: 1 done, 0 nothing to do. */
int machined_terminate(const char *name);
