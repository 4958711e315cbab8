#!/usr/bin/env bash
# Installs, upgrades, removes and purges a stillcontrol .deb with the real dpkg and the real maintainer scripts, in a
# throwaway copy of this machine: an overlay of / (changes go to a tmpfs) entered with chroot, inside private mount and PID
# namespaces, so nothing of it reaches the machine and no process outlives it. No systemd runs in there (/run is empty):
# the scripts' systemctl steps are skipped as on any system without systemd.
#
#   unshare --mount --pid --fork --propagation private bash install-in-overlay.sh PACKAGE.deb
#
# Prints what it finds as "key: value" lines for the test to check; exits non-zero only when a step cannot run.
set -euo pipefail
deb="$1"
top="$(mktemp -d)"
mount -t tmpfs -o size=2g tmpfs "$top"
mkdir "$top/upper" "$top/work" "$top/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$top/upper,workdir=$top/work" "$top/root"
root="$top/root"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs tmpfs "$root/run"
mount -t tmpfs tmpfs "$root/tmp"
cp "$deb" "$root/tmp/stillcontrol.deb"

chroot "$root" /bin/bash -s <<'INSIDE'
set -uo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive
say() { printf '%s: %s\n' "$1" "$2"; }
modes() { for p in "$@"; do say "mode $p" "$(stat -c '%U:%G %a' "$p" 2>/dev/null || echo absent)"; done; }
# The machine may already know the user (an earlier install on it): the copy starts without it, as a fresh Pi would.
userdel stillcontrol >/dev/null 2>&1 || true
groupdel stillcontrol >/dev/null 2>&1 || true

dpkg -i /tmp/stillcontrol.deb > /tmp/install.log 2>&1; say "install exit" "$?"
say "install said" "$(tr '\n' ' ' < /tmp/install.log)"
say "status" "$(dpkg-query -W -f='${Status} ${Version}' stillcontrol)"
say "user" "$(getent passwd stillcontrol)"
say "groups" "$(id -nG stillcontrol)"
modes /etc/stillcontrol /etc/stillcontrol/stillcontrol.json /etc/stillcontrol/credentials /etc/stillcontrol/credentials/mqtt-password \
  /etc/stillcontrol/credentials/influx-token /var/lib/stillcontrol
say "version" "$(stillcontrol --version)"
say "link" "$(readlink -f /usr/bin/stillcontrol)"
# The service user runs a whole batch into the journal where the unit keeps it.
runuser -u stillcontrol -- stillcontrol simulate --speed max --mqtt off --journal /var/lib/stillcontrol/journal.db --json > /tmp/batch.json 2>/tmp/batch.err
say "batch exit" "$?"
say "batch outcome" "$(grep -o '"outcome": *"[a-z]*"' /tmp/batch.json | head -n 1)"

# The operator edits the configuration and stores a secret; then the same package is installed over it (an upgrade).
sed -i 's/"still-1"/"still-7"/' /etc/stillcontrol/stillcontrol.json
echo -n s3cret > /etc/stillcontrol/credentials/mqtt-password
edited="$(md5sum < /etc/stillcontrol/stillcontrol.json)"
dpkg -i /tmp/stillcontrol.deb > /tmp/upgrade.log 2>&1; say "upgrade exit" "$?"
say "config kept" "$([ "$(md5sum < /etc/stillcontrol/stillcontrol.json)" = "$edited" ] && echo yes || echo no)"
say "secret kept" "$(cat /etc/stillcontrol/credentials/mqtt-password)"
modes /etc/stillcontrol/stillcontrol.json

dpkg -r stillcontrol > /tmp/remove.log 2>&1; say "remove exit" "$?"
say "status after remove" "$(dpkg-query -W -f='${Status}' stillcontrol)"
say "program after remove" "$([ -e /usr/lib/stillcontrol/stillcontrol ] || [ -e /usr/bin/stillcontrol ] && echo present || echo absent)"
say "config after remove" "$([ -e /etc/stillcontrol/stillcontrol.json ] && echo present || echo absent)"
say "journal after remove" "$([ -s /var/lib/stillcontrol/journal.db ] && echo present || echo absent)"

dpkg -P stillcontrol > /tmp/purge.log 2>&1; say "purge exit" "$?"
say "purge said" "$(tr '\n' ' ' < /tmp/purge.log)"
say "status after purge" "$(dpkg-query -W -f='${Status}' stillcontrol 2>/dev/null || echo not-installed)"
say "etc after purge" "$([ -e /etc/stillcontrol ] && echo present || echo absent)"
say "journal after purge" "$([ -s /var/lib/stillcontrol/journal.db ] && echo present || echo absent)"
say "user after purge" "$(getent passwd stillcontrol >/dev/null && echo present || echo absent)"

# Installed and purged with no batch ever run: nothing of it is left in /var/lib.
rm -rf /var/lib/stillcontrol
dpkg -i /tmp/stillcontrol.deb > /tmp/install2.log 2>&1; say "second install exit" "$?"
dpkg -P stillcontrol > /tmp/purge2.log 2>&1; say "second purge exit" "$?"
say "state after empty purge" "$([ -e /var/lib/stillcontrol ] && echo present || echo absent)"
INSIDE
