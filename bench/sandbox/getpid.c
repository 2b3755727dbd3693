/* One system call's round trip: N raw getpid calls timed with CLOCK_MONOTONIC
 * (two more calls, outside the loop). Static (musl-gcc -static) so that it
 * runs natively, in a container and at the sandbox level alike.
 *   getpid [N]    prints "getpid: <ns> ns per call (N calls)" */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>

static long raw_getpid(void)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"((long)SYS_getpid) : "rcx", "r11", "memory");
    return ret;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    if (n <= 0)
        n = 1;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++)
        raw_getpid();
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
    printf("getpid: %.0f ns per call (%ld calls)\n", ns / (double)n, n);
    return 0;
}
