-- 0012_tickets: the keys that sign tickets (docs/tickets.md). signing_keys (0008) holds one
-- key per purpose; tickets need a ring: the newest key signs, every older one stays so the
-- tickets it signed keep verifying and scanners keep its public key. Every host signs with
-- the same key because the key lives here, not in a file of one host.
CREATE TABLE ticket_keys (
    kid         VARCHAR(16) PRIMARY KEY,       -- first 8 hex of SHA-256(raw public key)
    private_key TEXT NOT NULL,                 -- Ed25519, PEM (PKCS#8)
    public_key  VARCHAR(64) NOT NULL,          -- base64url raw 32-byte public key (JWK x)
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    retired_at  TIMESTAMPTZ                    -- set by a rotation: verifies, no longer signs
);
-- Exactly one key signs: a creator racing another one finds a unique violation and reads
-- the winner's key.
CREATE UNIQUE INDEX ticket_keys_signing ON ticket_keys ((true)) WHERE retired_at IS NULL;

