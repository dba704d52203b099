"""The ``.docx`` of an assembly: docxtpl fills the master's header, footer and title (autoescaped,
sandboxed); python-docx writes the numbered sections, clauses and tables at the ``[[BODY]]``
anchor, in the master's styles. python-docx escapes text, so ``&``, ``<`` and quotes stay text."""

from __future__ import annotations

import io
from typing import Any

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt
from docxtpl import DocxTemplate
from jinja2.sandbox import SandboxedEnvironment

from srpp.documents.assembly import Assembly
from srpp.documents.kinds import Block

ANCHOR = "[[BODY]]"


class RenderError(RuntimeError):
    """The master is broken or the assembly is not complete (a permanent failure)."""


def render_docx(asm: Assembly, generated: str) -> bytes:
    if asm.missing:
        raise RenderError(f"missing values: {', '.join(asm.missing)}")
    tpl = DocxTemplate(str(asm.kind.master_path))
    context = {"title": asm.kind_label, "subject_title": asm.subject_title, "authority": asm.authority,
               "reference": asm.subject.reference, "kind_label": asm.kind_label, "generated": generated}
    tpl.render(context, jinja_env=SandboxedEnvironment(autoescape=True), autoescape=True)
    doc = tpl.docx
    anchor = next((p for p in doc.paragraphs if p.text.strip() == ANCHOR), None)
    if anchor is None:
        raise RenderError(f"the master {asm.kind.master} has no {ANCHOR} paragraph")
    _drop_after(anchor)
    writer = _Writer(doc, anchor)
    for section in asm.sections:
        writer.paragraph(f"{section.number}. {section.title}", "Heading 1")
        for block in section.blocks:
            writer.block(block)
        for clause in section.clauses:
            heading = f"{clause.number}. {clause.title}"
            if clause.scope:
                heading += f" — {clause.scope}"
            writer.paragraph(heading, "Heading 2")
            # the clause's own list, not a search of its text: an entered value may contain "⟦…⟧"
            if clause.missing:
                raise RenderError(f"clause {clause.edition.clause.code} still has a missing value: "
                                  f"{', '.join(clause.missing)}")
            for para in clause.paragraphs:
                writer.paragraph(para.text, "List Bullet" if para.style == "bullet" else "Clause Text")
    anchor._p.getparent().remove(anchor._p)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _drop_after(anchor: Any) -> None:
    """Remove the master's sample content after the anchor (keeping the section properties)."""
    el = anchor._p.getnext()
    while el is not None:
        nxt = el.getnext()
        if not el.tag.endswith("}sectPr"):
            el.getparent().remove(el)
        el = nxt


class _Writer:
    def __init__(self, doc: Any, anchor: Any) -> None:
        self.doc = doc
        self.anchor = anchor
        self._style_ids: dict[str, str] = {}

    def paragraph(self, text: str, style: str) -> Any:
        # python-docx looks a style up by name through all of the master's styles on every paragraph;
        # the id is looked up once per style instead (a third of the rendering time otherwise)
        style_id = self._style_ids.get(style)
        if style_id is None:
            style_id = self._style_ids[style] = self.doc.styles[style].style_id
        para = self.anchor.insert_paragraph_before(text)
        para._p.style = style_id
        return para

    def block(self, block: Block) -> None:
        if block.kind == "paragraphs":
            for item in block.items:
                self.paragraph(item, "Clause Text")
        elif block.kind == "bullets":
            for item in block.items:
                self.paragraph(item, "List Bullet")
        elif block.kind == "facts":
            self._table([], [[k, v] for k, v in block.pairs], label_column=True)
        elif block.kind == "table":
            if block.caption:
                self.paragraph(block.caption, "Caption")
            self._table(block.headers, block.rows, numeric=block.numeric)
        elif block.kind == "image":
            self._image(block)

    def _image(self, block: Block) -> None:
        """The picture in its own paragraph at the anchor, its text alternative in the drawing's
        description (read by screen readers in Word), the caption below it."""
        para = self.paragraph("", "Normal")
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        shape = para.add_run().add_picture(io.BytesIO(block.png), width=Cm(block.width_cm))
        doc_pr = shape._inline.docPr
        doc_pr.set("descr", block.alt or block.caption)
        if block.caption:
            doc_pr.set("title", block.caption)
            self.paragraph(block.caption, "Caption")

    def _table(self, headers: list[str], rows: list[list[str]], numeric: tuple[int, ...] = (),
               label_column: bool = False) -> None:
        cols = len(headers) if headers else max((len(r) for r in rows), default=1)
        table = self.doc.add_table(rows=0, cols=cols)
        table.style = self.doc.styles["Table Grid"]
        if headers:
            cells = table.add_row().cells
            for cell, text in zip(cells, headers, strict=False):
                run = cell.paragraphs[0].add_run(text)
                run.bold = True
                run.font.size = Pt(9)
        for row in rows:
            cells = table.add_row().cells
            for i, (cell, text) in enumerate(zip(cells, row, strict=False)):
                para = cell.paragraphs[0]
                run = para.add_run(text)
                run.font.size = Pt(9)
                if label_column and i == 0:
                    run.style = self.doc.styles["Fact Label"]
                if i in numeric:
                    para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        self.anchor._p.addprevious(table._tbl)
        self.paragraph("", "Normal")
