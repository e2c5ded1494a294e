#!/usr/bin/env python3
"""Seal a PDF with Segel from Python, and check everything the server answers.

What it shows (docs/integration.md explains each step):

1. stubs generated at run time from proto/segel/v1/segel.proto with grpcio-tools;
2. a mutual-TLS channel (the client certificate is what the server authorises);
3. SignPdf with a request_id and update_only: the answer is the incremental update, which the
   caller appends to its own copy of the document;
4. VerifyPdf on the result;
5. the log entry checked by hand: the record decoded field by field, its leaf hash
   SHA-256(0x00 || record), its inclusion proof against the checkpoint's root (RFC 9162
   section 2.1.3.2) and the checkpoint's Ed25519 signature (C2SP signed-note);
6. a retry with the same request_id gets the same entry and the same bytes;
7. SignPdfStream with update_only, as for documents whose answer would exceed 4 MiB;
8. a refusal read through its reason (google.rpc.ErrorInfo in the status details), with the
   gRPC status code as the fallback when a server sends no details;
9. with --http: the sealed letter verified over the JSON API (POST /api/v1/verify, its
   inclusion proof checked here against the signed checkpoint), found by its document id
   (GET /api/v1/documents/{id}), and verified through the national e-signature service's shape
   (POST /api/v2/verify/pdf); standard library only (urllib), as any integrator can.

Usage (the development server: cargo run -p segel-server -- --dev):

    python sign_and_verify.py --server localhost:50051 --certs certs-dev \
        --pdf tests/corpus/surat-rekomendasi.pdf --log-vkey data/log.vkey

Every option can come from the environment too (SEGEL_EXAMPLE_SERVER, host:port; SEGEL_CERTS, SEGEL_PDF,
SEGEL_LOG_VKEY, SEGEL_HTTP). The exit status is 0 when every check passed, 1 when a call or a check failed
(2 for bad arguments).
"""

import argparse
import base64
import hashlib
import importlib
import json
import os
import struct
import sys
import tempfile
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import grpc
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from google.rpc import error_details_pb2
from grpc_status import rpc_status

REPO = Path(__file__).resolve().parents[2]


class CheckFailed(Exception):
    """A check of the server's answer failed."""


def check(condition, what):
    if not condition:
        raise CheckFailed(what)


# --- Stubs ------------------------------------------------------------------------------------


def load_stubs(proto_root, out_dir):
    """Generate segel_pb2 and segel_pb2_grpc into out_dir and import them."""
    from grpc_tools import protoc  # noqa: PLC0415 (only needed here)

    args = [
        "grpc_tools.protoc",
        f"-I{proto_root}",
        f"--python_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        str(Path(proto_root) / "segel" / "v1" / "segel.proto"),
    ]
    if protoc.main(args) != 0:
        raise CheckFailed(f"protoc failed on {proto_root}")
    sys.path.insert(0, str(out_dir))
    pb = importlib.import_module("segel.v1.segel_pb2")
    rpc = importlib.import_module("segel.v1.segel_pb2_grpc")
    return pb, rpc


# --- Errors -----------------------------------------------------------------------------------


def error_reason(err):
    """The machine-readable reason of a refusal: `(reason, metadata)` from the ErrorInfo
    (domain "segel") in the status details, or `(None, {})` when the server sent none; the
    caller then falls back to `err.code()`."""
    status = rpc_status.from_call(err)
    if status is not None:
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                if info.domain == "segel":
                    return info.reason, dict(info.metadata)
    return None, {}


# --- The log record (tlog/src/entry.rs) -------------------------------------------------------


class Reader:
    """Reads big-endian fields from a record and refuses short or overlong input."""

    def __init__(self, data):
        self.data = data
        self.at = 0

    def take(self, n):
        check(self.at + n <= len(self.data), "record ends early")
        b = self.data[self.at : self.at + n]
        self.at += n
        return b

    def u8(self):
        return self.take(1)[0]

    def u16(self):
        return struct.unpack(">H", self.take(2))[0]

    def u64(self):
        return struct.unpack(">Q", self.take(8))[0]

    def i64(self):
        return struct.unpack(">q", self.take(8))[0]

    def text(self, n):
        return self.take(n).decode("utf-8")


