/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * reaper: records how an app of the pod ended, and makes the first failure
 * the pod's exit code (docs/helpers.md, docs/exit-codes.md). Runs as root in
 * the pod as the ExecStop= of reaper-APP.service, which stops once APP.service
 * is no longer running (StopWhenUnneeded=, ordered Before= the app so that a
 * shutdown stops the app first), or when the pod shuts down.
 *
 * rkt's reaper was a shell script around `systemctl show`; this one asks the
 * pod's systemd directly over its private socket (there is no D-Bus daemon
 * in a pod), so it also works while the manager is shutting down, and every
 * call has a timeout: a reaper that hangs would hold up the pod's exit.
 */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "exit-status.h"
#include "fd-util.h"
#include "log.h"
#include "macro.h"
#include "names.h"
#include "proc-state.h"


/* The rkt-compatible status of an app that never ran (docs/helpers.md). */
#define STATUS_NOT_STARTED 254

#define BUS_ADDRESS "unix:path=/run/systemd/private"
#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define SD_UNIT "org.freedesktop.systemd1.Unit"
#define SD_SERVICE "org.freedesktop.systemd1.Service"
#define SD_UNIT_PREFIX "/org/freedesktop/systemd1/unit"

#define USEC_PER_SEC UINT64_C(1000000)
#define USEC_PER_MSEC UINT64_C(1000)
/* Every D-Bus call; sd-bus's default is 25 s. */
#define METHOD_TIMEOUT_USEC (10 * USEC_PER_SEC)
/* An app still running when its reaper stops is stopped and waited for,
 * then killed: both well inside systemd's default 90 s for our ExecStop=. */
#define STOP_WAIT_USEC (30 * USEC_PER_SEC)
#define KILL_WAIT_USEC (5 * USEC_PER_SEC)
#define POLL_USEC (50 * USEC_PER_MSEC)

#define STATUS_PARENT "/rkt"
#define STATUS_DIR "status"
/* Claimed (O_EXCL) by the first reaper of a failed app; holds the pod's exit
 * code. A dot file: never an app name, so never read as an app's status. */
#define POD_EXIT_CLAIM ".pod-exit-code"

/* siginfo's si_code for a child, as systemd reports it in ExecMainCode. */
enum {
        CODE_NONE = 0,
        CODE_EXITED = 1,
        CODE_KILLED = 2,
        CODE_DUMPED = 3,
};

static const char usage[] =
        "Usage: reaper [--help] APP\n"
        "\n"
        "Record how the app APP of this pod ended, from its unit APP.service, in\n"
        "/rkt/status/APP (the rkt exit status) and /rkt/status/APP.end (how it ended),\n"
        "and make the pod exit with that status if APP is the first app to fail.\n"
        "\n"
        "Exit status: 0 recorded, 2 usage, 254 the pod's systemd could not be asked\n"
        "or the status could not be written.\n";

typedef struct UnitState {
        char *active_state;
        char *load_state;
        char *result;
        int32_t code;
        int32_t status;
        uint64_t start_monotonic;
        uint32_t job;
} UnitState;

static void unit_state_done(UnitState *s) {
        free(s->active_state);
        free(s->load_state);
        free(s->result);
        *s = (UnitState) {};
}

typedef struct Outcome {
        int status;  /* what /rkt/status/APP says */
        char *end;   /* what /rkt/status/APP.end says, without the newline */
        bool failed; /* the app failed: it may set the pod's exit code */
} Outcome;

static int log_bus_error(int r, const sd_bus_error *e, const char *what, const char *name) {
        log_error("Failed to %s '%s': %s", what, name,
                  sd_bus_error_is_set(e) && e->message ? e->message : strerror(r < 0 ? -r : r));
        return r;
}

