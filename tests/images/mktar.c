/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mktar: writes a tar archive exactly as described, entry by entry, for the
 * hostile test images of build-bad. GNU tar and bsdtar sanitise what they
 * archive (they drop leading "../", refuse to descend through symlinks);
 * this does not, which is the point. Test-only; built by build-bad with
 * gcc and libarchive.
 *
 *   mktar OUT.tar < SPEC
 *
 * SPEC: one entry per line, fields separated by a TAB, written in order:
 *   d PATH MODE            directory
 *   f PATH MODE TEXT       regular file holding TEXT ("\n" in TEXT is a newline)
 *   F PATH MODE HOSTFILE   regular file with the bytes of HOSTFILE
 *   l PATH TARGET          symbolic link
 *   h PATH TARGET          hard link to the archive member TARGET
 * MODE is octal. Every entry is owned by 0:0 with mtime 0 (deterministic).
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void die(const char *what, struct archive *a) {
        fprintf(stderr, "mktar: %s%s%s\n", what, a ? ": " : "", a ? archive_error_string(a) : "");
        exit(1);
}

static char *field(char **p) {
        char *s = *p, *t;

        if (!s)
                return NULL;
        t = strchr(s, '\t');
        if (t) {
                *t = 0;
                *p = t + 1;
        } else
                *p = NULL;
        return s;
}

/* "\n" escapes in TEXT, in place. */
static size_t unescape(char *s) {
        char *r = s, *w = s;

        while (*r) {
                if (r[0] == '\\' && r[1] == 'n') {
                        *w++ = '\n';
                        r += 2;
                } else
                        *w++ = *r++;
        }
        *w = 0;
        return (size_t) (w - s);
}

int main(int argc, char **argv) {
        struct archive *a;
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        unsigned lineno = 0;

        if (argc != 2) {
                fprintf(stderr, "usage: mktar OUT.tar < SPEC\n");
                return 2;
        }
        a = archive_write_new();
        if (!a || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
            archive_write_open_filename(a, argv[1]) != ARCHIVE_OK)
                die("cannot create the archive", a);

        while ((n = getline(&line, &cap, stdin)) >= 0) {
                struct archive_entry *e;
                char *p = line, *type, *path, *arg, *arg2;
                char *data = NULL;
                size_t size = 0;

                lineno++;
                if (n > 0 && line[n - 1] == '\n')
                        line[--n] = 0;
                if (n == 0 || line[0] == '#')
                        continue;
                type = field(&p);
                path = field(&p);
                arg = field(&p);
                arg2 = field(&p);
                if (!type || !path || !arg) {
                        fprintf(stderr, "mktar: line %u: too few fields\n", lineno);
                        return 1;
                }
                e = archive_entry_new();
                if (!e)
                        die("out of memory", NULL);
                archive_entry_set_pathname(e, path);
                archive_entry_set_uid(e, 0);
                archive_entry_set_gid(e, 0);
                archive_entry_set_mtime(e, 0, 0);
                switch (type[0]) {
                case 'd':
                        archive_entry_set_filetype(e, AE_IFDIR);
                        archive_entry_set_perm(e, (mode_t) strtoul(arg, NULL, 8));
                        break;
                case 'f':
                case 'F':
                        if (!arg2) {
                                fprintf(stderr, "mktar: line %u: file without content\n", lineno);
                                return 1;
                        }
                        archive_entry_set_filetype(e, AE_IFREG);
                        archive_entry_set_perm(e, (mode_t) strtoul(arg, NULL, 8));
                        if (type[0] == 'f') {
                                data = strdup(arg2);
                                if (!data)
                                        die("out of memory", NULL);
                                size = unescape(data);
                        } else {
                                FILE *f = fopen(arg2, "rb");
                                struct stat st;

                                if (!f || fstat(fileno(f), &st) < 0) {
                                        fprintf(stderr, "mktar: %s: %s\n", arg2, strerror(errno));
                                        return 1;
                                }
                                size = (size_t) st.st_size;
                                data = malloc(size ? size : 1);
                                if (!data || fread(data, 1, size, f) != size) {
                                        fprintf(stderr, "mktar: cannot read %s\n", arg2);
                                        return 1;
                                }
                                fclose(f);
                        }
                        archive_entry_set_size(e, (la_int64_t) size);
                        break;
                case 'l':
                        archive_entry_set_filetype(e, AE_IFLNK);
                        archive_entry_set_perm(e, 0777);
                        archive_entry_set_symlink(e, arg);
                        break;
                case 'h':
                        archive_entry_set_filetype(e, AE_IFREG);
                        archive_entry_set_perm(e, 0644);
                        archive_entry_set_hardlink(e, arg);
                        archive_entry_set_size(e, 0);
                        break;
                default:
                        fprintf(stderr, "mktar: line %u: unknown entry type '%s'\n", lineno, type);
                        return 1;
                }
                if (archive_write_header(a, e) != ARCHIVE_OK)
                        die(path, a);
                if (size > 0 && archive_write_data(a, data, size) != (la_ssize_t) size)
                        die(path, a);
                free(data);
                archive_entry_free(e);
        }
        free(line);
        if (archive_write_close(a) != ARCHIVE_OK)
                die("cannot finish the archive", a);
        archive_write_free(a);
        return 0;
}
