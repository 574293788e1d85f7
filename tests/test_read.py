"""Tests for graph_model.read: normalisation with offsets, readers, errors, sections."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph_model import read
from graph_model.errors import InputError
from graph_model.read import (
    MAX_BYTES,
    _classify,
    _heading_label,
    _normalise,
    detect_sections,
    iter_document_paths,
    normalise,
    read_document,
)

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED_FILES = sorted(SEEDS.glob("*.txt"))


def clean(raw: str) -> str:
    return normalise(raw)[0]


def error_of(path: Path | str) -> str:
    with pytest.raises(InputError) as info:
        read_document(path)
    return str(info.value)


# --------------------------------------------------------------------------------------
# normalise: exact clean text
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("### **SUMMARY:**", "SUMMARY:"),
        ("# **KEY LEARNING:**\n\nText", "KEY LEARNING:\n\nText"),
        (
            "Remember: ***If there are questions – ask them.***",
            "Remember: If there are questions – ask them.",
        ),
        ("__Underlined__ and *emphasis* here", "Underlined and emphasis here"),
        ("5 * 3 and a footnote*", "5 * 3 and a footnote*"),
        (
            "the NSCB [Resolving Professional Differences \\(Escalation Procedure\\)](#) should",
            "the NSCB Resolving Professional Differences (Escalation Procedure) should",
        ),
        ("see [the guidance](https://example.org/a_(b)) now", "see the guidance now"),
        ("and\\/or 1\\. item", "and/or 1. item"),
        (
            "Familiarise with the <u>Child Protection Enquiries</u> chapter",
            "Familiarise with the Child Protection Enquiries chapter",
        ),
        (
            "- 1. Where disagreements exist\n- 2. Professionals",
            "1. Where disagreements exist\n2. Professionals",
        ),
        ("• one\n· two\n– three\n* four\n  - five", "one\ntwo\nthree\nfour\nfive"),
        ("1. First\n2. Second", "1. First\n2. Second"),
        ("-5 degrees and -minus", "-5 degrees and -minus"),
        ("a  b\t\t c   \nd   ", "a b\tc\nd"),
        ("a\n\n\n\n\nb\n\n\nc", "a\n\nb\n\nc"),
        ("a\r\nb\rc", "a\nb\nc"),
        ("\n\n\n  Title  \n\n", "Title"),
        ("A &amp; B &lt;x&gt; A&E &nbsp;y &#8217; &unknown;", "A & B <x> A&E y ’ &unknown;"),
        ("a<br>b<br/>c", "a\nb\nc"),
        ("<p>One</p> <p>Two</p>", "One\n\nTwo"),
        ("<ul><li>First</li><li>Second</li></ul>", "First\nSecond"),
        ("<Name redacted> said <5 years", "<Name redacted> said <5 years"),
        # plain text is not HTML: a "<script>" there is text (only .html/.htm hide it)
        ("before<script>var x = 1;</script>after<style>p{}</style>!", "before<script>var x = 1;</script>after<style>p{}</style>!"),
        ("a <!-- an unclosed comment in plain text\nb", "a <!-- an unclosed comment in plain text\nb"),
        ("x<!-- hidden -->y", "xy"),
        ("***\n---\nText\n* * *", "Text"),
        ("identiﬁed a\u00a0b\u200bc", "identified a bc"),
        # an HTML list written with inline "•" bullets inside a table cell
        (
            'Transition\tAll agencies.\t<ul style="list-style-type: none"> • Lack of certainty. • Lead Professional – who is this?',
            "Transition\tAll agencies.\nLack of certainty.\nLead Professional – who is this?",
        ),
        # an HTML list written with inline dash bullets: split only before a capital
        (
            "Purpose\t<p>(Please include methodology)</p> <ul> – Case Mapping Exercise – Agencies asked. "
            "– Support – which was not consistent. \t",
            "Purpose\n(Please include methodology)\n\nCase Mapping Exercise\nAgencies asked.\n"
            "Support – which was not consistent.",
        ),
        ("\tGood Practice\tLearning Points", "Good Practice\tLearning Points"),
        ("Row label\tcell one\t\t\tcell two", "Row label\tcell one\tcell two"),
        ("", ""),
    ],
)
def test_normalise_exact(raw: str, expected: str) -> None:
    assert clean(raw) == expected


def test_normalise_offsets_point_into_raw() -> None:
    raw = "### **Key** learning"
    text, offsets = normalise(raw)
    assert text == "Key learning"
    assert offsets[0] == raw.index("Key")
    assert offsets[4] == raw.index("learning")
    assert offsets[-1] == len(raw)
    assert len(offsets) == len(text) + 1


def test_inserted_characters_map_to_the_markup_they_replace() -> None:
    raw = "a<br>b &amp; c"
    text, offsets = normalise(raw)
    assert text == "a\nb & c"
    assert offsets[1] == raw.index("<br>")  # the inserted line break
    assert offsets[4] == raw.index("&amp;")  # the decoded entity
    assert offsets == [0, 1, 5, 6, 7, 12, 13, 14]


def test_crlf_maps_to_the_line_feed() -> None:
    raw = "a\r\nb"
    text, offsets = normalise(raw)
    assert text == "a\nb"
    assert offsets == [0, 2, 3, 4]


def test_html_mode_treats_source_line_breaks_as_spaces() -> None:
    raw = (
        "<html><head><title>Review &ndash; Child A</title><style>p {color: red}</style>"
        "<script>var s = '<p>no</p>';</script></head>\n<body><!-- note -->\n"
        "<h1>Key   learning</h1>\n<p>Agencies &amp; partners\nshould share&nbsp;information.</p>\n"
        "<ul><li>First&#8217;s point</li>\n<li>Second <b>point</b></li></ul>\n"
        "<table><tr><th>Agency</th><th>Action</th></tr><tr><td>Police</td><td>Refer &lt;quickly&gt;</td></tr></table>"
        "</body></html>"
    )
    buf = _normalise(raw, html_mode=True)
    assert buf.text() == (
        "Review – Child A\n\nKey learning\n\nAgencies & partners should share information.\n\n"
        "First’s point\nSecond point\n\nAgency\tAction\nPolice\tRefer <quickly>"
    )


# --------------------------------------------------------------------------------------
# normalise: the offset property, for any input
# --------------------------------------------------------------------------------------

_FRAGMENTS = [
    "a", "B", "word", " ", "  ", "\t", "\n", "\r\n", "\r", "*", "**", "***", "_", "__", "#", "### ",
    "- ", "• ", "–", "·", "1. ", "\\(", "\\", "[", "]", "(", ")", "[link](#)", "<p>", "</p>", "<br>",
    "<ul>", "</ul>", "<li>", "<u>", "</u>", "<td>", "<tr>", "<script>x</script>", "<!--c-->", "<", ">",
    "&amp;", "&nbsp;", "&#8217;", "&", ";", "\u00a0", "\u200b", "\x00", "\x0c", "ﬁ", "é", "\ufeff",
]  # fmt: skip
_RAW_TEXT = st.one_of(
    st.lists(st.sampled_from(_FRAGMENTS), max_size=40).map("".join),
    st.text(max_size=60),
)


def _check_offsets(raw: str, text: str, offsets: list[int], copied: list[bool] | None = None) -> None:
    assert len(offsets) == len(text) + 1
    assert offsets[-1] == len(raw)
    assert all(a <= b for a, b in zip(offsets, offsets[1:], strict=False))
    assert all(0 <= off < len(raw) for off in offsets[:-1])
    if copied is not None:
        for i, ch in enumerate(text):
            if copied[i]:
                assert raw[offsets[i]] == ch


@settings(max_examples=400, deadline=None)
@given(_RAW_TEXT, st.booleans())
def test_offsets_property(raw: str, html_mode: bool) -> None:
    buf = _normalise(raw, html_mode=html_mode)
    text, offsets = buf.text(), [*buf.offs, len(raw)]
    _check_offsets(raw, text, offsets, buf.copied)
    # the public function agrees with the internal one
    if not html_mode:
        assert normalise(raw) == (text, offsets)


_NO_SUBSTITUTIONS = [f for f in _FRAGMENTS if not any(c in f for c in "&\r\x0c\u00a0ﬁ")]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_NO_SUBSTITUTIONS), max_size=40).map("".join))
def test_visible_characters_are_copied_from_raw(raw: str) -> None:
    # without entities, ligatures, odd spaces or CR, normalisation only deletes characters
    # and inserts white space: every other character of text is raw[offsets[i]]
    text, offsets = normalise(raw)
    for i, ch in enumerate(text):
        assert ch in "\n\t " or raw[offsets[i]] == ch


@settings(max_examples=100, deadline=None)
@given(_RAW_TEXT)
def test_clean_text_has_no_runs_of_spaces_or_blank_lines(raw: str) -> None:
    text, _ = normalise(raw)
    assert "  " not in text
    assert "\n\n\n" not in text
    assert "\t\t" not in text
    assert text == text.strip()
    assert all(line == line.rstrip(" \t") for line in text.split("\n"))


# --------------------------------------------------------------------------------------
# read_document: text formats
# --------------------------------------------------------------------------------------


def test_read_seed_document(tmp_path: Path) -> None:
    seed = SEEDS / "000_d5bcbe7d1a8f4ecb.txt"
    doc = read_document(seed)
    assert doc.name == seed.name
    assert doc.path == str(seed)
    assert doc.format == "txt"
    assert doc.sha256 == hashlib.sha256(seed.read_bytes()).hexdigest()
    assert doc.raw == seed.read_text(encoding="utf-8")
    assert doc.text.startswith(
        "LEARNING AND IMPROVEMENT BULLETIN – Learning Review\n\nSUMMARY:\n\nThis Learning Review"
    )
    quote = "Resolving Professional Differences (Escalation Procedure)"
    start = doc.text.index(quote)
    raw_start, raw_end = doc.raw_span(start, start + len(quote))
    assert doc.raw[raw_start:raw_end] == "Resolving Professional Differences \\(Escalation Procedure\\)"
    assert "***" not in doc.text and "](#)" not in doc.text
    _check_offsets(doc.raw, doc.text, doc.offsets)


@pytest.mark.parametrize("seed", SEED_FILES, ids=lambda p: p.name)
def test_every_seed_reads_and_maps_back(seed: Path) -> None:
    doc = read_document(seed)
    _check_offsets(doc.raw, doc.text, doc.offsets)
    for marker in ("**", "<p>", "<ul", "</u>", "](#)", "\\(", "### ", "•"):
        assert marker not in doc.text


def test_utf8_with_bom(tmp_path: Path) -> None:
    f = tmp_path / "bom.txt"
    f.write_bytes(b"\xef\xbb\xbfKey learning\n\nShare information.\n")
    doc = read_document(f)
    assert doc.raw == "Key learning\n\nShare information.\n"
    assert doc.text == "Key learning\n\nShare information."


def test_utf16_with_bom(tmp_path: Path) -> None:
    f = tmp_path / "u16.txt"
    f.write_bytes("Summary\r\n\r\nThe child’s mother.\r\n".encode("utf-16"))
    doc = read_document(f)
    assert doc.raw == "Summary\r\n\r\nThe child’s mother.\r\n"
    assert doc.text == "Summary\n\nThe child’s mother."
    assert [s.kind for s in doc.sections] == ["summary"]


def test_latin1_and_cp1252_fallback(tmp_path: Path) -> None:
    f = tmp_path / "latin.txt"
    f.write_bytes("Café costs £5 – “quoted”".encode("cp1252"))
    assert read_document(f).text == "Café costs £5 – “quoted”"
    g = tmp_path / "latin1.md"
    # 0x81 is undefined in cp1252, so this falls back to Latin-1 (and the C1 control is dropped)
    g.write_bytes("Naïve résumé of the review, written by the lead reviewer \x81 in 2019.".encode("latin-1"))
    assert read_document(g).text == "Naïve résumé of the review, written by the lead reviewer in 2019."


def test_crlf_and_cr_line_endings(tmp_path: Path) -> None:
    f = tmp_path / "crlf.txt"
    f.write_bytes(b"KEY LEARNING\r\n\r\n1. First.\r\n2. Second.\r\r3. Third.")
    doc = read_document(f)
    assert doc.text == "KEY LEARNING\n\n1. First.\n2. Second.\n\n3. Third."
    assert "\r\n" in doc.raw
    i = doc.text.index("2. Second.")
    start, end = doc.raw_span(i, i + len("2. Second."))
    assert doc.raw[start:end] == "2. Second."


def test_markdown_file(tmp_path: Path) -> None:
    f = tmp_path / "b.md"
    f.write_text("# **KEY LEARNING:**\n\n- 1. Share [the policy](http://x.org).\n", encoding="utf-8")
    doc = read_document(f)
    assert doc.format == "md"
    assert doc.text == "KEY LEARNING:\n\n1. Share the policy."
    assert [(s.kind, s.heading) for s in doc.sections] == [("key_learning", "KEY LEARNING")]


def test_html_file(tmp_path: Path) -> None:
    source = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Review</title>"
        "<script>alert('<b>x</b>')</script><style>.a{}</style></head><body>"
        "<h2>Good practice</h2>\n<p>Health &amp; Police\n worked well&hellip;</p>"
        "<h2>Recommendations</h2><ol><li>Escalate &lt;early&gt;</li><li>Record</li></ol></body></html>"
    )
    f = tmp_path / "r.html"
    f.write_text(source, encoding="utf-8")
    doc = read_document(f)
    assert doc.raw == source
    assert doc.format == "html"
    assert (
        doc.text
        == "Review\n\nGood practice\n\nHealth & Police worked well…\n\nRecommendations\n\nEscalate <early>\nRecord"
    )
    assert [(s.kind, s.heading) for s in doc.sections] == [
        ("title", "Review"),
        ("good_practice", "Good practice"),
        ("recommendations", "Recommendations"),
    ]
    i = doc.text.index("Health")
    assert doc.raw[doc.offsets[i] : doc.offsets[i] + 6] == "Health"
    _check_offsets(doc.raw, doc.text, doc.offsets)


def test_htm_with_declared_charset(tmp_path: Path) -> None:
    f = tmp_path / "r.HTM"
    f.write_bytes('<meta charset="windows-1252"><p>It\x92s done</p>'.encode("latin-1"))
    doc = read_document(f)
    assert doc.format == "htm"
    assert doc.text == "It’s done"
    g = tmp_path / "latin.html"  # pages declaring Latin-1 are read as cp1252, like browsers do
    g.write_bytes(
        b'<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"><p>Caf\xe9 \x93ok\x94</p>'
    )
    assert read_document(g).text == "Café “ok”"


# --------------------------------------------------------------------------------------
# read_document: PDF
# --------------------------------------------------------------------------------------

fpdf = pytest.importorskip("fpdf")


def _text_pdf(path: Path, pages: list[tuple[str, str]]) -> Path:
    pdf = fpdf.FPDF()
    for heading, paragraph in pages:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 16)
        pdf.cell(0, 10, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        pdf.multi_cell(0, 6, paragraph)
    pdf.output(str(path))
    return path


def test_pdf_text_layer(tmp_path: Path) -> None:
    f = _text_pdf(
        tmp_path / "r.pdf",
        [
            ("Key Learning", "1. Agencies should share information promptly."),
            ("Recommendations", "Escalate early."),
        ],
    )
    doc = read_document(f)
    assert doc.format == "pdf"
    assert (
        doc.raw
        == "Key Learning\n1. Agencies should share information promptly.\n\nRecommendations\nEscalate early."
    )
    assert doc.text == doc.raw
    assert [(s.kind, s.heading) for s in doc.sections] == [
        ("key_learning", "Key Learning"),
        ("recommendations", "Recommendations"),
    ]
    assert doc.sha256 == hashlib.sha256(f.read_bytes()).hexdigest()


def test_scanned_pdf(tmp_path: Path) -> None:
    pdf = fpdf.FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60)
    pdf.output(str(tmp_path / "scan.pdf"))
    assert "has no text layer (is it a scanned image?)" in error_of(tmp_path / "scan.pdf")


def test_encrypted_pdf(tmp_path: Path) -> None:
    pdf = fpdf.FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.cell(0, 10, "Secret text")
    pdf.set_encryption(owner_password="owner", user_password="user")
    pdf.output(str(tmp_path / "locked.pdf"))
    message = error_of(tmp_path / "locked.pdf")
    assert message.startswith(str(tmp_path / "locked.pdf"))
    assert "is encrypted and cannot be opened without a password" in message


def test_pdf_encrypted_with_empty_user_password_opens(tmp_path: Path) -> None:
    pdf = fpdf.FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.cell(0, 10, "Open text")
    pdf.set_encryption(owner_password="owner")
    pdf.output(str(tmp_path / "open.pdf"))
    assert read_document(tmp_path / "open.pdf").text == "Open text"


def test_truncated_and_corrupt_pdf(tmp_path: Path) -> None:
    data = _text_pdf(tmp_path / "ok.pdf", [("Summary", "Text.")]).read_bytes()
    (tmp_path / "cut.pdf").write_bytes(data[: len(data) // 2])
    assert "is not a readable PDF (the file is damaged or truncated)" in error_of(tmp_path / "cut.pdf")
    (tmp_path / "junk.pdf").write_bytes(b"%PDF-1.4\n" + b"junk " * 50)
    assert "is not a readable PDF (the file is damaged or truncated)" in error_of(tmp_path / "junk.pdf")
    (tmp_path / "fake.pdf").write_bytes(b"Just some text pretending to be a PDF")
    assert "is not a PDF file (it does not start with %PDF)" in error_of(tmp_path / "fake.pdf")


# --------------------------------------------------------------------------------------
# read_document: DOCX
# --------------------------------------------------------------------------------------

docx = pytest.importorskip("docx")


def test_docx_paragraphs_headings_tables_in_order(tmp_path: Path) -> None:
    d = docx.Document()
    d.add_heading("Serious Case Review: Child D", 0)
    d.add_heading("Summary", 1)
    d.add_paragraph("Child D lived with her mother.")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Agency"
    table.cell(0, 1).text = "Action"
    table.cell(1, 0).text = "Police"
    table.cell(1, 1).text = "Share referrals"
    d.add_heading("Recommendations", 1)
    d.add_paragraph("First point", style="List Number")
    d.add_paragraph("Second point", style="List Number")
    d.add_paragraph("A bullet", style="List Bullet")
    f = tmp_path / "r.docx"
    d.save(str(f))
    doc = read_document(f)
    assert doc.format == "docx"
    assert doc.raw == (
        "Serious Case Review: Child D\n\nSummary\n\nChild D lived with her mother.\n\n"
        "Agency\tAction\nPolice\tShare referrals\n\nRecommendations\n\n1. First point\n\n2. Second point\n\n• A bullet"
    )
    assert doc.text == (
        "Serious Case Review: Child D\n\nSummary\n\nChild D lived with her mother.\n\n"
        "Agency\tAction\nPolice\tShare referrals\n\nRecommendations\n\n1. First point\n\n2. Second point\n\nA bullet"
    )
    assert [(s.kind, s.heading) for s in doc.sections] == [
        ("title", "Serious Case Review: Child D"),
        ("summary", "Summary"),
        ("recommendations", "Recommendations"),
    ]


def test_docx_content_controls_and_lists_in_cells(tmp_path: Path) -> None:
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    d = docx.Document()
    d.add_paragraph("Learning Summary")
    table = d.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Findings"
    cell = table.cell(0, 1)
    cell.paragraphs[0].text = "No plan was made."
    cell.paragraphs[0].style = "List Bullet"
    cell.add_paragraph("No strategy meeting.", style="List Bullet")
    sdt = parse_xml(
        f"<w:sdt {nsdecls('w')}><w:sdtContent><w:p><w:r><w:t>Good practice</w:t></w:r></w:p>"
        "<w:p><w:r><w:t>Inside a content control.</w:t></w:r></w:p></w:sdtContent></w:sdt>"
    )
    d.add_paragraph("Last paragraph.")._p.addprevious(sdt)
    d.save(str(tmp_path / "form.docx"))
    doc = read_document(tmp_path / "form.docx")
    assert doc.raw == (
        "Learning Summary\n\nFindings\t• No plan was made. • No strategy meeting.\n\n"
        "Good practice\n\nInside a content control.\n\nLast paragraph."
    )
    assert doc.text == (
        "Learning Summary\n\nFindings\nNo plan was made.\nNo strategy meeting.\n\n"
        "Good practice\n\nInside a content control.\n\nLast paragraph."
    )
    assert [(s.kind, s.heading) for s in doc.sections] == [
        ("title", "Learning Summary"),
        ("findings", "Findings"),
        ("good_practice", "Good practice"),
    ]


def test_docx_merged_cells_count_once(tmp_path: Path) -> None:
    d = docx.Document()
    table = d.add_table(rows=2, cols=3)
    merged = table.cell(0, 0).merge(table.cell(0, 1))
    merged.text = "Learning Points"
    table.cell(0, 2).text = "Notes"
    table.cell(1, 0).text = "Police"
    table.cell(1, 2).text = "Refer"
    d.save(str(tmp_path / "m.docx"))
    assert read_document(tmp_path / "m.docx").raw == "Learning Points\tNotes\nPolice\t\tRefer"


def test_docx_errors(tmp_path: Path) -> None:
    (tmp_path / "plain.docx").write_bytes(b"This is not a zip file at all")
    assert "is not a valid .docx file (it is not a zip archive)" in error_of(tmp_path / "plain.docx")
    with zipfile.ZipFile(tmp_path / "other.docx", "w") as z:
        z.writestr("hello.txt", "hi")
    assert "is not a valid .docx file (its Word document is damaged or missing)" in error_of(
        tmp_path / "other.docx"
    )
    (tmp_path / "old.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    assert "looks like an old-format .doc or a password-protected Word file" in error_of(
        tmp_path / "old.docx"
    )
    d = docx.Document()
    d.save(str(tmp_path / "blank.docx"))
    assert "contains no text" in error_of(tmp_path / "blank.docx")


# --------------------------------------------------------------------------------------
# read_document: bad input
# --------------------------------------------------------------------------------------


def test_empty_and_whitespace_files(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    assert error_of(tmp_path / "empty.txt") == f"{tmp_path / 'empty.txt'}: is empty."
    (tmp_path / "blank.md").write_bytes(b"  \n\t\r\n  ")
    assert "contains only whitespace" in error_of(tmp_path / "blank.md")
    (tmp_path / "markup.html").write_text("<html><body><p> </p><script>x()</script></body></html>")
    assert "has no readable text once markup is removed" in error_of(tmp_path / "markup.html")
    (tmp_path / "stars.txt").write_text("** **\n***\n- \n")
    assert "has no readable text once markup is removed" in error_of(tmp_path / "stars.txt")


def test_binary_data_in_text_file(tmp_path: Path) -> None:
    (tmp_path / "nul.txt").write_bytes(b"PK\x03\x04\x00\x00binary\x00stuff")
    assert "looks like binary data, not text" in error_of(tmp_path / "nul.txt")
    (tmp_path / "ctrl.md").write_bytes(bytes(range(1, 9)) * 20 + b"some words")
    assert "looks like binary data, not text" in error_of(tmp_path / "ctrl.md")


def test_unknown_extension_missing_file_and_folder(tmp_path: Path) -> None:
    (tmp_path / "sheet.xlsx").write_bytes(b"data")
    message = error_of(tmp_path / "sheet.xlsx")
    assert (
        "has an unsupported file type '.xlsx'; supported types are .docx, .htm, .html, .md, .pdf, .txt"
        in message
    )
    assert "does not exist" in error_of(tmp_path / "nope.txt")
    assert "is a folder, not a document" in error_of(tmp_path)


def test_file_larger_than_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as f:
        f.truncate(MAX_BYTES + 1)  # sparse: no real disk use
    assert MAX_BYTES == 50 * 1024 * 1024
    assert "is larger than the 50 MB limit" in error_of(big)


# --------------------------------------------------------------------------------------
# iter_document_paths
# --------------------------------------------------------------------------------------


def test_iter_document_paths_expands_folders(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.pdf").write_bytes(b"%PDF-")
    (tmp_path / "b" / "a.DOCX").write_bytes(b"x")
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "notes.csv").write_text("x")
    (tmp_path / ".hidden.txt").write_text("x")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "c.md").write_text("x")
    (tmp_path / "~$lock.docx").write_bytes(b"x")
    found = iter_document_paths([tmp_path])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a.txt", "b/a.DOCX", "b/z.pdf"]
    # files named explicitly, a single path, duplicates
    assert iter_document_paths(str(tmp_path / "a.txt")) == [tmp_path / "a.txt"]
    assert iter_document_paths([tmp_path / "a.txt", tmp_path]) == [
        tmp_path / "a.txt",
        tmp_path / "b" / "a.DOCX",
        tmp_path / "b" / "z.pdf",
    ]


def test_iter_document_paths_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        iter_document_paths([tmp_path / "missing"])
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "data.csv").write_text("x")
    with pytest.raises(InputError) as info:
        iter_document_paths([tmp_path / "empty"])
    assert str(info.value) == (
        f"{tmp_path / 'empty'}: is a folder with no supported documents (.docx, .htm, .html, .md, .pdf, .txt)."
    )
    with pytest.raises(InputError) as info:
        iter_document_paths([tmp_path / "empty" / "data.csv"])
    assert "unsupported file type '.csv'; supported types are .docx, .htm, .html, .md, .pdf, .txt" in str(
        info.value
    )


def test_iter_document_paths_on_seeds() -> None:
    assert iter_document_paths([SEEDS]) == SEED_FILES


# --------------------------------------------------------------------------------------
# detect_sections
# --------------------------------------------------------------------------------------

EXPECTED_SECTIONS = {
    "000_d5bcbe7d1a8f4ecb.txt": [
        ("title", "LEARNING AND IMPROVEMENT BULLETIN – Learning Review"),
        ("summary", "SUMMARY"),
        ("key_learning", "KEY LEARNING"),
    ],
    "001_58071196eda5a159.txt": [
        ("title", "LEARNING & IMPROVEMENT BULLETIN"),
        ("summary", "SUMMARY"),
        ("key_learning", "KEY LEARNING"),
        ("recommendations", "IMPROVING PRACTICE"),
    ],
    "002_2b128cb0abd04d34.txt": [
        ("title", "Special Practice Review Newsletter"),
        ("other", ""),
        ("case", "Child One"),
        ("key_learning", "Summary of the key learning"),
        ("recommendations", "Key Actions and Recommendations"),
        ("case", "Child Two"),
        ("key_learning", "Summary of the key learning"),
        ("recommendations", "Recommendations"),
        ("case", "Child Three"),
        ("key_learning", "Summary of the key learning and good practice examples"),
        ("recommendations", "Key Actions and Recommendations"),
    ],
    "003_050a913a287adf6b.txt": [
        ("title", "LEARNING THE LESSONS – October 2018"),
        ("other", ""),
        ("lessons_learned", "Lessons learned and key messages for current practice"),
    ],
    "004_cd261efeb7acd646.txt": [
        ("title", "Learning Summary – Child X"),
        ("methodology", "Type of review conducted and overall purpose"),
        ("key_learning", "What you learnt about the case: key themes/early learning"),
        ("findings", "Concerns/Findings/Learning"),
        ("good_practice", "Good Practice"),
        ("learning_taken", "Learning already taken"),
        ("methodology", "What you learnt about the review/methodology"),
        ("key_learning", "Key learning points – Single-agency"),
        ("key_learning", "Key learning points - Multi-agency"),
    ],
}


def test_expected_sections_cover_every_seed() -> None:
    assert sorted(EXPECTED_SECTIONS) == [p.name for p in SEED_FILES]


@pytest.mark.parametrize("seed", SEED_FILES, ids=lambda p: p.name)
def test_sections_of_seeds(seed: Path) -> None:
    doc = read_document(seed)
    assert [(s.kind, s.heading) for s in doc.sections] == EXPECTED_SECTIONS[seed.name]
    # contiguous, covering the whole text; each heading is the text at its section start
    assert doc.sections[0].start == 0
    assert doc.sections[-1].end == len(doc.text)
    for before, after in zip(doc.sections, doc.sections[1:], strict=False):
        assert before.end == after.start
    for s in doc.sections:
        if s.kind != "other":
            assert doc.text[s.start : s.start + len(s.heading)] == s.heading


def test_section_content_of_a_seed() -> None:
    doc = read_document(SEEDS / "004_cd261efeb7acd646.txt")
    good = next(s for s in doc.sections if s.kind == "good_practice")
    body = doc.text[good.start : good.end]
    assert body.startswith(
        "Good Practice\n\nMother engaged with the Health Visitor and Family Support Worker.\n"
    )
    assert body.rstrip().endswith(
        "Duty Social Worker visited the home (unannounced) once telephone call from GP was received."
    )
    pos = doc.text.index("Very high percentages")
    assert doc.section_at(pos) is not None and doc.section_at(pos).kind == "learning_taken"


@pytest.mark.parametrize(
    ("heading", "kind"),
    [
        ("SUMMARY:", "summary"),
        ("Executive Summary", "summary"),
        ("1. Introduction", "summary"),
        ("Background", "summary"),
        ("The Case", "summary"),
        ("What happened?", "summary"),
        ("KEY LEARNING", "key_learning"),
        ("Learning points", "key_learning"),
        ("Key messages for practitioners", "key_learning"),
        ("What we learnt", "key_learning"),
        ("Findings and learning", "key_learning"),
        ("Summary of the key learning and good practice examples", "key_learning"),
        ("Lessons learned", "lessons_learned"),
        ("Lessons Learnt", "lessons_learned"),
        ("Learning the lessons", "lessons_learned"),
        ("Lessons learned and key messages for current practice", "lessons_learned"),
        ("Recommendations", "recommendations"),
        ("3.2 Recommendation", "recommendations"),
        ("Key Actions and Recommendations", "recommendations"),
        ("Actions", "recommendations"),
        ("IMPROVING PRACTICE", "recommendations"),
        ("What should happen next?", "recommendations"),
        ("Good practice", "good_practice"),
        ("What went well?", "good_practice"),
        ("Learning already taken", "learning_taken"),
        ("Action already taken", "learning_taken"),
        ("Changes made since the review", "learning_taken"),
        ("Concerns", "findings"),
        ("Findings", "findings"),
        ("Issues identified", "findings"),
        ("Analysis of practice", "findings"),
        ("3. Analysis of practice", "findings"),
        ("Finding 1: Professionals did not share information", "findings"),
        ("(1) Summary", "summary"),
        ("2. Background and context", "summary"),
        ("1. Introduction to the review", "summary"),
        ("Recommendation 1", "recommendations"),
        ("Recommendations are as follows", "recommendations"),
        ("Methodology", "methodology"),
        ("Type of review", "methodology"),
        ("About the review", "methodology"),
        ("The review process", "methodology"),
        ("What you learnt about the review/methodology", "methodology"),
        ("Child One", "case"),
        ("Child A", "case"),
        ("Child X:", "case"),
        ("Case 2", "case"),
        ("Family B", "case"),
        ("Children A and B", "case"),
    ],
)
def test_heading_classification(heading: str, kind: str) -> None:
    label = _heading_label(heading)
    assert label is not None
    assert _classify(label) == kind


@pytest.mark.parametrize(
    "line",
    [
        "Here are some suggestions for improving practice:-",
        "(Specific issues or general areas of concern or good practice)",
        "Individuals are not following policy and procedures.",
        "recommendations were made to the board",
        "Child Protection and Mental Capacity\tThe commitment to safeguard was shared.",
        "\tGood Practice\tLearning Points",
        "The Local Safeguarding Children Board referred 3 children's cases to the Case Review Panel for review of the findings and the recommendations made.",
        "Child X seen by GP four days prior to presentation",
        "Learning Review",
        "Serious Case Review IN14",
        "5. Analysis of risk",
        "Actions agreed at the meeting were not followed up",
        "Concerns about the mother's mental health and drinking",
        "Findings ........ 12",
        "Key Learning | Page 3 of 9",
    ],
)
def test_not_a_heading(line: str) -> None:
    label = _heading_label(line)
    assert label is None or _classify(label) is None


def test_table_cell_label_heading() -> None:
    text = "Title line\n\nGood Practice\tAll agencies worked together.\nFindings\tNo plan was made."
    assert [(s.kind, s.heading, s.start) for s in detect_sections(text)] == [
        ("title", "Title line", 0),
        ("good_practice", "Good Practice", 12),
        ("findings", "Findings", 56),
    ]


def test_title_and_other_before_first_heading() -> None:
    long_para = "The review considered the involvement of agencies with the family over three years. " * 3
    text = (
        f"Learning Bulletin 2019\nCase reference 7\n\n{long_para.strip()}\n\nRecommendations\n\n1. Do this."
    )
    sections = detect_sections(text)
    assert [(s.kind, s.heading) for s in sections] == [
        ("title", "Learning Bulletin 2019"),
        ("other", ""),
        ("recommendations", "Recommendations"),
    ]
    assert text[sections[1].start : sections[1].end].strip() == long_para.strip()


def test_first_line_heading_and_title_like_first_line() -> None:
    assert [s.kind for s in detect_sections("Key learning\n\n1. Share.")] == ["key_learning"]
    assert [s.kind for s in detect_sections("Key learning bulletin – May 2020\n\nSummary\n\nText.")] == [
        "title",
        "summary",
    ]


def test_no_headings_and_empty_text() -> None:
    assert detect_sections("") == []
    assert detect_sections("  \n ") == []
    text = "A short title\n\n" + "A long paragraph without any heading at all, just narrative text. " * 3
    assert [(s.kind, s.start, s.end) for s in detect_sections(text)] == [
        ("title", 0, 14),
        ("other", 14, len(text)),
    ]


def test_module_exports() -> None:
    assert set(read.__all__) >= {
        "read_document",
        "normalise",
        "detect_sections",
        "iter_document_paths",
        "MAX_BYTES",
    }
