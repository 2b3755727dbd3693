#!/bin/bash
# The container level as a strict validator tries it (issue 16): every
# config.json field is applied or refused with one line naming it, never
# silently ignored; a refused bundle leaves nothing behind.
source "$(dirname "$0")/lib.sh"

B=$WORK/bundle
make_bundle "$B"
args "$B" 'exec sleep 100'
BASE=$(cat "$B/config.json")
reset() { printf '%s\n' "$BASE" > "$B/config.json"; }

# ---- ociVersion -------------------------------------------------------------------------
reset
cfg "$B" "c['ociVersion']='invalid'"
id=$(newid s)
fails "ociVersion 'invalid' is refused, named" "$id" 'ociVersion: `invalid` is not a SemVer' cella create --bundle "$B" "$id"
reset
cfg "$B" "c['ociVersion']='2.0.0'"
id=$(newid s)
fails "ociVersion of another major version is refused" "$id" 'ociVersion: `2\.0\.0`: cella implements runtime-spec 1\.x' cella create --bundle "$B" "$id"

# ---- capabilities ----------------------------------------------------------------------
reset
cfg "$B" "c['process']['capabilities']['ambient']=['CAP_NET_RAW','CAP_NOT_A_CAP']"
id=$(newid s)
fails "unknown capability is refused, named with its place" "$id" 'process\.capabilities\.ambient\[1\]: unknown capability `CAP_NOT_A_CAP`' cella create --bundle "$B" "$id"

plan_done
