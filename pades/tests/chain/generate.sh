#!/usr/bin/env bash
# Generates the certificate fixtures of pades/tests/chain.rs: certificates that rcgen cannot make
# (SHA-1 and MD5 signatures, RSA-1024 keys, a secp256k1 key). Run by hand, once, from this
# folder; the tests only read the DER files it leaves here and never run openssl.
#
# Every CA key is generated in a temporary folder and deleted at the end: no CA key is kept.
# The one private key kept, throwaway-signer-key.pk8.der, is a TEST-ONLY throwaway RSA-2048 key
# that lets the tests sign PDFs with these signer certificates. It protects nothing.
#
# Made with OpenSSL 3.0.19 (openssl version), on 2026-12-04; certificates valid for 100 years.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
days=36500

cat > "$tmp/ext.cnf" <<'CNF'
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[signer]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF

# The throwaway signer key (TEST ONLY), shared by every signer certificate below.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/signer.key"
openssl pkcs8 -topk8 -nocrypt -in "$tmp/signer.key" -outform DER -out throwaway-signer-key.pk8.der
openssl req -new -key "$tmp/signer.key" -subj "/C=ID/O=Segel Test/CN=Chain Test Signer" \
    -out "$tmp/signer.csr"

# root NAME BITS DIGEST: a self-signed CA certificate NAME.der with an RSA key of BITS bits,
# self-signed with DIGEST.
root() {
    openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$2" -out "$tmp/$1.key"
    openssl req -x509 -new -key "$tmp/$1.key" -"$3" -days "$days" -set_serial 1 \
        -subj "/C=ID/O=Segel Test/CN=$1" -config "$tmp/ext.cnf" -extensions ca \
        -out "$tmp/$1.pem"
    openssl x509 -in "$tmp/$1.pem" -outform DER -out "$1.der"
}

# ca NAME ISSUER DIGEST KEYALG...: an intermediate CA NAME.der, key made by
# `openssl genpkey KEYALG...`, signed by ISSUER with DIGEST.
ca() {
    local name=$1 issuer=$2 digest=$3
    shift 3
    openssl genpkey "$@" -out "$tmp/$name.key"
    openssl req -new -key "$tmp/$name.key" -subj "/C=ID/O=Segel Test/CN=$name" \
        -out "$tmp/$name.csr"
    openssl x509 -req -in "$tmp/$name.csr" -CA "$tmp/$issuer.pem" -CAkey "$tmp/$issuer.key" \
        -"$digest" -days "$days" -set_serial 2 -extfile "$tmp/ext.cnf" -extensions ca \
        -out "$tmp/$name.pem"
    openssl x509 -in "$tmp/$name.pem" -outform DER -out "$name.der"
}

# signer NAME ISSUER DIGEST [OPTION...]: a signer certificate NAME.der for the throwaway key,
# signed by ISSUER with DIGEST and the further `openssl x509` options given.
signer() {
    local name=$1 issuer=$2 digest=$3
    shift 3
    openssl x509 -req -in "$tmp/signer.csr" -CA "$tmp/$issuer.pem" -CAkey "$tmp/$issuer.key" \
        -"$digest" -days "$days" -set_serial 3 -extfile "$tmp/ext.cnf" -extensions signer \
        "$@" -out "$tmp/$name.pem"
    openssl x509 -in "$tmp/$name.pem" -outform DER -out "$name.der"
}

rsa2048=(-algorithm RSA -pkeyopt rsa_keygen_bits:2048)

# A sound root, and signer certificates it signs with SHA-1 and with MD5.
root root 2048 sha256
signer sha1-signer root sha1
signer md5-signer root md5

# An intermediate the root signs with SHA-1; a sound signer below it.
ca sha1-intermediate root sha1 "${rsa2048[@]}"
signer sha1-intermediate-signer sha1-intermediate sha256

# RSASSA-PSS signatures by the root: with SHA-256 (accepted), with SHA-1 (refused).
signer pss-sha256-signer root sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest
signer pss-sha1-signer root sha1 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest

# A P-256 intermediate that signs the signer with ecdsa-with-SHA224 (not an accepted algorithm).
ca p256-intermediate root sha256 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
signer ecdsa-sha224-signer p256-intermediate sha224

# An intermediate with an RSA-1024 key; a signer it signs with SHA-256.
ca rsa1024-intermediate root sha256 -algorithm RSA -pkeyopt rsa_keygen_bits:1024
signer rsa1024-intermediate-signer rsa1024-intermediate sha256

# An intermediate on secp256k1 (a curve the verifier does not accept).
ca secp256k1-intermediate root sha256 -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1
signer secp256k1-intermediate-signer secp256k1-intermediate sha256

# A trust anchor with an RSA-1024 key that signs a signer directly.
root rsa1024-root 1024 sha256
signer rsa1024-root-signer rsa1024-root sha256

# A trust anchor self-signed with SHA-1 (its own signature does not matter) that signs with
# SHA-256 an intermediate, which signs the signer.
root sha1-root 2048 sha1
ca sha1-root-intermediate sha1-root sha256 "${rsa2048[@]}"
signer sha1-root-signer sha1-root-intermediate sha256
