/* Unit tests for bench/src/env.c: the virtualization line of the report
 * names what a VM can actually use. */
#include <string.h>

#include "env.h"
#include "unit.h"

static const char *virt(bool vmx, bool dev_kvm, bool pvm)
{
    static char buf[96];
    env_virt(vmx, dev_kvm, pvm, buf, sizeof(buf));
    return buf;
}

static void test_virt(void)
{
    CHECK_STR(virt(true, true, false), "hardware KVM");
    CHECK_STR(virt(false, true, true), "PVM (software KVM)");
    CHECK_STR(virt(false, true, false), "KVM (no vmx/svm flag)");
    /* the module alone gives a VM nothing: TCG */
    CHECK_STR(virt(false, false, true), "none: TCG only (kvm_pvm loaded, no /dev/kvm)");
    CHECK_STR(virt(true, false, false), "none: TCG only");
    CHECK_STR(virt(false, false, false), "none: TCG only");
}

int main(void)
{
    RUN(test_virt);
    return UNIT_DONE();
}
