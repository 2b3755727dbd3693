#include "env.h"

#include <stdio.h>

void env_virt(bool vmx, bool dev_kvm, bool pvm, char *buf, size_t len)
{
    if (dev_kvm && vmx)
        snprintf(buf, len, "hardware KVM");
    else if (dev_kvm && pvm)
        snprintf(buf, len, "PVM (software KVM)");
    else if (dev_kvm)
        snprintf(buf, len, "KVM (no vmx/svm flag)");
    else if (pvm)
        snprintf(buf, len, "none: TCG only (kvm_pvm loaded, no /dev/kvm)");
    else
        snprintf(buf, len, "none: TCG only");
}
