"""A real digest, as sent, scores well below SpamAssassin's threshold with the local rules.

Runs Debian's `spamassassin -t -L` (local tests only: no DNS blocklists, no network) on the
.eml. scripts/test installs spamassassin; when it is missing the test fails, saying how to install
it (it never skips: the score is a release gate).
Sender authentication (SPF, DKIM, the From domain) belongs to the deployment, not to this test.
"""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import subprocess
from email.message import EmailMessage
from pathlib import Path

import pytest

from paperfeed.digest.render import digest_message, render_digest
from tests.digest.conftest import make_digest

SENDER = "paperfeed <digest@papers.example.org>"
MOST_POINTS = 2.0


@pytest.fixture(scope="session")
def spamassassin() -> str:
    found = shutil.which("spamassassin")
    if found is None:
        pytest.fail(
            "spamassassin is not installed; run scripts/test as root (it installs it), or "
            "`apt-get install spamassassin`, then run this test again"
        )
    return found


def spam_report(spamassassin: str, eml: bytes, home: Path) -> tuple[float, str]:
    """(score, the rules hit) of one message, Bayes off so earlier runs cannot sway it."""
    home.mkdir(exist_ok=True)
    result = subprocess.run(
        [spamassassin, "-t", "-L", "--cf=use_bayes 0", "--cf=bayes_auto_learn 0"],
        input=eml,
        capture_output=True,
        env=dict(os.environ, HOME=str(home)),  # its user_prefs go here, not in the real home
        timeout=120,
        check=False,
    )
    checked = email.message_from_bytes(result.stdout, policy=email.policy.default)
    status = checked.get("X-Spam-Status")
    assert status, f"no X-Spam-Status in spamassassin's output: {result.stderr.decode()[-2000:]}"
    score = float(str(status).split("score=", 1)[1].split()[0])
    report = result.stdout.decode("utf-8", "replace")
    rules = report[report.find("Content analysis details") :] or str(status)
    return score, rules


@pytest.mark.parametrize("kind", ["daily", "weekly", "empty"])
def test_a_real_digest_scores_below_two(spamassassin, real_digest, tmp_path, kind):
    digest = real_digest
    if kind == "weekly":
        digest["frequency"] = "weekly"
    if kind == "empty":
        digest = make_digest([], health=["arXiv announced no new papers today."])
    eml = digest_message(digest, sender=SENDER).as_bytes()
    (tmp_path / "digest.eml").write_bytes(eml)

    score, rules = spam_report(spamassassin, eml, tmp_path / "home")

    print(f"\nSpamAssassin score of the {kind} digest: {score}\n{rules}")
    assert score < MOST_POINTS, rules


def test_the_check_notices_a_careless_message(spamassassin, real_digest, tmp_path):
    """The same HTML sent carelessly (no text part, Date or Message-ID; a shouting subject)
    scores high, so the low score above is the message's doing, not a blind harness."""
    careless = EmailMessage()
    careless["Subject"] = "FREE PAPERS!!! ACT NOW"
    careless["From"] = SENDER
    careless["To"] = "ada@example.org"
    careless.set_content(render_digest(real_digest).html, subtype="html")

    score, rules = spam_report(spamassassin, careless.as_bytes(), tmp_path / "home")

    assert score >= MOST_POINTS, rules
    for rule in ("MISSING_DATE", "MISSING_MID", "MIME_HTML_ONLY", "SUBJ_ALL_CAPS"):
        assert rule in rules
