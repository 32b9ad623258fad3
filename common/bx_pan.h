/* bx_pan: card-number (PAN) detection, so that boxoffice never accepts, stores or logs
 * one (PCI DSS scope, docs/booking.md). A card number is 13 to 19 digits passing the Luhn
 * check, written as one run of digits, or in groups of 3 to 6 digits separated by single
 * spaces or dashes ("4111 1111 1111 1111", "3782-822463-10005"). Longer digit runs are
 * not card numbers, but a card number written in groups followed by more groups (an
 * expiry, a CVC) is found. "+" followed by at most 15 digits is an E.164 phone number
 * (the profile's phone field), not a card number, and digits that letters touch, or that a
 * dash joins to letters or digits, are part of an identifier (a UUID's groups), not a card
 * number. Pure, no state: safe from any thread. */
#ifndef BX_PAN_H
#define BX_PAN_H

#include <jansson.h>
#include <stddef.h>

/* 1 when the len digits of d (ASCII '0'..'9') pass the Luhn check. */
int bx_pan_luhn(const char *d, size_t len);

/* 1 when the len bytes of s contain a card number (as above). */
int bx_pan_in_text(const char *s, size_t len);

/* 1 when some string or integer anywhere in json (object member names included) holds
 * a card number; ptr (cap bytes, may be NULL) receives the RFC 6901 pointer of the
 * first one ("" for the root). */
int bx_pan_find(const json_t *json, char *ptr, size_t cap);

#endif
