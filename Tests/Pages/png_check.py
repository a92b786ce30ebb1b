#!/usr/bin/env python3
"""Prints what a PNG screenshot holds, so that a test can tell a drawn page from a blank one.

Usage: png_check.py FILE. Prints one JSON object: width, height, distinct colours, and the share of pixels that
are not the background (the colour of the top-left pixel). Reads 8-bit RGB or RGBA PNGs, as Chromium writes them,
with the standard library alone.
"""
import json
import struct
import sys
import zlib


def rows(path):
    with open(path, "rb") as handle:
        data = handle.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(f"{path}: not a PNG file")
    position, chunks, header = 8, [], None
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        position += 12 + length
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        raise SystemExit(f"{path}: only 8-bit RGB or RGBA without interlacing is read (depth {depth}, type {colour})")
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    previous = bytearray(stride)
    offset = 0
    for _ in range(height):
        kind = raw[offset]
        line = bytearray(raw[offset + 1:offset + 1 + stride])
        offset += 1 + stride
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 0xFF
            elif kind == 4:
                estimate = left + up - corner
                pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
                nearest = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + nearest) & 0xFF
        previous = line
        yield width, height, [bytes(line[i:i + 3]) for i in range(0, stride, channels)]


def main():
    colours, drawn, total, background, size = set(), 0, 0, None, (0, 0)
    for width, height, pixels in rows(sys.argv[1]):
        size = (width, height)
        if background is None:
            background = pixels[0]
        colours.update(pixels)
        drawn += sum(1 for pixel in pixels if pixel != background)
        total += len(pixels)
    print(json.dumps({"width": size[0], "height": size[1], "colours": len(colours),
                      "drawn_share": drawn / max(total, 1)}))


if __name__ == "__main__":
    main()
