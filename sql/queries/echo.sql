-- Echo pool: the one effect of an echo job (see workers/echo).

-- name: echo_effect_insert
INSERT INTO echo_effects (request_id) VALUES ($1)
