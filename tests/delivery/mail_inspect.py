#!/usr/bin/python3
"""mail_inspect: parses one .eml with Python's email package (an independent MIME parser)
and prints a JSON summary for the C tests: headers, the MIME tree, decoded text parts,
and every image with its Content-ID and whether it is a valid PNG (signature, IHDR, CRCs,
zlib stream)."""
import email
import email.policy
import json
import struct
import sys
import zlib


def png_ok(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return False
    pos, idat, seen_end = 8, b"", False
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        crc = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]
        if zlib.crc32(kind + chunk) & 0xffffffff != crc:
            return False
        if kind == b"IDAT":
            idat += chunk
        if kind == b"IEND":
            seen_end = True
            break
        pos += 12 + length
    width, height = struct.unpack(">II", data[16:24])
    raw = zlib.decompress(idat)
    return seen_end and len(raw) == height * (width + 1)


def walk(part, out, depth=0):
    entry = {"type": part.get_content_type(), "depth": depth}
    if part.get("Content-ID"):
        entry["cid"] = part.get("Content-ID").strip("<>")
    if part.get("Content-Disposition"):
        entry["disposition"] = part.get("Content-Disposition").split(";")[0]
    if part.is_multipart():
        out.append(entry)
        for sub in part.iter_parts():
            walk(sub, out, depth + 1)
        return
    payload = part.get_payload(decode=True) or b""
    if part.get_content_maintype() == "text":
        entry["text"] = payload.decode(part.get_content_charset() or "utf-8")
    if part.get_content_type() == "image/png":
        entry["png_ok"] = png_ok(payload)
        entry["size"] = len(payload)
    out.append(entry)


def main():
    with open(sys.argv[1], "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    headers = {k.lower(): str(v) for k, v in msg.items()}
    parts = []
    walk(msg, parts)
    print(json.dumps({"headers": headers, "parts": parts}, ensure_ascii=False))


if __name__ == "__main__":
    main()
