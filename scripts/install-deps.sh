#!/usr/bin/env bash
# Installs what the project needs on a Debian 12 machine that has the Swift 6.3 toolchain:
# the C libraries the firmware links (ALSA, libevdev, Opus, libsrtp2) with pkg-config; spandsp and
# libosip2 (host-only references of the codec and SIP parser benchmarks); SIPp (sip-tester,
# the real SIP peer of the tests); baresip-core (the other phone of the interop tests and
# the call benchmark) and GNU time (the benchmark's CPU and RSS); kamailio (the Record-Route proxy and
# registrar of scripts/cli-tests-proxy.sh, run as an ordinary process, never as the system service);
# sipvicious (the SIP scanners svmap, svwar and svcrack of scripts/cli-tests-soak.sh);
# lighttpd with lighttpd-mod-openssl (the HTTP and HTTPS provisioning server of scripts/cli-tests-autoprov.sh
# and of the HTTPS client tests, likewise its own process);
# tftpd-hpa (the TFTP provisioning server of the TFTP client tests and cli-tests-autoprov.sh, its own process);
# dnsmasq-base (the DNS server of scripts/cli-tests-dns.sh and the resolver tests: the binary alone, no
# system service to stop);
# kamailio-tls-modules, sipsak and openssl (scripts/cli-tests-tls.sh: the TLS registrar, OPTIONS over
# TLS, the test PKI made at test time);
# kamailio-outbound-modules (outbound.so, the RFC 5626 registrar of scripts/cli-tests-proxy.sh case 9;
# stun.so, which answers the phone's STUN keep-alives, is in kamailio itself);
# linphone-cli (linphonec, the other phone of scripts/cli-tests-linphone.sh);
# python3 for the build scripts, and `file`. Quick and silent when everything is there. Cross sysroots
# and qemu are toolchain/sysroot.sh's job (called by the firmware build).
set -euo pipefail

PACKAGES=(pkg-config libasound2-dev libevdev-dev libopus-dev libspandsp-dev python3 file
  libspeexdsp1 libosip2-dev sip-tester baresip-core time iproute2 tmux kamailio
  kamailio-tls-modules kamailio-outbound-modules sipvicious lighttpd dnsmasq-base sipsak tftpd-hpa)
PACKAGES+=(libmbedtls-dev openssl)  # TLS module (mbedTLS 2.28); openssl CLI makes the TLS tests' PKI
PACKAGES+=(libsrtp2-dev)  # SRTP (libsrtp2, built on NSS in Debian)
PACKAGES+=(lighttpd-mod-openssl)  # HTTPS for lighttpd (HTTPTests, cli-tests-autoprov.sh, cli-tests-record.sh)
PACKAGES+=(linphone-cli)  # linphonec (cli-tests-linphone.sh)
PACKAGES+=(kamailio-presence-modules)  # presence + presence_mwi, the MWI server of cli-tests-mwi.sh (db_text tables)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  SUDO=sudo
else
  SUDO=
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; then
  $SUDO apt-get update >/dev/null
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
fi

# The kamailio package starts and enables its system service, whose default configuration binds
# UDP 5060 (which the demo phones use); the tests start their own Kamailio. Stop and disable the
# service only when this run installed the package.
if [[ " ${missing[*]} " == *" kamailio "* ]] && [[ -d /run/systemd/system ]]; then
  echo "install-deps: stopping and disabling the kamailio system service (the tests run their own)" >&2
  $SUDO systemctl disable --now kamailio > /dev/null 2>&1 || true
fi
# The same for lighttpd (its service would serve /var/www on port 80) and tftpd-hpa (port 69): the
# tests start their own.
for service in lighttpd tftpd-hpa; do
  [[ " ${missing[*]} " == *" $service "* ]] || continue
  if [[ -d /run/systemd/system ]]; then
    echo "install-deps: stopping and disabling the $service system service (the tests run their own)" >&2
    $SUDO systemctl disable --now "$service" > /dev/null 2>&1 || true
  elif command -v service > /dev/null; then
    $SUDO service "$service" stop > /dev/null 2>&1 || true
    $SUDO update-rc.d "$service" disable > /dev/null 2>&1 || true
  fi
done