static void sleep_usec(uint64_t usec) {
        struct timespec ts = {
                .tv_sec = (time_t) (usec / USEC_PER_SEC),
                .tv_nsec = (long) (usec % USEC_PER_SEC) * 1000,
        };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* --- talking to the pod's systemd -------------------------------------------------------- */

static int step_connect(sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        if ((r = sd_bus_new(&bus)) < 0 || (r = sd_bus_set_address(bus, BUS_ADDRESS)) < 0 ||
            (r = sd_bus_set_method_call_timeout(bus, METHOD_TIMEOUT_USEC)) < 0 || (r = sd_bus_start(bus)) < 0)
                return log_errno(r, "Failed to connect to the pod's systemd at '%s'", BUS_ADDRESS);
        *ret = TAKE_PTR(bus);
        return 0;
}

/* Unit object paths are the name with every byte outside [A-Za-z0-9]
 * escaped as _XX (systemd's bus_path_encode(), which sd_bus_path_encode()
 * is): "a-b.service" is .../unit/a_2db_2eservice. */
static int unit_path(const char *unit, char **ret) {
        int r = sd_bus_path_encode(SD_UNIT_PREFIX, unit, ret);

        return r < 0 ? log_errno(r, "Failed to encode the object path of '%s'", unit) : 0;
}

static int get_string(sd_bus *bus, const char *path, const char *iface, const char *prop, const char *unit,
                      char **ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r = sd_bus_get_property_string(bus, SD_DEST, path, iface, prop, &e, ret);

        if (r < 0) {
                log_error("Failed to read %s of '%s': %s", prop, unit,
                          e.message ? e.message : strerror(-r));
                return r;
        }
        return 0;
}

static int get_trivial(sd_bus *bus, const char *path, const char *iface, const char *prop, const char *unit,
                       char type, void *ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r = sd_bus_get_property_trivial(bus, SD_DEST, path, iface, prop, &e, type, ret);

        if (r < 0) {
                log_error("Failed to read %s of '%s': %s", prop, unit,
                          e.message ? e.message : strerror(-r));
                return r;
        }
        return 0;
}

static int get_job(sd_bus *bus, const char *path, const char *unit, uint32_t *ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *job_path;
        int r;

        r = sd_bus_get_property(bus, SD_DEST, path, SD_UNIT, "Job", &e, &reply, "(uo)");
        if (r >= 0)
                r = sd_bus_message_read(reply, "(uo)", ret, &job_path);
        if (r < 0)
                return log_bus_error(r, &e, "read the job of", unit);
        return 0;
}

static int read_unit_state(sd_bus *bus, const char *path, const char *unit, UnitState *ret) {
        UnitState s = {};
        int r;

        if ((r = get_string(bus, path, SD_UNIT, "LoadState", unit, &s.load_state)) < 0 ||
            (r = get_string(bus, path, SD_UNIT, "ActiveState", unit, &s.active_state)) < 0 ||
            (r = get_job(bus, path, unit, &s.job)) < 0 ||
            (r = get_string(bus, path, SD_SERVICE, "Result", unit, &s.result)) < 0 ||
            (r = get_trivial(bus, path, SD_SERVICE, "ExecMainCode", unit, 'i', &s.code)) < 0 ||
            (r = get_trivial(bus, path, SD_SERVICE, "ExecMainStatus", unit, 'i', &s.status)) < 0 ||
            (r = get_trivial(bus, path, SD_SERVICE, "ExecMainStartTimestampMonotonic", unit, 't',
                             &s.start_monotonic)) < 0) {
                unit_state_done(&s);
                return r;
        }
        *ret = s;
        return 0;
}

static bool unit_state_settled(const UnitState *s) {
        return s->job == 0 && (strcmp(s->active_state, "inactive") == 0 || strcmp(s->active_state, "failed") == 0);
}

/* Waits until the unit has no job and is inactive or failed, or `usec` passed. */
static int wait_settled(sd_bus *bus, const char *path, const char *unit, uint64_t usec, UnitState *state) {
        uint64_t deadline = now_usec() + usec;
        int r;

        while (!unit_state_settled(state) && now_usec() < deadline) {
                sleep_usec(POLL_USEC);
                unit_state_done(state);
                r = read_unit_state(bus, path, unit, state);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The unit is still running (or about to start) although its reaper is
 * stopping: the pod is going down around it. OnFailure= of a sibling and
 * nspawn's stop request (SIGRTMIN+3) start halt.target replace-irreversibly,
 * not isolated: it conflicts with the reapers, not with the apps, which
 * would die by SIGKILL when the pod's systemd exits. Stop it now, so its end
 * is one it can clean up for and the status says how it ended; a bounded
 * wait, then SIGKILL, so the reaper never holds up the pod. */
static int settle_unit(sd_bus *bus, const char *path, const char *unit, UnitState *state) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        if (unit_state_settled(state))
                return 0;
        log_error("'%s' is still %s%s: stopping it", unit, state->active_state,
                  state->job != 0 ? " with a job pending" : "");
        r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "StopUnit", &e, NULL, "ss", unit, "replace");
        if (r < 0)
                log_bus_error(r, &e, "stop", unit); /* recorded as it is */
        r = wait_settled(bus, path, unit, STOP_WAIT_USEC, state);
        if (r < 0 || unit_state_settled(state))
                return r;

        sd_bus_error_free(&e);
        log_error("'%s' did not stop within %" PRIu64 " s, killing it", unit,
                  STOP_WAIT_USEC / USEC_PER_SEC);
        r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "KillUnit", &e, NULL, "ssi", unit, "all", SIGKILL);
        if (r < 0)
                log_bus_error(r, &e, "kill", unit);
        return wait_settled(bus, path, unit, KILL_WAIT_USEC, state);
}

