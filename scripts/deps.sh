#!/bin/sh
# Install the Debian packages cella needs to build, test and bench. Idempotent:
# only missing packages are installed (apt-get update runs only then).
#   deps.sh [--with-bench-extras]   what build, test and bench need
#   deps.sh --only PKG...           just these (scripts that need more, e.g. kernel.sh)
set -eu
PKGS="make gcc clang pkg-config libjansson-dev libseccomp-dev libasan8 libubsan1
      libclang-rt-14-dev busybox-static musl-tools python3 util-linux iproute2 procps
      runc crun podman runsc chromium"
# The wasm32-wasi toolchain (clang --target=wasm32-wasi --sysroot=/usr): the
# bench's httpd.wasm and bench/compute.sh's modules.
PKGS="$PKGS lld wasi-libc libclang-rt-14-dev-wasm32"
# The qemu level's rootfs images: mkfs.erofs (fsck.erofs in the tests).
PKGS="$PKGS erofs-utils"
# The qemu level's VMM (its microvm machine; TCG here, KVM with vmx/svm).
PKGS="$PKGS qemu-system-x86"
# The vm level's test (tests/integration/test_vm.sh): a TCG guest running
# Debian's kernel with kvm-amd (nested SVM) gives cella's VMM a real /dev/kvm.
PKGS="$PKGS linux-image-amd64 kmod cpio"
# The sandbox level's Go workload (test_sandbox_threads.sh): a static Go program.
PKGS="$PKGS golang-go"
# The engines that drive cella in the tests (test_docker.sh, test_containerd.sh).
PKGS="$PKGS docker.io containerd"
[ "${1:-}" = "--with-bench-extras" ] && PKGS="$PKGS debootstrap"
if [ "${1:-}" = "--only" ]; then
    shift
    PKGS="$*"
fi
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
