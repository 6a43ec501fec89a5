"""The language people read: Vietnamese by default, English as a second language.

Messages are written in English in the code and wrapped in `_()`; the gettext catalogue
`engine/locale/vi/LC_MESSAGES/cchc.po` (committed) translates them. Its compiled `.mo` is built by
`make install`; when it is missing or older than the `.po`, it is compiled on first use.

The language comes from the environment as gettext reads it — `LANGUAGE`, then `LC_ALL`,
`LC_MESSAGES`, `LANG`: the first that names `vi` or `en` wins. When none does (unset, `C`, `POSIX`,
another language), the language is Vietnamese: the tool's users are Vietnamese officials, and a
server's bare `C` locale should not switch their messages to English.
"""
from __future__ import annotations

import gettext
import os
from datetime import date, datetime
from functools import lru_cache
from io import BytesIO
from pathlib import Path

DOMAIN = "cchc"
LOCALE_DIR = Path(__file__).parents[1] / "locale"
LANGUAGES = ("vi", "en")
DEFAULT = "vi"


def language() -> str:
    """`vi` or `en`, from the environment (read on every call, so a test can switch it)."""
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        for entry in value.split(":"):
            code = entry.split("_")[0].split(".")[0].split("@")[0].lower()
            if code in LANGUAGES:
                return code
        if value and var != "LANGUAGE":  # the first locale variable set decides, as in gettext
            break
    return DEFAULT


def compile_catalogue(po: Path) -> bytes:
    """The `.mo` bytes of a `.po` catalogue (through Babel, the maintained gettext toolkit)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        catalog = read_po(f, domain=DOMAIN)
    buf = BytesIO()
    write_mo(buf, catalog)
    return buf.getvalue()


@lru_cache(maxsize=None)
def translations(lang: str) -> gettext.NullTranslations:
    """The catalogue of a language (English, the language of the code, needs none)."""
    if lang == "en":
        return gettext.NullTranslations()
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo = po.with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        return gettext.GNUTranslations(BytesIO(mo.read_bytes()))
    data = compile_catalogue(po)
    try:  # keep it for the next run; a read-only installation just compiles each time
        tmp = mo.with_name(f".{mo.name}.{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, mo)
    except OSError:
        pass
    return gettext.GNUTranslations(BytesIO(data))


def _(message: str) -> str:
    """`message` in the reader's language."""
    return translations(language()).gettext(message)


def N_(message: str) -> str:
    """Marks a message for the catalogue where it is defined; `_()` translates it where it is shown."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(language()).ngettext(singular, plural, n)


def day(value: date | str) -> str:
    """A date for people: 30/11/2026 in Vietnamese, 2026-11-30 in English."""
    d = date.fromisoformat(value[:10]) if isinstance(value, str) else value
    return d.strftime("%d/%m/%Y") if language() == "vi" else d.isoformat()


def moment(value: datetime | str) -> str:
    """A time stamp for people, to the second: `30/11/2026 06:55:31 UTC` in Vietnamese."""
    if isinstance(value, str):
        try:
            t = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:  # not a time stamp (an archive from before time stamps were kept): as it is
            return value or "—"
    else:
        t = value
    zone = " " + (t.tzname() or "") if t.tzinfo is not None else ""
    if language() == "vi":
        return t.strftime("%d/%m/%Y %H:%M:%S") + zone
    return t.strftime("%Y-%m-%d %H:%M:%S") + zone


def both(message: str, **args) -> tuple[str, str]:
    """A message in the code's language (what results keep) and in the reader's (what is shown)."""
    return message.format(**args), _(message).format(**args)
