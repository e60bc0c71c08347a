/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * machined where it answers (lib/machined.h, docs/stage1.md): the decision,
 * against a D-Bus daemon of the test's own on a private socket, with and
 * without a process owning org.freedesktop.machine1 on it (sd-bus answers
 * the Peer.Ping the detection sends on its own). Machines of this project
 * have no machined; this is how the decision is tested there.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "machined.h"
#include "macro.h"
#include "tap.h"

static void nap(void) {
        (void) nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000 * 1000 }, NULL);
}

/* A child that owns org.freedesktop.machine1 and serves until killed;
 * writes "owned\n" to `ready` once it owns the name. */
static pid_t fake_machined(int ready) {
        pid_t pid = fork();

        if (pid != 0)
                return pid;
        sd_bus *bus = NULL;
        if (sd_bus_open_system(&bus) < 0 || sd_bus_request_name(bus, "org.freedesktop.machine1", 0) < 0)
                _exit(1);
        if (write(ready, "owned\n", 6) != 6)
                _exit(1);
        for (;;) {
                int r = sd_bus_process(bus, NULL);

                if (r < 0)
                        _exit(1);
                if (r == 0)
                        (void) sd_bus_wait(bus, UINT64_MAX);
        }
}

int main(int argc, char *argv[]) {
        char dir[] = "/tmp/test-machined.XXXXXX", conf[256], sock[256], addr[300];
        _cleanup_free_ char *scope = NULL;
        pid_t daemon_pid, fake;
        int pipefd[2];
        char c;
        FILE *f;

        /* Also the stand-in machined of tests/integration/test-stage1.sh: owns
         * the name on $DBUS_SYSTEM_BUS_ADDRESS, says "owned", serves pings. */
        if (argc == 2 && strcmp(argv[1], "--own-machined") == 0) {
                fake = fake_machined(STDOUT_FILENO);
                waitpid(fake, NULL, 0);
                return 1;
        }

        OK_INTEQ(machined_scope_path("rkt-6f2b0d0e-3a5c-4d8e-9f1a-2b3c4d5e6f70", &scope), 0, "scope path");
        OK_STREQ(scope, "/machine.slice/machine-rkt\\x2d6f2b0d0e\\x2d3a5c\\x2d4d8e\\x2d9f1a\\x2d2b3c4d5e6f70.scope",
                 "the machine scope of rkt-<uuid>, dashes escaped as systemd does");
        scope = mfree(scope);
        OK_INTEQ(machined_scope_path("Bad_Name", &scope), -EINVAL, "a machine name outside [a-z0-9-] is refused");

        setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/nspawn-pod-test/bus", 1);
        OK_INTEQ(machined_available(), 0, "no bus: machined is not available (--register=no --keep-unit)");
        OK_INTEQ(machined_terminate("rkt-x"), 0, "no bus: nothing to unregister");

        if (access("/usr/bin/dbus-daemon", X_OK) < 0) {
                printf("ok %u - a bus without and with machined # SKIP dbus-daemon not installed\n", ++tap_n);
                return tap_done();
        }
        if (!mkdtemp(dir)) {
                OK(false, "mkdtemp: %m");
                return tap_done();
        }
        (void) snprintf(conf, sizeof(conf), "%s/bus.conf", dir);
        (void) snprintf(sock, sizeof(sock), "%s/bus", dir);
        (void) snprintf(addr, sizeof(addr), "unix:path=%s", sock);
        f = fopen(conf, "we");
        if (!f) {
                OK(false, "cannot write %s: %m", conf);
                return tap_done();
        }
        fprintf(f,
                "<busconfig><type>system</type><listen>%s</listen><auth>EXTERNAL</auth>"
                "<policy context=\"default\"><allow send_destination=\"*\"/><allow own=\"*\"/>"
                "<allow receive_sender=\"*\"/></policy></busconfig>\n",
                addr);
        fclose(f);
        daemon_pid = fork();
        if (daemon_pid == 0) {
                execl("/usr/bin/dbus-daemon", "dbus-daemon", "--nofork", "--nopidfile", "--config-file", conf,
                      (char *) NULL);
                _exit(127);
        }
        for (int i = 0; i < 250 && access(sock, F_OK) < 0; i++)
                nap();
        OK(access(sock, F_OK) == 0, "a private bus is up");
        setenv("DBUS_SYSTEM_BUS_ADDRESS", addr, 1);

        OK_INTEQ(machined_available(), 0, "a bus without org.freedesktop.machine1: not available");

        if (pipe(pipefd) < 0) {
                OK(false, "pipe: %m");
                return tap_done();
        }
        fake = fake_machined(pipefd[1]);
        OK(read(pipefd[0], &c, 1) == 1, "a process owns org.freedesktop.machine1 on it");
        OK_INTEQ(machined_available(), 1, "... and machined is available: --register=yes");
        kill(fake, SIGKILL);
        waitpid(fake, NULL, 0);
        /* The bus drops the name with the connection. */
        for (int i = 0; i < 250 && machined_available() != 0; i++)
                nap();
        OK_INTEQ(machined_available(), 0, "once it is gone, not available again");

        kill(daemon_pid, SIGTERM);
        waitpid(daemon_pid, NULL, 0);
        unlink(conf);
        unlink(sock);
        rmdir(dir);
        return tap_done();
}
