"""A composed digest rendered as mail: MIME shape, list headers, inlined CSS, escaping of hostile
paper text, readable math, health lines, the empty digest and the 👍 / 👎 links."""

from __future__ import annotations

import email
import email.policy
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser

import pytest

from paperfeed.digest.render import digest_message, render_digest
from paperfeed.errors import InvalidInput
from paperfeed.mail.backends import backend_from_url
from tests.digest.conftest import SITE, make_digest, paper_entry

SENDER = "paperfeed <digest@papers.example.org>"
HOSTILE_TITLE = "<script>alert(1)</script> Attention <img src=x onerror=alert(2)>"


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text, of an HTML document."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def hrefs(self) -> list[str]:
        return [attrs.get("href") for tag, attrs in self.tags if tag == "a"]

    def plain(self) -> str:
        return " ".join(" ".join(self.text).split())


def reparse(message) -> email.message.EmailMessage:
    """The message as a receiver sees it: serialised, then parsed again."""
    return email.message_from_bytes(message.as_bytes(), policy=email.policy.default)


def parts(message) -> tuple[str, str]:
    received = reparse(message)
    return (
        received.get_body(("plain",)).get_content(),
        received.get_body(("html",)).get_content(),
    )


@pytest.fixture
def hostile_digest(seed_records) -> dict:
    paper = paper_entry(seed_records[0], 'Mentions "<b>bold</b>" & more')
    paper.update(
        title=HOSTILE_TITLE,
        authors=['<img src=x onerror="alert(3)">', "Ada </p><a href='javascript:alert(4)'>"],
        abstract='Great </p><a href="javascript:alert(5)">click</a> <style>*{}</style>'
        "\x1b[31m\u202eresults\u202c " + seed_records[0]["abstract"],
        categories=["cs.LG<script>"],
        links={
            "abstract": "javascript:alert(6)",
            "pdf": "data:text/html;base64,PHNjcmlwdD5hbGVydCg3KTwvc2NyaXB0Pg==",
            "code": "JaVaScRiPt:alert(8)",
            "project": "https://example.org/project?a=1&b=<2>",
        },
    )
    return make_digest([("Trending today", [paper])])


def test_message_is_multipart_alternative_text_then_html_in_utf8(real_digest):
    received = reparse(digest_message(real_digest, sender=SENDER))
    assert received.get_content_type() == "multipart/alternative"
    kinds = [part.get_content_type() for part in received.iter_parts()]
    assert kinds == ["text/plain", "text/html"]
    for part in received.iter_parts():
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
    assert received["MIME-Version"] == "1.0"


