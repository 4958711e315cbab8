#!/usr/bin/env bash
# Installs StillControl from its Debian package (deploy/package.sh builds it; docs/packaging.md).
#
#   sudo deploy/install.sh [PACKAGE.deb] [--build] [--boot] [--enable]
#
# PACKAGE.deb  the package to install; without it, dist/stillcontrol_<version>_<this machine's arch>.deb
# --build      build that package here first (bash deploy/package.sh ARCH: needs the .NET SDK)
# --boot       also append the reference build's overlays (/usr/share/stillcontrol/config.txt.stillcontrol) to the boot
#              config, once, and say to reboot
# --enable     enable the service so it starts at boot (it is not started now: check the wiring with probe first)
#
# The package: program /usr/lib/stillcontrol (command /usr/bin/stillcontrol), configuration /etc/stillcontrol (a conffile:
# an existing stillcontrol.json is kept), journal /var/lib/stillcontrol, unit stillcontrol.service, user stillcontrol.
# An earlier install of the publish-and-copy kind (/opt/stillcontrol, /etc/systemd/system/stillcontrol.service) is replaced:
# its program, unit and udev rules are removed; its configuration, secrets and journal stay where they are and are used.
set -euo pipefail
cd "$(dirname "$0")/.."

usage="usage: sudo deploy/install.sh [PACKAGE.deb] [--build] [--boot] [--enable]"
deb=""
build=0
boot=0
enable=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=1; shift ;;
    --boot) boot=1; shift ;;
    --enable) enable=1; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "install.sh: unknown option '$1' (accepted: PACKAGE.deb, --build, --boot, --enable)" >&2; echo "$usage" >&2; exit 2 ;;
    *)
      [ -z "$deb" ] || { echo "install.sh: one package at a time ('$deb' and '$1' given)" >&2; exit 2; }
      deb="$1"; shift ;;
  esac
done

if [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (sudo)" >&2
  exit 2
fi
arch="$(dpkg --print-architecture)"
case "$arch" in
  amd64|arm64) ;;
  *) echo "install.sh: this machine is $arch; packages are built for arm64 (64-bit Raspberry Pi OS) and amd64" >&2; exit 2 ;;
esac
version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -n 1)"

if [ -z "$deb" ]; then
  deb="dist/stillcontrol_${version}_${arch}.deb"
  if [ "$build" -eq 1 ]; then
    bash deploy/package.sh "$arch"
  fi
fi
if [ ! -f "$deb" ]; then
  echo "install.sh: no package '$deb': build it with 'bash deploy/package.sh $arch' (on any machine with the .NET SDK), or pass --build, or name the .deb" >&2
  exit 2
fi
deb_arch="$(dpkg-deb -f "$deb" Architecture)"
if [ "$deb_arch" != "$arch" ]; then
  echo "install.sh: '$deb' is for $deb_arch; this machine is $arch" >&2
  exit 2
fi

# The earlier publish-and-copy install: a unit in /etc/systemd/system would hide the package's, and its udev rules copy would
# shadow the package's. Its configuration (/etc/stillcontrol), secrets and journal are the package's paths too: kept.
was_enabled=0
if [ -f /etc/systemd/system/stillcontrol.service ] && grep -q '/opt/stillcontrol' /etc/systemd/system/stillcontrol.service; then
  echo "replacing the earlier install in /opt/stillcontrol"
  if systemctl is-enabled --quiet stillcontrol.service 2>/dev/null; then was_enabled=1; fi
  if systemctl is-active --quiet stillcontrol.service 2>/dev/null; then
    echo "stopping stillcontrol.service (outputs go to their safe state)"
    systemctl stop stillcontrol.service
  fi
  systemctl disable stillcontrol.service 2>/dev/null || true
  rm -f /etc/systemd/system/stillcontrol.service
  systemctl daemon-reload || true
  rm -rf /opt/stillcontrol
  if [ -f /etc/udev/rules.d/99-stillcontrol.rules ] && cmp -s /etc/udev/rules.d/99-stillcontrol.rules firmware-config/udev/99-stillcontrol.rules; then
    rm -f /etc/udev/rules.d/99-stillcontrol.rules
  fi
fi

# apt resolves the Depends: line (OpenSSL, the C++ runtime); --force-confold keeps an existing stillcontrol.json as it is.
case "$deb" in /*|./*|../*) ;; *) deb="./$deb" ;; esac
DEBIAN_FRONTEND=noninteractive apt-get install -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$deb"
installed="$(stillcontrol --version)"
echo "installed: $installed"

if [ "$boot" -eq 1 ]; then
  config=/boot/firmware/config.txt
  [ -e "$config" ] || config=/boot/config.txt
  if [ ! -e "$config" ]; then
    echo "install.sh: --boot: no /boot/firmware/config.txt or /boot/config.txt here (not a Raspberry Pi?)" >&2
    exit 2
  fi
  if grep -q "BEGIN stillcontrol" "$config"; then
    echo "$config already has the StillControl overlays"
  else
    cat /usr/share/stillcontrol/config.txt.stillcontrol >> "$config"
    echo "appended the StillControl overlays to $config: reboot before starting the service"
  fi
fi

if [ "$enable" -eq 1 ] || [ "$was_enabled" -eq 1 ]; then
  systemctl enable stillcontrol.service
  echo "enabled stillcontrol.service (starts at boot)"
fi
echo "Check the wiring:  sudo -u stillcontrol stillcontrol probe --config /etc/stillcontrol/stillcontrol.json"
echo "then:              sudo systemctl enable --now stillcontrol && journalctl -u stillcontrol -f"