/* For an app that never started: the first unit it requires that failed
 * (its prepare-app@ instance, normally). NULL if none did. */
static int failed_dependency(sd_bus *bus, const char *path, const char *unit, char **ret) {
        static const char *const props[] = { "Requires", "Requisite", "BindsTo" };

        *ret = NULL;
        for (size_t i = 0; i < ELEMENTSOF(props); i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                const char *dep;
                int r;

                r = sd_bus_get_property(bus, SD_DEST, path, SD_UNIT, props[i], &e, &reply, "as");
                if (r >= 0)
                        r = sd_bus_message_enter_container(reply, 'a', "s");
                if (r < 0)
                        return log_bus_error(r, &e, "read the dependencies of", unit);
                while ((r = sd_bus_message_read(reply, "s", &dep)) > 0) {
                        _cleanup_free_ char *dep_path = NULL, *active = NULL;

                        if (unit_path(dep, &dep_path) < 0)
                                return -ENOMEM;
                        if (get_string(bus, dep_path, SD_UNIT, "ActiveState", dep, &active) < 0)
                                continue; /* that one cannot tell; another may */
                        if (strcmp(active, "failed") == 0) {
                                *ret = strdup(dep);
                                return *ret ? 0 : -ENOMEM;
                        }
                }
                if (r < 0)
                        return log_errno(r, "Failed to read the dependencies of '%s'", unit);
        }
        return 0;
}

/* --- what to record ------------------------------------------------------------------------ */

/* Whether the kernel OOM-killed a process of the app for its memory limit:
 * systemd says so on cgroup2 (Result=oom-kill); on v1 the app's
 * memory.oom_control, bound read-only in /rkt/cgroup/APP by the run
 * (lib/cgroup-limits.h), counts the kills ("oom_kill N"). */
static bool oom_killed(const char *app, const UnitState *s) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        _cleanup_close_ int fd = -1;
        const char *p;

        if (strcmp(s->result, "oom-kill") == 0)
                return true;
        if (asprintf(&path, "/rkt/cgroup/%s/memory.oom_control", app) < 0)
                return false;
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fd_read_all(fd, 4096, &text, NULL) < 0)
                return false;
        p = strstr(text, "\noom_kill ");
        return p && strtoull(p + 10, NULL, 10) > 0;
}

