/* The device rules every container gets after the spec's own (as runc and
 * crun): v1 writes them to devices.allow, v2 compiles them (devices_bpf.c). */
#include "cgroup/devices.h"

const struct spec_dev_cgroup device_defaults[] = {
    {true, 'c', -1, -1, "m"}, {true, 'b', -1, -1, "m"},    {true, 'c', 1, 3, "rwm"},
    {true, 'c', 1, 5, "rwm"}, {true, 'c', 1, 7, "rwm"},    {true, 'c', 1, 8, "rwm"},
    {true, 'c', 1, 9, "rwm"}, {true, 'c', 5, 0, "rwm"},    {true, 'c', 5, 1, "rwm"},
    {true, 'c', 5, 2, "rwm"}, {true, 'c', 136, -1, "rwm"},
};
const size_t n_device_defaults = sizeof(device_defaults) / sizeof(device_defaults[0]);
