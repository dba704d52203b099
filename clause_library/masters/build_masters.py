"""Builds the master .docx files (styles, header, footer, the body anchor) once; the .docx files
are committed and may be restyled in Word or LibreOffice afterwards, as long as they keep:

- the paragraph ``[[BODY]]`` where the generated content goes;
- the Jinja tags in the header, footer and title (``{{ title }}``, ``{{ authority }}``, ``{{ reference }}``,
  ``{{ subject_title }}``, ``{{ generated }}``), each inside one run;
- the styles the renderer uses: Title, Subtitle, Heading 1, Heading 2, Clause Text, List Bullet,
  Caption, Table Grid, Fact Label.

Run: ``.venv/bin/python clause_library/masters/build_masters.py``"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

HERE = Path(__file__).resolve().parent
MASTERS = {
    "tender.docx": RGBColor(0x1F, 0x4E, 0x79),
    "agreement.docx": RGBColor(0x1E, 0x5F, 0x3A),
    "guidance.docx": RGBColor(0x5B, 0x2C, 0x6F),
}


def _field(paragraph, instruction: str) -> None:
    """A PAGE / NUMPAGES field (Word and LibreOffice compute it when the file opens)."""
    run = paragraph.add_run()
    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    sep = OxmlElement("w:fldChar")
    sep.set(qn("w:fldCharType"), "separate")
    text = OxmlElement("w:t")
    text.text = "1"
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    for el in (begin, instr, sep, text, end):
        run._r.append(el)


def build(name: str, colour: RGBColor) -> None:
    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.left_margin = section.right_margin = Cm(2.2)
    section.top_margin, section.bottom_margin = Cm(2.0), Cm(2.0)

    styles = doc.styles
    normal = styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(10.5)
    normal.paragraph_format.space_after = Pt(4)
    for style_name, size, bold in (("Title", 20, True), ("Subtitle", 13, False), ("Heading 1", 14, True),
                                   ("Heading 2", 11, True)):
        st = styles[style_name]
        st.font.name = "Calibri"
        st.font.size = Pt(size)
        st.font.bold = bold
        st.font.color.rgb = colour
        st.paragraph_format.keep_with_next = True
    styles["Heading 1"].paragraph_format.space_before = Pt(14)
    styles["Heading 2"].paragraph_format.space_before = Pt(8)
    clause = styles.add_style("Clause Text", WD_STYLE_TYPE.PARAGRAPH)
    clause.base_style = normal
    clause.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    clause.paragraph_format.space_after = Pt(6)
    label = styles.add_style("Fact Label", WD_STYLE_TYPE.CHARACTER)
    label.font.bold = True
    label.font.color.rgb = colour
    styles["Caption"].font.color.rgb = colour
    styles["Caption"].font.size = Pt(9)

    header = section.header.paragraphs[0]
    run = header.add_run("{{ authority }}\t\t{{ reference }}")  # the Header style has a centre and a right tab
    run.font.size = Pt(8.5)
    run.font.color.rgb = colour
    footer = section.footer.paragraphs[0]
    run = footer.add_run("{{ kind_label }} · {{ generated }}\t\t")
    run.font.size = Pt(8)
    _field(footer, "PAGE")
    footer.add_run(" / ")
    _field(footer, "NUMPAGES")

    doc.add_paragraph("{{ title }}", style="Title")
    doc.add_paragraph("{{ subject_title }}", style="Subtitle")
    doc.add_paragraph("[[BODY]]")
    # every style the renderer uses appears once, so Word keeps it (python-docx docs)
    for style_name in ("Heading 1", "Heading 2", "Clause Text", "List Bullet", "Caption"):
        doc.add_paragraph(f"[[STYLE {style_name}]]", style=style_name)
    doc.add_table(rows=1, cols=1).style = styles["Table Grid"]
    doc.save(HERE / name)


if __name__ == "__main__":
    for file_name, rgb in MASTERS.items():
        build(file_name, rgb)
        print("wrote", HERE / file_name)
