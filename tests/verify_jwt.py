#!/usr/bin/python3
"""verify_jwt: checks a boxoffice access token with a standard JWT library (PyJWT).

Usage: verify_jwt.py TOKEN_FILE JWKS_FILE ISSUER
Picks the key named by the token's kid from the JSON Web Key Set, verifies the token
with algorithms=["EdDSA"] only, requires exp, iat and iss, and prints the subject.
Exit status 0 when the token verifies, 1 when it is refused, 2 on a usage error.
"""
import json
import sys

import jwt


def main(argv):
    if len(argv) != 4:
        print("usage: verify_jwt.py TOKEN_FILE JWKS_FILE ISSUER", file=sys.stderr)
        return 2
    with open(argv[1], encoding="ascii") as f:
        token = f.read().strip()
    with open(argv[2], encoding="utf-8") as f:
        jwks = jwt.PyJWKSet.from_dict(json.load(f))
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        keys = [k for k in jwks.keys if k.key_id == kid]
        if not keys:
            raise jwt.InvalidTokenError("kid not in the key set")
        claims = jwt.decode(token, keys[0].key, algorithms=["EdDSA"], issuer=argv[3],
                            options={"require": ["exp", "iat", "iss"]})
    except jwt.InvalidTokenError as e:
        print("refused: %s" % e, file=sys.stderr)
        return 1
    print(claims.get("sub", ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
