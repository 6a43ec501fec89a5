"""The archive: an embedded SQLite store of bundles by year and unit, so a Sở Nội vụ keeps years of
evaluations and the annual round can fetch last year's results.

Each bundle is stored whole (its bytes, verified on the way in and on the way out) with one index
row per unit result. On the way in it is also replayed: only a bundle whose inputs reproduce its
recorded results is stored, and an archive may require signatures by listed keys. The schema is
versioned by `PRAGMA user_version` and upgraded by the ordered steps in `MIGRATIONS`, each in its
own transaction; several processes may open and add to the same archive at once (WAL, busy wait).
"""
from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Optional, Sequence, Union

if TYPE_CHECKING:
    from ..evaluation.evaluate import Evaluator

from ..storage.bundle import Bundle, BundleError, load_public_key, read_bundle
from ..core.errors import ArchiveError, CchcError, InputError, NotReproducedError
from ..core.i18n import N_, _
from ..core.numbers import exact_text, to_fraction
from ..storage.documents import UnitResultDoc, unit_result, unit_result_bytes
from ..storage.results import dumps
from ..inputs.schema import json_problem

EvaluatorFactory = Callable[[str], "Evaluator"]


def default_path() -> Path:
    """`$CCHC_ARCHIVE`, else `$XDG_DATA_HOME/cchc/archive.sqlite` (~/.local/share by default)."""
    env = os.environ.get("CCHC_ARCHIVE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "cchc" / "archive.sqlite"


# ---------------------------------------------------------------- what a bundle contributes

@dataclass(frozen=True)
class UnitIndex:
    unit_id: str
    unit_name: str
    unit_type: str
    period: str
    points: str  # exact text
    max: str
    index: Optional[str]


@dataclass(frozen=True)
class BundleIndex:
    kind: str
    year: Optional[int]
    criteria_id: str
    criteria_sha256: str
    title: str
    engine: str
    units: tuple[UnitIndex, ...]


def unit_results(bundle: Bundle) -> list[tuple[str, UnitResultDoc]]:
    """The unit results of a bundle (its result files in the `cchc-result/…` format), by file name,
    each read through the result schema; one that does not match it is refused by name."""
    out = []
    for name, data in sorted(bundle.results().items()):
        try:
            doc = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            continue
        if not (isinstance(doc, dict) and str(doc.get("format", "")).startswith("cchc-result/")):
            continue
        problem = json_problem(doc, "bundle.schema.json", "indexed_result")
        if problem:
            raise ArchiveError(_("bundle {id}: result {name}: {problem}").format(
                id=bundle.sha256[:12], name=name, problem=problem))
        try:
            out.append((name, unit_result(Path(name), doc)))
        except InputError as exc:
            shown = "; ".join(str(p) for p in exc.problems[:3])
            raise ArchiveError(_("bundle {id}: result {problems}").format(id=bundle.sha256[:12], problems=shown)) from None
    return out


def index_bundle(bundle: Bundle) -> BundleIndex:
    """Year, criteria and per-unit totals of a bundle, from its manifest and its unit results
    (every result file in the `cchc-result/…` format)."""
    about = bundle.about
    units, criteria = [], {}
    for name, doc in unit_results(bundle):
        criteria = criteria or dict(doc.data["criteria"])
        pts, mx = doc.points, doc.max
        units.append(UnitIndex(doc.unit_id, doc.unit_name, doc.unit_type, doc.period, exact_text(pts), exact_text(mx),
                               exact_text(pts / mx * 100) if mx else None))
    year = about.get("year", criteria.get("year"))
    return BundleIndex(bundle.kind, int(year) if year is not None else None,
                       str(about.get("criteria_id", criteria.get("id", ""))),
                       str(about.get("criteria_sha256", criteria.get("sha256", ""))),
                       str(about.get("title", criteria.get("title", ""))), bundle.engine, tuple(units))


# ---------------------------------------------------------------- schema and migrations

@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[sqlite3.Connection], None]


def _v1(con: sqlite3.Connection) -> None:
    con.execute("""CREATE TABLE bundles (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        year INTEGER,
        criteria_id TEXT NOT NULL DEFAULT '',
        data BLOB NOT NULL)""")
    con.execute("""CREATE TABLE unit_results (
        bundle_id INTEGER NOT NULL REFERENCES bundles(id) ON DELETE CASCADE,
        unit_id TEXT NOT NULL,
        period TEXT NOT NULL,
        points TEXT NOT NULL,
        max TEXT NOT NULL,
        PRIMARY KEY (bundle_id, unit_id))""")


