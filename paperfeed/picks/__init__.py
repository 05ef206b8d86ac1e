"""Personal picks: rank candidate papers for one reader, with a truthful reason for each.

- `shelf.py`    the papers a ranking can use (candidates, the reader's papers, background), with
                their words (tf-idf fitted on the shelf) and meaning (stored MiniLM vectors);
- `model.py`    `rank_picks`, the one function the digest, the CLI and bench/picks_quality.py
                call: a per-reader classifier over words and meaning, plus topic priors;
- `reasons.py`  what each pick's reason says, from what actually drove its score;
- `loading.py`  builds a shelf from the database (the only module here that reads it).

Nothing here imports the web, the CLI or the mail code; docs/ranking.md ("Picks") describes the
model and its measured quality.
"""
