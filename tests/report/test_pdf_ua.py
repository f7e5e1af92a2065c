"""The professional's PDF copy, checked with pikepdf against what PDF/UA-1 (ISO 14289-1, the Matterhorn
Protocol's machine-checkable points) asks of a document like it. veraPDF is not run here: these are the
checks it would make that apply to this copy.

- the catalog: /MarkInfo /Marked true, /Lang, /ViewerPreferences /DisplayDocTitle true, XMP metadata with
  pdfuaid:part 1 and the document's title (dc:title, the same as /Title and the H1);
- every page: /Tabs /S, and every text or drawing inside either marked content with an MCID that one
  structure element references (and the page's /StructParents entry of the parent tree points back to
  it), or an /Artifact (the footer with the reference and the page number);
- the structure: Document > H1, H2, P; one H1 first, no heading level skipped, no empty heading;
- every font embedded;
- the tagged text (what a screen reader reads, artifacts left out) holds every answer of the report.
"""
from __future__ import annotations

import io

import pikepdf
import pytest
from pypdf import PdfReader

from .helpers import Reporter
from .test_summary import EXPECTED, _fill

TEXT_OPS = {"Tj", "TJ", "'", '"'}
PAINT_OPS = {"S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "sh", "Do", "BI"}
STRUCT_TYPES = {"/Document", "/H1", "/H2", "/P"}
PDFUA_NS = "{http://www.aiim.org/pdfua/ns/id/}part"


def _copy(report_app, lang: str) -> bytes:
    reporter = Reporter(report_app, language=lang)
    _fill(reporter, "professional")
    reporter.send()
    response = reporter.get("/confirmation/copie.pdf")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    return response.data


def _marked_content(page) -> list:
    """Every text-showing or painting operator of the page, with the marked content around it:
    [(operator, [(tag, properties), ...])] from the outermost sequence to the innermost."""
    out, stack = [], []
    for operands, operator in pikepdf.parse_content_stream(page):
        op = str(operator)
        if op == "BDC":
            stack.append((str(operands[0]), operands[1]))
        elif op == "BMC":
            stack.append((str(operands[0]), None))
        elif op == "EMC":
            assert stack, "EMC without a marked-content sequence"
            stack.pop()
        elif op in TEXT_OPS or op in PAINT_OPS:
            out.append((op, list(stack)))
    assert not stack, "a marked-content sequence is left open at the end of the page"
    return out


def _text_by_mcid(data: bytes) -> dict:
    """{(page index, MCID or "artifact"): text} read with pypdf, following BDC/EMC."""
    texts = {}
    for index, page in enumerate(PdfReader(io.BytesIO(data)).pages):
        current = [None]

        def before(op, args, _cm, _tm, current=current):
            if op == b"BDC":
                props = args[1]
                if str(args[0]) == "/Artifact":
                    current[0] = "artifact"
                else:
                    current[0] = int(props["/MCID"])
            elif op == b"EMC":
                current[0] = None

        def text(t, _cm, _tm, _font, _size, current=current, index=index):
            if t:
                key = (index, current[0])
                texts[key] = texts.get(key, "") + t

        page.extract_text(visitor_operand_before=before, visitor_text=text)
    return {k: " ".join(v.split()) for k, v in texts.items()}


def _elements(node, out):
    """Every structure element under `node`, in reading order."""
    kids = node.get("/K")
    if kids is None:
        return out
    for kid in (kids if isinstance(kids, pikepdf.Array) else [kids]):
        if isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/StructElem":
            out.append(kid)
            _elements(kid, out)
    return out


def _mcids(elem) -> list[int]:
    kids = elem.get("/K")
    return [int(k) for k in (kids if isinstance(kids, pikepdf.Array) else [kids]) if isinstance(k, int)]


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_pdf_copy_meets_the_pdf_ua_checks(report_app, lang):
    data = _copy(report_app, lang)
    pdf = pikepdf.open(io.BytesIO(data))
    root = pdf.Root

    # The catalog and the metadata.
    assert root.MarkInfo.Marked is True
    assert str(root.Lang) == lang
    assert root.ViewerPreferences.DisplayDocTitle is True
    title = str(pdf.docinfo["/Title"])
    assert title
    assert "/Metadata" in root
    meta = pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False)
    assert meta[PDFUA_NS] == "1"
    assert meta["dc:title"] == title
    assert lang in meta["dc:language"]

    # Every font is embedded.
    for page in pdf.pages:
        for name, font in page.Resources.Font.items():
            descriptor = (font.DescendantFonts[0] if font.Subtype == "/Type0" else font).FontDescriptor
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), (name, font.BaseFont)

    # The structure tree: one Document holding H1, H2 and P only.
    tree = root.StructTreeRoot
    (document,) = [k for k in (tree.K if isinstance(tree.K, pikepdf.Array) else [tree.K])]
    assert document.S == "/Document"
    elements = _elements(document, [])
    assert {str(e.S) for e in elements} <= STRUCT_TYPES
    referenced = {}
    for elem in elements:
        if elem.S == "/Document":
            continue
        page_index = pdf.pages.index(pikepdf.Page(elem.Pg))
        for mcid in _mcids(elem):
            assert (page_index, mcid) not in referenced, "an MCID referenced twice"
            referenced[(page_index, mcid)] = elem

    # Every page: tab order by structure, every mark inside tagged content or an artifact, and the
    # parent tree leading from each MCID back to its element.
    parent_tree = dict(pikepdf.NumberTree(tree.ParentTree).items())
    in_content = set()
    for index, page in enumerate(pdf.pages):
        assert page.obj.Tabs == "/S"
        parents = parent_tree[int(page.obj.StructParents)]
        marks = _marked_content(page)
        assert marks
        for op, stack in marks:
            assert stack, f"page {index + 1}: '{op}' outside any marked content (neither tagged nor an artifact)"
            tag, props = stack[-1]
            if tag == "/Artifact":
                continue
            assert props is not None and "/MCID" in props, (index, op, tag)
            mcid = int(props.MCID)
            in_content.add((index, mcid))
            assert (index, mcid) in referenced, f"page {index + 1}: MCID {mcid} belongs to no structure element"
            assert tag == str(referenced[(index, mcid)].S), (index, mcid, tag)
            assert parents[mcid].objgen == referenced[(index, mcid)].objgen, "the parent tree disagrees"
    assert in_content == set(referenced), "a structure element points to content that is not there"

    # Headings: one H1 first (the title), no level skipped, none empty.
    texts = _text_by_mcid(data)

    def text_of(elem):
        index = pdf.pages.index(pikepdf.Page(elem.Pg))
        return " ".join(texts.get((index, m), "") for m in _mcids(elem)).strip()

    headings = [e for e in elements if str(e.S) in ("/H1", "/H2")]
    levels = [int(str(e.S)[2:]) for e in headings]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:]))
    for heading in headings:
        assert text_of(heading), f"an empty {heading.S}"
    assert text_of(headings[0]) == title

    # The footer is an artifact on every page: the reference and the page number, not read as content.
    artifacts = [texts.get((i, "artifact"), "") for i in range(len(pdf.pages))]
    reference = text_of(next(e for e in elements if e.S == "/P")).split()[-1]
    assert all(reference in a for a in artifacts)
    if lang == "en":
        assert artifacts[-1].endswith(f"page {len(pdf.pages)} of {len(pdf.pages)}")

    # What a screen reader reads (the tagged text) holds every answer.
    if lang == "en":
        tagged = " ".join(text_of(e) for e in elements if e.S != "/Document")
        for label, value in EXPECTED["professional"]:
            assert label in tagged and value in tagged, (label, value)


def test_a_block_without_text_makes_no_element():
    """An empty heading is never tagged: a block whose parts are all empty writes nothing."""
    from portal.report.pdf import TaggedPDF
    pdf = TaggedPDF("en")
    pdf.add_page()
    pdf.block("/H1", [("Title", 15, True, 8)])
    pdf.block("/H2", [("", 13, True, 7)])
    pdf.block("/H2", [("   ", 13, True, 7)])
    pdf.block("/P", [("Label", 10.5, True, 5.5), ("", 10.5, False, 5.5)])
    doc = pikepdf.open(io.BytesIO(bytes(pdf.output())))
    (document,) = list(doc.Root.StructTreeRoot.K)
    assert [str(e.S) for e in _elements(document, [])] == ["/H1", "/P"]