def _v2(con: sqlite3.Connection) -> None:
    """Names, types, exact index, engine and criteria hash; indexes by year and unit. Existing rows
    are filled in from the stored bundles, which are verified on the way."""
    for sql in ("ALTER TABLE bundles ADD COLUMN criteria_sha256 TEXT NOT NULL DEFAULT ''",
                "ALTER TABLE bundles ADD COLUMN title TEXT NOT NULL DEFAULT ''",
                "ALTER TABLE bundles ADD COLUMN engine TEXT NOT NULL DEFAULT ''",
                "ALTER TABLE bundles ADD COLUMN added_at TEXT NOT NULL DEFAULT ''",
                "ALTER TABLE unit_results ADD COLUMN unit_name TEXT NOT NULL DEFAULT ''",
                "ALTER TABLE unit_results ADD COLUMN unit_type TEXT NOT NULL DEFAULT ''",
                "ALTER TABLE unit_results ADD COLUMN idx TEXT",
                "CREATE INDEX bundles_by_year ON bundles(year)",
                "CREATE INDEX unit_results_by_unit ON unit_results(unit_id)"):
        con.execute(sql)
    for bid, data in con.execute("SELECT id, data FROM bundles ORDER BY id").fetchall():
        ix = index_bundle(_verified(bytes(data), bid))
        con.execute("UPDATE bundles SET criteria_sha256 = ?, title = ?, engine = ? WHERE id = ?",
                    (ix.criteria_sha256, ix.title, ix.engine, bid))
        for u in ix.units:
            con.execute("UPDATE unit_results SET unit_name = ?, unit_type = ?, idx = ? "
                        "WHERE bundle_id = ? AND unit_id = ?", (u.unit_name, u.unit_type, u.index, bid, u.unit_id))


# How each bundle was verified, as the archive keeps it: data (JSON) shown in the reader's language
# (`verification_text`); the archives of earlier versions hold these English words instead.
_BEFORE_REPLAYS = N_("archived before bundles were replayed on the way in")


def _verification(outcome: str, **about: object) -> str:
    return json.dumps({"outcome": outcome, **about}, ensure_ascii=False, sort_keys=True)


def verification_text(kept: str) -> str:
    """How a bundle was verified (`BundleRow.verification` as kept), in the reader's language."""
    try:
        v = json.loads(kept)
    except ValueError:
        v = None
    if isinstance(v, dict) and v.get("outcome") == "identical":
        return _("identical: replayed with the {engine} engine, cchc {version} ({units} unit(s), {decisions} "
                 "decisions)").format(engine=v.get("engine"), version=v.get("cchc"), units=v.get("units"),
                                      decisions=v.get("decisions"))
    if isinstance(v, dict) and v.get("outcome") == "differs":
        return _("DIFFERS: {reason}").format(reason=v.get("reason"))
    return _(_BEFORE_REPLAYS) if kept == _BEFORE_REPLAYS else kept


def _v3(con: sqlite3.Connection) -> None:
    """Who signed each bundle, whether its replay reproduced it, and the archive's settings (the
    signers it requires). Bundles archived before are kept but marked unverified: `round
    --archive` does not read them until `cchc archive verify` has replayed them."""
    for sql in ("ALTER TABLE bundles ADD COLUMN signer TEXT",
                "ALTER TABLE bundles ADD COLUMN verified INTEGER NOT NULL DEFAULT 0",
                f"ALTER TABLE bundles ADD COLUMN verification TEXT NOT NULL DEFAULT '{_BEFORE_REPLAYS}'",
                "CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)"):
        con.execute(sql)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "bundles and their unit totals", _v1),
    Migration(2, "unit names and types, exact index, engine, criteria hash; indexes", _v2),
    Migration(3, "signer and verification outcome of each bundle; settings (required signers)", _v3),
)
SCHEMA_VERSION = MIGRATIONS[-1].version


def _verified(data: bytes, bid: object) -> Bundle:
    try:
        return read_bundle(data)
    except BundleError as exc:
        raise ArchiveError(_("archived bundle #{id} no longer verifies: {reason}").format(id=bid, reason=exc)) from None


