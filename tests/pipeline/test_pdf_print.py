"""The book's PDF is printed again only when the page it is printed from changes (a print takes
about 50 s); the print itself is checked in tests/book/test_pdf.py."""

from companion.pipeline import pdf


def test_the_pdf_is_printed_again_only_when_its_page_changes(tmp_path, monkeypatch, capsys):
    prints = []

    def render(chromium, page, target):
        prints.append(page.read_text())
        target.write_text(f"print of {page.read_text()}")

    monkeypatch.setattr(pdf, "find_chromium", lambda: "/usr/bin/chromium")
    monkeypatch.setattr(pdf, "render_pdf", render)
    page, kept = tmp_path / "single" / "index.html", tmp_path / "kept"
    page.parent.mkdir()
    (page.parent / "figure.png").write_bytes(b"figure 1")
    targets = [tmp_path / f"site{n}" / "book.pdf" for n in range(4)]

    page.write_text("book 1")
    assert pdf.print_pdf(page, targets[0], kept)
    assert pdf.print_pdf(page, targets[1], kept)
    assert prints == ["book 1"]
    assert "unchanged, the last print is kept" in capsys.readouterr().out
    assert targets[1].read_text() == "print of book 1"

    (page.parent / "figure.png").write_bytes(b"figure 2")  # an asset counts as the page
    assert pdf.print_pdf(page, targets[2], kept)
    assert prints == ["book 1", "book 1"]

    page.write_text("book 2")
    (kept / "book.pdf.sha256").unlink()  # a print whose digest is lost is not trusted
    assert pdf.print_pdf(page, targets[3], kept)
    assert prints == ["book 1", "book 1", "book 2"]
    assert targets[3].read_text() == "print of book 2"


def test_without_chromium_nothing_is_printed_and_the_build_says_so(tmp_path, monkeypatch,
                                                                   capsys):
    monkeypatch.setattr(pdf, "find_chromium", lambda: None)
    assert not pdf.print_pdf(tmp_path / "index.html", tmp_path / "book.pdf", tmp_path / "kept")
    assert "no Chromium" in capsys.readouterr().out
    assert not (tmp_path / "book.pdf").exists()
