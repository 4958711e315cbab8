#!/bin/sh
# Makes the plant's own certificate authority, the broker's server certificate and one client certificate per still (and for
# the plant service), for Mosquitto's TLS listener (8883). Nothing leaves this machine; keep ca.key offline once done.
#
#   ./make-certs.sh [-o DIR] [-d DAYS] SERVER_NAME[,SERVER_NAME...] [CLIENT...]
#
#   SERVER_NAME  the names and addresses the stills use to reach the broker (DNS names or IPv4 addresses), e.g.
#                broker.plant.lan,192.168.10.5 — each goes into the server certificate's subjectAltName.
#   CLIENT       a client certificate each (CN = the name): the stills' Still:Name (their broker user), and "plant".
#   -o DIR       where the files go (default ./certs, the folder compose.yaml mounts); -d DAYS validity (default 825).
#
# Run it again with more CLIENT names to add stills: an existing CA is reused (never replaced), existing certificates are kept.
# Files: ca.crt (give to every still: Mqtt:CaFile), ca.key (secret), server.crt/server.key (the broker),
#        NAME.crt/NAME.key (that still: Mqtt:ClientCertificateFile and Mqtt:ClientKeyFile).
set -eu

out=./certs
days=825
while getopts "o:d:" option; do
  case "$option" in
    o) out=$OPTARG ;;
    d) days=$OPTARG ;;
    *) echo "usage: $0 [-o DIR] [-d DAYS] SERVER_NAME[,SERVER_NAME...] [CLIENT...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if [ $# -lt 1 ]; then
  echo "usage: $0 [-o DIR] [-d DAYS] SERVER_NAME[,SERVER_NAME...] [CLIENT...]" >&2
  exit 2
fi
case "$days" in
  ''|*[!0-9]*) echo "$0: -d $days: a whole number of days" >&2; exit 2 ;;
esac
servers=$1
shift
command -v openssl >/dev/null || { echo "$0: openssl is needed (apt-get install openssl)" >&2; exit 2; }

check_name() {
  case "$1" in
    ''|*[!A-Za-z0-9._-]*) echo "$0: '$1': a name of letters, digits, '.', '-' or '_'" >&2; exit 2 ;;
  esac
}

mkdir -p "$out"
chmod 0755 "$out"
umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ ! -f "$out/ca.key" ]; then
  openssl req -x509 -newkey rsa:3072 -nodes -sha256 -days "$days" -keyout "$out/ca.key" -out "$out/ca.crt" \
    -subj "/O=StillControl plant/CN=StillControl plant CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  chmod 0644 "$out/ca.crt"
  echo "made the plant CA: $out/ca.crt (keep $out/ca.key secret and offline)"
fi

# issue NAME EXTENSIONS: a key and a certificate signed by the plant CA.
issue() {
  name=$1
  extensions=$2
  openssl req -new -newkey rsa:2048 -nodes -sha256 -keyout "$out/$name.key" -out "$work/$name.csr" -subj "/O=StillControl plant/CN=$name" 2>/dev/null
  printf '%s\n' "$extensions" > "$work/$name.ext"
  openssl x509 -req -sha256 -days "$days" -in "$work/$name.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial \
    -extfile "$work/$name.ext" -out "$out/$name.crt" 2>/dev/null
  chmod 0644 "$out/$name.crt"
  openssl verify -CAfile "$out/ca.crt" "$out/$name.crt" >/dev/null
}

if [ ! -f "$out/server.crt" ]; then
  alt=""
  first=""
  for name in $(printf '%s' "$servers" | tr ',' ' '); do
    check_name "$name"
    [ -n "$first" ] || first=$name
    if printf '%s' "$name" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$'; then entry="IP:$name"; else entry="DNS:$name"; fi
    alt="${alt:+$alt,}$entry"
  done
  issue server "subjectAltName=$alt
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth"
  # The broker runs as its own user (uid 1883 in the eclipse-mosquitto image): it must be able to read its key.
  chmod 0640 "$out/server.key"
  echo "made the broker's certificate for $servers: $out/server.crt, $out/server.key (chown 1883 $out/server.key for the container)"
fi

for client in "$@"; do
  check_name "$client"
  if [ -f "$out/$client.crt" ]; then
    echo "kept $out/$client.crt"
    continue
  fi
  issue "$client" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
  echo "made $client's certificate: $out/$client.crt, $out/$client.key"
done