def migrate(con: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the schema up to `target` one step at a time; return the version reached."""
    current = con.execute("PRAGMA user_version").fetchone()[0]
    if current > SCHEMA_VERSION:
        raise ArchiveError(_("the archive's schema is version {version}, newer than this cchc knows "
                             "({known}); upgrade cchc").format(version=current, known=SCHEMA_VERSION))
    for m in MIGRATIONS:
        if current < m.version <= target:
            try:
                con.execute("BEGIN IMMEDIATE")
                # read again under the write lock: another process may have applied it meanwhile
                current = con.execute("PRAGMA user_version").fetchone()[0]
                if current < m.version:
                    m.apply(con)
                    con.execute(f"PRAGMA user_version = {m.version:d}")
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            current = max(current, m.version)
    return current


# ---------------------------------------------------------------- the archive

@dataclass(frozen=True)
class BundleRow:
    id: int
    sha256: str
    kind: str
    year: Optional[int]
    criteria_id: str
    title: str
    engine: str
    added_at: str
    units: int
    signer: Optional[str] = None  # fingerprint of the key that signed it
    verified: bool = False  # its replay reproduced its recorded results when it was added
    verification: str = ""  # in the reader's language (`verification_text`)


@dataclass(frozen=True)
class ArchivedResult:
    """One unit's total in an archived evaluation."""

    bundle_id: int
    bundle_sha256: str
    year: Optional[int]
    criteria_id: str
    unit_id: str
    unit_name: str
    unit_type: str
    period: str
    points: Fraction
    max: Fraction
    index: Optional[Fraction]


@dataclass(frozen=True)
class Added:
    id: int
    sha256: str
    new: bool  # False: the same bundle was already archived
    year: Optional[int]
    units: int


BUSY_TIMEOUT = 60  # seconds a writer waits for another process's transaction to end


def _retrying(step: Callable[[], object], attempts: int = 20):
    """Run a step that may meet another process's lock (beyond the busy wait), a few times."""
    for attempt in range(attempts):
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


class Archive:
    """An open archive. Use as a context manager, or call `close()`."""

    def __init__(self, path: Path | str | None = None, *, create: bool = True):
        self.path = Path(path) if path is not None else default_path()
        if not self.path.exists():
            if not create:
                raise ArchiveError(_("no archive at {path} (add bundles with `cchc archive add`)").format(
                    path=self.path))
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT)
            self.con.execute("PRAGMA foreign_keys = ON")
            self.con.execute("PRAGMA user_version").fetchone()
            # readers never wait for a writer, and concurrent writers queue instead of failing
            _retrying(lambda: self.con.execute("PRAGMA journal_mode = WAL").fetchone())
        except sqlite3.DatabaseError as exc:
            raise ArchiveError(_("{path} is not a cchc archive: {reason}").format(path=self.path, reason=exc)) from None
        try:
            _retrying(lambda: migrate(self.con))
        except sqlite3.DatabaseError as exc:
            self.con.close()
            raise ArchiveError(_("{path}: cannot upgrade the archive: {reason}").format(
                path=self.path, reason=exc)) from None
        except BaseException:
            self.con.close()
            raise

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    @property
    def version(self) -> int:
        return self.con.execute("PRAGMA user_version").fetchone()[0]

    # ---------------------------------------------------------------- settings

    def required_signers(self) -> list[str]:
        """Fingerprints of the keys one of which must have signed every bundle added (empty: any
        bundle, signed or not, that replays)."""
        row = self.con.execute("SELECT value FROM settings WHERE name = 'required_signers'").fetchone()
        return list(json.loads(row[0])) if row else []

    def require_signers(self, public_keys: Sequence[Path]) -> list[str]:
        """From now on, accept only bundles signed by one of these public keys (`.pub` files)."""
        from ..storage.bundle import key_fingerprint

        prints = sorted({key_fingerprint(load_public_key(k)) for k in public_keys})
        self.con.execute("INSERT INTO settings (name, value) VALUES ('required_signers', ?) "
                         "ON CONFLICT(name) DO UPDATE SET value = excluded.value", (json.dumps(prints),))
        return prints

    # ---------------------------------------------------------------- adding

    def _admit(self, name: str, b: Bundle, factory: EvaluatorFactory, required: Sequence[str]) -> str:
        """Refuse a bundle signed by no required key, or whose own inputs do not reproduce its
        results (the same replay as `cchc replay`); else say how it was verified."""
        from .bundle_kinds import replay

        if required and b.signer not in required:
            who = _("signed by key {key}").format(key=b.signer) if b.signer else _("not signed")
            raise ArchiveError(_("{name}: not archived: it is {who}, and this archive requires a signature by "
                                 "one of the keys {keys}").format(name=name, who=who, keys=", ".join(required)))
        try:
            report = replay(b, factory(b.engine))
        except InputError as exc:
            shown = "; ".join(str(p) for p in exc.problems[:3])
            raise ArchiveError(_("{name}: not archived: its own inputs do not load: {problems}").format(
                name=name, problems=shown)) from None
        if not report.identical:
            raise NotReproducedError(name, [d.text() for d in report.comparison.differences])
        c = report.comparison
        return _verification("identical", engine=report.engine, cchc=report.versions.get("cchc"), units=c.units,
                             decisions=c.decisions)

    def add(self, bundles: Sequence[Bundle], factory: EvaluatorFactory,
            names: Optional[Sequence[str]] = None) -> list[Added]:
        """Replay, then store verified bundles and index their unit results, all in one
        transaction: a bundle that does not reproduce its results, or lacks a required signature,
        stops them all. A bundle already archived (same sha256) is kept once. `factory` gives the
        evaluator of an engine name (rules.get_evaluator); `names` name the bundles in messages."""
        names = list(names or [f"bundle {b.sha256[:12]}" for b in bundles])
        required = self.required_signers()
        known = {row[0] for row in self.con.execute("SELECT sha256 FROM bundles")}
        verdicts = [self._admit(n, b, factory, required) if b.sha256 not in known else ""
                    for n, b in zip(names, bundles)]
        done: list[Added] = []
        indexes = [index_bundle(b) for b in bundles]
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        _retrying(lambda: self.con.execute("BEGIN IMMEDIATE"))
        try:
            for b, ix, verdict in zip(bundles, indexes, verdicts):
                row = self.con.execute("SELECT id FROM bundles WHERE sha256 = ?", (b.sha256,)).fetchone()
                if row:
                    done.append(Added(row[0], b.sha256, False, ix.year, len(ix.units)))
                    continue
                data = b.data
                cur = self.con.execute(
                    "INSERT INTO bundles (sha256, kind, year, criteria_id, data, criteria_sha256, title, engine, "
                    "added_at, signer, verified, verification) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
                    (b.sha256, ix.kind, ix.year, ix.criteria_id, data, ix.criteria_sha256, ix.title, ix.engine, now,
                     b.signer, verdict))
                bid = cur.lastrowid
                for u in ix.units:
                    self.con.execute(
                        "INSERT INTO unit_results (bundle_id, unit_id, period, points, max, unit_name, unit_type, "
                        "idx) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (bid, u.unit_id, u.period, u.points, u.max, u.unit_name, u.unit_type, u.index))
                done.append(Added(bid, b.sha256, True, ix.year, len(ix.units)))
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        return done

    def verify(self, factory: EvaluatorFactory) -> list[tuple[int, bool, str]]:
        """Replay the bundles not yet verified (archived before bundles were replayed on the way
        in) and record the outcome: (id, reproduced, outcome) for each."""
        out = []
        for (bid,) in self.con.execute("SELECT id FROM bundles WHERE verified = 0 ORDER BY id").fetchall():
            b = self.bundle(bid)
            try:
                verdict, ok = self._admit(f"#{bid}", b, factory, ()), True
            except ArchiveError as exc:
                verdict, ok = _verification("differs", reason=str(exc)), False
            self.con.execute("UPDATE bundles SET verified = ?, verification = ?, signer = ? WHERE id = ?",
                             (int(ok), verdict, b.signer, bid))
            out.append((bid, ok, verification_text(verdict)))
        return out

    def bundles(self, year: Optional[int] = None, unit: Optional[str] = None) -> list[BundleRow]:
        sql = ("SELECT b.id, b.sha256, b.kind, b.year, b.criteria_id, b.title, b.engine, b.added_at, "
               "(SELECT COUNT(*) FROM unit_results r WHERE r.bundle_id = b.id), b.signer, b.verified, "
               "b.verification FROM bundles b WHERE 1=1")
        args: list = []
        if year is not None:
            sql += " AND b.year = ?"
            args.append(year)
        if unit is not None:
            sql += " AND EXISTS (SELECT 1 FROM unit_results r WHERE r.bundle_id = b.id AND r.unit_id = ?)"
            args.append(unit)
        sql += " ORDER BY b.year, b.id"
        return [BundleRow(*row[:9], row[9], bool(row[10]), verification_text(row[11]))
                for row in self.con.execute(sql, args).fetchall()]

    def results(self, *, year: Optional[int] = None, unit: Optional[str] = None,
                criteria_id: Optional[str] = None, bundle_id: Optional[int] = None,
                verified_only: bool = False) -> list[ArchivedResult]:
        """Unit results, oldest year first, then by bundle and unit (with `verified_only`: only of
        bundles whose replay reproduced them)."""
        sql = ("SELECT r.bundle_id, b.sha256, b.year, b.criteria_id, r.unit_id, r.unit_name, r.unit_type, "
               "r.period, r.points, r.max, r.idx FROM unit_results r JOIN bundles b ON b.id = r.bundle_id WHERE 1=1")
        args: list = []
        for column, value in (("b.year", year), ("r.unit_id", unit), ("b.criteria_id", criteria_id),
                              ("b.id", bundle_id)):
            if value is not None:
                sql += f" AND {column} = ?"
                args.append(value)
        if verified_only:
            sql += " AND b.verified = 1"
        sql += " ORDER BY b.year, r.bundle_id, r.unit_id"
        out = []
        for row in self.con.execute(sql, args).fetchall():
            *head, pts, mx, idx = row
            out.append(ArchivedResult(*head, to_fraction(pts), to_fraction(mx),
                                      None if idx is None else to_fraction(idx)))
        return out

    def bundle(self, bundle_id: int) -> Bundle:
        """An archived bundle, verified again as it comes out."""
        row = self.con.execute("SELECT data FROM bundles WHERE id = ?", (bundle_id,)).fetchone()
        if row is None:
            raise ArchiveError(_("no bundle #{id} in {path}").format(id=bundle_id, path=self.path))
        return _verified(bytes(row[0]), bundle_id)

    def bundle_row(self, bundle_id: int) -> BundleRow:
        """What the archive records about a bundle (year, criteria, verification)."""
        for row in self.bundles():
            if row.id == bundle_id:
                return row
        raise ArchiveError(_("no bundle #{id} in {path}").format(id=bundle_id, path=self.path))

    def unit_result(self, bundle_id: int, unit_id: str) -> UnitResultDoc:
        """A unit's result (every item) as its archived bundle recorded it."""
        return unit_result_bytes(f"#{bundle_id}:results/units/{unit_id}.json",
                                 self.bundle(bundle_id).part(f"results/units/{unit_id}.json"))

    def item_titles(self, bundle_id: int) -> dict[str, str]:
        """The sub-criteria's titles, by code, of the criteria set an archived bundle was scored
        with (its unit results name them by code alone); a criteria set this version cannot read
        is an `InputError` naming the bundle's part."""
        criteria = _criteria_of(self.bundle(bundle_id), f"#{bundle_id}")
        return {sub.code: sub.title for sub in criteria.sub_criteria()}

    def bundle_bytes(self, bundle_id: int) -> bytes:
        self.bundle(bundle_id)
        return bytes(self.con.execute("SELECT data FROM bundles WHERE id = ?", (bundle_id,)).fetchone()[0])


Db = Union[Archive, Path, str]


def _open(db: Db) -> tuple[Archive, bool]:
    if isinstance(db, Archive):
        return db, False
    return Archive(db, create=False), True


def results_for_year(db: Db, year: int, criteria_id: Optional[str] = None) -> dict[str, ArchivedResult]:
    """Each unit's result in `year`, from verified bundles only: where several archived evaluations
    of that year hold the same unit, the one archived last counts. Keyed and ordered by unit id."""
    archive, owned = _open(db)
    try:
        latest: dict[str, ArchivedResult] = {}
        for r in archive.results(year=year, criteria_id=criteria_id, verified_only=True):
            if r.unit_id not in latest or r.bundle_id > latest[r.unit_id].bundle_id:
                latest[r.unit_id] = r
        return dict(sorted(latest.items()))
    finally:
        if owned:
            archive.close()


def previous_results(db: Db, year: int, criteria_id: Optional[str] = None) -> dict[str, ArchivedResult]:
    """Last year's per-unit results for the evaluation of `year`: the results archived for
    `year - 1` (optionally of one criteria set), keyed by unit id; empty when none were archived."""
    return results_for_year(db, year - 1, criteria_id)


def read_many(paths: Iterable[Path]) -> list[Bundle]:
    """Read and verify bundle files (all of them, before anything is stored)."""
    from ..storage.bundle import read_bundle_file

    return [read_bundle_file(p) for p in paths]


def _criteria_of(bundle: Bundle, shown: str):
    """The criteria set a bundle was scored with, loaded from the bundle's own bytes; its problems
    (a set this version cannot read) named as `shown` (the bundle) and the part, not as the
    scratch file it was read from."""
    from ..inputs.criteria import load_criteria

    paths = bundle.inputs.get("criteria") or []
    if not paths:
        raise ArchiveError(_("bundle {bundle} holds no criteria set").format(bundle=bundle.sha256[:12]))
    with tempfile.TemporaryDirectory(prefix="cchc-archive-") as tmp:
        target = Path(tmp) / PurePosixPath(paths[0]).name
        target.write_bytes(bundle.part(paths[0]))
        try:
            return load_criteria(target)
        except InputError as exc:
            raise type(exc)([replace(p, file=f"{shown}:{paths[0]}") for p in exc.problems]) from None


@contextlib.contextmanager
def previous_round_file(db: Db, year: int) -> Iterator[Optional[Path]]:
    """The results archived for `year` as the round summary `previous-<year>.json` that `cchc round
    --previous` reads, in a temporary folder removed afterwards (so that a round's bundle carries
    them as its `previous` input); None when nothing of `year` was archived."""
    data = previous_round_json(db, year + 1)
    if data is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="cchc-previous-") as tmp:
        path = Path(tmp) / f"previous-{year}.json"
        path.write_bytes(data)
        yield path


