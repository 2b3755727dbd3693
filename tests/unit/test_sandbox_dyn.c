/* The sandbox kernel's reading of a dynamic executable's PT_INTERP (an
 * untrusted header: its string must fill the segment and end in a NUL) and
 * the interpreter's lookup beneath the root, on ELF files made here. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "level/sandbox/kernel/kernel.h"
#include "unit.h"

static char dir[] = "/tmp/cella-sb-dyn.XXXXXX";

/* An x86-64 ET_DYN file at dir/name: one PT_LOAD and `ninterp` PT_INTERP
 * headers for the `len` bytes of `interp` (the NUL counted when included). */
static void make_elf(const char *name, const char *interp, size_t len, int ninterp)
{
    struct {
        Elf64_Ehdr eh;
        Elf64_Phdr ph[3];
        char str[SB_PATH_MAX + 16];
    } f;
    memset(&f, 0, sizeof(f));
    memcpy(f.eh.e_ident, ELFMAG, SELFMAG);
    f.eh.e_ident[EI_CLASS] = ELFCLASS64;
    f.eh.e_ident[EI_DATA] = ELFDATA2LSB;
    f.eh.e_ident[EI_VERSION] = EV_CURRENT;
    f.eh.e_type = ET_DYN;
    f.eh.e_machine = EM_X86_64;
    f.eh.e_phoff = offsetof(__typeof__(f), ph);
    f.eh.e_phentsize = sizeof(Elf64_Phdr);
    f.eh.e_phnum = (Elf64_Half)(1 + ninterp);
    f.ph[0] = (Elf64_Phdr){.p_type = PT_LOAD, .p_flags = PF_R, .p_filesz = 64, .p_memsz = 64};
    for (int i = 1; i <= ninterp; i++)
        f.ph[i] = (Elf64_Phdr){
            .p_type = PT_INTERP, .p_offset = offsetof(__typeof__(f), str), .p_filesz = len};
    memcpy(f.str, interp, len < sizeof(f.str) ? len : sizeof(f.str));
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    CHECK(fd >= 0 && write(fd, &f, sizeof(f)) == (ssize_t)sizeof(f));
    close(fd);
}

static int open_in(const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return open(path, O_RDONLY | O_CLOEXEC);
}

/* sb_elf_interp on dir/name: its result, the message of a refusal in why. */
static int interp_of(const char *name, char *out, char *why, size_t whylen)
{
    int fd = open_in(name);
    cerr_t err = NULL;
    int r = sb_elf_interp(fd, name, out, SB_PATH_MAX, &err);
    snprintf(why, whylen, "%s", err ? cerr_msg(err) : "");
    cerr_free(&err);
    close(fd);
    return r;
}

static void test_interp_header(void)
{
    char out[SB_PATH_MAX], why[512];
    make_elf("good", "/lib/ld.so", 11, 1);
    CHECK(interp_of("good", out, why, sizeof(why)) == 1);
    CHECK_STR(out, "/lib/ld.so");
    make_elf("static", "", 0, 0);
    CHECK(interp_of("static", out, why, sizeof(why)) == 0);
    make_elf("nonul", "/lib/ld.so", 10, 1); /* the string's NUL left out */
    CHECK(interp_of("nonul", out, why, sizeof(why)) < 0);
    CHECK(strstr(why, "bad ELF interpreter path") != NULL);
    make_elf("two", "/lib/ld.so", 11, 2);
    CHECK(interp_of("two", out, why, sizeof(why)) < 0);
    CHECK(strstr(why, "bad ELF interpreter header") != NULL);
    make_elf("empty", "", 1, 1);
    CHECK(interp_of("empty", out, why, sizeof(why)) < 0);
    char *big = calloc(1, SB_PATH_MAX + 2);
    memset(big, 'a', SB_PATH_MAX);
    make_elf("long", big, SB_PATH_MAX + 1, 1); /* longer than a path */
    free(big);
    CHECK(interp_of("long", out, why, sizeof(why)) < 0);
    CHECK(strstr(why, "bad ELF interpreter header") != NULL);
    /* Debian's own: a dynamic executable names glibc's loader. */
    int fd = open("/bin/ls", O_RDONLY | O_CLOEXEC);
    cerr_t err = NULL;
    if (fd >= 0 && sb_elf_interp(fd, "/bin/ls", out, sizeof(out), &err) == 1)
        CHECK_STR(out, "/lib64/ld-linux-x86-64.so.2");
    cerr_free(&err);
    close(fd);
}

/* sb_interp_open with dir as the root. */
static int lookup(const char *name, int *ifd, char *why, size_t whylen, int *code)
{
    int root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    int fd = open_in(name);
    char interp[SB_PATH_MAX];
    cerr_t err = NULL;
    int r = sb_interp_open(NULL, root, fd, name, interp, ifd, &err);
    snprintf(why, whylen, "%s", err ? cerr_msg(err) : "");
    *code = cerr_code(err);
    cerr_free(&err);
    close(fd);
    close(root);
    return r;
}

static void test_interp_lookup(void)
{
    char why[512];
    int ifd, code;
    make_elf("prog", "/ld.so", 7, 1);
    CHECK(lookup("prog", &ifd, why, sizeof(why), &code) < 0);
    CHECK(code == CERR_EXE_MISSING);
    CHECK_STR(why, "`prog`: its interpreter `/ld.so` in the rootfs: No such file or directory");
    /* Present, an ELF without an interpreter: opened. */
    make_elf("ld.so", "", 0, 0);
    CHECK(lookup("prog", &ifd, why, sizeof(why), &code) == 0 && ifd >= 0);
    if (ifd >= 0)
        close(ifd);
    /* An interpreter that names one itself is not one (Linux: ELIBBAD). */
    make_elf("ld.so", "/x", 3, 1);
    CHECK(lookup("prog", &ifd, why, sizeof(why), &code) < 0 && code != CERR_EXE_MISSING);
    CHECK(strstr(why, "names an interpreter itself") != NULL);
    /* `..` stops at the root: /../../ld.so is the root's ld.so. */
    make_elf("ld.so", "", 0, 0);
    make_elf("dots", "/../../../ld.so", 16, 1);
    CHECK(lookup("dots", &ifd, why, sizeof(why), &code) == 0 && ifd >= 0);
    if (ifd >= 0)
        close(ifd);
    /* ... and an absolute symlink resolves in the root, not the host's. */
    char link[256];
    snprintf(link, sizeof(link), "%s/l", dir);
    CHECK(symlink("/usr/lib/x86_64-linux-gnu", link) == 0); /* the host's has libc.so.6 */
    make_elf("host", "/l/libc.so.6", 13, 1);
    CHECK(lookup("host", &ifd, why, sizeof(why), &code) < 0 && code == CERR_EXE_MISSING);
    unlink(link);
    /* A directory is no program (Linux: EACCES). */
    char sub[256];
    snprintf(sub, sizeof(sub), "%s/sub", dir);
    CHECK(mkdir(sub, 0755) == 0);
    make_elf("isdir", "/sub", 5, 1);
    CHECK(lookup("isdir", &ifd, why, sizeof(why), &code) < 0);
    CHECK_STR(why, "`isdir`: its interpreter `/sub`: Permission denied");
    /* A static program names none: no descriptor, no error. */
    make_elf("static", "", 0, 0);
    CHECK(lookup("static", &ifd, why, sizeof(why), &code) == 0 && ifd == -1);
}

int main(void)
{
    if (mkdtemp(dir) == NULL)
        return perror("mkdtemp"), 1;
    RUN(test_interp_header);
    RUN(test_interp_lookup);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    return UNIT_DONE();
}
