/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/idmap.h's parser, and lib/proc-state.h's reading of user namespace
 * maps: on this process (the host's identity map) and, as root, on a child
 * in a user namespace made by idmap_userns(). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "idmap.h"
#include "proc-state.h"
#include "tap.h"

static void good(const char *s, uint32_t shift, uint32_t range) {
        uint32_t a = 0, b = 0;

        OK_INTEQ(idmap_parse(s, &a, &b), 0, "\"%s\" parses", s);
        OK(a == shift && b == range, "\"%s\" is %u:%u (got %u:%u)", s, shift, range, a, b);
}

static void bad(const char *s) {
        uint32_t a = 7, b = 7;

        OK_INTEQ(idmap_parse(s, &a, &b), -EINVAL, "\"%s\" refused", s);
        OK(a == 7 && b == 7, "\"%s\": outputs untouched", s);
}

static void in_userns(void) {
        int ns = -1, p[2], status, proc;
        uint32_t shift = 0, range = 0;
        ProcStatus st = {};
        char path[32], c;
        pid_t child;

        OK_INTEQ(idmap_userns(524288, 65536, &ns), 0, "idmap_userns(524288, 65536)");
        if (ns < 0 || pipe(p) < 0)
                return;
        child = fork();
        if (child == 0) {
                /* In the namespace, as the host's root: mapped to
                 * IDMAP_HOST_ROOT_ON_DISK there. */
                if (setns(ns, CLONE_NEWUSER) < 0)
                        _exit(1);
                (void) !write(p[1], "x", 1);
                pause();
                _exit(0);
        }
        close(p[1]);
        OK(read(p[0], &c, 1) == 1, "a child joins the user namespace");
        snprintf(path, sizeof(path), "/proc/%d", (int) child);
        proc = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        OK_INTEQ(proc_userns_range(proc, &shift, &range), 0, "proc_userns_range() of the child");
        OK(shift == 524288 && range == 65536, "its range is 524288:65536 (got %u:%u)", shift, range);
        OK_INTEQ(proc_status_read(proc, &st), 0, "its status reads");
        OK_INTEQ(proc_status_to_userns(proc, &st), 0, "its ids map into its user namespace");
        OK(st.uid[0] == IDMAP_HOST_ROOT_ON_DISK && st.gid[0] == IDMAP_HOST_ROOT_ON_DISK,
           "the host's root is %u there, by the map's second line (got %u:%u)", IDMAP_HOST_ROOT_ON_DISK,
           (unsigned) st.uid[0], (unsigned) st.gid[0]);
        OK_INTEQ(proc_uid_to_outside(proc, 1000, &shift), 0, "its uid 1000 has a host uid");
        OK_INTEQ(shift, 525288, "which is 525288");
        OK_INTEQ(proc_uid_to_outside(proc, 65536, &shift), -ERANGE, "its uid 65536 has none");
        proc_status_done(&st);
        kill(child, SIGKILL);
        waitpid(child, &status, 0);
        close(proc);
        close(p[0]);
        close(ns);
}

int main(void) {
        uint32_t shift, range;
        ProcStatus st = {};
        uid_t uid = getuid();
        int self;

        good("524288", 524288, 65536);
        good("524288:65536", 524288, 65536);
        good("1879048192:65536", 1879048192, 65536);
        good("131072:131072", 131072, 131072);
        good("2147483648:1073741824", 2147483648u, 1073741824u);
        bad("0");
        bad("0:65536");
        bad("65536:0");
        bad("");
        bad("abc");
        bad("-5");
        bad("1:x");
        bad("1:");
        bad(":1");
        bad("4294901760");
        bad("99999999999");
        bad("1:1");             /* not whole blocks of 65536 */
        bad("524289");
        bad("524288:1000");
        bad("65536:131072");    /* more ids than below the shift */
        bad("2147483648:2147483648"); /* reaches the mapping's host-root line */
        bad("18446744069414584320:4295032832"); /* wraps in 64 bits */
        bad("4294901760:65536");

        self = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
        OK_INTEQ(proc_userns_range(self, &shift, &range), -ENOENT, "the host's identity map is no pod's range");
        OK_INTEQ(proc_status_read(self, &st), 0, "our status reads");
        OK_INTEQ(proc_status_to_userns(self, &st), 0, "our ids map through the identity map");
        OK_INTEQ(st.uid[0], uid, "unchanged");
        proc_status_done(&st);
        close(self);

        if (geteuid() == 0)
                in_userns();
        else
                printf("# not root: no user namespace of ours to read\n");
        return tap_done();
}
