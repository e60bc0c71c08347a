/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "capability.h"

unsigned capability_last(void) {
        static unsigned cached;
        _cleanup_close_ int fd = -1;
        char buf[16];
        ssize_t n;
        char *e;
        unsigned long v;

        if (cached)
                return cached;
        cached = CAP_LAST_CAP;
        fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return cached;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return cached;
        buf[n] = 0;
        errno = 0;
        v = strtoul(buf, &e, 10);
        /* 63: the highest a 64-bit mask holds (capset v3 has 64 bits). */
        if (errno == 0 && e != buf && (*e == '\n' || *e == 0) && v >= 1 && v <= 63)
                cached = (unsigned) v;
        return cached;
}

uint64_t capability_all(void) {
        unsigned last = capability_last();

        return last >= 63 ? UINT64_MAX : (UINT64_C(1) << (last + 1)) - 1;
}

int capability_bounding_set_limit(uint64_t keep) {
        for (unsigned c = 0; c <= capability_last(); c++) {
                if (keep & (UINT64_C(1) << c))
                        continue;
                if (prctl(PR_CAPBSET_DROP, (unsigned long) c, 0, 0, 0) < 0)
                        return negative_errno();
        }
        return 0;
}

int capability_bounding_set_get(uint64_t *ret) {
        uint64_t m = 0;

        for (unsigned c = 0; c <= capability_last(); c++) {
                int r = prctl(PR_CAPBSET_READ, (unsigned long) c, 0, 0, 0);

                if (r < 0)
                        return negative_errno();
                if (r > 0)
                        m |= UINT64_C(1) << c;
        }
        *ret = m;
        return 0;
}

int capability_set(uint64_t effective, uint64_t permitted, uint64_t inheritable) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
        struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {
                { (uint32_t) effective, (uint32_t) permitted, (uint32_t) inheritable },
                { (uint32_t) (effective >> 32), (uint32_t) (permitted >> 32), (uint32_t) (inheritable >> 32) },
        };

        if (syscall(SYS_capset, &h, d) < 0)
                return negative_errno();
        return 0;
}

int capability_get(uint64_t *ret_effective, uint64_t *ret_permitted, uint64_t *ret_inheritable) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
        struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {};

        if (syscall(SYS_capget, &h, d) < 0)
                return negative_errno();
        if (ret_effective)
                *ret_effective = (uint64_t) d[1].effective << 32 | d[0].effective;
        if (ret_permitted)
                *ret_permitted = (uint64_t) d[1].permitted << 32 | d[0].permitted;
        if (ret_inheritable)
                *ret_inheritable = (uint64_t) d[1].inheritable << 32 | d[0].inheritable;
        return 0;
}

int capability_ambient_set(uint64_t ambient) {
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
                return negative_errno();
        for (unsigned c = 0; c <= capability_last(); c++)
                if ((ambient & (UINT64_C(1) << c)) &&
                    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long) c, 0, 0) < 0)
                        return negative_errno();
        return 0;
}

int capability_ambient_get(uint64_t *ret) {
        uint64_t m = 0;

        for (unsigned c = 0; c <= capability_last(); c++) {
                int r = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, (unsigned long) c, 0, 0);

                if (r < 0)
                        return negative_errno();
                if (r > 0)
                        m |= UINT64_C(1) << c;
        }
        *ret = m;
        return 0;
}
