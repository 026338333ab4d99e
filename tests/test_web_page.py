"""The web page and /docs in a real browser: Debian's Chromium driven by Python Playwright,
against a real gunicorn serving the tiny model (the harness the benchmarks use too).

Screenshots of each tab go to tests/screenshots/ (git-ignored). The tests skip, saying why,
only when /usr/bin/chromium is missing; `.ci/run` installs it, so CI runs them.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.server import GunicornServer

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parent / "screenshots"
ARTICLE_FIXTURE = Path(__file__).parent / "fixtures" / "article_rules.txt"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Chromium is not installed at /usr/bin/chromium: `apt-get install chromium` "
        "(.ci/run does); the tests never download a browser",
    ),
]

STATEMENTS = [
    "Ukraine belongs in NATO and the allies should issue the invitation this year.",
    "Kyiv must never join the alliance; it would be a threat to Russia.",
]


@pytest.fixture(scope="module")
def server(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GunicornServer]:
    home = tmp_path_factory.mktemp("web")
    models = home / "models"
    shutil.copytree(model_dir, models, symlinks=True)
    with GunicornServer.start(home / "run", model_dir=models) as instance:
        yield instance


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="Python playwright is missing")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield instance
        instance.close()


class Page:
    """A browser tab on the server that records every console error and page error."""

    def __init__(self, browser: Any, server: GunicornServer, **context: Any) -> None:
        self.context = browser.new_context(accept_downloads=True, **context)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.url = server.url

    def open(self, path: str = "/") -> Any:
        self.page.goto(self.url + path)
        return self.page

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()


@pytest.fixture()
def tab(browser: Any, server: GunicornServer) -> Iterator[Page]:
    page = Page(browser, server, viewport={"width": 1100, "height": 900})
    yield page
    page.close()
    assert [] == page.errors  # no console errors, in any test


def test_typed_statements_show_label_bar_probabilities_and_highlighted_words(
    tab: Page, server: GunicornServer
) -> None:
    """Each statement typed gets the label, score bar and probabilities the API gives for it,
    and the words that drove the decision are highlighted with their exact weights."""
    page = tab.open()
    page.get_by_label("Statements, one per line").fill("\n".join(STATEMENTS) + "\n\n")
    page.get_by_role("button", name="Score", exact=True).click()
    cards = page.locator("#results > li")
    cards.nth(1).wait_for()
    assert 2 == cards.count()
    expected = server.request("POST", "/v1/score?explain=true", {"texts": STATEMENTS}).json()
    for i, result in enumerate(expected["results"]):
        card = cards.nth(i)
        stance = result["stance"]
        assert f"Stance: {stance['label']}" in card.inner_text()
        bar = card.get_by_role("meter")
        assert f"{stance['score']:.2f}" == bar.get_attribute("aria-valuenow")
        for label, p in stance["probabilities"].items():
            assert f"{label} {100 * p:.1f} %" in card.inner_text()
        marks = card.locator("mark")
        assert marks.count() > 0
        top = result["explanation"]["stance"]["toward"][0]
        titles = " ".join(marks.nth(k).get_attribute("title") for k in range(marks.count()))
        assert f"{top['feature']} +{abs(top['weight']):.2f}" in titles
    assert page.locator("#legend").is_visible()
    tab.screenshot("statements")


def test_an_example_statement_is_scored_with_one_click(tab: Page) -> None:
    """Clicking an example fills the box and scores it."""
    page = tab.open()
    example = page.locator("button.example").first
    text = example.inner_text()
    example.click()
    page.locator("#results > li").first.wait_for()
    assert text == page.get_by_label("Statements, one per line").input_value()
    assert text in page.locator("#results .statement").first.inner_text()


def test_the_page_works_with_the_keyboard_alone(tab: Page) -> None:
    """Tab reaches the tabs and the form; arrow keys move between tabs; Enter on an example
    scores it."""
    page = tab.open()
    page.keyboard.press("Tab")  # the API documentation link in the header
    page.keyboard.press("Tab")
    assert "tab-statements" == page.evaluate("document.activeElement.id")
    page.keyboard.press("ArrowRight")
    assert "tab-article" == page.evaluate("document.activeElement.id")
    assert page.locator("#panel-article").is_visible()
    assert not page.locator("#panel-statements").is_visible()
    page.keyboard.press("ArrowRight")
    assert "tab-csv" == page.evaluate("document.activeElement.id")
    page.keyboard.press("End")
    assert page.locator("#panel-model").is_visible()
    page.keyboard.press("Home")
    assert page.locator("#panel-statements").is_visible()
    page.keyboard.press("Tab")
    assert "texts" == page.evaluate("document.activeElement.id")
    page.locator("button.example").first.focus()
    page.keyboard.press("Enter")
    page.locator("#results > li").first.wait_for()


def test_every_control_has_a_label(tab: Page) -> None:
    """Every input, textarea and button has an accessible name."""
    page = tab.open()
    unnamed = page.evaluate(
        """[...document.querySelectorAll('input, textarea, button, select')].filter(e =>
            !(e.labels && e.labels.length) && !e.getAttribute('aria-label') &&
            !e.textContent.trim()).map(e => e.outerHTML)"""
    )
    assert [] == unnamed


def test_an_article_shows_its_speakers_and_its_statements_marked(
    tab: Page, server: GunicornServer
) -> None:
    """A pasted article lists each speaker with the mean stance the API gives, and marks each
    attributed statement in the article (narration unmarked)."""
    text = ARTICLE_FIXTURE.read_text(encoding="utf-8")
    page = tab.open()
    page.get_by_role("tab", name="Article").click()
    page.get_by_label("A news article (paste its text)").fill(text)
    page.get_by_role("button", name="Find the statements").click()
    speakers = page.locator("#speakers > li")
    speakers.first.wait_for()
    reply = server.request(
        "POST", "/v1/articles", text.encode(), headers={"Content-Type": "text/plain"}
    ).json()
    [article] = reply["articles"]
    assert len(article["speakers"]) == speakers.count()
    first = article["speakers"][0]
    assert f"{first['name']} ({first['role']})" in speakers.first.inner_text()
    assert f"{first['stance']['score']:+.2f}".replace("-", "−") in speakers.first.inner_text()
    attributed = [s for s in article["statements"] if s["kind"] != "narration"]
    marks = page.locator("#marked .said")
    assert len(attributed) == marks.count()
    assert [s["text"] for s in attributed] == marks.all_inner_texts()
    tab.screenshot("article")


def test_an_uploaded_csv_of_10000_rows_downloads_scored_like_stance_score(
    tab: Page, server: GunicornServer, tmp_path: Path
) -> None:
    """A 10,000-row CSV uploaded through the page shows a preview, and the file it downloads
    has every row, scored exactly as `stance score` scores the same file."""
    source = tmp_path / "quotes.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        for i in range(10_000):
            writer.writerow([i, f"{STATEMENTS[i % 2]} (statement {i})"])
    page = tab.open()
    page.get_by_role("tab", name="CSV file").click()
    page.get_by_label("A CSV file with a header row").set_input_files(str(source))
    page.get_by_role("button", name="Score the file").click()
    link = page.get_by_role("link", name="Download the scored file")
    link.wait_for(timeout=60_000)
    assert "Scored 10,000 rows of quotes.csv" in page.locator("#csv-summary").inner_text()
    assert 11 == page.locator("#csv-preview tr").count()  # header and ten rows
    tab.screenshot("csv")
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert "quotes.scored.csv" == download.suggested_filename
    downloaded = Path(download.path()).read_text(encoding="utf-8")
    expected = tmp_path / "cli.csv"
    subprocess.run(
        [sys.executable, "-m", "cli", "score", str(source), "-o", str(expected), "--quiet"]
        + ["--model-dir", str(server.model_dir)],
        check=True,
        capture_output=True,
    )
    rows = list(csv.reader(io.StringIO(downloaded)))
    assert 10_001 == len(rows)
    assert list(csv.reader(io.StringIO(expected.read_text(encoding="utf-8")))) == rows


def test_a_csv_the_api_refuses_shows_the_apis_message(
    tab: Page, server: GunicornServer, tmp_path: Path
) -> None:
    """A file with no text column shows the API's own error message, not a stack trace."""
    bad = tmp_path / "numbers.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    page = tab.open()
    page.get_by_role("tab", name="CSV file").click()
    page.get_by_label("A CSV file with a header row").set_input_files(str(bad))
    page.get_by_role("button", name="Score the file").click()
    alert = page.locator("#csv-error")
    alert.wait_for()
    reply = server.request(
        "POST", "/v1/score/csv", bad.read_bytes(), headers={"Content-Type": "text/csv"}
    )
    assert 422 == reply.status
    assert reply.json()["error"]["message"] == alert.inner_text()
    tab.errors.clear()  # the browser logs the 422 response itself as a console error


