#!/usr/bin/env python3
"""Write the seed corpus of the fuzz targets: small versions of every hostile-document class of
pades/tests/hostile.rs (reference cycles, predictor rows, xref rows and /Index ranges, object
stream /N and /First, inflate bombs, field names and kids, shared signature values, nesting,
long tokens, long arrays, many objects and sections), a few CMS blobs and objects.

    python3 fuzz/make_seeds.py           # from the repository root; rewrites fuzz/corpus/

Deterministic: running it again gives the same files. Standard library only.
"""

import binascii
import os
import re
import struct
import zlib

ROOT = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(ROOT, "corpus")


class Pdf:
    def __init__(self):
        self.out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        self.offsets = []

    def obj(self, num, body):
        if isinstance(body, str):
            body = body.encode()
        self.offsets.append((num, len(self.out)))
        self.out += b"%d 0 obj\n" % num + body + b"\nendobj\n"

    def stream(self, num, d, data):
        if "/Length" not in d:
            d += "/Length %d" % len(data)
        self.obj(num, b"<<" + d.encode() + b">>stream\n" + data + b"\nendstream")

    def table(self, trailer):
        at = len(self.out)
        offs = sorted(self.offsets)
        self.offsets = []
        size = offs[-1][0] + 1 if offs else 1
        self.out += b"xref\n0 1\n0000000000 65535 f \n"
        for num, off in offs:
            self.out += b"%d 1\n%010d 00000 n \n" % (num, off)
        self.out += ("trailer\n<<%s/Size %d>>\n" % (trailer, size)).encode()
        return at

    def xref_stream(self, num, rows, extra=""):
        """rows: (num, type, a, b) with /W [1 4 2]; the stream itself is added."""
        at = len(self.out)
        rows = list(rows) + [(num, 1, at, 0)]
        index = " ".join("%d 1" % r[0] for r in rows)
        data = b"".join(struct.pack(">BIH", t, a, b) for _, t, a, b in rows)
        self.stream(num, "/Type/XRef/Size %d/W[1 4 2]/Index[%s]%s" % (num + 1, index, extra), data)
        return at

    def in_file_rows(self):
        return [(n, 1, o, 0) for n, o in self.offsets]

    def finish(self, startxref):
        self.out += b"startxref\n%d\n%%%%EOF\n" % startxref
        return bytes(self.out)


def skeleton(pdf, extra=""):
    pdf.obj(1, "<</Type/Catalog/Pages 2 0 R%s>>" % extra)
    pdf.obj(2, "<</Type/Pages/Kids[3 0 R]/Count 1>>")
    pdf.obj(3, "<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>")


def zeros(n, fill=b"\0"):
    z = zlib.compressobj(9)
    out = z.compress(fill * n)
    return out + z.flush()


def length_cycle():
    p = Pdf()
    p.stream(1, "/Type/Catalog/Pages 3 0 R/Length 2 0 R", b"x")
    p.stream(2, "/Length 1 0 R", b"y")
    return p.finish(p.table("/Root 1 0 R"))


def objstm_own_length():
    p = Pdf()
    p.stream(4, "/Type/ObjStm/N 2/First 9/Length 2 0 R",
             b"1 0 2 40 <</Type/Catalog/Pages 9 0 R/AcroForm<</Fields[]>>>> 5 ")
    rows = [(0, 0, 0, 65535), (1, 2, 4, 0), (2, 2, 4, 1)] + p.in_file_rows()
    return p.finish(p.xref_stream(5, rows, "/Root 1 0 R"))


def length_chain():
    p = Pdf()
    p.stream(1, "/Type/Catalog/Pages 3 0 R/Length 10 0 R", b"x")
    for i in range(10, 50):
        p.stream(i, "/Length %d 0 R" % (i + 1), b"y")
    p.obj(50, "1")
    return p.finish(p.table("/Root 1 0 R"))


def objstm_ring():
    p = Pdf()
    k = 4
    for i in range(k):
        head = b"%d 0 " % (100 + i)
        p.stream(10 + i, "/Type/ObjStm/N 1/First %d/Length %d 0 R" % (len(head), 100 + (i + k - 1) % k),
                 head + b"1 ")
    skeleton(p, "/AcroForm<</Fields[100 0 R]>>")
    rows = p.in_file_rows() + [(100 + i, 2, 10 + i, 0) for i in range(k)]
    return p.finish(p.xref_stream(200, rows, "/Root 1 0 R"))


def predictor_rows():
    p = Pdf()
    skeleton(p)
    prev = p.table("/Root 1 0 R")
    for i in range(3):
        at = len(p.out)
        p.stream(10 + i, "/Type/XRef/Size %d/W[1 0 0]/Index[0 1]/Root 1 0 R/Prev %d"
                 "/DecodeParms<</Predictor 12/Columns 1048576/Colors 32/BitsPerComponent 16>>"
                 % (11 + i, prev), b"\x02\x00")
        prev = at
    return p.finish(prev)


