"""Weights for users who were in the project before Maestro was deployed (README, "Adopting
Maestro in an existing Firebase project"). The trigger only runs on new journal writes, so such
users have no users/{uid}/maestro/weights until their next close; this computes it now.

For each user it runs what the callable runs on {"force": true}: maestro.service.recompute with
CallableRequest(force=True), a rebuild from the journal (2 + agents x lookback_trades reads, as
the functions count them), through the server client with Application Default Credentials
(rules do not apply; the emulator when FIRESTORE_EMULATOR_HOST is set). One user at a time, a
pause between users, a line of progress for each, at most --limit recomputes.

    functions/venv/bin/python scripts/backfill.py --project PROJECT --limit 100 --dry-run
    functions/venv/bin/python scripts/backfill.py --project PROJECT --limit 100

Users come from the documents of users/ (including users/{uid} that only has subcollections) or,
with --source journal, from the tradeJournal collection group (a read per trade it passes: use
it when users/ holds more than traders). Users that already have a weights document are skipped
(one read each) unless --all, so running it again continues where it stopped. It does not count
against the callable's per-user limits (maestroLimits/{uid}): those bound what a signed-in user
can make Maestro spend, and this is the operator.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from google.cloud import firestore
from google.cloud.firestore_v1.field_path import FieldPath

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))

from maestro import firestore_io, service  # noqa: E402
from maestro.decisions import Settings  # noqa: E402
from maestro.events import CallableRequest  # noqa: E402

DESCRIPTION = "Weights for the users who were there before Maestro (a forced recompute each)."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("--project", required=True, help="the Firebase project id")
    parser.add_argument(
        "--limit", type=int, required=True, help="recompute at most this many users"
    )
    parser.add_argument(
        "--source",
        choices=("users", "journal"),
        default="users",
        help="where the uids come from: users/ documents (default) or the tradeJournal "
        "collection group",
    )
    parser.add_argument(
        "--pause", type=float, default=0.5, help="seconds between users (default 0.5)"
    )
    parser.add_argument(
        "--all", action="store_true", help="recompute users that already have weights too"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="list the users it would recompute, write nothing"
    )
    parser.add_argument(
        "--env",
        type=Path,
        default=ROOT / "functions" / ".env",
        help="the functions' .env, for MAESTRO_MAX_RUN_TRADES and the like "
        "(default functions/.env)",
    )
    args = parser.parse_args(argv)
    if args.limit < 1:
        parser.error("--limit must be at least 1")
    if args.pause < 0:
        parser.error("--pause must not be negative")

    db = firestore.Client(project=args.project)
    settings = read_settings(args.env)
    done = skipped = failed = 0
    started = time.perf_counter()
    for uid in user_ids(db, args.source):
        if not args.all and firestore_io.weights_ref(db, uid).get().exists:
            skipped += 1
            print(f"  {uid}: skipped (has weights)")
            continue
        done += 1
        prefix = f"[{done}/{args.limit}] {uid}"
        if args.dry_run:
            print(f"{prefix}: would recompute")
        elif not backfill_one(db, uid, settings, prefix):
            failed += 1
        if done >= args.limit:
            break
        if not args.dry_run:
            time.sleep(args.pause)
    verb = "would recompute" if args.dry_run else "recomputed"
    print(
        f"{verb} {done - failed} user(s), {failed} failed, {skipped} skipped (had weights) "
        f"in {time.perf_counter() - started:.1f} s"
        + (f"; stopped at --limit {args.limit}" if done >= args.limit else "")
    )
    return 1 if failed else 0


def backfill_one(db: firestore.Client, uid: str, settings: Settings, prefix: str) -> bool:
    """The callable's forced recompute for one user, and its line of progress."""
    usage = firestore_io.track_usage()
    mark = time.perf_counter()
    try:
        outcome = service.recompute(db, uid, CallableRequest(force=True), settings)
    except Exception as error:  # one user's failure stops nobody else's backfill
        print(f"{prefix}: FAILED {error!r}", file=sys.stderr)
        return False
    elapsed_ms = (time.perf_counter() - mark) * 1000
    print(
        f"{prefix}: {outcome.status.value} ({outcome.reason}), {outcome.agent_count} agents, "
        f"reads={usage.reads} writes={usage.writes}, {elapsed_ms:.0f} ms"
    )
    return True


def user_ids(db: firestore.Client, source: str) -> Iterator[str]:
    """The uids to visit, in document-name order, each once, read lazily page by page."""
    if source == "users":
        # list_documents also returns users/{uid} that do not exist but have subcollections
        # (a journal written under a user document nobody created).
        for reference in db.collection(firestore_io.USERS).list_documents(page_size=300):
            yield reference.id
        return
    # Trades stream in document-name order, so one user's trades come together.
    query = db.collection_group(firestore_io.JOURNAL).select([FieldPath.document_id()])
    last = None
    for snapshot in query.stream():
        user = snapshot.reference.parent.parent
        if user is None or user.parent.id != firestore_io.USERS or user.parent.parent is not None:
            continue  # a tradeJournal collection somewhere other than users/{uid}/tradeJournal
        if user.id != last:
            last = user.id
            yield user.id


def read_settings(env: Path) -> Settings:
    """Settings() with the values the functions' .env sets (KEY=VALUE lines), as deployed."""
    values: dict[str, str] = {}
    if env.is_file():
        for line in env.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            if value.strip():
                values[key.strip()] = value.strip()
    defaults = Settings()
    return Settings(
        window_max_age_seconds=int(
            values.get("MAESTRO_WINDOW_MAX_AGE_SECONDS", defaults.window_max_age_seconds)
        ),
        cache_ttl_seconds=int(values.get("MAESTRO_CACHE_TTL_SECONDS", defaults.cache_ttl_seconds)),
        max_run_trades=int(values.get("MAESTRO_MAX_RUN_TRADES", defaults.max_run_trades)),
    )


if __name__ == "__main__":
    sys.exit(main())