def decode_record(record):
    """Decode a log record, version 1, 2 or 3, exactly (no bytes left over)."""
    r = Reader(record)
    e = {"version": r.u8()}
    check(e["version"] in (1, 2, 3), f"unknown record version {e['version']}")
    e["index"] = r.u64()
    e["time_ms"] = r.i64()
    e["agency"] = r.text(r.u8())
    e["certificate_sha256"] = r.take(32)
    e["caller"] = r.text(r.u16())
    e["message_digest"] = r.take(32)
    e["signature_sha256"] = r.take(32)
    e["document_sha256"] = r.take(32)
    if e["version"] == 1:
        n = r.u16()
        e["document_ref"] = r.text(n) if n else None
    else:
        e["document_source"] = {1: "server", 2: "caller"}.get(r.u8())
        check(e["document_source"] is not None, "unknown document hash source")
        present = r.u8()
        check(present in (0, 1), "bad reference flag")
        e["document_ref_hmac"] = r.take(32) if present else None
    if e["version"] == 3:
        # The SHA-256 of a visible seal's document id (the id itself is the QR link's secret).
        present = r.u8()
        check(present in (0, 1), "bad document id flag")
        e["document_id_sha256"] = r.take(32) if present else None
    check(r.at == len(record), "record followed by extra bytes")
    return e


# --- RFC 9162 hashing and inclusion proofs ----------------------------------------------------


def leaf_hash(record):
    return hashlib.sha256(b"\x00" + record).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(leaf, index, size, path, root):
    """RFC 9162 section 2.1.3.2: does `path` prove leaf `index` in the tree of `size` leaves
    with root `root`?"""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if len(p) != 32 or sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def self_test_inclusion():
    """verify_inclusion against proofs made by RFC 9162's own definitions (MTH and PATH, section
    2.1.3.1) for every leaf of trees of 1 to 33 leaves, and refusing each proof altered."""

    def split(n):
        k = 1
        while k * 2 < n:
            k *= 2
        return k

    def mth(leaves):
        if len(leaves) == 1:
            return leaves[0]
        k = split(len(leaves))
        return node_hash(mth(leaves[:k]), mth(leaves[k:]))

    def path(m, leaves):
        if len(leaves) <= 1:
            return []
        k = split(len(leaves))
        if m < k:
            return path(m, leaves[:k]) + [mth(leaves[k:])]
        return path(m - k, leaves[k:]) + [mth(leaves[:k])]

    for n in range(1, 34):
        leaves = [leaf_hash(bytes([i])) for i in range(n)]
        root = mth(leaves)
        for m in range(n):
            proof = path(m, leaves)
            check(verify_inclusion(leaves[m], m, n, proof, root), f"leaf {m} of {n} refused")
            check(not verify_inclusion(leaves[m], m, n, proof, leaf_hash(root)), "another root passed")
            check(not verify_inclusion(leaves[m], n, n, proof, root), "an index past the size passed")
            check(not verify_inclusion(leaves[m], m, n, proof + [root], root), "a longer path passed")
            if n > 1:
                other = (m + 1) % n
                check(not verify_inclusion(leaves[m], other, n, proof, root), "another index passed")
                bad = [proof[0][:31] + bytes([proof[0][31] ^ 1])] + proof[1:]
                check(not verify_inclusion(leaves[m], m, n, bad, root), "an altered path passed")


# --- C2SP checkpoints and signed notes --------------------------------------------------------


