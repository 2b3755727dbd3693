/* mkcpio: write an initramfs (a "newc" cpio archive, uncompressed) from a
 * list, so that the agent's initramfs holds a /dev/console node, owned by
 * root, without the build running as root or calling mknod: a cpio of a
 * staging directory could do neither. Entries are written in the list's
 * order with mtime 0, so the same inputs give the same bytes.
 *
 *   mkcpio < LIST > OUT.cpio
 *
 * LIST has one entry a line (uid and gid are always 0):
 *   dir  PATH MODE
 *   nod  PATH MODE c|b MAJOR MINOR
 *   file PATH MODE SOURCE
 *   slink PATH MODE TARGET
 * MODE is octal; blank lines and lines starting with # are skipped. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static unsigned long ino = 1;
static unsigned long line_no;

static void die(const char *what, const char *arg)
{
    fprintf(stderr, "mkcpio: line %lu: %s `%s'\n", line_no, what, arg);
    exit(1);
}

static void pad4(unsigned long n)
{
    static const char zeros[4];
    fwrite(zeros, 1, (4 - n % 4) % 4, stdout);
}

/* One header and name: 110 bytes of ASCII hex fields, the name with its NUL,
 * padded to 4 bytes. */
static void header(const char *name, unsigned long mode, unsigned long size, unsigned long rmaj,
                   unsigned long rmin)
{
    unsigned long namesize = strlen(name) + 1;
    printf("070701%08lX%08lX%08lX%08lX%08lX%08lX%08lX%08lX%08lX%08lX%08lX%08lX%08lX", ino++, mode,
           0ul, 0ul, S_ISDIR(mode) ? 2ul : 1ul, 0ul, size, 0ul, 0ul, rmaj, rmin, namesize, 0ul);
    fwrite(name, 1, namesize, stdout);
    pad4(110 + namesize);
}

static void data(const void *p, unsigned long n)
{
    fwrite(p, 1, n, stdout);
    pad4(n);
}

static void add_file(const char *name, unsigned long mode, const char *src)
{
    FILE *f = fopen(src, "rb");
    if (f == NULL)
        die(strerror(errno), src);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        fwrite(chunk, 1, n, mem);
    if (ferror(f))
        die("read error:", src);
    fclose(f);
    fclose(mem);
    header(name, S_IFREG | mode, len, 0, 0);
    data(buf, len);
    free(buf);
}

static void entry(char *line)
{
    char kind[8], path[1024], arg[1024] = "", dev[2] = "";
    unsigned long mode, major = 0, minor = 0;
    int n = sscanf(line, "%7s %1023s %lo %1023s", kind, path, &mode, arg);
    const char *name = path[0] == '/' ? path + 1 : path;
    if (n >= 3 && strcmp(kind, "dir") == 0) {
        header(name, S_IFDIR | mode, 0, 0, 0);
    } else if (n >= 3 && strcmp(kind, "nod") == 0 &&
               sscanf(line, "%*s %*s %*o %1s %lu %lu", dev, &major, &minor) == 3) {
        header(name, (dev[0] == 'b' ? S_IFBLK : S_IFCHR) | mode, 0, major, minor);
    } else if (n == 4 && strcmp(kind, "file") == 0) {
        add_file(name, mode, arg);
    } else if (n == 4 && strcmp(kind, "slink") == 0) {
        header(name, S_IFLNK | mode, strlen(arg), 0, 0);
        data(arg, strlen(arg));
    } else {
        die("cannot parse", line);
    }
}

int main(void)
{
    char line[4096];
    while (fgets(line, sizeof(line), stdin)) {
        line_no++;
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '\0' || line[0] == '#')
            continue;
        entry(line);
    }
    ino = 0;
    header("TRAILER!!!", 0, 0, 0, 0);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("mkcpio: write");
        return 1;
    }
    return 0;
}
