# SPDX-License-Identifier: MIT
"""The operations a job can run, described as data so the window can list them.

A new operation (denoise, stylize) is one more ``Operation`` in ``OPERATIONS``,
with its input suffixes, output suffix, integer options and a ``run`` function
that calls ``aegui.core``. The window builds its chooser and option controls
from this table, leaving out operations whose ``available`` returns False
(Denoise until its model is exported).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from aegui.core import denoise_limits
from aegui.core.tasks import (
    COMPRESS_SUFFIXES,
    DECOMPRESS_SUFFIXES,
    DENOISE_SUFFIXES,
    STYLIZE_SUFFIXES,
)

if TYPE_CHECKING:
    from aegui.core.tasks import Cancelled, JobResult, Progress


@dataclass(frozen=True)
class OptionSpec:
    """An integer option of an operation, shown as a spin box by default."""

    key: str
    label: str
    minimum: int
    maximum: int
    default: int
    tooltip: str = ""
    # "spin" (spin box), "check" (check box for 0 or 1), "slider", "choice" (a
    # list of the values in ``choices``) or "style" (style picker whose value is
    # an index into aegui.app.styles.STYLE_CHOICES).
    widget: str = "spin"
    choices: tuple[int, ...] = ()
    choice_labels: tuple[str, ...] = ()  # shown in place of the choices' numbers
    # Key of a "check" option that disables this control while it is checked.
    disabled_by: str = ""
    unit: str = ""  # written after the value, e.g. "%"

    def clamp(self, value: int) -> int:
        """Return ``value`` limited to ``minimum..maximum``, or to the nearest choice."""
        if self.choices:
            return min(self.choices, key=lambda choice: abs(choice - value))
        return max(self.minimum, min(self.maximum, value))


@dataclass(frozen=True)
class JobRequest:
    """Everything a worker needs to run one job; built on the GUI thread."""

    source: Path
    output: Path
    options: Mapping[str, int]
    overwrite: bool


Runner = Callable[[JobRequest, "Progress", "Cancelled"], "JobResult"]


def _always_available() -> bool:
    return True


@dataclass(frozen=True)
class Operation:
    """One kind of job: which files it takes, what it writes and how it runs."""

    key: str
    label: str
    input_suffixes: frozenset[str]
    output_suffix: str
    options: tuple[OptionSpec, ...]
    run: Runner
    # True when the output shows the same pixels as the input, so the viewer
    # loads the output once for both sides instead of decoding the input again.
    output_shows_input: bool = False
    # Whether the window offers the operation, checked when the window starts.
    available: Callable[[], bool] = _always_available

    def accepts(self, path: Path) -> bool:
        """Return True if ``path`` has one of this operation's input suffixes."""
        return path.suffix.lower() in self.input_suffixes

    def describe_options(self, options: Mapping[str, int]) -> str:
        """Return the label and options as table text, e.g. ``Compress · q4``."""
        parts = [self.label]
        if "quality" in options:
            parts.append(f"q{options['quality']}")
        if options.get("refine"):
            parts.append(f"refine {options['refine']}")
        if options.get("strength_auto"):
            parts.append("auto")
        elif "strength" in options:
            parts.append(f"strength {options['strength']}%")
        if options.get("passes", 1) > 1:
            parts.append(f"{options['passes']} passes")
        if "style" in options:
            parts.append(_style_label(options["style"]))
        if "style_strength" in options:
            parts.append(f"strength {options['style_strength']}%")
        if options.get("preserve_color"):
            parts.append("photo colors")
        described = {
            "quality",
            "refine",
            "strength_auto",
            "strength",
            "passes",
            "style",
            "style_strength",
            "preserve_color",
        }
        parts.extend(
            f"{key} {value}" for key, value in options.items() if key not in described
        )
        return " · ".join(parts)


QUALITY = OptionSpec(
    key="quality",
    label="Quality",
    minimum=1,
    maximum=10,
    default=6,
    tooltip="1 gives the smallest files, 10 the best pictures",
)
REFINE = OptionSpec(
    key="refine",
    label="Refine",
    minimum=0,
    maximum=100,
    default=0,
    tooltip=(
        "Gradient steps that fit the coded latents to each photo: a sharper "
        "picture at high quality, slightly smaller files at low and middle "
        "quality, but slow: 0.5 to 3 s per step and megapixel on two cores, "
        "depending on the CPU"
    ),
    widget="choice",
    choices=(0, 30, 100),
    choice_labels=("Off", "30", "100"),
)


STRENGTH_AUTO = OptionSpec(
    key="strength_auto",
    label="Auto",
    minimum=0,
    maximum=1,
    default=1,
    tooltip="Denoise at the noise level measured in each photo",
    widget="check",
)
STRENGTH = OptionSpec(
    key="strength",
    label="Strength",
    minimum=0,
    maximum=round(denoise_limits.MAX_STRENGTH * 100),
    default=100,
    tooltip="0% keeps the photo, 100% equals Auto, above 100% treats the photo as noisier",
    widget="slider",
    disabled_by=STRENGTH_AUTO.key,
    unit="%",
)


PASSES = OptionSpec(
    key="passes",
    label="Passes",
    minimum=min(denoise_limits.PASSES),
    maximum=max(denoise_limits.PASSES),
    default=1,
    tooltip=(
        "Also denoise mirrored and turned copies and average them: "
        "each pass takes as long as the first, and the result is a little cleaner"
    ),
    widget="choice",
    choices=denoise_limits.PASSES,
)