def parse_vkey(vkey):
    """A C2SP verifier key `name+hexid+base64(0x01 || Ed25519 public key)`, its id checked."""
    name, key_id, key_b64 = vkey.strip().split("+", 2)
    key = base64.b64decode(key_b64, validate=True)
    check(len(key) == 33 and key[0] == 0x01, "the verifier key is not an Ed25519 key")
    computed = hashlib.sha256(name.encode() + b"\n" + key).digest()[:4]
    check(computed.hex() == key_id, "the verifier key's id does not match its key")
    return name, computed, Ed25519PublicKey.from_public_bytes(key[1:])


def verify_checkpoint(note, vkey):
    """Check a signed checkpoint note by `vkey`; return (origin, size, root)."""
    name, key_id, public = parse_vkey(vkey)
    cut = note.rfind("\n\n")
    check(cut >= 0 and note.endswith("\n"), "the note has no signature block")
    text, sig_lines = note[: cut + 1], note[cut + 2 :].splitlines()
    verified = False
    for line in sig_lines:
        check(line.startswith("\u2014 "), f"not a signature line: {line!r}")
        sig_name, sig_b64 = line[2:].split(" ", 1)
        blob = base64.b64decode(sig_b64, validate=True)
        if sig_name != name or blob[:4] != key_id:
            continue  # another key's signature (a witness, say)
        try:
            public.verify(blob[4:], text.encode())
        except InvalidSignature as e:
            raise CheckFailed("the checkpoint's signature does not verify") from e
        verified = True
    check(verified, "the checkpoint carries no signature by the log key")
    lines = text[:-1].split("\n")
    check(len(lines) >= 3, "the checkpoint has fewer than three lines")
    origin, size_line, root_b64 = lines[:3]
    check(origin == name, "the checkpoint's origin is not the key's name")
    check(size_line.isdigit() and (size_line == "0" or size_line[0] != "0"), "bad tree size")
    root = base64.b64decode(root_b64, validate=True)
    check(len(root) == 32, "the root is not 32 bytes")
    return origin, int(size_line), root


def check_log_answer(entry, checkpoint, proof, pinned_vkey, agency, signed_pdf):
    """Every check a caller makes on a signing answer's log part; returns the decoded record."""
    # The key comes from the caller's own copy, never from the answer: a server (or anyone in
    # between) could otherwise sign a forged checkpoint with a key of its own.
    check(pinned_vkey, "no pinned verifier key: give the log's log.vkey")
    vkey = checkpoint.verifier_key
    check(vkey == pinned_vkey, "the server's verifier key is not the pinned one")
    check(entry.leaf_hash == leaf_hash(entry.record), "the leaf hash is not SHA-256(0x00||record)")
    rec = decode_record(entry.record)
    check(rec["index"] == entry.index, "the record's index is not the entry's")
    check(rec["agency"] == agency, "the record names another agency")
    check(
        rec["document_sha256"] == hashlib.sha256(signed_pdf).digest(),
        "the record's document hash is not the signed PDF's",
    )
    _, size, root = verify_checkpoint(checkpoint.note, vkey)
    check(proof.leaf_index == entry.index, "the proof is for another leaf")
    check(proof.tree_size == size, "the proof is for another tree size than the checkpoint")
    check(
        verify_inclusion(entry.leaf_hash, entry.index, size, list(proof.hashes), root),
        "the inclusion proof does not lead to the checkpoint's root",
    )
    return rec


def expect_refused(what, fn):
    """Run a check that must fail; raise if it passes."""
    try:
        fn()
    except CheckFailed:
        return
    raise CheckFailed(f"a tampered answer passed: {what}")