def test_headers_carry_one_click_unsubscribe_list_id_date_and_message_id(real_digest):
    received = reparse(
        digest_message(real_digest, sender=SENDER, list_id_domain="papers.example.org")
    )
    unsubscribe = real_digest["subscriber"]["unsubscribe_url"]
    assert received["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert unsubscribe.startswith("https://") and "," not in received["List-Unsubscribe"]
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received["List-Id"] == "paperfeed digest <digest.papers.example.org>"
    assert received["Message-ID"].startswith("<") and received["Message-ID"].endswith(
        "@papers.example.org>"
    )
    assert parsedate_to_datetime(received["Date"]).tzinfo is not None
    assert received["From"] == SENDER
    assert received["To"] == "ada@example.org"
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["Precedence"] == "bulk"


def test_list_id_defaults_to_the_site_host(real_digest):
    """digest/send.py passes only the sender."""
    message = digest_message(real_digest, sender=SENDER)
    assert message["List-Id"] == "paperfeed digest <digest.papers.example.org>"


def test_an_http_site_still_gets_its_unsubscribe_header(real_digest):
    real_digest["subscriber"]["unsubscribe_url"] = "http://localhost:8000/unsubscribe/abc.def"
    message = digest_message(real_digest, sender=SENDER, list_id_domain="localhost")
    assert message["List-Unsubscribe"] == "<http://localhost:8000/unsubscribe/abc.def>"


@pytest.mark.parametrize("url", [None, "", "javascript:alert(1)", "mailto:x@example.org"])
def test_a_digest_without_a_web_unsubscribe_url_is_refused(real_digest, url):
    real_digest["subscriber"]["unsubscribe_url"] = url
    with pytest.raises(InvalidInput, match="unsubscribe"):
        digest_message(real_digest, sender=SENDER)


def test_subject_names_the_day_and_says_weekly(real_digest):
    assert render_digest(real_digest).subject == "paperfeed · trending papers for Sun 1 Mar 2026"
    real_digest["frequency"] = "weekly"
    weekly = render_digest(real_digest).subject
    assert weekly == "paperfeed · weekly papers, week ending Sun 1 Mar 2026"
    assert not weekly.isupper()


def test_css_is_inlined_and_nothing_remote_or_active_is_left(real_digest):
    html = render_digest(real_digest).html
    elements = Elements(html)
    tags = {tag for tag, _ in elements.tags}
    assert not tags & {"style", "link", "script", "img", "iframe", "object", "form"}
    styled = {tag for tag, attrs in elements.tags if attrs.get("style")}
    assert {"body", "table", "td", "h1", "h2", "h3", "a", "p"} <= styled
    body = next(attrs for tag, attrs in elements.tags if tag == "body")
    assert "font-family" in body["style"] and "background-color" in body["style"]
    assert all(href.startswith("https://") for href in elements.hrefs())
    assert "url(" not in html and "@import" not in html


def test_hostile_paper_text_is_only_ever_text_in_html(hostile_digest):
    html = render_digest(hostile_digest).html
    elements = Elements(html)
    assert {tag for tag, _ in elements.tags}.isdisjoint({"script", "img", "style", "b"})
    assert not [name for _, attrs in elements.tags for name in attrs if name.startswith("on")]
    assert all(href.startswith("https://") for href in elements.hrefs())
    text = elements.plain()
    assert HOSTILE_TITLE in text
    assert "Ada </p><a href='javascript:alert(4)'>" in text
    assert 'Mentions "<b>bold</b>" & more' in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "\x1b" not in html and "\u202e" not in html


def test_only_web_urls_become_links(hostile_digest):
    rendered = render_digest(hostile_digest)
    hrefs = Elements(rendered.html).hrefs()
    assert "https://example.org/project?a=1&b=<2>" in hrefs
    for bad in ("javascript:", "data:", "JaVaScRiPt:"):
        assert not [href for href in hrefs if bad.lower() in href.lower()]
        assert f": {bad}" not in rendered.text  # no "PDF: data:…" line in the text part either
    assert "Project: https://example.org/project?a=1&b=<2>" in rendered.text


def test_text_part_has_no_controls_and_lines_wrap_except_urls(hostile_digest, real_digest):
    for digest in (hostile_digest, real_digest):
        text = render_digest(digest).text
        assert not [c for c in text if ord(c) < 32 and c != "\n" or 0x7F <= ord(c) < 0xA0]
        assert "\u202e" not in text
        for line in text.splitlines():
            assert len(line) <= 72 or "https://" in line, line


def test_math_is_readable_in_both_parts(real_digest):
    text, html = parts(digest_message(real_digest, sender=SENDER))
    html_text = Elements(html).plain()
    for part in (text, html_text):
        assert "From O(mn) to O(r²): Two-Sided Low-Rank Communication" in " ".join(part.split())
        assert "Q*-Approximation" in " ".join(part.split())
        assert "γ-weakly θ-up-concavity" in part
        assert "(β₁, β₂)" in part
        assert "F ≽ 0" in part
        assert "$" not in part and "\\mathbb" not in part


def test_abstracts_are_shortened_at_a_word_boundary(real_digest):
    rendered = render_digest(real_digest)
    html = Elements(rendered.html)
    shown = [attrs for tag, attrs in html.tags if tag == "p" and attrs.get("class") == "abstract"]
    assert len(shown) == 8
    text = " ".join(rendered.text.split())
    start = "As foundation models continue to scale, pretraining increasingly relies on"
    shortened = text[text.index(start) :].split("…")[0] + "…"
    assert shortened.endswith(" but remain suboptimal…")  # a whole word, then the ellipsis
    assert len(shortened) <= 300
    assert real_digest["sections"][0]["papers"][0]["abstract"] not in rendered.text


def test_long_author_lists_end_in_et_al(real_digest):
    text = render_digest(real_digest).text
    assert "Sizhe Dang, Jiaqi Shao, Xiaodong Zheng et al." in text  # 6 authors
    assert "Pingbang Hu, Yuzheng Hu, Jiaqi W. Ma, Han Zhao" in text  # 4: all shown


def test_every_paper_has_its_feedback_links_in_both_parts(real_digest):
    text, html = parts(digest_message(real_digest, sender=SENDER))
    hrefs = Elements(html).hrefs()
    papers = [p for section in real_digest["sections"] for p in section["papers"]]
    assert len(papers) == 8
    for paper in papers:
        for url in (paper["feedback"]["up"], paper["feedback"]["down"]):
            assert hrefs.count(url) == 1
            assert text.count(url) == 1
        assert hrefs.count(paper["url"]) >= 1 and paper["url"] in text
    assert text.count("👍 More like this: https://") == 8
    assert text.count("👎 Less like this: https://") == 8


def test_footer_says_why_and_links_preferences_unsubscribe_and_site(real_digest):
    text, html = parts(digest_message(real_digest, sender=SENDER))
    subscriber = real_digest["subscriber"]
    footer = text.split("\n-- \n", 1)[1]
    assert "ada@example.org subscribed" in " ".join(footer.split())
    assert subscriber["preferences_url"] in footer and subscriber["unsubscribe_url"] in footer
    assert SITE in footer
    hrefs = Elements(html).hrefs()
    for url in (subscriber["preferences_url"], subscriber["unsubscribe_url"], SITE):
        assert url in hrefs


def test_health_lines_are_shown_above_the_papers(real_digest):
    real_digest["health"] = [
        "arXiv announced no new papers today (a weekend or a holiday?).",
        "Hugging Face daily papers were last fetched 40 hours ago.",
    ]
    rendered = render_digest(real_digest)
    for part in (rendered.text, Elements(rendered.html).plain()):
        first_paper = part.index("From O(mn)")
        for line in real_digest["health"]:
            assert -1 < part.index(line) < first_paper


def test_an_empty_digest_says_so_and_still_has_its_footer():
    digest = make_digest([("Trending today", [])], health=["No arXiv announcement today."])
    message = digest_message(digest, sender=SENDER)
    text, html = parts(message)
    assert message["Subject"] == "paperfeed · no new papers for Sun 1 Mar 2026"
    for part in (text, Elements(html).plain()):
        assert "No arXiv announcement today." in part
        assert "There are no papers for you in this edition." in " ".join(part.split())
        assert "Trending today" not in part  # an empty section is not shown
        assert digest["subscriber"]["unsubscribe_url"] in part or "Unsubscribe" in part
    assert digest["subscriber"]["unsubscribe_url"] in Elements(html).hrefs()


def test_the_unsubscribe_header_leaves_as_one_plain_line_by_smtp_and_to_a_file(
    real_digest, smtp_server, tmp_path
):
    # A realistic token makes the header longer than 78 characters; folded the usual way it
    # would become RFC 2047 encoded words, which mail providers do not read as a URL.
    url = real_digest["subscriber"]["unsubscribe_url"]
    real_digest["subscriber"]["unsubscribe_url"] = url + "WzEsIm1hbmFnZSIsMF0.TDGgtpXM7nastwwMfP5L"
    line = f"List-Unsubscribe: <{real_digest['subscriber']['unsubscribe_url']}>".encode()
    assert len(line) > 78
    backend_from_url(smtp_server.url).send(digest_message(real_digest, sender=SENDER))
    assert line in smtp_server.messages[0].data
    backend_from_url((tmp_path / "mail").as_uri()).send(digest_message(real_digest, sender=SENDER))
    (saved,) = (tmp_path / "mail").glob("*.eml")
    assert line + b"\n" in saved.read_bytes()