def objstm_n_first():
    p = Pdf()
    p.stream(4, "/Type/ObjStm/N 1048576/First 1048576/Filter/FlateDecode", zeros(1 << 20))
    p.obj(1, "<</Type/Catalog/Pages 3 0 R/AcroForm<</Fields[7 0 R]>>>>")
    rows = p.in_file_rows() + [(7, 2, 4, 5)]
    return p.finish(p.xref_stream(8, rows, "/Root 1 0 R"))


def w_and_index():
    p = Pdf()
    skeleton(p)
    prev = p.table("/Root 1 0 R")
    at = len(p.out)
    p.stream(10, "/Type/XRef/Size 8388607/W[1 8 2]/Index[0 8388606 0 8388606]/Root 1 0 R/Prev %d" % prev,
             b"\0" * 11 * 200)
    return p.finish(at)


def huge_size():
    p = Pdf()
    skeleton(p)
    return p.finish(p.table("/Size 4294967295/Root 1 0 R"))


def xref_rows():
    p = Pdf()
    skeleton(p)
    prev = p.table("/Root 1 0 R")
    at = len(p.out)
    p.stream(10, "/Type/XRef/Size 8388607/W[1 0 0]/Index[%s]/Root 1 0 R/Prev %d/Filter/FlateDecode"
             % ("0 8388606 " * 4, prev), zeros(4 << 20))
    return p.finish(at)


def xrefstm_reread():
    p = Pdf()
    skeleton(p)
    prev = p.table("/Root 1 0 R")
    xs = len(p.out)
    p.stream(10, "/Type/XRef/Size 200/W[1 4 2]/Index[3000 200]", b"\x01\0\0\0\x09\0\0" * 200)
    for _ in range(100):
        at = len(p.out)
        p.out += b"xref\n0 0\ntrailer\n<</Size 5000/Root 1 0 R/Prev %d/XRefStm %d>>\n" % (prev, xs)
        prev = at
    return p.finish(prev)


def inflate_bombs():
    p = Pdf()
    k = 2
    for i in range(k):
        head = b"%d 0 " % (100 + i)
        z = zlib.compressobj(9)
        data = z.compress(head + b"<</T(f)/FT/Tx>>" + b" " * (4 << 20)) + z.flush()
        p.stream(10 + i, "/Type/ObjStm/N 1/First %d/Filter/FlateDecode" % len(head), data)
    skeleton(p, "/AcroForm<</Fields[%s]>>" % " ".join("%d 0 R" % (100 + i) for i in range(k)))
    rows = p.in_file_rows() + [(100 + i, 2, 10 + i, 0) for i in range(k)]
    return p.finish(p.xref_stream(200, rows, "/Root 1 0 R"))


def long_field_name():
    p = Pdf()
    n = 100
    skeleton(p, "/AcroForm<</Fields[10 0 R]>>")
    p.obj(10, "<</T(%s)/FT/Tx/Kids[%s]>>" % ("N" * 2000, " ".join("%d 0 R" % (100 + i) for i in range(n))))
    for i in range(n):
        p.obj(100 + i, "<</T(k)/Parent 10 0 R>>")
    return p.finish(p.table("/Root 1 0 R"))


def repeated_kid():
    p = Pdf()
    skeleton(p, "/AcroForm<</Fields[10 0 R]>>")
    p.obj(10, "<</T(a)/FT/Tx/Kids[%s]>>" % ("11 0 R " * 500))
    p.obj(11, "<</Subtype/Widget/Parent 10 0 R/Rect[0 0 1 1]/Junk[%s]>>" % " ".join(str(i) for i in range(300)))
    return p.finish(p.table("/Root 1 0 R"))


def shared_signature_value(signed):
    """An update on a signed file: five more signature fields whose /V is its signature."""
    text = signed.decode("latin-1")
    startxref = int(re.findall(r"startxref\s+(\d+)", text)[-1])
    sig = re.search(r"/V (\d+) 0 R", text)
    form = re.findall(r"(\d+) 0 obj\s*<<[^>]*?/Fields", text)
    if not sig or not form:
        return None
    out = bytearray(signed)
    if not out.endswith(b"\n"):
        out += b"\n"
    size = int(re.findall(r"/Size (\d+)", text)[-1])
    offs = []
    nums = []
    for i in range(5):
        n = size + i
        nums.append(n)
        offs.append((n, len(out)))
        out += b"%d 0 obj\n<</FT/Sig/T(Copy%d)/V %s 0 R>>\nendobj\n" % (n, i, sig.group(1).encode())
    root = re.findall(r"/Root (\d+ \d+ R)", text)[-1]
    x = len(out)
    out += b"xref\n%d %d\n" % (size, len(nums))
    for _, o in offs:
        out += b"%010d 00000 n \n" % o
    out += b"trailer\n<</Size %d/Root %s/Prev %d>>\nstartxref\n%d\n%%%%EOF\n" % (
        size + len(nums), root.encode(), startxref, x)
    return bytes(out)


