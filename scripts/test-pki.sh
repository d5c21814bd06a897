# The test PKI, made by `openssl` at test time, and Kamailio as TLS registrar, for the TLS test
# scripts (through scripts/cli-common.sh) and scripts/bench-call.sh. Source it with $work set (the
# PKI goes to $pki = $work/pki, the registrar's files to $work) and $root the repository.
pki=$work/pki
# make_ca NAME CN: a CA certificate and key ($pki/NAME.crt, .key).
make_ca() {
  mkdir -p "$pki"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pki/$1.key" -out "$pki/$1.crt" \
    -days 2 -subj "/CN=$2" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    > /dev/null 2>&1
}
# make_leaf NAME CA CN SAN: a server certificate from CA.
make_leaf() {
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pki/$1.key" -out "$pki/$1.csr" \
    -subj "/CN=$3" > /dev/null 2>&1 &&
    printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$4" > "$pki/$1.ext" &&
    openssl x509 -req -in "$pki/$1.csr" -CA "$pki/$2.crt" -CAkey "$pki/$2.key" -CAcreateserial -days 2 \
      -extfile "$pki/$1.ext" -out "$pki/$1.crt" > /dev/null 2>&1
}

# start_tls_registrar NAME PORT CERT [KAMAILIO-ARGS...]: Kamailio as TLS registrar and proxy
# (Tests/Fixtures-call/kamailio/tls-registrar.cfg) on 127.0.0.1:PORT with the certificate and key
# $pki/CERT.crt/.key, in the background; extra arguments go to kamailio (e.g. -A UDP_PORT=N for a UDP
# listener too). Its pid in $registrar_pid; its log $work/NAME.log, its pid file $work/NAME.pid.
start_tls_registrar() {
  local name=$1 port=$2 cert=$3
  shift 3
  mkdir -p "$work/$name-run"
  printf '%s\n' "[server:default]" "method = TLSv1.2+" "verify_certificate = no" "require_certificate = no" \
    "private_key = $pki/$cert.key" "certificate = $pki/$cert.crt" "" "[client:default]" "method = TLSv1.2+" \
    "verify_certificate = no" "require_certificate = no" > "$work/$name-tls.cfg"
  PATH=$PATH:/usr/sbin kamailio -f "$root/Tests/Fixtures-call/kamailio/tls-registrar.cfg" -A "TLS_PORT=$port" \
    -A "TLS_CONFIG=\"$work/$name-tls.cfg\"" "$@" -P "$work/$name.pid" -Y "$work/$name-run" -DD -E -m 32 -M 8 \
    > "$work/$name.out" 2> "$work/$name.log" &
  registrar_pid=$!
}
