#!/usr/bin/env bash
# Builds the Debian package of StillControl: a self-contained ReadyToRun publish (the target needs no .NET), the systemd
# unit, the service user, the directories and the reference configuration as a conffile.
#
#   bash deploy/package.sh amd64|arm64 [--out DIR] [--publish DIR]
#
# amd64|arm64  the Debian architecture (linux-x64 or linux-arm64 publish; arm64 is 64-bit Raspberry Pi OS)
# --out DIR    where the .deb goes (default: dist/); the file is stillcontrol_VERSION_ARCH.deb
# --publish DIR  package an existing `dotnet publish -r RID --self-contained` folder instead of publishing here
#
# Needs the .NET SDK (unless --publish) and dpkg-deb. The version comes from <Version> in Directory.Build.props.
# docs/packaging.md describes the package: layout, maintainer scripts, sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir="$(pwd)"

usage="usage: bash deploy/package.sh amd64|arm64 [--out DIR] [--publish DIR]"
arch=""
out="$root_dir/dist"
publish=""
while [ $# -gt 0 ]; do
  case "$1" in
    amd64|arm64) arch="$1"; shift ;;
    --out) [ $# -ge 2 ] || { echo "package.sh: --out needs a directory" >&2; exit 2; }; out="$2"; shift 2 ;;
    --publish) [ $# -ge 2 ] || { echo "package.sh: --publish needs a directory" >&2; exit 2; }; publish="$2"; shift 2 ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) echo "package.sh: unknown argument '$1' (accepted: amd64, arm64, --out DIR, --publish DIR)" >&2; echo "$usage" >&2; exit 2 ;;
  esac
done
if [ -z "$arch" ]; then
  echo "package.sh: name the architecture: amd64 (linux-x64) or arm64 (linux-arm64, 64-bit Raspberry Pi OS)" >&2
  echo "$usage" >&2
  exit 2
fi
case "$arch" in
  amd64) rid=linux-x64 ;;
  arm64) rid=linux-arm64 ;;
esac
command -v dpkg-deb >/dev/null || { echo "package.sh: dpkg-deb not found (Debian's dpkg package)" >&2; exit 2; }

version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -n 1)"
if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+([~+.][0-9A-Za-z.~+]+)?$ ]]; then
  echo "package.sh: <Version> in Directory.Build.props is '$version': a Debian version such as 1.2.0 is needed" >&2
  exit 2
fi

# A folder of its own (two builds at once do not meet), removed at the end.
mkdir -p "$root_dir/artifacts/package"
work="$(mktemp -d "$root_dir/artifacts/package/$arch.XXXXXX")"
trap 'rm -rf "$work"' EXIT
pkg="$work/root"
lib="$pkg/usr/lib/stillcontrol"
mkdir -p "$lib"

# 1. The program: self-contained and ReadyToRun (StillControl.csproj turns ReadyToRun on when a runtime is named).
if [ -z "$publish" ]; then
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0
  dotnet publish src/StillControl -c Release -r "$rid" --self-contained -nologo -v q -p:UseSharedCompilation=false \
    -o "$work/publish"
  publish="$work/publish"
fi
if [ ! -x "$publish/stillcontrol" ] || [ ! -f "$publish/libcoreclr.so" ]; then
  echo "package.sh: $publish is not a self-contained publish (no stillcontrol or libcoreclr.so in it)" >&2
  exit 2
fi
machine="$(od -An -tx1 -j18 -N2 "$publish/libcoreclr.so" | tr -d ' ')"
case "$arch:$machine" in
  amd64:3e00|arm64:b700) ;;
  *) echo "package.sh: $publish/libcoreclr.so is not built for $arch (ELF machine $machine)" >&2; exit 2 ;;
esac
cp -a "$publish"/. "$lib"/

# What the program never loads on the target (docs/packaging.md, "What is left out"):
# - the debugger and dump support (libmscordbi, libmscordaccore, createdump): nobody attaches a debugger on the still;
# - the LTTng trace provider (needs liblttng-ust, which a Pi does not have: the runtime already runs without it);
# - the standalone GCs (libclrgc, libclrgcexp): only loaded when DOTNET_GCName asks for them.
# Satellite resource assemblies are not published at all (SatelliteResourceLanguages=en in StillControl.csproj: with
# invariant globalization no other culture is ever asked for).
rm -f "$lib/libmscordbi.so" "$lib/libmscordaccore.so" "$lib/createdump" "$lib/libcoreclrtraceptprovider.so" \
  "$lib/libclrgc.so" "$lib/libclrgcexp.so"