def deep_nesting():
    p = Pdf()
    p.obj(1, "<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields[100 0 R]>>/Deep 5 0 R>>")
    p.obj(5, "[" * 200 + "]" * 200)
    depth = 80
    for i in range(depth):
        parent = 1 if i == 0 else 1000 + i - 1
        num = 2 if i == 0 else 1000 + i
        p.obj(num, "<</Type/Pages/Kids[%d 0 R]/Count 1/Parent %d 0 R>>" % (1000 + i + 1, parent))
        p.obj(100 + i, "<</T(x)/Kids[%d 0 R]>>" % (100 + i + 1))
    p.obj(1000 + depth, "<</Type/Page/MediaBox[0 0 1 1]>>")
    p.obj(100 + depth, "<</T(leaf)/FT/Sig>>")
    return p.finish(p.table("/Root 1 0 R"))


def long_tokens():
    p = Pdf()
    skeleton(p, "/S(%s)/N/%s/H<%s>" % ("a" * 5000, "N" * 5000, "0f" * 2500))
    return p.finish(p.table("/Root 1 0 R"))


def tiny_objects():
    p = Pdf()
    n = 500
    skeleton(p, "/AcroForm 4 0 R")
    p.obj(4, "<</Fields[%s]>>" % " ".join("%d 0 R" % (10 + i) for i in range(n)))
    for i in range(n):
        p.obj(10 + i, "null")
    return p.finish(p.table("/Root 1 0 R"))


def tiny_values():
    p = Pdf()
    skeleton(p, "/AcroForm<</Fields[%s]>>" % ("0 " * 20000))
    return p.finish(p.table("/Root 1 0 R"))


def many_sections():
    p = Pdf()
    skeleton(p)
    offs = [o for _, o in p.offsets]
    prev = p.table("/Root 1 0 R")
    for _ in range(150):
        at = len(p.out)
        p.out += b"xref\n1 3\n" + b"".join(b"%010d 00000 n \n" % o for o in offs)
        p.out += b"trailer\n<</Size 4/Root 1 0 R/Prev %d>>\n" % prev
        prev = at
    return p.finish(prev)


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    shared = os.path.join(ROOT, "..", "tests", "corpus")
    seeds = {
        "length-cycle": length_cycle(),
        "objstm-own-length": objstm_own_length(),
        "length-chain": length_chain(),
        "objstm-ring": objstm_ring(),
        "predictor-rows": predictor_rows(),
        "objstm-n-first": objstm_n_first(),
        "w-and-index": w_and_index(),
        "huge-size": huge_size(),
        "xref-rows-bomb": xref_rows(),
        "xrefstm-reread": xrefstm_reread(),
        "inflate-bombs": inflate_bombs(),
        "long-field-name": long_field_name(),
        "repeated-kid": repeated_kid(),
        "deep-nesting": deep_nesting(),
        "long-tokens": long_tokens(),
        "tiny-objects": tiny_objects(),
        "tiny-values": tiny_values(),
        "many-sections": many_sections(),
    }
    signed_path = os.path.join(shared, "signed-other-ca.pdf")
    if os.path.exists(signed_path):
        with open(signed_path, "rb") as f:
            signed = f.read()
        seeds["signed"] = signed
        shared_v = shared_signature_value(signed)
        if shared_v:
            seeds["shared-signature-value"] = shared_v
        # The CMS of that signature, for cms_parse.
        m = re.search(rb"/Contents\s*<([0-9A-Fa-f]+)>", signed)
        if m:
            write("cms_parse", "signed-other-ca.der", binascii.unhexlify(m.group(1)).rstrip(b"\0"))
    for name in ["acroform-textfield.pdf", "incremental-once.pdf", "qpdf-xref-stream.pdf",
                 "reportlab-1page.pdf"]:
        path = os.path.join(shared, name)
        if os.path.exists(path):
            with open(path, "rb") as f:
                seeds[name[:-4]] = f.read()
    for name, data in sorted(seeds.items()):
        write("pdf_document", name + ".pdf", data)
    objects = {
        "nested": b"[" * 70 + b"]" * 70,
        "dict": b"<</Type/Page/Kids[1 0 R 2 0 R]/R(a\\)b(c)d)/H<0A 0b>/D<</X[true false null -1.5]>>>>",
        "name-escapes": b"/A#20B#2f#",
        "numbers": b"[-.5 5. 1.2.3 --1 99999999999999999999 4294967296 0 R 12 65536 R]",
        "string": b"(\\\\\\(\\)\\101\\7777\r\n)",
        "hex": b"<48 65 6c6C6f7>",
    }
    for name, data in objects.items():
        write("pdf_object", name, data)
    vectors = os.path.join(ROOT, "..", "tlog", "tests", "vectors", "signed-note")
    if os.path.isdir(vectors):
        for name in sorted(os.listdir(vectors))[:8]:
            path = os.path.join(vectors, name)
            if os.path.isfile(path) and os.path.getsize(path) < 4096:
                with open(path, "rb") as f:
                    write("tlog_note", name, f.read())
    write("client_answers", "empty", b"")
    for target in ["pdf_document", "pdf_object", "cms_parse", "tlog_note", "client_answers"]:
        d = os.path.join(CORPUS, target)
        print(target, len(os.listdir(d)), "files,", sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)), "bytes")


if __name__ == "__main__":
    main()
