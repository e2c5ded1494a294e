"""letters.py -- the letters of the corpus for visible seals (gen.py calls build()).

Indonesian administrative letters from more producers, each with the tag #ttd# on the
placeholder line of its signature block: a browser's print-to-PDF (Chromium), fpdf2 with a
TrueType font, ghostscript (ps2pdf and PDF/A-2b), rotated pages, a crop box offset from the
media box, hand-written content streams with tricky text, and a letter that already has an
empty signature field over its signature block.
"""
import os
import shutil

# The field letter's empty signature field: page 2, this /Rect (PDF user space), which holds
# the tag. tests/tests/e2e/seal_corpus.rs checks the seal lands in it.
FIELD_NAME = 'ttd_pejabat'
FIELD_BOX = (285, 390, 485, 500)

NOMOR = 'B-1207/SJ/UND.02/03/2025'
TANGGAL = 'Jakarta, 3 Maret 2025'
KOP = ['KEMENTERIAN CONTOH PELAYANAN PUBLIK', 'SEKRETARIAT JENDERAL',
       'Jalan Merdeka Contoh Nomor 17, Jakarta Pusat 10110, Telepon (021) 555-0100']
HEAD = [('Nomor', NOMOR), ('Sifat', 'Segera'), ('Lampiran', '-'), ('Hal', 'Undangan Rapat Koordinasi')]
TO = ['Yth. Para Kepala Biro', 'di lingkungan Sekretariat Jenderal']
BODY = [
    'Dalam rangka penyusunan rencana kerja layanan tanda tangan elektronik tahun 2025, kami '
    'mengundang Saudara untuk hadir dalam rapat koordinasi yang akan dilaksanakan pada:',
    'hari/tanggal: Kamis, 13 Maret 2025; pukul: 09.00 WIB sampai dengan selesai; tempat: Ruang '
    'Rapat Garuda, Lantai 3, Gedung Utama.',
    'Mengingat pentingnya acara tersebut, kehadiran Saudara sangat kami harapkan. Atas perhatian '
    'dan kerja sama Saudara, kami ucapkan terima kasih.',
]
SIGN = ['Sekretaris Jenderal,', '#ttd#', 'Dr. Ir. Hendra Wijaya, M.T.', 'NIP 197001011995031001']


def html_letter():
    """The letter as an HTML page for a browser's print-to-PDF."""
    head = ''.join(f'<tr><td>{k}</td><td>:</td><td>{v}</td></tr>' for k, v in HEAD)
    body = ''.join(f'<p>{p}</p>' for p in BODY)
    return f'''<!DOCTYPE html>
<html lang="id"><head><meta charset="utf-8"><title>Undangan Rapat Koordinasi</title>
<style>
@page {{ size: A4; margin: 18mm 20mm 20mm 25mm; }}
body {{ font-family: "DejaVu Serif"; font-size: 11.5pt; line-height: 1.45; }}
.kop {{ text-align: center; border-bottom: 3px double #000; padding-bottom: 4pt; margin-bottom: 12pt; }}
.kop h1 {{ font-family: "DejaVu Sans"; font-size: 14pt; margin: 0; }}
.kop h2 {{ font-family: "DejaVu Sans"; font-size: 12pt; margin: 2pt 0; }}
.kop p {{ font-family: "DejaVu Sans"; font-size: 8.5pt; margin: 0; }}
table.head td {{ padding: 0 4pt 0 0; }}
p {{ text-align: justify; margin: 0 0 8pt 0; }}
.ttd {{ margin-left: 52%; margin-top: 18pt; }}
.ttd p {{ margin: 0; text-align: left; }}
.tag {{ font-family: "DejaVu Sans"; font-size: 10pt; margin: 30pt 0 !important; }}
</style></head><body>
<div class="kop"><h1>{KOP[0]}</h1><h2>{KOP[1]}</h2><p>{KOP[2]}</p></div>
<p style="text-align:right">{TANGGAL}</p>
<table class="head">{head}</table>
<p style="margin-top:12pt">{TO[0]}<br>{TO[1]}</p>
{body}
<div class="ttd"><p>{SIGN[0]}</p><p class="tag">{SIGN[1]}</p><p><b>{SIGN[2]}</b></p><p>{SIGN[3]}</p></div>
</body></html>
'''


