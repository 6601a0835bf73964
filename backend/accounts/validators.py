"""
The rule a username follows beyond Django's characters: letters of one script.

NFKC (AbstractBaseUser.normalize_username) folds compatibility forms, such as
fullwidth letters (U+FF41...) or the ligature fi (U+FB01), into plain letters,
but not letters of other scripts that look alike: Cyrillic a (U+0430) stays
distinct from Latin a, so "\u0430lice" could sit beside "alice". A username
whose letters come from more than one script is refused, after the "highly
restrictive" level of Unicode's UTS #39: one script, or Latin with the scripts
that Chinese, Japanese and Korean write beside it.

The script of a letter is the first word of its Unicode name (LATIN, CYRILLIC,
GREEK, ARABIC, CJK...), since Python's unicodedata has no script property;
digits, marks and ``@.+-_`` belong to every script. A name wholly in one
script that looks like a name in another (Cyrillic "\u0430\u0441\u0435" beside
Latin "ace") is not caught by this rule: that needs Unicode's confusables table.
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Names' first words that are one script under another name.
_SCRIPT_ALIASES = {"CJK": "HAN", "IDEOGRAPHIC": "HAN", "KATAKANA-HIRAGANA": "KANA"}
_KANA = {"HIRAGANA", "KATAKANA", "KANA"}
# The mixes UTS #39 allows at its highly restrictive level.
_ALLOWED_MIXES = (
    {"LATIN", "HAN"} | _KANA,
    {"LATIN", "HAN", "BOPOMOFO"},
    {"LATIN", "HAN", "HANGUL"},
)


def scripts_of(value: str) -> set[str]:
    """Return the scripts of the letters in value, once NFKC-normalized."""
    scripts = set()
    for character in unicodedata.normalize("NFKC", value):
        if not unicodedata.category(character).startswith("L"):
            continue
        name = unicodedata.name(character, "UNKNOWN").split(" ", 1)[0]
        scripts.add(_SCRIPT_ALIASES.get(name, name))
    return scripts


def validate_single_script(value: str) -> None:
    """Raise ValidationError if value mixes letters of scripts that do not mix."""
    scripts = scripts_of(value)
    if len(scripts) <= 1 or any(scripts <= allowed for allowed in _ALLOWED_MIXES):
        return
    raise ValidationError(
        _("Enter a username whose letters are all of one script (%(scripts)s mixed)."),
        code="mixed_scripts",
        params={"scripts": ", ".join(sorted(s.title() for s in scripts))},
    )
