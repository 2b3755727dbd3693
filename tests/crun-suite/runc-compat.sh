#!/bin/bash
# tests/crun-suite/runc-compat.sh - experiment helper, not part of the suite.
#
# crun's tests call the runtime with two crun-only flags that runc rejects
# ("flag provided but not defined"): the global `--cgroup-manager MODE` and
# `--config FILE` on run/create. This wrapper drops them (cgroupfs -> no
# flag, systemd -> --systemd-cgroup; --config config.json -> nothing, as it
# is runc's default) and execs runc, so that
#   tests/crun-suite/run.sh --runtime tests/crun-suite/runc-compat.sh
# shows which tests runc fails for behaviour rather than for CLI spelling.
# RUNC overrides the runc binary (default /usr/sbin/runc).
args=()
while [ $# -gt 0 ]; do
    case $1 in
        --cgroup-manager) [ "${2:-}" = systemd ] && args+=(--systemd-cgroup); shift 2 ;;
        --config) if [ "${2:-}" = config.json ]; then shift 2; else args+=("$1" "${2:-}"); shift 2; fi ;;
        *) args+=("$1"); shift ;;
    esac
done
exec "${RUNC:-/usr/sbin/runc}" "${args[@]}"