def test_the_model_tab_shows_the_served_models_card(tab: Page, server: GunicornServer) -> None:
    """The model tab names the served version and its figures, and links to the docs."""
    page = tab.open()
    page.get_by_role("tab", name="Model").click()
    page.locator("#model-card dd").first.wait_for()
    assert server.served_version() in page.locator("#model-card").inner_text()
    assert 3 == page.locator("#model-figures tbody tr").count()
    assert page.get_by_role("link", name="Interactive API documentation").is_visible()
    tab.screenshot("model")


def test_the_page_fits_a_360_pixel_screen(browser: Any, server: GunicornServer) -> None:
    """At 360 px wide nothing scrolls sideways, with results on screen."""
    narrow = Page(browser, server, viewport={"width": 360, "height": 740})
    try:
        page = narrow.open()
        page.get_by_label("Statements, one per line").fill(STATEMENTS[0])
        page.get_by_role("button", name="Score", exact=True).click()
        page.locator("#results > li").first.wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        narrow.screenshot("statements-360px")
        assert [] == narrow.errors
    finally:
        narrow.close()


def test_docs_are_interactive_swagger_ui_from_this_server(
    tab: Page, server: GunicornServer
) -> None:
    """/docs renders every operation of /openapi.json with Swagger UI served by the app."""
    requests: list[str] = []
    tab.page.on("request", lambda r: requests.append(r.url))
    page = tab.open("/docs")
    page.locator(".opblock").first.wait_for()
    document = server.request("GET", "/openapi.json").json()
    operations = sum(len(ops) for ops in document["paths"].values())
    assert operations == page.locator(".opblock").count()
    assert all(url.startswith(server.url) or url.startswith("data:") for url in requests)
    tab.screenshot("docs")