def previous_round_json(db: Db, year: int, criteria_id: Optional[str] = None) -> Optional[bytes]:
    """Last year's results from the archive as a round summary (`cchc-round/1`, the form
    `cchc round --previous` reads): the results archived for `year - 1`, ranked and classified
    within the groups of the criteria set each was scored with. None when nothing was archived.
    The document names the bundles it comes from by sha256 (never the archive's path)."""
    from .replay import standings

    archive, owned = _open(db)
    try:
        rows = results_for_year(archive, year - 1, criteria_id)
        if not rows:
            return None
        by_bundle: dict[int, list[ArchivedResult]] = {}
        for r in rows.values():
            by_bundle.setdefault(r.bundle_id, []).append(r)
        groups: dict[str, list[dict]] = {}
        ungrouped: list[dict] = []
        criteria_ids, periods, sources = [], [], []
        for bid, results in sorted(by_bundle.items()):
            bundle = archive.bundle(bid)
            cs = _criteria_of(bundle, f"#{bid}")
            places = standings(cs, [(r.unit_id, r.unit_name, r.unit_type, r.points, r.max) for r in results])
            for r in sorted(results, key=lambda r: r.unit_id):
                p = places[r.unit_id]
                entry = {"id": r.unit_id, "name": r.unit_name, "type": r.unit_type,
                         "index": None if p.index is None else exact_text(p.index), "rank": p.rank, "class": p.klass}
                (groups.setdefault(p.group, []) if p.group else ungrouped).append(entry)
            criteria_ids.append(cs.id)
            periods += [r.period for r in results]
            sources.append(bundle.sha256)
        doc = {"format": "cchc-round/1",
               "criteria": {"id": "+".join(dict.fromkeys(criteria_ids)), "year": year - 1},
               "period": max(sorted(set(periods)), key=periods.count) if periods else str(year - 1),
               "groups": [{"id": gid, "units": units} for gid, units in sorted(groups.items())],
               "ungrouped": {"units": ungrouped},
               "source": {"archive_bundles": sources}}
        return dumps(doc)
    finally:
        if owned:
            archive.close()
