"""Bytes to text lines, as they stream in: the one decoder for batch input, uploads, training
data and benchmark files.

Every decoding problem names its line (and column): by default it is a `BatchInputError`; a
caller that wants every problem at once (dataset validation) passes `on_undecodable`, and gets
the line decoded with replacement characters after the callback has recorded it.
"""

from __future__ import annotations

import codecs
import itertools
from collections.abc import Callable, Iterable, Iterator

from model.errors import BatchInputError, Option


def check_encoding(encoding: str) -> str:
    """The codec name if it decodes bytes to text, else a `BatchInputError` saying so."""
    try:
        info = codecs.lookup(encoding)
    except (LookupError, ValueError) as exc:
        raise BatchInputError(
            f"unknown encoding {encoding!r} (try utf-8, cp1252 or latin-1)"
        ) from exc
    if not getattr(info, "_is_text_encoding", True) or info.name in (
        "idna",
        "punycode",
        "undefined",
    ):
        raise BatchInputError(f"{encoding!r} is not a text encoding (try utf-8, cp1252 or latin-1)")
    return info.name


# Byte-order marks that choose the encoding, longest first: UTF-32-LE's begins with UTF-16-LE's.
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32 (little-endian)"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32 (big-endian)"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16 (little-endian)"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 (big-endian)"),
)
ENCODING_ADVICE = (
    "if the file has another encoding, pass it with ",
    Option("encoding"),
    " (e.g. ",
    Option("encoding", "cp1252"),
    ")",
)


Undecodable = Callable[[int, int], None]


def decoded_lines(
    binary: Iterable[bytes], encoding: str = "utf-8", on_undecodable: Undecodable | None = None
) -> Iterator[str]:
    """The text lines of `binary`, decoded as they stream in; any decoding problem is a
    `BatchInputError` naming its line.

    A UTF-8 byte-order mark is dropped. A UTF-16 or UTF-32 one sets the encoding (when the
    encoding asked for is the default utf-8 or that same one; another is an error that says
    so). Files in such encodings, where a newline is not the byte 0x0A, are decoded in blocks;
    the others line by line, so that an undecodable byte is reported at its column.

    With `on_undecodable(line, column)`, a line-by-line decoding problem is reported to it and the
    line decoded with replacement characters instead of raising.
    """
    name = check_encoding(encoding)
    chunks = iter(binary)
    peeked: list[bytes] = []
    while sum(map(len, peeked)) < 4:
        chunk = next(chunks, None)
        if chunk is None:
            break
        peeked.append(chunk)
    start = b"".join(peeked)
    for mark, codec, label in BYTE_ORDER_MARKS:
        if start.startswith(mark):
            if name not in ("utf-8", codec.removesuffix("-le").removesuffix("-be"), codec):
                raise BatchInputError(
                    f"the input starts with a {label} byte-order mark, but the encoding given is "
                    f"{encoding}; leave ",
                    Option("encoding"),
                    f" out to read it as {label}",
                )
            rest = _blocks(binary, chunks)
            yield from _decoded_in_blocks(start[len(mark) :], rest, codec, label, from_mark=True)
            return
    if not _newline_is_byte_0a(name):  # UTF-16/32 without a mark, EBCDIC code pages
        yield from _decoded_in_blocks(start, _blocks(binary, chunks), name, encoding)
        return
    yield from _decoded_by_line(itertools.chain(peeked, chunks), name, encoding, on_undecodable)


def _newline_is_byte_0a(codec: str) -> bool:
    try:
        return b"\n".decode(codec) == "\n"
    except UnicodeError:
        return False


def _decoded_by_line(
    lines: Iterable[bytes], name: str, encoding: str, on_undecodable: Undecodable | None
) -> Iterator[str]:
    is_utf8 = name == "utf-8"
    first_codec = "utf-8-sig" if is_utf8 else name
    for number, raw in enumerate(lines, start=1):
        codec = first_codec if number == 1 else name
        try:
            line = raw.decode(codec)
            if not is_utf8:  # some codecs (utf-7, unicode_escape) can produce lone surrogates
                line.encode("utf-8")
        except UnicodeError as exc:
            decode_error = isinstance(exc, UnicodeDecodeError)
            if on_undecodable is not None and decode_error:
                on_undecodable(number, exc.start + 1)
                yield raw.decode(codec, errors="replace")
                continue
            where = f" at column {exc.start + 1}" if decode_error else ""
            raise BatchInputError(
                f"line {number}: bytes that are not valid {encoding}{where}; ", *ENCODING_ADVICE
            ) from exc
        yield line


def _blocks(binary: Iterable[bytes], chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The rest of the input: in 64 KiB blocks from a file (iterating one splits it at every
    0x0A byte, which in UTF-16 is no line end), else as it comes."""
    read = getattr(binary, "read", None)
    if read is None:
        return chunks
    return iter(lambda: read(1 << 16), b"")


def _decoded_in_blocks(
    first: bytes, rest: Iterator[bytes], codec: str, label: str, from_mark: bool = False
) -> Iterator[str]:
    """Lines of a stream decoded block by block (a line can span blocks, a block many lines)."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    line = 1
    pending = ""
    for block in itertools.chain((first,), rest):
        try:
            text = decoder.decode(block)
        except UnicodeDecodeError as exc:
            raise _undecodable(exc, codec, label, line, pending, from_mark) from exc
        *complete, pending = (pending + text).split("\n")
        for piece in complete:
            yield piece + "\n"
        line += len(complete)
    try:
        pending += decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise BatchInputError(
            f"line {line}: the input ends in the middle of a {label} character; "
            "the file looks truncated"
        ) from exc
    if pending:
        yield pending


def _undecodable(
    exc: UnicodeDecodeError, codec: str, label: str, line: int, pending: str, from_mark: bool
) -> BatchInputError:
    before = pending + exc.object[: exc.start].decode(codec, errors="replace")
    line += before.count("\n")
    column = len(before) - before.rfind("\n")
    advice = (
        (f"the file is read as {label} because it starts with that byte-order mark",)
        if from_mark
        else ENCODING_ADVICE
    )
    return BatchInputError(
        f"line {line}: bytes that are not valid {label} at column {column}; ", *advice
    )