def fix_pdf_dates(path, when):
    """Overwrite every /CreationDate and /ModDate (D:...) value with `when`, same length."""
    d = bytearray(open(path, 'rb').read())
    for key in (b'/CreationDate (D:', b'/ModDate (D:'):
        at = 0
        while (i := d.find(key, at)) >= 0:
            i += len(key) - 2
            j = d.index(b')', i)
            new = when.strftime('D:%Y%m%d%H%M%S').encode()
            new += b"+00'00'"[:j - i - len(new)]
            new += b' ' * (j - i - len(new))
            assert len(new) == j - i, d[i:j]
            d[i:j] = new
            at = j
    open(path, 'wb').write(bytes(d))


def ps_letter():
    """The letter as a PostScript program (Times, Helvetica for the tag)."""
    def s(t):
        return '(' + t.replace('\\', '\\\\').replace('(', '\\(').replace(')', '\\)') + ')'
    out = ['%!PS-Adobe-3.0', '%%Title: Surat Undangan (Segel corpus)', '%%Pages: 1',
           '%%DocumentMedia: A4 595 842 0 () ()', '%%EndComments',
           '<< /PageSize [595 842] >> setpagedevice', '%%Page: 1 1',
           '/c { /yy exch def dup stringwidth pop 2 div 297.5 exch sub yy moveto show } def',
           '/Helvetica-Bold findfont 14 scalefont setfont ' + s(KOP[0]) + ' 790 c',
           '/Helvetica-Bold findfont 12 scalefont setfont ' + s(KOP[1]) + ' 774 c',
           '/Helvetica findfont 8 scalefont setfont ' + s(KOP[2]) + ' 762 c',
           '2 setlinewidth 60 752 moveto 535 752 lineto stroke',
           '/Times-Roman findfont 11.5 scalefont setfont']
    y = 728
    out.append(f'400 {y} moveto {s(TANGGAL)} show')
    for k, v in HEAD:
        y -= 16
        out.append(f'70 {y} moveto {s(k)} show 130 {y} moveto (: ) show {s(v)} show')
    y -= 28
    for t in TO:
        out.append(f'70 {y} moveto {s(t)} show')
        y -= 16
    y -= 10
    for para in BODY:
        line = ''
        for w in para.split():
            if len(line) + len(w) > 88:
                out.append(f'70 {y} moveto {s(line)} show')
                y -= 16
                line = ''
            line = (line + ' ' + w).strip()
        out.append(f'70 {y} moveto {s(line)} show')
        y -= 24
    y -= 10
    out.append(f'330 {y} moveto {s(SIGN[0])} show')
    out.append(f'/Helvetica findfont 10 scalefont setfont 330 {y - 50} moveto {s(SIGN[1])} show')
    out.append(f'/Times-Bold findfont 11.5 scalefont setfont 330 {y - 100} moveto {s(SIGN[2])} show')
    out.append(f'/Times-Roman findfont 11.5 scalefont setfont 330 {y - 116} moveto {s(SIGN[3])} show')
    out += ['showpage', '%%EOF', '']
    return '\n'.join(out).encode('latin-1')


def draw_letter(c, w, h, tag_font=('Helvetica', 10)):
    """The letter on a reportlab canvas whose drawing area is w x h points."""
    c.setFont('Helvetica-Bold', 14)
    c.drawCentredString(w / 2, h - 50, KOP[0])
    c.setFont('Helvetica-Bold', 12)
    c.drawCentredString(w / 2, h - 66, KOP[1])
    c.setFont('Helvetica', 8)
    c.drawCentredString(w / 2, h - 78, KOP[2])
    c.setLineWidth(2)
    c.line(60, h - 88, w - 60, h - 88)
    c.setFont('Times-Roman', 11.5)
    c.drawRightString(w - 60, h - 112, TANGGAL)
    y = h - 112
    for k, v in HEAD:
        y -= 16
        c.drawString(70, y, k)
        c.drawString(130, y, ': ' + v)
    y -= 26
    for t in TO:
        c.drawString(70, y, t)
        y -= 16
    y -= 8
    width = int((w - 140) / 5.4)
    for para in BODY:
        line = ''
        for word in para.split():
            if len(line) + len(word) > width:
                c.drawString(70, y, line)
                y -= 16
                line = ''
            line = (line + ' ' + word).strip()
        c.drawString(70, y, line)
        y -= 22
    x = w - 250
    c.drawString(x, y - 6, SIGN[0])
    c.setFont(*tag_font)
    c.drawString(x, y - 56, SIGN[1])
    c.setFont('Times-Bold', 11.5)
    c.drawString(x, y - 106, SIGN[2])
    c.setFont('Times-Roman', 11.5)
    c.drawString(x, y - 122, SIGN[3])