def tampered_answers_are_refused(answer, pinned, agency, signed):
    """The checks above can fail: each altered part of a real answer is refused."""
    pb_entry, cp, proof = answer.entry, answer.checkpoint, answer.inclusion_proof

    def altered(message, **fields):
        m = type(message)()
        m.CopyFrom(message)
        for k, v in fields.items():
            if isinstance(v, list):
                del getattr(m, k)[:]
                getattr(m, k).extend(v)
            else:
                setattr(m, k, v)
        return m

    changed = bytearray(pb_entry.record)
    changed[-1] ^= 1  # the last byte of the document hash or of the reference hash
    other_agency = bytearray(pb_entry.record)
    other_agency[18] ^= 1  # the agency id's first byte (after version, index, time, length)
    cases = {
        "a changed record": (altered(pb_entry, record=bytes(changed)), cp, proof),
        "another agency, its leaf hash recomputed": (
            altered(pb_entry, leaf_hash=leaf_hash(bytes(other_agency)), record=bytes(other_agency)),
            cp,
            proof,
        ),
        "a changed checkpoint text": (
            pb_entry,
            altered(cp, note=cp.note.replace("\n", "\n ", 1)),
            proof,
        ),
        "a changed proof": (
            pb_entry,
            cp,
            altered(proof, hashes=[hashlib.sha256(h).digest() for h in proof.hashes]
                    or [bytes(32)]),
        ),
        "another signed PDF": (pb_entry, cp, proof),
    }
    for what, (e, c, p) in cases.items():
        pdf = signed + b"%" if what == "another signed PDF" else signed
        expect_refused(what, lambda e=e, c=c, p=p, pdf=pdf: check_log_answer(e, c, p, pinned, agency, pdf))


# --- The calls --------------------------------------------------------------------------------


def connect(server, certs):
    creds = grpc.ssl_channel_credentials(
        root_certificates=(certs / "tls-ca.pem").read_bytes(),
        private_key=(certs / "client.key").read_bytes(),
        certificate_chain=(certs / "client.pem").read_bytes(),
    )
    return grpc.secure_channel(server, creds)


def sign(signer, pb, agency, pdf, request_id, document_ref):
    return signer.SignPdf(
        pb.SignPdfRequest(
            agency_id=agency,
            pdf=pdf,
            request_id=request_id,
            document_ref=document_ref,
            update_only=True,
            options=pb.SignOptions(reason="Disahkan secara elektronik", location="Jakarta"),
        ),
        timeout=60,
    )


def sign_sealed(signer, pb, agency, pdf, request_id):
    """A visible seal over the letter's #ttd# tag, drawn by the server from the agency's
    template with these values; the answer names the document id its QR code links to."""
    return signer.SignPdf(
        pb.SignPdfRequest(
            agency_id=agency,
            pdf=pdf,
            request_id=request_id,
            update_only=True,
            options=pb.SignOptions(
                visible=pb.VisibleSeal(
                    tag="#ttd#",
                    fields={
                        "jabatan": "Sekretaris Jenderal",
                        "nama": "Budi Santoso",
                        "nip": "198001012005011001",
                    },
                )
            ),
        ),
        timeout=60,
    )


def sign_streamed(signer, pb, agency, pdf, request_id):
    """SignPdfStream with update_only: metadata first, then 1 MiB chunks; the answer's
    metadata message carries the update and no chunks follow."""
    chunk = 1 << 20

    def requests():
        yield pb.SignPdfStreamRequest(
            metadata=pb.SignPdfRequest(
                agency_id=agency, request_id=request_id, size_hint=len(pdf), update_only=True
            )
        )
        for at in range(0, len(pdf), chunk):
            yield pb.SignPdfStreamRequest(chunk=pdf[at : at + chunk])

    answers = list(signer.SignPdfStream(requests(), timeout=60))
    check(answers and answers[0].WhichOneof("part") == "metadata", "no metadata answer first")
    check(len(answers) == 1, "chunks followed an update_only answer")
    return answers[0].metadata


# --- Verifying over HTTP ----------------------------------------------------------------------


def http_json(url, body=None, content_type=None):
    """GET (or POST `body`) and decode the JSON answer; an HTTP error raises with its reason."""
    req = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    if content_type:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        err = json.load(e)
        raise CheckFailed(f"{url}: HTTP {e.code} {err.get('reason')}: {err.get('error')}") from e


