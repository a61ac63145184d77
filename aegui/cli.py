# SPDX-License-Identifier: MIT
"""The ``aegui`` command line: batch jobs, file info, demo, training.

Exit status: 0 when every input succeeded, 1 when some failed (the others are
still processed and the failures listed), 2 for usage errors, 130 when
interrupted with Ctrl-C.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import time
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from aegui import __version__
from aegui.argtypes import DefaultsHelpFormatter, thread_count
from aegui.core.denoise_limits import MAX_STRENGTH, PASSES, check_strength
from aegui.core.memory import keep_freed_memory

if TYPE_CHECKING:
    from aegui.core.container import AezHeader
    from aegui.core.tasks import JobResult

logger = logging.getLogger(__name__)

MAX_REFINE_STEPS = 1000

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


class ProgressLine:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self, total: int, enabled: bool | None = None) -> None:
        self.total = total
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.started = time.monotonic()

    def update(self, done: float, label: str = "") -> None:
        """Redraw the bar for ``done`` of ``total`` items."""
        if not self.enabled or self.total <= 1:
            return
        width = 30
        filled = int(width * done / self.total)
        elapsed = time.monotonic() - self.started
        text = f"\r[{'#' * filled}{'.' * (width - filled)}] {int(done)}/{self.total} {elapsed:.0f}s {visible(label)}"
        sys.stderr.write(text[:100].ljust(100))
        sys.stderr.flush()

    def close(self) -> None:
        """Clear the bar."""
        if self.enabled and self.total > 1:
            sys.stderr.write("\r" + " " * 100 + "\r")
            sys.stderr.flush()


# The words argparse takes as negative numbers rather than options.
NEGATIVE_NUMBER = re.compile(r"-\d+|-\d*\.\d+")


def pad(text: str, width: int) -> str:
    """Return ``text`` followed by spaces to fill ``width`` terminal columns.

    Wide characters (most CJK ideographs and kana) take two columns, so
    ``str.ljust`` would leave the columns after such a name out of line.
    Combining marks take none.
    """
    columns = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        columns += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return text + " " * max(0, width - columns)


def configure_logging(verbose: bool) -> None:
    """Log warnings, or with ``verbose`` also debug messages, to stderr."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s: %(message)s",
    )
    # Pillow's debug messages list the chunks of every file it parses.
    logging.getLogger("PIL").setLevel(logging.INFO)


