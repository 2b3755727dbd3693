#!/bin/bash
# The HTML report of `cella bench` renders in headless Chromium without a
# console message. The page has no script, so anything Chromium logs from the
# page (an "Uncaught" error, a Content-Security-Policy violation, a blocked
# resource) is a fault. A page with a script error checks the checker. TAP.
#
#   tests/bench/html_check.sh                builds the driver (tests/bench/test_report.c)
#   TEST_REPORT=BIN tests/bench/html_check.sh  uses a built driver
#   CHROMIUM=PATH      the browser (default /usr/bin/chromium); absent: the test is skipped
#   SCREENSHOTS=DIR    also writes DIR/{fake,article,empty}.png
set -u

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
root=$(cd "$(dirname "$0")/../.." && pwd)

if [ ! -x "$CHROMIUM" ]; then
    echo "ok 1 - report HTML renders without console errors # SKIP chromium not installed"
    echo "1..1"
    exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0

ok() {
    n=$((n + 1))
    echo "ok $n - $1"
}

not_ok() {
    n=$((n + 1))
    failed=1
    echo "not ok $n - $1"
    shift
    for line in "$@"; do
        printf '#   %s\n' "$line"
    done
}

driver=${TEST_REPORT:-}
if [ -z "$driver" ]; then
    driver=$tmp/test_report
    if ! ${CC:-cc} -std=gnu11 -Wall -Wextra -Werror -I"$root/bench/src" -I"$root/tests/unit" \
        -o "$driver" "$root/tests/bench/test_report.c" "$root"/bench/src/report_*.c \
        "$root/bench/src/guide.c" -ljansson -lm 2> "$tmp/cc.log"; then
        not_ok "build the report driver" "$(cat "$tmp/cc.log")"
        echo "1..$n"
        exit 1
    fi
fi

# chromium ARGS... : one headless run on a fresh profile, stderr in $tmp/log.
chromium() {
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$(mktemp -d "$tmp/profile.XXXXXX")" --enable-logging=stderr --v=0 \
        "$@" 2> "$tmp/log"
}

# Console lines of the last run: "[...:INFO:CONSOLE:12] "msg", source: ..."
# (older builds: "CONSOLE(12)"), and any "Uncaught" error.
console_lines() {
    grep -E 'CONSOLE[(:]|Uncaught' "$tmp/log"
}

# render NAME FILE WANT: the DOM holds WANT, no console line.
render() {
    local name=$1 file=$2 want=$3 rc
    chromium --dump-dom "file://$file" > "$tmp/dom"
    rc=$?
    if [ $rc -ne 0 ]; then
        not_ok "$name: chromium renders it" "exit $rc" "$(tail -n 5 "$tmp/log")"
    elif ! grep -qF -- "$want" "$tmp/dom"; then
        not_ok "$name: chromium renders it" "the DOM lacks: $want"
    elif console_lines > "$tmp/console"; then
        not_ok "$name: no console error" "$(cat "$tmp/console")"
    else
        ok "$name: renders without console errors"
    fi
    if [ -n "${SCREENSHOTS:-}" ]; then
        mkdir -p "$SCREENSHOTS"
        chromium --hide-scrollbars --window-size=1200,3600 \
            --screenshot="$SCREENSHOTS/$name.png" "file://$file" > /dev/null
    fi
}

for set in fake article empty; do
    if ! "$driver" --demo html "$set" "$tmp/$set.html" 2> "$tmp/driver.log"; then
        not_ok "$set: write the HTML" "$(cat "$tmp/driver.log")"
        continue
    fi
    render "$set" "$tmp/$set.html" "Decision guide"
done

# The checker sees a script error (this browser's log format is understood).
printf '%s\n' '<!DOCTYPE html><html><head><title>bad</title></head><body><p>bad</p>' \
    '<script>undefinedFunction();</script></body></html>' > "$tmp/bad.html"
chromium --dump-dom "file://$tmp/bad.html" > /dev/null
if console_lines | grep -q Uncaught; then
    ok "checker: a page with a script error is caught"
else
    not_ok "checker: a page with a script error is caught" "no Uncaught line in:" \
        "$(tail -n 5 "$tmp/log")"
fi

echo "1..$n"
exit $failed