def check_http_log(log, checkpoint, pinned_vkey, index, document_id):
    """The `log` object of a v1 verdict: the record's leaf proven in the signed checkpoint."""
    check(checkpoint["verifier_key"] == pinned_vkey, "the HTTP answer's key is not the pinned one")
    _, size, root = verify_checkpoint(checkpoint["note"], pinned_vkey)
    record = base64.b64decode(log["record"], validate=True)
    rec = decode_record(record)
    check(log["index"] == index == rec["index"], "the HTTP answer names another entry")
    proof = log["inclusion_proof"]
    check(proof["tree_size"] == size, "the proof is for another tree size than the checkpoint")
    hashes = [base64.b64decode(h, validate=True) for h in proof["hashes"]]
    check(
        verify_inclusion(leaf_hash(record), index, size, hashes, root),
        "the HTTP answer's inclusion proof does not lead to the checkpoint's root",
    )
    check(log["document_id"] == document_id, "the HTTP answer names another document id")
    check(
        rec.get("document_id_sha256") == hashlib.sha256(document_id.encode()).digest(),
        "the record does not carry the document id's hash",
    )


def verify_over_http(base, pinned_vkey, signed, index, document_id):
    """Step 9: the sealed letter through the JSON APIs."""
    v = http_json(f"{base}/api/v1/verify", signed, "application/pdf")
    check(v["overall"] == "TOTAL-PASSED", f"/api/v1/verify: {v['overall']}")
    ours = [s for s in v["signatures"] if s["log"] and s["log"]["index"] == index]
    check(len(ours) == 1, "/api/v1/verify does not name the seal's log entry")
    check_http_log(ours[0]["log"], v["checkpoint"], pinned_vkey, index, document_id)
    d = http_json(f"{base}/api/v1/documents/{document_id}")
    check([e["index"] for e in d["entries"]] == [index], "the document id finds another entry")
    check_http_log(d["entries"][0], d["checkpoint"], pinned_vkey, index, document_id)
    body = json.dumps({"file": base64.b64encode(signed).decode()}).encode()
    n = http_json(f"{base}/api/v2/verify/pdf", body, "application/json")
    check(n["conclusion"] == "VALID", f"/api/v2/verify/pdf: {n['conclusion']}")
    print(f"over HTTP: {v['overall']}, log entry {index} proven here, found by document id "
          f"{document_id}; national shape: {n['conclusion']}, {n['signatureCount']} signature(s)")