# ------------------------------------------------------------------ hand-written pages
def tricky_page(stream, fonts):
    """Objects of a one-page A4 PDF: the letter head in Helvetica, then `stream` (bytes)."""
    head = (b'BT /H 13 Tf 1 0 0 1 150 780 Tm (KEMENTERIAN CONTOH PELAYANAN PUBLIK) Tj ET\n'
            b'BT /T 11 Tf 70 730 Td (Nomor : B-1207/SJ/UND.02/03/2025) Tj 0 -16 Td '
            b'(Hal : Undangan Rapat Koordinasi) Tj 0 -30 Td '
            b'(Dalam rangka penyusunan rencana kerja layanan tanda tangan elektronik,) Tj 0 -16 Td '
            b'(kami mengundang Saudara untuk hadir dalam rapat koordinasi.) Tj ET\n'
            b'BT /T 11 Tf 330 520 Td (Sekretaris Jenderal,) Tj 0 -120 Td '
            b'(Dr. Ir. Hendra Wijaya, M.T.) Tj ET\n')
    content = head + stream
    objs = {1: b'<< /Type /Catalog /Pages 2 0 R >>',
            2: b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
            3: b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R '
               b'/Resources << /Font << /H 5 0 R /T 6 0 R ' + fonts + b' >> >> >>',
            4: b'<< /Length %d >>\nstream\n' % len(content) + content + b'\nendstream',
            5: b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>',
            6: b'<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman /Encoding /WinAnsiEncoding >>',
            7: b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
            8: b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding '
               b'/BaseEncoding /WinAnsiEncoding /Differences [1 /numbersign /t /d 65 /d /t /numbersign] >> >>'}
    return objs


TRICKY = {
    # The tag cut into pieces of a TJ array with kerning between them.
    'tricky-tj-kerning.pdf': (
        b'BT /F 10 Tf 1 0 0 1 330 450 Tm [(#t) -40 (t) 25 (d) -15 (#)] TJ ET\n',
        'the tag #ttd# split across a TJ array with kerning: [(#t) -40 (t) 25 (d) -15 (#)] TJ'),
    # The tag under a scaled cm and a scaled (and stretched) text matrix.
    'tricky-scaled-cm-tm.pdf': (
        b'q 2 0 0 2 0 0 cm BT /F 4 Tf 0.75 0 0 1.25 165 225 Tm (#ttd#) Tj ET Q\n'
        b'q 0.5 0 0 0.5 100 100 cm BT /F 10 Tf 2 0 0 2 20 20 Tm (Lampiran: -) Tj ET Q\n',
        'the tag #ttd# under a scaled cm (2 0 0 2) and a stretched text matrix (0.75 0 0 1.25): 6 x 10 pt text'),
    # The tag in a font whose /Differences move its glyphs to other codes (and codes 65-67,
    # normally "ABC", to d t #): the bytes 01 02 02 03 01 and 67 66 66 65 67 both show #ttd#.
    'tricky-differences.pdf': (
        b'BT /D 10 Tf 330 450 Td <0102020301> Tj ET\n'
        b'BT /D 8 Tf 70 200 Td (Kode arsip: CBBAC) Tj ET\n',
        'the tag in a simple font with a /Differences encoding (codes 1-3 and 65-67 remapped), '
        'no ToUnicode: only the glyph names say #ttd#'),
}


def pyhanko_field(inp, out):
    """Add the empty signature field FIELD_NAME on page 2 (child process: frozen pyHanko)."""
    from gen import freeze_pyhanko
    freeze_pyhanko(os.path.basename(out))
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields
    with open(inp, 'rb') as f:
        w = IncrementalPdfFileWriter(f)
        fields.append_signature_field(w, fields.SigFieldSpec(FIELD_NAME, on_page=1, box=FIELD_BOX))
        with open(out, 'wb') as o:
            w.write(o)


