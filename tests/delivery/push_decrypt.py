#!/usr/bin/python3
"""push_decrypt: the browser's side of Web Push, written independently from RFC 8291 and
RFC 8188 with the cryptography package.

  push_decrypt.py keygen             -> {"private": b64url, "p256dh": b64url, "auth": b64url}
  push_decrypt.py decrypt PRIV AUTH BODY_B64URL
                                     -> the plaintext (exit 1 when it does not decrypt)
  push_decrypt.py selftest           -> decrypts the RFC 8291 appendix A message
"""
import base64
import json
import os
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64e(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def hkdf(salt, ikm, info, length):
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def decrypt(priv_b64, auth_b64, body):
    priv = ec.derive_private_key(int.from_bytes(b64d(priv_b64), "big"), ec.SECP256R1())
    ua_pub = priv.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    salt, rs, idlen = body[:16], int.from_bytes(body[16:20], "big"), body[20]
    as_pub = body[21:21 + idlen]
    ciphertext = body[21 + idlen:]
    if len(ciphertext) > rs:
        raise ValueError("more than one record")
    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), as_pub)
    secret = priv.exchange(ec.ECDH(), peer)
    ikm = hkdf(b64d(auth_b64), secret, b"WebPush: info\x00" + ua_pub + as_pub, 32)
    cek = hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
    nonce = hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
    plain = AESGCM(cek).decrypt(nonce, ciphertext, None)
    plain = plain.rstrip(b"\x00")
    if not plain.endswith(b"\x02"):
        raise ValueError("missing last-record delimiter")
    return plain[:-1]


def main():
    cmd = sys.argv[1]
    if cmd == "keygen":
        priv = ec.generate_private_key(ec.SECP256R1())
        pub = priv.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        print(json.dumps({"private": b64e(priv.private_numbers().private_value.to_bytes(32, "big")),
                          "p256dh": b64e(pub), "auth": b64e(os.urandom(16))}))
    elif cmd == "decrypt":
        try:
            sys.stdout.write(decrypt(sys.argv[2], sys.argv[3], b64d(sys.argv[4])).decode())
        except Exception as e:
            sys.stderr.write("does not decrypt: %s\n" % e)
            sys.exit(1)
    elif cmd == "selftest":
        body = b64d("DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN")
        print(decrypt("q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94", "BTBZMqHH6r4Tts7J_aSIgg", body).decode())


if __name__ == "__main__":
    main()