def _run_compress(
    request: JobRequest, progress: Progress, cancelled: Cancelled
) -> JobResult:
    from aegui.core.tasks import compress_file

    return compress_file(
        request.source,
        request.output,
        request.options["quality"],
        refine_steps=request.options.get(REFINE.key, REFINE.default),
        overwrite=request.overwrite,
        progress=progress,
        cancelled=cancelled,
    )


def _run_decompress(
    request: JobRequest, progress: Progress, cancelled: Cancelled
) -> JobResult:
    from aegui.core.tasks import decompress_file

    return decompress_file(
        request.source,
        request.output,
        overwrite=request.overwrite,
        progress=progress,
        cancelled=cancelled,
    )


def _run_denoise(
    request: JobRequest, progress: Progress, cancelled: Cancelled
) -> JobResult:
    from aegui.core.tasks import denoise_file

    strength = None
    if not request.options.get(STRENGTH_AUTO.key, STRENGTH_AUTO.default):
        strength = request.options.get(STRENGTH.key, STRENGTH.default) / 100
    return denoise_file(
        request.source,
        request.output,
        strength=strength,
        passes=request.options.get(PASSES.key, PASSES.default),
        overwrite=request.overwrite,
        progress=progress,
        cancelled=cancelled,
    )


def _denoise_model_exists() -> bool:
    from aegui.core.zoo import has_model

    return has_model("denoise")


STYLE = OptionSpec(
    key="style",
    label="Style",
    minimum=0,
    maximum=1_000_000,
    default=0,
    tooltip="Painting whose style the photo takes; Choose image… adds any image file",
    widget="style",
)
STYLE_STRENGTH = OptionSpec(
    key="style_strength",
    label="Strength",
    minimum=0,
    maximum=100,
    default=100,
    tooltip="0% keeps the photo, 100% applies the full style",
    widget="slider",
    unit="%",
)
PRESERVE_COLOR = OptionSpec(
    key="preserve_color",
    label="Keep photo colors",
    minimum=0,
    maximum=1,
    default=0,
    tooltip="Take only the brightness pattern from the style and keep the photo's colors",
    widget="check",
)


def _style_label(index: int) -> str:
    from aegui.app.styles import STYLE_CHOICES

    try:
        return STYLE_CHOICES.label(index)
    except IndexError:
        return f"style {index}"


def _run_stylize(
    request: JobRequest, progress: Progress, cancelled: Cancelled
) -> JobResult:
    from aegui.app.styles import STYLE_CHOICES
    from aegui.core.tasks import stylize_file

    style = STYLE_CHOICES.path(request.options.get(STYLE.key, STYLE.default))
    strength = request.options.get(STYLE_STRENGTH.key, STYLE_STRENGTH.default) / 100
    return stylize_file(
        request.source,
        request.output,
        style=style,
        strength=strength,
        preserve_color=bool(request.options.get(PRESERVE_COLOR.key, 0)),
        overwrite=request.overwrite,
        progress=progress,
        cancelled=cancelled,
    )


def _stylize_model_exists() -> bool:
    from aegui.core.zoo import has_model

    return has_model("stylize")


COMPRESS = Operation(
    key="compress",
    label="Compress",
    input_suffixes=frozenset(COMPRESS_SUFFIXES),
    output_suffix=".aez",
    options=(QUALITY, REFINE),
    run=_run_compress,
)
DECOMPRESS = Operation(
    key="decompress",
    label="Decompress",
    input_suffixes=frozenset(DECOMPRESS_SUFFIXES),
    output_suffix=".png",
    options=(),
    run=_run_decompress,
    output_shows_input=True,
)
DENOISE = Operation(
    key="denoise",
    label="Denoise",
    input_suffixes=frozenset(DENOISE_SUFFIXES),
    output_suffix=".png",
    options=(STRENGTH_AUTO, STRENGTH, PASSES),
    run=_run_denoise,
    available=_denoise_model_exists,
)
STYLIZE = Operation(
    key="stylize",
    label="Stylize",
    input_suffixes=frozenset(STYLIZE_SUFFIXES),
    output_suffix=".png",
    options=(STYLE, STYLE_STRENGTH, PRESERVE_COLOR),
    run=_run_stylize,
    available=_stylize_model_exists,
)

# Order matters: for a file the chosen operation does not accept, the first
# operation here that accepts it is used, so images go to Compress and .aez
# files to Decompress (Denoise and Stylize, which also take images, only when
# chosen).
OPERATIONS: dict[str, Operation] = {
    op.key: op for op in (COMPRESS, DECOMPRESS, DENOISE, STYLIZE)
}
DEFAULT_OPERATION = COMPRESS.key


def available_operations() -> list[Operation]:
    """Return the operations the window offers, in ``OPERATIONS`` order."""
    return [operation for operation in OPERATIONS.values() if operation.available()]


def all_input_suffixes() -> set[str]:
    """Return every suffix some operation accepts."""
    suffixes: set[str] = set()
    for operation in OPERATIONS.values():
        suffixes |= operation.input_suffixes
    return suffixes


def operation_for(path: Path, preferred: str) -> Operation:
    """Return the operation that should process ``path``.

    That is ``preferred`` if it accepts the suffix, else the first operation
    that does. A file no operation accepts gets ``preferred`` anyway, so its
    job fails with the reader's error instead of the file vanishing silently.
    """
    chosen = OPERATIONS.get(preferred, OPERATIONS[DEFAULT_OPERATION])
    if chosen.accepts(path):
        return chosen
    for operation in OPERATIONS.values():
        if operation.accepts(path):
            return operation
    return chosen
