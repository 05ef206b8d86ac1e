"""`GET /api/daily_papers`: Hugging Face's daily-papers API, served from paperfeed's trending.

Existing clients of Hugging Face's endpoint can read a paperfeed instance unchanged. The same
parameters mean the same thing here:
- `date=YYYY-MM-DD`: that day's list (the frozen day edition once the day is over);
- `week=YYYY-Www` (ISO week) and `month=YYYY-MM`: the week's or month's list, as of its last
  day (or now, while it lasts);
- none of them: today's list;
- `sort=publishedAt` (newest first, the default, as on Hugging Face) or `trending`
  (paperfeed's decayed score);
- `submitter=…`: paperfeed has no submitters, so no paper matches;
- `limit` (1–100, default 50) and `p` (page, from 0).
Entries have Hugging Face's shape (`paper{id, title, summary, authors[{name}], publishedAt,
upvotes, githubRepo, githubStars, projectPage}`, `publishedAt`, `title`, `summary`,
`numComments`), with the fields paperfeed cannot know (avatars, submitters) left out.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from paperfeed.errors import InvalidInput
from paperfeed.trending.service import EDITION_SIZE
from paperfeed.web import params

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
SORTS = ("trending", "publishedAt")


def _period(request: Request, today: date) -> tuple[str, date | None]:
    """(window, day) for the request: day None means "now"."""
    params = request.query_params
    given = [name for name in ("date", "week", "month") if params.get(name)]
    if len(given) > 1:
        raise InvalidInput("give only one of date, week and month")
    if not given:
        return "day", None
    raw = params[given[0]].strip()
    try:
        if given[0] == "date":
            return "day", _not_today(date.fromisoformat(raw), today)
        if given[0] == "week":
            match = _WEEK.match(raw)
            if not match:
                raise ValueError
            last = date.fromisocalendar(int(match[1]), int(match[2]), 7)
            return "week", _not_today(last, today)
        match = _MONTH.match(raw)
        if not match:
            raise ValueError
        year, month = int(match[1]), int(match[2])
        last = date(year, month, calendar.monthrange(year, month)[1])
        return "month", _not_today(last, today)
    except ValueError:
        formats = {"date": "YYYY-MM-DD", "week": "YYYY-Www", "month": "YYYY-MM"}
        raise InvalidInput(f"{given[0]} must be written {formats[given[0]]}") from None


def _not_today(day: date, today: date) -> date | None:
    """A period that has not ended yet is read live, as of now."""
    if day >= today:
        if day - today > timedelta(days=31):
            raise InvalidInput(f"{day} is in the future")
        return None
    return day


def _iso(value: str | None) -> str | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def hf_entry(paper: dict) -> dict:
    """One paperfeed paper in the shape of a Hugging Face daily-papers entry."""
    signals = paper.get("signals") or {}
    links = paper.get("links") or {}
    published = _iso(paper.get("published_at"))
    inner = {
        "id": paper["arxiv_id"] or paper["id"],
        "authors": [{"name": name, "hidden": False} for name in paper.get("authors") or []],
        "publishedAt": published,
        "title": paper["title"],
        "summary": paper["abstract"],
        "upvotes": int(signals.get("upvotes", 0)),
    }
    if links.get("code"):
        inner["githubRepo"] = links["code"]
    if "github_stars" in signals:
        inner["githubStars"] = int(signals["github_stars"])
    if links.get("project"):
        inner["projectPage"] = links["project"]
    return {
        "paper": inner,
        "publishedAt": published,
        "title": paper["title"],
        "summary": paper["abstract"],
        "numComments": int(signals.get("comments", 0)),
        "isAuthorParticipating": False,
    }


async def daily_papers(request: Request) -> JSONResponse:
    services = request.app.state.services
    today = services.clock().astimezone(UTC).date()
    window, day = _period(request, today)
    sort = request.query_params.get("sort") or "publishedAt"
    if sort not in SORTS:
        raise InvalidInput(f"sort must be one of {', '.join(SORTS)}")
    limit = params.HF_LIMIT.read(request)
    page = params.HF_PAGE.read(request)
    listing = await run_in_threadpool(services.trending, window=window, day=day, limit=EDITION_SIZE)
    papers = listing["papers"]
    if request.query_params.get("submitter"):
        papers = []
    if sort == "publishedAt":
        papers = sorted(papers, key=lambda p: p["published_at"] or "", reverse=True)
    chosen = papers[page * limit : (page + 1) * limit]
    return JSONResponse([hf_entry(paper) for paper in chosen])