def build(add, run, tiny_pdf, normalise_gs_id, surat, tmp, env, fixed, me, py):
    """Make every letter of this module in the corpus folder; `surat` is surat-rekomendasi.pdf."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.pdfgen import canvas

    # Chromium's print-to-PDF: tagged PDF, Type0/Identity-H TrueType subsets (DejaVu).
    html = os.path.join(tmp, 'undangan.html')
    open(html, 'w', encoding='utf-8').write(html_letter())
    p = add('surat-chromium.pdf', 'Debian chromium 156 --headless --print-to-pdf (Skia/PDF m156), '
            'dates fixed afterwards',
            'a browser\'s print-to-PDF of an HTML letter: TAGGED PDF (StructTreeRoot, MarkInfo), '
            'Type0/Identity-H TrueType subsets (DejaVu) with ToUnicode maps, #ttd# on page 1')
    profile = os.path.join(tmp, 'chromium-profile')
    run('chromium', '--headless', '--no-sandbox', '--disable-gpu', '--no-pdf-header-footer',
        f'--user-data-dir={profile}', f'--print-to-pdf={p}', 'file://' + html, env=env)
    shutil.rmtree(profile, ignore_errors=True)
    fix_pdf_dates(p, fixed)

    # fpdf2 with a TrueType font.
    import reportlab
    from fpdf import FPDF
    vera = os.path.join(os.path.dirname(reportlab.__file__), 'fonts')
    p = add('surat-fpdf2-ttf.pdf', 'fpdf2 2.8.9 + TrueType Bitstream Vera (from reportlab)',
            'fpdf2 letter in a TrueType font: Type0/CIDFontType2, Identity-H, ToUnicode; #ttd# in Vera')
    pdf = FPDF(format='A4')
    pdf.set_creation_date(fixed)
    pdf.set_title('Undangan Rapat Koordinasi')
    pdf.add_font('Vera', '', os.path.join(vera, 'Vera.ttf'))
    pdf.add_font('Vera', 'B', os.path.join(vera, 'VeraBd.ttf'))
    pdf.set_margins(25, 18, 20)
    pdf.add_page()
    pdf.set_font('Vera', 'B', 13)
    pdf.cell(0, 7, KOP[0], align='C', new_x='LMARGIN', new_y='NEXT')
    pdf.cell(0, 7, KOP[1], align='C', new_x='LMARGIN', new_y='NEXT')
    pdf.set_font('Vera', '', 8)
    pdf.cell(0, 5, KOP[2], align='C', new_x='LMARGIN', new_y='NEXT')
    pdf.line(25, pdf.get_y() + 1, 190, pdf.get_y() + 1)
    pdf.ln(6)
    pdf.set_font('Vera', '', 10.5)
    pdf.cell(0, 6, TANGGAL, align='R', new_x='LMARGIN', new_y='NEXT')
    for k, v in HEAD:
        pdf.cell(25, 6, k)
        pdf.cell(0, 6, ': ' + v, new_x='LMARGIN', new_y='NEXT')
    pdf.ln(5)
    for t in TO:
        pdf.cell(0, 6, t, new_x='LMARGIN', new_y='NEXT')
    pdf.ln(3)
    for para in BODY:
        pdf.multi_cell(0, 6, para, align='J', new_x='LMARGIN', new_y='NEXT')
        pdf.ln(2)
    pdf.ln(6)
    for i, line in enumerate(SIGN):
        pdf.set_x(115)
        pdf.set_font('Vera', 'B' if i == 2 else '', 10.5)
        pdf.cell(0, 6, line, new_x='LMARGIN', new_y='NEXT')
        if i in (0, 1):
            pdf.ln(14)
    pdf.output(p)

    # ghostscript: ps2pdf, and PDF/A-2b.
    ps = os.path.join(tmp, 'undangan.ps')
    open(ps, 'wb').write(ps_letter())
    p = add('surat-gs-ps2pdf.pdf', 'ghostscript 10.0 ps2pdf -dPDFSETTINGS=/printer (trailer /ID fixed afterwards)',
            'PostScript letter through ps2pdf: embedded Type 1C (CFF) subsets of the URW base fonts, #ttd# in Helvetica')
    run('ps2pdf', '-dPDFSETTINGS=/printer', ps, p, env=env)
    normalise_gs_id(p)
    gsdir = next((os.path.join('/usr/share/ghostscript', d) for d in sorted(os.listdir('/usr/share/ghostscript'))
                  if os.path.isfile(os.path.join('/usr/share/ghostscript', d, 'lib', 'PDFA_def.ps'))), None)
    assert gsdir, 'ghostscript PDFA_def.ps not found'
    pdfa_def = os.path.join(tmp, 'PDFA_def.ps')
    src = open(os.path.join(gsdir, 'lib', 'PDFA_def.ps')).read()
    src = src.replace('(srgb.icc)', '(' + os.path.join(gsdir, 'iccprofiles', 'default_rgb.icc') + ')')
    src = src.replace('/Title (Title)', '/Title (Undangan Rapat Koordinasi)')
    open(pdfa_def, 'w').write(src)
    p = add('surat-gs-pdfa2b.pdf', 'ghostscript 10.0 pdfwrite -dPDFA=2 -dPDFACompatibilityPolicy=1 '
            '(sRGB OutputIntent from gs default_rgb.icc; trailer /ID fixed afterwards)',
            'the PostScript letter (#ttd# in Helvetica) with a PDF/A-2b claim (XMP pdfaid part 2 B, OutputIntent, '
            'all fonts embedded) that a seal must keep; '
            'not checked by a PDF/A validator here')
    run('gs', '-q', '-dNOPAUSE', '-dBATCH', '-dNOSAFER', '-sDEVICE=pdfwrite', '-dPDFA=2',
        '-dPDFACompatibilityPolicy=1', '-sColorConversionStrategy=RGB', f'-sOutputFile={p}', pdfa_def, ps,
        env=env)
    normalise_gs_id(p)

    # Rotated pages: the portrait letter with its signature page turned (the reader sees it
    # sideways), and a landscape page stored portrait with /Rotate 90 (the reader sees it upright).
    for angle in (90, 270):
        run('qpdf', '--deterministic-id', f'--rotate=+{angle}:2', surat,
            add(f'surat-rotate{angle}.pdf', f'qpdf 11.3 --rotate=+{angle}:2 of surat-rekomendasi.pdf',
                f'page 2 (the signature page, #ttd#) has /Rotate {angle}: the reader sees the portrait '
                'letter turned sideways; rectangles are measured on the page as seen'))
    p = add('landscape-rotate90.pdf', 'reportlab 5.1 canvas (invariant), content drawn under cm '
            '[0 1 -1 0 595 0] on a portrait MediaBox, then qpdf 11.3 --rotate=+90:1',
            'a landscape letter stored as a portrait page with /Rotate 90: the reader sees it upright '
            '(842 x 595); its text runs up the stored page; #ttd# on page 1')
    portrait = os.path.join(tmp, 'landscape-stored-portrait.pdf')
    c = canvas.Canvas(portrait, pagesize=A4, invariant=1)
    c.setTitle('Undangan (lanskap)')
    c.transform(0, 1, -1, 0, A4[0], 0)
    lw, lh = landscape(A4)
    draw_letter(c, lw, lh)
    c.showPage()
    c.save()
    run('qpdf', '--deterministic-id', '--rotate=+90:1', portrait, p)

    # A crop box offset from the media box.
    p = add('surat-cropbox.pdf', 'reportlab 5.1 canvas (invariant), /MediaBox [0 0 740 1020] '
            '/CropBox [40 50 680 960]',
            'a letter whose crop box is offset from its media box: the page as seen is the crop box '
            '(640 x 910, from 40,50); #ttd# on page 1')
    c = canvas.Canvas(p, pagesize=(740, 1020), invariant=1)
    c.setTitle('Undangan (crop box)')
    c.setCropBox((40, 50, 680, 960))
    c.translate(40, 50)
    draw_letter(c, 640, 910)
    c.showPage()
    c.save()

    # Hand-written content streams with tricky text.
    for name, (stream, what) in TRICKY.items():
        fonts = b'/F 7 0 R' if name != 'tricky-differences.pdf' else b'/D 8 0 R'
        open(add(name, 'hand-written (letters.py tricky_page)', what), 'wb').write(
            tiny_pdf(tricky_page(stream, fonts)))

    # A letter with an empty signature field over its signature block.
    run(py, me, '--pyhanko-field', surat,
        add('surat-field-ttd.pdf', 'reportlab 5.1 + pyHanko 0.38 append_signature_field (incremental update)',
            f'surat-rekomendasi.pdf with an empty signature field "{FIELD_NAME}" on page 2, '
            f'/Rect {list(FIELD_BOX)} over the #ttd# line: a seal signed into it keeps that rectangle'))