def run(args):
    certs = Path(args.certs)
    pdf = Path(args.pdf).read_bytes()
    pinned = Path(args.log_vkey).read_text().strip() if args.log_vkey else None
    self_test_inclusion()
    with tempfile.TemporaryDirectory(prefix="segel-stubs-") as stubs:
        pb, rpc = load_stubs(REPO / "proto", stubs)
        with connect(args.server, certs) as channel:
            signer = rpc.SignerStub(channel)
            verifier = rpc.VerifierStub(channel)

            # One request id per document, made once and kept with the document.
            request_id = str(uuid.uuid4())
            answer = sign(signer, pb, args.agency, pdf, request_id, "B-123/KL.01/2025")
            check(answer.update and not answer.signed_pdf, "update_only: expected the update")
            signed = pdf + answer.update
            rec = check_log_answer(
                answer.entry, answer.checkpoint, answer.inclusion_proof, pinned, args.agency, signed
            )
            tampered_answers_are_refused(answer, pinned, args.agency, signed)
            print(f"signed: log entry {answer.entry.index}, record version {rec['version']}, "
                  f"caller {rec['caller']!r}, {len(answer.update)} bytes appended")

            report = verifier.VerifyPdf(pb.VerifyPdfRequest(pdf=signed), timeout=60)
            check(report.overall == "TOTAL-PASSED", f"VerifyPdf: {report.overall}")
            ours = [s for s in report.signatures if s.log_entry.record == answer.entry.record]
            check(len(ours) == 1, "VerifyPdf does not name our log entry")
            print(f"verified: {report.overall}, signer {ours[0].signer!r}")

            again = sign(signer, pb, args.agency, pdf, request_id, "B-123/KL.01/2025")
            check(again.entry.index == answer.entry.index, "a retry made another entry")
            check(again.entry.record == answer.entry.record, "a retry changed the record")
            check(again.update == answer.update, "a retry changed the bytes")
            check_log_answer(
                again.entry, again.checkpoint, again.inclusion_proof, pinned, args.agency, signed
            )
            print(f"retry with the same request_id: the same entry {again.entry.index}, "
                  "the same bytes")

            sealed = sign_sealed(signer, pb, args.agency, pdf, str(uuid.uuid4()))
            rec = check_log_answer(
                sealed.entry, sealed.checkpoint, sealed.inclusion_proof, pinned, args.agency,
                pdf + sealed.update,
            )
            check(
                rec.get("document_id_sha256")
                == hashlib.sha256(sealed.document_id.encode()).digest(),
                "the entry does not carry the seal's document id hash",
            )
            log = rpc.LogStub(channel)
            found = log.GetEntry(pb.GetEntryRequest(document_id=sealed.document_id), timeout=60)
            check(
                [e.record for e in found.entries] == [sealed.entry.record],
                "GetEntry by document id does not find the seal's entry",
            )
            print(f"sealed over #ttd#: document id {sealed.document_id}, log entry "
                  f"{sealed.entry.index}, found again by its document id")
            if args.http:
                verify_over_http(
                    args.http.rstrip("/"), pinned, pdf + sealed.update, sealed.entry.index,
                    sealed.document_id,
                )

            streamed = sign_streamed(signer, pb, args.agency, pdf, str(uuid.uuid4()))
            check(streamed.update and not streamed.signed_pdf, "stream: expected the update")
            check_log_answer(
                streamed.entry,
                streamed.checkpoint,
                streamed.inclusion_proof,
                pinned,
                args.agency,
                pdf + streamed.update,
            )
            print(f"streamed: log entry {streamed.entry.index}")

            try:
                sign(signer, pb, "no-such-agency", pdf, str(uuid.uuid4()), "")
            except grpc.RpcError as err:
                reason, metadata = error_reason(err)
                code = err.code()
                print(f"refused as expected: {code.name}, reason {reason} {metadata}: "
                      f"{err.details()}")
                if reason is not None:
                    check(reason == "UNKNOWN_AGENCY", f"an unknown agency gave reason {reason}")
                else:
                    # A server without error details: only the code tells.
                    check(
                        code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT),
                        f"an unknown agency gave {code.name}",
                    )
            else:
                raise CheckFailed("an unknown agency was not refused")


def main():
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--server", default=env("SEGEL_EXAMPLE_SERVER", "localhost:50051"),
                   help="host:port of the server (its TLS name must match the host)")
    p.add_argument("--certs", default=env("SEGEL_CERTS", str(REPO / "certs-dev")),
                   help="folder with tls-ca.pem, client.pem and client.key")
    p.add_argument("--pdf", default=env("SEGEL_PDF", str(REPO / "tests/corpus/surat-rekomendasi.pdf")))
    p.add_argument("--agency", default=env("SEGEL_AGENCY", "dev"))
    p.add_argument("--log-vkey", default=env("SEGEL_LOG_VKEY"),
                   help="the log's verifier key file (log.vkey) to pin: required, an answer's "
                        "own key proves nothing")
    p.add_argument("--http", default=env("SEGEL_HTTP"),
                   help="the server's HTTP listener (http://127.0.0.1:8080): also verify over "
                        "the JSON APIs")
    args = p.parse_args()
    if not args.log_vkey:
        p.error("--log-vkey (or SEGEL_LOG_VKEY) is required: the checkpoint's signature is "
                "checked against your own copy of the log's verifier key")
    try:
        run(args)
    except (CheckFailed, grpc.RpcError, OSError, ValueError) as e:
        if isinstance(e, grpc.RpcError):
            reason, _ = error_reason(e)
            print(f"FAILED: {e.code().name} ({reason}): {e.details()}", file=sys.stderr)
        else:
            print(f"FAILED: {e}", file=sys.stderr)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
