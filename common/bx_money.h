/* bx_money: amounts in integer minor units of an ISO 4217 currency: the currency's
 * exponent (minor-unit digits) and a display form for messages and receipts. Pure, no
 * state: safe from any thread. */
#ifndef BX_MONEY_H
#define BX_MONEY_H

#include <stddef.h>
#include <stdint.h>

/* Minor-unit digits of the ISO 4217 code (JPY 0, most 2, BHD/KWD 3, CLF 4); 2 for a code
 * not in ISO 4217's list of exceptions. */
int bx_money_exponent(const char *currency);

/* Writes minor (of currency) for people into out (cap bytes): the currency's symbol when
 * it has a well-known one that SMS can carry ("¥1,200", "£3.00", "$10.00" for USD), else
 * the code and a space ("INR 1,180.00", "EUR 12.50", "BHD 1.250"); thousands separated by
 * commas, a minus sign in front when negative. Returns the length written, or 0 when out
 * is too small (out is then ""). */
size_t bx_money_display(int64_t minor, const char *currency, char *out, size_t cap);

#endif
