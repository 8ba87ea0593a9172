"""Text in the header is readable: WCAG AA contrast (4.5:1) computed from the stylesheet."""

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

CSS = Path(__file__).resolve().parents[3] / "app" / "web" / "static" / "css" / "leadex.css"
COMPOUND = re.compile(r"^(?P<tag>[a-z][a-z0-9]*|\*)?(?P<rest>(?:[.#][\w-]+|:[\w-]+)*)$")

# The header of a signed-out page (layout.html), root first: (tag, classes).
NAV = [
    ("html", set()),
    ("body", set()),
    ("header", {"topbar"}),
    ("div", {"wrap", "topbar-inner"}),
    ("nav", {"nav"}),
]
SIGN_UP = [*NAV, ("a", {"button", "button-small"})]
LOG_IN = [*NAV, ("a", set())]


def _without_media_blocks(css: str) -> str:
    """Desktop styles only: drop @media blocks (they change layout, not these colours)."""
    out, i = [], 0
    for match in re.finditer(r"@media[^{]*\{", css):
        if match.start() < i:
            continue
        out.append(css[i : match.start()])
        depth, j = 1, match.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(css[j], 0)
            j += 1
        i = j
    out.append(css[i:])
    return "".join(out)


def _rules():
    css = _without_media_blocks(re.sub(r"/\*.*?\*/", "", CSS.read_text(), flags=re.S))
    for order, (selectors, body) in enumerate(re.findall(r"([^{}]+)\{([^{}]*)\}", css)):
        declarations = {}
        for item in body.split(";"):
            if ":" in item:
                name, value = item.split(":", 1)
                declarations[name.strip()] = value.strip()
        for selector in selectors.split(","):
            yield selector.strip(), declarations, order


def _matches_compound(compound: str, element, *, is_target: bool, hover: bool):
    """(ids, classes, tags) specificity when ``compound`` matches ``element``, else None."""
    found = COMPOUND.match(compound)
    if not found:
        return None  # attribute selectors, pseudo-elements, functions: not our elements
    tag, classes = element
    if found["tag"] not in (None, "*", tag):
        return None
    parts = re.findall(r"[.#:][\w-]+", found["rest"])
    for part in parts:
        kind, name = part[0], part[1:]
        if kind == "." and name not in classes:
            return None
        if kind == "#":
            return None
        if kind == ":" and not (
            (name == "root" and tag == "html") or (name == "hover" and hover and is_target)
        ):
            return None
    ids = sum(p[0] == "#" for p in parts)
    return (ids, sum(p[0] in ".:" for p in parts), int(found["tag"] not in (None, "*")))


def _specificity(selector: str, path, *, hover: bool):
    """Specificity of ``selector`` on the last element of ``path``, None if it does not apply.
    Only descendant combinators are followed; any other makes the rule not apply."""
    compounds = selector.split()
    if any(c in {">", "+", "~"} for c in compounds):
        return None
    total = _matches_compound(compounds[-1], path[-1], is_target=True, hover=hover)
    if total is None:
        return None
    ancestors = list(path[:-1])
    for compound in reversed(compounds[:-1]):
        while ancestors:
            spec = _matches_compound(compound, ancestors.pop(), is_target=False, hover=hover)
            if spec is not None:
                total = tuple(a + b for a, b in zip(total, spec, strict=True))
                break
        else:
            return None
    return total


def _resolve(value: str, variables: dict) -> str:
    return re.sub(r"var\((--[\w-]+)\)", lambda m: variables[m[1]], value).strip()


def _winning(path, properties, *, hover: bool):
    best = None
    for selector, declarations, order in _rules():
        for name in properties:
            if name in declarations:
                spec = _specificity(selector, path, hover=hover)
                if spec is not None and (best is None or (spec, order) >= best[0]):
                    best = ((spec, order), declarations[name])
    return None if best is None else best[1]


def computed(path, prop: str, *, hover: bool = False) -> str:
    """The colour a browser shows: text colour inherits, the background shows through."""
    variables = {k: v for s, d, _ in _rules() if s == ":root" for k, v in d.items()}
    names = ("background", "background-color") if prop == "background" else (prop,)
    for depth in range(len(path), 0, -1):
        value = _winning(path[:depth], names, hover=hover)
        if value is not None and value not in ("transparent", "none", "inherit"):
            colour = _resolve(value, variables)
            assert re.fullmatch(r"#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}", colour), colour
            return colour
    return "#ffffff"


def luminance(colour: str) -> float:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    channels = []
    for i in (0, 2, 4):
        c = int(digits[i : i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("hover", [False, True], ids=["resting", "hover"])
@pytest.mark.parametrize("path", [SIGN_UP, LOG_IN], ids=["sign-up-button", "log-in-link"])
def test_header_links_have_aa_contrast(path, hover):
    text = computed(path, "color", hover=hover)
    background = computed(path, "background", hover=hover)
    ratio = contrast(text, background)
    assert ratio >= 4.5, f"{text} on {background} is {ratio:.2f}:1"


def test_the_calculation_agrees_with_known_figures():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#4b5567", "#2357d8") == pytest.approx(1.23, abs=0.01)
    assert computed(SIGN_UP, "background") == "#2357d8"  # .button's var(--brand)
    assert computed(LOG_IN, "background") == "#fff"  # .topbar's, through the nav