def visible(text: str) -> str:
    """Return ``text`` with control characters written as escapes, such as \\n.

    A file name may hold a newline or a terminal escape sequence, which would
    break the table or reach the terminal as a command.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def input_path(text: str) -> Path:
    """Parse an input file or folder name for argparse, rejecting an empty one.

    Path("") is the current folder, so an unset shell variable would otherwise
    process every image below it.
    """
    if not text.strip():
        raise argparse.ArgumentTypeError("invalid input '': the name is empty")
    return Path(text)


def folder_path(text: str) -> Path:
    """Parse a folder name for argparse, rejecting an empty one."""
    if not text.strip():
        raise argparse.ArgumentTypeError("invalid folder '': the name is empty")
    return Path(text)


def check_output_folder(parser: argparse.ArgumentParser, folder: Path) -> None:
    """Stop with a usage error when the output folder or a folder above it is a file."""
    for part in (folder, *folder.parents):
        if part.is_symlink() and not part.exists():
            parser.error(
                f"output folder {folder}: {part} is a symbolic link to a missing target"
            )
        if part.exists():
            if not part.is_dir():
                parser.error(
                    f"output folder {folder}: {part} exists and is not a folder"
                )
            return


def _add_batch_arguments(
    parser: argparse.ArgumentParser, metavar: str, inputs_help: str
) -> None:
    """Add the inputs, ``-o OUTDIR`` and ``--force`` that every batch command takes."""
    parser.add_argument(
        "inputs", nargs="+", type=input_path, metavar=metavar, help=inputs_help
    )
    parser.add_argument(
        "-o",
        "--output",
        type=folder_path,
        required=True,
        metavar="OUTDIR",
        help="output folder",
    )
    parser.add_argument(
        "-f", "--force", action="store_true", help="overwrite existing outputs"
    )


def build_parser(training: bool = True) -> argparse.ArgumentParser:
    """Return the parser of every subcommand, with the training options if ``training``."""
    parser = argparse.ArgumentParser(
        prog="aegui",
        description="Compress, open, denoise and restyle photos with trained autoencoders. "
        "Without a command, opens the window (with FILE arguments, opens them in it).",
        parents=[_global_parser()],
    )
    parser.add_argument("--version", action="version", version=f"aegui {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    compress = commands.add_parser("compress", help="compress images into .aez files")
    _add_batch_arguments(compress, "INPUT", "image files or folders")
    compress.add_argument(
        "-q", "--quality", type=int, default=6,
        help="quality level from 1 (smallest files) to the codec's top level "
        "(10 for the shipped codec); default 6",
    )  # fmt: skip
    compress.add_argument(
        "--refine", type=_refine_steps, default=0, metavar="STEPS",
        help="fit the coded latents to each photo with STEPS gradient steps (0 to "
        f"{MAX_REFINE_STEPS}) per tile of 640x640 pixels: a sharper picture at high "
        "quality (0.35 dB at quality 10 with 30 steps), slightly smaller files at "
        "low and middle quality, but 0.5 to 3 s per step and megapixel on two "
        "cores, depending on the CPU; default 0 (off)",
    )  # fmt: skip

    decompress = commands.add_parser(
        "decompress", help="decode .aez files into PNG images"
    )
    _add_batch_arguments(decompress, "FILE", ".aez files or folders")

    denoise = commands.add_parser(
        "denoise", help="remove noise from images, writing PNG files"
    )
    _add_batch_arguments(denoise, "INPUT", "image files or folders")
    denoise.add_argument(
        "-s", "--strength", type=_strength, default=None, metavar="auto|FLOAT",
        help="'auto' (default) denoises at the noise level estimated in each image; "
        "a number from 0 to 4 scales the effect: 0 keeps the image, 0.5 goes halfway, "
        "1 equals auto, and above 1 the network is told that many times the level",
    )  # fmt: skip
    denoise.add_argument(
        "--passes", type=int, choices=PASSES, default=1,
        metavar="{" + ",".join(map(str, PASSES)) + "}",
        help="also denoise mirrored and turned copies and average them: "
        "N times slower, a little cleaner (default 1)",
    )  # fmt: skip

    _add_stylize_parser(commands)

    info = commands.add_parser(
        "info", help="print the header and stream sizes of .aez files"
    )
    info.add_argument(
        "inputs",
        nargs="+",
        type=input_path,
        metavar="FILE",
        help=".aez files or folders",
    )

    demo = commands.add_parser(
        "demo", help="compress the bundled sample photos and print a table"
    )
    demo.add_argument(
        "-q",
        "--quality",
        type=int,
        action="append",
        help="quality (repeatable); default 3, 6, 9",
    )
    demo.add_argument(
        "-o",
        "--output",
        type=folder_path,
        default=None,
        help="keep the .aez files here",
    )
    demo.add_argument(
        "-f", "--force", action="store_true",
        help="overwrite existing files in the -o folder",
    )  # fmt: skip

    train = commands.add_parser(
        "train", help="train a model (see 'aegui train compression -h')"
    )
    train_kinds = train.add_subparsers(dest="kind", metavar="MODEL", required=True)
    # The training modules import torch (over a second), so their options are
    # only built for the train command itself.
    if training:
        from aegui.training import codec as codec_training
        from aegui.training import denoise as denoise_training
        from aegui.training import stylize as stylize_training

        with_defaults = DefaultsHelpFormatter

        codec_training.setup_args(
            train_kinds.add_parser(
                "compression",
                help="train the image codec",
                formatter_class=with_defaults,
            )
        )
        denoise_training.setup_args(
            train_kinds.add_parser(
                "denoise", help="train the denoiser", formatter_class=with_defaults
            )
        )
        stylize_training.setup_args(
            train_kinds.add_parser(
                "stylize",
                help="train the style transfer encoder, then its decoder",
                formatter_class=with_defaults,
            )
        )

    desktop = commands.add_parser(
        "install-desktop",
        help="add the launcher, icon and .aez file type to this user's desktop",
    )
    desktop.add_argument(
        "--uninstall", action="store_true", help="remove what install-desktop added"
    )

    export = commands.add_parser(
        "export", help="turn a training checkpoint into shipped weights"
    )
    export.add_argument(
        "kind", choices=["compression", "denoise", "stylize"],
        help="the model the checkpoint trains",
    )  # fmt: skip
    export.add_argument(
        "checkpoint", type=Path,
        help="checkpoint.pt of a training run (for stylize, OUT/decoder/checkpoint.pt)",
    )  # fmt: skip
    export.add_argument(
        "--out", type=Path, default=Path("pretrained"),
        help="folder of the weights and manifest.json to update (default pretrained)",
    )  # fmt: skip
    export.add_argument(
        "--eval", type=Path, default=None,
        help="folder to evaluate on: bpp and PSNR (compression) or PSNR at sigma 15/25/50 (denoise)",
    )  # fmt: skip
    # Handlers report usage errors with their own command's usage line.
    for command_parser in commands.choices.values():
        command_parser.set_defaults(command_parser=command_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    keep_freed_memory()
    # Decide on the window before building the parser: the training options
    # import torch, which would delay the window by a second or more.
    global_options, rest = _split_global_options(argv)
    if not rest or not rest[0].startswith("-") and rest[0] not in HANDLERS:
        mistake = _mistyped_command(rest)
        if mistake:
            print(f"aegui: {mistake}", file=sys.stderr)
            return EXIT_USAGE
        window_args = _global_parser().parse_args(global_options)
        configure_logging(window_args.verbose)
        if window_args.threads:
            # Read by torch when the window's first job imports it.
            os.environ["OMP_NUM_THREADS"] = str(window_args.threads)
        return _open_window(rest)
    misplaced = _misplaced_global_option(rest)
    if misplaced:
        print(f"aegui: {misplaced}", file=sys.stderr)
        return EXIT_USAGE
    parser = build_parser(training=bool(rest) and rest[0] == "train")
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:
        if stop.code == EXIT_USAGE:
            for hint in _dash_name_hints(rest):
                print(f"aegui: {hint}", file=sys.stderr)
        raise
    configure_logging(args.verbose)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.command is None:
        return _open_window([])
    handler = HANDLERS[args.command]
    return handler(args, args.command_parser)


def _global_parser() -> argparse.ArgumentParser:
    """Return a parser of the options that come before the command."""
    parser = argparse.ArgumentParser(prog="aegui", add_help=False)
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log debug messages"
    )
    parser.add_argument(
        "--threads", type=thread_count, default=0, metavar="N",
        help="CPU threads for the models (default: all cores)",
    )  # fmt: skip
    return parser


def _split_global_options(argv: list[str]) -> tuple[list[str], list[str]]:
    """Split ``argv`` into its leading -v and --threads options and the rest."""
    index = 0
    while index < len(argv):
        word = argv[index]
        if word in ("-v", "--verbose") or word.startswith("--threads="):
            index += 1
        elif word == "--threads" and index + 1 < len(argv):
            index += 2
        else:
            break
    return argv[:index], argv[index:]


def _misplaced_global_option(argv: list[str]) -> str | None:
    """Return a usage message when ``--threads`` follows a command other than train."""
    if not argv or argv[0] == "train":
        return None
    for word in argv[1:]:
        if word == "--":
            break
        if word == "--threads" or word.startswith("--threads="):
            return f"--threads goes before the command: aegui --threads N {argv[0]} ..."
    return None


def _dash_name_hints(argv: list[str]) -> list[str]:
    """Return a hint for each existing file in ``argv`` whose name starts with a dash.

    argparse reads such a name as an option, so its usage error names a
    missing argument or an unknown option, never the file. Words after
    ``--`` and negative numbers, which argparse reads as values, get none.
    """
    hints = []
    for word in argv:
        if word == "--":
            break
        if NEGATIVE_NUMBER.fullmatch(word) or not word.startswith("-"):
            continue
        if os.path.lexists(word):
            hints.append(
                f"'{visible(word)}' was read as an option. To name the file, "
                f"write ./{visible(word)}, or put it after --"
            )
    return hints


def _mistyped_command(argv: list[str]) -> str | None:
    """Return why ``argv`` cannot be files to open in the window, or None.

    The window takes only file names. An option, or a first word that is not
    an existing file and has no suffix, means a mistyped command.
    """
    if not argv or Path(argv[0]).exists():
        return None
    first = argv[0]
    looks_like_word = "/" not in first and "." not in first
    if not looks_like_word and not any(arg.startswith("-") for arg in argv):
        return None
    import difflib

    known = sorted(HANDLERS)
    guess = difflib.get_close_matches(first, known, n=1)
    hint = f" (did you mean '{guess[0]}'?)" if guess else ""
    return (
        f"unknown command '{first}'{hint}; commands are {', '.join(known)}, "
        "and 'aegui FILE...' opens files in the window"
    )


def _display_missing() -> bool:
    """Return whether a Linux session has no display for the window to use."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _open_window(paths: list[str]) -> int:
    if _display_missing():
        print(
            "aegui: cannot open the window: no display (DISPLAY and WAYLAND_DISPLAY "
            "are not set); use a command such as 'aegui compress', see 'aegui --help'",
            file=sys.stderr,
        )
        return EXIT_FAILED
    try:
        from aegui.qt.main import run_window

        return run_window([Path(p) for p in paths])
    except ImportError as error:
        print(f"aegui: cannot open the window: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        # Ctrl-C before the window has installed its own handler.
        return EXIT_INTERRUPTED


def _load_codec_or_exit() -> object:
    from aegui.core.errors import ModelError
    from aegui.core.zoo import load_codec

    try:
        return load_codec()
    except ModelError as error:
        print(f"aegui: {error}", file=sys.stderr)
        raise SystemExit(EXIT_FAILED) from None


def _strength(text: str) -> float | None:
    """Parse ``--strength``: 'auto' gives None, else a number from 0 to MAX_STRENGTH."""
    if text.lower() == "auto":
        return None
    try:
        value = float(text)
        check_strength(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid strength {text!r}: use 'auto' or a number from 0 to {MAX_STRENGTH:g}"
        ) from None
    return value


def _refine_steps(text: str) -> int:
    """Parse ``--refine``: a whole number of steps from 0 to MAX_REFINE_STEPS."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_REFINE_STEPS:
        raise argparse.ArgumentTypeError(
            f"invalid step count {text!r}: use a whole number from 0 to {MAX_REFINE_STEPS}"
        )
    return value


def _load_denoiser_or_exit() -> object:
    from aegui.core.errors import ModelError
    from aegui.core.zoo import load_denoiser

    try:
        return load_denoiser()
    except ModelError as error:
        print(f"aegui: {error}", file=sys.stderr)
        raise SystemExit(EXIT_FAILED) from None


def failure_reason(source: Path, error: BaseException) -> str:
    """Return the failure line for ``source``, starting with the input's name.

    aegui's own errors start with the file they are about, which for a write
    error is the output, so the input is named in front of it.
    """
    from aegui.core.tasks import describe_error

    reason = describe_error(error)
    return reason if reason.startswith(f"{source}:") else f"{source}: {reason}"


def collision_reason(source: Path, destination: Path, first: Path) -> str:
    """Say why ``source`` was not run when ``first`` already writes ``destination``.

    A file that cannot be read reports that instead, since renaming it would
    only lead to that error in the next run.
    """
    from aegui.core.tasks import check_readable

    try:
        check_readable(source)
    except Exception as error:  # noqa: BLE001 - any reason beats the name clash
        return failure_reason(source, error)
    return (
        f"{source}: its output {destination} is also the output of {first}; "
        "rename one of the files, or give them in separate runs"
    )


def run_batch(
    inputs: list[Path],
    suffixes: set[str],
    out_dir: Path,
    out_suffix: str,
    job: Callable[[Path, Path, Callable[[float], None]], JobResult],
    describe: Callable[[JobResult], str],
    header: str,
    extra_inputs: dict[Path, str] | None = None,
) -> int:
    """Run ``job`` on every input, print a row per result, list failures at the end.

    Two inputs that would write the same output are caught before anything runs:
    the second one fails and names the first, even with ``--force``. So is an
    output that would replace any input of the run, including the files of
    ``extra_inputs`` (such as the style image), each with what it is.
    """
    from aegui.core.tasks import collect_inputs, output_path

    pairs, failures, skipped = collect_inputs(inputs, suffixes, exclude=out_dir)
    for note in skipped:
        print(f"aegui: {note}", file=sys.stderr)
    planned: dict[Path, Path] = {}
    sources = {source.resolve(): source for source, _ in pairs}
    roles = {path.resolve(): role for path, role in (extra_inputs or {}).items()}
    jobs: list[tuple[Path, Path]] = []
    for source, base in pairs:
        destination = output_path(source, base, out_dir, out_suffix)
        key = destination.resolve()
        if key == source.resolve():
            failures.append(
                f"{source}: its output would replace the input itself; choose another "
                "output folder (not even --force overwrites an input)"
            )
            continue
        if key in sources:
            failures.append(
                f"{source}: its output would replace {sources[key]}, another input of "
                "this run; choose another output folder (not even --force "
                "overwrites an input)"
            )
            continue
        if key in roles:
            failures.append(
                f"{source}: its output would replace {destination}, the "
                f"{roles[key]} of this run; choose another output folder (not even "
                "--force overwrites an input)"
            )
            continue
        if key in planned:
            failures.append(collision_reason(source, destination, planned[key]))
            continue
        planned[key] = source
        jobs.append((source, destination))

    unstarted = len(failures)
    bar = ProgressLine(len(jobs))
    # The table header comes with the first row, so a batch in which every
    # input fails prints only the failures.
    header_shown = False
    for index, (source, destination) in enumerate(jobs):
        bar.update(index, source.name)
        try:
            result = job(
                source,
                destination,
                lambda f, i=index, name=source.name: bar.update(i + f, name),
            )
        except KeyboardInterrupt:
            bar.close()
            left = len(jobs) - index
            print(
                f"aegui: interrupted; {left} of {len(jobs)} inputs not processed",
                file=sys.stderr,
            )
            return EXIT_INTERRUPTED
        except Exception as error:  # noqa: BLE001 - one broken file must not stop the batch
            logger.debug("Job failed for %s", source, exc_info=True)
            failures.append(failure_reason(source, error))
            continue
        bar.update(index + 1)
        lines = [describe(result)] if header_shown else [header, describe(result)]
        header_shown = True
        print_table_lines(lines, carriage_return=bar.enabled)
    bar.close()
    if failures:
        print(
            f"\n{len(failures)} of {len(jobs) + unstarted} inputs failed:",
            file=sys.stderr,
        )
        for failure in failures:
            print(f"  {visible(failure)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def print_table_lines(lines: list[str], carriage_return: bool = False) -> None:
    """Print rows of a batch's table, and go on quietly once stdout is closed.

    A batch piped into ``head`` must still process every input, so a closed
    stdout only stops the table: it is pointed at /dev/null and the files are
    still written, with failures listed on stderr as usual.
    """
    try:
        if carriage_return:
            sys.stdout.write("\r")
        for line in lines:
            print(line)
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _row(result: JobResult) -> str:
    psnr = f"{result.psnr:7.2f}" if result.psnr is not None else "      -"
    bpp = f"{result.bpp:8.3f}" if result.bpp is not None else "       -"
    size = f"{result.width}x{result.height}"
    return (
        f"{pad(visible(str(result.output)), 40)} {size:>11s} {result.output_bytes:>9d} "
        f"{bpp} {psnr} {result.seconds:6.2f}"
    )


ROW_HEADER = f"{'output':40s} {'size':^11s} {'bytes':>9s} {'bpp':>8s} {'PSNR dB':>7s} {'sec':>6s}"


def _decompress_row(result: JobResult) -> str:
    bpp = f"{result.bpp:8.3f}" if result.bpp is not None else "       -"
    size = f"{result.width}x{result.height}"
    return (
        f"{pad(visible(str(result.output)), 40)} {size:>11s} {result.input_bytes:>9d} "
        f"{bpp} {result.seconds:6.2f}"
    )


# The bytes and bpp of a decompressed file are those of its .aez.
DECOMPRESS_HEADER = (
    f"{'output':40s} {'size':^11s} {'aez bytes':>9s} {'bpp':>8s} {'sec':>6s}"
)


def _compress(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from aegui.core.tasks import COMPRESS_SUFFIXES, compress_file

    check_output_folder(parser, args.output)
    codec = _load_codec_or_exit()
    if args.quality not in codec.qualities:  # type: ignore[attr-defined]
        parser.error(
            f"invalid quality {args.quality}: choose 1 to {codec.qualities[-1]}"
        )  # type: ignore[attr-defined]
    return run_batch(
        args.inputs,
        COMPRESS_SUFFIXES,
        args.output,
        ".aez",
        lambda src, dst, progress: compress_file(
            src,
            dst,
            args.quality,
            refine_steps=args.refine,
            codec=codec,
            overwrite=args.force,
            progress=progress,
        ),
        _row,
        ROW_HEADER,
    )


def _decompress(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from aegui.core.tasks import DECOMPRESS_SUFFIXES, decompress_file

    check_output_folder(parser, args.output)
    codec = _load_codec_or_exit()
    return run_batch(
        args.inputs,
        DECOMPRESS_SUFFIXES,
        args.output,
        ".png",
        lambda src, dst, progress: decompress_file(
            src, dst, codec=codec, overwrite=args.force, progress=progress
        ),
        _decompress_row,
        DECOMPRESS_HEADER,
    )


def _denoise_row(result: JobResult) -> str:
    level = f"{result.noise_level:6.2f}" if result.noise_level is not None else "     -"
    size = f"{result.width}x{result.height}"
    return f"{pad(str(result.output), 40)} {size:>11s} {result.output_bytes:>9d} {level} {result.seconds:6.2f}"


DENOISE_HEADER = f"{'output':40s} {'size':^11s} {'bytes':>9s} {'sigma':>6s} {'sec':>6s}"


def _denoise(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from aegui.core.tasks import DENOISE_SUFFIXES, denoise_file

    check_output_folder(parser, args.output)
    denoiser = _load_denoiser_or_exit()
    return run_batch(
        args.inputs,
        DENOISE_SUFFIXES,
        args.output,
        ".png",
        lambda src, dst, progress: denoise_file(
            src,
            dst,
            strength=args.strength,
            passes=args.passes,
            model=denoiser,
            overwrite=args.force,
            progress=progress,
        ),
        _denoise_row,
        DENOISE_HEADER,
    )


def _add_stylize_parser(commands: argparse._SubParsersAction) -> None:
    stylize = commands.add_parser(
        "stylize",
        help="repaint images in the style of a painting, writing PNG files",
        description="Repaint images in the style of a painting. --style takes a preset "
        "name (see --list-styles) or the path of any image file.",
    )
    stylize.add_argument(
        "inputs",
        nargs="*",
        type=input_path,
        metavar="INPUT",
        help="image files or folders",
    )
    stylize.add_argument(
        "-o", "--output", type=folder_path, metavar="OUTDIR", help="output folder"
    )
    stylize.add_argument(
        "--style", metavar="PRESET_OR_FILE", help="preset name or style image file"
    )
    stylize.add_argument(
        "-s", "--strength", type=_style_strength, default=1.0, metavar="S",
        help="from 0 (the photo unchanged) to 1 (full style); default 1",
    )  # fmt: skip
    stylize.add_argument(
        "--preserve-color", action="store_true",
        help="keep the photo's colors and take only the brightness from the style",
    )  # fmt: skip
    stylize.add_argument(
        "--match-colors", action="store_true",
        help="also give the result the painting's color mean and spread "
        "(about 0.07 s more for a 768x512 photo; ignored with --preserve-color)",
    )  # fmt: skip
    stylize.add_argument(
        "-f", "--force", action="store_true", help="overwrite existing outputs"
    )
    stylize.add_argument(
        "--list-styles", action="store_true", help="list the style presets and exit"
    )


def _style_strength(text: str) -> float:
    """Parse the stylize ``--strength``: a number from 0 to 1."""
    from aegui.core.stylizing import check_strength

    try:
        value = float(text)
        check_strength(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid strength {text!r}: use a number from 0 to 1"
        ) from None
    return value


def _stylize(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from aegui.core.errors import ModelError
    from aegui.core.styles import StyleError, load_style, preset_paths
    from aegui.core.tasks import STYLIZE_SUFFIXES, stylize_file
    from aegui.core.zoo import load_stylizer

    if args.list_styles:
        if args.inputs or args.output or args.style:
            parser.error("--list-styles takes no INPUT, -o or --style")
        for name, path in preset_paths().items():
            print(f"{name:20s} {path}")
        return EXIT_OK
    missing = [
        name
        for name, value in (
            ("INPUT...", args.inputs),
            ("-o OUTDIR", args.output),
            ("--style", args.style),
        )
        if not value
    ]
    if missing:
        parser.error(
            f"missing {', '.join(missing)}: stylize needs INPUT..., -o OUTDIR and "
            "--style (or --list-styles alone)"
        )
    check_output_folder(parser, args.output)
    try:
        # Loaded once for the whole batch, so a warning about it shows once.
        style_pixels = load_style(args.style)
    except StyleError as error:
        print(f"aegui: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        stylizer = load_stylizer()
    except ModelError as error:
        print(f"aegui: {error}", file=sys.stderr)
        return EXIT_FAILED
    # A style file must survive --force. A preset name is not a path.
    style_file = Path(args.style)
    style_inputs = {style_file: "style image"} if style_file.is_file() else None
    return run_batch(
        args.inputs,
        STYLIZE_SUFFIXES,
        args.output,
        ".png",
        lambda src, dst, progress: stylize_file(
            src,
            dst,
            style=style_pixels,
            strength=args.strength,
            preserve_color=args.preserve_color,
            match_colors=args.match_colors,
            model=stylizer,
            overwrite=args.force,
            progress=progress,
        ),  # fmt: skip
        _stylize_row,
        STYLIZE_HEADER,
        extra_inputs=style_inputs,
    )


def _stylize_row(result: JobResult) -> str:
    size = f"{result.width}x{result.height}"
    return f"{pad(str(result.output), 40)} {size:>11s} {result.output_bytes:>9d} {result.seconds:6.2f}"


STYLIZE_HEADER = f"{'output':40s} {'size':^11s} {'bytes':>9s} {'sec':>6s}"


def _info(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from aegui.core.container import unpack
    from aegui.core.errors import AeguiError
    from aegui.core.tasks import DECOMPRESS_SUFFIXES, collect_inputs, read_input_bytes

    pairs, failures, notes = collect_inputs(args.inputs, DECOMPRESS_SUFFIXES)
    for line in (*failures, *notes):
        print(f"aegui: {line}", file=sys.stderr)
    status = EXIT_FAILED if failures else EXIT_OK
    for path, _ in pairs:
        try:
            data = read_input_bytes(path)
            header, streams = unpack(data, str(path))
            _check_installed_quality(header, path)
        except AeguiError as error:
            print(f"aegui: {error}", file=sys.stderr)
            status = EXIT_FAILED
            continue
        pixels = header.width * header.height
        print(f"{visible(str(path))}:")
        print(
            f"  image    {header.width}x{header.height} {header.mode.name}, {header.bit_depth}-bit source"
        )
        print(f"  model    {header.model_id} (weights {header.digest.hex()})")
        print(f"  quality  {header.quality}")
        print(f"  size     {len(data)} bytes, {8 * len(data) / pixels:.4f} bpp")
        print(
            f"  latents  z {'x'.join(map(str, header.z_shape))}, y {'x'.join(map(str, header.y_shape))}"
        )
        for (kind, length, crc), _ in zip(header.streams, streams, strict=True):
            print(
                f"  stream   {kind.name.lower():6s} {length:>9d} bytes  crc32 {crc:08x}"
            )
    return status


def _check_installed_quality(header: AezHeader, path: Path) -> None:
    """Raise AezFormatError if the installed codec wrote ``header`` but has no such quality.

    ``info`` does not load the model, so only the manifest is read: a file of
    another model, or a missing manifest, is not checked.
    """
    from aegui.core.container import check_quality
    from aegui.core.errors import ModelError
    from aegui.core.zoo import read_manifest

    try:
        entry = read_manifest().get("models", {}).get("codec", {})
    except ModelError:
        return
    levels = entry.get("levels")
    if entry.get("model_id") != header.model_id or not isinstance(levels, int):
        return
    check_quality(header, levels, str(path))


def _demo(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import tempfile

    from aegui.core.errors import AeguiError
    from aegui.core.tasks import compress_file
    from aegui.paths import data_dir

    samples = sorted((data_dir("assets") / "samples").glob("*.png"))
    if not samples:
        print("aegui: no sample photos found in assets/samples", file=sys.stderr)
        return EXIT_FAILED
    if args.output is not None:
        check_output_folder(parser, args.output)
    codec = _load_codec_or_exit()
    qualities = sorted(set(args.quality or [3, 6, 9]))
    for quality in qualities:
        if quality not in codec.qualities:  # type: ignore[attr-defined]
            parser.error(
                f"invalid quality {quality}: choose 1 to {codec.qualities[-1]}"
            )  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory() as scratch:
        out_dir = args.output or Path(scratch)
        header_printed = False
        failures: list[str] = []
        for sample in samples:
            for quality in qualities:
                target = out_dir / f"{sample.stem}-q{quality}.aez"
                try:
                    result = compress_file(
                        sample,
                        target,
                        quality,
                        codec=codec,
                        overwrite=args.force or args.output is None,
                    )
                except AeguiError as error:
                    failures.append(str(error))
                    continue
                if not header_printed:
                    # Printed with the first row, so a run where all fail shows no empty table.
                    print(
                        f"{'file':24s} {'q':>2s} {'bytes':>8s} {'bpp':>6s} "
                        f"{'PSNR':>6s} {'sec':>6s}"
                    )
                    header_printed = True
                print(
                    f"{pad(sample.name, 24)} {quality:>2d} {result.output_bytes:>8d} "
                    f"{result.bpp:6.3f} {result.psnr:6.2f} {result.seconds:6.2f}"
                )
    if failures:
        runs = len(samples) * len(qualities)
        print(f"\n{len(failures)} of {runs} runs failed:", file=sys.stderr)
        for failure in failures:
            print(f"  {visible(failure)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from aegui.core.precision import native_bfloat16
    from aegui.training import codec as codec_training
    from aegui.training import denoise as denoise_training
    from aegui.training import stylize as stylize_training

    logging.getLogger().setLevel(logging.INFO)
    trainers = {
        "compression": codec_training.train,
        "denoise": denoise_training.train,
        "stylize": stylize_training.train,
    }
    try:
        denoise_training.check_training_data(args.data)
    except ValueError as error:
        parser.error(str(error))
    if args.bf16 and not native_bfloat16():
        # On an AVX2 EPYC, 30 codec steps took 57 s in float32 and had not
        # finished after 300 s with --bf16.
        logger.warning(
            "This CPU has no native bfloat16 arithmetic: --bf16 is emulated and "
            "several times slower than float32 here, so leave it out"
        )
    try:
        trainers[args.kind](args)
    except (ValueError, FileNotFoundError) as error:
        print(f"aegui: {error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _export(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from aegui.training import export_codec, export_denoise, export_stylize

    logging.getLogger().setLevel(logging.INFO)
    exporters = {
        "compression": export_codec,
        "denoise": export_denoise,
        "stylize": export_stylize,
    }
    exporter = exporters[args.kind]
    if not args.checkpoint.is_file():
        parser.error(f"checkpoint {args.checkpoint}: file not found")
    try:
        exporter.export(args.checkpoint, args.out, args.eval)
    except ValueError as error:
        print(f"aegui: {error}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as error:  # noqa: BLE001 - torch raises many kinds for a bad file
        logger.debug("Export failed for %s", args.checkpoint, exc_info=True)
        print(
            f"aegui: {args.checkpoint}: not a readable training checkpoint "
            f"({type(error).__name__}: {error})",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return EXIT_OK


def _install_desktop(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from aegui import desktop

    try:
        lines = desktop.uninstall() if args.uninstall else desktop.install()
    except OSError as error:
        print(f"aegui: {error}", file=sys.stderr)
        return EXIT_FAILED
    for line in lines:
        print(line)
    return EXIT_OK


HANDLERS: dict[str, Callable[[argparse.Namespace, argparse.ArgumentParser], int]] = {
    "compress": _compress,
    "decompress": _decompress,
    "denoise": _denoise,
    "stylize": _stylize,
    "info": _info,
    "demo": _demo,
    "train": _train,
    "export": _export,
    "install-desktop": _install_desktop,
}


def entry_point() -> None:
    """Console-script entry point."""
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader of the output (``aegui info x.aez | head``) has quit. Point
        # stdout at /dev/null so that Python's own flush at exit does not fail too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = EXIT_FAILED
    raise SystemExit(status)
