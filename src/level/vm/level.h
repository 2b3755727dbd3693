/* The vm level's backend for the VM host side (level/vmhost). */
#ifndef CELLA_VM_LEVEL_H
#define CELLA_VM_LEVEL_H

#include "core/error.h"
#include "level/vmhost/backend.h"

extern const struct vm_backend vm_backend;
/* 0 when /dev/kvm can run the guest, else -1 and *err names why. */
int vm_kvm_usable(cerr_t *err);

#endif
