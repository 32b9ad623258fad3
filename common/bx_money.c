/* bx_money: ISO 4217 exponents and the display form of amounts in minor units. */
#include "bx_money.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* ISO 4217 codes whose exponent is not 2. */
static const struct {
    const char *code;
    int exp;
} s_exponents[] = {
    {"BIF", 0}, {"CLP", 0}, {"DJF", 0}, {"GNF", 0}, {"ISK", 0}, {"JPY", 0}, {"KMF", 0},
    {"KRW", 0}, {"PYG", 0}, {"RWF", 0}, {"UGX", 0}, {"UYI", 0}, {"VND", 0}, {"VUV", 0},
    {"XAF", 0}, {"XOF", 0}, {"XPF", 0}, {"BHD", 3}, {"IQD", 3}, {"JOD", 3}, {"KWD", 3},
    {"LYD", 3}, {"OMR", 3}, {"TND", 3}, {"CLF", 4}, {"UYW", 4},
};

/* Symbols shown instead of the code: only where the symbol alone is unambiguous to the
 * currency's customers and exists in the GSM 7-bit alphabet (SMS), so not INR or EUR. */
static const struct {
    const char *code;
    const char *symbol;
} s_symbols[] = {
    {"USD", "$"}, {"GBP", "\xc2\xa3"}, {"JPY", "\xc2\xa5"},
};

int bx_money_exponent(const char *currency)
{
    for (size_t i = 0; currency && i < sizeof s_exponents / sizeof s_exponents[0]; i++)
        if (!strcmp(currency, s_exponents[i].code))
            return s_exponents[i].exp;
    return 2;
}

/* Digits of v with a comma every three, into out (>= 32 bytes). */
static void s_grouped(uint64_t v, char *out)
{
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%" PRIu64, v), at = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            out[at++] = ',';
        out[at++] = digits[i];
    }
    out[at] = '\0';
}

size_t bx_money_display(int64_t minor, const char *currency, char *out, size_t cap)
{
    const char *cur = currency ? currency : "";
    const char *symbol = NULL;
    int exp = bx_money_exponent(cur);
    uint64_t mag = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor, unit = 1;
    char whole[32], frac[8] = "";
    for (size_t i = 0; i < sizeof s_symbols / sizeof s_symbols[0]; i++)
        if (!strcmp(cur, s_symbols[i].code))
            symbol = s_symbols[i].symbol;
    for (int i = 0; i < exp; i++)
        unit *= 10;
    s_grouped(mag / unit, whole);
    if (exp > 0) { /* the fraction's digits, leading zeros kept */
        uint64_t rest = mag % unit;
        frac[0] = '.';
        for (int i = exp; i >= 1; i--, rest /= 10)
            frac[i] = (char)('0' + rest % 10);
        frac[exp + 1] = '\0';
    }
    int n = symbol ? snprintf(out, cap, "%s%s%s%s", minor < 0 ? "-" : "", symbol, whole, frac)
                   : snprintf(out, cap, "%s%s %s%s", minor < 0 ? "-" : "", cur, whole, frac);
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            out[0] = '\0';
        return 0;
    }
    return (size_t)n;
}
