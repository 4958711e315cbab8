#!/usr/bin/env bash
# Installs StillControl on Raspberry Pi OS (64-bit, Bookworm or later) as a systemd service.
#
#   sudo deploy/install.sh [--from DIR] [--boot]
#
# --from DIR  a linux-arm64 publish made elsewhere:
#               dotnet publish src/StillControl -c Release -r linux-arm64 --self-contained -o DIR
#             without it, this script publishes here (needs the .NET SDK on the Pi).
# --boot      also append firmware-config/boot/config.txt.stillcontrol to the boot config (once) and say to reboot.
#
# Program: /opt/stillcontrol   Configuration: /etc/stillcontrol   Journal: /var/lib/stillcontrol
# Secrets: /etc/stillcontrol/credentials/{mqtt-password,influx-token}, root-only, handed over by systemd (LoadCredential).
set -euo pipefail
cd "$(dirname "$0")/.."

from=""
boot=0
while [ $# -gt 0 ]; do
  case "$1" in
    --from) from="$2"; shift 2 ;;
    --boot) boot=1; shift ;;
    *) echo "install.sh: unknown argument '$1' (accepted: --from DIR, --boot)" >&2; exit 2 ;;
  esac
done

if [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (sudo)" >&2
  exit 2
fi
if [ "$(uname -m)" != "aarch64" ]; then
  echo "install.sh: this is $(uname -m); the service is published for linux-arm64 (64-bit Raspberry Pi OS)" >&2
  exit 2
fi

# 1. The program.
if [ -z "$from" ]; then
  from="$(mktemp -d)"
  trap 'rm -rf "$from"' EXIT
  dotnet publish src/StillControl -c Release -r linux-arm64 --self-contained -o "$from" -nologo
fi
if [ ! -x "$from/stillcontrol" ]; then
  echo "install.sh: $from/stillcontrol not found: give a linux-arm64 publish folder with --from" >&2
  exit 2
fi
install -d -m 0755 /opt/stillcontrol
cp -a "$from"/. /opt/stillcontrol/
install -d -m 0755 /opt/stillcontrol/firmware-config/registers /opt/stillcontrol/deploy
install -m 0644 firmware-config/registers/*.json /opt/stillcontrol/firmware-config/registers/
install -m 0644 deploy/README.md /opt/stillcontrol/deploy/README.md

# 2. The user: in the groups that own GPIO, SPI, I2C and the serial adapters.
for group in gpio dialout spi i2c; do
  getent group "$group" >/dev/null || groupadd --system "$group"
done
if ! id stillcontrol >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/stillcontrol --no-create-home --shell /usr/sbin/nologin stillcontrol
fi
usermod -a -G gpio,dialout,spi,i2c stillcontrol

# 3. Configuration and secrets. An existing configuration is never overwritten.
install -d -m 0750 -g stillcontrol /etc/stillcontrol
if [ ! -e /etc/stillcontrol/stillcontrol.json ]; then
  install -m 0640 -g stillcontrol deploy/stillcontrol.json /etc/stillcontrol/stillcontrol.json
  echo "installed /etc/stillcontrol/stillcontrol.json: set the 1-Wire ids (stillcontrol probe lists them), the broker and the still's name"
fi
install -d -m 0700 /etc/stillcontrol/credentials
for secret in mqtt-password influx-token; do
  # An empty file means "none"; systemd needs the file to exist.
  [ -e "/etc/stillcontrol/credentials/$secret" ] || install -m 0600 /dev/null "/etc/stillcontrol/credentials/$secret"
done
install -d -m 0750 -o stillcontrol -g stillcontrol /var/lib/stillcontrol

# 4. udev: /dev/rs485 and PWM access.
install -m 0644 firmware-config/udev/99-stillcontrol.rules /etc/udev/rules.d/99-stillcontrol.rules
udevadm control --reload || true
udevadm trigger || true

# 5. Boot overlays, once.
if [ "$boot" -eq 1 ]; then
  config=/boot/firmware/config.txt
  [ -e "$config" ] || config=/boot/config.txt
  if grep -q "BEGIN stillcontrol" "$config"; then
    echo "$config already has the StillControl overlays"
  else
    cat firmware-config/boot/config.txt.stillcontrol >> "$config"
    echo "appended the StillControl overlays to $config: reboot before starting the service"
  fi
fi

# 6. The service.
install -m 0644 deploy/stillcontrol.service /etc/systemd/system/stillcontrol.service
systemctl daemon-reload
systemctl enable stillcontrol.service
echo "enabled stillcontrol.service. Check the wiring first:"
echo "  sudo -u stillcontrol /opt/stillcontrol/stillcontrol probe --config /etc/stillcontrol/stillcontrol.json"
echo "then: sudo systemctl start stillcontrol && journalctl -u stillcontrol -f"
