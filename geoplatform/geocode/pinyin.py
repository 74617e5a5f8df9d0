"""Pinyin keys for finding homophone typos (银成华府 for 银城华府, 花府 for 华府).

People type addresses with a pinyin input method, so their typos are mostly characters that sound
alike. Two names are homophones when, position by position, the characters share a reading
after dropping tones and folding the distinctions speakers of northern and south-western Mandarin
often blur (the "fuzzy pinyin" of input methods): zh/z, ch/c, sh/s, n/l, -ang/-an, -eng/-en,
-ing/-in. Every reading of a polyphonic character counts (还 is hai and huan).

pypinyin is slow per call (~40 µs), so readings are cached per character and keys are only
computed for names that missed an exact look-up.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"))
_FUZZY_FINALS = (("iang", "ian"), ("uang", "uan"), ("ang", "an"), ("eng", "en"), ("ing", "in"))


def _fold(syllable: str) -> str:
    for long, short in _FUZZY_INITIALS:
        if syllable.startswith(long):
            syllable = short + syllable[len(long) :]
            break
    if syllable.startswith("n"):
        syllable = "l" + syllable[1:]
    for long, short in _FUZZY_FINALS:
        if syllable.endswith(long):
            return syllable[: -len(long)] + short
    return syllable


@lru_cache(maxsize=65536)
def readings(char: str) -> tuple[str, ...]:
    """Folded, toneless readings of one character; a non-Han character reads as itself."""
    if not ("\u4e00" <= char <= "\u9fff"):
        return (char,)
    from pypinyin import Style, pinyin

    found = pinyin(char, style=Style.NORMAL, heteronym=True, errors="ignore")
    folded = tuple(dict.fromkeys(_fold(r) for r in (found[0] if found else []) if r))
    return folded or (char,)


def pinyin_key(text: str) -> str:
    """The key of ``text`` using each character's first reading."""
    return " ".join(readings(ch)[0] for ch in text)


def pinyin_keys(text: str, limit: int = 32) -> list[str]:
    """Keys of ``text`` over the combinations of its characters' readings (at most ``limit``)."""
    options = [readings(ch) for ch in text]
    return [" ".join(combo) for combo in itertools.islice(itertools.product(*options), limit)]


def sounds_alike(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` have the same length and share a reading at every position."""
    if len(a) != len(b):
        return False
    return all(x == y or set(readings(x)) & set(readings(y)) for x, y in zip(a, b, strict=True))