chmod -R u=rwX,go=rX "$lib"
chmod 0755 "$lib/stillcontrol"

# 2. The command, the unit, udev rules, documentation.
mkdir -p "$pkg/usr/bin" "$pkg/usr/lib/systemd/system" "$pkg/usr/lib/udev/rules.d" "$pkg/usr/share/doc/stillcontrol" \
  "$pkg/usr/share/stillcontrol" "$pkg/etc/stillcontrol"
ln -s ../lib/stillcontrol/stillcontrol "$pkg/usr/bin/stillcontrol"
# The unit in the repository names /opt/stillcontrol (the layout of the publish-and-copy install); the package's program
# is /usr/bin/stillcontrol and its documentation /usr/share/doc/stillcontrol.
sed -e 's:/opt/stillcontrol/stillcontrol :/usr/bin/stillcontrol :g' \
    -e 's|file:///opt/stillcontrol/deploy/README.md|file:///usr/share/doc/stillcontrol/README.md|' \
    deploy/stillcontrol.service > "$pkg/usr/lib/systemd/system/stillcontrol.service"
if grep -q /opt/stillcontrol "$pkg/usr/lib/systemd/system/stillcontrol.service"; then
  echo "package.sh: deploy/stillcontrol.service still names /opt/stillcontrol after the path rewrite" >&2
  exit 1
fi
install -m 0644 firmware-config/udev/99-stillcontrol.rules "$pkg/usr/lib/udev/rules.d/99-stillcontrol.rules"
install -m 0644 firmware-config/boot/config.txt.stillcontrol "$pkg/usr/share/stillcontrol/config.txt.stillcontrol"
install -m 0644 deploy/README.md "$pkg/usr/share/doc/stillcontrol/README.md"
install -m 0644 docs/packaging.md "$pkg/usr/share/doc/stillcontrol/packaging.md"
install -m 0644 firmware-config/wiring.md "$pkg/usr/share/doc/stillcontrol/wiring.md"
cat > "$pkg/usr/share/doc/stillcontrol/copyright" <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: stillcontrol
Comment: StillControl, process control for a baijiu steam still. The program is self-contained: it carries the .NET
 runtime (MIT) and the NuGet libraries it uses (MQTTnet, InfluxDB.Client, Iot.Device.Bindings, ScottPlot, SkiaSharp,
 SQLite via Microsoft.Data.Sqlite and SQLitePCLRaw, and their dependencies), each under its own licence as published
 with its NuGet package.

Files: *
Copyright: the StillControl team
EOF

# 3. The reference configuration, a conffile: dpkg keeps the operator's edits across upgrades and asks before replacing.
install -m 0640 deploy/stillcontrol.json "$pkg/etc/stillcontrol/stillcontrol.json"

# 4. Control files.
mkdir -p "$pkg/DEBIAN"
installed_kb="$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)"
cat > "$pkg/DEBIAN/control" <<EOF
Package: stillcontrol
Version: $version
Architecture: $arch
Maintainer: StillControl team <stillcontrol@localhost>
Installed-Size: $installed_kb
Section: misc
Priority: optional
Depends: libc6 (>= 2.27), libgcc-s1, libstdc++6, libssl3 | libssl3t64 | libssl1.1, tzdata, passwd
Recommends: systemd
Description: process control for a baijiu steam still
 StillControl runs a steam still from a Raspberry Pi: temperatures, steam and
 cooling valves, cuts into heads, hearts and tails, safety interlocks that shut
 the steam, a batch journal (SQLite), MQTT telemetry, InfluxDB history and HTML
 batch reports.
 .
 The program is self-contained (it carries its .NET runtime, ReadyToRun
 compiled) and runs as the systemd service stillcontrol.service under the
 system user stillcontrol. Configuration: /etc/stillcontrol/stillcontrol.json.
EOF
echo "/etc/stillcontrol/stillcontrol.json" > "$pkg/DEBIAN/conffiles"
for script in postinst prerm postrm; do
  install -m 0755 "deploy/debian/$script" "$pkg/DEBIAN/$script"
done

mkdir -p "$out"
deb="$out/stillcontrol_${version}_${arch}.deb"
# xz at its default level: the best size for the time (docs/packaging.md has the figures); root owns every file.
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >/dev/null
echo "$deb ($(du -h "$deb" | cut -f1), installed $((installed_kb / 1024)) MB)"