static int decide_outcome(sd_bus *bus, const char *app, const char *path, const char *unit, const UnitState *s,
                          Outcome *ret) {
        bool failed = strcmp(s->result, "success") != 0;
        char *end = NULL;
        int status, r;

        if (s->start_monotonic == 0 && s->code == CODE_NONE) {
                /* Never forked: a dependency (prepare-app) failed, a
                 * pre-start handler failed (Result says so), or the pod was
                 * stopped before the app's turn came (not a failure). */
                _cleanup_free_ char *dep = NULL;

                status = STATUS_NOT_STARTED;
                if (failed)
                        r = asprintf(&end, "not-started %s", s->result);
                else {
                        r = failed_dependency(bus, path, unit, &dep);
                        if (r < 0)
                                return r;
                        failed = dep != NULL;
                        r = dep ? asprintf(&end, "not-started dependency %s", dep)
                                : asprintf(&end, "not-started cancelled");
                }
        } else if (s->code == CODE_EXITED) {
                status = s->status & 0xff;
                r = asprintf(&end, "exited %d", status);
        } else if (s->code == CODE_KILLED || s->code == CODE_DUMPED) {
                /* The shell's (and rkt's) 128+N, so a SIGKILL reads 137;
                 * the .end file tells it apart from an exit(137). */
                status = 128 + (s->status & 0x7f);
                r = asprintf(&end, "%s %d%s", s->code == CODE_KILLED ? "killed" : "dumped", s->status,
                             s->status == SIGKILL && oom_killed(app, s) ? " oom-kill" : "");
        } else {
                /* Forked but no end known: still running after we tried
                 * to stop it. It will die with the pod; say so. */
                status = STATUS_NOT_STARTED;
                r = asprintf(&end, "unknown %s", s->active_state);
        }
        if (r < 0)
                return log_errno(-ENOMEM, "Failed to record '%s'", unit);
        *ret = (Outcome) { .status = status, .end = end, .failed = failed };
        return 0;
}

/* --- writing it down ------------------------------------------------------------------------ */

static int open_status_dir(int *ret) {
        _cleanup_close_ int parent = -1;
        int fd;

        /* Stage1 paths, but still no symlinks followed: the status
         * directory is read back by tools on the host. */
        parent = fd_mkdir_open(AT_FDCWD, STATUS_PARENT, 0755, O_PATH);
        if (parent < 0)
                return log_errno(parent, "Failed to open '%s'", STATUS_PARENT);
        fd = fd_mkdir_open(parent, STATUS_DIR, 0755, O_RDONLY);
        if (fd < 0)
                return log_errno(fd, "Failed to open '%s/%s'", STATUS_PARENT, STATUS_DIR);
        *ret = fd;
        return 0;
}

static int step_write_status(int dirfd, const char *app, const Outcome *o) {
        _cleanup_free_ char *end_name = NULL, *end = NULL, *status = NULL;
        int r;

        if (asprintf(&end_name, "%s.end", app) < 0 || asprintf(&end, "%s\n", o->end) < 0 ||
            asprintf(&status, "%d\n", o->status) < 0)
                return log_errno(-ENOMEM, "Failed to write the status of '%s'", app);
        /* .end first: whoever sees APP appear finds APP.end beside it. */
        r = fd_write_file_atomic(dirfd, end_name, end, strlen(end), 0644);
        if (r < 0)
                return log_errno(r, "Failed to write '%s/%s/%s'", STATUS_PARENT, STATUS_DIR, end_name);
        r = fd_write_file_atomic(dirfd, app, status, strlen(status), 0644);
        if (r < 0)
                return log_errno(r, "Failed to write '%s/%s/%s'", STATUS_PARENT, STATUS_DIR, app);
        return 0;
}

