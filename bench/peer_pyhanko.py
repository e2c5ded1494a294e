#!/usr/bin/env python3
"""In-process signing time of pyHanko (the peer), for the engine's performance table.

    .venv/bin/python bench/peer_pyhanko.py KEY CERT CHAIN FILE [FILE ...]

Prints the median of 15 runs per file (PAdES B-B, RSA key from PEM, incremental update),
excluding interpreter start-up and key loading, to compare with `cargo bench -p pades`.
"""
import io
import statistics
import sys
import time

from pyhanko.sign import fields, signers
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter


def main() -> None:
    key, cert, chain, *files = sys.argv[1:]
    signer = signers.SimpleSigner.load(key, cert, ca_chain_files=(chain,))
    meta = signers.PdfSignatureMetadata(
        field_name="Signature1", subfilter=fields.SigSeedSubFilter.PADES
    )
    for path in files:
        data = open(path, "rb").read()
        runs = []
        for _ in range(15):
            start = time.perf_counter()
            writer = IncrementalPdfFileWriter(io.BytesIO(data))
            out = signers.sign_pdf(writer, meta, signer=signer)
            out.getbuffer()
            runs.append(time.perf_counter() - start)
        print(f"{path}: {statistics.median(runs) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
