/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>
#include <systemd/sd-bus.h>

#include "machined.h"
#include "macro.h"
#include "strbuf.h"

#define MACHINED_NAME "org.freedesktop.machine1"
#define MACHINED_PATH "/org/freedesktop/machine1"
#define MACHINED_MANAGER "org.freedesktop.machine1.Manager"
/* A machined that does not answer in this time is not there for us. */
#define MACHINED_TIMEOUT_USEC (2ULL * 1000000ULL)


static int open_bus(sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        /* No bus socket at all is the common case here: cheap to find out. */
        r = sd_bus_open_system(&bus);
        if (r < 0)
                return r;
        r = sd_bus_set_method_call_timeout(bus, MACHINED_TIMEOUT_USEC);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(bus);
        return 0;
}

int machined_available(void) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        if (open_bus(&bus) < 0)
                return 0;
        /* Bus activation starts machined where it is installed but idle. */
        r = sd_bus_call_method(bus, MACHINED_NAME, MACHINED_PATH, "org.freedesktop.DBus.Peer", "Ping", &e, &reply,
                               "");
        sd_bus_error_free(&e);
        return r >= 0;
}

int machined_scope_path(const char *name, char **ret) {
        _cleanup_strbuf_ StrBuf b = STRBUF_INIT;

        /* systemd's unit name escaping: '-' separates path components in a
         * unit name, so a literal one is "\x2d". Machine names are
         * [a-z0-9-] here (a prefix and a UUID). */
        strbuf_append(&b, "/machine.slice/machine-");
        for (const char *p = name; *p; p++) {
                if (*p == '-')
                        strbuf_append(&b, "\\x2d");
                else if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
                        strbuf_putc(&b, *p);
                else
                        return -EINVAL;
        }
        strbuf_append(&b, ".scope");
        if (strbuf_error(&b) < 0)
                return -ENOMEM;
        *ret = strbuf_steal(&b, NULL);
        return 0;
}

int machined_terminate(const char *name) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        if (open_bus(&bus) < 0)
                return 0;
        r = sd_bus_call_method(bus, MACHINED_NAME, MACHINED_PATH, MACHINED_MANAGER, "TerminateMachine", &e, &reply,
                               "s", name);
        /* Any error (no machined, or it knows no such machine any more):
         * nothing left to do there. */
        sd_bus_error_free(&e);
        return r >= 0;
}
