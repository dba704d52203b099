"""Backup and restore (``flask backup create`` / ``flask backup restore``): a database with the demo region, a
generated document and an evidence file is dumped, restored into a new database and compared table by table."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
from sqlalchemy import create_engine, select, text

from tests.ops_support import demo_database, drop_database, make_app

# tables whose whole content is compared by checksum (every column of every row, in id order)
KEY_TABLES = ["users", "municipalities", "plan_items", "tenders", "contracts", "invoices", "payments",
              "indicator_values", "generated_documents", "document_files", "audit_events"]


def _checksums(url: str) -> dict[str, str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {t: conn.execute(text(f"select md5(coalesce(string_agg(t::text, '|' order by t.id), '')) "
                                         f"from {t} t")).scalar_one() for t in KEY_TABLES}
    finally:
        engine.dispose()


def _generate_document_and_evidence(app) -> tuple[int, str, bytes]:
    """officer.pas's tender specification, generated in-process; an evidence file of a supplier."""
    from srpp.auth.models import User
    from srpp.documents import services, subjects
    from srpp.documents.kinds import KINDS
    from srpp.extensions import db
    from srpp.orgs.models import Supplier
    from srpp.orgs.services import municipality_by_code
    from srpp.suppliers.services import CheckedEvidence, store_evidence
    from srpp.tenders.models import Tender

    with app.test_request_context():
        officer = db.session.scalar(select(User).where(User.email == "officer.pas@demo.srpp.lt"))
        pas = municipality_by_code("PAS")
        tender = next(t for t in db.session.scalars(select(Tender).where(Tender.municipality_id == pas.id)
                                                    .order_by(Tender.id)) if t.is_reserved)
        doc = services.request_document(officer, KINDS["tender_specification"], subjects.load("tender", tender.id),
                                        "lt", {"social_services_unit": "Socialinės paramos skyrius"})
        data = b"%PDF-1.4\n% evidence of the backup test\n%%EOF\n"
        supplier = db.session.scalars(select(Supplier).order_by(Supplier.id)).first()
        path = store_evidence(supplier, CheckedEvidence(data=data, mime="application/pdf", name="statusas.pdf",
                                                        sha256=hashlib.sha256(data).hexdigest()))
        db.session.commit()
        return doc.id, path, data


@pytest.fixture(scope="module")
def source():
    url = demo_database("srpp_test_backup_src")
    yield url
    drop_database(url)


@pytest.mark.postgres
def test_backup_then_restore_into_a_new_database_gives_the_same_data_and_files(source, tmp_path):
    files = tmp_path / "files"
    app = make_app(source, FILES_DIR=str(files))
    document_id, evidence_path, evidence = _generate_document_and_evidence(app)
    assert (files / evidence_path).read_bytes() == evidence

    runner = app.test_cli_runner()
    created = runner.invoke(args=["backup", "create", "--out", str(tmp_path / "backups")])
    assert created.exit_code == 0, created.output
    (backup,) = (tmp_path / "backups").iterdir()
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["database"]["format"] == "postgresql-custom"
    assert (backup / "database.dump").read_bytes()[:5] == b"PGDMP"
    assert manifest["database"]["sha256"] == hashlib.sha256((backup / "database.dump").read_bytes()).hexdigest()
    assert manifest["files"]["count"] == 1
    assert manifest["tables"]["document_files"] >= 1 and manifest["tables"]["plan_items"] > 0

    target = source.replace("srpp_test_backup_src", "srpp_test_backup_dst")
    drop_database(target)  # restore creates it
    restored_files = tmp_path / "restored-files"
    try:
        result = runner.invoke(args=["backup", "restore", str(backup), "--database-url", target,
                                     "--files-dir", str(restored_files)])
        assert result.exit_code == 0, result.output
        assert "row counts match the manifest" in result.output

        from srpp.core.backup import table_counts

        before, after = table_counts(source), table_counts(target)
        assert len(before) > 50
        assert after == before, {t: (before[t], after.get(t)) for t in before if before[t] != after.get(t)}
        assert _checksums(target) == _checksums(source)
        assert (restored_files / evidence_path).read_bytes() == evidence

        # the restored database serves the generated document
        restored = make_app(target, FILES_DIR=str(restored_files))
        from srpp.documents import services
        from srpp.documents.models import GeneratedDocument
        from srpp.extensions import db

        with restored.app_context():
            doc = db.session.get(GeneratedDocument, document_id)
            content = services.content(doc, "docx")
            assert content[:2] == b"PK" and hashlib.sha256(content).hexdigest() == doc.sha256
        restored.extensions["srpp_engine"].dispose()

        # a second restore into the now non-empty database is refused and changes nothing
        again = runner.invoke(args=["backup", "restore", str(backup), "--database-url", target,
                                    "--files-dir", str(tmp_path / "other-files")])
        assert again.exit_code != 0 and "is not empty" in again.output
        assert table_counts(target) == before
        # and so is a non-empty files directory
        again = runner.invoke(args=["backup", "restore", str(backup), "--database-url", target,
                                    "--files-dir", str(restored_files), "--force"])
        assert again.exit_code == 0, again.output  # --force replaces both
        assert table_counts(target) == before
        assert (restored_files / evidence_path).read_bytes() == evidence
    finally:
        drop_database(target)

    # a damaged backup is refused before anything is touched
    damaged = tmp_path / "damaged"
    shutil.copytree(backup, damaged)
    blob = bytearray((damaged / "files.tar.gz").read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (damaged / "files.tar.gz").write_bytes(bytes(blob))
    refused = runner.invoke(args=["backup", "restore", str(damaged), "--database-url", target,
                                  "--files-dir", str(tmp_path / "none")])
    assert refused.exit_code != 0 and "checksum" in refused.output
    assert not (tmp_path / "none").exists()
    app.extensions["srpp_engine"].dispose()


def test_sqlite_backup_uses_the_backup_api_and_restores(tmp_path):
    from srpp import migrate
    from srpp.core.backup import restore, table_counts

    url = f"sqlite:///{tmp_path / 'src.sqlite3'}"
    migrate.upgrade(url)
    app = make_app(url, FILES_DIR=str(tmp_path / "files"))
    with app.app_context():
        from srpp.demo.loader import load_reference
        from srpp.extensions import db

        load_reference()
        db.session.commit()
    (tmp_path / "files" / "a").mkdir(parents=True)
    (tmp_path / "files" / "a" / "b.txt").write_text("ąčę")
    result = app.test_cli_runner().invoke(args=["backup", "create", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    (backup,) = (tmp_path / "out").iterdir()
    assert json.loads((backup / "manifest.json").read_text())["database"]["format"] == "sqlite"
    target = f"sqlite:///{tmp_path / 'dst.sqlite3'}"
    done = restore(backup, target, tmp_path / "files2")
    assert done.rows > 1000  # the CPV vocabulary at least
    assert table_counts(target) == table_counts(url)
    assert (tmp_path / "files2" / "a" / "b.txt").read_text() == "ąčę"
    from srpp.core.backup import BackupError

    with pytest.raises(BackupError, match="exists"):
        restore(backup, target, None)
    with pytest.raises(BackupError, match="cannot be restored into a postgresql"):
        restore(backup, "postgresql+psycopg://postgres@127.0.0.1:5432/nothing_here", None)