/* The first app to fail decides the pod's exit code (rkt: the failing app's
 * status). The claim is an O_EXCL file, because reapers of a shutdown run in
 * parallel and the manager keeps whichever SetExitCode() came last. Returns
 * 1 if this reaper holds the claim, 0 if another one does; without a status
 * directory (dirfd < 0) or on a write error it acts as if it held it:
 * better a code set twice than none. */
static int claim_pod_exit(int dirfd, int code) {
        _cleanup_close_ int fd = -1;
        char text[16];
        int r;

        if (dirfd < 0)
                return 1;
        fd = openat(dirfd, POD_EXIT_CLAIM, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) {
                if (errno == EEXIST)
                        return 0;
                log_errno(negative_errno(), "Failed to create '%s/%s/%s', setting the pod's exit code anyway",
                          STATUS_PARENT, STATUS_DIR, POD_EXIT_CLAIM);
                return 1;
        }
        (void) snprintf(text, sizeof(text), "%d\n", code);
        r = fd_write_all(fd, text, strlen(text));
        if (r >= 0 && fsync(fd) < 0)
                r = negative_errno();
        if (r < 0)
                log_errno(r, "Failed to write '%s/%s/%s', ignoring", STATUS_PARENT, STATUS_DIR, POD_EXIT_CLAIM);
        return 1;
}

/* Sets the code `systemctl --force exit` (shutdown.service, pod-exit.service)
 * will end the pod's systemd with, hence nspawn's exit code. */
static int step_set_pod_exit(sd_bus *bus, int dirfd, const char *app, int code) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        if (claim_pod_exit(dirfd, code) == 0)
                return 0;
        r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "SetExitCode", &e, NULL, "y", (uint8_t) code);
        if (r < 0)
                return log_bus_error(r, &e, "set the pod's exit code for", app);
        return 1;
}

static int reap(const char *app) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *unit = NULL, *path = NULL;
        _cleanup_close_ int dirfd = -1;
        UnitState state = {};
        Outcome o = {};
        int r, ret = EXIT_OK;

        if (asprintf(&unit, "%s.service", app) < 0) {
                log_errno(-ENOMEM, "Failed to reap '%s'", app);
                return EXIT_INTERNAL;
        }
        if (step_connect(&bus) < 0 || unit_path(unit, &path) < 0 || read_unit_state(bus, path, unit, &state) < 0)
                return EXIT_INTERNAL;
        if (strcmp(state.load_state, "loaded") != 0) {
                log_error("'%s' is not a loaded unit (LoadState=%s)", unit, state.load_state);
                unit_state_done(&state);
                return EXIT_INTERNAL;
        }
        r = settle_unit(bus, path, unit, &state);
        if (r >= 0)
                r = decide_outcome(bus, app, path, unit, &state, &o);
        unit_state_done(&state);
        if (r < 0)
                return EXIT_INTERNAL;

        if (open_status_dir(&dirfd) < 0 || step_write_status(dirfd, app, &o) < 0)
                ret = EXIT_INTERNAL;
        /* Even when the status could not be written, a failure must
         * still end the pod with a non-zero code. A failed unit whose main
         * process exited 0 (a post-stop handler failed) is still a failure. */
        if (o.failed && step_set_pod_exit(bus, dirfd, app, o.status != 0 ? o.status : STATUS_NOT_STARTED) < 0 &&
            ret == EXIT_OK)
                ret = EXIT_INTERNAL;
        free(o.end);
        return ret;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int opt;

        log_set_program("reaper");
        while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (opt) {
                case 'h':
                        fputs(usage, stdout);
                        return EXIT_OK;
                default:
                        fputs(usage, stderr);
                        return EXIT_USAGE;
                }
        if (argc - optind != 1) {
                fputs(usage, stderr);
                return EXIT_USAGE;
        }
        if (!acname_is_valid(argv[optind])) {
                log_error("APP must be an app name ([a-z0-9-]), not '%s'", argv[optind]);
                return EXIT_USAGE;
        }
        return reap(argv[optind]);
}
